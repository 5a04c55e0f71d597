"""Reading documents: pages, filters, full-text search, navigation, text, tokens, statuses."""

from __future__ import annotations

import json
from typing import Any, Iterator, Sequence

from ..db import StoreError
from ..models import STATUSES, Document, DocumentSummary
from ..tokenize import Tokens, tokenize, tokenizer_id
from .common import EVERYONE


class DocumentsMixin:
    """Documents of a :class:`~annotations.store.Store`."""

    def count_documents(self) -> int:
        return self._b.count_documents()

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
        title and text: every word must match, the last one as a prefix (see the dialect's
        ``search_clause``). ``ids`` keeps only those documents (a page of a list in
        another order: the caller puts the rows in its order).
        """
        if ids is not None and not ids:
            return []
        wanted = [status] if isinstance(status, str) else list(status or ())
        for s in wanted:
            if s not in STATUSES:
                raise StoreError(f"unknown status {s!r}: use one of {', '.join(STATUSES)}")
        rows = self._b.document_page(
            annotator or self.annotator, EVERYONE, status=wanted, lang=lang, search=search,
            limit=limit, after=after, offset=offset, ids=ids,
        )
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
        counts = self._b.status_counts(annotator)
        done, skipped = counts.get("done", 0), counts.get("skipped", 0)
        return {"todo": total - done - skipped, "done": done, "skipped": skipped, "total": total}

    def first_unfinished(self, after: int | None = None) -> int | None:
        """The first todo document in import order (after ``after``, wrapping round)."""
        return self._b.first_unfinished(self.annotator, after)

    def neighbour(self, doc_id: int, step: int) -> int | None:
        """The next (``step`` = 1) or previous (-1) document id in import order."""
        return self._b.neighbour(doc_id, step)

    def document_ids(self) -> list[int]:
        return self._b.document_ids()

    def document(self, doc_id: int, annotator: str | None = None) -> Document:
        """A document with its tokens (computed and cached on first use) and spans."""
        row = self._b.document(doc_id)
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
        text = self._b.document_text(doc_id)
        if text is None:
            raise StoreError(f"no document {doc_id}")
        return text

    def tokens(self, doc_id: int) -> Tokens:
        """The document's tokens (cached in ``doc_tokens``)."""
        row = self._b.document_text_lang(doc_id)
        if row is None:
            raise StoreError(f"no document {doc_id}")
        return self._tokens(doc_id, row[0], row[1])

    def _tokens(self, doc_id: int, text: str, lang: str) -> Tokens:
        want = tokenizer_id(lang)
        cached = self._b.cached_tokens(doc_id)
        if cached and cached[0] in (want, "import"):
            return Tokens.from_bytes(cached[1])
        toks = tokenize(text, lang)
        if self.read_only:
            return toks  # not cached: nothing can be written
        with self._write():
            self._b.cache_tokens(doc_id, want, toks.to_bytes())
        return toks

    def status(self, doc_id: int, annotator: str | None = None) -> str:
        return self._b.status(doc_id, annotator or self.annotator) or "todo"
