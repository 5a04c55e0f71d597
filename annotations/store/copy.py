"""Copying a whole database between backends (SQLite ⇄ PostgreSQL), verified.

:func:`copy_database` reads every table of the source in keyset pages (flat memory) and
bulk-loads it into an empty target in one transaction (``COPY`` on PostgreSQL), ids kept, so
the event log, undo/redo and everything that refers to an id stay valid. Id counters are set
past the highest id the source ever handed out (a deleted span's id is never reused). Before
committing, the target is read back: row counts and a digest of every table (documents with
their hashes, spans, events...) must equal the source's, or nothing is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

from ..db import StoreError
from .backend import TABLES, Backend

__all__ = ["CopyReport", "copy_database", "table_digest"]

#: Tables whose ``id`` counter is carried over.
ID_TABLES = ("documents", "spans", "sessions", "events", "patterns")


@dataclass
class CopyReport:
    """What was copied: rows per table, and each table's digest (equal on both sides)."""

    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "rows": self.rows, "digests": self.digests,
                "verified": True}


def _norm(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def table_digest(backend: Backend, table: str) -> tuple[int, str]:
    """``(rows, sha256)`` of a table's rows in key order (the same on every backend)."""
    h = hashlib.sha256()
    n = 0
    for row in backend.table_rows(table):
        h.update(repr(tuple(_norm(v) for v in row)).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
        n += 1
    return n, h.hexdigest()


def copy_database(source: Backend, target: Backend, progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy every table of ``source`` into the empty ``target``; verified before it commits."""
    if target.read_only:
        raise StoreError(f"cannot copy into {target.location}: {target.read_only}")
    if not target.is_empty():
        raise StoreError(
            f"cannot copy into {target.location}: it already holds documents, spans or events"
            " (copy into a new, empty database)"
        )
    if source.location == target.location:
        raise StoreError("the source and the target are the same database")
    unknown = sorted(source.table_names() - set(TABLES))
    if unknown:
        # Never a copy that silently leaves data behind.
        raise StoreError(
            f"cannot copy {source.location}: it has tables this annotate does not know ({', '.join(unknown)});"
            " upgrade annotate"
        )
    if source.import_in_progress():
        raise StoreError(
            f"cannot copy {source.location}: an import is publishing a file into it (or was killed doing so;"
            " the next `annotate import` takes its half back): copy when it has finished"
        )
    report = CopyReport(source.location, target.location)
    with target.write(), target.bulk_index() as flush:
        target.clear_labels()  # a new store's default labels: the source's replace them
        for table, columns in TABLES.items():
            n = target.copy_rows(table, columns, source.table_rows(table))
            report.rows[table] = n
            if table == "documents":
                flush()
            if progress is not None:
                progress(table, n)
        for table in ID_TABLES:
            target.set_id_high_water(table, source.id_high_water(table))
        for table in TABLES:
            want = table_digest(source, table)
            got = table_digest(target, table)
            if want != got:
                raise StoreError(
                    f"the copy of {table} differs from the source ({got[0]} rows against {want[0]});"
                    " nothing was written"
                )
            report.digests[table] = want[1]
    return report
