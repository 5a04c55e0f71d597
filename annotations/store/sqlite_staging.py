"""An import's scratch space: one file's checked records in a SQLite file of their own.

The importer (:mod:`annotations.importer`) checks a file's records and stages them here,
on the importing machine, without any lock on the store's database; then the dialect's
publisher (:mod:`.sqlite_import`, :mod:`.pg_import`) copies them into the database in short
transactions. Whatever the store's backend, the staging file is SQLite: it is local scratch
space, written by one process. It is held with ``flock`` while its import runs, so an import
that died (kill -9, power loss) can be told from one that runs (:func:`held`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["Staging", "held", "unlink_staging", "DOC_COLUMNS"]

_SCHEMA = """
CREATE TABLE docs (
    seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, line INTEGER, title TEXT NOT NULL, lang TEXT NOT NULL,
    text TEXT NOT NULL, meta TEXT NOT NULL, tokens BLOB, pairs BLOB, who TEXT NOT NULL,
    decide INTEGER NOT NULL, withspans INTEGER NOT NULL, status TEXT NOT NULL, answer TEXT,
    prodigy TEXT, record INTEGER NOT NULL, fingerprint TEXT, nspans INTEGER NOT NULL,
    misaligned INTEGER NOT NULL, mismatch INTEGER NOT NULL, annotated INTEGER NOT NULL,
    rstatus TEXT, rannotator TEXT, rlang TEXT, hasspans INTEGER NOT NULL
);
CREATE TABLE spans (seq INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    label TEXT NOT NULL, score REAL, text TEXT);
CREATE INDEX spans_seq ON spans(seq);
CREATE TABLE map (seq INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL);
"""
#: ``docs`` columns after ``seq``, in order (what ``importer._prepare`` builds).
DOC_COLUMNS = (
    "hash", "line", "title", "lang", "text", "meta", "tokens", "pairs", "who", "decide", "withspans", "status",
    "answer", "prodigy", "record", "fingerprint", "nspans", "misaligned", "mismatch", "annotated", "rstatus",
    "rannotator", "rlang", "hasspans",
)
_INSERT_DOC = f"INSERT INTO docs VALUES ({','.join('?' * (len(DOC_COLUMNS) + 1))})"


class Staging:
    """One file's checked records, staged in ``folder`` (the system's temporary folder if None).

    ``prefix`` names the file (``.<database>.import-``), so leftovers of imports killed before
    they published can be found and removed (see ``importer.recover_interrupted_imports``).
    """

    def __init__(self, folder: Path | None, prefix: str) -> None:
        import fcntl
        import tempfile

        fd, path = tempfile.mkstemp(prefix=prefix, suffix=".staging", dir=folder)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.fd, self.path = fd, path
        self.conn: sqlite3.Connection | None = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.executescript(_SCHEMA)
        self.count = 0

    def add(self, chunk: Sequence[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]) -> None:
        """Stage checked records: ``(docs row without seq, span rows)`` each."""
        conn = self.conn
        assert conn is not None
        conn.execute("BEGIN")
        seq = self.count
        docs, spans = [], []
        for row, span_rows in chunk:
            seq += 1
            docs.append((seq, *row))
            spans += [(seq, *s) for s in span_rows]
        conn.executemany(_INSERT_DOC, docs)
        if spans:
            conn.executemany("INSERT INTO spans VALUES (?,?,?,?,?,?)", spans)
        conn.execute("COMMIT")
        self.count = seq

    def sealed(self, keep_open: bool) -> None:
        """Staging done: close the file unless ``keep_open`` (a publisher that does not read
        it through its own connection, e.g. ``ATTACH``, needs it)."""
        if not keep_open and self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- reading (the publishers') -------------------------------------------------------------

    def docs(self, lo: int, hi: int, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """``seq`` and ``columns`` of records ``lo..hi``, in file order (the file's own connection)."""
        assert self.conn is not None
        for c in columns:
            if c not in DOC_COLUMNS:
                raise ValueError(f"no staged column {c!r}")
        return self.conn.execute(
            f"SELECT seq, {', '.join(columns)} FROM docs WHERE seq BETWEEN ? AND ? ORDER BY seq", [lo, hi]
        ).fetchall()

    def spans(self, lo: int, hi: int) -> list[tuple[Any, ...]]:
        """``(seq, start, end, label, score, text)`` of records ``lo..hi``, in file order."""
        assert self.conn is not None
        return self.conn.execute(
            "SELECT seq, start, end, label, score, text FROM spans WHERE seq BETWEEN ? AND ? ORDER BY seq, rowid",
            [lo, hi],
        ).fetchall()

    def put_map(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Note which records became which new documents (``(seq, doc_id)``)."""
        assert self.conn is not None
        self.conn.executemany("INSERT INTO map (seq, doc_id) VALUES (?,?)", pairs)

    def unpublished(self, conn: sqlite3.Connection | None = None, schema: str = "main") -> Iterator[
            tuple[tuple[Any, ...], list[tuple[Any, ...]] | None]]:
        """The staged records not published as new documents, in file order, a page at a time:
        ``(docs row with seq, span rows or None)``. Read through ``conn`` (default: the file's
        own), where the file is the database ``schema`` (``imp`` when attached)."""
        conn = conn or self.conn
        assert conn is not None and schema.isidentifier()
        after = 0
        while True:
            rows = conn.execute(
                f"SELECT d.* FROM {schema}.docs d WHERE d.seq > ?"
                f" AND NOT EXISTS (SELECT 1 FROM {schema}.map m WHERE m.seq = d.seq) ORDER BY d.seq LIMIT 500",
                [after],
            ).fetchall()
            if not rows:
                return
            for row in rows:
                spans = None
                if row[-1]:  # hasspans
                    spans = conn.execute(
                        f"SELECT start, end, label, score, text FROM {schema}.spans WHERE seq = ? ORDER BY rowid",
                        [row[0]],
                    ).fetchall()
                yield row, spans
            after = rows[-1][0]

    def remove(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            self.conn = None
        unlink_staging(self.path)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def held(path: str) -> bool | None:
    """Whether a running import holds ``path`` (its staging file); None if it cannot be opened."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def unlink_staging(path: str) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.unlink(path + suffix)
