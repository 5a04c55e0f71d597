"""The SQLite dialect: one file, opened and migrated by :mod:`annotations.db` (sqlite-utils).

The schema and its migrations live in :mod:`annotations.db`; this module holds the SQL
that only SQLite speaks: FTS5 search, ``sqlite_sequence`` and ``json_each``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, ContextManager, Iterable, Sequence

import sqlite_utils

from .. import db as dbmod
from .backend import Backend
from .sqlite_import import SQLiteImportMixin

__all__ = ["SQLiteBackend", "PREFIX_MIN_CHARS", "fts_query"]

#: The last search word matches as a prefix only from this length: FTS5 expands a prefix
#: into every indexed word that starts with it, and one or two letters match most of a
#: large corpus (hundreds of ms on 100,000 documents; three letters stay under 10 ms).
PREFIX_MIN_CHARS = 3


def fts_query(text: str) -> str:
    """Turn user text into a safe FTS5 query: every word must match.

    Each word is quoted (FTS5 operators and punctuation in it are data). The last word
    also matches as a prefix if it has at least :data:`PREFIX_MIN_CHARS` characters, so
    "Жапар" finds "Жапаровдун" while the user is still typing.
    """
    words = [w.replace('"', '""') for w in text.split()]
    if not words:
        return '""'
    quoted = [f'"{w}"' for w in words]
    if len(words[-1]) >= PREFIX_MIN_CHARS:
        quoted[-1] += "*"
    return " ".join(quoted)


_DONE_EVENTS = """
SELECT json_extract(c.value, '$.annotator') AS annotator, json_extract(c.value, '$.doc_id') AS doc,
       max(e.ts)
FROM events e, json_each(e.changes) c
WHERE e.changes LIKE '%status%'
  AND json_extract(c.value, '$.op') = 'status' AND json_extract(c.value, '$.after') = 'done'
GROUP BY annotator, doc
"""


#: Tables of the importer's own bookkeeping (empty but while an import runs): not data to copy.
_BOOKKEEPING = frozenset({"fts_deferred", "import_batches", "import_batch_docs"})


class SQLiteBackend(SQLiteImportMixin, Backend):
    """A store in one SQLite file (WAL, ``BEGIN IMMEDIATE`` writers; see :mod:`annotations.db`)."""

    name = "sqlite"
    IntegrityError = sqlite3.IntegrityError
    DatabaseError = sqlite3.DatabaseError

    def __init__(self, path: str | Path, db: sqlite_utils.Database | None = None) -> None:
        self.path = Path(path)
        self.db: sqlite_utils.Database = db if db is not None else dbmod.connect(self.path)
        self.conn = self.db.conn

    @classmethod
    def wrap(cls, db: sqlite_utils.Database) -> "SQLiteBackend":
        """A backend over an already open database (for callers that still pass one)."""
        return cls(Path(getattr(db.conn, "path", "") or ":memory:"), db)

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def connect_string(self) -> str:
        return str(self.path)

    @property
    def read_only(self) -> str | None:
        return dbmod.read_only_reason(self.db)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, list(args))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def insert_id(self, sql: str, args: Sequence[Any]) -> int:
        return int(self.conn.execute(sql, list(args)).lastrowid)

    def write(self) -> ContextManager[Any]:
        return dbmod.write(self.db)

    def close(self) -> None:
        self.conn.close()

    def reopen(self) -> "SQLiteBackend":
        return SQLiteBackend(self.path)

    def reserve_span_ids(self, n: int) -> list[int]:
        # AUTOINCREMENT keeps the highest id ever used in sqlite_sequence; explicit ids above it
        # move it on when they are inserted, so ids handed out here are never reused either.
        first = int(self.value(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'spans'), 0),"
            " coalesce((SELECT max(id) FROM spans), 0))", default=0,
        )) + 1
        return list(range(first, first + n))

    def search_clause(self, query: str, *, few: bool) -> tuple[str, str, str, list[Any]]:
        if few:
            # Few documents are done or skipped: check those against the set of matches.
            return ("documents d", "d.id",
                    "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)", [fts_query(query)])
        # Ordered by the FTS table's own rowid so SQLite reads matches in order and stops
        # after one page, instead of collecting and sorting every match.
        return ("documents_fts f JOIN documents d ON d.id = f.rowid", "f.rowid",
                "documents_fts MATCH ?", [fts_query(query)])

    def bulk_index(self) -> ContextManager[Any]:
        return dbmod.deferred_fts(self.db)

    #: One layer of accepted spans as JSON ``[[start, end, label], ...]`` (see :meth:`accepted_layers`).
    LAYER_AGG = 'json_group_array(json_array(start, "end", label))'

    def done_events(self) -> list[tuple[str, int, str]]:
        return self.all(_DONE_EVENTS)

    def table_names(self) -> set[str]:
        return {
            r[0] for r in self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith(("sqlite_", "documents_fts", "_sqlite_")) and r[0] not in _BOOKKEEPING
        }

    def table_columns(self, table: str) -> list[str]:
        return [r[1] for r in self.execute(f"PRAGMA table_info({table})")]

    def id_high_water(self, table: str) -> int:
        """The highest id ``table`` has ever handed out (``sqlite_sequence`` for spans)."""
        top = int(self.value(f"SELECT coalesce(max(id), 0) FROM {table}", default=0))
        seq = self.value("SELECT seq FROM sqlite_sequence WHERE name = ?", [table]) if table == "spans" else None
        return max(top, int(seq or 0))

    def set_id_high_water(self, table: str, value: int) -> None:
        """Make ``table``'s next id ``value + 1`` at least (spans: their AUTOINCREMENT counter)."""
        if table != "spans" or value <= 0:
            return  # INTEGER PRIMARY KEY without AUTOINCREMENT: max(id) + 1 is next anyway
        if self.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'spans'", [value]).rowcount == 0:
            self.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('spans', ?)", [value])
