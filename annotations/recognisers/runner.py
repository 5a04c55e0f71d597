"""Running recognisers over a store: the whole corpus, or one document right after an edit.

Three entry points:

- :func:`run_recognisers` — ``annotate suggest`` and background workers: every document
  (or the todo ones), in batches of one write transaction each, with a progress callback
  and a cancel flag. Call it from a worker thread with that thread's own store
  (``store.reopen()``), never on the TUI's event loop.
- :func:`refresh_document` — after a person accepts, labels, relabels or deletes a span:
  brings the propagation lexicon up to date (incrementally, from the event log) and
  refreshes the suggestions of that one document. Fast enough for the event loop
  (a few milliseconds; ≤ 100 ms on a 10,000-document corpus, see ``benchmarks/bench_suggest.py``).
- :func:`refresh_corpus` — the same for every other document; for a worker thread.

Each recogniser's suggestions replace its earlier pending ones in a document. When two
recognisers suggest overlapping spans, the one with the higher priority wins (propagation
> patterns > Russian NER); suggestions from an origin no recogniser owns (an imported
file) are never displaced. Accepted and rejected spans are never touched, and a
suggestion that overlaps an accepted span or repeats a rejected one is not stored
(:meth:`Store.add_suggestions` enforces this too).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from ..label_map import load_label_map, map_suggestions
from ..tokenize import Tokens, tokenizer_id
from .base import (
    Recogniser,
    RecogniserError,
    Suggestion,
    TextDoc,
    create,
    priority_of,
    recogniser_info,
    recogniser_names,
    widens_others,
)
from .propagation import CrossScript, LexiconState, Propagation

if TYPE_CHECKING:  # pragma: no cover
    from ..store import Store

__all__ = [
    "RunReport",
    "RefreshResult",
    "build_recognisers",
    "run_recognisers",
    "refresh_document",
    "refresh_corpus",
    "warm_up",
    "suggest_for",
]

BATCH = 200

#: ``progress(documents_done, documents_total)``.
ProgressFn = Callable[[int, int], None]


@dataclass
class RunReport:
    """What a run did: documents seen, new suggestions per recogniser, time taken."""

    documents: int = 0
    suggestions: dict[str, int] = field(default_factory=dict)
    tokenised: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    cancelled: bool = False
    skipped: dict[str, str] = field(default_factory=dict)
    #: Suggestions left out because their label (after the label map) is not in the label
    #: set: ``{recogniser: {label: count}}`` (see ``annotations.label_map``).
    unmapped: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.suggestions.values())

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "suggestions": dict(self.suggestions),
            "total": self.total,
            "tokenised": self.tokenised,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "docs_per_second": round(self.docs_per_second, 1),
            "cancelled": self.cancelled,
            "skipped": dict(self.skipped),
            "unmapped": {k: dict(v) for k, v in self.unmapped.items()},
        }


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """A one-document refresh: new suggestions stored and the time it took."""

    doc_id: int
    added: int
    seconds: float


def build_recognisers(
    names: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[Recogniser], dict[str, str]]:
    """Recognisers by name (default: every default one that can run here).

    ``options`` maps a recogniser name to its constructor options. A named recogniser
    that cannot run raises :class:`RecogniserError`; an unnamed default one that cannot
    run is returned in the second value (name → reason) instead.
    """
    explicit = names is not None and len(names) > 0
    wanted = list(dict.fromkeys(names)) if explicit else recogniser_names(defaults_only=True)
    out: list[Recogniser] = []
    skipped: dict[str, str] = {}
    for name in wanted:
        recogniser_info(name)  # unknown names fail here with the list of known ones
        rec = create(name, **dict((options or {}).get(name, {})))
        reason = rec.unavailable()
        if reason:
            if explicit:
                raise RecogniserError(f"recogniser {name!r} cannot run: {reason}")
            skipped[name] = reason
            continue
        out.append(rec)
    return out, skipped


def _handles(rec: Recogniser, lang: str) -> bool:
    langs = getattr(rec, "languages", None)
    return langs is None or lang in langs


def suggest_for(doc: TextDoc, recognisers: Sequence[Recogniser]) -> dict[str, list[Suggestion]]:
    """Each recogniser's suggestions for one document (prepared recognisers only)."""
    return {
        rec.name: list(rec.suggest(doc)) if _handles(rec, doc.lang) else []
        for rec in recognisers
    }


