"""Who is annotating: the name prompt a browser tab shows when ``annotate serve`` was given none."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from annotations import inert

__all__ = ["NameScreen", "check_name"]

#: The longest annotator name the prompt takes.
MAX_NAME = 64


def check_name(name: str) -> str | None:
    """Why ``name`` (already stripped) cannot be an annotator name, or ``None`` if it can."""
    if not name:
        return "Type your name (it is saved with every span you tag)."
    if len(name) > MAX_NAME:
        return f"At most {MAX_NAME} characters."
    if any(unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in name):
        return "Letters, digits, spaces and punctuation only."
    return None


class NameScreen(ModalScreen[str]):
    """Asks the browser user's name before the app opens; dismissed with the name.

    | Key(s) | Description |
    | :- | :- |
    | enter | Start annotating under this name. |
    | ctrl+q | Leave without annotating. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "app.quit", "Leave", id="name.quit", tooltip="Close this tab's session."),
    ]

    DEFAULT_CSS = """
    NameScreen {
        align: center middle;
        & > Vertical {
            width: 64;
            height: auto;
            border: round $accent;
            background: $surface;
            padding: 1 2;
        }
        & #name-error { color: $text-error; height: auto; }
        & .hint { color: $text-muted; height: auto; }
    }
    """

    def __init__(self, known: Sequence[str] = ()) -> None:
        super().__init__(id="name")
        self.known = [inert(n) for n in known]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Who is annotating?"), id="name-title")
            yield Static(Text("Your name is saved with every span you tag, so use the same one each time."),
                         classes="hint")
            yield Input(placeholder="your name", max_length=MAX_NAME, id="name-input")
            yield Static(Text(""), id="name-error")
            if self.known:
                yield Static(Text("Already annotating here: " + ", ".join(self.known[:12])), classes="hint")
            yield Static(Text("Tip: bookmark this page with ?annotator=YOUR-NAME at the end of its address"
                              " to skip this question."), classes="hint")

    @on(Input.Submitted, "#name-input")
    def _submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        why = check_name(name)
        if why is not None:
            self.query_one("#name-error", Static).update(Text(why))
            return
        self.dismiss(name)
