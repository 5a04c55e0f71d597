"""What an export writes: which documents, which annotators, which spans, read page by page.

An export is a stream of :class:`ExportItem` records, one per (document, annotator), in
document order. Documents are read :data:`PAGE` at a time (keyset pages) with five
indexed range queries per page (documents, statuses, spans, import records, cached tokens),
so memory stays flat however large the corpus is, on SQLite and PostgreSQL alike: the
queries are the backend's (``annotations/store/sql_export.py``). Documents whose tokens
are not cached yet are tokenised with the spaCy blank tokenizer (in two tokenising
processes for a large export) and the tokens are cached, one write transaction per page,
so a second export does not tokenise again. A JSONL export also caches each document's
part of its lines, serialised once (:mod:`annotations.tokenize_prodigy`): a later JSONL
export assembles lines from stored bytes.

Selection rules (README "Export"):

* Records are (document, annotator) pairs. A document's annotators are those with a status
  or an accepted or rejected span in it (pending suggestions too with
  ``include_suggestions``); a document nobody has worked on is one ``todo`` record of the
  exporting annotator. ``annotator`` names the one annotator whose record every document
  gets (their status, ``todo`` if they have none).
* ``status``: one of :data:`EXPORT_STATUSES` or a tuple of them: ``done`` (default),
  ``skipped``, ``todo``, ``all`` (= all three). ``any`` (older name) is ``done`` and
  ``skipped`` plus ``todo`` records that hold a span (work in progress).
* ``labels``: only spans with those labels are written (the documents are still written:
  a done document without such spans is a negative example for them).
* Accepted spans are always written; pending suggestions only with ``include_suggestions``,
  apart from the accepted spans, with their origin (``source``) and ``score``. Rejected
  spans are never written.
* ``misaligned``: one policy for spans that do not fall on token boundaries, the same in
  every format (:data:`MISALIGNED`): ``expand`` (default) widens the span to the tokens it
  touches, ``drop`` leaves it out, ``error`` stops the export (:class:`MisalignedSpan`).
  Either way it is counted in ``ExportStats.misaligned``; a span that touches no token, or
  that overlaps the span before it once widened, is left out and counted in
  ``ExportStats.unwritten``. So every format writes the same spans, and JSONL's
  ``token_start``/``token_end`` always match the written offsets.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..db import ReadOnlyError
from ..store import Store
from ..store.sql_export import ExportFilter
from ..tokenize import Tokens, tokenize, tokenizer_id
from ..tokenize_prodigy import cache_entry, entry_parts

__all__ = [
    "EXPORT_STATUSES",
    "MISALIGNED",
    "ExportItem",
    "ExportSpan",
    "ExportStats",
    "MisalignedSpan",
    "PAGE",
    "Selection",
    "clean_meta",
    "count_documents",
    "iter_items",
    "span_tokens",
    "token_tags",
    "written_tokens",
]

#: What ``--status`` selects: a record's status, ``all`` three, or ``any`` (see above).
EXPORT_STATUSES = ("done", "skipped", "todo", "all", "any")
RECORD_STATUSES = ("done", "skipped", "todo")
#: What an export does with a span off token boundaries (see above).
MISALIGNED = ("expand", "drop", "error")
PAGE = 500

#: Called after each page: ``(documents_done, documents_total)``.
ExportProgress = Callable[[int, int], None]


class MisalignedSpan(ValueError):
    """A span off token boundaries in an export with ``misaligned="error"``."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which records an export writes (see the module docstring for the rules)."""

    status: str | tuple[str, ...] = "done"
    annotator: str | None = None
    labels: tuple[str, ...] = ()
    include_suggestions: bool = False
    misaligned: str = "expand"

    def __post_init__(self) -> None:
        given = (self.status,) if isinstance(self.status, str) else tuple(self.status)
        for name in given or ("",):
            if name not in EXPORT_STATUSES:
                raise ValueError(f"unknown export status {name!r}: use one of {', '.join(EXPORT_STATUSES)}")
        if self.misaligned not in MISALIGNED:
            raise ValueError(f"unknown misaligned-span policy {self.misaligned!r}: use one of {', '.join(MISALIGNED)}")

    @property
    def statuses(self) -> frozenset[str]:
        """The record statuses written (``any`` counts as done and skipped here)."""
        given = (self.status,) if isinstance(self.status, str) else tuple(self.status)
        out: set[str] = set()
        for name in given:
            out |= set(RECORD_STATUSES) if name == "all" else {"done", "skipped"} if name == "any" else {name}
        return frozenset(out)

    @property
    def work_in_progress(self) -> bool:
        """``any``: todo records that hold a span are written too."""
        given = (self.status,) if isinstance(self.status, str) else tuple(self.status)
        return "any" in given and "todo" not in self.statuses


