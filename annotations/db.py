"""Opening the SQLite file and keeping its schema current (sqlite-utils migrations).

Every connection runs in WAL mode with foreign keys on and a busy timeout, so several
processes (annotators, the CLI, background workers) can share one file. Writers take the
write lock up front (``BEGIN IMMEDIATE``) so they queue on the busy timeout instead of
failing with "database is locked" when a read transaction tries to upgrade.

A database this process cannot write (the file or its folder is not writable, or the file
system is read-only) is opened read-only, without switching its journal mode, so it can
still be browsed and exported; a database whose schema is newer than this version knows
is opened the same way. Either way :func:`write` then refuses with :class:`ReadOnlyError`,
saying why.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

import sqlite_utils
from sqlite_utils import Migrations

__all__ = [
    "connect", "migrations", "write", "deferred_fts", "index_documents", "SCHEMA_VERSION",
    "BUSY_TIMEOUT_MS", "StoreError", "ReadOnlyError", "read_only_reason",
]

BUSY_TIMEOUT_MS = 60_000

migrations = Migrations("annotate")


class StoreError(Exception):
    """A request the store refuses (unknown label, overlapping span, missing document...)."""


class ReadOnlyError(StoreError):
    """A write asked of a database opened read-only; the message says why it is read-only."""


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Documents, labels, spans, statuses, token cache, event log, sessions, cursors."""
    db.executescript(
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL DEFAULT '',
            line INTEGER,
            title TEXT NOT NULL DEFAULT '',
            lang TEXT NOT NULL DEFAULT 'xx',
            text TEXT NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL
        );
        CREATE INDEX documents_lang ON documents(lang);

        CREATE TABLE labels (
            name TEXT PRIMARY KEY,
            key TEXT UNIQUE,
            colour TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            position INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE spans (
            -- AUTOINCREMENT: an id is never reused, so undo/redo can re-insert a span by id.
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            label TEXT NOT NULL REFERENCES labels(name) ON UPDATE CASCADE,
            annotator TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT 'manual',
            state TEXT NOT NULL DEFAULT 'accepted'
                CHECK (state IN ('accepted', 'pending', 'rejected')),
            score REAL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            CHECK (start >= 0 AND end > start)
        );
        CREATE INDEX spans_doc ON spans(doc_id, annotator, state, start);
        CREATE INDEX spans_annotator ON spans(annotator, state);
        CREATE INDEX spans_label ON spans(label);

        CREATE TRIGGER spans_no_overlap_insert BEFORE INSERT ON spans
        WHEN NEW.state = 'accepted' BEGIN
            SELECT RAISE(ABORT, 'accepted spans of one annotator must not overlap')
            WHERE EXISTS (
                SELECT 1 FROM spans
                WHERE doc_id = NEW.doc_id AND annotator = NEW.annotator
                  AND state = 'accepted' AND start < NEW.end AND NEW.start < end
            );
        END;
        CREATE TRIGGER spans_no_overlap_update BEFORE UPDATE OF start, end, state ON spans
        WHEN NEW.state = 'accepted' BEGIN
            SELECT RAISE(ABORT, 'accepted spans of one annotator must not overlap')
            WHERE EXISTS (
                SELECT 1 FROM spans
                WHERE doc_id = NEW.doc_id AND annotator = NEW.annotator AND id != NEW.id
                  AND state = 'accepted' AND start < NEW.end AND NEW.start < end
            );
        END;

        CREATE TABLE doc_status (
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            annotator TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('todo', 'done', 'skipped')),
            updated TEXT NOT NULL,
            PRIMARY KEY (doc_id, annotator)
        );
        CREATE INDEX doc_status_annotator ON doc_status(annotator, status);

        CREATE TABLE doc_tokens (
            doc_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
            tokenizer TEXT NOT NULL,
            offsets BLOB NOT NULL
        );

        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            annotator TEXT NOT NULL,
            started TEXT NOT NULL,
            ended TEXT
        );

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            annotator TEXT NOT NULL,
            session_id INTEGER,
            doc_id INTEGER,
            action TEXT NOT NULL,
            target INTEGER,
            changes TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX events_annotator ON events(annotator, id);
        CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN
            SELECT RAISE(ABORT, 'the event log is append-only');
        END;
        CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN
            SELECT RAISE(ABORT, 'the event log is append-only');
        END;

        CREATE TABLE cursors (
            annotator TEXT PRIMARY KEY,
            doc_id INTEGER,
            offset INTEGER NOT NULL DEFAULT 0,
            updated TEXT NOT NULL
        );
        """
    )
    db["documents"].enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")


@migrations()
def m002_fts_bulk_index(db: sqlite_utils.Database) -> None:
    """Let a bulk import index its documents in batches instead of row by row.

    While ``fts_deferred`` holds a row, inserting a document does not index it; the writer
    that inserted the row indexes the new documents itself (:func:`index_documents`) and
    deletes the row before its transaction commits, so no other connection ever sees it.
    Every other insert is indexed by the trigger as before.
    """
    db.executescript(
        """
        CREATE TABLE fts_deferred (flag INTEGER PRIMARY KEY CHECK (flag = 1));
        DROP TRIGGER documents_ai;
        CREATE TRIGGER documents_ai AFTER INSERT ON documents
        WHEN NOT EXISTS (SELECT 1 FROM fts_deferred) BEGIN
          INSERT INTO documents_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        """
    )


@contextlib.contextmanager
def deferred_fts(db: sqlite_utils.Database) -> Iterator[Callable[[], None]]:
    """Inside a write transaction: documents inserted in the block are indexed in batches.

    Yields ``flush()``, which indexes the documents inserted since the last flush; the
    rest are indexed when the block ends. Must run inside :func:`write` (the flag row is
    never committed). Nested inside another ``deferred_fts`` block it does nothing: the
    outer block indexes everything once.
    """
    conn = db.conn
    if not conn.in_transaction:
        raise RuntimeError("deferred_fts() needs an open write transaction")
    if conn.execute("SELECT 1 FROM fts_deferred").fetchone():
        yield lambda: None
        return
    indexed = conn.execute("SELECT coalesce(max(id), 0) FROM documents").fetchone()[0]
    conn.execute("INSERT INTO fts_deferred (flag) VALUES (1)")

    def flush() -> None:
        nonlocal indexed
        indexed = index_documents(db, indexed)

    try:
        yield flush
        flush()
    finally:
        conn.execute("DELETE FROM fts_deferred")


def index_documents(db: sqlite_utils.Database, after_id: int) -> int:
    """Add documents with ``id > after_id`` to the full-text index; returns the last id indexed."""
    conn = db.conn
    last = conn.execute("SELECT coalesce(max(id), ?) FROM documents", [after_id]).fetchone()[0]
    if last > after_id:
        conn.execute(
            "INSERT INTO documents_fts (rowid, title, text)"
            " SELECT id, title, text FROM documents WHERE id > ? AND id <= ?",
            [after_id, last],
        )
    return last


@migrations()
def m003_patterns(db: sqlite_utils.Database) -> None:
    """Entity patterns kept in the database for the patterns recogniser (spaCy EntityRuler style).

    ``pattern`` is JSON: a phrase (string) or a list of token attribute dicts; ``source``
    names the file they came from, so loading that file again replaces them.
    """
    db.executescript(
        """
        CREATE TABLE patterns (
            id INTEGER PRIMARY KEY,
            label TEXT NOT NULL,
            pattern TEXT NOT NULL,
            pattern_id TEXT,
            source TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL
        );
        CREATE INDEX patterns_source ON patterns(source);
        """
    )


@migrations()
def m004_span_overlap_seek(db: sqlite_utils.Database) -> None:
    """Check accepted-span overlaps with two index seeks instead of a scan.

    Accepted spans of one annotator never overlap, so a new one overlaps an existing one
    exactly when some span starts inside it, or the last span starting before it ends
    after its start. The old triggers scanned every span starting before the new one's
    end (several milliseconds per label on a document with 20,000 spans).
    """
    db.executescript(
        """
        DROP TRIGGER spans_no_overlap_insert;
        DROP TRIGGER spans_no_overlap_update;
        CREATE TRIGGER spans_no_overlap_insert BEFORE INSERT ON spans
        WHEN NEW.state = 'accepted' BEGIN
            SELECT RAISE(ABORT, 'accepted spans of one annotator must not overlap')
            WHERE EXISTS (
                SELECT 1 FROM spans
                WHERE doc_id = NEW.doc_id AND annotator = NEW.annotator AND state = 'accepted'
                  AND start >= NEW.start AND start < NEW.end
            ) OR coalesce((
                SELECT end FROM spans
                WHERE doc_id = NEW.doc_id AND annotator = NEW.annotator AND state = 'accepted'
                  AND start < NEW.start
                ORDER BY start DESC LIMIT 1
            ), 0) > NEW.start;
        END;
        CREATE TRIGGER spans_no_overlap_update BEFORE UPDATE OF start, end, state ON spans
        WHEN NEW.state = 'accepted' BEGIN
            SELECT RAISE(ABORT, 'accepted spans of one annotator must not overlap')
            WHERE EXISTS (
                SELECT 1 FROM spans
                WHERE doc_id = NEW.doc_id AND annotator = NEW.annotator AND state = 'accepted'
                  AND id != NEW.id AND start >= NEW.start AND start < NEW.end
            ) OR coalesce((
                SELECT end FROM spans
                WHERE doc_id = NEW.doc_id AND annotator = NEW.annotator AND state = 'accepted'
                  AND id != NEW.id AND start < NEW.start
                ORDER BY start DESC LIMIT 1
            ), 0) > NEW.start;
        END;
        """
    )


@migrations()
def m005_whitespace_free_tokens(db: sqlite_utils.Database) -> None:
    """Token caches without tokens that mix whitespace and other characters (issue 10).

    Cached spaCy tokens are dropped (they are recomputed, cut at whitespace, on next use:
    the tokenizer id now carries the tokens version); tokens kept from an import are cut
    in place with :func:`annotations.tokenize.split_whitespace`.
    """
    from .tokenize import Tokens, split_whitespace

    conn = db.conn
    conn.execute("DELETE FROM doc_tokens WHERE tokenizer != 'import'")
    rows = conn.execute(
        "SELECT t.doc_id, t.offsets, d.text FROM doc_tokens t JOIN documents d ON d.id = t.doc_id"
        " WHERE t.tokenizer = 'import'"
    ).fetchall()
    for doc_id, blob, text in rows:
        tokens = Tokens.from_bytes(blob)
        cut = split_whitespace(text, tokens)
        if cut is not tokens:
            conn.execute("UPDATE doc_tokens SET offsets = ? WHERE doc_id = ?", [cut.to_bytes(), doc_id])


@migrations()
def m005_import_records(db: sqlite_utils.Database) -> None:
    """What an imported Prodigy example was, per (document, annotator): its ``answer``, its
    Prodigy keys (``_input_hash``, ``_task_hash``, ``_timestamp``, ``_annotator_id``,
    ``_session_id``, ``_view_id``) as JSON, and a fingerprint of its status and spans, so an
    export writes them back unchanged while the example is as it was imported."""
    db.executescript(
        """
        CREATE TABLE import_records (
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            annotator TEXT NOT NULL,
            answer TEXT,
            fingerprint TEXT NOT NULL,
            prodigy TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (doc_id, annotator)
        );
        """
    )


@migrations()
def m005_label_map(db: sqlite_utils.Database) -> None:
    """The project's recogniser label map (``annotations.label_map``): ``source`` -> ``target``
    label, an empty target dropping that label."""
    db.executescript(
        """
        CREATE TABLE label_map (
            source TEXT PRIMARY KEY,
            target TEXT NOT NULL DEFAULT ''
        );
        """
    )


@migrations()
def m007_assignments(db: sqlite_utils.Database) -> None:
    """Who is to annotate which document (``annotate assign``), and who reviews (``annotate
    review``): see ``annotations.team``."""
    db.executescript(
        """
        CREATE TABLE assignments (
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            annotator TEXT NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (doc_id, annotator)
        );
        CREATE INDEX assignments_annotator ON assignments(annotator, doc_id);
        CREATE TABLE reviewers (
            annotator TEXT PRIMARY KEY,
            created TEXT NOT NULL
        );
        """
    )


@migrations()
def m009_import_batches(db: sqlite_utils.Database) -> None:
    """Notes of imports being published (``annotations.importer``): a file's checked records
    are staged in a file of their own, then published in short transactions; each note
    names the staging file and the ranges of document ids published so far, so what an
    import that died left can be deleted again. Empty except while an import publishes."""
    db.executescript(
        """
        CREATE TABLE import_batches (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            staging TEXT NOT NULL,
            pid INTEGER NOT NULL,
            started TEXT NOT NULL,
            labels TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE import_batch_docs (
            batch_id INTEGER NOT NULL REFERENCES import_batches(id) ON DELETE CASCADE,
            first INTEGER NOT NULL,
            last INTEGER NOT NULL
        );
        CREATE INDEX import_batch_docs_batch ON import_batch_docs(batch_id);
        """
    )



@migrations()
def m011_prodigy_token_cache(db: sqlite_utils.Database) -> None:
    """The token cache also keeps each document's part of a JSONL line, serialised once
    (``annotations.tokenize_prodigy``; NULL until an export makes it): a later export is
    string assembly."""
    db.execute("ALTER TABLE doc_tokens ADD COLUMN prodigy BLOB")

SCHEMA_VERSION = len(migrations._migrations)


def _unwritable(path: Path) -> str | None:
    """Why this process cannot write the existing database ``path``, or None if it can."""
    if not path.exists():
        return None
    if not os.access(path, os.W_OK):
        return f"{path} is read-only (no write permission, or a read-only file system)"
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{path} is read-only (its folder {folder} is not writable, so SQLite cannot keep a journal)"
    return None


def _connect_read_only(path: Path, check_same_thread: bool) -> sqlite3.Connection:
    """A read-only connection; in a read-only folder a WAL file without its ``-shm`` is opened
    immutable (nothing can be writing it there)."""
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    tries = ["?mode=ro"] + ([] if wal.exists() and wal.stat().st_size else ["?immutable=1"])
    for i, params in enumerate(tries):
        conn = sqlite3.connect(uri + params, uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=check_same_thread)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            if i == len(tries) - 1:
                raise
    raise AssertionError("unreachable")


def _newer_schema(db: sqlite_utils.Database, path: Path) -> str | None:
    """Why the file's schema is newer than this version's (higher ``user_version`` or unknown migrations)."""
    supported = len(migrations._migrations)
    found = db.conn.execute("PRAGMA user_version").fetchone()[0]
    known = {m.name for m in migrations._migrations}
    applied = migrations.applied(db)
    unknown = [m.name for m in applied if m.name not in known]
    if found <= supported and not unknown:
        return None
    version = max(found, len(applied))
    extra = f" (migrations it does not know: {', '.join(unknown)})" if unknown else ""
    return (
        f"{path} has schema version {version}, newer than this annotate supports (version"
        f" {supported}){extra}; it is opened read-only: upgrade annotate to write to it"
    )


def read_only_reason(db: sqlite_utils.Database) -> str | None:
    """Why ``db`` was opened read-only, or None when it can be written."""
    return getattr(db, "annotate_read_only", None)


def connect(path: str | Path, *, check_same_thread: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database at ``path``.

    The connection is in autocommit mode: transactions are explicit (see :func:`write`).
    An existing file this process cannot write, or one with a newer schema, is opened
    read-only (see the module docstring).
    """
    memory = str(path) == ":memory:"
    reason = None if memory else _unwritable(Path(path))
    if reason:
        conn = _connect_read_only(Path(path), check_same_thread)
    else:
        conn = sqlite3.connect(
            str(path),
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=check_same_thread,
        )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    newer = None if memory else _newer_schema(db, Path(path))
    if newer:
        reason = newer
        conn.execute("PRAGMA query_only = 1")
    if reason:
        if migrations.pending(db) and not newer:
            conn.close()
            raise ReadOnlyError(
                f"{reason}, and it needs upgrading to schema version {len(migrations._migrations)}"
                " first: open it once where it can be written"
            )
        db.annotate_read_only = reason  # type: ignore[attr-defined]
        return db
    # 8 KiB pages hold three ~2 kB documents where 4 KiB pages hold one: a third of the
    # writes on import. Only takes effect when the file is new (before WAL is switched on).
    conn.execute("PRAGMA page_size = 8192")
    if not memory:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    if migrations.pending(db):
        with write(db):
            # Applied under the write lock so two processes opening a new file don't race.
            for migration in migrations.pending(db):
                migrations.ensure_migrations_table(db)
                migration.fn(db)
                migrations._record_applied(db, migration.name)
            # The schema version is also in the file header, for tools that only read that.
            conn.execute(f"PRAGMA user_version = {len(migrations.applied(db))}")
    return db


@contextlib.contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction that takes the write lock at once (``BEGIN IMMEDIATE``).

    Nested use becomes a savepoint, so a helper can be called inside a bigger action.
    """
    conn = db.conn
    reason = read_only_reason(db)
    if reason:
        raise ReadOnlyError(f"cannot save: {reason}")
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")

