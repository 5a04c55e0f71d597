"""Smoke run of the model-in-the-loop benchmark: it runs and its JSON has the figures the suite reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.run import summarise_model_loop

ROOT = Path(__file__).resolve().parents[1]


def test_bench_model_loop_quick_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_model_loop", "--quick", "--json", "--no-latency"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    report = json.loads(out.stdout)
    points = report["quality"]["points"]
    assert [p["labelled"] for p in points] == [3]
    for name in ("rules", "rules+crf", "crf"):
        assert set(points[0][name]) >= {"precision", "recall", "f1"}
    rows = summarise_model_loop(report)
    assert [r[1] for r in rows] == [
        "suggestions after 3 labelled docs, rules",
        "suggestions after 3 labelled docs, rules+crf",
    ]
