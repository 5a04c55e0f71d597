"""Helpers shared by the benchmark scripts: timing, peak memory, child processes, output.

Peak memory is measured in a child process so the figure belongs to the work being
measured alone, not to the benchmark driver (which may hold generated data).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = [
    "REPO",
    "peak_rss_mb",
    "run_child",
    "median_ms",
    "print_results",
    "format_table",
]

#: The repository root (benchmarks run as ``python -m benchmarks.<name>`` from here).
REPO = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (``VmHWM``, else ``ru_maxrss``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def run_child(args: Sequence[str], *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m <args>`` from the repo root; return the JSON object it prints last.

    The child is expected to print one JSON object on its last line of stdout (typically
    including its own :func:`peak_rss_mb`). ``wall_s`` (time seen from outside, interpreter
    start-up included) is added to it.
    """
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"child {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    result = json.loads(lines[-1])
    result["wall_s"] = round(wall, 3)
    return result


def median_ms(fn: Callable[[], object], repeats: int = 21, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` runs, after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 3)


def format_table(rows: Sequence[tuple[str, str, str]]) -> str:
    """``(name, value, target)`` rows as aligned plain text."""
    width = max((len(r[0]) for r in rows), default=0)
    vwidth = max((len(r[1]) for r in rows), default=0)
    return "\n".join(f"{n:<{width}}  {v:>{vwidth}}  {t}".rstrip() for n, v, t in rows)


def print_results(results: dict[str, Any], rows: Sequence[tuple[str, str, str]], as_json: bool) -> None:
    """Print ``results`` as one JSON object, or ``rows`` as a table for people."""
    if as_json:
        print(json.dumps(results, ensure_ascii=False, sort_keys=True))
    else:
        print(format_table(rows))
