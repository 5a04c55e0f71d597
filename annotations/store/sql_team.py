"""Working as a team: assignments, reviewers, agreement reads: queries shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`: methods use its primitives
(``execute``, ``one``, ``all``, ``value``, ``pairs``, ``first_after``, ``insert_id``) in portable SQL.
"""

from __future__ import annotations

from typing import Any, Sequence

from .sql_common import marks as _marks


class TeamQueries:
    #: The dialect's JSON aggregate of a layer's accepted spans (set by each backend).
    LAYER_AGG: str = ""

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
        return self.first_after(sql, "a.doc_id", [annotator], after)

    def done_annotators(self) -> list[str]:
        """Everyone who marked at least one document done, by name."""
        return [r[0] for r in self.execute("SELECT DISTINCT annotator FROM doc_status WHERE status = 'done' ORDER BY annotator")]

    def reviewers(self) -> list[str]:
        return [r[0] for r in self.execute("SELECT annotator FROM reviewers ORDER BY annotator")]

    def add_reviewer(self, annotator: str, ts: str) -> None:
        self.execute("INSERT INTO reviewers (annotator, created) VALUES (?, ?) ON CONFLICT (annotator) DO NOTHING",
                     [annotator, ts])

    def done_by(self, annotators: Sequence[str], doc_id: int | None = None) -> list[tuple[int, str]]:
        """``(doc_id, annotator)`` marked done by any of ``annotators``, by document (or of ``doc_id`` alone)."""
        if not annotators:
            return []
        one, extra = ("", []) if doc_id is None else (" AND doc_id = ?", [doc_id])
        return self.all(
            f"SELECT doc_id, annotator FROM doc_status WHERE status = 'done' AND annotator IN ({_marks(len(annotators))})"
            + one + " ORDER BY doc_id, annotator", [*annotators, *extra],
        )

    def accepted_layers(
        self, annotators: Sequence[str], labels: Sequence[str] = (), doc_id: int | None = None,
    ) -> list[tuple[int, str, str]]:
        """``(doc_id, annotator, JSON [[start, end, label], ...])``: each layer of accepted spans
        (the JSON aggregate is the dialect's :attr:`LAYER_AGG`)."""
        if not annotators:
            return []
        sql = (f"SELECT doc_id, annotator, {self.LAYER_AGG} FROM spans"
               f" WHERE state = 'accepted' AND annotator IN ({_marks(len(annotators))})")
        args: list[Any] = list(annotators)
        if labels:
            sql += f" AND label IN ({_marks(len(labels))})"
            args += list(labels)
        if doc_id is not None:
            sql += " AND doc_id = ?"
            args.append(doc_id)
        return self.all(sql + " GROUP BY doc_id, annotator", args)

    def titles(self, doc_ids: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        ids = list(doc_ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            out.update(self.all(f"SELECT id, title FROM documents WHERE id IN ({_marks(len(part))})", part))
        return out
