"""The TUI benchmark runs end to end (``--quick --json``) and reports every figure it promises.

No timing is asserted: speed is measured by running the benchmark, not by tests.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ACTIONS = {"cursor", "extend", "label", "undo", "page_down"}
FIGURES = {"median_ms", "p95_ms", "cpu_median_ms", "cpu_p95_ms", "n"}


def test_bench_tui_quick_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_tui", "--quick", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["quick"] is True and result["size"] == [120, 40]
    for doc in ("actions_1mb", "actions_1kb"):
        assert set(result[doc]) == ACTIONS
        for action, figures in result[doc].items():
            assert set(figures) == FIGURES, action
            assert figures["n"] > 0 and figures["median_ms"] > 0 and not math.isnan(figures["p95_ms"]), action
    assert set(result["ratio_1mb_1kb"]) == ACTIONS
    for key in ("first_frame_small_ms", "first_frame_large_ms", "document_shown_small_ms",
                "document_shown_large_ms", "first_frame_ratio", "document_shown_ratio"):
        assert result[key] > 0, key
    assert result["documents"] == {"small_db": 20, "large_db": 200}
    # Each next-document key was measured (d and s need unfinished documents to go to, [ a previous one).
    assert set(result["next_document_ms"]) == {"]", "[", "d", "s"}
    for key, ms in result["next_document_ms"].items():
        assert ms > 0 and not math.isnan(ms), key
    assert result["next_document_n"] == 4
    assert result["next_document_median_ms"] > 0 and result["next_document_at_once_median_ms"] > 0
    assert result["targets"] == {"action_median_ms": 5.0, "ratio": 2.0, "first_frame_ratio": 1.2, "next_document_ms": 50.0}
