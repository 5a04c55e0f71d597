"""Documents: pages, navigation, texts, token caches, statuses, bulk loading: queries shared by the dialects.

A mixin of :class:`annotations.store.backend.Backend`: methods use its primitives
(``execute``, ``one``, ``all``, ``value``, ``pairs``, ``first_after``, ``insert_id``) in portable SQL.
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Iterator, Sequence

from ..models import STATUSES
from .sql_common import TABLES
from .sql_common import cols as _cols
from .sql_common import marks as _marks


class DocumentQueries:
    # -- documents -----------------------------------------------------------------------------

    def count_documents(self) -> int:
        return int(self.value("SELECT count(*) FROM documents", default=0))

    def document_page(
        self,
        annotator: str,
        everyone: str,
        *,
        status: Sequence[str],
        lang: str | None,
        search: str | None,
        limit: int,
        after: int | None,
        offset: int,
        ids: Sequence[int] | None,
    ) -> list[tuple[Any, ...]]:
        """Rows of :class:`~annotations.models.DocumentSummary` for one page (see ``Store.documents``)."""
        where: list[str] = []
        args: list[Any] = []
        wanted = list(status)
        if wanted:
            # Shaped so the database walks an index (a page of "done" documents must not scan
            # the whole corpus): todo is "no row with another status", the others come from
            # the doc_status index.
            if "todo" in wanted:
                others = [s for s in STATUSES if s not in wanted]
                if others:
                    where.append(
                        "NOT EXISTS (SELECT 1 FROM doc_status s WHERE s.doc_id = d.id"
                        f" AND s.annotator = ? AND s.status IN ({_marks(len(others))}))"
                    )
                    args += [annotator, *others]
            else:
                where.append(
                    "d.id IN (SELECT doc_id FROM doc_status WHERE annotator = ?"
                    f" AND status IN ({_marks(len(wanted))}))"
                )
                args += [annotator, *wanted]
        if lang:
            where.append("d.lang = ?")
            args.append(lang)
        source, order = "documents d", "d.id"
        if search and search.strip():
            few = bool(wanted) and "todo" not in wanted
            src, order_by, cond, sargs = self.search_clause(search, few=few)
            if few:
                where.append(cond)
                args += sargs
            else:
                source, order = src, order_by
                where.insert(0, cond)
                args = sargs + args
        if after is not None:
            where.append(f"{order} > ?")
            args.append(after)
        if ids is not None:
            where.append(f"d.id IN ({_marks(len(ids))})")
            args += list(ids)
        sql = (
            "SELECT d.id, d.title, d.lang, d.source, d.line,"
            " coalesce((SELECT status FROM doc_status WHERE doc_id = d.id AND annotator = ?), 'todo'),"
            " (SELECT count(*) FROM spans WHERE doc_id = d.id AND annotator = ? AND state = 'accepted'),"
            " (SELECT count(*) FROM spans WHERE doc_id = d.id AND annotator = ? AND state = 'pending')"
            " + (SELECT count(*) FROM spans g WHERE g.doc_id = d.id AND g.annotator = ? AND g.state = 'pending'"
            "    AND NOT EXISTS (SELECT 1 FROM spans o WHERE o.doc_id = d.id AND o.annotator = ?"
            '    AND o.start < g."end" AND g.start < o."end"))'
            f" FROM {source}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY {order} LIMIT ? OFFSET ?"
        )
        return self.all(sql, [annotator, annotator, annotator, everyone, annotator, *args, limit, offset])

    def status_counts(self, annotator: str) -> dict[str, int]:
        return self.pairs("SELECT status, count(*) FROM doc_status WHERE annotator = ? GROUP BY status", [annotator])

    def first_unfinished(self, annotator: str, after: int | None) -> int | None:
        sql = (
            "SELECT d.id FROM documents d LEFT JOIN doc_status s ON s.doc_id = d.id"
            " AND s.annotator = ? WHERE (s.status IS NULL OR s.status = 'todo') {cond}"
            " ORDER BY d.id LIMIT 1"
        )
        return self.first_after(sql, "d.id", [annotator], after)

    def neighbour(self, doc_id: int, step: int) -> int | None:
        if step > 0:
            return self.value("SELECT id FROM documents WHERE id > ? ORDER BY id LIMIT 1", [doc_id])
        return self.value("SELECT id FROM documents WHERE id < ? ORDER BY id DESC LIMIT 1", [doc_id])

    def document_ids(self) -> list[int]:
        return [r[0] for r in self.execute("SELECT id FROM documents ORDER BY id")]

    def document(self, doc_id: int) -> tuple[Any, ...] | None:
        """``(id, text, title, lang, source, line, hash, meta JSON)``."""
        return self.one(
            "SELECT id, text, title, lang, source, line, hash, meta FROM documents WHERE id = ?", [doc_id]
        )

    def document_text(self, doc_id: int) -> str | None:
        return self.value("SELECT text FROM documents WHERE id = ?", [doc_id])

    def document_text_lang(self, doc_id: int) -> tuple[str, str] | None:
        return self.one("SELECT text, lang FROM documents WHERE id = ?", [doc_id])

    def document_lang(self, doc_id: int) -> str | None:
        return self.value("SELECT lang FROM documents WHERE id = ?", [doc_id])

    def document_exists(self, doc_id: int) -> bool:
        return self.one("SELECT 1 FROM documents WHERE id = ?", [doc_id]) is not None

    def document_by_hash(self, content_hash: str) -> int | None:
        return self.value("SELECT id FROM documents WHERE hash = ?", [content_hash])

    def document_texts(self, ids: Sequence[int]) -> Iterator[tuple[int, str, str]]:
        """``(id, text, lang)`` of the documents ``ids`` (any order), in chunks."""
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            yield from self.execute(f"SELECT id, text, lang FROM documents WHERE id IN ({_marks(len(part))})", part)

    def documents_after(self, after: int, limit: int, columns: Sequence[str] = ("id", "text", "lang")) -> list[tuple[Any, ...]]:
        """A keyset page of documents in id order (flat memory at any depth)."""
        for c in columns:
            if c not in TABLES["documents"]:
                raise ValueError(f"not a document column: {c!r}")
        return self.all(f"SELECT {_cols(columns)} FROM documents WHERE id > ? ORDER BY id LIMIT ?", [after, limit])

    def cached_tokens(self, doc_id: int) -> tuple[str, bytes] | None:
        row = self.one("SELECT tokenizer, offsets FROM doc_tokens WHERE doc_id = ?", [doc_id])
        return (row[0], bytes(row[1])) if row else None

    def cached_tokens_many(self, ids: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        out: dict[int, tuple[str, bytes]] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            for doc_id, tokenizer, blob in self.execute(
                f"SELECT doc_id, tokenizer, offsets FROM doc_tokens WHERE doc_id IN ({_marks(len(part))})", part
            ):
                out[doc_id] = (tokenizer, bytes(blob))
        return out

    def cache_tokens(self, doc_id: int, tokenizer: str, blob: bytes) -> None:
        self.execute(
            "INSERT INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)"
            " ON CONFLICT (doc_id) DO UPDATE SET tokenizer = excluded.tokenizer, offsets = excluded.offsets",
            [doc_id, tokenizer, blob],
        )

    def status(self, doc_id: int, annotator: str) -> str | None:
        return self.value("SELECT status FROM doc_status WHERE doc_id = ? AND annotator = ?", [doc_id, annotator])

    def statuses_of(self, annotator: str, ids: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            out.update(self.all(
                f"SELECT doc_id, status FROM doc_status WHERE annotator = ? AND doc_id IN ({_marks(len(part))})",
                [annotator, *part],
            ))
        return out

    def decided_statuses(self, annotator: str | None = None) -> list[tuple[int, str, str]]:
        """``(doc_id, annotator, status)`` of every status but todo (one annotator's, or everyone's)."""
        if annotator is None:
            return self.all("SELECT doc_id, annotator, status FROM doc_status WHERE status != 'todo'")
        return self.all("SELECT doc_id, annotator, status FROM doc_status WHERE status != 'todo' AND annotator = ?",
                        [annotator])

    def doc_ids_with_status(self, status: str, annotator: str | None = None) -> list[tuple[str, int]]:
        """``(annotator, doc_id)`` pairs with ``status`` (all annotators unless one is named)."""
        if annotator is None:
            return self.all("SELECT annotator, doc_id FROM doc_status WHERE status = ?", [status])
        return self.all("SELECT annotator, doc_id FROM doc_status WHERE status = ? AND annotator = ?",
                        [status, annotator])

    # -- bulk loading (imports) ---------------------------------------------------------------

    def bulk_index(self) -> ContextManager[Any]:
        """Inside a write: documents inserted in the block are indexed for search in batches.

        Yields ``flush()``. SQLite defers its FTS5 trigger (:func:`annotations.db.deferred_fts`);
        a dialect whose index follows every row by itself yields a no-op.
        """
        return contextlib.nullcontext(lambda: None)

    def insert_document(self, hash_: str, source: str, line: int | None, title: str, lang: str, text: str,
                        meta: str, created: str) -> int | None:
        """Add a document; its id, or ``None`` when one with that content hash is already there."""
        row = self.one(
            "INSERT INTO documents (hash, source, line, title, lang, text, meta, created)"
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (hash) DO NOTHING RETURNING id",
            [hash_, source, line, title, lang, text, meta, created],
        )
        return int(row[0]) if row else None

    def insert_documents(self, rows: Sequence[Sequence[Any]]) -> list[tuple[int, bool]]:
        """Many documents, rows of ``(hash, source, line, title, lang, text, meta JSON, created)``;
        ``(id, added)`` for each, in order (``added`` False: that text was already there)."""
        out: list[tuple[int, bool]] = []
        for row in rows:
            new = self.insert_document(*row)
            out.append((new, True) if new is not None else (int(self.document_by_hash(row[0])), False))
        return out

    def cache_tokens_if_absent(self, doc_id: int, tokenizer: str, blob: bytes) -> None:
        self.execute(
            "INSERT INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?) ON CONFLICT (doc_id) DO NOTHING",
            [doc_id, tokenizer, blob],
        )

    def document_origin(self, doc_id: int) -> tuple[str, int | None] | None:
        """``(source, line)`` a document was imported from."""
        return self.one("SELECT source, line FROM documents WHERE id = ?", [doc_id])

    def delete_accepted(self, doc_id: int, annotator: str) -> None:
        self.execute("DELETE FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'accepted'", [doc_id, annotator])

    def put_import_record(self, doc_id: int, annotator: str, answer: str | None, fingerprint: str, prodigy: str) -> None:
        self.execute(
            "INSERT INTO import_records (doc_id, annotator, answer, fingerprint, prodigy) VALUES (?,?,?,?,?)"
            " ON CONFLICT (doc_id, annotator) DO UPDATE SET answer = excluded.answer,"
            " fingerprint = excluded.fingerprint, prodigy = excluded.prodigy",
            [doc_id, annotator, answer, fingerprint, prodigy],
        )

    def import_records(self, after: int, limit: int) -> list[tuple[Any, ...]]:
        """A keyset page of ``(doc_id, annotator, answer, fingerprint, prodigy)`` by document."""
        return self.all(
            "SELECT doc_id, annotator, answer, fingerprint, prodigy FROM import_records WHERE doc_id > ?"
            " ORDER BY doc_id, annotator LIMIT ?", [after, limit],
        )
