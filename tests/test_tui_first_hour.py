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
