"""Export: the keyset page reads and token-cache writes of ``annotations.formats.export``, shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`. An export walks the documents in id
order, :data:`~annotations.formats.export.PAGE` at a time (``d.id > ?  ORDER BY d.id
LIMIT ?``: flat memory on any backend, whatever the corpus size), and reads what the
page's records need with one range query per table (``doc_id BETWEEN first AND last``).
Which documents may hold a record is an :class:`ExportFilter` (built from the export's
``Selection``); the rules themselves are the export's (see its module docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .sql_common import marks as _marks

__all__ = ["ExportFilter", "ExportQueries"]


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """Which documents an export visits.

    ``every``: all documents (a todo record can be any document's). Otherwise those with a
    status in ``decided`` (of ``annotator``, if one is named), and, with ``span_states``,
    those holding a span in one of those states (work in progress).
    """

    decided: tuple[str, ...] = ("done",)
    every: bool = False
    span_states: tuple[str, ...] = ()
    annotator: str | None = None


_STATUS_ROWS = "SELECT doc_id, annotator, status, updated FROM doc_status WHERE doc_id BETWEEN ? AND ?"
_SPAN_ROWS = (
    'SELECT doc_id, annotator, start, "end", label, state, updated, origin, score FROM spans'
    " WHERE doc_id BETWEEN ? AND ? AND state IN ({states}){annotator}"
    ' ORDER BY doc_id, annotator, start, "end", id'
)
_IMPORT_ROWS = (
    "SELECT doc_id, annotator, answer, fingerprint, prodigy FROM import_records WHERE doc_id BETWEEN ? AND ?"
)
_TOKEN_ROWS = "SELECT doc_id, tokenizer, offsets, prodigy FROM doc_tokens WHERE doc_id BETWEEN ? AND ?"
_PUT_TOKENS = (
    "INSERT INTO doc_tokens (doc_id, tokenizer, offsets, prodigy) VALUES (?,?,?,?)"
    " ON CONFLICT (doc_id) DO UPDATE SET tokenizer = excluded.tokenizer, offsets = excluded.offsets,"
    " prodigy = excluded.prodigy"
)
_PUT_ENTRY = "UPDATE doc_tokens SET prodigy = ? WHERE doc_id = ?"


class ExportQueries:
    """What an export reads, page by page, and the token cache it fills."""

    def _export_condition(self, f: ExportFilter) -> tuple[str, list[Any]]:
        """SQL condition on ``documents d`` for the documents ``f`` lets through."""
        if f.every:
            return "1 = 1", []
        ann_sql = " AND annotator = ?" if f.annotator is not None else ""
        ann_args = [f.annotator] if f.annotator is not None else []
        cond = (
            "EXISTS (SELECT 1 FROM doc_status WHERE doc_id = d.id"
            f" AND status IN ({_marks(len(f.decided))}){ann_sql})"
        ) if f.decided else "1 = 0"
        args: list[Any] = [*f.decided, *ann_args]
        if not f.span_states:
            return cond, args
        return (
            f"({cond} OR EXISTS (SELECT 1 FROM spans WHERE doc_id = d.id"
            f" AND state IN ({_marks(len(f.span_states))}){ann_sql}))",
            [*args, *f.span_states, *ann_args],
        )

    def export_count(self, f: ExportFilter) -> int:
        """How many documents the export will visit (for a progress bar)."""
        cond, args = self._export_condition(f)
        return int(self.value(f"SELECT count(*) FROM documents d WHERE {cond}", args, 0))

    def export_has_more(self, f: ExportFilter, after: int, n: int) -> bool:
        """Whether at least ``n`` documents of the export follow ``after`` (stops counting at ``n``)."""
        cond, args = self._export_condition(f)
        sql = f"SELECT count(*) FROM (SELECT 1 FROM documents d WHERE d.id > ? AND {cond} LIMIT ?) AS more"
        return int(self.value(sql, [after, *args, n], 0)) >= n

    def export_documents(self, f: ExportFilter, after: int, limit: int) -> list[tuple[Any, ...]]:
        """``(id, text, title, lang, source, line, meta)`` of the next ``limit`` documents past ``after``."""
        cond, args = self._export_condition(f)
        return self.all(
            "SELECT d.id, d.text, d.title, d.lang, d.source, d.line, d.meta FROM documents d"
            f" WHERE d.id > ? AND {cond} ORDER BY d.id LIMIT ?",
            [after, *args, limit],
        )

    def export_statuses(self, first: int, last: int, annotator: str | None) -> Iterable[tuple[Any, ...]]:
        """``(doc_id, annotator, status, updated)`` of the documents ``first``..``last``."""
        if annotator is None:
            return self.execute(_STATUS_ROWS, [first, last])
        return self.execute(_STATUS_ROWS + " AND annotator = ?", [first, last, annotator])

    def export_spans(
        self, first: int, last: int, states: Sequence[str], annotator: str | None
    ) -> Iterable[tuple[Any, ...]]:
        """``(doc_id, annotator, start, end, label, state, updated, origin, score)`` of the spans in
        ``states`` of the documents ``first``..``last``, by document, annotator, start, end and id."""
        sql = _SPAN_ROWS.format(states=_marks(len(states)), annotator=" AND annotator = ?" if annotator is not None else "")
        args = [first, last, *states] + ([annotator] if annotator is not None else [])
        return self.execute(sql, args)

    def export_import_records(self, first: int, last: int, annotator: str | None) -> Iterable[tuple[Any, ...]]:
        """``(doc_id, annotator, answer, fingerprint, prodigy)`` of the documents ``first``..``last``."""
        if annotator is None:
            return self.execute(_IMPORT_ROWS, [first, last])
        return self.execute(_IMPORT_ROWS + " AND annotator = ?", [first, last, annotator])

    def export_tokens(self, first: int, last: int) -> Iterable[tuple[Any, ...]]:
        """``(doc_id, tokenizer, offsets, prodigy)`` cached for the documents ``first``..``last``
        (``prodigy``: the JSONL parts, :mod:`annotations.tokenize_prodigy`, or None)."""
        return self.execute(_TOKEN_ROWS, [first, last])

    def export_cache_tokens(
        self, rows: Sequence[tuple[int, str, bytes, bytes | None]], entries: Sequence[tuple[bytes, int]] = ()
    ) -> None:
        """Cache one page's new tokens, ``(doc_id, tokenizer, offsets, prodigy)``, and the JSONL
        parts made for tokens cached without them, ``(prodigy, doc_id)``: one short write transaction."""
        with self.write():
            if rows:
                self.executemany(_PUT_TOKENS, rows)
            if entries:
                self.executemany(_PUT_ENTRY, entries)
