"""End to end in a real terminal (tmux, its own server socket, 100×30): the installed
``annotate review`` adjudicates a conflict by keys alone, then ``annotate export`` writes the
reviewer's layer as the gold."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from team_helpers import build_team, span_of
from test_e2e import ANNOTATE, Terminal, clean_env

from annotations import Store

pytestmark = pytest.mark.e2e


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_review_a_conflict_by_keys_then_export_the_gold(tmp_path: Path) -> None:
    assert ANNOTATE.exists(), f"the annotate console script is not installed next to ANNOTATE={ANNOTATE}"
    db = tmp_path / "team.db"
    build_team(db)
    env = f"env XDG_CONFIG_HOME={shlex.quote(str(tmp_path))} TERM=xterm-256color COLORTERM=truecolor"
    command = (f"{env} {shlex.quote(str(ANNOTATE))} review --db {shlex.quote(str(db))}"
               " --annotators aida,bek,chyngyz --as lead; echo E2E-EXIT-$?; sleep 60")
    term = Terminal(f"annotate-team-e2e-{os.getpid()}", clean_env(XDG_CONFIG_HOME=str(tmp_path)))
    term.start(command, width=100, height=30)
    try:
        term.wait_for(lambda s: "Conflict 1 / 3 · missing on one side" in s, "the first conflict to show")
        term.keys("Tab")
        term.wait_for(lambda s: "Conflict 2 / 3 · different label" in s, "the label conflict")
        term.keys("b")
        term.wait_for(lambda s: "✓ chosen" in s and "reviewer  Россия Федерациясынын ORG" in s,
                      "bek's version to be taken")
        term.keys("d")
        term.wait_for(lambda s: "review 2 / 3" in s, "the next document to review")
        term.keys("q")
        screen = term.wait_for(lambda s: "E2E-EXIT-" in s, "the app to quit", timeout=30)
        assert "E2E-EXIT-0" in screen
    finally:
        term.close()

    out = subprocess.run([str(ANNOTATE), "export", "--db", str(db), "--annotator", "lead"],
                         capture_output=True, text=True, timeout=120, check=True)
    records = [json.loads(line) for line in out.stdout.splitlines()]
    with Store(db, "lead") as lead:
        assert [r["_annotator_id"] for r in records] == ["lead"]
        assert records[0]["text"] == lead.text(1)
        assert {(s["start"], s["end"], s["label"]) for s in records[0]["spans"]} == {
            (*span_of(lead, 1, "Садыр Жапаров"), "PER"),  # agreed by all three: pre-filled
            (*span_of(lead, 1, "Россия Федерациясынын"), "ORG"),  # the conflict, decided by key
        }
