"""Undo and redo (replayed from the event log) and reading the log."""

from __future__ import annotations

import json
from typing import Any

import annotations.store as _store  # late-bound: tests patch ``annotations.store.now``

from ..db import StoreError
from ..history import UndoStacks, apply_changes, invert, load_changes
from .common import ActionResult, ConnectionLost


class UndoMixin:
    """Undo/redo of a :class:`~annotations.store.Store`."""

    def _step(self, direction: str) -> ActionResult | None:
        try:
            return self._step_once(direction)
        except BaseException as exc:
            if not isinstance(exc, StoreError) or isinstance(exc, ConnectionLost):
                # The stacks may count an event that never committed (a lost connection):
                # rebuilt from the log at the next undo or redo.
                self._stacks = UndoStacks(self._stacks.annotator)
            raise

    def _step_once(self, direction: str) -> ActionResult | None:
        with self._write():
            stacks = self._stacks
            # The log since the stacks last saw it, and the changes of the actions likely to be
            # on top of the stack then (the top now, or the action this store logged last):
            # one round trip.
            guess = (stacks.undo if direction == "undo" else stacks.redo)[-1:]
            if self.last_logged and self.last_logged not in guess:
                guess.append(self.last_logged)
            new, found = self._b.events_after_and_changes(stacks.annotator, stacks.seen, guess or [0])
            stacks.feed(new)
            stack = stacks.undo if direction == "undo" else stacks.redo
            if not stack:
                return None
            target = stack[-1]
            if target in found:
                doc_id, changes = found[target][0], json.loads(found[target][1])
            else:
                doc_id, changes = load_changes(self._b, target)
            changes = [ch for ch in changes if not ch.get("view")]  # worked out afresh below
            todo = invert(changes) if direction == "undo" else changes
            before = self._shared_snapshot(doc_id) if doc_id is not None else None
            try:
                apply_changes(self._b, todo, _store.now())
            except self._b.IntegrityError as exc:
                # E.g. the span's label was removed since, or another session of the same
                # annotator labelled the same place: refuse cleanly, change nothing.
                raise StoreError(f"cannot {direction} that action any more: {exc}") from None
            if doc_id is not None:
                todo = todo + self._view_changes(doc_id, before, todo)
            event = self._log(direction, todo, doc_id, target=target)
            # The stacks were in step with the log when this transaction began, and writers go
            # one at a time: this event is the annotator's only newer one (no read-back).
            self._stacks.feed([(event, direction, target)])
            return ActionResult(event, doc_id)

    def undo(self) -> ActionResult | None:
        """Undo this annotator's last action (any document); ``None`` if there is none."""
        return self._step("undo")

    def redo(self) -> ActionResult | None:
        """Redo the last undone action; ``None`` if there is none."""
        return self._step("redo")

    def can_undo(self) -> bool:
        self._stacks.sync(self._b)
        return bool(self._stacks.undo)

    def can_redo(self) -> bool:
        self._stacks.sync(self._b)
        return bool(self._stacks.redo)

    def events(self, *, annotator: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest events (all annotators unless ``annotator``), newest first."""
        cols = ("id", "ts", "annotator", "session_id", "doc_id", "action", "target", "changes")
        out = []
        for row in self._b.events(annotator, limit):
            ev = dict(zip(cols, row))
            ev["changes"] = json.loads(ev["changes"])
            out.append(ev)
        return out
