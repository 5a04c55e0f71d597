"""Smoke run of the team benchmark (``--quick``) through the suite runner's summary, and the
library's import hygiene: ``annotations.team`` never loads Textual."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks import run
from benchmarks._util import REPO


def test_quick_run_prints_figures_and_json() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_team", "--quick", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["agree"]["documents"] == 200 and result["agree"]["tokens"] == 200 * 60
    assert 0.5 < result["agree"]["alpha"] < 1.0
    assert result["open_review"]["samples"] == 5
    assert result["next_conflict_corpus"]["samples"] > 0 and result["next_conflict_long"]["conflicts"] > 100
    rows = run.summarise_team(result)
    assert [r[0] for r in rows] == ["team"] * 3 and "docs × 3 annotators" in rows[0][1]
    assert any(b.name == "team" for b in run.BENCHMARKS)


def test_the_team_library_never_loads_textual() -> None:
    code = ("import sys, annotations.team, annotations.team.agree, annotations.team.review,"
            " annotations.team.merge; print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
