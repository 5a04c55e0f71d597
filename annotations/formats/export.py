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
    for doc_id, text, _title, lang, *_ in rows:
        hit = cached.get(doc_id)
        if hit is not None and hit[0] in (tokenizer_id(lang), "import"):
            out[doc_id] = Tokens.from_bytes(hit[1])
            continue
        toks = tokenize(text, lang)
        out[doc_id] = toks
        fresh.append((doc_id, tokenizer_id(lang), toks.to_bytes()))
    if fresh:
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
    wanted_labels = set(sel.labels)
    ann_sql = " AND annotator = ?" if sel.annotator is not None else ""
    ann_args = [sel.annotator] if sel.annotator is not None else []
    states = ("accepted", "pending", "rejected") if sel.status == "any" or sel.include_suggestions else ("accepted",)
    state_marks = ",".join("?" * len(states))
    done = 0
    after = 0
    while True:
        rows = conn.execute(
            "SELECT d.id, d.text, d.title, d.lang, d.source, d.line, d.meta FROM documents d"
            f" WHERE d.id > ? AND {cond} ORDER BY d.id LIMIT ?",
            [after, *cond_args, page],
        ).fetchall()
        if not rows:
            return
        first, last = rows[0][0], rows[-1][0]
        after = last
        statuses: dict[int, dict[str, tuple[str, str]]] = {}
        for doc_id, annotator, status, updated in conn.execute(
            "SELECT doc_id, annotator, status, updated FROM doc_status"
            f" WHERE doc_id BETWEEN ? AND ?{ann_sql}",
            [first, last, *ann_args],
        ):
            statuses.setdefault(doc_id, {})[annotator] = (status, updated)
        spans: dict[int, dict[str, list[tuple[Any, ...]]]] = {}
        for row in conn.execute(
            "SELECT doc_id, annotator, start, end, label, origin, state, score, updated FROM spans"
            f" WHERE doc_id BETWEEN ? AND ? AND state IN ({state_marks}){ann_sql}"
            " ORDER BY doc_id, annotator, start, end",
            [first, last, *states, *ann_args],
        ):
            spans.setdefault(row[0], {}).setdefault(row[1], []).append(row)
        tokens = _page_tokens(store, rows, first, last)
        for doc_id, text, title, lang, source, line, meta in rows:
            doc_status = statuses.get(doc_id, {})
            doc_spans = spans.get(doc_id, {})
            for annotator in _annotators(sel, doc_status, doc_spans):
                status, updated = doc_status.get(annotator, ("todo", ""))
                item = ExportItem(
                    doc_id=doc_id, text=text, title=title, lang=lang, source=source, line=line,
                    meta=json.loads(meta) if meta and meta != "{}" else {},
                    tokens=tokens[doc_id], annotator=annotator, status=status, updated=updated,
                )
                for _d, _a, start, end, label, origin, state, score, sp_updated in doc_spans.get(annotator, ()):
                    if sp_updated > item.updated:
                        item.updated = sp_updated
                    if wanted_labels and label not in wanted_labels:
                        continue
                    if state == "accepted":
                        item.spans.append(ExportSpan(start, end, label, origin, score))
                    elif state == "pending" and sel.include_suggestions:
                        item.suggestions.append(ExportSpan(start, end, label, origin, score))
                yield item
        done += len(rows)
        if progress:
            progress(done, total)


def _annotators(
    sel: Selection,
    doc_status: dict[str, tuple[str, str]],
    doc_spans: dict[str, list[tuple[Any, ...]]],
) -> list[str]:
    """The annotators of one document that get a record, by name."""
    if sel.status == "done":
        return sorted(a for a, (status, _) in doc_status.items() if status == "done")
    names = {a for a, (status, _) in doc_status.items() if status in ("done", "skipped")}
    for annotator, rows in doc_spans.items():
        if any(r[6] in ("accepted", "rejected") or sel.include_suggestions for r in rows):
            names.add(annotator)
    return sorted(names)


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
