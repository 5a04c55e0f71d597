"""Helpers for the TUI tests: start the app on a real store and wait for what a person would see.

The app opens documents in a worker, so tests wait for the reader to show a document
(polling with short pauses) rather than sleeping a fixed time.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from textual.pilot import Pilot

from annotations import Store
from tui.app import AnnotateApp
from tui.reader import Reader

T = TypeVar("T")

#: A short document with names, two paragraphs and a blank line (doc text used by many tests).
SAMPLE = (
    "Садыр Жапаров Москвага келди. Ал Владимир Путин менен жолукту.\n"
    "\n"
    "Бишкекте ЕАЭБ жыйыны өттү, анда Мишустин сүйлөдү жана келишимге кол коюлду."
)


def sync(test: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an ``async def`` test in a fresh event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> T:
        return asyncio.run(test(*args, **kwargs))

    return run


def make_app(store: Store, **kwargs: Any) -> AnnotateApp:
    """The app on ``store`` without the recogniser (tests add suggestions themselves)."""
    kwargs.setdefault("suggest", False)
    return AnnotateApp(store, **kwargs)


async def until(pilot: Pilot, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Pause until ``predicate()`` holds (raises after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.02)


async def loaded(pilot: Pilot, doc_id: int | None = None) -> Reader:
    """Wait until the reader shows a document (``doc_id`` if given) and the app is idle."""
    app = pilot.app
    assert isinstance(app, AnnotateApp)
    await until(pilot, lambda: app.reader.model is not None and (doc_id is None or app.reader.doc_id == doc_id))
    await pilot.pause()
    return app.reader


def offset_of(store: Store, doc_id: int, needle: str, occurrence: int = 0) -> int:
    """Offset of the ``occurrence``-th ``needle`` in a document's text."""
    text = store.text(doc_id)
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    return at


def accepted(store: Store, doc_id: int) -> list[tuple[int, int, str]]:
    """(start, end, label) of the annotator's accepted spans."""
    return [(s.start, s.end, s.label) for s in store.spans(doc_id, states=("accepted",))]
