"""The find box under the reader: text to find in the open document (``/`` opens it)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

__all__ = ["FindBar"]


class FindBar(Input):
    """One line to type what to find; enter finds it, escape closes the box.

    | Key(s) | Description |
    | :- | :- |
    | enter | Find: highlight every match, jump to the next. |
    | escape | Close the find box. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="find.close", show=False, tooltip="Close the find box."),
    ]

    DEFAULT_CSS = """
    FindBar {
        dock: bottom;
        display: none;
        height: 1;
        /* Docked widgets on one edge overlap: this keeps it above the key hints' line. */
        margin-bottom: 1;
        border: none;
        padding: 0 1;
        background: $boost;
        /* One line: Input's focus border would take it all and hide what is typed. */
        &:focus {
            border: none;
            background: $boost;
        }
    }
    """

    class Closed(Message):
        """The find box was closed without finding."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="find in this document… (enter finds, > and < go to the next / previous match)",
                         id=id)

    def open(self, text: str) -> None:
        """Show the box holding ``text`` (the last find) and focus it."""
        self.display = True
        self.value = text
        self.cursor_position = len(text)
        self.focus()

    def close(self) -> None:
        self.display = False

    def action_close(self) -> None:
        self.close()
        self.post_message(self.Closed())
