"""Every key binding of the app, driven with Pilot, each checked against what the store holds.

The store is a real SQLite file (``store``/``seeded_store`` fixtures, annotator ``alice``).
Movement keys are checked through the saved cursor (saved on quit), decisions through the
spans and statuses the store committed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tui_helpers import SAMPLE, accepted, loaded, make_app, offset_of, sync, until

from annotations import Store
from tui.help import HelpScreen
from tui.keymap import known_ids
from tui.reader import Reader

SIZE = (100, 30)


async def quit_app(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("q")
    await pilot.pause()


# -- moving the cursor ------------------------------------------------------------------------------


#: Each key (every alias of every cursor binding) and the word the cursor is on after it.
CURSOR_WALK = [
    ("right", "Жапаров"), ("l", "Москвага"), ("left", "Жапаров"), ("h", "Садыр"),
    ("down", "Бишкекте"), ("up", "Садыр"), ("j", "Бишкекте"), ("k", "Садыр"),
    ("end", "."), ("home", "Садыр"),
    ("n", "Жапаров"), ("n", "Москвага"), ("N", "Жапаров"),
]


@sync
async def test_cursor_keys_move_word_by_word_and_line_by_line(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        assert reader.model is not None
        for key, word in CURSOR_WALK:
            await pilot.press(key)
            assert reader.model.word_text(reader.cursor) == word, key
        await quit_app(pilot)
    assert store.cursor() == (doc, SAMPLE.index("Жапаров"))  # saved on quit


@sync
async def test_cursor_is_saved_after_a_pause_without_quitting(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, doc)
        await pilot.press("l", "l")
        await until(pilot, lambda: store.cursor() == (doc, SAMPLE.index("Москвага")), timeout=5)


@pytest.mark.parametrize(("forward", "back"), [("tab", "shift+tab")])
@sync
async def test_tab_jumps_between_entities_and_suggestions(
    store: Store, add_doc: Callable[..., int], forward: str, back: str
) -> None:
    doc = add_doc(SAMPLE)
    putin = SAMPLE.index("Владимир Путин")
    store.add_span(doc, putin, putin + len("Владимир Путин"), "PER")
    bishkek = SAMPLE.index("Бишкекте")
    store.add_suggestions(doc, [(bishkek, bishkek + len("Бишкекте"), "LOC", 0.8)], origin="test")
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        await pilot.press(forward)
        assert reader.cursor_range == (putin, putin + len("Владимир"))
        await pilot.press(forward)
        assert reader.cursor_range == (bishkek, bishkek + len("Бишкекте"))
        await pilot.press(back)
        await quit_app(pilot)
    assert store.cursor() == (doc, putin)


@pytest.mark.parametrize(("down", "up"), [("pagedown", "pageup")])
@sync
async def test_page_keys_move_a_screen(store: Store, add_doc: Callable[..., int], down: str, up: str) -> None:
    doc = add_doc("\n".join(f"Сап{i:03d} сөз жана дагы сөз" for i in range(120)))
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        page = reader.scrollable_content_region.height - 1
        await pilot.press(down)
        assert reader.model is not None
        assert reader.model.word_text(reader.cursor) == f"Сап{page:03d}"
        assert reader.scroll_offset.y > 0
        await pilot.press(down, up)
        await quit_app(pilot)
    assert store.cursor() == (doc, offset_of(store, doc, f"Сап{page:03d}"))


@sync
async def test_mouse_click_moves_the_cursor_to_the_clicked_word(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        column = SAMPLE.index("Москвага") + 2  # inside the word (plus the reader's 1-cell margin)
        await pilot.click(Reader, offset=(1 + column, 0))
        assert reader.cursor_range == (SAMPLE.index("Москвага"), SAMPLE.index("Москвага") + len("Москвага"))
        await quit_app(pilot)
    assert store.cursor() == (doc, SAMPLE.index("Москвага"))


# -- selections and labels ----------------------------------------------------------------------------


@sync
async def test_keys_alone_tag_a_two_word_name(seeded_store: Store) -> None:
    store = seeded_store
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, 1)
        await pilot.press("n", "n", "n", "n")
        assert reader.model is not None and reader.model.word_text(reader.cursor) == "Садыр"
        await pilot.press("shift+right")
        assert reader.selection_text == "Садыр Жапаров"
        await pilot.press("1")
        await until(pilot, lambda: reader.selection is None)
        start = offset_of(store, 1, "Садыр Жапаров")
        assert accepted(store, 1) == [(start, start + len("Садыр Жапаров"), "PER")]
        assert reader.model.word_text(reader.cursor) == "Жапаров"  # the cursor stays
        await pilot.press("n")  # and n continues from there
        assert reader.cursor_range is not None and reader.cursor_range[0] > start + len("Садыр Жапаров")


@sync
async def test_shift_left_shrinks_and_escape_clears_the_selection(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        await pilot.press("shift+right", "shift+right", "shift+left")
        assert reader.selection_text == "Садыр Жапаров"
        await pilot.press("2")
        await until(pilot, lambda: bool(accepted(store, doc)))
        assert accepted(store, doc) == [(0, len("Садыр Жапаров"), "LOC")]
        await pilot.press("l", "shift+right", "escape")
        assert reader.selection is None
        await pilot.press("3")
        await until(pilot, lambda: len(accepted(store, doc)) == 2)
    came = SAMPLE.index("келди")  # escape kept the cursor where the selection had moved it
    assert accepted(store, doc)[1] == (came, came + len("келди"), "ORG")


@sync
async def test_digit_keys_1_to_9_give_their_labels(store: Store, add_doc: Callable[..., int]) -> None:
    for name in ("MISC", "EVT", "PROD", "LAW", "DATE", "NORP"):
        store.add_label(name)  # keys 4..9
    by_key = {lab.key: lab.name for lab in store.labels()}
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        for key in "123456789":
            await pilot.press(key)
            await until(pilot, lambda n=int(key): len(accepted(store, doc)) == n)
            await pilot.press("l")
        assert reader.model is not None and reader.model.spans.accepted == 9
    words = [SAMPLE[s:e] for s, e, _ in accepted(store, doc)]
    assert words == ["Садыр", "Жапаров", "Москвага", "келди", ".", "Ал", "Владимир", "Путин", "менен"]
    assert [label for _, _, label in accepted(store, doc)] == [by_key[k] for k in "123456789"]


@sync
async def test_a_key_without_a_label_changes_nothing(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, doc)
        await pilot.press("9")
        await pilot.pause()
    assert store.spans(doc, states=("accepted", "pending", "rejected")) == []


@sync
async def test_a_digit_on_a_span_relabels_it(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    span = store.add_span(doc, 0, len("Садыр Жапаров"), "PER").spans[0]
    store.save_cursor(doc, 6)
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        assert reader.cursor_range == (6, 13)
        await pilot.press("3")
        await until(pilot, lambda: accepted(store, doc)[0][2] == "ORG")
    after = store.spans(doc)
    assert [(s.id, s.start, s.end, s.label, s.state) for s in after] == [(span.id, 0, 13, "ORG", "accepted")]


@sync
async def test_a_digit_on_a_suggestion_accepts_it_with_that_label(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    store.add_suggestions(doc, [(0, 13, "PER", 0.9)], origin="test")
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, doc)
        await pilot.press("2")
        await until(pilot, lambda: bool(accepted(store, doc)))
    [span] = store.spans(doc)
    assert (span.start, span.end, span.label, span.state, span.origin) == (0, 13, "LOC", "accepted", "test")


# -- suggestions and removal ----------------------------------------------------------------------------


@sync
async def test_enter_accepts_the_suggestion_under_the_cursor(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    store.add_suggestions(doc, [(0, 13, "PER", 0.9)], origin="test")
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        await pilot.press("enter")
        await until(pilot, lambda: bool(accepted(store, doc)))
        assert reader.model is not None and reader.model.spans.accepted == 1
    assert accepted(store, doc) == [(0, 13, "PER")]


@sync
async def test_x_rejects_the_suggestion_under_the_cursor(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    store.add_suggestions(doc, [(0, 13, "PER", 0.9)], origin="test")
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        await pilot.press("x")
        await until(pilot, lambda: store.spans(doc) == [])
        assert reader.model is not None and len(reader.model.spans) == 0
    [span] = store.spans(doc, states=("rejected",))
    assert (span.start, span.end) == (0, 13)


@sync
async def test_capital_a_accepts_every_suggestion(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    putin = SAMPLE.index("Владимир Путин")
    store.add_suggestions(doc, [(0, 13, "PER", 0.9), (putin, putin + 14, "PER", 0.8)], origin="test")
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, doc)
        await pilot.press("A")
        await until(pilot, lambda: len(accepted(store, doc)) == 2)
    assert store.spans(doc, states=("pending",)) == []


@pytest.mark.parametrize("key", ["backspace", "delete"])
@sync
async def test_backspace_and_delete_remove_the_span_under_the_cursor(
    store: Store, add_doc: Callable[..., int], key: str
) -> None:
    doc = add_doc(SAMPLE)
    store.add_span(doc, 0, 13, "PER")
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        await pilot.press(key)
        await until(pilot, lambda: store.spans(doc) == [])
        assert reader.model is not None and len(reader.model.spans) == 0


# -- undo and redo ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("undo", "redo"), [("u", "ctrl+r"), ("ctrl+z", "ctrl+y")])
@sync
async def test_undo_and_redo_keys(store: Store, add_doc: Callable[..., int], undo: str, redo: str) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        await pilot.press("shift+right", "1")
        await until(pilot, lambda: bool(accepted(store, doc)))
        await pilot.press(undo)
        await until(pilot, lambda: not accepted(store, doc))
        assert reader.model is not None and len(reader.model.spans) == 0
        await pilot.press(redo)
        await until(pilot, lambda: bool(accepted(store, doc)))
        assert reader.model.spans.accepted == 1
    assert accepted(store, doc) == [(0, 13, "PER")]


@sync
async def test_undo_works_after_a_restart_and_shows_the_affected_span(store: Store, db_path: Path, add_doc: Callable[..., int]) -> None:
    first = add_doc(SAMPLE)
    second = add_doc("Экинчи документ Бишкек жөнүндө.")
    putin = SAMPLE.index("Владимир")
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, first)
        await pilot.press(*["l"] * 6, "1")
        await until(pilot, lambda: bool(accepted(store, first)))
        await pilot.press("right_square_bracket")
        await loaded(pilot, second)
        await quit_app(pilot)
    assert accepted(store, first) == [(putin, putin + len("Владимир"), "PER")]
    with Store(db_path, "alice") as again:
        async with make_app(again).run_test(size=SIZE) as pilot:
            reader = await loaded(pilot, second)
            await pilot.press("u")
            await loaded(pilot, first)  # undo shows the document it changed...
            await until(pilot, lambda: reader.cursor_range == (putin, putin + len("Владимир")))  # ...at the span
            await quit_app(pilot)
        assert accepted(again, first) == []
        assert again.cursor() == (first, putin)


@sync
async def test_undo_reverts_a_status_change(store: Store, add_doc: Callable[..., int]) -> None:
    first = add_doc(SAMPLE)
    add_doc("Экинчи документ.")
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, first)
        await pilot.press("d")
        await until(pilot, lambda: store.status(first) == "done")
        await pilot.press("u")
        await until(pilot, lambda: store.status(first) == "todo")
        await loaded(pilot, first)


# -- documents ----------------------------------------------------------------------------------------------


@sync
async def test_brackets_move_between_documents(store: Store, add_doc: Callable[..., int]) -> None:
    first = add_doc(SAMPLE)
    second = add_doc("Экинчи документ.")
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, first)
        await pilot.press("right_square_bracket")
        await loaded(pilot, second)
        assert store.cursor() == (second, 0)  # saved on document change
        await pilot.press("left_square_bracket")
        await loaded(pilot, first)
        await quit_app(pilot)
    assert store.cursor() == (first, 0)


@pytest.mark.parametrize(("key", "status"), [("d", "done"), ("s", "skipped")])
@sync
async def test_d_and_s_set_the_status_and_open_the_next_unfinished(
    store: Store, add_doc: Callable[..., int], key: str, status: str
) -> None:
    first = add_doc(SAMPLE)
    second = add_doc("Экинчи документ.")
    third = add_doc("Үчүнчү документ.")
    store.set_status(second, "done")
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, first)
        await pilot.press(key)
        await loaded(pilot, third)
        assert pilot.app.status_bar.progress == (1 + (status == "done"), 3)  # type: ignore[attr-defined]
        await quit_app(pilot)
    assert store.status(first) == status
    assert store.cursor() == (third, 0)


@sync
async def test_ctrl_f_searches_the_full_text_and_enter_opens_a_hit(store: Store, add_doc: Callable[..., int]) -> None:
    add_doc("Биринчи документ эч нерсе жок.")
    target = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+f")
        await pilot.press(*"ЕАЭБ", "enter")
        table = pilot.app.doclist.table  # type: ignore[attr-defined]
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("enter")
        await loaded(pilot, target)
        await quit_app(pilot)
    assert store.cursor() == (target, 0)


@sync
async def test_ctrl_b_collapses_the_list_and_nothing_is_written(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    before = store.events()
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        wide = reader.size.width
        await pilot.press("ctrl+b")
        assert pilot.app.screen.has_class("-list-collapsed")
        await pilot.pause()
        assert reader.size.width > wide
        await pilot.press("ctrl+b")
        assert not pilot.app.screen.has_class("-list-collapsed")
    assert store.events() == before


@sync
async def test_list_focus_filter_and_escape(store: Store, add_doc: Callable[..., int]) -> None:
    first = add_doc(SAMPLE)
    add_doc("Экинчи документ.")
    store.set_status(first, "done")
    before = len(store.events())
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        app = pilot.app
        await pilot.press("ctrl+l")
        table = app.doclist.table  # type: ignore[attr-defined]
        assert app.focused is table
        await pilot.press("f")  # todo only
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("f")  # done only
        await until(pilot, lambda: table.row_count == 1 and table.get_row_at(0)[0].plain == "done")
        await pilot.press("escape")  # clears the filter first
        await until(pilot, lambda: table.row_count == 2)
        assert app.focused is table and app.doclist.status_filter is None
        await pilot.press("escape")  # then goes back to the reader
        assert isinstance(app.focused, Reader)
    assert len(store.events()) == before


@sync
async def test_question_mark_lists_every_binding(store: Store, add_doc: Callable[..., int]) -> None:
    add_doc(SAMPLE)
    before = store.events()
    async with make_app(store, keymap={"reader.next_word": "w"}).run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        screen = pilot.app.screen
        assert isinstance(screen, HelpScreen)
        ids = {row.id for row in screen.rows}
        # Every binding but the label keys that have no label (4-9 with the default labels).
        with_labels = {f"reader.label_{lab.key}" for lab in store.labels()}
        assert {i for i in known_ids() if not i.startswith("reader.label_") or i in with_labels} <= ids
        assert not ids & {f"reader.label_{k}" for k in range(1, 10)} - with_labels
        next_word = next(row for row in screen.rows if row.id == "reader.next_word")
        assert next_word.keys == ("w",)  # the keymap in effect, not the default
        assert all(row.tooltip for row in screen.rows if row.id)
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)
    assert store.events() == before


@sync
async def test_ctrl_p_palette_marks_the_document_done(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, doc)
        await pilot.press("ctrl+p")
        await pilot.press(*"Mark document done")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: store.status(doc) == "done")


@sync
async def test_palette_jumps_to_a_document_by_title(store: Store, add_doc: Callable[..., int]) -> None:
    add_doc(SAMPLE)
    target = add_doc("Токтогул суу сактагычы\nСуу деңгээли көтөрүлдү.")
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Токтогул")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await loaded(pilot, target)
        await quit_app(pilot)
    assert store.cursor() == (target, 0)


@sync
async def test_q_quits_saves_the_cursor_and_ends_the_session(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, doc)
        await pilot.press("l", "1")
        await until(pilot, lambda: bool(accepted(store, doc)))
        await pilot.press("q")
        await pilot.pause()
    assert app.summary is not None and app.summary["spans_added"] == 1
    assert app.summary["ended"] is not None
    assert store.cursor() == (doc, SAMPLE.index("Жапаров"))
