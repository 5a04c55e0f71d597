"""What an export writes: which documents, which annotators, which spans, read page by page.

An export is a stream of :class:`ExportItem` records, one per (document, annotator), in
document order. Documents are read :data:`PAGE` at a time with four indexed queries per
page (documents, statuses, spans, cached tokens), so memory stays flat however large the
corpus is. Documents whose tokens are not cached yet are tokenised with the spaCy blank
tokenizer and the tokens are cached, one write transaction per page, so a second export
does not tokenise again.

Selection rules:

* ``status="done"`` (default): every (document, annotator) whose status is ``done``.
* ``status="any"``: every (document, annotator) with a decision or a span: status ``done``
  or ``skipped``, or at least one accepted or rejected span (a rejected suggestion is a
  decision). Pending suggestions count only with ``include_suggestions``.
* ``annotator``: only that annotator. ``labels``: only spans with those labels are written
  (the documents are still written: a done document without such spans is a negative
  example for them).
* Accepted spans are always written; pending suggestions only with ``include_suggestions``,
  apart from the accepted spans, with their origin (``source``) and ``score``. Rejected
  spans are never written.
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable, Iterator

from ..db import write
from ..store import Store
from ..tokenize import Tokens, tokenize, tokenizer_id

__all__ = [
    "EXPORT_STATUSES",
    "ExportItem",
    "ExportSpan",
    "ExportStats",
    "PAGE",
    "Selection",
    "clean_meta",
    "count_documents",
    "iter_items",
    "span_tokens",
    "token_tags",
    "written_tokens",
]

EXPORT_STATUSES = ("done", "any")
PAGE = 500

#: Called after each page: ``(documents_done, documents_total)``.
ExportProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which records an export writes (see the module docstring for the rules)."""

    status: str = "done"
    annotator: str | None = None
    labels: tuple[str, ...] = ()
    include_suggestions: bool = False

    def __post_init__(self) -> None:
        if self.status not in EXPORT_STATUSES:
            raise ValueError(f"unknown export status {self.status!r}: use done or any")


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "documents": self.documents,
            "spans": self.spans,
            "suggestions": self.suggestions,
            "misaligned_spans": self.misaligned,
            "unwritten_spans": self.unwritten,
            "files": self.files,
        }


# -- selection SQL -----------------------------------------------------------------------


def _doc_filter(sel: Selection) -> tuple[str, list[Any]]:
    """SQL condition on ``documents d`` for documents with at least one record to write."""
    ann_sql = " AND annotator = ?" if sel.annotator is not None else ""
    ann_args = [sel.annotator] if sel.annotator is not None else []
    if sel.status == "done":
        return (
            f"EXISTS (SELECT 1 FROM doc_status WHERE doc_id = d.id AND status = 'done'{ann_sql})",
            ann_args,
        )
    states = ["accepted", "rejected"] + (["pending"] if sel.include_suggestions else [])
    marks = ",".join("?" * len(states))
    return (
        "(EXISTS (SELECT 1 FROM doc_status WHERE doc_id = d.id"
        f" AND status IN ('done', 'skipped'){ann_sql})"
        f" OR EXISTS (SELECT 1 FROM spans WHERE doc_id = d.id AND state IN ({marks}){ann_sql}))",
        [*ann_args, *states, *ann_args],
    )


def count_documents(store: Store, sel: Selection) -> int:
    """How many documents the export will visit (for a progress bar)."""
    cond, args = _doc_filter(sel)
    return store.db.conn.execute(f"SELECT count(*) FROM documents d WHERE {cond}", args).fetchone()[0]


def _page_tokens(
    store: Store, rows: list[tuple[Any, ...]], first: int, last: int
) -> dict[int, Tokens]:
    """Cached tokens of a page; missing or stale ones are tokenised and cached in one write."""
    conn = store.db.conn
    cached = {
        doc_id: (tok_id, blob)
        for doc_id, tok_id, blob in conn.execute(
            "SELECT doc_id, tokenizer, offsets FROM doc_tokens WHERE doc_id BETWEEN ? AND ?",
            [first, last],
        )
    }
    out: dict[int, Tokens] = {}
    fresh: list[tuple[int, str, bytes]] = []
    ids: dict[str, str] = {}
    for doc_id, text, _title, lang, *_ in rows:
        want = ids.get(lang) or ids.setdefault(lang, tokenizer_id(lang))
        hit = cached.get(doc_id)
        if hit is not None and (hit[0] == want or hit[0] == "import"):
            out[doc_id] = Tokens.from_bytes(hit[1])
            continue
        toks = tokenize(text, lang)
        out[doc_id] = toks
        fresh.append((doc_id, want, toks.to_bytes()))
    if fresh and not store.read_only:  # a read-only database: the cache just isn't filled
        try:
            with write(store.db):
                conn.executemany(
                    "INSERT OR REPLACE INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)",
                    fresh,
                )
        except sqlite3.OperationalError:
            pass  # a read-only database: the export works, the cache just isn't filled
    return out


