"""Word wrapping for the reader: paragraphs, visual lines and label chips. Pure Python.

A document is split into paragraphs on ``"\\n"``; each paragraph is wrapped greedily at
spaces to the reader's width. Label chips (the small ``PER`` after an entity) are
*virtual text*: they take cells on screen but no offsets in the document, so they count
when wrapping. A chip at offset ``o`` is drawn right after the character ``o - 1``.

:class:`DocumentLayout` keeps, per paragraph, the offsets where its visual lines start and
prefix sums of the paragraphs' line counts, so a span change re-wraps only the paragraphs
it touches and finding the visual line of an offset (or the offsets of a visual line) is
a binary search.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import NamedTuple

from rich.cells import cell_len, get_character_cell_size

__all__ = [
    "Chip",
    "DocumentLayout",
    "Line",
    "Relayout",
    "offset_at_x",
    "split_paragraphs",
    "wrap_paragraph",
    "x_of",
]

_WORD = re.compile(r"[^ ]+ *| +")
#: A character that is not surely one cell wide (checked against rich's widths in the tests):
#: outside printable ASCII, Latin-1, Latin Extended and Cyrillic (without its combining marks).
_NOT_ONE_CELL = re.compile(r"[^\x20-\x7e\xa0-\xac\xae-\u024f\u0400-\u0482\u048a-\u052f]")
_NON_SPACE = re.compile(r"[^ ]")


class Chip(NamedTuple):
    """Virtual text drawn after character ``offset - 1``: ``width`` cells, ``key`` for the renderer."""

    offset: int
    width: int
    key: int = 0


class Relayout(NamedTuple):
    """What a re-wrap changed: visual lines to redraw, and where lines below started to move."""

    lines: tuple[int, ...]
    #: First visual line whose content moved (a paragraph above grew or shrank), or ``None``.
    moved_from: int | None
    paragraphs: tuple[int, ...]


class Line(NamedTuple):
    """One visual line: document offsets ``start``..``end`` of paragraph ``paragraph``."""

    paragraph: int
    index: int
    start: int
    end: int


def split_paragraphs(text: str) -> tuple[list[int], list[int]]:
    """Start and end offsets of the paragraphs of ``text`` (the ``"\\n"`` between them excluded)."""
    starts = [0]
    ends: list[int] = []
    find = text.find
    i = find("\n")
    while i != -1:
        ends.append(i)
        starts.append(i + 1)
        i = find("\n", i + 1)
    ends.append(len(text))
    return starts, ends


def _hard_break(text: str, start: int, end: int, width: int, x: int, extra: dict[int, int], out: list[int]) -> int:
    """Break ``text[start:end]`` (one over-long word) by characters; returns the cells used on the last line."""
    pos = start
    for c in sorted(o - 1 for o in extra if start < o <= end):  # characters a chip follows
        x = _break_run(text, pos, c, width, x, out)
        w = get_character_cell_size(text[c]) + extra[c + 1]
        if x > 0 and x + w > width and w > 0:
            out.append(c)
            x = 0
        x += w
        pos = c + 1
    return _break_run(text, pos, end, width, x, out)


def _break_run(text: str, start: int, end: int, width: int, x: int, out: list[int]) -> int:
    """:func:`_hard_break` of a stretch without chips; printable ASCII (one cell a character)
    is broken by arithmetic, so a 50 MB word costs no Python loop over its characters."""
    if start >= end:
        return x
    run = text[start:end]
    if run.isascii() and run.isprintable():
        first = start + max(width - x, 0)
        if first >= end:
            return x + end - start
        breaks = range(first, end, width)
        out.extend(breaks)
        return end - breaks[-1]
    for o in range(start, end):
        w = get_character_cell_size(text[o])
        if x > 0 and x + w > width and w > 0:
            out.append(o)
            x = 0
        x += w
    return x


def wrap_paragraph(
    text: str, p0: int, p1: int, width: int, chips: Sequence[Chip] = ()
) -> list[int]:
    """Offsets where the visual lines of paragraph ``text[p0:p1]`` start, wrapped to ``width`` cells.

    Lines break at spaces; a word longer than a line is broken between characters.
    Spaces at the end of a line may run past ``width`` (they are cropped when drawn).
    ``chips`` (sorted by offset) widen the word they follow.
    """
    width = max(width, 1)
    if not chips and p1 - p0 <= width:
        para = text[p0:p1]
        if para.isascii() or cell_len(para) <= width:
            return [p0]
    return wrap_from(text, p0, p0, p1, width, chips)[0]


def wrap_from(
    text: str,
    begin: int,
    p0: int,
    p1: int,
    width: int,
    chips: Sequence[Chip] = (),
    stop: Callable[[int], bool] | None = None,
) -> tuple[list[int], int | None]:
    """Wrap ``text[begin:p1]`` (``begin`` is a line start of paragraph ``p0``..``p1``).

    Returns the line starts from ``begin`` on; if ``stop(offset)`` is true for a new line's
    start, wrapping ends there and that offset is returned too (the caller already knows
    the lines from it on).
    """
    starts = [begin]
    chips = [c for c in chips if c.offset > begin or begin == p0]
    if not chips and not _NOT_ONE_CELL.search(text, begin, p1):
        done, at = _wrap_one_cell(text, begin, p1, width, starts, stop)
        if done:
            return starts, at
        begin = at  # a word longer than a line starts here: broken below, one word at a time
    n_chips = len(chips)
    k = 0
    x = 0
    extra: dict[int, int] | None = None
    for m in _WORD.finditer(text, begin, p1):
        ws, we = m.start(), m.end()
        word = m.group()
        core_len = len(word.rstrip(" "))
        ce = ws + core_len
        cw = cell_len(word[:core_len]) if core_len else 0
        chip_w = 0
        while k < n_chips and chips[k].offset <= we:
            chip_w += chips[k].width
            k += 1
        cw += chip_w
        if x > 0 and x + cw > width:
            if stop is not None and stop(ws):
                return starts, ws
            starts.append(ws)
            x = 0
        if cw > width:
            if extra is None:
                extra = {}
                for c in chips:
                    extra[c.offset] = extra.get(c.offset, 0) + c.width
            if ws == p0:
                x += extra.get(p0, 0)
            x = _hard_break(text, ws, ce, width, x, extra, starts)
            x += sum(extra.get(o, 0) for o in range(ce + 1, we + 1))
        else:
            x += cw
        x += we - ce
    return starts, None


def _wrap_one_cell(
    text: str, begin: int, p1: int, width: int, starts: list[int], stop: Callable[[int], bool] | None
) -> tuple[bool, int | None]:
    """:func:`wrap_from` for text of one-cell characters without chips, a line (not a word) per
    step, by searching the text: the next line starts at the first word whose end passes
    ``width``. Returns ``(True, resumed)`` when done, or ``(False, s)`` at a line start ``s``
    where a word longer than a line begins (left to the word-by-word loop)."""
    s = begin
    rfind = text.rfind
    while True:
        lim = s + width
        if lim >= p1:
            return True, None
        if text[lim] == " ":  # every word ending by lim fits; the next one starts a line
            m = _NON_SPACE.search(text, lim, p1)
            if m is None:
                return True, None
            ws = m.start()
        else:  # the word holding lim does not fit: it starts the next line
            ws = rfind(" ", s, lim) + 1
            if ws <= s:
                return False, s
        if stop is not None and stop(ws):
            return True, ws
        starts.append(ws)
        s = ws


def _line_chips(chips: Sequence[Chip], start: int, end: int, first: bool) -> list[Chip]:
    """The chips drawn on the line ``start``..``end`` (a chip belongs to the line of the character before it)."""
    return [c for c in chips if (start < c.offset <= end) or (first and c.offset == start)]


def x_of(text: str, start: int, chips: Sequence[Chip], offset: int) -> int:
    """Cell column of the character at ``offset`` on a line starting at ``start`` with ``chips``."""
    x = cell_len(text[start:offset])
    for c in chips:
        if c.offset <= offset:
            x += c.width
    return x


def offset_at_x(text: str, start: int, end: int, chips: Sequence[Chip], x: int) -> int:
    """The offset of the character drawn at cell column ``x`` (chips map to the next character)."""
    by_offset: dict[int, int] = {}
    for c in chips:
        by_offset[c.offset] = by_offset.get(c.offset, 0) + c.width
    col = 0
    for o in range(start, end):
        col += by_offset.get(o, 0)
        w = get_character_cell_size(text[o])
        if x < col + w or (x < col and w == 0):
            return o
        col += w
    return end


class DocumentLayout:
    """The visual lines of a whole document at one width, re-wrapped paragraph by paragraph.

    ``chips_for(p0, p1)`` gives the sorted chips of a paragraph (the caller decides what
    they mean); it is called again for the paragraphs passed to :meth:`relayout`.
    """

    def __init__(
        self,
        text: str,
        width: int,
        chips_for: Callable[[int, int], Sequence[Chip]] = lambda a, b: (),
    ) -> None:
        self.text = text
        self.width = max(width, 1)
        self.chips_for = chips_for
        self.p_starts, self.p_ends = split_paragraphs(text)
        self.chips: list[Sequence[Chip]] = []
        self.lines: list[list[int]] = []
        for p0, p1 in zip(self.p_starts, self.p_ends):
            chips = chips_for(p0, p1)
            self.chips.append(chips)
            self.lines.append(wrap_paragraph(text, p0, p1, self.width, chips))
        self._counts = [len(ls) for ls in self.lines]
        self._prefix = list(accumulate(self._counts, initial=0))

    # -- queries -----------------------------------------------------------------------

    @property
    def height(self) -> int:
        """Number of visual lines."""
        return self._prefix[-1]

    @property
    def paragraphs(self) -> int:
        return len(self.p_starts)

    def paragraph_of(self, offset: int) -> int:
        """Index of the paragraph holding ``offset`` (a newline belongs to the paragraph it ends)."""
        return max(bisect_right(self.p_starts, offset) - 1, 0)

    def paragraph_lines(self, p: int) -> tuple[int, int]:
        """First visual line and line count of paragraph ``p``."""
        return self._prefix[p], self._counts[p]

    def line(self, y: int) -> Line:
        """Visual line ``y`` (0 <= y < height)."""
        p = bisect_right(self._prefix, y) - 1
        i = y - self._prefix[p]
        starts = self.lines[p]
        end = starts[i + 1] if i + 1 < len(starts) else self.p_ends[p]
        return Line(p, i, starts[i], end)

    def y_of(self, offset: int) -> int:
        """Visual line holding the character at ``offset``."""
        p = self.paragraph_of(offset)
        return self._prefix[p] + max(bisect_right(self.lines[p], offset) - 1, 0)

    def chips_on(self, line: Line) -> list[Chip]:
        """The chips drawn on ``line``."""
        chips = self.chips[line.paragraph]
        if not chips:
            return []
        return _line_chips(chips, line.start, line.end, line.index == 0)

    def x_of(self, offset: int) -> tuple[int, int]:
        """``(y, x)``: the visual line and cell column of the character at ``offset``."""
        y = self.y_of(offset)
        line = self.line(y)
        return y, x_of(self.text, line.start, self.chips_on(line), offset)

    def offset_at(self, y: int, x: int) -> int:
        """The offset drawn at visual line ``y``, cell column ``x``."""
        line = self.line(y)
        return offset_at_x(self.text, line.start, line.end, self.chips_on(line), x)

    # -- updates -----------------------------------------------------------------------

    def relayout(
        self, paragraphs: Iterable[int], ranges: Sequence[tuple[int, int]] = ()
    ) -> Relayout:
        """Re-wrap ``paragraphs`` after the spans over ``ranges`` changed.

        Returns the visual lines to redraw: those whose offsets changed or that hold a
        changed range (or a chip at its end), and the first paragraph whose line count
        changed (every line below it moved).
        """
        dirty: list[tuple[int, int]] = []
        moved_from: int | None = None
        text = self.text
        for p in sorted(set(paragraphs)):
            p0, p1 = self.p_starts[p], self.p_ends[p]
            chips = self.chips_for(p0, p1)
            self.chips[p] = chips
            old = self.lines[p]
            mine = [(max(a, p0), min(b, p1)) for a, b in ranges if a <= p1 and b >= p0]
            if not mine:
                mine = [(p0, p1)]
            lo = min(a for a, _ in mine)
            hi = max(b for _, b in mine)
            # Lines before the change wrap as before: start at the line before the one
            # holding it (a narrower word may move up), at a space (not inside a word broken
            # across lines), and stop once a new line starts where an old one did after the
            # change; from there on nothing moved.
            # Inside a word broken over many lines, two lines back is enough: such a word
            # stays longer than a line whatever its chips, so its earlier breaks stay put.
            i0 = max(bisect_right(old, lo) - 1, 0)
            for back in (False, True):
                if back:
                    i0 = max(i0 - 1, 0)
                floor = i0 - 2
                while i0 > 0 and text[old[i0] - 1] != " " and i0 > floor:
                    i0 -= 1

            def stop(ws: int, _hi: int = hi, _old: list[int] = old) -> bool:
                if ws < _hi or text[ws - 1] != " ":
                    return False
                j = bisect_left(_old, ws)
                return j < len(_old) and _old[j] == ws

            tail, resumed = wrap_from(text, old[i0], p0, p1, self.width, chips, stop)
            new = old[:i0] + tail + (old[bisect_left(old, resumed):] if resumed is not None else [])
            self.lines[p] = new
            # Lines to redraw: the re-wrapped ones that differ, every line after them if the
            # count changed (they moved), and those holding a changed range. Found by bisection,
            # not by a pass over every line (a 50 MB paragraph has 500,000 of them).
            n_old, n_new = len(old), len(new)

            def end_of(lines: list[int], i: int) -> int:
                return lines[i + 1] if i + 1 < len(lines) else p1

            mark: set[int] = set()
            upto = i0 + len(tail) if n_new == n_old else n_new
            for i in range(i0, upto):
                if i >= n_old or old[i] != new[i] or end_of(old, i) != end_of(new, i):
                    mark.add(i)
            for start, end in ranges:
                if start <= p1 and end >= p0:
                    mark.update(range(max(bisect_left(new, start) - 1, 0), bisect_right(new, end)))
            dirty.extend((p, i) for i in sorted(mark))
            if len(new) != self._counts[p]:
                self._counts[p] = len(new)
                if moved_from is None:
                    moved_from = p
        if moved_from is not None:
            base = self._prefix[moved_from]
            self._prefix[moved_from + 1 :] = list(accumulate(self._counts[moved_from:], initial=base))[1:]
        ys = sorted(self._prefix[p] + i for p, i in dirty)
        return Relayout(
            tuple(ys),
            self._prefix[moved_from + 1] if moved_from is not None else None,
            tuple(sorted(set(paragraphs))),
        )
