"""The export benchmark runs end to end on a small corpus and reports what it promises.

No speed is asserted: speed is measured by running the benchmark, not by tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_export_small_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_export", "--docs", "300", "--words", "12", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["documents"] == 300
    for phase in ("jsonl_cold", "jsonl_warm", "spacy_file", "spacy_shards"):
        r = result[phase]
        assert r["records"] == 300 and r["misaligned"] == 0, r
        assert r["docs_per_s"] > 0 and r["peak_rss_mb"] > 0 and r["rss_at_10pct_mb"] is not None
    assert result["jsonl_cold"]["cached_tokens_before"] == 0
    assert result["jsonl_warm"]["cached_tokens_before"] == 300
    assert isinstance(result["jsonl_meets_target"], bool)
