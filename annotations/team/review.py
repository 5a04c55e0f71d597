"""Adjudication: what two or more annotators disagree on, and the reviewer's decisions.

A document's review holds the spans every reviewed annotator who marked it done agrees on
(same start, end and label) and its **conflicts**: the other spans, grouped into regions of
overlapping spans, with each annotator's version of the region (possibly nothing: a
missing span). The reviewer's layer is the reviewer's own spans: agreed spans are put in
it when the document is first reviewed, and every decision (take one annotator's version
of a conflict, take all of one annotator in the document) is one transaction and one
event in the log, like any action, so undo and redo work on it and survive a restart.
Spans a decision writes carry their origin: ``review:agreed``, ``review:<annotator>``;
the review screen's hand edits are ``review:manual``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..models import Span
from ..store import ActionResult, Store, StoreError, now
from .agree import _doc_f1, load_team

__all__ = [
    "Conflict",
    "DocReview",
    "Option",
    "doc_review",
    "load_review",
    "prefill",
    "review_queue",
    "take",
    "take_all",
    "MANUAL_ORIGIN",
]

SpanT = tuple[int, int, str]

#: Origin of spans the reviewer labels by hand in the review screen.
MANUAL_ORIGIN = "review:manual"
AGREED_ORIGIN = "review:agreed"


@dataclass(frozen=True, slots=True)
class Option:
    """One annotator's version of a conflict's region (``spans`` empty: nothing there)."""

    annotator: str
    spans: tuple[SpanT, ...]


@dataclass(frozen=True, slots=True)
class Conflict:
    """A region ``start``..``end`` where the annotators' spans differ."""

    doc_id: int
    start: int
    end: int
    options: tuple[Option, ...]

    @property
    def kind(self) -> str:
        """``missing`` (someone has nothing here), ``label`` (same boundaries) or ``boundaries``."""
        if any(not o.spans for o in self.options):
            return "missing"
        bounds = {tuple((s, e) for s, e, _ in o.spans) for o in self.options}
        return "label" if len(bounds) == 1 else "boundaries"

    def option(self, annotator: str) -> Option | None:
        for o in self.options:
            if o.annotator == annotator:
                return o
        return None


@dataclass
class DocReview:
    """A document's agreed spans and conflicts among the annotators who did it."""

    doc_id: int
    annotators: tuple[str, ...]
    agreed: list[SpanT] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    layers: dict[str, list[SpanT]] = field(default_factory=dict)

    def conflict_at(self, offset: int) -> int | None:
        """Index of the conflict whose region holds ``offset``."""
        for i, c in enumerate(self.conflicts):
            if c.start <= offset < c.end:
                return i
        return None

    def next_conflict(self, offset: int, step: int = 1) -> int | None:
        """Index of the next (``step`` 1) or previous (-1) conflict from ``offset``, wrapping round."""
        if not self.conflicts:
            return None
        starts = [c.start for c in self.conflicts]
        if step > 0:
            for i, s in enumerate(starts):
                if s > offset:
                    return i
            return 0
        for i in range(len(starts) - 1, -1, -1):
            if starts[i] < offset:
                return i
        return len(starts) - 1


def doc_review(doc_id: int, layers: dict[str, Sequence[SpanT]]) -> DocReview:
    """Agreed spans and conflicts of the given layers (annotator -> spans), in layer order."""
    names = tuple(layers)
    sets = [set(layers[a]) for a in names]
    agreed = set.intersection(*sets) if sets else set()
    rest = sorted({s for layer in sets for s in layer} - agreed)
    regions: list[list[int]] = []
    for s, e, _ in rest:
        if regions and s < regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], e)
        else:
            regions.append([s, e])
    conflicts = []
    for start, end in regions:
        options = tuple(
            Option(a, tuple(sorted(sp for sp in layers[a] if sp[0] < end and start < sp[1]))) for a in names
        )
        conflicts.append(Conflict(doc_id, start, end, options))
    return DocReview(doc_id, names, sorted(agreed), conflicts, {a: sorted(layers[a]) for a in names})


