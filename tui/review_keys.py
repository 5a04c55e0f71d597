"""The review screen's key bindings, each with an id (remappable in keys.toml) and a tooltip.

Apart from :mod:`tui.review` so the keymap can check review ids without loading the app. The
pick keys are priority bindings, like ``tab``: a keymap that moves one onto a key the reader
also binds (a label's digit) gets what it asked for, not the reader's action.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from .review_panel import PICK_KEYS

__all__ = ["REVIEW_BINDINGS"]

REVIEW_BINDINGS: list[BindingType] = [
    Binding("tab", "conflict(1)", "Next conflict", id="review.next_conflict", priority=True,
            tooltip="Move to the next conflict in this document (wrapping round)."),
    Binding("shift+tab", "conflict(-1)", "Previous conflict", id="review.previous_conflict",
            priority=True, show=False, tooltip="Move to the previous conflict in this document."),
    *[
        Binding(k, f"take({i})", f"Take {k}", id=f"review.take_{k}", show=False, priority=True,
                tooltip=f"Take annotator {i + 1}'s version of this conflict.")
        for i, k in enumerate(PICK_KEYS)
    ],
    *[
        Binding(k.upper(), f"take_all({i})", f"All of {k}", id=f"review.take_all_{k}", show=False,
                priority=True, tooltip=f"Take all of annotator {i + 1}'s spans in this document.")
        for i, k in enumerate(PICK_KEYS)
    ],
    Binding("d", "reviewed", "Reviewed", id="review.done",
            tooltip="Mark this document reviewed (done in your layer) and open the next one."),
    Binding("right_square_bracket", "document(1)", "Next doc", id="review.next_document",
            tooltip="Open the next document in review order."),
    Binding("left_square_bracket", "document(-1)", "Previous doc", id="review.previous_document",
            show=False, tooltip="Open the previous document in review order."),
    Binding("u,ctrl+z", "undo", "Undo", id="review.undo",
            tooltip="Undo your last decision (in any document), even after a restart."),
    Binding("ctrl+r,ctrl+y", "redo", "Redo", id="review.redo", show=False,
            tooltip="Redo the last undone decision."),
]