def iter_items(
    store: Store,
    sel: Selection | None = None,
    *,
    page: int = PAGE,
    progress: ExportProgress | None = None,
) -> Iterator[ExportItem]:
    """Every (document, annotator) record the selection asks for, in document order."""
    sel = sel or Selection()
    conn = store.db.conn
    cond, cond_args = _doc_filter(sel)
    total = count_documents(store, sel) if progress else 0
    wanted_labels = frozenset(sel.labels)
    suggestions = sel.include_suggestions
    ann_sql = " AND annotator = ?" if sel.annotator is not None else ""
    ann_args = [sel.annotator] if sel.annotator is not None else []
    states = ("accepted", "pending", "rejected") if sel.status == "any" or suggestions else ("accepted",)
    state_marks = ",".join("?" * len(states))
    doc_sql = (
        "SELECT d.id, d.text, d.title, d.lang, d.source, d.line, d.meta FROM documents d"
        f" WHERE d.id > ? AND {cond} ORDER BY d.id LIMIT ?"
    )
    status_sql = f"SELECT doc_id, annotator, status, updated FROM doc_status WHERE doc_id BETWEEN ? AND ?{ann_sql}"
    span_sql = (
        "SELECT doc_id, annotator, start, end, label, state, updated, origin, score FROM spans"
        f" WHERE doc_id BETWEEN ? AND ? AND state IN ({state_marks}){ann_sql}"
    )
    done = 0
    after = 0
    while True:
        rows = conn.execute(doc_sql, [after, *cond_args, page]).fetchall()
        if not rows:
            return
        first, last = rows[0][0], rows[-1][0]
        after = last
        statuses: dict[int, dict[str, tuple[str, str]]] = {}
        for doc_id, annotator, status, updated in conn.execute(status_sql, [first, last, *ann_args]):
            statuses.setdefault(doc_id, {})[annotator] = (status, updated)
        spans: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
        owners: dict[int, list[str]] = {}  # doc id -> annotators with spans in it
        for row in conn.execute(span_sql, [first, last, *states, *ann_args]):
            key = (row[0], row[1])
            own = spans.get(key)
            if own is None:
                spans[key] = own = []
                owners.setdefault(row[0], []).append(row[1])
            own.append(row)
        tokens = _page_tokens(store, rows, first, last)
        for doc_id, text, title, lang, source, line, meta in rows:
            doc_status = statuses.get(doc_id, {})
            doc_spans = {a: spans[(doc_id, a)] for a in owners.get(doc_id, ())} if sel.status == "any" else {}
            for annotator in _annotators(sel, doc_status, doc_spans):
                status, updated = doc_status.get(annotator, _TODO)
                accepted: list[ExportSpan] = []
                pending: list[ExportSpan] = []
                own = spans.get((doc_id, annotator))
                if own:
                    own.sort(key=_START_END)
                    for _d, _a, start, end, label, state, sp_updated, origin, score in own:
                        if sp_updated > updated:
                            updated = sp_updated
                        if wanted_labels and label not in wanted_labels:
                            continue
                        if state == "accepted":
                            accepted.append(ExportSpan(start, end, label, origin, score))
                        elif state == "pending" and suggestions:
                            pending.append(ExportSpan(start, end, label, origin, score))
                yield ExportItem(
                    doc_id, text, title, lang, source, line,
                    json.loads(meta) if meta and meta != "{}" else {},
                    tokens[doc_id], annotator, status, updated, accepted, pending,
                )
        done += len(rows)
        if progress:
            progress(done, total)


_TODO = ("todo", "")
_START_END = itemgetter(2, 3)


def _annotators(
    sel: Selection,
    doc_status: dict[str, tuple[str, str]],
    doc_spans: dict[str, list[tuple[Any, ...]]],
) -> list[str]:
    """The annotators of one document that get a record, by name (``doc_spans`` only for ``any``)."""
    if sel.status == "done":
        names = [a for a, (status, _) in doc_status.items() if status == "done"]
        return names if len(names) < 2 else sorted(names)
    found = {a for a, (status, _) in doc_status.items() if status in ("done", "skipped")}
    for annotator, rows in doc_spans.items():
        if any(r[5] in ("accepted", "rejected") or sel.include_suggestions for r in rows):
            found.add(annotator)
    return sorted(found)


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
        first, last, aligned = span_tokens(item.tokens, sp.start, sp.end)
        kept = [position[t] for t in range(first, last + 1) if t in position]
        if not kept:
            stats.unwritten += 1
            continue
        if not aligned:
            stats.misaligned += 1
        tags[kept[0]] = f"B-{sp.label}"
        for pos in kept[1:]:
            tags[pos] = f"I-{sp.label}"
        stats.spans += 1
    return tags