# -- storing -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Existing:
    origin: str
    start: int
    end: int
    label: str
    score: float | None
    state: str


def _resolve(
    new: dict[str, list[Suggestion]],
    existing: list[_Existing],
    labels: set[str],
    priorities: dict[str, int],
) -> dict[str, list[Suggestion]]:
    """Pick non-overlapping winners among new suggestions and other origins' pending ones.

    Returns the winners per origin: every origin in ``new``, and every other origin whose
    pending suggestions lost a place (its remaining ones).
    """
    accepted = [(e.start, e.end) for e in existing if e.state == "accepted"]
    rejected = {(e.start, e.end) for e in existing if e.state == "rejected"}
    cands: list[tuple[int, float, int, int, str, Suggestion]] = []

    def prio_of(origin: str) -> int:
        return priorities[origin] if origin in priorities else priority_of(origin)

    for origin, sugs in new.items():
        prio = prio_of(origin)
        for s in sugs:
            if s.label not in labels or (s.start, s.end) in rejected:
                continue
            if any(a < s.end and s.start < b for a, b in accepted):
                continue
            cands.append((prio, s.score if s.score is not None else 1.0, s.end - s.start, -s.start, origin, s))
    others: dict[str, int] = {}
    for e in existing:
        if e.state == "pending" and e.origin not in new:
            others[e.origin] = others.get(e.origin, 0) + 1
            sug = Suggestion(e.start, e.end, e.label, e.score)
            cands.append((prio_of(e.origin), e.score if e.score is not None else 1.0,
                          e.end - e.start, -e.start, e.origin, sug))
    # A longer span of the same label from another origin ("Владимира Путина" from the
    # Russian NER around propagation's "Путина") is the better suggestion of the two,
    # unless its origin does not widen others (the CRF: see ``widens_others``).
    spans = [(c[5], c[4]) for c in cands if widens_others(c[4])]
    if len({c[4] for c in cands}) > 1:
        cands = [
            c for c in cands
            if not any(
                o != c[4] and s.label == c[5].label and s.start <= c[5].start and c[5].end <= s.end
                and (s.start, s.end) != (c[5].start, c[5].end)
                for s, o in spans
            )
        ]
    cands.sort(key=lambda c: c[:4], reverse=True)
    chosen: list[tuple[int, int]] = []
    winners: dict[str, list[Suggestion]] = {origin: [] for origin in new}
    seen: set[tuple[int, int]] = set()
    for *_, origin, sug in cands:
        span = (sug.start, sug.end)
        if span in seen or any(a < sug.end and sug.start < b for a, b in chosen):
            continue
        seen.add(span)
        chosen.append(span)
        winners.setdefault(origin, []).append(sug)
    losing = {o for o, n in others.items() if len(winners.get(o, [])) < n}
    return {o: w for o, w in winners.items() if o in new or o in losing}


def _plan(
    new: dict[str, list[Suggestion]],
    existing: list[_Existing],
    labels: set[str],
    priorities: dict[str, int],
) -> tuple[dict[str, list[Suggestion]], dict[str, list[Suggestion]]]:
    """What to write for one document: ``(keep, add)`` per origin.

    ``keep`` lists, for each origin whose stored suggestions must shrink or change, the
    ones it keeps (written with ``replace`` first, so a range can move to another origin);
    ``add`` lists each origin's new ranges. An origin whose suggestions did not change
    appears in neither.
    """
    live = {o: s for o, s in new.items() if s}
    if not existing:  # a first run: nothing stored, nothing to settle but overlaps
        if len(live) <= 1:
            return {}, live
    elif len(new) == 1:  # a rerun of one recogniser that found what it had found before
        ((origin, sugs),) = new.items()
        pending = [e for e in existing if e.state == "pending"]
        if all(e.origin == origin for e in pending) and {
            (e.start, e.end, e.label, e.score) for e in pending
        } == {(x.start, x.end, x.label, x.score) for x in sugs}:
            return {}, {}
    winners = _resolve(new, existing, labels, priorities)
    stored: dict[str, dict[tuple[int, int], tuple[str, float | None]]] = {o: {} for o in winners}
    for e in existing:
        if e.state == "pending" and e.origin in stored:
            stored[e.origin][(e.start, e.end)] = (e.label, e.score)
    keep: dict[str, list[Suggestion]] = {}
    add: dict[str, list[Suggestion]] = {}
    for origin, sugs in winners.items():
        want = {(s.start, s.end): (s.label, s.score) for s in sugs}
        have = stored[origin]
        if any(want.get(r) != v for r, v in have.items()):
            keep[origin] = [Suggestion(r[0], r[1], *want[r]) for r in have if r in want]
        fresh = [s for s in sugs if (s.start, s.end) not in have]
        if fresh:
            add[origin] = fresh
    return keep, add


