"""Storing recognisers' suggestions as pending spans, one document or a whole run."""

from __future__ import annotations

import json
from typing import Any, Iterable

import annotations.store as _store  # late-bound: tests patch ``annotations.store.now``

from ..db import StoreError
from ..history import SPAN_COLUMNS, Change


class SuggestionsMixin:
    """Suggestions of a :class:`~annotations.store.Store`."""

    def add_suggestions(
        self,
        doc_id: int,
        suggestions: Iterable[tuple[int, int, str, float | None]],
        origin: str,
        *,
        replace: bool = False,
    ) -> int:
        """Store a recogniser's suggestions as pending spans; returns how many were new.

        With ``replace``, this origin's pending suggestions in the document that are not in
        ``suggestions`` are removed and kept ones take the new label and score, so a rerun
        (or a refresh after the lexicon changed) leaves exactly its current suggestions.
        Accepted and rejected spans are never touched.

        A suggestion is skipped if it overlaps an accepted span, or if any span of this
        annotator (pending or rejected) already covers the same range: a person's decision
        is never overwritten and a rejected suggestion never comes back. Suggestions with a
        label not in the label set are skipped; one out of the text's range is a recogniser
        bug and raises :class:`StoreError` (nothing is stored).
        """
        with self._write():
            ts = _store.now()
            existing = self.spans(doc_id, states=("accepted", "pending", "rejected"))
            labels = {lab.name for lab in self.labels()}
            changes: list[Change] = []
            if replace:
                suggestions = list(suggestions)
                wanted = {(s, e): (lab, sc) for s, e, lab, sc in suggestions}
                for old in existing:
                    if old.state != "pending" or old.origin != origin:
                        continue
                    want = wanted.get((old.start, old.end))
                    if want is None or want[0] not in labels:
                        changes.append(self._delete(old))
                    elif want != (old.label, old.score):
                        changes.append(self._update(old, ts, label=want[0], score=want[1]))
                gone = {ch["span"]["id"] for ch in changes if ch["op"] == "delete"}
                existing = [sp for sp in existing if sp.id not in gone]
            taken = {(s.start, s.end) for s in existing if s.state != "accepted"}
            accepted = [s for s in existing if s.state == "accepted"]
            n = len(self.text(doc_id))
            added = 0
            for start, end, label, score in suggestions:
                if not (0 <= start < end <= n):
                    raise StoreError(
                        f"suggestion {start}-{end} is out of range for document {doc_id} ({n} characters)"
                    )
                if (start, end) in taken or label not in labels:
                    continue
                if any(a.overlaps(start, end) for a in accepted):
                    continue
                changes.append(self._insert_span(
                    doc_id, start, end, label, origin=origin, state="pending", score=score, ts=ts
                ))
                taken.add((start, end))
                added += 1
            if changes:
                self._log("suggest", changes, doc_id)
            return added

    def add_suggestions_many(
        self,
        items: Iterable[tuple[int, Iterable[tuple[int, int, str, float | None]]]],
        origin: str,
    ) -> dict[int, int]:
        """:meth:`add_suggestions` for many documents in one transaction (a suggestion run).

        Same rules, checked inside the transaction: a suggestion that overlaps an accepted
        span, repeats a range this annotator already has (pending or rejected) or has an
        unknown label is skipped. Rows and events are written in bulk, which is what lets
        a recogniser run store suggestions for a thousand documents a second. Returns the
        number of new suggestions per document.
        """
        batch = [(doc_id, list(sugs)) for doc_id, sugs in items]
        if not batch:
            return {}
        with self._write():
            ts = _store.now()
            labels = {lab.name for lab in self.labels()}
            ids = [d for d, _ in batch]
            lengths = {doc_id: len(text) for doc_id, text, _lang in self._b.document_texts(ids)}
            existing: dict[int, list[tuple[int, int, str]]] = {d: [] for d in ids}
            for doc_id, start, end, state in self._b.span_ranges(self.annotator, ids):
                existing[doc_id].append((start, end, state))
            new: list[tuple[int, list[tuple[int, int, str, float | None]]]] = []
            added: dict[int, int] = {}
            for doc_id, sugs in batch:
                if doc_id not in lengths:
                    raise StoreError(f"no document {doc_id}")
                n = lengths[doc_id]
                taken = {(s, e) for s, e, st in existing[doc_id] if st != "accepted"}
                accepted = [(s, e) for s, e, st in existing[doc_id] if st == "accepted"]
                keep: list[tuple[int, int, str, float | None]] = []
                for start, end, label, score in sugs:
                    if not (0 <= start < end <= n):
                        raise StoreError(
                            f"suggestion {start}-{end} is out of range for document {doc_id} ({n} characters)"
                        )
                    if (start, end) in taken or label not in labels:
                        continue
                    if any(a < end and start < b for a, b in accepted):
                        continue
                    keep.append((start, end, label, score))
                    taken.add((start, end))
                new.append((doc_id, keep))
                added[doc_id] = len(keep)
            free = iter(self._b.reserve_span_ids(sum(len(k) for _, k in new)))
            rows: list[tuple[Any, ...]] = []
            events: list[tuple[Any, ...]] = []
            for doc_id, keep in new:
                changes: list[Change] = []
                for start, end, label, score in keep:
                    row = (next(free), doc_id, start, end, label, self.annotator, origin, "pending",
                           score, ts, ts)
                    rows.append(row)
                    changes.append({"op": "insert", "span": dict(zip(SPAN_COLUMNS, row))})
                if changes:
                    events.append((ts, self.annotator, self._session_id, doc_id, "suggest", None,
                                   json.dumps(changes, ensure_ascii=False)))
            self._b.insert_span_rows(rows)
            self._b.log_events(events)
            return added
