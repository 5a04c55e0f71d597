"""The suggestion benchmark runs end to end (``--quick``) and prints the figures it promises.

No figure is asserted against its target here: speed and quality are measured by running
the benchmark, not by tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_suggest_quick_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_suggest", "--quick", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    quality, speed = result["quality"], result["speed"]
    assert quality["labelled_documents"] == 3 and quality["evaluated_documents"] >= 9
    assert set(quality["configs"]) >= {"propagation", "natasha", "patterns", "combined + patterns"}
    for config in quality["configs"].values():
        assert {"overall", "labels", "by_language"} <= set(config)
        assert 0.0 <= config["overall"]["exact"]["precision"] <= 1.0
    # propagation learned something from three documents and found it again
    assert quality["configs"]["propagation"]["overall"]["exact"]["matched_gold"] > 0
    assert speed["documents"] > 500 and speed["suggest_first_run"]["total"] > 0
    assert speed["refresh_ms"]["repeats"] > 0 and speed["refresh_ms"]["median"] > 0
