"""Unit tests of the reader's pure parts: wrapping, chips, offsets <-> cells, span index, navigation."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations import Document, Label, Span, Tokens
from tui.docmodel import DocModel, SpanIndex, chip_text, is_candidate
from tui.layout import (
    Chip,
    DocumentLayout,
    offset_at_x,
    split_paragraphs,
    wrap_paragraph,
    x_of,
)


def lines_of(text: str, starts: list[int], end: int) -> list[str]:
    ends = [*starts[1:], end]
    return [text[a:b] for a, b in zip(starts, ends)]


# -- wrapping -----------------------------------------------------------------------------------


def test_split_paragraphs_keeps_empty_ones() -> None:
    assert split_paragraphs("ab\n\ncd") == ([0, 3, 4], [2, 3, 6])
    assert split_paragraphs("") == ([0], [0])
    assert split_paragraphs("x\n") == ([0, 2], [1, 2])


def test_wrap_breaks_at_spaces() -> None:
    text = "one two three four"
    starts = wrap_paragraph(text, 0, len(text), 9)
    assert lines_of(text, starts, len(text)) == ["one two ", "three ", "four"]


def test_wrap_short_paragraph_is_one_line() -> None:
    assert wrap_paragraph("short", 0, 5, 80) == [0]


def test_wrap_breaks_a_word_longer_than_the_line() -> None:
    text = "abcdefghij xy"
    starts = wrap_paragraph(text, 0, len(text), 4)
    assert lines_of(text, starts, len(text)) == ["abcd", "efgh", "ij ", "xy"]


def test_wrap_counts_wide_characters_as_two_cells() -> None:
    text = "日本語 日本語"  # each word is 6 cells
    starts = wrap_paragraph(text, 0, len(text), 8)
    assert lines_of(text, starts, len(text)) == ["日本語 ", "日本語"]


def test_wrap_keeps_zero_width_marks_with_their_letter() -> None:
    text = "e\u0301e\u0301e\u0301e\u0301"  # four é, four cells, eight code points
    starts = wrap_paragraph(text, 0, len(text), 2)
    assert lines_of(text, starts, len(text)) == ["e\u0301e\u0301", "e\u0301e\u0301"]


def test_chips_widen_the_word_they_follow() -> None:
    text = "aa bb cc"
    assert wrap_paragraph(text, 0, len(text), 8) == [0]
    # A 5-cell chip after "bb" makes "bb PER " 8 cells: alone on its line.
    starts = wrap_paragraph(text, 0, len(text), 8, [Chip(5, 5)])
    assert lines_of(text, starts, len(text)) == ["aa ", "bb ", "cc"]


def test_layout_maps_lines_and_offsets() -> None:
    text = "one two three\n\nfour five"
    layout = DocumentLayout(text, 8)
    assert layout.height == 5  # "one two ", "three", "", "four ", "five"
    assert [layout.line(y)[2:] for y in range(layout.height)] == [(0, 8), (8, 13), (14, 14), (15, 20), (20, 24)]
    assert layout.y_of(text.index("three")) == 1
    assert layout.y_of(text.index("five")) == 4
    assert layout.paragraph_of(text.index("\n")) == 0
    assert layout.x_of(text.index("two")) == (0, 4)


def test_x_and_offset_with_chips_and_wide_characters() -> None:
    text = "日本 ab"
    chips = [Chip(2, 5)]  # " PER " after 日本
    assert x_of(text, 0, chips, 3) == 4 + 5 + 1
    assert offset_at_x(text, 0, len(text), chips, 0) == 0
    assert offset_at_x(text, 0, len(text), chips, 3) == 1  # second half of 本
    assert offset_at_x(text, 0, len(text), chips, 6) == 2  # on the chip: the character after it
    assert offset_at_x(text, 0, len(text), chips, 10) == 3
    assert offset_at_x(text, 0, len(text), chips, 99) == len(text)


def test_relayout_reports_lines_to_redraw_and_moves() -> None:
    text = "aa bb cc\nnext par"
    chips: list[Chip] = []
    layout = DocumentLayout(text, 8, lambda a, b: [c for c in chips if a <= c.offset <= b])
    assert layout.height == 2
    chips.append(Chip(5, 5))
    change = layout.relayout([0], [(3, 5)])
    assert layout.height == 4
    assert change.lines == (0, 1, 2)
    assert change.moved_from == 3  # the second paragraph moved down two lines
    chips.clear()
    change = layout.relayout([0], [(3, 5)])
    assert layout.height == 2 and change.moved_from == 1


words = st.sampled_from(["a", "bb", "Жапаров", "日本", "e\u0301", "longerthanaline", "x,", ""])
paragraph = st.lists(words, max_size=25).map(" ".join)
document = st.lists(paragraph, min_size=1, max_size=4).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(text=document, width=st.integers(4, 30), edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(3, 7), st.booleans()), max_size=8))
def test_relayout_equals_a_fresh_layout(text: str, width: int, edits: list[tuple[int, int, bool]]) -> None:
    """Re-wrapping only what a chip change touched gives exactly the full layout."""
    chips: dict[int, Chip] = {}

    def chips_for(a: int, b: int) -> list[Chip]:
        return sorted((c for c in chips.values() if a <= c.offset <= b), key=lambda c: c.offset)

    layout = DocumentLayout(text, width, chips_for)
    if not text:
        return
    for where, size, remove in edits:
        offset = 1 + where % len(text)
        if remove and chips:
            offset = chips.pop(sorted(chips)[where % len(chips)]).offset
        else:
            chips[len(chips) + where * 100] = Chip(offset, size)
        layout.relayout(range(layout.paragraph_of(offset - 1), layout.paragraph_of(offset) + 1), [(offset - 1, offset)])
        fresh = DocumentLayout(text, width, chips_for)
        assert layout.lines == fresh.lines
        assert [layout.line(y) for y in range(layout.height)] == [fresh.line(y) for y in range(fresh.height)]


# -- spans and navigation ----------------------------------------------------------------------


def span(sid: int, start: int, end: int, label: str = "PER", state: str = "accepted") -> Span:
    return Span(sid, 1, start, end, label, "ann", "manual", state)  # type: ignore[arg-type]


def test_span_index_overlap_and_neighbours() -> None:
    index = SpanIndex([span(1, 0, 5), span(2, 10, 20), span(3, 12, 14, state="pending")])
    assert [s.id for s in index.overlapping(4, 11)] == [1, 2]
    assert [s.id for s in index.overlapping(5, 10)] == []
    assert [s.id for s in index.ending_in(5, 14)] == [1, 3]
    assert index.after(10).id == 3  # type: ignore[union-attr]
    assert index.before(10).id == 1  # type: ignore[union-attr]
    assert (index.accepted, index.pending) == (2, 1)
    index.remove(2)
    assert [s.id for s in index] == [1, 3] and index.accepted == 1


def test_chip_text_and_candidates() -> None:
    assert chip_text("PER", "accepted") == " PER "
    assert chip_text("LOC", "pending") == " LOC? "
    assert chip_text("A\x1b[31m", "accepted") == " A␛[31m "
    assert is_candidate("Жапаровдун") and is_candidate("ЕАЭБ") and is_candidate("«Газпром»")
    assert not is_candidate("келди") and not is_candidate("2025") and not is_candidate(",")


def model_of(text: str, pairs: list[tuple[int, int]], spans: list[Span]) -> DocModel:
    doc = Document(
        id=1, text=text, title="t", lang="ky", source="s", line=None, hash="h", meta={},
        status="todo", tokens=Tokens(array("l", [a for a, _ in pairs]), array("l", [b for _, b in pairs])),
        spans=spans,
    )
    return DocModel(doc, [Label("PER", "1", "#e06c75")])


def test_model_words_skip_whitespace_tokens_and_find_candidates() -> None:
    text = "ab Садыр\n\nЖапаров cd"
    pairs = [(0, 2), (3, 8), (8, 10), (10, 17), (18, 20)]  # "\n\n" is a whitespace token
    model = model_of(text, pairs, [span(1, 10, 17)])
    assert len(model) == 4
    assert [model.word_text(i) for i in range(4)] == ["ab", "Садыр", "Жапаров", "cd"]
    assert model.next_candidate(0, 1) == 1
    assert model.next_candidate(1, 1) is None  # Жапаров is inside an accepted span
    assert model.next_candidate(3, -1) == 1
    assert model.next_span(0, 1) == 2 and model.next_span(2, 1) is None
    assert model.word_at(9) == 2  # inside the blank line: the next word


def test_model_applies_logged_changes() -> None:
    text = "Садыр Жапаров келди"
    model = model_of(text, [(0, 5), (6, 13), (14, 19)], [span(7, 6, 13, state="pending")])
    row = {"id": 8, "doc_id": 1, "start": 0, "end": 13, "label": "PER", "annotator": "ann", "origin": "manual",
           "state": "accepted", "score": None, "created": "", "updated": ""}
    rejected = span(7, 6, 13, state="rejected")
    changes = [
        {"op": "update", "id": 7, "before": {"state": "pending"}, "after": {"state": "rejected"}},
        {"op": "insert", "span": row},
    ]
    changed = model.apply(changes, lambda sid: rejected)
    assert [s.id for s in model.spans] == [8]
    assert changed.focus == 6 and (0, 13) in changed.ranges
    model.apply([{"op": "delete", "span": row}, {"op": "status", "doc_id": 1, "annotator": "ann",
                                                  "before": None, "after": "done"}], lambda sid: None)
    assert len(model.spans) == 0 and model.status == "done"


def test_model_text_is_inert() -> None:
    text = "[bold]x\x1b[31m y\x1b]52;c;AAAA\x07"
    model = model_of(text, [(0, len(text))], [])
    assert len(model.text) == len(text)
    assert "\x1b" not in model.text and "\x07" not in model.text
    assert model.text.startswith("[bold]x␛[31m")


@pytest.mark.parametrize("colour", ["#e06c75", "#ffff00", "#000080", "not-a-colour"])
def test_label_styles_have_explicit_contrast(colour: str) -> None:
    from textual.color import Color

    from tui.colours import label_styles

    for background in (Color.parse("#000000"), Color.parse("#ffffff")):
        style = label_styles([Label("X", "1", colour)], background, Color.parse("#808080"))["X"]
        assert style.span.color is not None and style.span.bgcolor is not None
        assert style.span.color != style.span.bgcolor
        assert style.pending.underline
