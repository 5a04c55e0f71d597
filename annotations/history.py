"""The event log: recording changes, replaying them forwards or backwards, and undo stacks.

Every user action is one row of ``events`` holding the list of changes it made. Undo applies
the inverse of an action's changes and appends an ``undo`` event naming it; redo re-applies
them and appends a ``redo`` event. The log itself is never rewritten, so the undo and redo
stacks of an annotator can be rebuilt from it after a restart, in any process.

A change is one of::

    {"op": "insert", "span": {...row...}}
    {"op": "delete", "span": {...row...}}
    {"op": "update", "id": 7, "before": {...fields...}, "after": {...fields...}}
    {"op": "status", "doc_id": 3, "annotator": "ann", "before": "todo", "after": "done"}

An insert or delete marked ``"view": True`` records a suggestion for everyone that the action
showed or hid for its annotator: the reader applies it, the database has nothing to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Change", "apply_changes", "invert", "UndoStacks", "NOT_UNDOABLE"]

Change = dict[str, Any]

#: Event actions that are logged for audit but never undone.
NOT_UNDOABLE = frozenset({"undo", "redo", "suggest", "import", "labels", "session", "review_prefill"})

SPAN_COLUMNS = (
    "id", "doc_id", "start", "end", "label", "annotator",
    "origin", "state", "score", "created", "updated",
)


def invert(changes: list[Change]) -> list[Change]:
    """The changes that undo ``changes`` (in reverse order)."""
    out: list[Change] = []
    for ch in reversed(changes):
        op = ch["op"]
        if op == "insert":
            out.append({**ch, "op": "delete"})
        elif op == "delete":
            out.append({**ch, "op": "insert"})
        elif op == "update":
            out.append({"op": "update", "id": ch["id"], "before": ch["after"], "after": ch["before"]})
        elif op == "status":
            out.append({**ch, "before": ch["after"], "after": ch["before"]})
        else:  # pragma: no cover - the log only holds the ops above
            raise ValueError(f"unknown change {op!r}")
    return out


def _backend(db: Any) -> Any:
    """The store backend for ``db`` (a backend, a Store, or a bare sqlite-utils database)."""
    if hasattr(db, "put_status"):
        return db
    if hasattr(db, "backend"):
        return db.backend
    from .store.sqlite_backend import SQLiteBackend

    return SQLiteBackend.wrap(db)


def apply_changes(db: Any, changes: list[Change], now: str) -> None:
    """Apply ``changes`` inside the caller's transaction (``db``: the store's backend)."""
    backend = _backend(db)
    for ch in changes:
        op = ch["op"]
        if ch.get("view"):
            continue  # a shared suggestion shown or hidden for one annotator: nothing to write
        if op == "insert":
            backend.insert_span_row(ch["span"])
        elif op == "delete":
            backend.delete_span(ch["span"]["id"])
        elif op == "update":
            backend.update_span(ch["id"], ch["after"], now)
        elif op == "status":
            backend.put_status(ch["doc_id"], ch["annotator"], ch["after"], now)
        else:  # pragma: no cover
            raise ValueError(f"unknown change {op!r}")


@dataclass
class UndoStacks:
    """An annotator's undo and redo stacks, kept in step with the log incrementally."""

    annotator: str
    undo: list[int] = field(default_factory=list)
    redo: list[int] = field(default_factory=list)
    seen: int = 0

    def sync(self, db: Any) -> None:
        """Replay the annotator's events newer than the last one seen (``db``: the store's backend)."""
        self.feed(_backend(db).events_after(self.annotator, self.seen))

    def feed(self, rows: Any) -> None:
        """Replay ``(event id, action, target)`` rows, the annotator's next events in order."""
        for event_id, action, target in rows:
            self.seen = event_id
            if action == "undo":
                if self.undo and self.undo[-1] == target:
                    self.undo.pop()
                elif target in self.undo:
                    self.undo.remove(target)
                self.redo.append(target)
            elif action == "redo":
                if self.redo and self.redo[-1] == target:
                    self.redo.pop()
                elif target in self.redo:
                    self.redo.remove(target)
                self.undo.append(target)
            elif action not in NOT_UNDOABLE:
                self.undo.append(event_id)
                self.redo.clear()


def load_changes(db: Any, event_id: int) -> tuple[int | None, list[Change]]:
    return _backend(db).event_changes(event_id)
