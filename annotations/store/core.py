"""The store: one SQLite file holding a corpus, its label set, spans, statuses and event log.

:class:`Store` is the public API the TUI and the command line share. Each user action
(add/relabel/delete a span, accept/reject a suggestion, set a status, undo, redo) is one
write transaction that also appends to the event log, so what the screen shows is already
on disk.

Threading rule: a :class:`Store` (its SQLite connection) belongs to the thread that opened
it. A worker thread calls :meth:`Store.reopen` to get its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

import annotations.store as _store  # late-bound: tests patch ``annotations.store.now``

from .. import db as dbmod
from ..db import StoreError
from ..history import Change, UndoStacks
from .actions import ActionsMixin
from .common import default_db_path
from .documents import DocumentsMixin
from .labels import LabelsMixin
from .sessions import SessionsMixin
from .spans import SpansMixin
from .suggestions import SuggestionsMixin
from .undo import UndoMixin


class Store(LabelsMixin, DocumentsMixin, SpansMixin, ActionsMixin, SuggestionsMixin, UndoMixin, SessionsMixin):
    """A corpus and its annotations in one SQLite file, seen by one annotator."""

    def __init__(self, path: str | Path, annotator: str | None = None) -> None:
        self.path = Path(path)
        self.annotator = annotator or default_annotator()
        self.db: sqlite_utils.Database = dbmod.connect(self.path)
        self._stacks = UndoStacks(self.annotator)
        self._session_id: int | None = None
        self._lengths: dict[int, int] = {}
        self._ensure_default_labels()

    # -- lifecycle ---------------------------------------------------------------------

    def reopen(self, annotator: str | None = None) -> "Store":
        """A new store on the same file, for use in another thread."""
        return Store(self.path, annotator or self.annotator)

    def set_annotator(self, annotator: str) -> None:
        """Work as ``annotator`` from now on; only before a session starts (a served app asks first)."""
        if self._session_id is not None:
            raise StoreError("the annotator cannot change during a session")
        self.annotator = annotator
        self._stacks = UndoStacks(annotator)

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self):
        return dbmod.write(self.db)

    @property
    def read_only(self) -> str | None:
        """Why the database was opened read-only (not writable, newer schema), or None."""
        return dbmod.read_only_reason(self.db)

    def _log(
        self,
        action: str,
        changes: list[Change],
        doc_id: int | None = None,
        target: int | None = None,
        annotator: str | None = None,
    ) -> int:
        cur = self.db.conn.execute(
            "INSERT INTO events (ts, annotator, session_id, doc_id, action, target, changes)"
            " VALUES (?,?,?,?,?,?,?)",
            [_store.now(), annotator or self.annotator, self._session_id, doc_id, action, target,
             json.dumps(changes, ensure_ascii=False)],
        )
        return int(cur.lastrowid)



def open_store(path: str | Path | None = None, annotator: str | None = None) -> Store:
    """Open the database at ``path`` (default :func:`default_db_path`) as ``annotator``."""
    return Store(path or default_db_path(), annotator)
