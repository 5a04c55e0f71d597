"""The cursor, tagging sessions and corpus statistics: queries shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`: methods use its primitives
(``execute``, ``one``, ``all``, ``value``, ``pairs``, ``first_after``, ``insert_id``) in portable SQL.
"""

from __future__ import annotations




class StatsQueries:
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
