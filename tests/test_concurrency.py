"""Eight annotators write to one database file at once: nothing locked, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from annotations import import_seeds, open_store
from tui.cli import main as cli

WORKER = Path(__file__).with_name("concurrency_worker.py")
PROCESSES = 8
ACTIONS = 2000


def replay(events: list[dict]) -> set[tuple[int, int, int, str]]:
    """The accepted spans an annotator's event log says they should have."""
    spans: dict[int, dict] = {}
    for ev in events:
        for ch in ev["changes"]:
            if ch["op"] == "insert":
                spans[ch["span"]["id"]] = dict(ch["span"])
            elif ch["op"] == "delete":
                spans.pop(ch["span"]["id"], None)
            elif ch["op"] == "update":
                spans[ch["id"]].update(ch["after"])
    return {(s["doc_id"], s["start"], s["end"], s["label"]) for s in spans.values() if s["state"] == "accepted"}


def test_eight_annotators_share_one_file(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with open_store(db, "setup") as store:
        import_seeds(store)
        for doc_id in store.document_ids():
            store.tokens(doc_id)  # warm the token cache so workers don't race to write it
    procs = []
    for n in range(PROCESSES):
        out = tmp_path / f"ann{n}.json"
        procs.append((f"ann{n}", out, subprocess.Popen(
            [sys.executable, str(WORKER), str(db), f"ann{n}", str(ACTIONS), str(n), str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )))
    results = {}
    for name, out, proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results[name] = json.loads(out.read_text())

    with open_store(db, "checker") as store:
        assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for name, result in results.items():
            assert result["errors"] == [], result["errors"][0]
            events = list(reversed(store.events(annotator=name, limit=10**6)))
            logged = Counter(ev["action"] for ev in events)
            for action, n in result["counts"].items():
                assert logged[action if action != "status" else "status"] == n, (name, action)
            # What the log says equals what the tables hold, and what the worker last saw.
            held = {(s.doc_id, s.start, s.end, s.label)
                    for d in store.document_ids() for s in store.spans(d, annotator=name, states=("accepted",))}
            assert replay(events) == held
            assert held == {tuple(s) for s in result["spans"]}
            assert {str(d): store.status(d, name) for d in store.document_ids()} == result["statuses"]

    stats = json.loads(CliRunner().invoke(cli, ["stats", "--db", str(db), "--json"]).output)
    for name, result in results.items():
        assert stats["annotators"][name]["spans"].get("accepted", 0) == len(result["spans"])
