"""The status bar: who is annotating, the label keys, the selection, progress, saved state
and (once there is one) the in-loop model's state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style
from textual.reactive import reactive

from annotations import Label

from .colours import label_styles
from .oneline import OneLine, Piece

__all__ = ["StatusBar"]

SELECTION_MAX = 28

#: Below this many cells the bar is compact: label keys without names, short separators.
COMPACT_WIDTH = 100
_DIM = Style(dim=True)
_BOLD = Style(bold=True)
_ERROR = Style(bold=True, color="red")


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StatusBar(OneLine):
    """One line: ``annotator │ 1 PER 2 LOC │ «selection» │ 3 / 5 done │ ✓ saved │ CRF · 3 docs · F1 0.71 · 14:02 UTC``.

    The model's part is last (the first to be cut on a narrow terminal) and absent until
    there is a model. Narrower than :data:`COMPACT_WIDTH` it reads
    ``alice│1 PER 2 LOC 3 ORG│«Садыр Жапаров»│3/5 done│✓ saved│CRF 3 docs F1 0.71`` (the
    retrain's time left out) so it fits 80 columns.
    """

    DEFAULT_CSS = """
    StatusBar {
        background: $panel;
        color: $text;
    }
    """

    annotator: reactive[str] = reactive("", layout=False)
    """Who is annotating."""

    selection: reactive[str | None] = reactive(None, layout=False)
    """The selected text, if any."""

    suggestion: reactive[str | None] = reactive(None, layout=False)
    """Label, origin and score of the selected suggestion (``PER? translit 0.72``), if any."""

    progress: reactive[tuple[int, int]] = reactive((0, 0), layout=False)
    """(documents done, documents in total) for this annotator."""

    saved: reactive[str] = reactive("saved", layout=False)
    """``saved`` once the last action is on disk; otherwise what went wrong."""

    model: reactive[str] = reactive("", layout=False)
    """The in-loop model's state (documents learned from, held-out F1, last retrain), or ""."""

    def __init__(self, annotator: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(StatusBar.annotator, annotator)
        self._labels: list[Label] = []
        self._legend: list[Piece] | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.set_labels(self._labels))

    def set_labels(self, labels: Sequence[Label]) -> None:
        """Show this label set (each key on its label's colour)."""
        self._labels = list(labels)
        self._legend = None
        self.refresh()

    @property
    def legend(self) -> list[Piece]:
        """The label keys and names, built once per label set and theme."""
        if self._legend is None:
            _, _, background, foreground = self.colors
            styles = label_styles(self._labels, background, foreground)
            legend: list[Piece] = []
            for lab in self._labels:
                if lab.key:
                    legend.append((f" {lab.key} ", styles[lab.name].key))
                legend.append((f"{lab.name} ", None))
            self._legend = legend
        return self._legend

    def pieces(self) -> Iterable[Piece]:
        compact = self.size.width < COMPACT_WIDTH
        sep: Piece = ("│", _DIM) if compact else (" │ ", _DIM)
        yield (" ", None)
        yield (clip(self.annotator, 12) if compact else self.annotator, _BOLD)
        yield sep
        yield from self.legend
        yield sep
        if self.selection:
            yield ("«" + clip(self.selection, SELECTION_MAX // 2 if compact else SELECTION_MAX) + "»", None)
            if self.suggestion:
                yield (" " + clip(self.suggestion, SELECTION_MAX // 2 if compact else SELECTION_MAX), _DIM)
        elif self.suggestion:
            yield (clip(self.suggestion, SELECTION_MAX // 2 if compact else SELECTION_MAX), None)
        else:
            yield ("no selection", _DIM)
        yield sep
        done, total = self.progress
        yield (f"{done}/{total} done" if compact else f"{done} / {total} done", None)
        yield sep
        if self.saved == "saved":
            yield ("✓ saved", _BOLD)
        else:
            yield ("✗ " + self.saved, _ERROR)
        if self.model:
            yield sep
            model = self.model
            if compact:  # without the last retrain's time, and with short separators
                if model.endswith(" UTC"):
                    model = model.rsplit(" · ", 1)[0]
                model = model.replace(" · ", " ")
            yield (model, _DIM)
