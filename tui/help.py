"""The help screen: every key binding in effect (defaults with the user's keymap applied), the
label keys named after their labels; long descriptions wrap to the screen's width."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from annotations import inert

from .keymap import BindingRow

__all__ = ["HelpScreen"]


class HelpScreen(ModalScreen[None]):
    """A table of keys, what they do, and the binding ids a keymap file can remap.

    | Key(s) | Description |
    | :- | :- |
    | escape, q, ? | Close the help screen. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close",
                tooltip="Close the help screen."),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > Vertical {
            width: 100%;
            max-width: 110;
            height: 100%;
            max-height: 40;
            border: round $accent;
            background: $surface;
        }
        & #help-title { height: 1; text-style: bold; padding: 0 1; }
        & #help-hint { height: 1; color: $text-muted; padding: 0 1; }
        & #help-scroll { height: 1fr; }
    }
    """

    def __init__(self, rows: Sequence[BindingRow]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Keys"), id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(id="help-table")
            yield Static(Text("escape closes · remap keys by id in keys.toml (annotate open --keys FILE)"),
                         id="help-hint")

    def on_mount(self) -> None:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column("Keys", no_wrap=True, style="bold")
        table.add_column("Binding id", no_wrap=True, style="dim")
        table.add_column("What it does", ratio=1, overflow="fold")
        for row in self.rows:
            keys = " ".join(self.app.get_key_display(Binding(k, "")) for k in row.keys)
            table.add_row(Text(keys), Text(row.id or row.section), Text(inert(row.tooltip or row.description)))
        self.query_one("#help-table", Static).update(table)
        self.query_one("#help-scroll", VerticalScroll).focus()
