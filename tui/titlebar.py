"""The line above the reader: the document's language, status, counts, page and title."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from textual.reactive import reactive

from .oneline import OneLine, Piece

__all__ = ["DocTitle"]

_DIM = Style(dim=True)
_BOLD = Style(bold=True)


class DocTitle(OneLine):
    """``ky · todo · 4 entities · 1 suggestion · page 2/5 │ Title`` for the open document."""

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

    page: reactive[tuple[int, int] | None] = reactive(None, layout=False)
    """The screenful the reader shows and how many the document fills (``None``: no document)."""

    def show(self, title: str, lang: str, status: str, entities: int, suggestions: int) -> None:
        self.title = title
        parts = [lang, status, f"{entities} entit{'y' if entities == 1 else 'ies'}"]
        if suggestions:
            parts.append(f"{suggestions} suggestion{'' if suggestions == 1 else 's'}")
        self.details = " · ".join(parts)

    def pieces(self) -> Iterable[Piece]:
        if self.details:
            where = f" · page {self.page[0]}/{self.page[1]}" if self.page is not None else ""
            yield (" " + self.details + where + " │", _DIM)
        yield (" ", None)
        yield (self.title or "(untitled)", _BOLD)