@dataclass(frozen=True, slots=True)
class ExportSpan:
    """A span as exported: offsets, label, where it came from and (suggestions) its score."""

    start: int
    end: int
    label: str
    origin: str
    score: float | None = None


@dataclass(slots=True)
class ExportItem:
    """One (document, annotator) record: the document, its tokens and that annotator's spans."""

    doc_id: int
    text: str
    title: str
    lang: str
    source: str
    line: int | None
    meta: dict[str, Any]
    tokens: Tokens
    annotator: str
    status: str
    updated: str
    spans: list[ExportSpan] = field(default_factory=list)
    suggestions: list[ExportSpan] = field(default_factory=list)
    #: As imported, if the record came from a Prodigy file: ``(answer, fingerprint, prodigy keys JSON)``.
    imported: tuple[str | None, str, str] | None = None
    #: The document's cached JSONL parts, ``(input hash, text JSON, tokens JSON)`` as UTF-8
    #: (JSONL exports only; see :mod:`annotations.tokenize_prodigy`).
    prodigy: tuple[int, Any, Any] | None = None


@dataclass
class ExportStats:
    """What an export wrote, for the command line to print."""

    records: int = 0
    documents: int = 0
    spans: int = 0
    suggestions: int = 0
    misaligned: int = 0
    unwritten: int = 0
    files: list[str] = field(default_factory=list)
    #: What the export did to its target that a person should hear about (a folder replaced...).
    notes: list[str] = field(default_factory=list)
    #: Records written without any entity (negative examples).
    negatives: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "documents": self.documents,
            "spans": self.spans,
            "suggestions": self.suggestions,
            "misaligned_spans": self.misaligned,
            "unwritten_spans": self.unwritten,
            "negatives": self.negatives,
            "files": self.files,
        }


# -- which documents ------------------------------------------------------------------------


def export_filter(sel: Selection) -> ExportFilter:
    """The documents that may have a record to write (the backend's query reads them)."""
    decided = tuple(sorted(sel.statuses & {"done", "skipped"}))
    if "todo" in sel.statuses:
        return ExportFilter(decided, every=True, annotator=sel.annotator)  # decided per document
    states = ("accepted", "rejected") + (("pending",) if sel.include_suggestions else ())
    return ExportFilter(decided, span_states=states if sel.work_in_progress else (), annotator=sel.annotator)


def count_documents(store: Store, sel: Selection) -> int:
    """How many documents the export will visit (for a progress bar)."""
    return store.backend.export_count(export_filter(sel))


#: What tokenising one document gives: its token blob, and with ``prodigy`` its cached JSONL parts.
Tokenised = tuple[bytes, "bytes | None"]


def _tokenize_here(texts: list[tuple[str, str]], prodigy: bool = False) -> list[Tokenised]:
    """Token blobs (and, with ``prodigy``, cache entries) of ``(text, lang)`` pairs, made in this process."""
    blobs = [tokenize(text, lang).to_bytes() for text, lang in texts]
    if not prodigy:
        return [(blob, None) for blob in blobs]
    return [(blob, cache_entry(text, blob)) for (text, _lang), blob in zip(texts, blobs)]


