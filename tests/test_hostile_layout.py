"""Long lines in the reader's layout (issue 16 item 13): a 50 MB single-line document wraps by
searching the text (one step a line, not a word, not a character), and a key's re-wrap does not
grow with the line's length. The fast paths must give exactly the word-by-word layout.
"""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import get_character_cell_size

from tui.layout import _NOT_ONE_CELL, Chip, DocumentLayout, wrap_from

#: A chip past the paragraph's end changes nothing but turns the fast paths off: the reference.
def slow(text: str, width: int) -> list[int]:
    return wrap_from(text, 0, 0, len(text), width, [Chip(len(text) + 1, 0)])[0]


def test_item13_one_cell_ranges_agree_with_rich() -> None:
    for code in range(0x20, 0x3000):
        ch = chr(code)
        if not _NOT_ONE_CELL.match(ch):
            assert get_character_cell_size(ch) == 1, hex(code)


words = st.sampled_from(["a", "bb", "Жапаров", "ңөү", "x,", "longerthanaline", "q" * 40, ""])
spaces = st.sampled_from([" ", " ", "  ", "     "])


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.tuples(words, spaces), max_size=30), lead=st.sampled_from(["", " ", "   "]),
       width=st.integers(1, 30))
def test_item13_fast_wrap_equals_word_by_word(parts: list[tuple[str, str]], lead: str, width: int) -> None:
    text = lead + "".join(w + s for w, s in parts)
    assert wrap_from(text, 0, 0, len(text), width)[0] == slow(text, width)


def test_item13_ten_megabyte_line_wraps_and_rewraps_exactly() -> None:
    """Both kinds of long line (10 MB here; 50 MB in the report): words (Cyrillic news) and one
    spaceless blob. Times are printed, not asserted; the re-wrap must equal a fresh layout, and
    a label in a line of words redraws one line."""
    for text in ("Садыр Жапаров Бишкекке келди, Ош шаарына барды. " * 200_000,
                 "Садыр: " + "QW5ub3RhdGU=" * 840_000):
        chips: list[Chip] = []
        t0 = time.perf_counter()
        layout = DocumentLayout(text, 100, lambda a, b: chips)
        t1 = time.perf_counter()
        middle = text.find(" ", len(text) // 2) + 1 or len(text) // 2
        chips.append(Chip(middle + 3, 4))
        change = layout.relayout([0], [(middle, middle + 3)])
        t2 = time.perf_counter()
        print(f"\n{len(text) / 1e6:.0f} M characters: layout {t1 - t0:.2f} s, re-wrap {t2 - t1:.3f} s,"
              f" {len(change.lines)} line(s) to redraw")
        fresh = DocumentLayout(text, 100, lambda a, b: chips)
        assert layout.lines == fresh.lines
        if " " in text[middle:]:
            assert len(change.lines) == 1 and change.moved_from is None
