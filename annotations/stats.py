"""Corpus statistics and tagging-session summaries (read-only queries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["corpus_stats", "session_summary"]


def _backend(db: Any) -> Any:
    """The store backend behind ``db`` (a Store, a backend, or a bare sqlite-utils database)."""
    from .history import _backend as backend_of

    return backend_of(db)


def corpus_stats(db: Any) -> dict[str, Any]:
    """Everything ``annotate stats`` shows, as plain JSON-able data (``db``: a Store or its backend)."""
    b = _backend(db)
    total = b.count_documents()
    per_annotator = {}
    for ann in b.annotators():
        status = b.status_counts(ann)
        status["todo"] = total - status.get("done", 0) - status.get("skipped", 0)
        sessions = [session_summary(b, sid) for sid in b.session_ids(ann)]
        per_annotator[ann] = {
            "documents": {s: status.get(s, 0) for s in ("todo", "done", "skipped")},
            "spans": b.spans_by_state(ann),
            "labels": b.accepted_by_label(ann),
            "sessions": sessions,
        }
    return {
        "documents": {
            "total": total,
            "by_language": b.documents_by_language(),
            "by_status": b.documents_by_status(),
        },
        "spans": {
            "total": b.count_spans(),
            "by_label": b.accepted_by_label(),
            "by_origin": b.accepted_by_origin(),
            "by_state": b.spans_by_state(),
        },
        "annotators": per_annotator,
    }


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def session_summary(db: Any, session_id: int) -> dict[str, Any]:
    """Documents marked done, spans added, minutes and entities per minute of one session.

    Counts come from the session's events, undo and redo included: an undone label does
    not count.
    """
    b = _backend(db)
    row = b.session(session_id)
    if row is None:
        raise KeyError(session_id)
    annotator, started, ended = row
    import json

    spans_added = 0
    done = 0
    for action, changes in b.session_events(session_id):
        if action == "suggest":
            continue
        sign = 1
        for ch in json.loads(changes):
            op = ch["op"]
            if op == "insert" and ch["span"]["state"] == "accepted":
                spans_added += sign
            elif op == "delete" and ch["span"]["state"] == "accepted":
                spans_added -= sign
            elif op == "update":
                before, after = ch["before"].get("state"), ch["after"].get("state")
                if after == "accepted" and before not in (None, "accepted"):
                    spans_added += 1
                elif before == "accepted" and after not in (None, "accepted"):
                    spans_added -= 1
            elif op == "status":
                if ch["after"] == "done" and ch["before"] != "done":
                    done += 1
                elif ch["before"] == "done" and ch["after"] != "done":
                    done -= 1
    end = ended or b.session_last_ts(session_id, started)
    minutes = max((_parse(end) - _parse(started)).total_seconds() / 60, 0.0)
    return {
        "id": session_id,
        "annotator": annotator,
        "started": started,
        "ended": ended,
        "documents_done": done,
        "spans_added": spans_added,
        "minutes": round(minutes, 2),
        "entities_per_minute": round(spans_added / minutes, 1) if minutes > 0 else 0.0,
    }
