"""Adding documents in bulk: one transaction, content-hash deduplication, batched search indexing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

import annotations.store as _store  # late-bound: tests patch ``annotations.store.now``

from ..text import content_hash, detect_language, title_of


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A document to add: its text and where it came from (title and language are worked out when empty)."""

    text: str
    source: str = ""
    line: int | None = None
    title: str = ""
    lang: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


class BulkMixin:
    """Bulk additions of a :class:`~annotations.store.Store`."""

    def add_documents(self, docs: Iterable[NewDocument], *, batch: int = 1000) -> list[tuple[int, bool]]:
        """Add documents in one transaction and one ``import`` event; ``(id, added)`` for each.

        A text already in the store (same content hash) is not added again: its id comes
        back with ``added`` False. Rows go in ``batch`` at a time (``COPY`` on PostgreSQL)
        with flat memory; the search index follows in batches.
        """
        out: list[tuple[int, bool]] = []
        with self._write(), self._b.bulk_index() as flush:
            ts = _store.now()
            rows: list[tuple[Any, ...]] = []

            def put() -> None:
                out.extend(self._b.insert_documents(rows))
                rows.clear()
                flush()

            for doc in docs:
                rows.append((
                    content_hash(doc.text), doc.source, doc.line, doc.title or title_of(doc.text, doc.meta),
                    doc.lang or detect_language(doc.text), doc.text, json.dumps(doc.meta, ensure_ascii=False), ts,
                ))
                if len(rows) >= batch:
                    put()
            if rows:
                put()
            if any(added for _, added in out):
                self._log("import", [], None)
        return out
