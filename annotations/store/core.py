"""The store: one database (a SQLite file, or PostgreSQL) holding a corpus, its label set, spans, statuses and event log.

:class:`Store` is the public API the TUI and the command line share. Each user action
(add/relabel/delete a span, accept/reject a suggestion, set a status, undo, redo) is one
write transaction that also appends to the event log, so what the screen shows is already
on disk.

Threading rule: a :class:`Store` (its database connection) belongs to the thread that opened
it. A worker thread calls :meth:`Store.reopen` to get its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ContextManager

import annotations.store as _store  # late-bound: tests patch ``annotations.store.now``

from ..db import StoreError
from ..history import Change, UndoStacks
from .actions import ActionsMixin
from .backend import Backend
from .bulk import BulkMixin
from .common import default_annotator, default_db_path
from .documents import DocumentsMixin
from .labels import LabelsMixin
from .sessions import SessionsMixin
from .spans import SpansMixin
from .suggestions import SuggestionsMixin
from .undo import UndoMixin

#: URL schemes that open a PostgreSQL store instead of a SQLite file.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names a PostgreSQL database rather than a file."""
    text = str(location)
    # A URL that went through pathlib lost one slash ("postgresql:/user@host/db").
    return text.startswith(POSTGRES_SCHEMES) or text.startswith(("postgresql:/", "postgres:/"))


def connect_backend(location: str | os.PathLike[str]) -> Backend:
    """The backend for a file path (SQLite) or a ``postgresql://`` URL."""
    if is_postgres_url(location):
        from .postgres_backend import PostgresBackend

        text = str(location)
        if not text.startswith(POSTGRES_SCHEMES):
            scheme, rest = text.split(":/", 1)
            text = f"{scheme}://{rest}"
        return PostgresBackend(text)
    from .sqlite_backend import SQLiteBackend

    return SQLiteBackend(Path(location))


class Store(
    LabelsMixin, DocumentsMixin, SpansMixin, ActionsMixin, SuggestionsMixin, UndoMixin, SessionsMixin, BulkMixin
):
    """A corpus and its annotations in one database, seen by one annotator.

    ``path`` is a SQLite file or a ``postgresql://`` URL. ``backend`` (the connection and
    its dialect, :mod:`annotations.store.backend`) holds every query; ``db`` is the
    sqlite-utils database of a SQLite store (for the modules not yet moved onto the
    backend); on PostgreSQL an object that refuses, naming the module that asked.
    """

    def __init__(self, path: str | Path, annotator: str | None = None, *, backend: Backend | None = None) -> None:
        self._b: Backend = backend if backend is not None else connect_backend(path)
        self.backend = self._b
        #: The SQLite file; on PostgreSQL a local path named for the database, beside which
        #: per-database files (trained models: ``<path>.models/``) are kept.
        self.path: Path = getattr(self._b, "path")
        self.url: str = self._b.location
        self.db: Any = self._b.db
        self.annotator = annotator or default_annotator()
        self._stacks = UndoStacks(self.annotator)
        self._session_id: int | None = None
        self._lengths: dict[int, int] = {}
        #: The id of the last event this store logged (0: none yet). Read before an action
        #: that then loses the server, it proves whether the action was committed after all
        #: (:meth:`session_last_event`): ids only grow, and writers go one at a time.
        self.last_logged = 0
        self._last_entry: tuple[int, str, list[Change]] | None = None
        #: Labels checked to exist (:meth:`_check_label`): not asked for again.
        self._known_labels: set[str] = set()
        self._ensure_default_labels()
        if backend is None and self._b.import_in_progress() and not self.read_only:
            # An import killed while publishing left part of a file: take it back now, not
            # only at the next import (one indexed read when there is none).
            from ..importer import recover_interrupted_imports

            recover_interrupted_imports(self)

    # -- lifecycle ---------------------------------------------------------------------

    def reopen(self, annotator: str | None = None) -> "Store":
        """A new store on the same database (its own connection), for use in another thread."""
        return Store(self.url, annotator or self.annotator, backend=self._b.reopen())

    def adopt(self, other: "Store") -> None:
        """Carry on over ``other``'s connection (opened by :meth:`reopen`, e.g. in a worker
        thread that waited for a lost server to come back), which then belongs to this
        store's thread; this store's own connection is closed. The session, the annotator
        and the undo stacks stay."""
        if other is self or other._b is self._b:
            return
        old, self._b = self._b, other._b
        self.backend, self.db = self._b, self._b.db
        other._b = old
        old.close()

    def session_last_event(self) -> int:
        """The newest event this session logged (0: none). After a lost connection it tells
        whether the action that met it was committed after all: each action logs one event
        in its own transaction, so no event past the last one seen proves it was not."""
        if not self._session_id:
            return 0
        return self._b.session_last_event(self._session_id)

    @property
    def location(self) -> str:
        """What opens this same database again in another thread or process: the file's path,
        or the PostgreSQL URL as given (with its password: never print it; :attr:`url` is the
        printable one)."""
        return self._b.connect_string

    def set_annotator(self, annotator: str) -> None:
        """Work as ``annotator`` from now on; only before a session starts (a served app asks first)."""
        if self._session_id is not None:
            raise StoreError("the annotator cannot change during a session")
        self.annotator = annotator
        self._stacks = UndoStacks(annotator)

    def close(self) -> None:
        self._b.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> ContextManager[Any]:
        return self._b.write()

    def transaction(self) -> ContextManager[Any]:
        """One write transaction for several store calls (nested calls become savepoints)."""
        return self._b.write()

    @property
    def read_only(self) -> str | None:
        """Why the database was opened read-only (not writable, newer schema), or None."""
        return self._b.read_only

    def _log(
        self,
        action: str,
        changes: list[Change],
        doc_id: int | None = None,
        target: int | None = None,
        annotator: str | None = None,
    ) -> int:
        self.last_logged = self._b.log_event(
            _store.now(), annotator or self.annotator, self._session_id, doc_id, action, target, changes
        )
        self._last_entry = (self.last_logged, action, changes)
        return self.last_logged

    def logged_event(self, event_id: int) -> dict[str, Any] | None:
        """``{"id", "action", "changes"}`` of the event this store logged last, if it is
        ``event_id`` (what an action's caller shows, without reading it back); else ``None``."""
        entry = self._last_entry
        if entry is None or entry[0] != event_id:
            return None
        return {"id": entry[0], "action": entry[1], "changes": json.loads(json.dumps(entry[2]))}


def open_store(path: str | Path | None = None, annotator: str | None = None) -> Store:
    """Open the database at ``path`` (a file or a ``postgresql://`` URL; default
    :func:`default_db_path`) as ``annotator``."""
    return Store(path or default_db_path(), annotator)