class _Tokeniser:
    """Tokenises the documents an export finds without cached tokens.

    A small export tokenises in this process (it does not pay for starting another). When
    at least :data:`INLINE` more documents follow (``more()`` says), or once this process
    has tokenised that many, the work goes to :data:`WORKERS` tokenising processes
    (:class:`~annotations.tokenize_worker.TokenWorker`), pages handed to them in turn, so
    it runs on the other core(s) while this process reads the database and writes the
    output; pages are handed over one ahead (see :func:`iter_items`). A JSONL export also
    has them serialise each document's part of its lines (``prodigy``, see
    :mod:`annotations.tokenize_prodigy`). If a process cannot be started or dies,
    tokenising goes on here: the tokens are the same either way.
    """

    INLINE = 1_000
    WORKERS = 2

    def __init__(self, prodigy: bool = False) -> None:
        self.prodigy = prodigy
        self.inline = 0
        self.asked = False
        self.workers: list[Any] = []
        self.turn = 0
        self.broken = False

    def submit(self, texts: list[tuple[str, str]], more: Callable[[int], bool]) -> Callable[[], list[Tokenised]]:
        """Start tokenising ``(text, lang)`` pairs; returns what waits for their results.

        ``more(n)``: whether at least ``n`` documents follow these (asked once). The
        callables returned must be called in the order they were returned.
        """
        if not texts:
            return list
        if not self.workers and not self.broken and (self.inline >= self.INLINE or self._big(more)):
            from ..tokenize_worker import TokenWorker, WorkerGone

            for _ in range(self.WORKERS):
                try:
                    self.workers.append(TokenWorker())
                except WorkerGone:
                    break
            self.broken = not self.workers
        if self.workers:
            worker = self.workers[self.turn % len(self.workers)]
            self.turn += 1
            try:
                worker.submit(texts, self.prodigy)
            except Exception:
                self._stop()
            else:
                return lambda: self._result(worker, texts)
        self.inline += len(texts)
        done = _tokenize_here(texts, self.prodigy)
        return lambda: done

    def _big(self, more: Callable[[int], bool]) -> bool:
        if self.asked:
            return False
        self.asked = True
        return more(self.INLINE)

    def _result(self, worker: Any, texts: list[tuple[str, str]]) -> list[Tokenised]:
        if not self.broken:
            try:
                answer = worker.result()
                return answer if self.prodigy else [(blob, None) for blob in answer]
            except Exception:  # the process ended (killed, out of memory): this page is done here
                self._stop()
        return _tokenize_here(texts, self.prodigy)

    def _stop(self) -> None:
        """A process failed: every page still out is tokenised here, and no more go out."""
        self.broken = True
        self.close()

    def close(self) -> None:
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.close()


@dataclass(slots=True)
class _Page:
    """One page of documents read ahead: rows, statuses, spans, import records, tokens."""

    rows: list[tuple[Any, ...]]
    statuses: dict[int, dict[str, tuple[str, str]]]
    spans: dict[tuple[int, str], list[tuple[Any, ...]]]
    owners: dict[int, list[str]]
    imported: dict[tuple[int, str], tuple[str | None, str, str]]
    tokens: dict[int, Tokens]
    #: Documents' cached JSONL parts (JSONL exports): ``(input hash, text JSON, tokens JSON)``.
    parts: dict[int, tuple[int, Any, Any]]
    #: Cache entries made for documents whose tokens were cached without one: ``(entry, doc id)``.
    entries: list[tuple[bytes, int]]
    #: Documents being tokenised: ``(doc ids, their tokenizer ids, what waits for the results)``.
    fresh: tuple[list[int], list[str], Callable[[], list[Tokenised]]] | None


def _cache_tokens(store: Store, fresh: list[tuple[int, str, bytes, bytes | None]],
                  entries: list[tuple[bytes, int]]) -> None:
    """Write one page's new tokens (and cache entries) to the cache: one short write transaction."""
    if (not fresh and not entries) or store.read_only:  # a read-only database: the cache just isn't filled
        return
    backend = store.backend
    try:
        backend.export_cache_tokens(fresh, entries)
    except (ReadOnlyError, backend.DatabaseError):
        pass  # read-only, locked past the busy timeout, a document deleted meanwhile: the export works, the cache just isn't filled