def _existing_spans(store: "Store", doc_ids: Sequence[int]) -> dict[int, list[_Existing]]:
    out: dict[int, list[_Existing]] = {d: [] for d in doc_ids}
    if not doc_ids:
        return out
    for doc_id, origin, start, end, label, score, state in store.backend.span_decisions(store.annotator, doc_ids):
        out[doc_id].append(_Existing(origin, start, end, label, score, state))
    return out


# -- running -------------------------------------------------------------------------------


def _text_doc(doc_id: int, text: str, lang: str, tokenizer: str | None, blob: bytes | None) -> TextDoc:
    tokens = None
    if blob is not None and tokenizer in (tokenizer_id(lang), "import"):
        tokens = Tokens.from_bytes(blob)
    return TextDoc(text, lang, doc_id, tokens)


def _count(store: "Store", status: str | None, doc_ids: list[int] | None) -> int:
    if doc_ids is not None:
        return len(doc_ids)
    if status == "todo":
        return store.progress()["todo"]
    return store.count_documents()


def run_recognisers(
    store: "Store",
    recognisers: Sequence[Recogniser],
    *,
    status: str | None = "todo",
    doc_ids: Iterable[int] | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    prepare: bool = True,
    batch: int = BATCH,
) -> RunReport:
    """Run ``recognisers`` over the store's documents and store their suggestions.

    ``status="todo"`` visits only documents this annotator has not marked done or
    skipped; ``None`` visits all. ``doc_ids`` restricts the run to those documents.
    Each batch of documents is one write transaction, so a cancelled run keeps what it
    finished and nothing half-written.
    """
    if status not in (None, "todo", "any"):
        raise ValueError(f"unknown status filter {status!r}: use 'todo' or 'any'")
    status = None if status == "any" else status
    started, cpu = time.perf_counter(), time.process_time()
    report = RunReport(suggestions={r.name: 0 for r in recognisers})
    for rec in recognisers:
        reason = rec.unavailable()
        if reason:
            raise RecogniserError(f"recogniser {rec.name!r} cannot run: {reason}")
    if prepare:
        for rec in recognisers:
            rec.prepare(store)
    ids = sorted(set(doc_ids)) if doc_ids is not None else None
    total = _count(store, status, ids)
    labels = {lab.name for lab in store.labels()}
    label_map = load_label_map(store)
    priorities = {r.name: r.priority for r in recognisers}
    after = 0
    remaining = list(ids) if ids is not None else None
    if progress:
        progress(0, total)
    while True:
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        chunk = None
        if remaining is not None:
            chunk, remaining = remaining[:batch], remaining[batch:]
            if not chunk:
                break
        rows = store.backend.documents_with_tokens(
            after, batch, todo_for=store.annotator if status == "todo" else None, ids=chunk
        )
        if not rows:
            if remaining:
                continue
            break
        after = rows[-1][0]
        docs = [_text_doc(*row) for row in rows]
        results = [
            map_suggestions(suggest_for(doc, recognisers), label_map, labels, report.unmapped) for doc in docs
        ]
        with store.transaction():
            # Read inside the transaction: another writer (the app's refresh of one
            # document, a training process's corpus pass) may have settled these
            # documents while the suggestions were computed.
            existing = _existing_spans(store, [d.id for d in docs if d.id is not None])
            # Shrinking or changed suggestions are settled document by document; new ones
            # go to the store in bulk, after every removal, one call per recogniser.
            bulk: dict[str, list[tuple[int, list[Suggestion]]]] = {}
            for doc, new in zip(docs, results):
                assert doc.id is not None
                keep, add = _plan(new, existing[doc.id], labels, priorities)
                for origin, sugs in keep.items():
                    store.add_suggestions(doc.id, sugs, origin, replace=True)
                for origin, sugs in add.items():
                    bulk.setdefault(origin, []).append((doc.id, sugs))
            for origin, items in bulk.items():
                counts = store.add_suggestions_many(items, origin)
                if origin in report.suggestions:
                    report.suggestions[origin] += sum(counts.values())
            for doc in docs:
                if doc.computed_tokens:
                    report.tokenised += 1
                    store.backend.cache_tokens(doc.id, tokenizer_id(doc.lang), doc.tokens.to_bytes())
        report.documents += len(docs)
        if progress:
            progress(report.documents, total)
        if remaining is None and len(rows) < batch:
            break
    report.seconds = time.perf_counter() - started
    report.cpu_seconds = time.process_time() - cpu
    return report


