"""The find box under the reader: text to find in the open document (``/`` opens it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from .focus import focus_now

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
        #: Called at once with the text on enter, ``None`` on escape (the app finds, focuses the
        #: reader); unset: ``Input.Submitted`` and :class:`Closed` are posted.
        self.done: Callable[[str | None], None] | None = None
        #: Where a key goes that reaches the box after enter or escape closed it (it was typed
        #: for the reader, right behind them).
        self.redirect: Callable[[events.Key], Awaitable[None]] | None = None

    def open(self, text: str) -> None:
        """Show the box holding ``text`` (the last find) and focus it."""
        self.display = True
        self.value = text
        self.cursor_position = len(text)
        focus_now(self)  # now: the letters typed right after / are what to find

    def close(self) -> None:
        self.display = False

    async def _on_key(self, event: events.Key) -> None:
        """Keys in the order they came: enter and escape act in their own turn (a binding would
        run once the key has bubbled up to the app, after the keys queued behind it had been
        typed into the box), and keys behind them go to the reader."""
        if self.done is not None:
            if not self.display or not self.has_focus:
                event.stop()
                event.prevent_default()
                if self.redirect is not None:
                    await self.redirect(event)
                return
            if event.key in ("enter", "escape"):
                event.stop()
                event.prevent_default()
                self.close()
                self.done(self.value if event.key == "enter" else None)
                return
        await super()._on_key(event)

    def action_close(self) -> None:
        self.close()
        if self.done is not None:
            self.done(None)
        else:
            self.post_message(self.Closed())