def iter_items(
    store: Store,
    sel: Selection | None = None,
    *,
    page: int = PAGE,
    progress: ExportProgress | None = None,
    stats: ExportStats | None = None,
    prodigy: bool = False,
) -> Iterator[ExportItem]:
    """Every (document, annotator) record the selection asks for, in document order.

    ``prodigy`` (the JSONL export): each item also carries its document's cached JSONL parts
    (``ExportItem.prodigy``), made and cached with the tokens where they are missing.

    Spans off token boundaries are handled by ``sel.misaligned`` and counted into ``stats``.
    Pages are read one ahead: while the records of one page are being written, the next
    page's documents without cached tokens are being tokenised (in a worker process once
    there are many, see :class:`_Tokeniser`); each page's new tokens are cached in a
    short write transaction of its own.
    """
    sel = sel or Selection()
    stats = stats if stats is not None else ExportStats()
    tokeniser = _Tokeniser(prodigy)
    try:
        pending: _Page | None = None
        done = 0
        total = count_documents(store, sel) if progress else 0
        for ahead in _read_pages(store, sel, page, tokeniser):
            if pending is not None:
                yield from _page_items(store, sel, pending, stats)
                done += len(pending.rows)
                if progress:
                    progress(done, total)
            pending = ahead
        if pending is not None:
            yield from _page_items(store, sel, pending, stats)
            done += len(pending.rows)
            if progress:
                progress(done, total)
    finally:
        tokeniser.close()


def _read_pages(store: Store, sel: Selection, page: int, tokeniser: _Tokeniser) -> Iterator[_Page]:
    """The selection's documents, ``page`` at a time by id (keyset pagination), with what
    their records need; documents without cached tokens are handed to ``tokeniser``."""
    backend = store.backend
    flt = export_filter(sel)
    by_spans = "todo" in sel.statuses or sel.work_in_progress
    states = ("accepted", "pending", "rejected") if by_spans or sel.include_suggestions else ("accepted",)
    annotator = sel.annotator
    ids: dict[str, str] = {}
    after = 0

    while True:
        rows = backend.export_documents(flt, after, page)
        if not rows:
            return
        first, last = rows[0][0], rows[-1][0]
        after = last
        statuses: dict[int, dict[str, tuple[str, str]]] = {}
        for doc_id, who, status, updated in backend.export_statuses(first, last, annotator):
            statuses.setdefault(doc_id, {})[who] = (status, updated)
        spans: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
        owners: dict[int, list[str]] = {}  # doc id -> annotators with spans in it
        for row in backend.export_spans(first, last, states, annotator):
            key = (row[0], row[1])
            own = spans.get(key)
            if own is None:
                spans[key] = own = []
                owners.setdefault(row[0], []).append(row[1])
            own.append(row)
        imported = {
            (doc_id, who): (answer, fingerprint, prodigy)
            for doc_id, who, answer, fingerprint, prodigy in backend.export_import_records(first, last, annotator)
        }
        cached = {doc_id: (tok_id, blob, entry) for doc_id, tok_id, blob, entry in backend.export_tokens(first, last)}
        tokens: dict[int, Tokens] = {}
        parts: dict[int, tuple[int, Any, Any]] = {}
        entries: list[tuple[bytes, int]] = []
        missing: list[int] = []
        missing_ids: list[str] = []
        texts: list[tuple[str, str]] = []
        prodigy = tokeniser.prodigy
        for doc_id, text, _title, lang, *_ in rows:
            want = ids.get(lang) or ids.setdefault(lang, tokenizer_id(lang))
            hit = cached.get(doc_id)
            if hit is not None and (hit[0] == want or hit[0] == "import"):
                blob = hit[1]
                tokens[doc_id] = Tokens.from_bytes(blob)
                if prodigy:
                    got = entry_parts(hit[2], blob)
                    if got is None:  # tokens cached without their JSONL parts (or before they changed)
                        entry = cache_entry(text, bytes(blob))
                        entries.append((entry, doc_id))
                        got = entry_parts(entry, blob)
                    parts[doc_id] = got  # type: ignore[assignment]
            else:
                missing.append(doc_id)
                missing_ids.append(want)
                texts.append((text, lang))
        fresh = (missing, missing_ids, tokeniser.submit(texts, lambda n: backend.export_has_more(flt, last, n))) if missing else None
        yield _Page(rows, statuses, spans, owners, imported, tokens, parts, entries, fresh)


