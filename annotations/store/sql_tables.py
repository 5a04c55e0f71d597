"""Whole tables, read in keyset pages (``annotate copy``): queries shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`: methods use its primitives
(``execute``, ``one``, ``all``, ``value``, ``pairs``, ``first_after``, ``insert_id``) in portable SQL.
"""

from __future__ import annotations

from typing import Any, Iterator

from .sql_common import KEYS, TABLES
from .sql_common import cols as _cols


class TableQueries:
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
