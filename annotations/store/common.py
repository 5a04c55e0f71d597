"""Names shared by the store's parts: the shared annotator, timestamps, defaults, results, rows."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..db import StoreError
from ..history import SPAN_COLUMNS
from ..models import Span
from ..tokenize import Tokens

#: The annotator that suggestions for everyone belong to (``annotate suggest`` without
#: ``--annotator``). Every annotator sees them as pending until they decide: a decision
#: (accept, reject, relabel, delete) makes the annotator's own copy, and a shared
#: suggestion is hidden from an annotator who has any span of their own overlapping it.
EVERYONE = "*"


class ConnectionLost(StoreError):
    """The database server went away (stopped, restarted, the network cut) or cannot be
    reached again yet. The action that met it was not saved (its transaction never
    committed); the store connects again on its next use, and :meth:`Store.adopt` takes a
    connection a worker thread opened instead."""



def now() -> str:
    """UTC timestamp with milliseconds, as stored in every table."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def default_annotator() -> str:
    """``$USER`` (or the login name), else ``annotator``."""
    try:
        return os.environ.get("USER") or getpass.getuser() or "annotator"
    except Exception:  # pragma: no cover - no passwd entry
        return "annotator"


def default_db_path() -> Path | str:
    """``$ANNOTATE_DB`` if set (a file, or a ``postgresql://`` URL, kept as text), else ``./annotations.db``."""
    value = os.environ.get("ANNOTATE_DB") or "annotations.db"
    return value if value.startswith(("postgresql://", "postgres://")) else Path(value)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did: its event id, the document it touched and the spans it created."""

    event_id: int
    doc_id: int | None
    spans: tuple[Span, ...] = ()


def _span(row: Sequence[Any]) -> Span:
    return Span(*row)


def _row(span: Span) -> dict[str, Any]:
    return {c: getattr(span, c) for c in SPAN_COLUMNS}




def snap_to_tokens(tokens: Tokens, start: int, end: int) -> tuple[int, int]:
    """Widen ``start``..``end`` to the boundaries of the tokens it touches."""
    from bisect import bisect_left, bisect_right

    i = bisect_right(tokens.ends, start)
    j = bisect_left(tokens.starts, end) - 1
    if i < len(tokens) and tokens.starts[i] < end:
        start = min(start, tokens.starts[i])
    if j >= 0 and tokens.ends[j] > start:
        end = max(end, tokens.ends[j])
    return start, end
