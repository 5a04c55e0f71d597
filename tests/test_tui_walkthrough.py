"""Bugs found walking through issue 17 as a new user in a real terminal (tmux, 80×24 and 120×40).

Each test names what was wrong on screen; all drive the app with Pilot on a real SQLite file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from tui_helpers import accepted, loaded, make_app, sync, until

from annotations import Store

SIZES = [(80, 24), (120, 40)]


def screen_rows(app) -> list[str]:  # type: ignore[no-untyped-def]
    """What the terminal shows, row by row (from the SVG screenshot)."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg, flags=re.S):
        rows.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3]).replace("\xa0", " ")))
    return ["".join(t for _, t in sorted(parts)) for _, parts in sorted(rows.items())]


def line_text(widget, y: int = 0) -> str:  # type: ignore[no-untyped-def]
    """What ``widget`` draws on its line ``y``."""
    return "".join(seg.text for seg in widget.render_lines(widget.region.reset_offset)[y])


# -- the find box showed only its focus border: what was typed could not be seen -------------------


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_the_find_box_shows_what_is_typed(store: Store, add_doc: Callable[..., int], size: tuple[int, int]) -> None:
    doc = add_doc("Кыргыз-россия мамилелери. Россия менен Кыргызстан.")
    async with make_app(store).run_test(size=size) as pilot:
        app = pilot.app
        await loaded(pilot, doc)
        await pilot.press("slash")
        assert app.focused is app.find_bar
        assert app.find_bar.outer_size.height == 1
        assert "find in this document" in line_text(app.find_bar)  # the placeholder, not a border
        await pilot.press(*"россия")
        await pilot.pause()
        assert "россия" in line_text(app.find_bar)
        # On screen, on its own line: not under the key hints (docked to the same edge), and
        # the status bar still shows above it.
        footer = app.query_one("#footer")
        assert not app.find_bar.region.overlaps(footer.region)
        assert not app.find_bar.region.overlaps(app.status_bar.region)
        rows = screen_rows(app)
        assert len(rows) == size[1]  # one text row per terminal row
        assert rows[-2].strip().startswith("россия") and "done" in rows[-3]


# -- > stayed on a match that starts inside a word (the cursor is on the word's start) ------------


FIND_IN_WORDS = "Россия чоң. Кыргыз-россия мамилелери жакшы. Россиянын борбору. Аааа."


