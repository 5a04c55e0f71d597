"""Reading spans: an annotator's spans with the shared suggestions they see, overlaps, checks."""

from __future__ import annotations

from typing import Sequence

from ..db import StoreError
from ..history import Change
from ..models import Span
from .common import EVERYONE, _row, _span, _SPAN_SELECT


class SpansMixin:
    """Span reads of a :class:`~annotations.store.Store`."""

    def spans(
        self,
        doc_id: int,
        *,
        annotator: str | None = None,
        states: Sequence[str] = ("accepted", "pending"),
    ) -> list[Span]:
        """One annotator's spans of a document, by start offset.

        Pending suggestions for everyone (:data:`EVERYONE`) that the annotator has not
        decided on are included (their ``annotator`` is ``EVERYONE``).
        """
        who = annotator or self.annotator
        marks = ",".join("?" * len(states))
        rows = self.db.conn.execute(
            f"{_SPAN_SELECT} WHERE doc_id = ? AND annotator = ? AND state IN ({marks})"
            " ORDER BY start, end",
            [doc_id, who, *states],
        ).fetchall()
        out = [_span(r) for r in rows]
        if "pending" in states and who != EVERYONE:
            shared = self._shared_visible(doc_id, who)
            if shared:
                out = sorted(out + shared, key=lambda sp: (sp.start, sp.end, sp.id))
        return out

    def _shared_visible(self, doc_id: int, who: str) -> list[Span]:
        """Suggestions for everyone in a document that ``who`` has no span of their own over."""
        sql = (
            f"{_SPAN_SELECT} g WHERE g.doc_id = ? AND g.annotator = ? AND g.state = 'pending'"
            " AND NOT EXISTS (SELECT 1 FROM spans o WHERE o.doc_id = g.doc_id AND o.annotator = ?"
            " AND o.start < g.end AND g.start < o.end) ORDER BY g.start, g.end"
        )
        return [_span(r) for r in self.db.conn.execute(sql, [doc_id, EVERYONE, who])]

    def _shared_snapshot(self, doc_id: int) -> dict[int, Span] | None:
        """The shared suggestions this annotator sees in a document (``None``: there are none)."""
        if self.annotator == EVERYONE or not self.db.conn.execute(
            "SELECT 1 FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'pending' LIMIT 1",
            [doc_id, EVERYONE],
        ).fetchone():
            return None
        return {sp.id: sp for sp in self._shared_visible(doc_id, self.annotator)}

    def _view_changes(self, doc_id: int, before: dict[int, Span] | None) -> list[Change]:
        """Change records for the shared suggestions an action hid or showed again.

        They are marked ``"view": True``: the reader applies them, the database does not
        (the shared rows never change), and undo/redo work them out afresh.
        """
        if before is None:
            return []
        after = {sp.id: sp for sp in self._shared_visible(doc_id, self.annotator)}
        out: list[Change] = [
            {"op": "delete", "span": _row(sp), "view": True} for i, sp in before.items() if i not in after
        ]
        out += [{"op": "insert", "span": _row(sp), "view": True} for i, sp in after.items() if i not in before]
        return out

    def span(self, span_id: int) -> Span:
        row = self.db.conn.execute(f"{_SPAN_SELECT} WHERE id = ?", [span_id]).fetchone()
        if row is None:
            raise StoreError(f"no span {span_id}")
        return _span(row)

    def _own_span(self, span_id: int) -> Span:
        """A span this annotator may act on: their own, or a shared pending suggestion."""
        span = self.span(span_id)
        if span.annotator == EVERYONE and span.state == "pending" and self.annotator != EVERYONE:
            return span
        if span.annotator != self.annotator:
            raise StoreError(f"span {span_id} belongs to {span.annotator!r}, not {self.annotator!r}")
        return span

    def _overlapping(self, doc_id: int, start: int, end: int, state: str) -> list[Span]:
        if state == "accepted":
            # Accepted spans of one annotator never overlap (a trigger enforces it), so only
            # the last one starting before ``start`` can reach into the range: two index
            # seeks instead of scanning every span that starts before ``end``.
            base = f"{_SPAN_SELECT} WHERE doc_id = ? AND annotator = ? AND state = 'accepted'"
            rows = self.db.conn.execute(
                base + " AND start >= ? AND start < ? ORDER BY start",
                [doc_id, self.annotator, start, end],
            ).fetchall()
            before = self.db.conn.execute(
                base + " AND start < ? ORDER BY start DESC LIMIT 1", [doc_id, self.annotator, start]
            ).fetchone()
            found = [_span(r) for r in rows]
            if before is not None and _span(before).end > start:
                found.insert(0, _span(before))
            return found
        rows = self.db.conn.execute(
            f"{_SPAN_SELECT} WHERE doc_id = ? AND annotator = ? AND state = ?"
            " AND start < ? AND ? < end ORDER BY start",
            [doc_id, self.annotator, state, end, start],
        ).fetchall()
        return [_span(r) for r in rows]

    def _check_label(self, label: str) -> None:
        if self.label(label) is None:
            raise StoreError(f"unknown label {label!r}")

    def _check_range(self, doc_id: int, start: int, end: int) -> None:
        # The length is taken in Python: SQLite's length() stops at the first NUL character.
        # Documents never change once imported, so it is remembered (reading a long text
        # costs milliseconds on every span added).
        n = self._lengths.get(doc_id)
        if n is None:
            row = self.db.conn.execute("SELECT text FROM documents WHERE id = ?", [doc_id]).fetchone()
            if row is None:
                raise StoreError(f"no document {doc_id}")
            n = self._lengths[doc_id] = len(row[0])
        if not (0 <= start < end <= n):
            raise StoreError(f"span {start}-{end} is out of range for document {doc_id} ({n} characters)")
