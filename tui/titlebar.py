"""The line above the reader: the document's language, status, counts, page and title."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from textual.reactive import reactive

from .oneline import OneLine, Piece

__all__ = ["DocTitle"]

_DIM = Style(dim=True)
_BOLD = Style(bold=True)
#: Narrower than this many cells the details are compact: ``ky·todo·1 entity·2 sugg.·1/3``.
COMPACT_WIDTH = 60


class DocTitle(OneLine):
    """``ky · todo · 4 entities · 1 suggestion · page 2/5 │ Title`` for the open document
    (``ky·todo·4 entities·1 sugg.·2/5 │ Title`` when narrow)."""

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

    _counts: tuple[str, str, int, int] = ("", "", 0, 0)
    #: The details :meth:`show` made (without the page), to tell them from details set directly.
    _shown: str | None = None

    def show(self, title: str, lang: str, status: str, entities: int, suggestions: int) -> None:
        self.title = title
        self._counts = (lang, status, entities, suggestions)
        self._shown = self.details = self._details(compact=False, page=False)

    def _details(self, *, compact: bool, page: bool = True) -> str:
        lang, status, entities, suggestions = self._counts
        parts = [lang, status, f"{entities} entit{'y' if entities == 1 else 'ies'}"]
        if suggestions:
            parts.append(f"{suggestions} sugg." if compact else
                         f"{suggestions} suggestion{'' if suggestions == 1 else 's'}")
        if page and self.page is not None:
            parts.append(f"{self.page[0]}/{self.page[1]}" if compact else f"page {self.page[0]}/{self.page[1]}")
        return ("·" if compact else " · ").join(parts)

    def pieces(self) -> Iterable[Piece]:
        if self.details:
            if self.details == self._shown:  # from show(); narrow (the list open at 80 columns):
                # short separators and words, so the title shows
                details = self._details(compact=self.size.width < COMPACT_WIDTH)
            else:  # set by its owner (the review screen)
                where = f" · page {self.page[0]}/{self.page[1]}" if self.page is not None else ""
                details = self.details + where
            yield (" " + details + " │", _DIM)
        yield (" ", None)
        yield (self.title or "(untitled)", _BOLD)
