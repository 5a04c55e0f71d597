"""Reading an annotator's event log back, for tests that check nothing acknowledged was lost."""

from __future__ import annotations

from typing import Any


def replay(events: list[dict[str, Any]]) -> set[tuple[int, int, int, str]]:
    """The accepted spans ``(doc_id, start, end, label)`` an event log (oldest first) says there are."""
    spans: dict[int, dict[str, Any]] = {}
    for ev in events:
        for ch in ev["changes"]:
            if ch["op"] == "insert":
                spans[ch["span"]["id"]] = dict(ch["span"])
            elif ch["op"] == "delete":
                spans.pop(ch["span"]["id"], None)
            elif ch["op"] == "update":
                spans[ch["id"]].update(ch["after"])
    return {(s["doc_id"], s["start"], s["end"], s["label"]) for s in spans.values() if s["state"] == "accepted"}
