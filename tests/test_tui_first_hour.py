"""What a new annotator tripped over in the first hour (issue 17), each item driven with Pilot.

Every test is named after its item. The store is a real SQLite file (annotator ``alice``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from tui_helpers import SAMPLE, accepted, loaded, make_app, sync, until

from annotations import Store
from annotations.store import Store as StoreClass

SIZE = (100, 30)


@pytest.fixture
def slow_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a document takes 1 s (as tokenising a long one for the first time does)."""
    original = StoreClass.document

    def document(self: StoreClass, doc_id: int, annotator: str | None = None):  # type: ignore[no-untyped-def]
        time.sleep(1.0)
        return original(self, doc_id, annotator)

    monkeypatch.setattr(StoreClass, "document", document)


# -- item 5: show at once that the document changed; never drop keys while it opens -------------------


@sync
async def test_item5_keys_pressed_while_the_first_document_loads_are_not_lost(
    store: Store, add_doc: Callable[..., int], slow_open: None
) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        await pilot.press("l", "l", "shift+right", "1")
        assert pilot.app.reader.model is None  # still opening: the keys were held
        await loaded(pilot, doc)
        await until(pilot, lambda: accepted(store, doc) != [])
    start = SAMPLE.index("Москвага")
    assert accepted(store, doc) == [(start, start + len("Москвага келди"), "PER")]


@sync
async def test_item5_next_document_shows_at_once_that_it_changed_and_keeps_keys(
    store: Store, add_doc: Callable[..., int], slow_open: None
) -> None:
    first = add_doc(SAMPLE)
    second = add_doc("Экинчи макала. Бишкекте Садыр Жапаров сүйлөдү.")
    async with make_app(store).run_test(size=SIZE) as pilot:
        app = pilot.app
        await loaded(pilot, first)
        app.prefetch.clear()
        await pilot.press("right_square_bracket")
        # Before the slow read finishes: the title bar names the next document, the reader says so.
        assert app.title_bar.title == "Экинчи макала. Бишкекте Садыр Жапаров сүйлөдү."
        assert app.reader.model is None and app.reader.empty_message.startswith("Opening «Экинчи")
        await pilot.press("l", "2")  # "макала." gets LOC once the document is there
        await loaded(pilot, second)
        await until(pilot, lambda: accepted(store, second) != [])
    assert accepted(store, second) == [(7, 13, "LOC")]
    assert accepted(store, first) == []


@sync
async def test_item5_prepared_next_document_opens_without_waiting_and_shows_new_spans(
    store: Store, add_doc: Callable[..., int]
) -> None:
    first = add_doc(SAMPLE)
    second = add_doc("Экинчи макала. Бишкекте Садыр Жапаров сүйлөдү.")
    async with make_app(store).run_test(size=SIZE) as pilot:
        app = pilot.app
        await loaded(pilot, first)
        await until(pilot, lambda: second in app.prefetch)
        # A span added after the document was prepared (e.g. by a suggestion run) still shows.
        store.add_suggestions(second, [(24, 37, "PER", 0.9)], origin="test")
        app.action_next_document(1)
        assert app.reader.doc_id == second  # shown in the same call: no worker round trip
        assert app.reader.model is not None and app.reader.model.spans.pending == 1
        await pilot.press("left_square_bracket")
        assert app.reader.doc_id == first  # the document left is kept prepared too
