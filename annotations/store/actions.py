"""Span and status actions: each one transaction and one event."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable

import annotations.store as _store  # late-bound: tests patch ``annotations.store.now``

from ..db import StoreError
from ..history import Change, apply_changes
from ..models import STATUSES, Span
from .common import EVERYONE, ActionResult, _row, snap_to_tokens


class ActionsMixin:
    """Actions of a :class:`~annotations.store.Store`."""

    def _insert_span(
        self,
        doc_id: int,
        start: int,
        end: int,
        label: str,
        *,
        origin: str,
        state: str,
        score: float | None,
        ts: str,
    ) -> Change:
        span_id = self._b.insert_span(doc_id, start, end, label, self.annotator, origin, state, score, ts)
        row = {
            "id": span_id, "doc_id": doc_id, "start": start, "end": end,
            "label": label, "annotator": self.annotator, "origin": origin, "state": state,
            "score": score, "created": ts, "updated": ts,
        }
        return {"op": "insert", "span": row}

    def _update(self, span: Span, ts: str, **after: Any) -> Change:
        before = {k: getattr(span, k) for k in after}
        change = {"op": "update", "id": span.id, "before": before, "after": after}
        apply_changes(self._b, [change], ts)
        return change

    def _delete(self, span: Span) -> Change:
        change = {"op": "delete", "span": _row(span)}
        apply_changes(self._b, [change], "")
        return change

    def _claim(self, shared: Span, ts: str, state: str = "pending") -> tuple[Span, list[Change]]:
        """This annotator's own copy of a suggestion for everyone, to decide on."""
        change = self._insert_span(
            shared.doc_id, shared.start, shared.end, shared.label, origin=shared.origin,
            state=state, score=shared.score, ts=ts,
        )
        return Span(**change["span"]), [change]

    def _clear_for(self, doc_id: int, start: int, end: int, ts: str, keep: int | None = None,
                   near: tuple[list[Span], list[Span]] | None = None) -> list[Change]:
        """Make room for an accepted span: drop overlapping accepted spans, reject suggestions
        (``near``: those spans, :meth:`_near`, when the caller has read them already)."""
        accepted, pending = near if near is not None else self._near(doc_id, start, end)
        changes: list[Change] = []
        for old in accepted:
            if old.id != keep:
                changes.append(self._delete(old))
        for sug in pending:
            if sug.id != keep:
                changes.append(self._update(sug, ts, state="rejected"))
        return changes

    def add_span(
        self,
        doc_id: int,
        start: int,
        end: int,
        label: str,
        *,
        origin: str = "manual",
        snap: bool = False,
    ) -> ActionResult:
        """Label ``start``..``end`` (accepted). Overlapping spans of this annotator give way.

        If a pending suggestion covers exactly this range it is accepted with ``label``
        (keeping its origin). ``snap`` widens the range to whole tokens first.
        """
        try:
            return self._add_span(doc_id, start, end, label, origin, snap)
        except self._b.IntegrityError as exc:
            raise self._label_refused(label, exc) from None

    def _add_span(self, doc_id: int, start: int, end: int, label: str, origin: str, snap: bool) -> ActionResult:
        with self._write():
            self._check_label(label)
            self._check_range(doc_id, start, end)
            if snap:
                start, end = snap_to_tokens(self.tokens(doc_id), start, end)
            ts = _store.now()
            near, before = self._near_and_shared(doc_id, start, end)
            exact = [s for s in near[1] if s.start == start and s.end == end]
            keep = exact[0].id if exact else None
            changes = self._clear_for(doc_id, start, end, ts, keep=keep, near=near)
            if not exact and before:  # a shared suggestion over exactly this range lends its origin
                origin = next((sp.origin for sp in before.values()
                               if (sp.start, sp.end) == (start, end)), origin)
            if exact:
                changes.append(self._update(exact[0], ts, state="accepted", label=label))
                span = replace(exact[0], state="accepted", label=label, updated=ts)
            else:
                change = self._insert_span(
                    doc_id, start, end, label, origin=origin, state="accepted", score=None, ts=ts
                )
                changes.append(change)
                span = Span(**change["span"])
            changes += self._view_changes(doc_id, before, changes)
            event = self._log("add", changes, doc_id)
            return ActionResult(event, doc_id, (span,))

    def relabel_span(self, span_id: int, label: str) -> ActionResult:
        """Give an existing span another label (a suggestion relabelled is also accepted)."""
        try:
            return self._relabel_span(span_id, label)
        except self._b.IntegrityError as exc:
            raise self._label_refused(label, exc) from None

    def _relabel_span(self, span_id: int, label: str) -> ActionResult:
        with self._write():
            self._check_label(label)
            span = self._own_span(span_id)
            before = self._shared_snapshot(span.doc_id)
            ts = _store.now()
            changes = []
            if span.annotator == EVERYONE:
                span, changes = self._claim(span, ts)
                span_id = span.id
            if span.state != "accepted":
                changes += self._clear_for(span.doc_id, span.start, span.end, ts, keep=span.id)
                changes.append(self._update(span, ts, label=label, state="accepted"))
            elif span.label != label:
                changes.append(self._update(span, ts, label=label))
            changes += self._view_changes(span.doc_id, before, changes)
            event = self._log("relabel", changes, span.doc_id)
            return ActionResult(event, span.doc_id, (self.span(span_id),))

    def delete_span(self, span_id: int) -> ActionResult:
        """Remove a span (an accepted one, or a suggestion outright; a suggestion for
        everyone is rejected for this annotator, so that it stays gone for them)."""
        with self._write():
            span = self._own_span(span_id)
            if span.annotator == EVERYONE:
                before = self._shared_snapshot(span.doc_id)
                ts = _store.now()
                copy, changes = self._claim(span, ts)
                changes.append(self._update(copy, ts, state="rejected"))
                changes += self._view_changes(span.doc_id, before, changes)
            else:
                # Suggestions for everyone that this span hid are seen again.
                before = self._shared_snapshot(span.doc_id)
                changes = [self._delete(span)]
                changes += self._view_changes(span.doc_id, before, changes)
            event = self._log("delete", changes, span.doc_id)
            return ActionResult(event, span.doc_id)

    def accept(self, span_id: int) -> ActionResult:
        """Accept a pending suggestion; overlapping suggestions are rejected."""
        with self._write():
            span = self._own_span(span_id)
            if span.state == "accepted":
                raise StoreError(f"span {span_id} is already accepted")
            before = self._shared_snapshot(span.doc_id)
            ts = _store.now()
            claimed: list[Change] = []
            if span.annotator == EVERYONE:
                span, claimed = self._claim(span, ts)
                span_id = span.id
            changes = claimed + self._clear_for(span.doc_id, span.start, span.end, ts, keep=span.id)
            changes.append(self._update(span, ts, state="accepted"))
            changes += self._view_changes(span.doc_id, before, changes)
            event = self._log("accept", changes, span.doc_id)
            return ActionResult(event, span.doc_id, (self.span(span_id),))

    def reject(self, span_id: int) -> ActionResult:
        """Reject a pending suggestion; it will not be suggested again for this document."""
        with self._write():
            span = self._own_span(span_id)
            if span.state != "pending":
                raise StoreError(f"span {span_id} is not a pending suggestion")
            before = self._shared_snapshot(span.doc_id)
            ts = _store.now()
            changes: list[Change] = []
            if span.annotator == EVERYONE:
                span, changes = self._claim(span, ts)
            changes.append(self._update(span, ts, state="rejected"))
            changes += self._view_changes(span.doc_id, before, changes)
            event = self._log("reject", changes, span.doc_id)
            return ActionResult(event, span.doc_id)

    def accept_all(self, doc_id: int) -> ActionResult:
        """Accept every pending suggestion of a document, best score first; clashes are rejected."""
        with self._write():
            ts = _store.now()
            before = self._shared_snapshot(doc_id)
            pending = self.spans(doc_id, states=("pending",))
            pending.sort(key=lambda s: (-(s.score if s.score is not None else 1.0), s.start))
            changes: list[Change] = []
            accepted: list[Span] = []
            for sug in pending:
                if sug.annotator == EVERYONE:
                    if self._overlapping(doc_id, sug.start, sug.end, "accepted"):
                        continue  # a better one was just accepted over it
                    changes += self._clear_for(doc_id, sug.start, sug.end, ts)
                    sug, claimed = self._claim(sug, ts, state="accepted")
                    changes += claimed
                    accepted.append(sug)
                    continue
                if self.span(sug.id).state != "pending":
                    continue
                changes += self._clear_for(doc_id, sug.start, sug.end, ts, keep=sug.id)
                changes.append(self._update(sug, ts, state="accepted"))
                accepted.append(sug)
            changes += self._view_changes(doc_id, before, changes)
            event = self._log("accept_all", changes, doc_id)
            return ActionResult(event, doc_id, tuple(self.span(s.id) for s in accepted))

    def set_status(self, doc_id: int, status: str) -> ActionResult:
        """Mark a document todo, done or skipped for this annotator."""
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        with self._write():
            old = self._b.status(doc_id, self.annotator)
            if not self._b.document_exists(doc_id):
                raise StoreError(f"no document {doc_id}")
            change = {
                "op": "status", "doc_id": doc_id, "annotator": self.annotator,
                "before": old, "after": status,
            }
            apply_changes(self._b, [change], _store.now())
            event = self._log("status", [change], doc_id)
            return ActionResult(event, doc_id)

    def set_status_many(self, doc_ids: Iterable[int], status: str) -> int:
        """Mark many documents todo, done or skipped for this annotator: one transaction and
        one event (one undo step); documents already in that status are left alone.
        Returns how many changed."""
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        ids = list(dict.fromkeys(doc_ids))
        with self._write():
            before = self._b.statuses_of(self.annotator, ids)
            changes = [
                {"op": "status", "doc_id": doc_id, "annotator": self.annotator,
                 "before": before.get(doc_id), "after": status}
                for doc_id in ids if before.get(doc_id, "todo") != status
            ]
            if changes:
                apply_changes(self._b, changes, _store.now())
                self._log("status", changes, None)
            return len(changes)