def _page_items(store: Store, sel: Selection, pg: _Page, stats: ExportStats) -> Iterator[ExportItem]:
    """The records of one page (its tokens first waited for and cached)."""
    tokens, parts = pg.tokens, pg.parts
    new: list[tuple[int, str, bytes, bytes | None]] = []
    if pg.fresh is not None:
        doc_ids, tok_ids, result = pg.fresh
        for doc_id, tok_id, (blob, entry) in zip(doc_ids, tok_ids, result()):
            tokens[doc_id] = Tokens.from_bytes(blob)
            if entry is not None:
                parts[doc_id] = entry_parts(entry, blob)  # type: ignore[assignment]
            new.append((doc_id, tok_id, blob, entry))
    _cache_tokens(store, new, pg.entries)
    wanted = sel.statuses
    wanted_labels = frozenset(sel.labels)
    suggestions = sel.include_suggestions
    by_spans = "todo" in wanted or sel.work_in_progress
    policy = sel.misaligned
    default_annotator = sel.annotator or store.annotator
    statuses, spans, owners, imported = pg.statuses, pg.spans, pg.owners, pg.imported
    for doc_id, text, title, lang, source, line, meta in pg.rows:
        doc_status = statuses.get(doc_id, {})
        doc_spans = {a: spans[(doc_id, a)] for a in owners.get(doc_id, ())} if by_spans else {}
        doc_tokens = tokens[doc_id]
        for annotator in _annotators(sel, wanted, doc_status, doc_spans, default_annotator):
            status, updated = doc_status.get(annotator, _TODO)
            accepted: list[ExportSpan] = []
            pending: list[ExportSpan] = []
            own = spans.get((doc_id, annotator))
            if own:
                for _d, _a, start, end, label, state, sp_updated, origin, score in own:
                    if sp_updated > updated:
                        updated = sp_updated
                    if wanted_labels and label not in wanted_labels:
                        continue
                    if state == "accepted":
                        accepted.append(ExportSpan(start, end, label, origin, score))
                    elif state == "pending" and suggestions:
                        pending.append(ExportSpan(start, end, label, origin, score))
            if accepted:
                accepted = align_spans(doc_tokens, accepted, policy, stats, doc_id)
            if pending:
                pending = align_spans(doc_tokens, pending, policy, stats, doc_id, overlaps=True)
            if not accepted:
                stats.negatives += 1
            yield ExportItem(
                doc_id, text, title, lang, source, line,
                json.loads(meta) if meta and meta != "{}" else {},
                doc_tokens, annotator, status, updated, accepted, pending,
                imported.get((doc_id, annotator)), parts.get(doc_id),
            )


_TODO = ("todo", "")


def align_spans(
    tokens: Tokens, spans: list[ExportSpan], policy: str, stats: ExportStats, doc_id: int,
    *, overlaps: bool = False,
) -> list[ExportSpan]:
    """``spans`` (sorted) on token boundaries by ``policy`` (see :data:`MISALIGNED`);
    ``overlaps``: they may overlap (suggestions), else a widened span never overlaps the one before."""
    starts, ends = tokens.starts, tokens.ends
    out: list[ExportSpan] = []
    for sp in spans:
        first, last, aligned = span_tokens(tokens, sp.start, sp.end)
        if not aligned:
            stats.misaligned += 1
            if policy == "error":
                raise MisalignedSpan(
                    f"document {doc_id}: span {sp.start}-{sp.end} ({sp.label}) is not on token boundaries"
                    " (use --misaligned expand or drop)"
                )
            if policy == "drop" or first > last:
                if first > last:
                    stats.unwritten += 1
                continue
            sp = ExportSpan(starts[first], ends[last], sp.label, sp.origin, sp.score)
        if not overlaps and out and sp.start < out[-1].end:
            stats.unwritten += 1  # widened onto the span before it
            continue
        out.append(sp)
    return out


