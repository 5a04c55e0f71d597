"""Screenshots of the app at fixed sizes (pytest-textual-snapshot), compared with approved SVGs.

Deterministic on purpose: a fixed annotator (``alice``), no clock on screen, documents
read before the shot is taken. Regenerate with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_helpers import loaded, make_app, offset_of, until

from annotations import Store

#: Entities of the first seed article: one of each label, plus a pending suggestion.
FIRST_SEED_SPANS = [("Садыр Жапаров", "PER"), ("Россия Федерациясынын", "LOC"), ("ЕАЭБ", "ORG")]


@pytest.fixture
def annotated(seeded_store: Store) -> Store:
    """The seeds with accepted spans of each label and one suggestion in the first article."""
    for needle, label in FIRST_SEED_SPANS:
        start = offset_of(seeded_store, 1, needle)
        seeded_store.add_span(1, start, start + len(needle), label)
    start = offset_of(seeded_store, 1, "Михаил Мишустинди")
    seeded_store.add_suggestions(1, [(start, start + len("Михаил Мишустинди"), "PER", 0.9)], origin="test")
    return seeded_store


def waiting(*keys: str, theme: str | None = None) -> Callable[[Pilot[Any]], Any]:
    """A ``run_before`` that waits for the document, then presses ``keys``."""

    async def run_before(pilot: Pilot[Any]) -> None:
        if theme is not None:
            pilot.app.theme = theme
        await loaded(pilot)
        if keys:
            await pilot.press(*keys)
        await pilot.pause(0.1)

    return run_before


def test_main_screen_first_seed(snap_compare: Any, annotated: Store) -> None:
    assert snap_compare(make_app(annotated), terminal_size=(120, 36), run_before=waiting("n", "shift+right"))


def test_main_screen_80x24(snap_compare: Any, annotated: Store) -> None:
    assert snap_compare(make_app(annotated), terminal_size=(80, 24), run_before=waiting())


def test_main_screen_light_theme(snap_compare: Any, annotated: Store) -> None:
    assert snap_compare(make_app(annotated), terminal_size=(80, 24), run_before=waiting(theme="textual-light"))


def test_help_screen(snap_compare: Any, annotated: Store) -> None:
    assert snap_compare(make_app(annotated), terminal_size=(120, 40), run_before=waiting("question_mark"))


def test_markup_and_escape_sequences_show_literally(
    snap_compare: Any, store: Store, add_doc: Callable[..., int]
) -> None:
    add_doc(
        "[bold]Not bold[/bold] and [red]not red[/red]\n"
        "\x1b[31mno colour\x1b[0m, \x1b]52;c;SGVsbG8=\x07 no clipboard, \x1b[2J no clear\n"
        "tab\there, bell\x07, [link=https://example.com]no link[/link] :smile: Садыр"
    )
    assert snap_compare(make_app(store), terminal_size=(100, 20), run_before=waiting())



def test_find_box_and_filtered_list_80x24(snap_compare: Any, annotated: Store) -> None:
    """At 80×24: the list searched (its header shows the filter), and the find box open with
    what was typed in it (it once showed only its focus border)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("ctrl+f", *"ЕАЭБ", "enter")
        await until(pilot, lambda: pilot.app.doclist.table.row_count == 3)
        pilot.app.reader.focus()
        await pilot.pause()
        await pilot.press("slash", *"россия")
        assert pilot.app.focused is pilot.app.find_bar
        await pilot.pause(0.1)

    assert snap_compare(make_app(annotated), terminal_size=(80, 24), run_before=run_before)
