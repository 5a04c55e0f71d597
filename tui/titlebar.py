"""The line above the reader: the document's title, language, status and counts."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from annotations import inert

__all__ = ["DocTitle"]


class DocTitle(Widget):
    """``ky · todo · 4 entities · 1 suggestion │ Title`` for the open document."""

    DEFAULT_CSS = """
    DocTitle {
        height: 1;
        width: 1fr;
        background: $boost;
        color: $text;
        text-style: bold;
    }
    """

    title: reactive[str] = reactive("", layout=False)
    """The document's title ("" when none is open)."""

    details: reactive[str] = reactive("", layout=False)
    """Language, status and counts."""

    def show(self, title: str, lang: str, status: str, entities: int, suggestions: int) -> None:
        self.title = title
        parts = [lang, status, f"{entities} entit{'y' if entities == 1 else 'ies'}"]
        if suggestions:
            parts.append(f"{suggestions} suggestion{'' if suggestions == 1 else 's'}")
        self.details = " · ".join(parts)

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        if self.details:
            out.append(" " + self.details + " │", style="not bold dim")
        out.append(" ")
        out.append(inert(self.title) or "(untitled)")
        return out
