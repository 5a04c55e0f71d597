"""The event log and applying its change records: queries shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`: methods use its primitives
(``execute``, ``one``, ``all``, ``value``, ``pairs``, ``first_after``, ``insert_id``) in portable SQL.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from ..history import SPAN_COLUMNS
from .sql_common import SPAN_FIELDS
from .sql_common import marks as _marks


class EventQueries:
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

    def events_after_and_changes(self, annotator: str, seen: int, event_ids: Sequence[int]) \
            -> tuple[list[tuple[int, str, int | None]], dict[int, tuple[int | None, str]]]:
        """:meth:`events_after`, and the ``(doc_id, changes JSON)`` of the events ``event_ids``,
        in one round trip: an undo's look at the log and at what it is likely to undo."""
        rows = self.all(
            "SELECT 0, id, action, target, NULL, NULL FROM events WHERE annotator = ? AND id > ?"
            " UNION ALL SELECT 1, id, NULL, NULL, doc_id, changes FROM events"
            f" WHERE id IN ({_marks(len(event_ids))}) ORDER BY 1, 2",
            [annotator, seen, *event_ids],
        )
        new = [(int(r[1]), r[2], r[3]) for r in rows if r[0] == 0]
        return new, {int(r[1]): (r[4], r[5]) for r in rows if r[0] == 1}

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

    def session_last_event(self, session_id: int) -> int:
        return int(self.value("SELECT coalesce(max(id), 0) FROM events WHERE session_id = ?", [session_id], 0))

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
