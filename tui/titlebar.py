"""The line above the reader: the document's language, status, counts and title."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from textual.reactive import reactive

from .oneline import OneLine, Piece

__all__ = ["DocTitle"]

_DIM = Style(dim=True)
_BOLD = Style(bold=True)


class DocTitle(OneLine):
    """``ky · todo · 4 entities · 1 suggestion · 35% │ Title`` for the open document."""

    DEFAULT_CSS = """
    DocTitle {
        background: $boost;
        color: $text;
    }
    """

    title: reactive[str] = reactive("", layout=False)
    """The document's title ("" when none is open)."""

    details: reactive[str] = reactive("", layout=False)
    """Language, status and counts."""

    percent: reactive[int | None] = reactive(None, layout=False)
    """How far through the document the reader's view is (``None``: no document)."""

    def show(self, title: str, lang: str, status: str, entities: int, suggestions: int) -> None:
        self.title = title
        parts = [lang, status, f"{entities} entit{'y' if entities == 1 else 'ies'}"]
        if suggestions:
            parts.append(f"{suggestions} suggestion{'' if suggestions == 1 else 's'}")
        self.details = " · ".join(parts)

    def pieces(self) -> Iterable[Piece]:
        if self.details:
            where = f" · {self.percent}%" if self.percent is not None else ""
            yield (" " + self.details + where + " │", _DIM)
        yield (" ", None)
        yield (self.title or "(untitled)", _BOLD)
