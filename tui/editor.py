"""Committing the reader's decisions to the store and reporting exactly what changed.

Every method makes one store action (one transaction, one event) and returns an
:class:`Outcome` carrying that event's change records, so the app can update only what the
action touched. Nothing here imports Textual; it is tested with a plain store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotations import ActionResult, Span, Store, StoreError

__all__ = ["Editor", "Outcome"]


@dataclass(slots=True)
class Outcome:
    """What one committed action did."""

    action: str
    doc_id: int | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    #: Offset of the first span the action touched (where undo/redo put the cursor).
    focus: int | None = None
    #: The event the action logged (0: not known, e.g. after another writer's).
    event_id: int = 0

    @property
    def status_changed(self) -> bool:
        return any(ch["op"] == "status" for ch in self.changes)


class Editor:
    """The store actions the app offers, for the store's annotator."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def fetch_span(self, span_id: int) -> Span | None:
        """A span by id, or ``None`` if it no longer exists."""
        try:
            return self.store.span(span_id)
        except StoreError:
            return None

    def _outcome(self, result: ActionResult | None) -> Outcome | None:
        if result is None:
            return None
        event = self.store.logged_event(result.event_id)
        if event is None:  # pragma: no cover - every action logs its event through this store
            return Outcome("reload", result.doc_id, event_id=result.event_id)
        changes = event["changes"]
        return Outcome(event["action"], result.doc_id, changes, self._focus(changes), result.event_id)

    def _focus(self, changes: list[dict[str, Any]]) -> int | None:
        for ch in changes:
            if ch["op"] in ("insert", "delete"):
                return ch["span"]["start"]
            if ch["op"] == "update":
                span = self.fetch_span(ch["id"])
                if span is not None:
                    return span.start
        return None

    def label(self, doc_id: int, start: int, end: int, label: str) -> Outcome | None:
        """Label ``start``..``end`` (an exactly matching suggestion is accepted with ``label``)."""
        return self._outcome(self.store.add_span(doc_id, start, end, label))

    def relabel(self, span_id: int, label: str) -> Outcome | None:
        """Give a span another label (a suggestion is accepted with it)."""
        return self._outcome(self.store.relabel_span(span_id, label))

    def accept(self, span_id: int) -> Outcome | None:
        return self._outcome(self.store.accept(span_id))

    def reject(self, span_id: int) -> Outcome | None:
        return self._outcome(self.store.reject(span_id))

    def delete(self, span_id: int) -> Outcome | None:
        return self._outcome(self.store.delete_span(span_id))

    def accept_all(self, doc_id: int) -> Outcome | None:
        return self._outcome(self.store.accept_all(doc_id))

    def set_status(self, doc_id: int, status: str) -> Outcome | None:
        return self._outcome(self.store.set_status(doc_id, status))

    def undo(self) -> Outcome | None:
        """Undo the annotator's last action (any document); ``None`` if there is nothing to undo."""
        return self._outcome(self.store.undo())

    def redo(self) -> Outcome | None:
        return self._outcome(self.store.redo())
