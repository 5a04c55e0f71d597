"""Reading spans: an annotator's spans with the shared suggestions they see, overlaps, checks."""

from __future__ import annotations

from typing import Sequence

from ..db import StoreError
from ..history import Change
from ..models import Span
from .common import EVERYONE, _row, _span


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
        out = [_span(r) for r in self._b.spans(doc_id, who, states)]
        if "pending" in states and who != EVERYONE:
            shared = self._shared_visible(doc_id, who)
            if shared:
                out = sorted(out + shared, key=lambda sp: (sp.start, sp.end, sp.id))
        return out

    def _shared_visible(self, doc_id: int, who: str) -> list[Span]:
        """Suggestions for everyone in a document that ``who`` has no span of their own over."""
        return [_span(r) for r in self._b.shared_visible(doc_id, EVERYONE, who)]

    def _shared_snapshot(self, doc_id: int) -> "SharedView | None":
        """The shared suggestions this annotator sees in a document (``None``: there are none)."""
        if self.annotator == EVERYONE:
            return None
        return SharedView.of(self._b.shared_pending(doc_id, EVERYONE, self.annotator))

    def _view_changes(self, doc_id: int, before: "dict[int, Span] | None",
                      changes: Sequence[Change] | None = None) -> list[Change]:
        """Change records for the shared suggestions an action hid or showed again.

        They are marked ``"view": True``: the reader applies them, the database does not
        (the shared rows never change), and undo/redo work them out afresh. Given the
        action's ``changes`` and a :class:`SharedView`, worked out from them without a query.
        """
        if before is None:
            return []
        after = before.after(changes, doc_id, self.annotator) \
            if isinstance(before, SharedView) and changes is not None else None
        if after is None:
            after = {sp.id: sp for sp in self._shared_visible(doc_id, self.annotator)}
        out: list[Change] = [
            {"op": "delete", "span": _row(sp), "view": True} for i, sp in before.items() if i not in after
        ]
        out += [{"op": "insert", "span": _row(sp), "view": True} for i, sp in after.items() if i not in before]
        return out

    def span(self, span_id: int) -> Span:
        row = self._b.span(span_id)
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

    def _near(self, doc_id: int, start: int, end: int) -> tuple[list[Span], list[Span]]:
        """``(accepted, pending)``: this annotator's spans overlapping ``start``..``end``, by
        start (one query for what :meth:`_overlapping` reads in three)."""
        return _split_near(self._b.near(doc_id, self.annotator, start, end), start, end)

    def _near_and_shared(self, doc_id: int, start: int, end: int) \
            -> tuple[tuple[list[Span], list[Span]], "SharedView | None"]:
        """:meth:`_near` and :meth:`_shared_snapshot` in one query."""
        if self.annotator == EVERYONE:
            return self._near(doc_id, start, end), None
        rows = self._b.near(doc_id, self.annotator, start, end, EVERYONE)
        shared = sorted((r for r in rows if r[-2]), key=lambda r: (r[2], r[3], r[0]))
        return _split_near([r for r in rows if not r[-2]], start, end), SharedView.of(shared)

    def _overlapping(self, doc_id: int, start: int, end: int, state: str) -> list[Span]:
        if state == "accepted":
            # Accepted spans of one annotator never overlap (a trigger enforces it), so only
            # the last one starting before ``start`` can reach into the range: two index
            # seeks instead of scanning every span that starts before ``end``.
            rows = self._b.accepted_starting_in(doc_id, self.annotator, start, end)
            before = self._b.accepted_before(doc_id, self.annotator, start)
            found = [_span(r) for r in rows]
            if before is not None and _span(before).end > start:
                found.insert(0, _span(before))
            return found
        return [_span(r) for r in self._b.overlapping(doc_id, self.annotator, state, start, end)]

    def _check_label(self, label: str) -> None:
        # A label known to exist is not asked for again: the spans' foreign key still refuses
        # one removed or renamed since (see :meth:`_label_refused`).
        if label in self._known_labels:
            return
        if self.label(label) is None:
            raise StoreError(f"unknown label {label!r}")
        self._known_labels.add(label)

    def _label_refused(self, label: str, exc: BaseException) -> BaseException:
        """After a refused write that used ``label``: the one-line refusal if the label is
        gone (removed or renamed since it was checked), else ``exc``."""
        if label not in self._known_labels:
            return exc
        self._known_labels.discard(label)
        try:
            self._check_label(label)
        except StoreError as refused:
            return refused
        except Exception:  # noqa: BLE001 - e.g. the transaction around it is aborted: the original says why
            return exc
        return exc

    def _check_range(self, doc_id: int, start: int, end: int) -> None:
        # The length is taken in Python (code points): SQLite's length() stops at the first NUL.
        # Documents never change once imported, so it is remembered (reading a long text
        # costs milliseconds on every span added).
        n = self._lengths.get(doc_id)
        if n is None:
            text = self._b.document_text(doc_id)
            if text is None:
                raise StoreError(f"no document {doc_id}")
            n = self._lengths[doc_id] = len(text)
        if not (0 <= start < end <= n):
            raise StoreError(f"span {start}-{end} is out of range for document {doc_id} ({n} characters)")


def _split_near(rows: Sequence[Sequence[object]], start: int, end: int) -> tuple[list[Span], list[Span]]:
    accepted: list[Span] = []
    pending: list[Span] = []
    for row in rows:
        sp = _span(row[:-2])
        if sp.start < end and start < sp.end:
            (accepted if sp.state == "accepted" else pending).append(sp)
    accepted.sort(key=lambda sp: sp.start)
    pending.sort(key=lambda sp: (sp.start, sp.id))
    return accepted, pending


class SharedView(dict):  # type: ignore[type-arg]
    """The shared suggestions an annotator sees in a document (id → :class:`Span`, by
    position), and every shared suggestion there with how many of the annotator's own spans
    lie over it: what the annotator sees after an action follows from the action's changes."""

    every: list[tuple[Span, int]]

    @classmethod
    def of(cls, rows: Sequence[Sequence[object]]) -> "SharedView | None":
        """From :meth:`Backend.shared_pending` rows (``None``: there are none)."""
        if not rows:
            return None
        view = cls()
        view.every = [(_span(r[:-2]), int(r[-1])) for r in rows]  # type: ignore[call-overload]
        for sp, over in view.every:
            if not over:
                view[sp.id] = sp
        return view

    def after(self, changes: Sequence[Change], doc_id: int, who: str) -> "dict[int, Span] | None":
        """What ``who`` sees once ``changes`` are applied (``None``: the changes move a span,
        which this does not follow: ask the database)."""
        added: list[tuple[int, int]] = []
        removed: list[tuple[int, int]] = []
        for ch in changes:
            if ch.get("view"):
                continue
            op = ch["op"]
            if op == "update":
                if {"start", "end", "doc_id", "annotator"} & set(ch["after"]):
                    return None
            elif op in ("insert", "delete"):
                row = ch["span"]
                if row["annotator"] == who and row["doc_id"] == doc_id:
                    (added if op == "insert" else removed).append((row["start"], row["end"]))
        out: dict[int, Span] = {}
        for sp, over in self.every:
            over += sum(1 for s, e in added if s < sp.end and sp.start < e)
            over -= sum(1 for s, e in removed if s < sp.end and sp.start < e)
            if over <= 0:
                out[sp.id] = sp
        return out