@sync
async def test_next_match_moves_on_from_a_match_inside_a_word(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(FIND_IN_WORDS)
    async with make_app(store).run_test(size=(80, 24)) as pilot:
        reader = await loaded(pilot, doc)
        word = reader.model.word_at(FIND_IN_WORDS.index("Кыргыз-россия"))
        assert reader.model.word_range(word) == (12, 25)  # one token: the match is inside it
        reader.find("россия")
        starts = [a for a, _ in reader.found]
        assert starts == [0, 19, 44]
        assert reader.cursor_range[0] == 0
        seen = []
        for _ in range(4):
            await pilot.press("greater_than_sign")
            seen.append(reader.cursor_range[0])
        assert seen == [12, 44, 0, 12]  # the word holding match 2, then on to match 3, wrapping round
        await pilot.press("less_than_sign", "less_than_sign")
        assert reader.cursor_range[0] == 44
        # Two matches in one word: > goes to the word once for each, then on.
        reader.find("аа")
        aaaa = FIND_IN_WORDS.index("Аааа")
        assert [a for a, _ in reader.found] == [aaaa, aaaa + 2] and reader.cursor_range[0] == aaaa
        await pilot.press("greater_than_sign")
        assert reader._match_at is not None and reader._match_at[0] == 1 and reader.cursor_range[0] == aaaa
        await pilot.press("greater_than_sign")
        assert reader._match_at[0] == 0 and reader.cursor_range[0] == aaaa


# -- the list's header cut the filter off: it wrapped onto a second line that is not drawn -----------


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_the_list_header_shows_the_filter_on_its_one_line(
    store: Store, add_doc: Callable[..., int], size: tuple[int, int]
) -> None:
    add_doc("Бишкек шаары чоң.")
    add_doc("Ош шаары да чоң.")
    async with make_app(store).run_test(size=size) as pilot:
        app = pilot.app
        await loaded(pilot)
        await pilot.press("ctrl+f", *"Ош", "enter")
        await until(pilot, lambda: app.doclist.table.row_count == 1)
        await pilot.pause()
        header = app.doclist.query_one("#doclist-header")
        shown = line_text(header)
        assert "filtered: «Ош»" in shown, shown
        if size[0] >= 100:
            assert "(esc clears)" in shown


# -- undo and delete left behind what propagation had found from the label they took away ----------


@sync
async def test_undo_and_delete_take_away_what_propagation_found_from_the_label(
    store: Store, add_doc: Callable[..., int]
) -> None:
    text = "Бишкек шаары чоң. Биз Бишкекке бардык. Бишкек жакшы."
    doc = add_doc(text)
    async with make_app(store, suggest=True, model=False).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        reader = await loaded(pilot, doc)
        await pilot.press("2")  # "Бишкек" (the first word) is LOC
        await until(pilot, lambda: reader.model.spans.pending >= 1, timeout=30)
        assert accepted(store, doc) == [(0, 6, "LOC")]
        await pilot.press("u")
        await until(pilot, lambda: reader.model.spans.pending == 0, timeout=30)
        assert accepted(store, doc) == []
        assert [s for s in store.spans(doc) if s.state == "pending"] == []
        await pilot.press("ctrl+r")  # redo: the label, and its suggestions again
        await until(pilot, lambda: reader.model.spans.pending >= 1, timeout=30)
        reader.move_to_offset(0)
        await pilot.press("backspace")
        await until(pilot, lambda: reader.model.spans.pending == 0 and reader.model.spans.accepted == 0, timeout=30)
        assert [s for s in store.spans(doc) if s.state == "pending"] == []
        assert app.reader.doc_id == doc


# -- at 80 columns the model's part of the status bar was cut (its retrain time pushed it over) -----


@sync
async def test_status_bar_with_the_model_fits_80_columns(seeded_store: Store) -> None:
    async with make_app(seeded_store).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        await loaded(pilot)
        app.status_bar.model = "CRF · 3 docs · F1 0.71 · 13:28 UTC"
        await pilot.pause()
        shown = line_text(app.status_bar)
        assert "…" not in shown and shown.rstrip().endswith("✓ saved│CRF 3 docs F1 0.71"), shown
        app.status_bar.model = "training… · CRF · 3 docs · F1 0.71 · 13:28 UTC"
        await pilot.pause()
        assert "✓ saved│training… CRF 3 docs" in line_text(app.status_bar)  # the model's part is cut first
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert line_text(app.status_bar).rstrip().endswith("│ training… · CRF · 3 docs · F1 0.71 · 13:28 UTC")


# -- no key is lost across document switches (issue 11: d, s, ], [ while documents open) ----------

SWITCH_TEXT = "Садыр Жапаров Бишкекке келди."
#: Keys pressed at once across six documents, and what each document must end with.
SWITCH_KEYS = ["l", "1", "d",                 # 1: Жапаров PER, done → 2
               "l", "2", "s",                 # 2: Жапаров LOC, skipped → 3
               "]", "l", "l", "3",            # → 4: Бишкекке ORG
               "[", "1", "d",                 # → 3: Садыр PER, done → 4 (the next unfinished)
               "d", "l", "1", "]", "2"]       # 4 done → 5: Жапаров PER; → 6: Садыр LOC
SWITCH_EXPECTED = {
    1: ([(6, 13, "PER")], "done"), 2: ([(6, 13, "LOC")], "skipped"), 3: ([(0, 5, "PER")], "done"),
    4: ([(14, 22, "ORG")], "done"), 5: ([(6, 13, "PER")], "todo"), 6: ([(0, 5, "LOC")], "todo"),
}


def key_event(app, key: str):  # type: ignore[no-untyped-def]
    from textual import events

    name = {"]": "right_square_bracket", "[": "left_square_bracket"}.get(key, key)
    character = {"slash": "/", "enter": "\r"}.get(key, key)
    event = events.Key(name, character if len(character) == 1 else None)
    event.set_sender(app)
    return event


@pytest.mark.parametrize("when", ["first_document_opening", "all_prepared", "one_slow_document"])
@sync
async def test_keys_pressed_at_once_across_document_switches_are_all_applied(
    store: Store, add_doc: Callable[..., int], when: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from annotations.store import Store as StoreClass

    docs = [add_doc(SWITCH_TEXT) if i == 0 else add_doc(SWITCH_TEXT.replace(".", f" {i}.")) for i in range(6)]
    assert docs == [1, 2, 3, 4, 5, 6]
    gate = threading.Event()
    slow = {1} if when == "first_document_opening" else {4} if when == "one_slow_document" else set()
    original = StoreClass.document

    def document(self: StoreClass, doc_id: int, annotator: str | None = None):  # type: ignore[no-untyped-def]
        if doc_id in slow:
            gate.wait(20)
        return original(self, doc_id, annotator)

    monkeypatch.setattr(StoreClass, "document", document)
    async with make_app(store).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        if when != "first_document_opening":
            await loaded(pilot, 1)
            if when == "all_prepared":
                await until(pilot, lambda: 2 in app.prefetch and not app.prefetch.busy)
        for key in SWITCH_KEYS:  # posted without waiting in between: as fast as keys can come
            app.post_message(key_event(app, key))
        await pilot.pause(0.2)
        gate.set()
        await until(pilot, lambda: app.reader.doc_id == 6 and accepted(store, 6) != [], timeout=30)
        await pilot.pause(0.1)
    for doc, (spans, status) in SWITCH_EXPECTED.items():
        assert (accepted(store, doc), store.status(doc)) == (spans, status), doc


@sync
async def test_letters_typed_at_once_after_slash_go_to_the_find_box_and_enter_back_to_the_reader(
    store: Store, add_doc: Callable[..., int]
) -> None:
    """``/sochi⏎2`` arriving in one burst (as over SSH): the find box gets ``sochi`` (its ``s`` once
    skipped the document, as the box was focused only after the keys queued behind ``/``), and the
    ``2`` after enter labels the match."""
    text = "Biz sochi shaaryna bardyk. Sochi jakshy."
    doc = add_doc(text)
    other = add_doc("Экинчи документ.")
    async with make_app(store).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        reader = await loaded(pilot, doc)
        for key in ["slash", *"sochi", "enter", "2"]:
            app.post_message(key_event(app, key))
        await until(pilot, lambda: accepted(store, doc) != [])
        assert reader.find_text == "sochi" and reader.doc_id == doc and app.focused is reader
        # Escape closes the box in its turn too: the key behind it moves the reader's cursor.
        before = reader.cursor
        for key in ["slash", "x", "escape", "l"]:
            app.post_message(key_event(app, key))
        await until(pilot, lambda: reader.cursor == before + 1)
        assert app.focused is reader and not app.find_bar.display and reader.find_text == "sochi"
    assert accepted(store, doc) == [(4, 9, "LOC")]
    assert store.status(doc) == "todo" and store.status(other) == "todo"


# -- at 80 columns with the list open, the title bar's details left no room for the title ----------


@sync
async def test_title_bar_leaves_room_for_the_title_when_narrow(seeded_store: Store) -> None:
    async with make_app(seeded_store).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        await loaded(pilot)
        wide = line_text(app.title_bar)
        assert wide.startswith(" ky · todo · 0 entities · page 1/") and "Кыргыз Республикасынын" in wide
        await pilot.press("ctrl+b")
        await pilot.pause()
        narrow = line_text(app.title_bar)
        assert app.title_bar.size.width < 60
        assert narrow.startswith(" ky·todo·0 entities·1/") and "│ Кыргыз Республ" in narrow, narrow
