"""The SQL seam: every query the store makes, written once in SQL both dialects speak.

A :class:`Backend` owns one database connection. The :class:`~annotations.store.Store`
(and the library modules that need data: statistics, the dashboard, evaluation, the
recognisers, the model) call its methods and never write SQL themselves. The methods here
are written in portable SQL: ``?`` placeholders and double-quoted column names where a name
is a keyword (``"end"``, ``"offset"``). A dialect (:mod:`.sqlite_backend`,
:mod:`.postgres_backend`) supplies the connection, transactions, schema and migrations,
full-text search, and the few statements whose syntax differs (bulk loading, id
reservation). A third backend is one more module with one more subclass.

Rows come back as tuples in the column order of the query.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, ContextManager, Iterable, Iterator, Sequence

from ..history import SPAN_COLUMNS
from ..models import STATUSES

__all__ = ["Backend", "SPAN_FIELDS", "TABLES"]

#: The span columns, quoted for SQL (``end`` is a keyword in PostgreSQL).
SPAN_FIELDS = ", ".join(f'"{c}"' for c in SPAN_COLUMNS)

#: Every table of the schema and its columns, in dependency order (what ``annotate copy``
#: copies; the full-text index and migration bookkeeping are rebuilt by each dialect).
TABLES: dict[str, tuple[str, ...]] = {
    "documents": ("id", "hash", "source", "line", "title", "lang", "text", "meta", "created"),
    "labels": ("name", "key", "colour", "description", "position"),
    "spans": SPAN_COLUMNS,
    "doc_status": ("doc_id", "annotator", "status", "updated"),
    "doc_tokens": ("doc_id", "tokenizer", "offsets"),
    "sessions": ("id", "annotator", "started", "ended"),
    "events": ("id", "ts", "annotator", "session_id", "doc_id", "action", "target", "changes"),
    "cursors": ("annotator", "doc_id", "offset", "updated"),
    "patterns": ("id", "label", "pattern", "pattern_id", "source", "created"),
    "import_records": ("doc_id", "annotator", "answer", "fingerprint", "prodigy"),
    "label_map": ("source", "target"),
    "assignments": ("doc_id", "annotator", "created"),
    "reviewers": ("annotator", "created"),
}

#: Primary key columns of each table (the order ``annotate copy`` reads and compares in).
KEYS: dict[str, tuple[str, ...]] = {
    "documents": ("id",), "labels": ("name",), "spans": ("id",), "doc_status": ("doc_id", "annotator"),
    "doc_tokens": ("doc_id",), "sessions": ("id",), "events": ("id",), "cursors": ("annotator",),
    "patterns": ("id",), "import_records": ("doc_id", "annotator"), "label_map": ("source",),
    "assignments": ("doc_id", "annotator"), "reviewers": ("annotator",),
}

_LABEL_FIELDS = "name, key, colour, description, position"


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _cols(cols: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in cols)


class Backend:
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

    @contextlib.contextmanager
    def _no_transaction(self) -> Iterator[None]:
        yield

    # -- event log -------------------------------------------------------------------------------

    def log_event(self, ts: str, annotator: str, session_id: int | None, doc_id: int | None,
                  action: str, target: int | None, changes: list[dict[str, Any]]) -> int:
        return self.insert_id(
            "INSERT INTO events (ts, annotator, session_id, doc_id, action, target, changes)"
            " VALUES (?,?,?,?,?,?,?)",
            [ts, annotator, session_id, doc_id, action, target, json.dumps(changes, ensure_ascii=False)],
        )

    def log_events(self, rows: Iterable[Sequence[Any]]) -> None:
        """Many events at once: ``(ts, annotator, session_id, doc_id, action, target, changes JSON)``."""
        self.executemany(
            "INSERT INTO events (ts, annotator, session_id, doc_id, action, target, changes)"
            " VALUES (?,?,?,?,?,?,?)",
            rows,
        )

    def events_after(self, annotator: str, seen: int) -> list[tuple[int, str, int | None]]:
        """``(id, action, target)`` of an annotator's events newer than ``seen``."""
        return self.all(
            "SELECT id, action, target FROM events WHERE annotator = ? AND id > ? ORDER BY id",
            [annotator, seen],
        )

    def event_changes(self, event_id: int) -> tuple[int | None, list[dict[str, Any]]]:
        row = self.one("SELECT doc_id, changes FROM events WHERE id = ?", [event_id])
        assert row is not None, event_id
        return row[0], json.loads(row[1])

    def events(self, annotator: str | None, limit: int) -> list[tuple[Any, ...]]:
        sql = "SELECT id, ts, annotator, session_id, doc_id, action, target, changes FROM events"
        args: list[Any] = []
        if annotator:
            sql += " WHERE annotator = ?"
            args.append(annotator)
        return self.all(sql + " ORDER BY id DESC LIMIT ?", [*args, limit])

    def last_event_id(self) -> int:
        return int(self.value("SELECT coalesce(max(id), 0) FROM events", default=0))

    def events_since(self, after: int, actions: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
        """``(id, annotator, doc_id, action, changes)`` of every event after ``after``."""
        sql = "SELECT id, annotator, doc_id, action, changes FROM events WHERE id > ?"
        args: list[Any] = [after]
        if actions:
            sql += f" AND action IN ({_marks(len(actions))})"
            args += list(actions)
        return self.all(sql + " ORDER BY id", args)

    def has_event(self, annotator: str, doc_id: int, action: str) -> bool:
        """Whether ``annotator`` logged ``action`` on a document."""
        return self.one("SELECT 1 FROM events WHERE annotator = ? AND doc_id = ? AND action = ? LIMIT 1",
                        [annotator, doc_id, action]) is not None

    def session_events(self, session_id: int) -> list[tuple[str, str]]:
        return self.all("SELECT action, changes FROM events WHERE session_id = ? ORDER BY id", [session_id])

    def session_last_ts(self, session_id: int, default: str) -> str:
        return self.value(
            "SELECT coalesce(max(ts), ?) FROM events WHERE session_id = ?", [default, session_id], default
        )

    # -- history: applying change records ---------------------------------------------------

    def insert_span_row(self, row: dict[str, Any]) -> None:
        self.execute(
            f"INSERT INTO spans ({SPAN_FIELDS}) VALUES ({_marks(len(SPAN_COLUMNS))})",
            [row[c] for c in SPAN_COLUMNS],
        )

    def insert_span_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        """Spans with their ids, columns in :data:`~annotations.history.SPAN_COLUMNS` order."""
        self.executemany(f"INSERT INTO spans ({SPAN_FIELDS}) VALUES ({_marks(len(SPAN_COLUMNS))})", rows)

    def delete_span(self, span_id: int) -> None:
        self.execute("DELETE FROM spans WHERE id = ?", [span_id])

    def update_span(self, span_id: int, after: dict[str, Any], updated: str) -> None:
        for k in after:
            if k not in SPAN_COLUMNS or k == "id":
                raise ValueError(f"not a span column: {k!r}")
        cols = ", ".join(f'"{k}" = ?' for k in after)
        self.execute(f"UPDATE spans SET {cols}, updated = ? WHERE id = ?", [*after.values(), updated, span_id])

    def put_status(self, doc_id: int, annotator: str, status: str | None, updated: str) -> None:
        """Set a document's status for an annotator (``None``: back to no row, i.e. todo)."""
        if status is None:
            self.execute("DELETE FROM doc_status WHERE doc_id = ? AND annotator = ?", [doc_id, annotator])
        else:
            self.execute(
                "INSERT INTO doc_status (doc_id, annotator, status, updated) VALUES (?,?,?,?)"
                " ON CONFLICT (doc_id, annotator) DO UPDATE SET status = excluded.status,"
                " updated = excluded.updated",
                [doc_id, annotator, status, updated],
            )

    # -- labels --------------------------------------------------------------------------------

    def has_labels(self) -> bool:
        return self.one("SELECT 1 FROM labels LIMIT 1") is not None

    def labels(self) -> list[tuple[Any, ...]]:
        return self.all(f"SELECT {_LABEL_FIELDS} FROM labels ORDER BY position, name")

    def label(self, name: str) -> tuple[Any, ...] | None:
        return self.one(f"SELECT {_LABEL_FIELDS} FROM labels WHERE name = ?", [name])

    def insert_label(self, name: str, key: str | None, colour: str, description: str, position: int) -> None:
        self.execute(
            f"INSERT INTO labels ({_LABEL_FIELDS}) VALUES (?,?,?,?,?)", [name, key, colour, description, position]
        )

    def label_with_key(self, key: str, other_than: str) -> str | None:
        return self.value("SELECT name FROM labels WHERE key = ? AND name != ?", [key, other_than])

    def update_label(self, name: str, updates: dict[str, Any]) -> None:
        for k in updates:
            if k not in ("name", "key", "colour", "description", "position"):
                raise ValueError(f"not a label column: {k!r}")
        cols = ", ".join(f'"{k}" = ?' for k in updates)
        self.execute(f"UPDATE labels SET {cols} WHERE name = ?", [*updates.values(), name])

    def count_spans_labelled(self, name: str) -> int:
        return int(self.value("SELECT count(*) FROM spans WHERE label = ?", [name], 0))

    def delete_label(self, name: str) -> None:
        """Remove a label and every span that uses it."""
        self.execute("DELETE FROM spans WHERE label = ?", [name])
        self.execute("DELETE FROM labels WHERE name = ?", [name])

    def label_map(self) -> dict[str, str]:
        return dict(self.all("SELECT source, target FROM label_map"))

    def merge_label_map(self, mapping: dict[str, str]) -> None:
        self.executemany(
            "INSERT INTO label_map (source, target) VALUES (?, ?)"
            " ON CONFLICT (source) DO UPDATE SET target = excluded.target",
            list(mapping.items()),
        )

    # -- documents -----------------------------------------------------------------------------

    def count_documents(self) -> int:
        return int(self.value("SELECT count(*) FROM documents", default=0))

    def document_page(
        self,
        annotator: str,
        everyone: str,
        *,
        status: Sequence[str],
        lang: str | None,
        search: str | None,
        limit: int,
        after: int | None,
        offset: int,
        ids: Sequence[int] | None,
    ) -> list[tuple[Any, ...]]:
        """Rows of :class:`~annotations.models.DocumentSummary` for one page (see ``Store.documents``)."""
        where: list[str] = []
        args: list[Any] = []
        wanted = list(status)
        if wanted:
            # Shaped so the database walks an index (a page of "done" documents must not scan
            # the whole corpus): todo is "no row with another status", the others come from
            # the doc_status index.
            if "todo" in wanted:
                others = [s for s in STATUSES if s not in wanted]
                if others:
                    where.append(
                        "NOT EXISTS (SELECT 1 FROM doc_status s WHERE s.doc_id = d.id"
                        f" AND s.annotator = ? AND s.status IN ({_marks(len(others))}))"
                    )
                    args += [annotator, *others]
            else:
                where.append(
                    "d.id IN (SELECT doc_id FROM doc_status WHERE annotator = ?"
                    f" AND status IN ({_marks(len(wanted))}))"
                )
                args += [annotator, *wanted]
        if lang:
            where.append("d.lang = ?")
            args.append(lang)
        source, order = "documents d", "d.id"
        if search and search.strip():
            few = bool(wanted) and "todo" not in wanted
            src, order_by, cond, sargs = self.search_clause(search, few=few)
            if few:
                where.append(cond)
                args += sargs
            else:
                source, order = src, order_by
                where.insert(0, cond)
                args = sargs + args
        if after is not None:
            where.append(f"{order} > ?")
            args.append(after)
        if ids is not None:
            where.append(f"d.id IN ({_marks(len(ids))})")
            args += list(ids)
        sql = (
            "SELECT d.id, d.title, d.lang, d.source, d.line,"
            " coalesce((SELECT status FROM doc_status WHERE doc_id = d.id AND annotator = ?), 'todo'),"
            " (SELECT count(*) FROM spans WHERE doc_id = d.id AND annotator = ? AND state = 'accepted'),"
            " (SELECT count(*) FROM spans WHERE doc_id = d.id AND annotator = ? AND state = 'pending')"
            " + (SELECT count(*) FROM spans g WHERE g.doc_id = d.id AND g.annotator = ? AND g.state = 'pending'"
            "    AND NOT EXISTS (SELECT 1 FROM spans o WHERE o.doc_id = d.id AND o.annotator = ?"
            '    AND o.start < g."end" AND g.start < o."end"))'
            f" FROM {source}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY {order} LIMIT ? OFFSET ?"
        )
        return self.all(sql, [annotator, annotator, annotator, everyone, annotator, *args, limit, offset])

    def status_counts(self, annotator: str) -> dict[str, int]:
        return self.pairs("SELECT status, count(*) FROM doc_status WHERE annotator = ? GROUP BY status", [annotator])

    def first_unfinished(self, annotator: str, after: int | None) -> int | None:
        sql = (
            "SELECT d.id FROM documents d LEFT JOIN doc_status s ON s.doc_id = d.id"
            " AND s.annotator = ? WHERE (s.status IS NULL OR s.status = 'todo') {cond}"
            " ORDER BY d.id LIMIT 1"
        )
        if after is not None:
            found = self.value(sql.format(cond="AND d.id > ?"), [annotator, after])
            if found is not None:
                return found
        return self.value(sql.format(cond=""), [annotator])

    def neighbour(self, doc_id: int, step: int) -> int | None:
        if step > 0:
            return self.value("SELECT id FROM documents WHERE id > ? ORDER BY id LIMIT 1", [doc_id])
        return self.value("SELECT id FROM documents WHERE id < ? ORDER BY id DESC LIMIT 1", [doc_id])

    def document_ids(self) -> list[int]:
        return [r[0] for r in self.execute("SELECT id FROM documents ORDER BY id")]

    def document(self, doc_id: int) -> tuple[Any, ...] | None:
        """``(id, text, title, lang, source, line, hash, meta JSON)``."""
        return self.one(
            "SELECT id, text, title, lang, source, line, hash, meta FROM documents WHERE id = ?", [doc_id]
        )

    def document_text(self, doc_id: int) -> str | None:
        return self.value("SELECT text FROM documents WHERE id = ?", [doc_id])

    def document_text_lang(self, doc_id: int) -> tuple[str, str] | None:
        return self.one("SELECT text, lang FROM documents WHERE id = ?", [doc_id])

    def document_lang(self, doc_id: int) -> str | None:
        return self.value("SELECT lang FROM documents WHERE id = ?", [doc_id])

    def document_exists(self, doc_id: int) -> bool:
        return self.one("SELECT 1 FROM documents WHERE id = ?", [doc_id]) is not None

    def document_by_hash(self, content_hash: str) -> int | None:
        return self.value("SELECT id FROM documents WHERE hash = ?", [content_hash])

    def document_texts(self, ids: Sequence[int]) -> Iterator[tuple[int, str, str]]:
        """``(id, text, lang)`` of the documents ``ids`` (any order), in chunks."""
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            yield from self.execute(f"SELECT id, text, lang FROM documents WHERE id IN ({_marks(len(part))})", part)

    def documents_after(self, after: int, limit: int, columns: Sequence[str] = ("id", "text", "lang")) -> list[tuple[Any, ...]]:
        """A keyset page of documents in id order (flat memory at any depth)."""
        for c in columns:
            if c not in TABLES["documents"]:
                raise ValueError(f"not a document column: {c!r}")
        return self.all(f"SELECT {_cols(columns)} FROM documents WHERE id > ? ORDER BY id LIMIT ?", [after, limit])

    def cached_tokens(self, doc_id: int) -> tuple[str, bytes] | None:
        row = self.one("SELECT tokenizer, offsets FROM doc_tokens WHERE doc_id = ?", [doc_id])
        return (row[0], bytes(row[1])) if row else None

    def cached_tokens_many(self, ids: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        out: dict[int, tuple[str, bytes]] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            for doc_id, tokenizer, blob in self.execute(
                f"SELECT doc_id, tokenizer, offsets FROM doc_tokens WHERE doc_id IN ({_marks(len(part))})", part
            ):
                out[doc_id] = (tokenizer, bytes(blob))
        return out

    def cache_tokens(self, doc_id: int, tokenizer: str, blob: bytes) -> None:
        self.execute(
            "INSERT INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)"
            " ON CONFLICT (doc_id) DO UPDATE SET tokenizer = excluded.tokenizer, offsets = excluded.offsets",
            [doc_id, tokenizer, blob],
        )

    def status(self, doc_id: int, annotator: str) -> str | None:
        return self.value("SELECT status FROM doc_status WHERE doc_id = ? AND annotator = ?", [doc_id, annotator])

    def statuses_of(self, annotator: str, ids: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            out.update(self.all(
                f"SELECT doc_id, status FROM doc_status WHERE annotator = ? AND doc_id IN ({_marks(len(part))})",
                [annotator, *part],
            ))
        return out

    def decided_statuses(self, annotator: str | None = None) -> list[tuple[int, str, str]]:
        """``(doc_id, annotator, status)`` of every status but todo (one annotator's, or everyone's)."""
        if annotator is None:
            return self.all("SELECT doc_id, annotator, status FROM doc_status WHERE status != 'todo'")
        return self.all("SELECT doc_id, annotator, status FROM doc_status WHERE status != 'todo' AND annotator = ?",
                        [annotator])

    def doc_ids_with_status(self, status: str, annotator: str | None = None) -> list[tuple[str, int]]:
        """``(annotator, doc_id)`` pairs with ``status`` (all annotators unless one is named)."""
        if annotator is None:
            return self.all("SELECT annotator, doc_id FROM doc_status WHERE status = ?", [status])
        return self.all("SELECT annotator, doc_id FROM doc_status WHERE status = ? AND annotator = ?",
                        [status, annotator])

    # -- bulk loading (imports) ---------------------------------------------------------------

    def bulk_index(self) -> ContextManager[Any]:
        """Inside a write: documents inserted in the block are indexed for search in batches.

        Yields ``flush()``. SQLite defers its FTS5 trigger (:func:`annotations.db.deferred_fts`);
        a dialect whose index follows every row by itself yields a no-op.
        """
        return contextlib.nullcontext(lambda: None)

    def insert_document(self, hash_: str, source: str, line: int | None, title: str, lang: str, text: str,
                        meta: str, created: str) -> int | None:
        """Add a document; its id, or ``None`` when one with that content hash is already there."""
        row = self.one(
            "INSERT INTO documents (hash, source, line, title, lang, text, meta, created)"
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (hash) DO NOTHING RETURNING id",
            [hash_, source, line, title, lang, text, meta, created],
        )
        return int(row[0]) if row else None

    def insert_documents(self, rows: Sequence[Sequence[Any]]) -> list[tuple[int, bool]]:
        """Many documents, rows of ``(hash, source, line, title, lang, text, meta JSON, created)``;
        ``(id, added)`` for each, in order (``added`` False: that text was already there)."""
        out: list[tuple[int, bool]] = []
        for row in rows:
            new = self.insert_document(*row)
            out.append((new, True) if new is not None else (int(self.document_by_hash(row[0])), False))
        return out

    def cache_tokens_if_absent(self, doc_id: int, tokenizer: str, blob: bytes) -> None:
        self.execute(
            "INSERT INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?) ON CONFLICT (doc_id) DO NOTHING",
            [doc_id, tokenizer, blob],
        )

    def document_origin(self, doc_id: int) -> tuple[str, int | None] | None:
        """``(source, line)`` a document was imported from."""
        return self.one("SELECT source, line FROM documents WHERE id = ?", [doc_id])

    def delete_accepted(self, doc_id: int, annotator: str) -> None:
        self.execute("DELETE FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'accepted'", [doc_id, annotator])

    def put_import_record(self, doc_id: int, annotator: str, answer: str | None, fingerprint: str, prodigy: str) -> None:
        self.execute(
            "INSERT INTO import_records (doc_id, annotator, answer, fingerprint, prodigy) VALUES (?,?,?,?,?)"
            " ON CONFLICT (doc_id, annotator) DO UPDATE SET answer = excluded.answer,"
            " fingerprint = excluded.fingerprint, prodigy = excluded.prodigy",
            [doc_id, annotator, answer, fingerprint, prodigy],
        )

    def import_records(self, after: int, limit: int) -> list[tuple[Any, ...]]:
        """A keyset page of ``(doc_id, annotator, answer, fingerprint, prodigy)`` by document."""
        return self.all(
            "SELECT doc_id, annotator, answer, fingerprint, prodigy FROM import_records WHERE doc_id > ?"
            " ORDER BY doc_id, annotator LIMIT ?", [after, limit],
        )

    # -- spans ---------------------------------------------------------------------------------

    def spans(self, doc_id: int, annotator: str, states: Sequence[str]) -> list[tuple[Any, ...]]:
        return self.all(
            f"SELECT {SPAN_FIELDS} FROM spans WHERE doc_id = ? AND annotator = ?"
            f' AND state IN ({_marks(len(states))}) ORDER BY start, "end"',
            [doc_id, annotator, *states],
        )

    def shared_visible(self, doc_id: int, everyone: str, who: str) -> list[tuple[Any, ...]]:
        """Pending spans of ``everyone`` in a document that ``who`` has no span of their own over."""
        fields = ", ".join(f'g."{c}"' for c in SPAN_COLUMNS)
        return self.all(
            f"SELECT {fields} FROM spans g WHERE g.doc_id = ? AND g.annotator = ? AND g.state = 'pending'"
            " AND NOT EXISTS (SELECT 1 FROM spans o WHERE o.doc_id = g.doc_id AND o.annotator = ?"
            ' AND o.start < g."end" AND g.start < o."end") ORDER BY g.start, g."end"',
            [doc_id, everyone, who],
        )

    def has_pending(self, doc_id: int, annotator: str) -> bool:
        return self.one(
            "SELECT 1 FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'pending' LIMIT 1",
            [doc_id, annotator],
        ) is not None

    def span(self, span_id: int) -> tuple[Any, ...] | None:
        return self.one(f"SELECT {SPAN_FIELDS} FROM spans WHERE id = ?", [span_id])

    def accepted_starting_in(self, doc_id: int, annotator: str, start: int, end: int) -> list[tuple[Any, ...]]:
        return self.all(
            f"SELECT {SPAN_FIELDS} FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'accepted'"
            " AND start >= ? AND start < ? ORDER BY start",
            [doc_id, annotator, start, end],
        )

    def accepted_before(self, doc_id: int, annotator: str, start: int) -> tuple[Any, ...] | None:
        """The last accepted span starting before ``start`` (the only one that can reach into it)."""
        return self.one(
            f"SELECT {SPAN_FIELDS} FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'accepted'"
            " AND start < ? ORDER BY start DESC LIMIT 1",
            [doc_id, annotator, start],
        )

    def overlapping(self, doc_id: int, annotator: str, state: str, start: int, end: int) -> list[tuple[Any, ...]]:
        return self.all(
            f"SELECT {SPAN_FIELDS} FROM spans WHERE doc_id = ? AND annotator = ? AND state = ?"
            ' AND start < ? AND ? < "end" ORDER BY start',
            [doc_id, annotator, state, end, start],
        )

    def insert_span(self, doc_id: int, start: int, end: int, label: str, annotator: str, origin: str,
                    state: str, score: float | None, ts: str) -> int:
        return self.insert_id(
            'INSERT INTO spans (doc_id, start, "end", label, annotator, origin, state, score,'
            " created, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [doc_id, start, end, label, annotator, origin, state, score, ts, ts],
        )

    def span_ranges(self, annotator: str, ids: Sequence[int]) -> list[tuple[int, int, int, str]]:
        """``(doc_id, start, end, state)`` of an annotator's spans in the documents ``ids``."""
        out: list[tuple[int, int, int, str]] = []
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            out += self.all(
                f'SELECT doc_id, start, "end", state FROM spans WHERE annotator = ? AND doc_id IN ({_marks(len(part))})',
                [annotator, *part],
            )
        return out

    def spans_in_state(self, doc_id: int, annotator: str, state: str) -> list[tuple[int, int, str]]:
        """``(start, end, label)`` of a document's spans of one annotator in one state."""
        return self.all(
            'SELECT start, "end", label FROM spans WHERE doc_id = ? AND annotator = ? AND state = ?'
            ' ORDER BY start, "end"',
            [doc_id, annotator, state],
        )

    def accepted_spans(self, annotator: str | None = None, doc_ids: Sequence[int] | None = None) -> list[tuple[Any, ...]]:
        """``(doc_id, annotator, start, end, label)`` of accepted spans (of one annotator, in some documents)."""
        sql = "SELECT doc_id, annotator, start, \"end\", label FROM spans WHERE state = 'accepted'"
        args: list[Any] = []
        if annotator is not None:
            sql += " AND annotator = ?"
            args.append(annotator)
        if doc_ids is not None:
            out: list[tuple[Any, ...]] = []
            ids = list(doc_ids)
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                out += self.all(sql + f' AND doc_id IN ({_marks(len(part))}) ORDER BY doc_id, annotator, start, "end"',
                                [*args, *part])
            return out
        return self.all(sql + ' ORDER BY doc_id, annotator, start, "end"', args)

    def accepted_documents(self, annotator: str | None = None) -> list[tuple[int, str]]:
        """``(doc_id, annotator)`` pairs that have accepted spans."""
        if annotator is None:
            return self.all("SELECT DISTINCT doc_id, annotator FROM spans WHERE state = 'accepted' ORDER BY doc_id, annotator")
        return self.all("SELECT DISTINCT doc_id, annotator FROM spans WHERE state = 'accepted' AND annotator = ?"
                        " ORDER BY doc_id, annotator", [annotator])

    def accepted_span_texts(self, annotator: str | None) -> list[tuple[int, str, str, str]]:
        """``(id, label, lang, covered text)`` of accepted spans (one annotator's, or everyone's), by id."""
        sql = ('SELECT s.id, s.label, d.lang, substr(d.text, s.start + 1, s."end" - s.start)'
               " FROM spans s JOIN documents d ON d.id = s.doc_id WHERE s.state = 'accepted'")
        if annotator is None:
            return self.all(sql + " ORDER BY s.id")
        return self.all(sql + " AND s.annotator = ? ORDER BY s.id", [annotator])

    def accepted_span_text(self, span_id: int, annotator: str | None) -> tuple[str, str, str] | None:
        """``(label, lang, covered text)`` of one accepted span (if it is ``annotator``'s, when named)."""
        sql = ('SELECT s.label, d.lang, substr(d.text, s.start + 1, s."end" - s.start)'
               " FROM spans s JOIN documents d ON d.id = s.doc_id WHERE s.id = ? AND s.state = 'accepted'")
        if annotator is None:
            return self.one(sql, [span_id])
        return self.one(sql + " AND s.annotator = ?", [span_id, annotator])

    def accepted_labels(self, annotator: str | None) -> dict[int, str]:
        """``{span id: label}`` of accepted spans (one annotator's, or everyone's)."""
        if annotator is None:
            return dict(self.all("SELECT id, label FROM spans WHERE state = 'accepted'"))
        return dict(self.all("SELECT id, label FROM spans WHERE annotator = ? AND state = 'accepted'", [annotator]))

    def span_decisions(self, annotator: str, doc_ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """``(doc_id, origin, start, end, label, score, state)`` of an annotator's spans in some documents."""
        out: list[tuple[Any, ...]] = []
        ids = list(doc_ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            out += self.all(
                'SELECT doc_id, origin, start, "end", label, score, state FROM spans'
                f" WHERE annotator = ? AND doc_id IN ({_marks(len(part))})",
                [annotator, *part],
            )
        return out

    def documents_with_tokens(self, after: int, limit: int, *, todo_for: str | None = None,
                              ids: Sequence[int] | None = None) -> list[tuple[Any, ...]]:
        """A keyset page of ``(id, text, lang, tokenizer, offsets)`` (token cache or NULLs) in id order:
        only documents still todo for ``todo_for`` when named, only ``ids`` when given."""
        where = ["d.id > ?"]
        args: list[Any] = [after]
        if todo_for is not None:
            where.append("NOT EXISTS (SELECT 1 FROM doc_status s WHERE s.doc_id = d.id AND s.annotator = ?"
                         " AND s.status != 'todo')")
            args.append(todo_for)
        if ids is not None:
            where.append(f"d.id IN ({_marks(len(ids))})")
            args += list(ids)
        rows = self.all(
            "SELECT d.id, d.text, d.lang, t.tokenizer, t.offsets FROM documents d"
            " LEFT JOIN doc_tokens t ON t.doc_id = d.id WHERE " + " AND ".join(where) + " ORDER BY d.id LIMIT ?",
            [*args, limit],
        )
        return [(i, text, lang, tok, bytes(blob) if blob is not None else None) for i, text, lang, tok, blob in rows]

    def labelled_ids(self, annotator: str) -> list[int]:
        """Documents an annotator labelled: marked done or holding accepted spans, not skipped."""
        return sorted(r[0] for r in self.execute(
            "SELECT doc_id FROM spans WHERE annotator = ? AND state = 'accepted'"
            " UNION SELECT doc_id FROM doc_status WHERE annotator = ? AND status = 'done'"
            " EXCEPT SELECT doc_id FROM doc_status WHERE annotator = ? AND status = 'skipped'",
            [annotator, annotator, annotator],
        ))

    def todo_ids(self, annotator: str) -> list[int]:
        """Every document still todo for an annotator, in import order."""
        return [r[0] for r in self.execute(
            "SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM doc_status s"
            " WHERE s.doc_id = d.id AND s.annotator = ? AND s.status != 'todo') ORDER BY d.id",
            [annotator],
        )]

    def documents_in_language(self, lang: str, limit: int) -> list[tuple[int, str]]:
        """``(id, text)`` of the first ``limit`` documents in a language."""
        return self.all("SELECT id, text FROM documents WHERE lang = ? ORDER BY id LIMIT ?", [lang, limit])

    def spans_from_origin(self, lang: str, origin: str) -> list[tuple[int, int, int, str]]:
        """``(doc_id, start, end, label)`` of one recogniser's spans (not rejected) in documents of a language."""
        return self.all(
            'SELECT s.doc_id, s.start, s."end", s.label FROM spans s JOIN documents d ON d.id = s.doc_id'
            " WHERE d.lang = ? AND s.origin = ? AND s.state != 'rejected' ORDER BY s.doc_id, s.id",
            [lang, origin],
        )

    # -- cursor and sessions -----------------------------------------------------------------

    def save_cursor(self, annotator: str, doc_id: int, offset: int, ts: str) -> None:
        self.execute(
            'INSERT INTO cursors (annotator, doc_id, "offset", updated) VALUES (?,?,?,?)'
            ' ON CONFLICT (annotator) DO UPDATE SET doc_id = excluded.doc_id,'
            ' "offset" = excluded."offset", updated = excluded.updated',
            [annotator, doc_id, offset, ts],
        )

    def cursor(self, annotator: str) -> tuple[int, int] | None:
        row = self.one(
            'SELECT c.doc_id, c."offset" FROM cursors c JOIN documents d ON d.id = c.doc_id WHERE c.annotator = ?',
            [annotator],
        )
        return (row[0], row[1]) if row else None

    def start_session(self, annotator: str, ts: str) -> int:
        return self.insert_id("INSERT INTO sessions (annotator, started) VALUES (?, ?)", [annotator, ts])

    def end_session(self, session_id: int, ts: str) -> None:
        self.execute("UPDATE sessions SET ended = ? WHERE id = ?", [ts, session_id])

    def session(self, session_id: int) -> tuple[str, str, str | None] | None:
        return self.one("SELECT annotator, started, ended FROM sessions WHERE id = ?", [session_id])

    def session_ids(self, annotator: str) -> list[int]:
        return [r[0] for r in self.execute("SELECT id FROM sessions WHERE annotator = ? ORDER BY id", [annotator])]

    # -- statistics --------------------------------------------------------------------------

    def annotators(self) -> list[str]:
        """Everyone with a status, a span or a session, sorted."""
        return sorted({
            r[0] for r in self.execute(
                "SELECT annotator FROM doc_status UNION SELECT annotator FROM spans UNION SELECT annotator FROM sessions"
            )
        })

    def count_spans(self) -> int:
        return int(self.value("SELECT count(*) FROM spans", default=0))

    def spans_by_state(self, annotator: str | None = None) -> dict[str, int]:
        if annotator is None:
            return self.pairs("SELECT state, count(*) FROM spans GROUP BY state ORDER BY state")
        return self.pairs("SELECT state, count(*) FROM spans WHERE annotator = ? GROUP BY state", [annotator])

    def accepted_by_label(self, annotator: str | None = None) -> dict[str, int]:
        if annotator is None:
            return self.pairs("SELECT label, count(*) FROM spans WHERE state = 'accepted' GROUP BY label ORDER BY label")
        return self.pairs(
            "SELECT label, count(*) FROM spans WHERE annotator = ? AND state = 'accepted' GROUP BY label ORDER BY label",
            [annotator],
        )

    def accepted_by_origin(self) -> dict[str, int]:
        return self.pairs("SELECT origin, count(*) FROM spans WHERE state = 'accepted' GROUP BY origin ORDER BY origin")

    def documents_by_language(self, todo_for: str | None = None) -> dict[str, int]:
        """Documents per language (only those still todo for ``todo_for``, when named)."""
        if todo_for is None:
            return self.pairs("SELECT lang, count(*) FROM documents GROUP BY lang ORDER BY lang")
        return self.pairs(
            "SELECT lang, count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM doc_status s"
            " WHERE s.doc_id = d.id AND s.annotator = ? AND s.status != 'todo') GROUP BY lang ORDER BY lang",
            [todo_for],
        )

    def finished_by_annotator(self) -> dict[str, int]:
        """Documents marked done or skipped, per annotator."""
        return self.pairs("SELECT annotator, count(*) FROM doc_status WHERE status != 'todo' GROUP BY annotator")

    def accepted_by_annotator(self) -> dict[str, int]:
        return self.pairs("SELECT annotator, count(*) FROM spans WHERE state = 'accepted' GROUP BY annotator")

    def count_accepted(self, annotator: str | None = None) -> int:
        if annotator is None:
            return int(self.value("SELECT count(*) FROM spans WHERE state = 'accepted'", default=0))
        return int(self.value("SELECT count(*) FROM spans WHERE state = 'accepted' AND annotator = ?", [annotator], 0))

    def session_annotators(self, limit: int) -> list[str]:
        """Everyone who has had a tagging session, sorted (at most ``limit``)."""
        return [r[0] for r in self.execute("SELECT DISTINCT annotator FROM sessions ORDER BY annotator LIMIT ?", [limit])]

    def documents_by_status(self) -> dict[str, int]:
        return self.pairs("SELECT status, count(DISTINCT doc_id) FROM doc_status GROUP BY status ORDER BY status")

    def done_events(self) -> list[tuple[str, int, str]]:
        """``(annotator, doc_id, last ts)`` for every document an event marked done (dialect: JSON)."""
        raise NotImplementedError

    def shared_done(self) -> list[tuple[int, str]]:
        """``(doc_id, annotator)`` marked done, for documents two or more annotators marked done."""
        return self.all(
            "SELECT doc_id, annotator FROM doc_status WHERE status = 'done' AND doc_id IN"
            " (SELECT doc_id FROM doc_status WHERE status = 'done' GROUP BY doc_id HAVING count(*) > 1)"
            " ORDER BY doc_id, annotator"
        )

    def shared_done_spans(self) -> list[tuple[int, str, int, int, str]]:
        """``(doc_id, annotator, start, end, label)`` accepted in the documents of :meth:`shared_done`."""
        return self.all(
            'SELECT s.doc_id, s.annotator, s.start, s."end", s.label FROM spans s JOIN doc_status d'
            " ON d.doc_id = s.doc_id AND d.annotator = s.annotator AND d.status = 'done'"
            " WHERE s.state = 'accepted' AND s.doc_id IN"
            " (SELECT doc_id FROM doc_status WHERE status = 'done' GROUP BY doc_id HAVING count(*) > 1)"
        )

    # -- teams: assignments and reviewers ------------------------------------------------------

    def finished_doc_ids(self) -> set[int]:
        """Documents anyone marked done or skipped."""
        return {r[0] for r in self.execute("SELECT DISTINCT doc_id FROM doc_status WHERE status IN ('done', 'skipped')")}

    def document_hashes(self, lang: str | None = None) -> list[tuple[int, str]]:
        """``(id, hash)`` of every document (of one language), in import order."""
        if lang:
            return self.all("SELECT id, hash FROM documents WHERE lang = ? ORDER BY id", [lang])
        return self.all("SELECT id, hash FROM documents ORDER BY id")

    def assignments(self) -> list[tuple[int, str]]:
        return self.all("SELECT doc_id, annotator FROM assignments ORDER BY doc_id, annotator")

    def insert_assignments(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """``(doc_id, annotator, created)`` rows."""
        self.executemany("INSERT INTO assignments (doc_id, annotator, created) VALUES (?,?,?)", rows)

    def has_assignments(self, annotator: str) -> bool:
        return self.one("SELECT 1 FROM assignments WHERE annotator = ? LIMIT 1", [annotator]) is not None

    def assigned_ids(self, annotator: str) -> list[int]:
        return [r[0] for r in self.execute("SELECT doc_id FROM assignments WHERE annotator = ? ORDER BY doc_id",
                                           [annotator])]

    def queue_counts(self, annotator: str) -> tuple[int, int, int]:
        """``(assigned, done, skipped)`` of an annotator's assigned documents."""
        row = self.one(
            "SELECT count(*), sum(CASE WHEN s.status = 'done' THEN 1 ELSE 0 END),"
            " sum(CASE WHEN s.status = 'skipped' THEN 1 ELSE 0 END) FROM assignments a"
            " LEFT JOIN doc_status s ON s.doc_id = a.doc_id AND s.annotator = a.annotator WHERE a.annotator = ?",
            [annotator],
        )
        assert row is not None
        return int(row[0]), int(row[1] or 0), int(row[2] or 0)

    def next_assigned(self, annotator: str, after: int | None) -> int | None:
        """The next assigned document still todo for ``annotator`` after ``after``, wrapping round."""
        sql = (
            "SELECT a.doc_id FROM assignments a LEFT JOIN doc_status s ON s.doc_id = a.doc_id"
            " AND s.annotator = a.annotator WHERE a.annotator = ? AND (s.status IS NULL OR s.status = 'todo')"
            " {cond} ORDER BY a.doc_id LIMIT 1"
        )
        if after is not None:
            found = self.value(sql.format(cond="AND a.doc_id > ?"), [annotator, after])
            if found is not None:
                return found
        return self.value(sql.format(cond=""), [annotator])

    def done_annotators(self) -> list[str]:
        """Everyone who marked at least one document done, by name."""
        return [r[0] for r in self.execute("SELECT DISTINCT annotator FROM doc_status WHERE status = 'done' ORDER BY annotator")]

    def reviewers(self) -> list[str]:
        return [r[0] for r in self.execute("SELECT annotator FROM reviewers ORDER BY annotator")]

    def add_reviewer(self, annotator: str, ts: str) -> None:
        self.execute("INSERT INTO reviewers (annotator, created) VALUES (?, ?) ON CONFLICT (annotator) DO NOTHING",
                     [annotator, ts])

    def done_by(self, annotators: Sequence[str]) -> list[tuple[int, str]]:
        """``(doc_id, annotator)`` marked done by any of ``annotators``, by document."""
        if not annotators:
            return []
        return self.all(
            f"SELECT doc_id, annotator FROM doc_status WHERE status = 'done' AND annotator IN ({_marks(len(annotators))})"
            " ORDER BY doc_id, annotator", list(annotators),
        )

    def accepted_layers(self, annotators: Sequence[str], labels: Sequence[str] = ()) -> list[tuple[int, str, str]]:
        """``(doc_id, annotator, JSON [[start, end, label], ...])``: each layer of accepted spans (dialect: JSON)."""
        raise NotImplementedError

    def titles(self, doc_ids: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        ids = list(doc_ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            out.update(self.all(f"SELECT id, title FROM documents WHERE id IN ({_marks(len(part))})", part))
        return out

    # -- patterns (the patterns recogniser) --------------------------------------------------

    def replace_patterns(self, source: str, rows: Sequence[tuple[str, str, str | None]], ts: str) -> None:
        """Replace the patterns from ``source`` by ``rows`` of ``(label, pattern JSON, pattern_id)``."""
        self.execute("DELETE FROM patterns WHERE source = ?", [source])
        self.executemany(
            "INSERT INTO patterns (label, pattern, pattern_id, source, created) VALUES (?,?,?,?,?)",
            [(label, pattern, pid, source, ts) for label, pattern, pid in rows],
        )

    def patterns(self, source: str | None = None) -> list[tuple[str, str, str | None, str]]:
        """``(label, pattern JSON, pattern_id, source)`` in insertion order."""
        if source is None:
            return self.all("SELECT label, pattern, pattern_id, source FROM patterns ORDER BY id")
        return self.all("SELECT label, pattern, pattern_id, source FROM patterns WHERE source = ? ORDER BY id", [source])

    def delete_patterns(self, source: str | None = None) -> int:
        if source is None:
            n = int(self.value("SELECT count(*) FROM patterns", default=0))
            self.execute("DELETE FROM patterns")
        else:
            n = int(self.value("SELECT count(*) FROM patterns WHERE source = ?", [source], 0))
            self.execute("DELETE FROM patterns WHERE source = ?", [source])
        return n

    # -- whole tables (annotate copy) ---------------------------------------------------------

    def table_rows(self, table: str, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
        """Every row of ``table`` in key order, read in keyset pages (flat memory)."""
        cols, keys = TABLES[table], KEYS[table]
        sql = f"SELECT {_cols(cols)} FROM {table}"
        order = " ORDER BY " + ", ".join(f'"{k}"' for k in keys)
        key_at = [cols.index(k) for k in keys]
        last: tuple[Any, ...] | None = None
        while True:
            if last is None:
                rows = self.all(sql + order + " LIMIT ?", [batch])
            else:
                cond = " OR ".join(
                    "(" + " AND ".join([f'"{k}" = ?' for k in keys[:i]] + [f'"{keys[i]}" > ?']) + ")"
                    for i in range(len(keys))
                )
                args = [v for i in range(len(keys)) for v in last[:i + 1]]
                rows = self.all(sql + f" WHERE {cond}" + order + " LIMIT ?", [*args, batch])
            if not rows:
                return
            for row in rows:
                yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            last = tuple(rows[-1][i] for i in key_at)

    def count_rows(self, table: str) -> int:
        if table not in TABLES:
            raise ValueError(f"no table {table!r}")
        return int(self.value(f"SELECT count(*) FROM {table}", default=0))

    def is_empty(self) -> bool:
        """No documents, spans or events (labels alone are the defaults every new store has)."""
        return all(self.count_rows(t) == 0 for t in ("documents", "spans", "events", "sessions"))

    def clear_labels(self) -> None:
        """Drop the default labels of a new, empty store (before copying another's in)."""
        self.execute("DELETE FROM labels")
