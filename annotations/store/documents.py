"""Reading documents: pages, filters, full-text search, navigation, text, tokens, statuses."""

from __future__ import annotations

import json
from typing import Any, Iterator, Sequence

from ..db import StoreError
from ..models import STATUSES, Document, DocumentSummary
from ..tokenize import Tokens, tokenize, tokenizer_id
from .common import EVERYONE
from .search import _fts_query


class DocumentsMixin:
    """Documents of a :class:`~annotations.store.Store`."""

    def count_documents(self) -> int:
        return self.db.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    def _doc_filters(
        self,
        status: str | Sequence[str] | None,
        lang: str | None,
        annotator: str,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if status:
            wanted = [status] if isinstance(status, str) else list(status)
            for s in wanted:
                if s not in STATUSES:
                    raise StoreError(f"unknown status {s!r}: use one of {', '.join(STATUSES)}")
            # Shaped so SQLite walks an index (a page of "done" documents must not scan the
            # whole corpus): todo is "no row with another status", the others come from
            # the doc_status index.
            if "todo" in wanted:
                others = [s for s in STATUSES if s not in wanted]
                if others:
                    where.append(
                        "NOT EXISTS (SELECT 1 FROM doc_status s WHERE s.doc_id = d.id"
                        " AND s.annotator = ? AND s.status IN (" + ",".join("?" * len(others)) + "))"
                    )
                    args += [annotator, *others]
            else:
                where.append(
                    "d.id IN (SELECT doc_id FROM doc_status WHERE annotator = ?"
                    " AND status IN (" + ",".join("?" * len(wanted)) + "))"
                )
                args += [annotator, *wanted]
        if lang:
            where.append("d.lang = ?")
            args.append(lang)
        return where, args

    def documents(
        self,
        *,
        status: str | Sequence[str] | None = None,
        lang: str | None = None,
        search: str | None = None,
        limit: int = 50,
        after: int | None = None,
        offset: int = 0,
        annotator: str | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[DocumentSummary]:
        """One page of documents in import order, with this annotator's status and counts.

        ``after`` pages by id (fast at any depth); ``offset`` is also accepted (it walks
        the skipped rows, so deep offsets are slower). ``search`` is a full-text query over
        title and text: every word must match, the last one as a prefix (see
        :func:`_fts_query`). ``ids`` keeps only those documents (a page of a list in
        another order: the caller puts the rows in its order).
        """
        if ids is not None and not ids:
            return []
        annotator = annotator or self.annotator
        where, args = self._doc_filters(status, lang, annotator)
        source, order = "documents d", "d.id"
        wanted = [status] if isinstance(status, str) else list(status or ())
        if search and search.strip() and wanted and "todo" not in wanted:
            # Few documents are done or skipped: check those against the set of matches.
            where.append("d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)")
            args.append(_fts_query(search))
        elif search and search.strip():
            # Ordered by the FTS table's own rowid so SQLite reads matches in order and
            # stops after one page, instead of collecting and sorting every match.
            source, order = "documents_fts f JOIN documents d ON d.id = f.rowid", "f.rowid"
            where.insert(0, "documents_fts MATCH ?")
            args.insert(0, _fts_query(search))
        if after is not None:
            where.append(f"{order} > ?")
            args.append(after)
        if ids is not None:
            where.append("d.id IN (" + ",".join("?" * len(ids)) + ")")
            args += list(ids)
        sql = (
            "SELECT d.id, d.title, d.lang, d.source, d.line,"
            " coalesce((SELECT status FROM doc_status WHERE doc_id = d.id AND annotator = ?), 'todo'),"
            " (SELECT count(*) FROM spans WHERE doc_id = d.id AND annotator = ? AND state = 'accepted'),"
            " (SELECT count(*) FROM spans WHERE doc_id = d.id AND annotator = ? AND state = 'pending')"
            " + (SELECT count(*) FROM spans g WHERE g.doc_id = d.id AND g.annotator = ? AND g.state = 'pending'"
            "    AND NOT EXISTS (SELECT 1 FROM spans o WHERE o.doc_id = d.id AND o.annotator = ?"
            "    AND o.start < g.end AND g.start < o.end))"
            f" FROM {source}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY {order} LIMIT ? OFFSET ?"
        )
        rows = self.db.conn.execute(
            sql, [annotator, annotator, annotator, EVERYONE, annotator, *args, limit, offset]
        ).fetchall()
        return [DocumentSummary(*r) for r in rows]

    def iter_documents(self, **filters: Any) -> Iterator[DocumentSummary]:
        """Every matching document, page by page (flat memory)."""
        after = None
        while True:
            page = self.documents(after=after, limit=500, **filters)
            if not page:
                return
            yield from page
            after = page[-1].id

    def progress(self, annotator: str | None = None) -> dict[str, int]:
        """Documents by this annotator's status: ``{"todo": n, "done": n, "skipped": n, "total": n}``."""
        annotator = annotator or self.annotator
        total = self.count_documents()
        counts = dict(
            self.db.conn.execute(
                "SELECT status, count(*) FROM doc_status WHERE annotator = ? GROUP BY status",
                [annotator],
            ).fetchall()
        )
        done, skipped = counts.get("done", 0), counts.get("skipped", 0)
        return {"todo": total - done - skipped, "done": done, "skipped": skipped, "total": total}

    def first_unfinished(self, after: int | None = None) -> int | None:
        """The first todo document in import order (after ``after``, wrapping round)."""
        sql = (
            "SELECT d.id FROM documents d LEFT JOIN doc_status s ON s.doc_id = d.id"
            " AND s.annotator = ? WHERE (s.status IS NULL OR s.status = 'todo') {cond}"
            " ORDER BY d.id LIMIT 1"
        )
        if after is not None:
            row = self.db.conn.execute(sql.format(cond="AND d.id > ?"), [self.annotator, after]).fetchone()
            if row:
                return row[0]
        row = self.db.conn.execute(sql.format(cond=""), [self.annotator]).fetchone()
        return row[0] if row else None

    def neighbour(self, doc_id: int, step: int) -> int | None:
        """The next (``step`` = 1) or previous (-1) document id in import order."""
        if step > 0:
            row = self.db.conn.execute(
                "SELECT id FROM documents WHERE id > ? ORDER BY id LIMIT 1", [doc_id]
            ).fetchone()
        else:
            row = self.db.conn.execute(
                "SELECT id FROM documents WHERE id < ? ORDER BY id DESC LIMIT 1", [doc_id]
            ).fetchone()
        return row[0] if row else None

    def document_ids(self) -> list[int]:
        return [r[0] for r in self.db.conn.execute("SELECT id FROM documents ORDER BY id")]

    def document(self, doc_id: int, annotator: str | None = None) -> Document:
        """A document with its tokens (computed and cached on first use) and spans."""
        row = self.db.conn.execute(
            "SELECT id, text, title, lang, source, line, hash, meta FROM documents WHERE id = ?",
            [doc_id],
        ).fetchone()
        if row is None:
            raise StoreError(f"no document {doc_id}")
        annotator = annotator or self.annotator
        tokens = self._tokens(doc_id, row[1], row[3])
        return Document(
            id=row[0], text=row[1], title=row[2], lang=row[3], source=row[4], line=row[5],
            hash=row[6], meta=json.loads(row[7]), status=self.status(doc_id, annotator),
            tokens=tokens, spans=self.spans(doc_id, annotator=annotator),
        )

    def text(self, doc_id: int) -> str:
        row = self.db.conn.execute("SELECT text FROM documents WHERE id = ?", [doc_id]).fetchone()
        if row is None:
            raise StoreError(f"no document {doc_id}")
        return row[0]

    def tokens(self, doc_id: int) -> Tokens:
        """The document's tokens (cached in ``doc_tokens``)."""
        row = self.db.conn.execute("SELECT text, lang FROM documents WHERE id = ?", [doc_id]).fetchone()
        if row is None:
            raise StoreError(f"no document {doc_id}")
        return self._tokens(doc_id, row[0], row[1])

    def _tokens(self, doc_id: int, text: str, lang: str) -> Tokens:
        want = tokenizer_id(lang)
        cached = self.db.conn.execute(
            "SELECT tokenizer, offsets FROM doc_tokens WHERE doc_id = ?", [doc_id]
        ).fetchone()
        if cached and cached[0] in (want, "import"):
            return Tokens.from_bytes(cached[1])
        toks = tokenize(text, lang)
        if self.read_only:
            return toks  # not cached: nothing can be written
        with self._write():
            self.db.conn.execute(
                "INSERT OR REPLACE INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)",
                [doc_id, want, toks.to_bytes()],
            )
        return toks

    def status(self, doc_id: int, annotator: str | None = None) -> str:
        row = self.db.conn.execute(
            "SELECT status FROM doc_status WHERE doc_id = ? AND annotator = ?",
            [doc_id, annotator or self.annotator],
        ).fetchone()
        return row[0] if row else "todo"
