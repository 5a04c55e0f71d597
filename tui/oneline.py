"""A one-line widget drawn straight from (text, style) pieces: no Rich layout on each refresh.

The status bar and the title bar change on many key presses; building their single line
from segments costs microseconds where rendering a :class:`rich.text.Text` costs a good
fraction of a millisecond. Text given here is data and is made inert before drawing.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from annotations import inert

__all__ = ["OneLine", "Piece"]

Piece = tuple[str, Style | None]


class OneLine(Widget):
    """Base class: subclasses return their pieces from :meth:`pieces`; the line is cut with "…"."""

    DEFAULT_CSS = """
    OneLine {
        height: 1;
        width: 1fr;
    }
    """

    def pieces(self) -> Iterable[Piece]:
        """The line's text pieces and their styles (added to the widget's own style)."""
        return ()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y != 0:
            return Strip.blank(width, base)
        segments: list[Segment] = []
        cells = 0
        for text, style in self.pieces():
            text = inert(text)
            w = cell_len(text)
            seg_style = base + style if style is not None else base
            if cells + w > width:
                room = max(width - cells - 1, 0)
                segments.append(Segment(text[:room], seg_style))
                segments.append(Segment("…", seg_style))
                return Strip(segments).adjust_cell_length(width, base)
            segments.append(Segment(text, seg_style))
            cells += w
        segments.append(Segment(" " * (width - cells), base))
        return Strip(segments, width)