# -- refreshing after an edit --------------------------------------------------------------

_states: dict[tuple[str, str], LexiconState] = {}
_states_lock = threading.Lock()


def _state_key(store: "Store") -> tuple[str, str]:
    path = str(store.path)
    if store.backend.name != "sqlite":
        path = store.url
    elif path == ":memory:":
        path = f":memory:{id(store.backend)}"
    else:
        path = str(store.path.resolve())
    return path, store.annotator


def _shared_state(store: "Store") -> LexiconState:
    key = _state_key(store)
    with _states_lock:
        state = _states.get(key)
        if state is None:
            state = _states[key] = LexiconState(store.annotator)
        return state


def warm_up(store: "Store") -> int:
    """Build the shared propagation lexicon now (call from a worker at start-up).

    Returns the number of entities it knows. Later :func:`refresh_document` calls on any
    store of the same file and annotator only catch up with new events.
    """
    state = _shared_state(store)
    with state.lock:
        state.sync(store)
        return len(state.lexicon)


def refresh_document(
    store: "Store",
    doc_id: int,
    *,
    recognisers: Sequence[Recogniser] | None = None,
) -> RefreshResult:
    """Refresh one document's propagation suggestions after a person's edit.

    Call it right after ``store.add_span`` / ``accept`` / ``relabel_span`` /
    ``delete_span`` / ``undo`` on the visible document: the lexicon catches up with the
    event log (a few spans re-read) and the document's suggestions are replaced by the
    current ones, in one short transaction. Other ``recognisers`` (already prepared) may
    be passed to refresh theirs too. Safe from the event-loop thread; the rest of the
    corpus is :func:`refresh_corpus`'s job, in a worker.
    """
    started = time.perf_counter()
    state = _shared_state(store)
    with state.lock:
        state.sync(store)
        recs: list[Recogniser] = [Propagation(state), CrossScript(state)]
        recs += [r for r in recognisers or () if r.name not in (Propagation.name, CrossScript.name)]
        report = run_recognisers(store, recs, status=None, doc_ids=[doc_id], prepare=False)
    return RefreshResult(doc_id, report.total, time.perf_counter() - started)


def refresh_corpus(
    store: "Store",
    *,
    status: str | None = "todo",
    exclude: Iterable[int] = (),
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> RunReport:
    """Refresh propagation suggestions across the corpus (for a worker thread).

    Uses its own lexicon, built from the store at the start, so the event-loop thread's
    :func:`refresh_document` never waits for it. ``exclude`` skips documents (the one on
    screen, already refreshed).
    """
    skip = set(exclude)
    rec = Propagation()
    rec.prepare(store)
    recs: list[Recogniser] = [rec, CrossScript(rec.state)]
    if not skip:
        return run_recognisers(store, recs, status=status, progress=progress, cancel=cancel,
                               prepare=False)
    every = store.backend.todo_ids(store.annotator) if status == "todo" else store.document_ids()
    ids = [d for d in every if d not in skip]
    return run_recognisers(store, recs, status=None, doc_ids=ids, progress=progress,
                           cancel=cancel, prepare=False)

