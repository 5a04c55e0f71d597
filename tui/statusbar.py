"""The status bar: who is annotating, the label keys, the selection, progress and saved state."""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from annotations import Label, inert

from .colours import label_styles

__all__ = ["StatusBar"]

SELECTION_MAX = 28


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StatusBar(Widget):
    """One line: ``annotator │ 1 PER 2 LOC │ selection │ 3 / 5 done │ saved``."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text;
    }
    """

    annotator: reactive[str] = reactive("", layout=False)
    """Who is annotating."""

    selection: reactive[str | None] = reactive(None, layout=False)
    """The selected text, if any."""

    progress: reactive[tuple[int, int]] = reactive((0, 0), layout=False)
    """(documents done, documents in total) for this annotator."""

    saved: reactive[str] = reactive("saved", layout=False)
    """``saved`` once the last action is on disk; an error text if it could not be saved."""

    def __init__(self, annotator: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(StatusBar.annotator, annotator)
        self._labels: list[Label] = []
        self._legend: Text | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.set_labels(self._labels))

    def set_labels(self, labels: Sequence[Label]) -> None:
        """Show this label set (each key on its label's colour)."""
        self._labels = list(labels)
        self._legend = None
        self.refresh()

    @property
    def legend(self) -> Text:
        """The label keys and names, built once per label set and theme."""
        if self._legend is None:
            _, _, background, foreground = self.colors
            styles = label_styles(self._labels, background, foreground)
            legend = Text()
            for lab in self._labels:
                if lab.key:
                    legend.append(f" {inert(lab.key)} ", style=styles[lab.name].key)
                legend.append(f"{inert(lab.name)} ")
            self._legend = legend
        return self._legend

    def render(self) -> Text:
        sep = Text(" │ ", style="dim")
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(" ")
        out.append(inert(self.annotator), style="bold")
        out.append_text(sep)
        out.append_text(self.legend)
        out.append_text(sep)
        if self.selection:
            out.append("«" + inert(_clip(self.selection, SELECTION_MAX)) + "»")
        else:
            out.append("no selection", style="dim")
        out.append_text(sep)
        done, total = self.progress
        out.append(f"{done} / {total} done")
        out.append_text(sep)
        if self.saved == "saved":
            out.append("✓ saved", style="bold")
        else:
            out.append("✗ " + inert(self.saved), style="bold red")
        return out
