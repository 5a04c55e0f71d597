"""The import benchmark runs end to end (``--quick``) and prints the figures it promises.

No timing is asserted here: speed is measured by running the benchmark, not by tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    "docs", "jsonl_mb", "import_added", "import_s", "import_docs_per_s", "import_cpu_s",
    "import_docs_per_cpu_s", "import_peak_rss_mb", "cli_s", "cli_docs_per_s", "cli_peak_rss_mb",
    "db_mb", "page_ms", "page_todo_ms", "page_done_ms", "page_deep_after_ms", "page_deep_offset_ms",
    "page_lang_ms", "search_rare_ms", "search_common_ms", "search_common_prefix_ms",
    "search_two_words_ms", "search_common_todo_ms", "search_common_done_ms", "search_rare_hits",
    "search_common_hits_page", "page_done_hits", "targets", "meets_targets",
    # issue 11: the baselines run beside the import, and the short-document memory runs
    "sqlite_utils_docs_per_s", "baseline_docs_per_s", "cli_vs_sqlite_utils", "cli_vs_baseline",
    "import_vs_sqlite_utils", "import_vs_baseline", "import_spans", "short_small_peak_rss_mb",
    "short_large_peak_rss_mb", "short_rss_ratio", "ratio_targets", "meets_ratio_targets", "load_average",
}


def test_bench_import_quick_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_import", "--quick", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert EXPECTED <= set(result), EXPECTED - set(result)
    assert result["docs"] == result["import_added"] == 2000
    assert result["search_rare_hits"] >= 1 and result["search_common_hits_page"] == 50
    assert result["page_done_hits"] > 0
    assert result["targets"] == {"import_docs_per_s": 20000, "peak_rss_mb": 200, "query_ms": 10}
    assert all(result[k] > 0 for k in ("import_docs_per_s", "import_peak_rss_mb", "page_ms"))
    assert isinstance(result["meets_targets"], bool) and isinstance(result["meets_ratio_targets"], bool)
    assert result["import_spans"] == 2000 * result["spans_per_doc"]  # every document brings its spans
    assert result["ratio_targets"] == {"vs_sqlite_utils": 0.8, "vs_baseline": 1.0, "short_rss_ratio": 1.2}
    assert result["short_small_docs"] == 200 and result["short_large_docs"] == 2000
