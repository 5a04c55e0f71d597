"""The model benchmark runs end to end (``--quick``) and prints the figures it promises.

No timing is asserted: speed is measured by running the benchmark, not by tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PER_SIZE = {
    "documents", "tokens", "tokens_per_document", "loop_cold_s", "loop_cold_cpu_s", "loop_warm_s",
    "loop_warm_cpu_s", "loop_tokens_trained", "loop_iterations", "loop_phases_s", "loop_held_out_f1",
    "predict_ms_per_document", "thread_retrain_pauses", "process_cold_s", "process_warm_s",
    "process_retrain_pauses",
}


def test_bench_model_quick_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_model", "--quick", "--json", "--no-full", "--sentences", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["targets"] == {"retrain_100_s": 1.0, "retrain_1000_s": 10.0}
    (size,) = result["sizes"]
    assert PER_SIZE <= set(size), PER_SIZE - set(size)
    assert size["documents"] == 20 and 0 < size["loop_tokens_trained"] <= size["tokens"]
    assert 0 < size["loop_held_out_f1"] <= 1 and size["loop_iterations"] > 0
    assert set(size["process_retrain_pauses"]) == {"max_ms", "p99_ms", "seconds"}
    assert result["meets_targets"] is None  # only 100 and 1,000 documents have targets
    gold = result["gold"]
    if gold is not None:  # benchmarks/gold/ is optional
        assert [p["documents"] for p in gold["points"]] == [1, 2, 3]
        assert all(0 <= p["crf"]["f1"] <= 1 and 0 <= p["crf_lexicon"]["f1"] <= 1 for p in gold["points"])
