"""Corpus statistics and tagging-session summaries (read-only queries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

__all__ = ["corpus_stats", "session_summary"]


def _pairs(db: sqlite_utils.Database, sql: str, args: list[Any] | None = None) -> dict[str, int]:
    return {str(k): v for k, v in db.conn.execute(sql, args or []).fetchall()}


def corpus_stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """Everything ``annotate stats`` shows, as plain JSON-able data."""
    conn = db.conn
    total = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    annotators = [
        r[0]
        for r in conn.execute(
            "SELECT annotator FROM doc_status UNION SELECT annotator FROM spans"
            " UNION SELECT annotator FROM sessions ORDER BY 1"
        )
    ]
    per_annotator = {}
    for ann in annotators:
        status = _pairs(db, "SELECT status, count(*) FROM doc_status WHERE annotator = ? GROUP BY status", [ann])
        status["todo"] = total - status.get("done", 0) - status.get("skipped", 0)
        sessions = [
            session_summary(db, sid)
            for (sid,) in conn.execute(
                "SELECT id FROM sessions WHERE annotator = ? ORDER BY id", [ann]
            )
        ]
        per_annotator[ann] = {
            "documents": {s: status.get(s, 0) for s in ("todo", "done", "skipped")},
            "spans": _pairs(
                db, "SELECT state, count(*) FROM spans WHERE annotator = ? GROUP BY state", [ann]
            ),
            "labels": _pairs(
                db,
                "SELECT label, count(*) FROM spans WHERE annotator = ? AND state = 'accepted'"
                " GROUP BY label ORDER BY label",
                [ann],
            ),
            "sessions": sessions,
        }
    return {
        "documents": {
            "total": total,
            "by_language": _pairs(db, "SELECT lang, count(*) FROM documents GROUP BY lang ORDER BY lang"),
            "by_status": _pairs(
                db,
                "SELECT status, count(DISTINCT doc_id) FROM doc_status GROUP BY status ORDER BY status",
            ),
        },
        "spans": {
            "total": conn.execute("SELECT count(*) FROM spans").fetchone()[0],
            "by_label": _pairs(
                db, "SELECT label, count(*) FROM spans WHERE state = 'accepted' GROUP BY label ORDER BY label"
            ),
            "by_origin": _pairs(
                db, "SELECT origin, count(*) FROM spans WHERE state = 'accepted' GROUP BY origin ORDER BY origin"
            ),
            "by_state": _pairs(db, "SELECT state, count(*) FROM spans GROUP BY state ORDER BY state"),
        },
        "annotators": per_annotator,
    }


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def session_summary(db: sqlite_utils.Database, session_id: int) -> dict[str, Any]:
    """Documents marked done, spans added, minutes and entities per minute of one session.

    Counts come from the session's events, undo and redo included: an undone label does
    not count.
    """
    conn = db.conn
    row = conn.execute(
        "SELECT annotator, started, ended FROM sessions WHERE id = ?", [session_id]
    ).fetchone()
    if row is None:
        raise KeyError(session_id)
    annotator, started, ended = row
    import json

    spans_added = 0
    done = 0
    for action, changes in conn.execute(
        "SELECT action, changes FROM events WHERE session_id = ? ORDER BY id", [session_id]
    ):
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
    end = ended or conn.execute(
        "SELECT coalesce(max(ts), ?) FROM events WHERE session_id = ?", [started, session_id]
    ).fetchone()[0]
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
