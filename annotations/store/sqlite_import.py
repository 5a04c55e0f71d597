"""Imports on SQLite: the staging file is attached, and each batch is ``INSERT ... SELECT``.

A mixin of :class:`~annotations.store.sqlite_backend.SQLiteBackend` (see :mod:`.sql_import`).
An import that runs holds ``flock`` on its staging file, beside the database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterator

from .sql_import import BatchCounts, ImportPublisher
from .sqlite_staging import Staging, held


class _SQLitePublisher(ImportPublisher):
    def __init__(self, conn: sqlite3.Connection, staging: Staging, name: str, ts: str, state: str) -> None:
        self.conn, self.staging, self.name, self.ts, self.state = conn, staging, name, ts, state
        self.lo = self.hi = 0
        conn.execute("ATTACH DATABASE ? AS imp", [staging.path])

    def documents(self, batch_id: int, lo: int, hi: int) -> bool:
        conn = self.conn
        self.lo, self.hi = lo, hi
        before = conn.execute("SELECT coalesce(max(id), 0) FROM documents").fetchone()[0]
        conn.execute(
            "INSERT INTO documents (hash, source, line, title, lang, text, meta, created)"
            " SELECT hash, ?, line, title, lang, text, meta, ? FROM imp.docs WHERE seq BETWEEN ? AND ?"
            " ORDER BY seq ON CONFLICT(hash) DO NOTHING", [self.name, self.ts, lo, hi],
        )
        after = conn.execute("SELECT coalesce(max(id), 0) FROM documents").fetchone()[0]
        if after == before:
            return False
        conn.execute("INSERT INTO import_batch_docs (batch_id, first, last) VALUES (?,?,?)",
                     [batch_id, before + 1, after])
        # The new document of each text is its first record in the file.
        conn.execute(
            "INSERT INTO imp.map (seq, doc_id) SELECT min(s.seq), d.id FROM imp.docs s"
            " JOIN documents d ON d.hash = s.hash WHERE s.seq BETWEEN ? AND ? AND d.id > ? GROUP BY d.id",
            [lo, hi, before],
        )
        return True

    def labels(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT s.label FROM imp.map m JOIN imp.docs d ON d.seq = m.seq JOIN imp.spans s ON s.seq = m.seq"
            " WHERE m.seq BETWEEN ? AND ? AND (d.withspans OR d.decide) GROUP BY s.label ORDER BY min(s.rowid)",
            [self.lo, self.hi],
        ).fetchall()]

    def rest(self) -> BatchCounts:
        conn, ts, lo, hi = self.conn, self.ts, self.lo, self.hi
        new = "FROM imp.map m JOIN imp.docs d ON d.seq = m.seq WHERE m.seq BETWEEN ? AND ?"
        spans = conn.execute(
            "INSERT INTO spans (doc_id, start, end, label, annotator, origin, state, score, created, updated)"
            " SELECT m.doc_id, s.start, s.end, s.label, d.who, 'import', ?, s.score, ?, ?"
            " FROM imp.map m JOIN imp.docs d ON d.seq = m.seq JOIN imp.spans s ON s.seq = m.seq"
            " WHERE m.seq BETWEEN ? AND ? AND d.withspans ORDER BY m.seq, s.rowid",
            [self.state, ts, ts, lo, hi],
        ).rowcount
        conn.execute(
            "INSERT INTO doc_status (doc_id, annotator, status, updated) SELECT m.doc_id, d.who, d.status, ? "
            + new + " AND d.decide AND d.status != 'todo'", [ts, lo, hi],
        )
        conn.execute(
            "INSERT INTO import_records (doc_id, annotator, answer, fingerprint, prodigy)"
            " SELECT m.doc_id, d.who, d.answer, d.fingerprint, coalesce(d.prodigy, '{}') " + new + " AND d.record",
            [lo, hi],
        )
        conn.execute(
            "INSERT INTO doc_tokens (doc_id, tokenizer, offsets) SELECT m.doc_id, 'import', d.tokens "
            + new + " AND d.tokens IS NOT NULL", [lo, hi],
        )
        added, misaligned, mismatch = conn.execute(
            "SELECT count(*), coalesce(sum(d.misaligned * d.withspans), 0),"
            " coalesce(sum(CASE WHEN d.withspans OR d.decide THEN d.mismatch ELSE 0 END), 0) " + new, [lo, hi],
        ).fetchone()
        annotated = [tuple(r) for r in conn.execute(
            "SELECT d.status, count(*), sum(d.nspans = 0) " + new + " AND d.decide GROUP BY d.status", [lo, hi]
        )]
        doc_ids = [r[0] for r in conn.execute("SELECT doc_id FROM imp.map WHERE seq BETWEEN ? AND ? ORDER BY seq",
                                              [lo, hi])]
        return {"added": added, "spans": spans, "misaligned": misaligned, "mismatch": mismatch,
                "annotated": annotated, "doc_ids": doc_ids}

    def unpublished(self) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]] | None]]:
        return self.staging.unpublished(self.conn, "imp")

    def close(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.execute("DETACH DATABASE imp")


class SQLiteImportMixin:
    """The SQLite dialect of :mod:`.sql_import`."""

    conn: sqlite3.Connection
    path: Path

    def staging_folder(self, path: Path) -> Path | None:
        return None if str(path) == ":memory:" else path.resolve().parent

    def staging_keeps_open(self) -> bool:
        return False  # attached to the store's own connection instead

    def import_publisher(self, staging: Staging, name: str, ts: str, state: str) -> ImportPublisher:
        return _SQLitePublisher(self.conn, staging, name, ts, state)

    def import_alive(self, batch_id: int, staging: str) -> bool:
        return bool(held(staging))

    def in_transaction(self) -> bool:
        return self.conn.in_transaction