def _annotators(
    sel: Selection,
    wanted: frozenset[str],
    doc_status: dict[str, tuple[str, str]],
    doc_spans: dict[str, list[tuple[Any, ...]]],
    default_annotator: str,
) -> list[str]:
    """The annotators of one document that get a record, by name (``doc_spans`` only when todo counts)."""
    if sel.annotator is not None:
        status = doc_status.get(sel.annotator, _TODO)[0]
        if status in wanted:
            return [sel.annotator]
        if sel.work_in_progress and status == "todo" and _worked(doc_spans.get(sel.annotator), sel):
            return [sel.annotator]
        return []
    if not doc_spans and "todo" not in wanted and not sel.work_in_progress:
        names = [a for a, (status, _) in doc_status.items() if status in wanted]
        return names if len(names) < 2 else sorted(names)
    found = set()
    touched = set(doc_status)
    for annotator, rows in doc_spans.items():
        if _worked(rows, sel):
            touched.add(annotator)
    if not touched:
        touched = {default_annotator}
    for annotator in touched:
        status = doc_status.get(annotator, _TODO)[0]
        if status in wanted or (sel.work_in_progress and status == "todo" and _worked(doc_spans.get(annotator), sel)):
            found.add(annotator)
    return sorted(found)


def _worked(rows: list[tuple[Any, ...]] | None, sel: Selection) -> bool:
    """Whether an annotator's spans of a document are work of theirs (a suggestion only with suggestions)."""
    return bool(rows) and any(r[5] in ("accepted", "rejected") or sel.include_suggestions for r in rows)


#: Keys a Prodigy row brings into ``meta`` on import that are the record's own, not metadata.
_BOOKKEEPING = frozenset({"answer", "suggestions", "spans", "tokens", "text", "meta"})


def clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """A document's stored meta without Prodigy bookkeeping (``_input_hash``, ``answer``...)."""
    return {k: v for k, v in meta.items() if not k.startswith("_") and k not in _BOOKKEEPING}


# -- tokens --------------------------------------------------------------------------------


def span_tokens(tokens: Tokens, start: int, end: int) -> tuple[int, int, bool]:
    """``(token_start, token_end, aligned)`` of a span; token_end inclusive.

    A span that does not fall on token boundaries is widened to the tokens it touches
    (``aligned`` is then False). ``token_start > token_end`` means it touches no token.
    """
    first = bisect_right(tokens.ends, start)
    last = bisect_left(tokens.starts, end) - 1
    aligned = (
        first <= last and tokens.starts[first] == start and tokens.ends[last] == end
    )
    return first, last, aligned


def written_tokens(text: str, tokens: Tokens) -> list[int]:
    """Indices of the tokens that formats without whitespace tokens write (CoNLL, HF)."""
    return [
        i for i, (s, e) in enumerate(zip(tokens.starts, tokens.ends)) if not text[s:e].isspace()
    ]


def token_tags(item: ExportItem, keep: list[int], stats: ExportStats) -> list[str]:
    """IOB2 tags of the kept tokens ``keep`` (indices into ``item.tokens``) from the accepted spans."""
    position = {tok: pos for pos, tok in enumerate(keep)}
    tags = ["O"] * len(keep)
    for sp in item.spans:
        first, last, _aligned = span_tokens(item.tokens, sp.start, sp.end)  # aligned by iter_items
        kept = [position[t] for t in range(first, last + 1) if t in position]
        if not kept:
            stats.unwritten += 1
            continue
        tags[kept[0]] = f"B-{sp.label}"
        for pos in kept[1:]:
            tags[pos] = f"I-{sp.label}"
        stats.spans += 1
    return tags
