"""Reading an annotator's event log back, and checking a database's integrity (either backend), for
tests that check nothing acknowledged was lost."""

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


def check_integrity(store: Any) -> None:
    """The database is consistent, on either backend (raises ``AssertionError`` otherwise).

    SQLite: ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` finds nothing.
    PostgreSQL: ``amcheck`` verifies every table's heap (``verify_heapam``) and every B-tree
    index against it (``bt_index_check`` with ``heapallindexed``); no span, status or token
    cache refers to a missing document; no annotator has overlapping accepted spans.
    """
    b = store.backend
    if b.name == "sqlite":
        assert b.all("PRAGMA integrity_check") == [("ok",)]
        assert b.all("PRAGMA foreign_key_check") == []
        return
    b.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
    tables = sorted(b.table_names())
    for table in tables:
        damage = b.all(f"SELECT blkno, offnum, msg FROM verify_heapam('{table}')")
        assert damage == [], (table, damage)
    indexes = b.all(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND n.nspname = current_schema()"
    )
    assert len(indexes) >= len(tables)
    for (index,) in indexes:
        b.execute(f"SELECT bt_index_check('{index}'::regclass, true)")
    for table in ("spans", "doc_status", "doc_tokens", "assignments"):
        orphans = b.value(f"SELECT count(*) FROM {table} t LEFT JOIN documents d ON d.id = t.doc_id WHERE d.id IS NULL")
        assert orphans == 0, (table, orphans)
    overlapping = b.value(
        'SELECT count(*) FROM spans a JOIN spans b ON a.doc_id = b.doc_id AND a.annotator = b.annotator'
        " AND a.id < b.id AND a.state = 'accepted' AND b.state = 'accepted'"
        ' AND a.start < b."end" AND b.start < a."end"'
    )
    assert overlapping == 0
