"""The review screen's conflict panel: who said what in the current conflict, in label colours."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from annotations import Label, inert
from annotations.team.review import Conflict, DocReview

from .colours import LabelStyle, label_styles

__all__ = ["ConflictPanel", "PICK_KEYS", "conflict_text"]

#: Keys that take annotator 1, 2, 3... (shifted: all of that annotator in the document).
PICK_KEYS = ("a", "b", "c", "e", "f", "g")

KIND_TEXT = {"missing": "missing on one side", "label": "different label", "boundaries": "different boundaries"}

#: Characters of the region shown on one line before it is cut with "…".
REGION_MAX = 60

_DIM = Style(dim=True)
_BOLD = Style(bold=True)


def _version(text: str, conflict: Conflict, spans: Sequence[tuple[int, int, str]],
             styles: dict[str, LabelStyle]) -> Text:
    """The conflict's region with ``spans`` drawn in their label colours and chips."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if not spans:
        out.append("— nothing here", style=_DIM)
        return out
    at = conflict.start
    fallback = styles.get("")
    for start, end, label in spans:
        if start > at:
            out.append(inert(text[at:start]), style=_DIM)
        style = styles.get(label, fallback)
        out.append(inert(text[start:end]), style=style.span if style else None)
        out.append(f" {inert(label)} ", style=style.chip if style else _BOLD)
        at = end
    if at < conflict.end:
        out.append(inert(text[at:conflict.end]), style=_DIM)
    if len(out.plain) > REGION_MAX + 20:
        out.truncate(REGION_MAX + 20, overflow="ellipsis")
    return out


def conflict_text(review: DocReview | None, index: int | None, text: str,
                  reviewer: Sequence[tuple[int, int, str]], styles: dict[str, LabelStyle],
                  keys: Sequence[str] = PICK_KEYS) -> Text:
    """Every line of the panel for conflict ``index`` of ``review`` (reviewer's spans: ``reviewer``);
    ``keys``: the key shown before annotator 1, 2, 3... (the keymap's, if it moved them)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if review is None:
        out.append(" Loading…", style=_DIM)
        return out
    if index is None or not review.conflicts:
        agreed = len(review.agreed)
        out.append(f" No conflicts: the annotators agree on all {agreed} span(s). Press d to mark it reviewed.",
                   style=_DIM)
        return out
    conflict = review.conflicts[index]
    mine = tuple(sorted(s for s in reviewer if s[0] < conflict.end and conflict.start < s[1]))
    out.append(f" Conflict {index + 1} / {len(review.conflicts)}", style=_BOLD)
    out.append(f" · {KIND_TEXT.get(conflict.kind, conflict.kind)}", style=_DIM)
    width = max(len("reviewer"), *(len(inert(o.annotator)) for o in conflict.options))
    key_width = max((len(k) for k in keys[:len(conflict.options)]), default=1)
    for i, option in enumerate(conflict.options):
        out.append("\n")
        key = inert(keys[i]) if i < len(keys) else " "
        out.append(f" {key.ljust(key_width)} ", style=Style(reverse=True, bold=True))
        out.append(" " + inert(option.annotator).ljust(width) + "  ")
        out.append_text(_version(text, conflict, option.spans, styles))
        if mine and option.spans == mine:
            out.append("  ✓ chosen", style=_BOLD)
    out.append("\n")
    out.append("   " + " " * key_width + "reviewer".ljust(width) + "  ", style=_DIM)
    out.append_text(_version(text, conflict, mine, styles))
    return out


class ConflictPanel(Static):
    """The current conflict: each annotator's version (with its pick key) and the reviewer's layer."""

    DEFAULT_CSS = """
    ConflictPanel {
        height: auto;
        max-height: 9;
        background: $panel;
        border-top: hkey $panel-lighten-2;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._labels: list[Label] = []
        self._styles: dict[str, LabelStyle] | None = None
        self._shown: tuple = (None, None, "", ())
        #: The key shown before each annotator's version (the keymap's keys for ``review.take_*``).
        self.pick_keys: tuple[str, ...] = PICK_KEYS

    def set_labels(self, labels: Sequence[Label]) -> None:
        self._labels = list(labels)
        self._styles = None

    @property
    def styles_by_label(self) -> dict[str, LabelStyle]:
        if self._styles is None:
            _, _, background, foreground = self.colors
            self._styles = label_styles(self._labels, background, foreground)
        return self._styles

    def show(self, review: DocReview | None, index: int | None, text: str,
             reviewer: Sequence[tuple[int, int, str]]) -> None:
        """Show conflict ``index`` of ``review`` with the reviewer's current spans."""
        self._shown = (review, index, text, tuple(reviewer))
        self.update(conflict_text(review, index, text, reviewer, self.styles_by_label, self.pick_keys))

    @property
    def plain(self) -> str:
        """What the panel says, as plain text (for tests)."""
        review, index, text, reviewer = self._shown
        return conflict_text(review, index, text, reviewer, self.styles_by_label, self.pick_keys).plain
