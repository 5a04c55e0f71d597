"""Spans: an annotator's layer, overlaps, suggestions' bookkeeping, training reads: queries shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`: methods use its primitives
(``execute``, ``one``, ``all``, ``value``, ``pairs``, ``first_after``, ``insert_id``) in portable SQL.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..history import SPAN_COLUMNS
from .sql_common import SPAN_FIELDS
from .sql_common import marks as _marks


class SpanQueries:
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

    _SHARED = (
        "SELECT " + ", ".join(f'g."{c}"' for c in SPAN_COLUMNS) + ", 1, (SELECT count(*) FROM spans o"
        ' WHERE o.doc_id = g.doc_id AND o.annotator = ? AND o.start < g."end" AND g.start < o."end")'
        " FROM spans g WHERE g.doc_id = ? AND g.annotator = ? AND g.state = 'pending'"
    )
    _NEAR = (
        f"SELECT {SPAN_FIELDS}, 0, 0 FROM spans WHERE doc_id = ? AND annotator = ?"
        " AND state IN ('accepted', 'pending') AND start >= ? AND start < ?"
        f" UNION ALL SELECT {SPAN_FIELDS}, 0, 0 FROM spans WHERE doc_id = ? AND annotator = ?"
        " AND state = 'pending' AND start < ? AND ? < \"end\""
        f" UNION ALL SELECT * FROM (SELECT {SPAN_FIELDS}, 0, 0 FROM spans WHERE doc_id = ? AND annotator = ?"
        " AND state = 'accepted' AND start < ? ORDER BY start DESC LIMIT 1) b"
    )

    def shared_pending(self, doc_id: int, everyone: str, who: str) -> list[tuple[Any, ...]]:
        """Every pending span of ``everyone`` in a document, each with two more columns: 1,
        and how many spans of ``who``'s own lie over it (none: ``who`` sees it). One round
        trip for :meth:`has_pending` and :meth:`shared_visible` together."""
        return self.all(self._SHARED + ' ORDER BY g.start, g."end"', [who, doc_id, everyone])

    def near(self, doc_id: int, annotator: str, start: int, end: int,
             everyone: str | None = None) -> list[tuple[Any, ...]]:
        """In one round trip, an annotator's spans that may overlap ``start``..``end``, each with
        two more columns (0, 0): the pending and accepted ones starting inside it, the pending
        ones starting before it and reaching into it, and the last accepted one starting
        before it (accepted spans never overlap, so only that one can reach in; the caller
        checks its end). With ``everyone``, :meth:`shared_pending`'s rows too (unordered)."""
        args = [doc_id, annotator, start, end, doc_id, annotator, start, start, doc_id, annotator, start]
        if everyone is None:
            return self.all(self._NEAR, args)
        return self.all(self._SHARED + " UNION ALL " + self._NEAR, [annotator, doc_id, everyone, *args])

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
