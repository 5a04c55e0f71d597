"""Names the query modules share: the schema's tables and keys, and small SQL helpers."""

from __future__ import annotations

from typing import Sequence

from ..history import SPAN_COLUMNS

__all__ = ["SPAN_FIELDS", "TABLES", "KEYS", "marks", "cols"]

#: The span columns, quoted for SQL (``end`` is a keyword in PostgreSQL).
SPAN_FIELDS = ", ".join(f'"{c}"' for c in SPAN_COLUMNS)

#: Every table of the schema and its columns, in dependency order (what ``annotate copy``
#: copies; the full-text index and migration bookkeeping are rebuilt by each dialect).
TABLES: dict[str, tuple[str, ...]] = {
    "documents": ("id", "hash", "source", "line", "title", "lang", "text", "meta", "created"),
    "labels": ("name", "key", "colour", "description", "position"),
    "spans": SPAN_COLUMNS,
    "doc_status": ("doc_id", "annotator", "status", "updated"),
    "doc_tokens": ("doc_id", "tokenizer", "offsets", "prodigy"),
    "sessions": ("id", "annotator", "started", "ended"),
    "events": ("id", "ts", "annotator", "session_id", "doc_id", "action", "target", "changes"),
    "cursors": ("annotator", "doc_id", "offset", "updated"),
    "patterns": ("id", "label", "pattern", "pattern_id", "source", "created"),
    "import_records": ("doc_id", "annotator", "answer", "fingerprint", "prodigy"),
    "label_map": ("source", "target"),
    "assignments": ("doc_id", "annotator", "created"),
    "reviewers": ("annotator", "created"),
}

#: Primary key columns of each table (the order ``annotate copy`` reads and compares in).
KEYS: dict[str, tuple[str, ...]] = {
    "documents": ("id",), "labels": ("name",), "spans": ("id",), "doc_status": ("doc_id", "annotator"),
    "doc_tokens": ("doc_id",), "sessions": ("id",), "events": ("id",), "cursors": ("annotator",),
    "patterns": ("id",), "import_records": ("doc_id", "annotator"), "label_map": ("source",),
    "assignments": ("doc_id", "annotator"), "reviewers": ("annotator",),
}

_LABEL_FIELDS = "name, key, colour, description, position"


def marks(n: int) -> str:
    """``?,?,...``: ``n`` placeholders."""
    return ",".join("?" * n)


def cols(columns: Sequence[str]) -> str:
    """Column names, quoted."""
    return ", ".join(f'"{c}"' for c in columns)
