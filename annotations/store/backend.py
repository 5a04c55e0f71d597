"""The SQL seam: every query the store makes, written once in SQL both dialects speak.

A :class:`Backend` owns one database connection. The :class:`~annotations.store.Store`
(and the library modules that need data: statistics, the dashboard, evaluation, the
recognisers, the model, teams) call its methods and never write SQL themselves. Its query
methods live in small modules by subject, mixed in here: ``sql_events`` (the event log and
applying change records), ``sql_labels`` (labels, label map, patterns), ``sql_documents``
(pages, texts, token caches, statuses, bulk loading), ``sql_spans``, ``sql_stats`` (cursor,
sessions, statistics), ``sql_team``, ``sql_tables`` (whole tables for ``annotate copy``),
``sql_merge`` (``annotate merge``: another database read whole, its work written here),
``sql_import`` (imports) and ``sql_export`` (an export's keyset pages and token cache);
``sql_common`` holds the schema's table list. They are written in portable SQL: ``?`` placeholders and double-quoted column names where a name
is a keyword (``"end"``, ``"offset"``). A dialect (:mod:`.sqlite_backend`,
:mod:`.postgres_backend`) supplies the connection, transactions, schema and migrations,
full-text search, and the few statements whose syntax differs (bulk loading, id
reservation). A third backend is one more module with one more subclass.

Rows come back as tuples in the column order of the query.
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Iterable, Iterator, Sequence

from .sql_common import KEYS, SPAN_FIELDS, TABLES  # re-exported: the schema's tables, for the dialects
from .sql_common import cols as _cols
from .sql_common import marks as _marks
from .sql_documents import DocumentQueries
from .sql_events import EventQueries
from .sql_import import ImportQueries
from .sql_export import ExportQueries
from .sql_labels import LabelQueries
from .sql_merge import MergeQueries
from .sql_spans import SpanQueries
from .sql_stats import StatsQueries
from .sql_tables import TableQueries
from .sql_team import TeamQueries

__all__ = ["Backend", "SPAN_FIELDS", "TABLES", "KEYS"]


class Backend(EventQueries, LabelQueries, DocumentQueries, SpanQueries, StatsQueries, TeamQueries, TableQueries,
              MergeQueries, ImportQueries, ExportQueries):
    """One connection to a store database; the dialects fill in the primitives below."""

    #: ``"sqlite"`` or ``"postgresql"``.
    name = ""
    #: What a refused constraint raises (overlapping accepted spans, a missing label...).
    IntegrityError: type[Exception] = Exception
    #: What any database failure raises.
    DatabaseError: type[Exception] = Exception
    #: SQLite's ``sqlite_utils.Database`` (``Store.db``) for the modules not moved onto the
    #: backend yet; a dialect without one refuses them with a message.
    db: Any = None

    # -- primitives each dialect implements --------------------------------------------------

    @property
    def location(self) -> str:
        """The file or URL (without a password) this backend is connected to."""
        raise NotImplementedError

    @property
    def connect_string(self) -> str:
        """What opens this database again (a file path, or the URL as given)."""
        raise NotImplementedError

    @property
    def read_only(self) -> str | None:
        """Why the database is read-only, or None."""
        return None

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Run one statement (portable SQL, ``?`` placeholders); returns a cursor to iterate."""
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def insert_id(self, sql: str, args: Sequence[Any]) -> int:
        """Run an ``INSERT`` into a table with an ``id`` key and return the new row's id."""
        raise NotImplementedError

    def write(self) -> ContextManager[Any]:
        """One write transaction (writers queue, one at a time); nested use is a savepoint."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def reopen(self) -> "Backend":
        """A new connection to the same database (for another thread)."""
        raise NotImplementedError

    def reserve_span_ids(self, n: int) -> list[int]:
        """``n`` span ids that no span has had (inside a write; the spans are inserted next)."""
        raise NotImplementedError

    def search_clause(self, query: str, *, few: bool) -> tuple[str, str, str, list[Any]]:
        """``(source, order, condition, args)`` of a full-text search over title and text.

        ``few``: only a few documents can match the other filters (done or skipped ones),
        so the search is a condition on them rather than the driving table.
        """
        raise NotImplementedError

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-load rows, ids given, inside a write (``COPY`` where the dialect has it)."""
        sql = f"INSERT INTO {table} ({_cols(columns)}) VALUES ({_marks(len(columns))})"
        n = 0
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 1000:
                self.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            self.executemany(sql, batch)
            n += len(batch)
        return n

    def table_names(self) -> set[str]:
        """The data tables of the schema (search index and migration bookkeeping left out)."""
        raise NotImplementedError

    def table_columns(self, table: str) -> list[str]:
        raise NotImplementedError

    def id_high_water(self, table: str) -> int:
        """The highest id ``table`` has ever handed out (a deleted row's id included)."""
        raise NotImplementedError

    def set_id_high_water(self, table: str, value: int) -> None:
        """After rows were copied in with their ids: the next id handed out is above ``value``."""
        raise NotImplementedError

    # -- small helpers -------------------------------------------------------------------------

    def one(self, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.execute(sql, args).fetchone()

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.execute(sql, args).fetchall()]

    def value(self, sql: str, args: Sequence[Any] = (), default: Any = None) -> Any:
        row = self.one(sql, args)
        return row[0] if row is not None else default

    def pairs(self, sql: str, args: Sequence[Any] = ()) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.execute(sql, args).fetchall()}

    def first_after(self, sql: str, column: str, args: Sequence[Any], after: int | None) -> Any:
        """The first value of ``sql`` (its ``{cond}`` slot filled) whose ``column`` is past
        ``after``, wrapping round to the first of all when there is none past it."""
        if after is not None:
            found = self.value(sql.format(cond=f"AND {column} > ?"), [*args, after])
            if found is not None:
                return found
        return self.value(sql.format(cond=""), args)

    @contextlib.contextmanager
    def _no_transaction(self) -> Iterator[None]:
        yield
