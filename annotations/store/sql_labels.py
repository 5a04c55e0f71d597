"""The label set, the recognisers' label map and stored patterns: queries shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`: methods use its primitives
(``execute``, ``one``, ``all``, ``value``, ``pairs``, ``first_after``, ``insert_id``) in portable SQL.
"""

from __future__ import annotations

from typing import Any, Sequence

from .sql_common import _LABEL_FIELDS


class LabelQueries:
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

    def labels_in_use(self) -> set[str]:
        """Every label some accepted span uses."""
        return {row[0] for row in self.all("SELECT DISTINCT label FROM spans WHERE state = 'accepted'")}

    def pending_by_label(self, origin: str, annotator: str) -> list[tuple[str, int]]:
        """``(label, count)`` of ``annotator``'s pending suggestions from ``origin``, by label."""
        return [(r[0], r[1]) for r in self.all(
            "SELECT label, count(*) FROM spans WHERE state = 'pending' AND origin = ? AND annotator = ?"
            " GROUP BY label ORDER BY label", [origin, annotator],
        )]

    def label_map(self) -> dict[str, str]:
        return dict(self.all("SELECT source, target FROM label_map"))

    def merge_label_map(self, mapping: dict[str, str]) -> None:
        self.executemany(
            "INSERT INTO label_map (source, target) VALUES (?, ?)"
            " ON CONFLICT (source) DO UPDATE SET target = excluded.target",
            list(mapping.items()),
        )

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
