"""``annotate merge``: reading another database whole and writing its work into this one.

A mixin of :class:`annotations.store.backend.Backend` (queries shared by the dialects, in
portable SQL: ``?`` placeholders, ``"end"`` quoted, ``ON CONFLICT``), plus
:func:`open_merge_source`, which opens the database merged from as a read-only backend of
its own, whatever its dialect (a SQLite file or a ``postgresql://`` URL), without migrating
or otherwise writing to it. :mod:`annotations.team.merge` decides what to bring in; every
row it reads or writes goes through the methods here.

The source side is read inside :meth:`MergeQueries.merge_snapshot` (one consistent view of
it: a read transaction on SQLite, ``REPEATABLE READ READ ONLY`` on PostgreSQL); the target
side is written inside the target's own write transaction, so a failure leaves nothing.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..db import BUSY_TIMEOUT_MS, StoreError
from .sql_common import SPAN_FIELDS
from .sql_common import marks as _marks

__all__ = ["MergeQueries", "REQUIRED_TABLES", "open_merge_source"]

#: Tables a database must have to be merged from (older schemas may lack the others).
REQUIRED_TABLES = ("documents", "labels", "spans", "doc_status", "events")

#: How many ids go into one ``IN (...)`` list.
CHUNK = 500

#: Why a merge source is read-only (its write() refuses with this).
SOURCE_READ_ONLY = "opened read-only, to merge from"


def _chunks(items: Sequence[Any], n: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class MergeQueries:
    #: The statements that begin and end one consistent read of a merge source (set by each dialect).
    SNAPSHOT_BEGIN: str = "BEGIN"
    SNAPSHOT_END: str = "ROLLBACK"

    # -- reading (the source, and this database's side for comparison) ------------------------

    @contextlib.contextmanager
    def merge_snapshot(self) -> Iterator[None]:
        """One consistent view of this (read-only) database while it is merged from."""
        self.execute(self.SNAPSHOT_BEGIN)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                self.execute(self.SNAPSHOT_END)

    def merge_labels(self) -> list[tuple[str, str | None, str, str, int]]:
        """``(name, key, colour, description, position)`` of every label, in the label set's order."""
        return self.all("SELECT name, key, colour, description, position FROM labels ORDER BY position, name")

    def merge_documents(self) -> list[tuple[int, str, str]]:
        """``(id, hash, title)`` of every document, by id."""
        return self.all("SELECT id, hash, title FROM documents ORDER BY id")

    def merge_ids_of_hashes(self, hashes: Sequence[str]) -> dict[str, int]:
        """The id of each of ``hashes`` this database holds."""
        out: dict[str, int] = {}
        for part in _chunks(list(hashes)):
            out.update((h, int(i)) for h, i in self.all(
                f"SELECT hash, id FROM documents WHERE hash IN ({_marks(len(part))})", part))
        return out

    def merge_document_rows(self, ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """``(id, hash, source, line, title, lang, text, meta, created)`` of ``ids`` (at most :data:`CHUNK`), by id."""
        return self.all(
            "SELECT id, hash, source, line, title, lang, text, meta, created FROM documents"
            f" WHERE id IN ({_marks(len(ids))}) ORDER BY id", list(ids))

    def merge_token_rows(self, ids: Sequence[int]) -> list[tuple[int, str, bytes]]:
        """``(doc_id, tokenizer, offsets)`` of the token caches of ``ids`` (at most :data:`CHUNK`)."""
        return [(int(d), t, bytes(o)) for d, t, o in self.all(
            f"SELECT doc_id, tokenizer, offsets FROM doc_tokens WHERE doc_id IN ({_marks(len(ids))})", list(ids))]

    def merge_statuses(self) -> list[tuple[int, str, str, str]]:
        """``(doc_id, annotator, status, updated)`` of every status row."""
        return self.all("SELECT doc_id, annotator, status, updated FROM doc_status")

    def merge_statuses_of(self, doc_ids: Sequence[int]) -> list[tuple[int, str, str]]:
        """``(doc_id, annotator, status)`` of the documents ``doc_ids``."""
        out: list[tuple[int, str, str]] = []
        for part in _chunks(list(doc_ids)):
            out += self.all(
                f"SELECT doc_id, annotator, status FROM doc_status WHERE doc_id IN ({_marks(len(part))})", part)
        return out

    def merge_spans(self, doc_ids: Sequence[int] | None = None) -> list[tuple[Any, ...]]:
        """Every span (columns in :data:`~annotations.history.SPAN_COLUMNS` order) by id, or those of ``doc_ids``."""
        if doc_ids is None:
            return self.all(f"SELECT {SPAN_FIELDS} FROM spans ORDER BY id")
        out: list[tuple[Any, ...]] = []
        for part in _chunks(list(doc_ids)):
            out += self.all(f"SELECT {SPAN_FIELDS} FROM spans WHERE doc_id IN ({_marks(len(part))}) ORDER BY id", part)
        return out

    def merge_assignments(self) -> list[tuple[int, str, str]]:
        return self.all("SELECT doc_id, annotator, created FROM assignments ORDER BY doc_id, annotator")

    def merge_reviewers(self) -> list[tuple[str, str]]:
        return self.all("SELECT annotator, created FROM reviewers ORDER BY annotator")

    def merge_sessions(self) -> list[tuple[int, str, str, str | None]]:
        """``(id, annotator, started, ended)`` of every session, by id."""
        return self.all("SELECT id, annotator, started, ended FROM sessions ORDER BY id")

    def merge_events(self) -> Iterator[tuple[Any, ...]]:
        """``(id, ts, annotator, session_id, doc_id, action, target, changes)`` of every event, by id,
        read in keyset pages (flat memory however long the log)."""
        last = 0
        while True:
            rows = self.all(
                "SELECT id, ts, annotator, session_id, doc_id, action, target, changes FROM events"
                " WHERE id > ? ORDER BY id LIMIT 2000", [last])
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def merge_event_keys(self) -> list[tuple[int, str, str, str, int | None]]:
        """``(id, annotator, ts, action, doc_id)`` of every event (what matches one across databases)."""
        return self.all("SELECT id, annotator, ts, action, doc_id FROM events")

    def merge_event_changes(self, event_id: int) -> str:
        """An event's change records, as stored (JSON)."""
        return str(self.value("SELECT changes FROM events WHERE id = ?", [event_id], "[]"))

    def merge_history(self, annotators: Sequence[str]) -> list[tuple[str, str, int, str, str]]:
        """``(ts, annotator, doc_id, action, changes)`` of the document events of ``annotators``, by id."""
        if not annotators:
            return []
        return self.all(
            f"SELECT ts, annotator, doc_id, action, changes FROM events WHERE annotator IN ({_marks(len(annotators))})"
            " AND doc_id IS NOT NULL ORDER BY id", list(annotators))

    # -- writing (this database, inside its write transaction) --------------------------------

    def merge_add_label(self, name: str, key: str | None, colour: str, description: str, position: int) -> None:
        self.execute("INSERT INTO labels (name, key, colour, description, position) VALUES (?,?,?,?,?)",
                     [name, key, colour, description, position])

    def merge_add_tokens(self, rows: Sequence[tuple[int, str, bytes]]) -> None:
        """Token caches ``(doc_id, tokenizer, offsets)``; a document that has one keeps it."""
        self.executemany("INSERT INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)"
                         " ON CONFLICT (doc_id) DO NOTHING", rows)

    def merge_delete_spans(self, span_ids: Sequence[int]) -> None:
        for part in _chunks(list(span_ids)):
            self.execute(f"DELETE FROM spans WHERE id IN ({_marks(len(part))})", part)

    def merge_put_statuses(self, rows: Sequence[Sequence[Any]]) -> None:
        """``(doc_id, annotator, status, updated)`` rows, replacing what is there."""
        self.executemany(
            "INSERT INTO doc_status (doc_id, annotator, status, updated) VALUES (?,?,?,?)"
            " ON CONFLICT (doc_id, annotator) DO UPDATE SET status = excluded.status, updated = excluded.updated",
            rows)

    def merge_add_assignments(self, rows: Sequence[tuple[int, str, str]]) -> int:
        """``(doc_id, annotator, created)`` rows not there yet; how many were new."""
        before = self.count_rows("assignments")
        self.executemany("INSERT INTO assignments (doc_id, annotator, created) VALUES (?,?,?)"
                         " ON CONFLICT (doc_id, annotator) DO NOTHING", rows)
        return self.count_rows("assignments") - before

    def merge_add_reviewers(self, rows: Sequence[tuple[str, str]]) -> int:
        """``(annotator, created)`` rows not there yet; how many were new."""
        before = self.count_rows("reviewers")
        self.executemany("INSERT INTO reviewers (annotator, created) VALUES (?,?) ON CONFLICT (annotator) DO NOTHING",
                         rows)
        return self.count_rows("reviewers") - before

    def merge_add_session(self, annotator: str, started: str, ended: str | None) -> int:
        return self.insert_id("INSERT INTO sessions (annotator, started, ended) VALUES (?,?,?)",
                              [annotator, started, ended])

    # Spans come in through ``insert_span_rows`` and events through ``log_event``; span ids are
    # handed out above ``id_high_water("spans")`` and kept by ``set_id_high_water`` (each
    # dialect's own counter).


def open_merge_source(location: str | os.PathLike[str]) -> Any:
    """The database at ``location`` (a SQLite file or a ``postgresql://`` URL) as a read-only
    backend: never migrated, never written (its ``write()`` refuses). Raises
    :class:`~annotations.db.StoreError` with a one-line message when it is missing, not a
    database, or not an annotate database."""
    from .core import is_postgres_url

    if is_postgres_url(location):
        from .postgres_backend import PostgresBackend

        text = str(location)
        if not text.startswith(("postgresql://", "postgres://")):
            scheme, rest = text.split(":/", 1)
            text = f"{scheme}://{rest}"
        backend: Any = PostgresBackend(text, read_only=SOURCE_READ_ONLY)
    else:
        backend = _sqlite_source(Path(location))
    try:
        tables = backend.table_names()
    except backend.DatabaseError as exc:
        backend.close()
        raise StoreError(f"{backend.location}: not a database ({str(exc).strip().splitlines()[0]})") from None
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        backend.close()
        raise StoreError(f"{backend.location}: not an annotate database (no {', '.join(missing)} table)")
    return backend


def _sqlite_source(path: Path) -> Any:
    import sqlite3

    import sqlite_utils

    from .sqlite_backend import SQLiteBackend

    if not path.is_file():
        raise StoreError(f"{path}: no such database file")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                           timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not a database ({exc})") from None
    db = sqlite_utils.Database(conn)
    db.annotate_read_only = SOURCE_READ_ONLY  # type: ignore[attr-defined]
    return SQLiteBackend(path, db)