def load_review(store: Store, doc_id: int, annotators: Sequence[str]) -> DocReview:
    """The review of one document among those of ``annotators`` who marked it done."""
    data = load_team(store, annotators, min_done=1, doc_id=doc_id)
    who = data.done.get(doc_id, [])
    return doc_review(doc_id, {a: data.spans.get((doc_id, a), []) for a in who})


def review_queue(store: Store, annotators: Sequence[str]) -> list[tuple[int, float]]:
    """Documents two or more of ``annotators`` did, lowest agreement first: ``(doc id, F1)``."""
    data = load_team(store, annotators, min_done=2)
    out = []
    for doc_id, who in data.done.items():
        spans = [data.spans.get((doc_id, a), []) for a in who]
        f1s = [_doc_f1(a, b) for a, b in itertools.combinations(spans, 2)]
        out.append((doc_id, sum(f1s) / len(f1s)))
    out.sort(key=lambda x: (x[1], x[0]))
    return out


def _reviewer_spans(store: Store, doc_id: int) -> list[Span]:
    return store.spans(doc_id, states=("accepted",))


def _apply(store: Store, doc_id: int, action: str, deletes: Sequence[Span],
           inserts: Sequence[tuple[SpanT, str]]) -> ActionResult | None:
    """Delete and insert spans of the store's annotator as one transaction and one event."""
    if not deletes and not inserts:
        return None
    with store.transaction():
        ts = now()
        changes: list[dict[str, Any]] = [store._delete(s) for s in deletes]
        for (s, e, label), origin in inserts:
            store._check_label(label)
            changes.append(store._insert_span(doc_id, s, e, label, origin=origin, state="accepted",
                                              score=None, ts=ts))
        # A pending suggestion of the reviewer's own in the way is rejected, as a label would.
        for (s, e, _), _o in inserts:
            for sug in store._overlapping(doc_id, s, e, "pending"):
                changes.append(store._update(sug, ts, state="rejected"))
        event = store._log(action, changes, doc_id)
        store.backend.add_reviewer(store.annotator, ts)
    return ActionResult(event, doc_id)


def prefill(store: Store, review: DocReview) -> ActionResult | None:
    """Put the agreed spans into the reviewer's layer, once per document.

    Logged as ``review_prefill``, which undo passes over: it is not a decision of the
    reviewer's, and opening a document must not change what ``u`` takes back.
    """
    if store.read_only:  # shown as it is; every decision then says why it cannot be saved
        return None
    done = store.backend.has_event(store.annotator, review.doc_id, "review_prefill")
    if done or not review.agreed:
        return None
    mine = _reviewer_spans(store, review.doc_id)
    inserts = [(sp, AGREED_ORIGIN) for sp in review.agreed
               if not any(m.overlaps(sp[0], sp[1]) for m in mine)]
    return _apply(store, review.doc_id, "review_prefill", [], inserts) if inserts else None


def _replace(store: Store, doc_id: int, start: int, end: int, target: Sequence[SpanT], origin: str,
             action: str) -> ActionResult | None:
    mine = [m for m in _reviewer_spans(store, doc_id) if m.start < end and start < m.end]
    have = {(m.start, m.end, m.label): m for m in mine}
    wanted = set(target)
    deletes = [m for key, m in have.items() if key not in wanted]
    inserts = [(sp, origin) for sp in sorted(wanted) if sp not in have]
    return _apply(store, doc_id, action, deletes, inserts)


def take(store: Store, conflict: Conflict, annotator: str) -> ActionResult | None:
    """Make the reviewer's layer over the conflict's region that annotator's version."""
    option = conflict.option(annotator)
    if option is None:
        raise StoreError(f"{annotator!r} has no version of this conflict")
    return _replace(store, conflict.doc_id, conflict.start, conflict.end, option.spans,
                    f"review:{annotator}", "review_take")


def take_all(store: Store, review: DocReview, annotator: str) -> ActionResult | None:
    """Make the reviewer's layer of the whole document that annotator's spans."""
    if annotator not in review.layers:
        raise StoreError(f"{annotator!r} did not mark document {review.doc_id} done")
    n = len(store.text(review.doc_id))
    return _replace(store, review.doc_id, 0, n, review.layers[annotator], f"review:{annotator}",
                    "review_take_all")
