"""What a new annotator tripped over in the first hour (issue 17), each item driven with Pilot.

Every test is named after its item. The store is a real SQLite file (annotator ``alice``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from tui_helpers import SAMPLE, accepted, loaded, make_app, sync, until

from annotations import Store
from annotations.store import Store as StoreClass

SIZE = (100, 30)


class Gate:
    """Reading the documents in ``held`` waits until :meth:`open` (as a slow first tokenisation would)."""

    def __init__(self) -> None:
        self.held: set[int] = set()
        self.event = threading.Event()

    def open(self) -> None:
        self.event.set()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate()
    original = StoreClass.document

    def document(self: StoreClass, doc_id: int, annotator: str | None = None):  # type: ignore[no-untyped-def]
        if doc_id in gate.held:
            gate.event.wait(20)
        return original(self, doc_id, annotator)

    monkeypatch.setattr(StoreClass, "document", document)
    yield gate
    gate.open()


# -- item 5: show at once that the document changed; never drop keys while it opens -------------------


@sync
async def test_item5_keys_pressed_while_the_first_document_loads_are_not_lost(
    store: Store, add_doc: Callable[..., int], gate: Gate
) -> None:
    doc = add_doc(SAMPLE)
    gate.held.add(doc)
    async with make_app(store).run_test(size=SIZE) as pilot:
        await pilot.press("l", "l", "shift+right", "1")
        assert pilot.app.reader.model is None  # still opening: the keys were held
        gate.open()
        await loaded(pilot, doc)
        await until(pilot, lambda: accepted(store, doc) != [])
    start = SAMPLE.index("Москвага")
    assert accepted(store, doc) == [(start, start + len("Москвага келди"), "PER")]


@sync
async def test_item5_next_document_shows_at_once_that_it_changed_and_keeps_keys(
    store: Store, add_doc: Callable[..., int], gate: Gate
) -> None:
    first = add_doc(SAMPLE)
    second = add_doc("Экинчи макала. Бишкекте Садыр Жапаров сүйлөдү.")
    gate.held.add(second)  # neither prepared ahead nor opened until the gate opens
    async with make_app(store).run_test(size=SIZE) as pilot:
        app = pilot.app
        await loaded(pilot, first)
        await pilot.press("right_square_bracket")
        # Before the slow read finishes: the title bar names the next document, the reader says so.
        assert app.title_bar.title == "Экинчи макала. Бишкекте Садыр Жапаров сүйлөдү."
        assert app.reader.model is None and app.reader.empty_message.startswith("Opening «Экинчи")
        await pilot.press("l", "2")  # "макала." gets LOC once the document is there
        assert app.reader.model is None
        gate.open()
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


# -- item 4: the restored cursor is scrolled into view on open and on resize ---------------------------


def cursor_in_view(reader) -> bool:  # type: ignore[no-untyped-def]
    layout = reader.layout_now
    y = layout.y_of(reader.cursor_range[0])
    top = round(reader.scroll_offset.y)
    return top <= y < top + reader.scrollable_content_region.height


LONG = "\n".join(f"Абзац {i}: Садыр Жапаров Бишкекте сүйлөдү, анан Москвага жөнөдү." for i in range(300))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@sync
async def test_item4_restored_cursor_is_in_view_on_open_and_on_resize(
    store: Store, add_doc: Callable[..., int], size: tuple[int, int]
) -> None:
    doc = add_doc(LONG)
    target = LONG.index("Абзац 250:")
    store.save_cursor(doc, target)
    async with make_app(store).run_test(size=size) as pilot:
        reader = await loaded(pilot, doc)
        assert reader.cursor_range[0] == target
        assert cursor_in_view(reader)
        for width, height in ((60, 16), (40, 12), (100, 30)):
            await pilot.resize_terminal(width, height)
            await pilot.pause(0.1)
            assert cursor_in_view(reader), (width, height)
        assert reader.cursor_range[0] == target


# -- item 8: the cursor on an accepted span shows the whole span -------------------------------------


@sync
async def test_item8_cursor_on_an_accepted_span_shows_the_whole_span(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    name = SAMPLE.index("Садыр Жапаров")
    store.add_span(doc, name, name + len("Садыр Жапаров"), "PER")
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        assert reader.cursor_extent == (name, name + len("Садыр Жапаров"))
        line = reader.render_line(0)
        cursor_style = reader.base_styles[1]
        marked = "".join(seg.text for seg in line if seg.style is not None and seg.style.reverse)
        assert cursor_style.reverse and marked == "Садыр Жапаров"
        await pilot.press("l", "l")  # off the span: the cursor is one word again
        marked = "".join(seg.text for seg in reader.render_line(0) if seg.style is not None and seg.style.reverse)
        assert marked == "Москвага"


# -- item 3: a label key that clashes with an app key is refused, with the free keys ------------------


def cli(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from tui.cli import main

    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=True, prog_name="annotate")


def test_item3_labels_add_refuses_an_app_key_and_lists_the_free_keys(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ANNOTATE_KEYS", raising=False)
    db = str(tmp_path / "k.db")
    refused = cli("labels", "--db", db, "add", "QQ", "--key", "q")
    assert refused.exit_code == 1
    assert "'app.quit'" in refused.output and "Free keys: 4 5 6 7 8 9 0 a b c e" in refused.output
    assert "Traceback" not in refused.output
    assert cli("labels", "--db", db, "add", "QQ", "--key", "e").exit_code == 0
    assert cli("labels", "--db", db, "edit", "QQ", "--key", "u").exit_code == 1  # undo's key
    # Once the user's keymap moves quit elsewhere, q is free.
    keys = tmp_path / "keys.toml"
    keys.write_text('"app.quit" = "ctrl+q"\n', encoding="utf-8")
    assert cli("labels", "--db", db, "edit", "QQ", "--key", "q", env={"ANNOTATE_KEYS": str(keys)}).exit_code == 0


def test_item3_open_refuses_a_keymap_that_puts_an_app_key_on_a_label_key(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    keys = tmp_path / "keys.toml"
    keys.write_text('"app.undo" = "2"\n', encoding="utf-8")
    db = str(tmp_path / "k.db")
    assert cli("labels", "--db", db).exit_code == 0  # the default labels: 1 PER, 2 LOC, 3 ORG
    refused = cli("open", "--db", db, "--keys", str(keys))
    assert refused.exit_code == 1
    assert "'app.undo' is on key 2, which gives the label LOC" in refused.output
    assert "free keys: 4 5 6" in refused.output


@sync
async def test_item3_a_label_on_a_letter_key_labels_and_a_stored_clash_is_named(
    store: Store, add_doc: Callable[..., int]
) -> None:
    doc = add_doc(SAMPLE)
    store.add_label("EVENT", key="e")
    store.add_label("QUIT", key="q")  # stored before keys were checked
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, doc)
        assert any("Label QUIT cannot be used: its key q is also app.quit" in n.message
                   for n in pilot.app._notifications)
        await pilot.press("e")
        await until(pilot, lambda: accepted(store, doc) != [])
    assert accepted(store, doc) == [(0, len("Садыр"), "EVENT")]


# -- item 15: help names the labels; the palette shows the keys in effect -----------------------------


@sync
async def test_item15_help_names_the_labels_and_palette_shows_remapped_keys(
    store: Store, add_doc: Callable[..., int]
) -> None:
    from tui.help import HelpScreen

    add_doc(SAMPLE)
    async with make_app(store, keymap={"reader.label_1": "z", "app.done": "D"}).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await loaded(pilot)
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        labels = [(row.keys, row.description) for row in screen.rows if row.id.startswith("reader.label_")]
        assert labels == [(("z",), "1 PER"), (("2",), "2 LOC"), (("3",), "3 ORG")]  # no label_4 … label_9
        await pilot.press("escape")
        from tui.palette import AnnotateCommands

        names = [name for name, _, _ in AnnotateCommands(app.screen).commands()]
        assert "Label: PER (key z)" in names and "Label: LOC (key 2)" in names
        assert "Mark document done (key D)" in names


# -- item 7: 80×24 ------------------------------------------------------------------------------------


def line_text(widget) -> str:  # type: ignore[no-untyped-def]
    return "".join(seg.text for seg in widget.render_line(0))


@sync
async def test_item7_at_80x24_the_list_starts_hidden_and_nothing_is_cut(seeded_store: Store) -> None:
    from tui.help import HelpScreen

    async with make_app(seeded_store).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        await loaded(pilot)
        assert not app.list_shown and app.reader.size.width == 80
        app.reader.move_to_offset(0)
        await pilot.press("shift+right", "shift+right")
        status = line_text(app.status_bar)
        assert "…" not in status and "0/5 done" in status and "✓ saved" in status
        title = line_text(app.title_bar)
        assert "page 1/" in title and "%" not in title  # the position reads as a page, not a bare percentage
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.list_shown and app.doclist.outer_size.width == 28  # narrower than at 120 columns
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        table = app.screen.query_one("#help-table")
        text = "\n".join(line_text_at(table, y) for y in range(table.size.height))
        # Descriptions wrap onto further lines instead of being cut: every word of the longest is there.
        assert "…" not in text
        assert "Undo your last action (in any document), even after a restart." in " ".join(text.split())
    async with make_app(seeded_store).run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert pilot.app.list_shown and pilot.app.doclist.outer_size.width == 34


def line_text_at(widget, y: int) -> str:  # type: ignore[no-untyped-def]
    return "".join(seg.text for seg in widget.render_lines(widget.region.reset_offset)[y])


# -- item 6: find in the document, corpus search on its own key, escape clears a filter ---------------

FIND_TEXT = "Садыр Жапаров Москвага келди. Ал Жапаровдун досу.\n\nБишкекте жапаров деген сөз жок."


@sync
async def test_item6_slash_finds_in_the_document_and_repeat_keys_cycle(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(FIND_TEXT)
    before = store.events()
    async with make_app(store).run_test(size=SIZE) as pilot:
        app = pilot.app
        reader = await loaded(pilot, doc)
        await pilot.press("slash")
        assert app.focused is app.find_bar
        await pilot.press(*"жапаров", "enter")
        assert app.focused is reader
        starts = [FIND_TEXT.index("Жапаров "), FIND_TEXT.index("Жапаровдун"), FIND_TEXT.index("жапаров")]
        assert [a for a, _ in reader.found] == starts  # case-insensitive, every match highlighted
        assert reader.cursor_range[0] == starts[0]
        marked = "".join(seg.text for seg in reader.render_line(0)
                         if seg.style is not None and seg.style.underline and seg.style.bgcolor is not None)
        assert "Жапаров" in marked
        await pilot.press("greater_than_sign")
        assert reader.cursor_range[0] == starts[1]
        await pilot.press("greater_than_sign", "greater_than_sign")  # wraps round
        assert reader.cursor_range[0] == starts[0]
        await pilot.press("less_than_sign")
        assert reader.cursor_range[0] == starts[2]
        await pilot.press("escape")  # no selection: clears the highlights
        assert reader.found == []
    assert store.events() == before  # finding writes nothing


@sync
async def test_item6_corpus_search_has_its_own_key_and_escape_clears_the_filter(
    store: Store, add_doc: Callable[..., int]
) -> None:
    add_doc(SAMPLE)
    add_doc("Экинчи документ.")
    async with make_app(store).run_test(size=(120, 30)) as pilot:
        app = pilot.app
        reader = await loaded(pilot)
        header = app.doclist.query_one("#doclist-header")
        await pilot.press("ctrl+f")
        assert app.focused is app.doclist.search_box
        await pilot.press(*"Экинчи", "enter")
        await until(pilot, lambda: app.doclist.table.row_count == 1)
        assert "filtered: «Экинчи»" in str(header.render()) and "esc clears" in str(header.render())
        await pilot.press("escape")  # in the list: clears the search
        await until(pilot, lambda: app.doclist.table.row_count == 2)
        assert "filtered" not in str(header.render())
        await pilot.press("f", "escape")  # a status filter, cleared the same way
        await pilot.press("escape")
        assert app.focused is reader
        app.doclist.status_filter = "done"
        await until(pilot, lambda: app.doclist.table.row_count == 0)
        await pilot.press("escape")  # from the reader, with nothing else to clear
        await until(pilot, lambda: app.doclist.table.row_count == 2)
        assert app.doclist.status_filter is None


# -- item 18: accept-all says what propagation brings in; undo keeps the view --------------------------


@sync
async def test_item18_accept_all_says_how_many_new_suggestions_propagation_brought(
    store: Store, add_doc: Callable[..., int]
) -> None:
    text = "Бишкек шаары чоң. Биз Бишкекке бардык. Бишкек жакшы."
    doc = add_doc(text)
    store.add_suggestions(doc, [(0, len("Бишкек"), "LOC", 0.9)], origin="test")
    async with make_app(store, suggest=True, model=False).run_test(size=SIZE) as pilot:
        app = pilot.app
        reader = await loaded(pilot, doc)
        await pilot.press("A")
        await until(pilot, lambda: any(n.title == "Accept all" for n in app._notifications), timeout=30)
        note = next(n for n in app._notifications if n.title == "Accept all")
        pending = reader.model.spans.pending
        assert pending >= 1 and note.message.startswith(f"Accepted 1. From them propagation found {pending} new")
        await pilot.press("A")  # the ones propagation brought in
        await until(pilot, lambda: reader.model.spans.pending == 0 and reader.model.spans.accepted == 1 + pending)


@sync
async def test_item18_undo_of_accept_all_keeps_the_view(store: Store, add_doc: Callable[..., int]) -> None:
    text = "\n".join(f"Абзац {i}: Садыр Жапаров Бишкекте сүйлөдү." for i in range(200))
    doc = add_doc(text)
    starts = [m for m in range(len(text)) if text.startswith("Бишкекте", m)]
    store.add_suggestions(doc, [(a, a + len("Бишкекте"), "LOC", 0.9) for a in starts], origin="test")
    async with make_app(store).run_test(size=(80, 24)) as pilot:
        reader = await loaded(pilot, doc)
        reader.move_to_offset(text.index("Абзац 120:"))
        await pilot.pause()
        top, cursor = reader.scroll_offset.y, reader.cursor_range
        await pilot.press("A")
        await until(pilot, lambda: reader.model.spans.accepted == 200)
        await pilot.press("u")
        await until(pilot, lambda: reader.model.spans.pending == 200)
        await pilot.pause()
        assert reader.cursor_range == cursor
        assert abs(reader.scroll_offset.y - top) <= 2
