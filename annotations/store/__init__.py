"""The store: one SQLite file holding a corpus, its label set, spans, statuses and event log.

:class:`Store` is the public API the TUI and the command line share. Each user action
(add/relabel/delete a span, accept/reject a suggestion, set a status, undo, redo) is one
write transaction that also appends to the event log, so what the screen shows is already
on disk.

Threading rule: a :class:`Store` (its SQLite connection) belongs to the thread that opened
it. A worker thread calls :meth:`Store.reopen` to get its own.

The store is a package of small files named for what they hold: ``core`` (the
:class:`Store` class and its lifecycle), ``labels``, ``documents``, ``spans`` (reading),
``actions`` (span and status actions), ``suggestions``, ``undo``, ``sessions``, ``bulk`` (adding documents in bulk), ``common``
(shared names); ``backend`` (every query, in SQL both dialects speak), ``sqlite_backend`` and
``postgres_backend`` (the dialects: connection, schema, search, bulk loading).
"""

from __future__ import annotations

from ..db import ReadOnlyError, StoreError  # StoreError lives in db, so that ReadOnlyError can be one
from .common import EVERYONE, ActionResult, ConnectionLost, default_annotator, default_db_path, now, snap_to_tokens
from .core import Store, open_store
from .bulk import NewDocument
from .core import connect_backend, is_postgres_url
from .sqlite_backend import PREFIX_MIN_CHARS
from .sqlite_backend import fts_query as _fts_query

__all__ = ["Store", "StoreError", "ConnectionLost", "ReadOnlyError", "open_store", "default_annotator", "default_db_path", "now", "EVERYONE"]
