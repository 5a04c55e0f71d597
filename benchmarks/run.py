"""The benchmark suite: run every benchmark in its own process and print one table.

Each benchmark script (``benchmarks/bench_*.py``, ``benchmarks/keystrokes.py``) runs as
``python -m benchmarks.<name> --json`` (``--quick`` passed on) in a child process, so its
peak memory and imports are its own; the runner collects the JSON object each prints on its
last line and summarises it: import and export throughput and peak memory, page and search
latency, first frame on 100 vs 100,000 documents, key → frame on 1 kB vs 1 MB documents,
propagation refresh time, suggestion precision/recall/F1, model retrain time, and
keystrokes per entity with and without suggestions. The machine (CPU, cores, RAM, Python,
SQLite) and the load average before and after are printed with it: other work on the
machine slows wall-clock figures.

Usage::

    python -m benchmarks                 # full run (tens of minutes on 2 cores)
    python -m benchmarks --quick         # every benchmark's smoke run
    python -m benchmarks --json          # one JSON object: machine, rows, each raw result
    python -m benchmarks --only tui --only keystrokes
    python -m benchmarks --only import,export,tui   # issue 11's figures
    python benchmarks/run.py --list
    python -m benchmarks --from report.json --markdown   # show a saved --json report again

The exit status is 1 if a benchmark failed (its row says why); targets missed are shown,
not failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._util import REPO

#: A summary row: (benchmark, measure, value, target, meets target: True/False/None).
Row = tuple[str, str, str, str, "bool | None"]


# -- machine ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover - not Linux
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:  # pragma: no cover - not Linux
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 0
    try:
        import textual

        textual_version = textual.__version__
    except ImportError:  # pragma: no cover - the project depends on it
        textual_version = None
    return {
        "cpu": cpu,
        "cores": cores,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "textual": textual_version,
        "platform": platform.platform(terse=True),
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not available
        return []


# -- formatting helpers -----------------------------------------------------------------------


def _n(x: Any, digits: int = 0) -> str:
    """A number for people: thousands separated, ``digits`` decimals; ``—`` if missing."""
    if x is None:
        return "—"
    if isinstance(x, (int, float)):
        return f"{x:,.{digits}f}"
    return str(x)


def _ms(x: Any) -> str:
    if not isinstance(x, (int, float)):
        return "—"
    return f"{x:.1f} ms" if x >= 10 else f"{x:.2f} ms"


def _at_most(value: Any, limit: float) -> bool | None:
    return value <= limit if isinstance(value, (int, float)) else None


def _at_least(value: Any, limit: float) -> bool | None:
    return value >= limit if isinstance(value, (int, float)) else None


def _all(*checks: bool | None) -> bool | None:
    known = [c for c in checks if c is not None]
    return all(known) if known else None


# -- summaries of each benchmark's JSON -------------------------------------------------------


def summarise_import(r: dict[str, Any]) -> list[Row]:
    docs = r.get("docs")
    t = r.get("targets", {})
    rate, rss, query = t.get("import_docs_per_s", 20_000), t.get("peak_rss_mb", 200), t.get("query_ms", 10)
    target = f">= {rate:,} docs/s, < {rss} MB"
    cpu = f" ({_n(r['import_docs_per_cpu_s'])} per CPU-second)" if "import_docs_per_cpu_s" in r else ""
    rows: list[Row] = [
        ("import", f"library import, {_n(docs)} docs",
         f"{_n(r.get('import_docs_per_s'))} docs/s{cpu}, peak {_n(r.get('import_peak_rss_mb'), 1)} MB", target,
         _all(_at_least(r.get("import_docs_per_s"), rate), _at_most(r.get("import_peak_rss_mb"), rss))),
    ]
    if "cli_docs_per_s" in r:
        rows.append(("import", f"`annotate import`, {_n(docs)} docs",
                     f"{_n(r.get('cli_docs_per_s'))} docs/s, peak {_n(r.get('cli_peak_rss_mb'), 1)} MB", target,
                     _all(_at_least(r.get("cli_docs_per_s"), rate), _at_most(r.get("cli_peak_rss_mb"), rss))))
    rt = r.get("ratio_targets", {})
    if "cli_vs_sqlite_utils" in r:  # issue 11: the command beside its baselines, in the same run
        rows.append(("import", f"`annotate import` vs raw `sqlite-utils insert --nl` ({_n(r.get('sqlite_utils_docs_per_s'))}"
                     " docs/s)", f"{_n(r['cli_vs_sqlite_utils'], 2)}x", f">= {rt.get('vs_sqlite_utils', 0.8)}x",
                     _at_least(r["cli_vs_sqlite_utils"], rt.get("vs_sqlite_utils", 0.8))))
        rows.append(("import", f"`annotate import` vs raw executemany + FTS5 ({_n(r.get('baseline_docs_per_s'))} docs/s)",
                     f"{_n(r['cli_vs_baseline'], 2)}x", f">= {rt.get('vs_baseline', 1.0)}x",
                     _at_least(r["cli_vs_baseline"], rt.get("vs_baseline", 1.0))))
    if "short_rss_ratio" in r:
        rows.append(("import", f"short docs, peak RSS {_n(r.get('short_small_docs'))} vs {_n(r.get('short_large_docs'))}",
                     f"{_n(r.get('short_small_peak_rss_mb'), 1)} vs {_n(r.get('short_large_peak_rss_mb'), 1)} MB"
                     f" (ratio {_n(r['short_rss_ratio'], 2)})", f"ratio <= {rt.get('short_rss_ratio', 1.2)}",
                     _at_most(r["short_rss_ratio"], rt.get("short_rss_ratio", 1.2))))
    for key, what in (("page_ms", "page of 50 documents"), ("page_todo_ms", "page, status filter"),
                      ("page_deep_after_ms", "deep page (after id)"), ("search_rare_ms", "search, rare name"),
                      ("search_common_ms", "search, common name (first page)")):
        if key in r:
            rows.append(("import", what, _ms(r[key]), f"<= {query} ms", _at_most(r[key], query)))
    return rows


def summarise_export(r: dict[str, Any]) -> list[Row]:
    docs = r.get("documents")
    t = r.get("targets", {})
    rss_t = t.get("peak_rss_mb", 200)
    chars = f" (~{_n(r['chars_per_doc'])} chars)" if "chars_per_doc" in r else ""
    rows: list[Row] = []
    for phase, what, key, default in (
        ("jsonl_warm", "JSONL (tokens cached)", "jsonl_warm_docs_per_s", r.get("target_jsonl_docs_per_s", 20_000)),
        ("jsonl_cold", "JSONL (first export, tokenising)", "jsonl_cold_docs_per_s", None),
        ("spacy_file", "spaCy DocBin", "spacy_docs_per_s", None),
    ):
        p = r.get(phase)
        if not isinstance(p, dict):
            continue
        goal = t.get(key, default)
        cpu = f" ({_n(p['docs_per_cpu_s'])} per CPU-second)" if "docs_per_cpu_s" in p else ""
        worker = (f"; tokenising process {_n(p['worker_peak_rss_mb'], 1)} MB"
                  if isinstance(p.get("worker_peak_rss_mb"), (int, float)) else "")
        target = ", ".join(x for x in (f">= {goal:,} docs/s" if goal else "", f"< {rss_t} MB" if "targets" in r else "") if x)
        met = _all(_at_least(p.get("docs_per_s"), goal) if goal else None,
                   _at_most(p.get("peak_rss_mb"), rss_t) if "targets" in r else None)
        rows.append(("export", f"{what}, {_n(docs)} docs{chars}",
                     f"{_n(p.get('docs_per_s'))} docs/s{cpu}, peak {_n(p.get('peak_rss_mb'), 1)} MB{worker}", target, met))
    short = r.get("short") or {}
    ratios = r.get("short_rss_ratio") or {}
    sizes = sorted(short, key=int)
    if len(sizes) >= 2 and ratios:
        small, large = short[sizes[0]], short[sizes[-1]]
        ratio_t = t.get("rss_ratio_1m_100k", 1.2)
        for phase, what in (("jsonl_cold", "first"), ("jsonl_warm", "cached")):
            a, b = small.get(phase) or {}, large.get(phase) or {}
            rows.append((
                "export", f"short docs, JSONL {what}: peak RSS at {_n(int(sizes[0]))} vs {_n(int(sizes[-1]))}",
                (f"{_n(a.get('peak_rss_mb'), 1)} MB vs {_n(b.get('peak_rss_mb'), 1)} MB (ratio {_n(ratios.get(phase), 2)});"
                 f" {_n(b.get('docs_per_s'))} docs/s"),
                f"ratio <= {ratio_t}", _at_most(ratios.get(phase), ratio_t),
            ))
    return rows


def summarise_tui(r: dict[str, Any]) -> list[Row]:
    t = r.get("targets", {})
    median, ratio_t, ff_t = t.get("action_median_ms", 5.0), t.get("ratio", 2.0), t.get("first_frame_ratio", 1.2)
    docs = r.get("documents", {})
    small, large = docs.get("small_db"), docs.get("large_db")
    rows: list[Row] = [
        ("tui", f"first frame, {_n(small)} vs {_n(large)} docs",
         (f"{_ms(r.get('first_frame_small_ms'))} vs {_ms(r.get('first_frame_large_ms'))}"
          f" (ratio {_n(r.get('first_frame_ratio'), 2)})"),
         f"ratio <= {ff_t}", _at_most(r.get("first_frame_ratio"), ff_t)),
    ]
    if "document_shown_small_ms" in r:
        rows.append(("tui", f"document shown, {_n(small)} vs {_n(large)} docs",
                     (f"{_ms(r.get('document_shown_small_ms'))} vs {_ms(r.get('document_shown_large_ms'))}"
                      f" (ratio {_n(r.get('document_shown_ratio'), 2)})"), "", None))
    if "next_document_median_ms" in r:
        next_t = t.get("next_document_ms", 50.0)
        per_key = ", ".join(f"`{k}` {v:.1f}" for k, v in r.get("next_document_ms", {}).items())
        rows.append(("tui", "next document after `]` `[` `d` `s` (medians)",
                     (f"{_ms(r.get('next_document_median_ms'))} ({per_key}; p95 {_ms(r.get('next_document_p95_ms'))};"
                      f" keys pressed at once {_ms(r.get('next_document_at_once_median_ms'))})"),
                     f"<= {next_t:g} ms", _at_most(r.get("next_document_median_ms"), next_t)))
    small_doc, big_doc = r.get("actions_1kb", {}), r.get("actions_1mb", {})
    big = r.get("big_document", {})
    size = f"{big.get('utf8_bytes', 0) / 1e6:.2f} MB" if big.get("utf8_bytes") else "big"
    ratios = r.get("ratio_1mb_1kb", {})
    for action in ("cursor", "extend", "label", "undo", "page_down"):
        a, b = small_doc.get(action), big_doc.get(action)
        if not (isinstance(a, dict) and isinstance(b, dict)):
            continue
        rows.append((
            "tui", f"key → frame: {action.replace('_', ' ')}, 1 kB vs {size}",
            (f"{_ms(a.get('median_ms'))} vs {_ms(b.get('median_ms'))} median (CPU {_ms(b.get('cpu_median_ms'))},"
             f" p95 {_ms(b.get('p95_ms'))}), ratio {_n(ratios.get(action), 2)}"),
            f"<= {median:g} ms, ratio <= {ratio_t:g}",
            _all(_at_most(b.get("median_ms"), median), _at_most(ratios.get(action), ratio_t)),
        ))
    return rows


def summarise_suggest(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    q = r.get("quality", {})
    configs = q.get("configs", {})
    for name in ("propagation", "combined + patterns"):
        c = configs.get(name)
        if not isinstance(c, dict):
            continue
        e = c.get("overall", {}).get("exact", {})
        rows.append((
            "suggest", f"P / R / F1, {name} ({q.get('evaluated_documents', '?')} gold docs)",
            f"{_n(e.get('precision'), 3)} / {_n(e.get('recall'), 3)} / {_n(e.get('f1'), 3)}",
            "P >= 0.85, R >= 0.70",
            _all(_at_least(e.get("precision"), 0.85), _at_least(e.get("recall"), 0.70)),
        ))
    s = r.get("speed", {})
    refresh = s.get("refresh_ms", {})
    if refresh:
        rows.append(("suggest", f"propagation refresh, one document of {_n(s.get('documents'))}",
                     f"{_ms(refresh.get('median'))} median, {_ms(refresh.get('max'))} max", "<= 100 ms",
                     _at_most(refresh.get("max"), 100)))
    first = s.get("suggest_first_run", {})
    if first:
        rows.append(("suggest", f"`annotate suggest` (propagation), {_n(first.get('documents'))} docs",
                     f"{_n(first.get('docs_per_second'))} docs/s", ">= 1,000 docs/s",
                     _at_least(first.get("docs_per_second"), 1000)))
    return rows


def summarise_model(r: dict[str, Any]) -> list[Row]:
    targets = r.get("targets", {})
    rows: list[Row] = []
    for size in r.get("sizes", []):
        n = size.get("documents")
        limit = targets.get(f"retrain_{n}_s")
        rows.append((
            "model", f"retrain, {_n(n)} labelled docs (warm; in child process)",
            (f"{_n(size.get('loop_warm_s'), 2)} s ({_n(size.get('process_warm_s'), 2)} s),"
             f" held-out F1 {_n(size.get('loop_held_out_f1'), 3)}"),
            f"<= {limit:g} s" if limit else "", _at_most(size.get("loop_warm_s"), limit) if limit else None,
        ))
    gold = r.get("gold") or {}
    points = gold.get("points") or []
    if points:
        p = points[-1]
        crf = p.get("crf", {})
        rows.append(("model", f"CRF on gold, trained on {p.get('documents')} doc(s)",
                     f"P {_n(crf.get('precision'), 3)} R {_n(crf.get('recall'), 3)} F1 {_n(crf.get('f1'), 3)}",
                     "", None))
    return rows


def summarise_keystrokes(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, m in r.get("modes", {}).items():
        extra = f"; {m['left_pending']} wrong suggestions left pending" if m.get("suggestions") else ""
        rows.append((
            "keystrokes", f"keys per entity, suggestions {name} ({m.get('entities')} entities, {m.get('documents')} docs)",
            (f"{_n(m.get('keys_per_entity'), 2)} ({m.get('keys')} keys; equals gold: "
             f"{'yes' if m.get('equals_gold') else 'NO'}{extra})"),
            f"<= {m.get('target')}", _at_most(m.get("keys_per_entity"), m.get("target", 0)),
        ))
    return rows


def summarise_model_loop(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for point in (r.get("quality") or {}).get("points", []):
        if point.get("labelled") != 3:
            continue
        for name in ("rules", "rules+crf"):
            m = point.get(name) or {}
            met = None
            if name == "rules+crf":
                met = (m.get("precision") or 0) >= 0.85 and (m.get("recall") or 0) >= 0.70
            rows.append((
                "model loop", f"suggestions after 3 labelled docs, {name}",
                f"P {_n(m.get('precision'), 3)} R {_n(m.get('recall'), 3)} F1 {_n(m.get('f1'), 3)}",
                "P >= 0.85, R >= 0.70" if name == "rules+crf" else "", met,
            ))
    for lat in r.get("latency", []):
        during = ((lat.get("child") or {}).get("during_retrain")) or {}
        rows.append((
            "model loop", f"cursor key → frame during a retrain ({_n(lat.get('labelled_documents'))} labelled docs)",
            f"{_n(during.get('median_ms'), 2)} ms median (p95 {_n(during.get('p95_ms'), 2)})",
            "<= 5 ms", _at_most(during.get("median_ms"), 5),
        ))
    return rows


def summarise_team(r: dict[str, Any]) -> list[Row]:
    t = r.get("targets", {})
    agree_t, next_t = t.get("agree_s", 2.0), t.get("next_conflict_ms", 20.0)
    a = r.get("agree", {})
    rows: list[Row] = [
        ("team", f"`agree`, {_n(a.get('documents'))} docs × {_n(r.get('annotators'))} annotators",
         f"{_n(a.get('library_s'), 2)} s (CPU {_n(a.get('library_cpu_s'), 2)} s); command {_n(a.get('command_s'), 2)} s",
         f"<= {agree_t} s", _at_most(a.get("library_s"), agree_t)),
    ]
    for key, what in (("next_conflict_corpus", "review: next conflict"), ("next_conflict_long", "review: next conflict, long document")):
        n = r.get(key)
        if isinstance(n, dict):
            rows.append(("team", f"{what} ({_n(n.get('conflicts'))} conflicts)",
                         f"{_ms(n.get('median_ms'))} median (CPU {_ms(n.get('cpu_median_ms'))}, p95 {_ms(n.get('p95_ms'))})",
                         f"<= {next_t:g} ms", _at_most(n.get("median_ms"), next_t)))
    return rows


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script and how to summarise its JSON."""

    name: str
    module: str
    summarise: Callable[[dict[str, Any]], list[Row]]
    about: str

    def command(self, quick: bool) -> list[str]:
        return [sys.executable, "-m", self.module, "--json", *(["--quick"] if quick else [])]


BENCHMARKS: list[Benchmark] = [
    Benchmark("import", "benchmarks.bench_import", summarise_import,
              "import 100,000 documents; page and search latency"),
    Benchmark("export", "benchmarks.bench_export", summarise_export, "export 100,000 documents"),
    Benchmark("tui", "benchmarks.bench_tui", summarise_tui,
              "first frame on 100 vs 100,000 documents; key → frame on 1 kB vs 1 MB"),
    Benchmark("suggest", "benchmarks.bench_suggest", summarise_suggest,
              "suggestion quality on the gold data; propagation speed on 10,000 documents"),
    Benchmark("model", "benchmarks.bench_model", summarise_model, "CRF retrain time and F1"),
    Benchmark("model_loop", "benchmarks.bench_model_loop", summarise_model_loop,
              "suggestions with and without the in-loop model; key latency during a retrain"),
    Benchmark("keystrokes", "benchmarks.keystrokes", summarise_keystrokes,
              "keys per gold entity in the real app, suggestions off and on"),
    Benchmark("team", "benchmarks.bench_team", summarise_team,
              "`agree` on 10,000 documents × 3 annotators; next conflict in the review screen"),
]


# -- running -------------------------------------------------------------------------------------


def run_one(bench: Benchmark, quick: bool, timeout: float | None) -> dict[str, Any]:
    """Run one benchmark in a child process; its JSON, summary rows, or the error."""
    started = time.perf_counter()
    out: dict[str, Any] = {"name": bench.name, "module": bench.module, "command": bench.command(quick)[1:]}
    try:
        proc = subprocess.run(bench.command(quick), cwd=REPO, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        out.update(ok=False, error=f"timed out after {timeout:g} s")
        out["seconds"] = round(time.perf_counter() - started, 1)
        return out
    out["seconds"] = round(time.perf_counter() - started, 1)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    result: dict[str, Any] | None = None
    if lines:
        try:
            parsed = json.loads(lines[-1])
            result = parsed if isinstance(parsed, dict) else None
        except json.JSONDecodeError:
            result = None
    if result is None:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        out.update(ok=False, error=f"exit {proc.returncode}, no JSON: {tail}")
        return out
    out["result"] = result
    try:
        out["rows"] = [list(row) for row in bench.summarise(result)]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        out.update(ok=False, error=f"cannot summarise its JSON: {exc!r}")
        return out
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [""])[-1]
        out.update(ok=False, error=f"exit {proc.returncode}: {tail}")
        return out
    out["ok"] = True
    return out


def run_suite(names: Sequence[str], quick: bool, timeout: float | None,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the named benchmarks (all if empty), one after another; everything as one JSON object."""
    wanted = [b for b in BENCHMARKS if not names or b.name in names]
    report: dict[str, Any] = {
        "quick": quick, "machine": machine(), "load_average_start": load_average(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "benchmarks": {},
    }
    started = time.perf_counter()
    for bench in wanted:
        if progress:
            progress(f"running {bench.name} ({' '.join(bench.command(quick)[1:])})…")
        report["benchmarks"][bench.name] = run_one(bench, quick, timeout)
    report["load_average_end"] = load_average()
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["rows"] = [row for b in report["benchmarks"].values() for row in b.get("rows", [])]
    report["ok"] = all(b.get("ok") for b in report["benchmarks"].values())
    return report


def resummarise(report: dict[str, Any]) -> None:
    """Summarise a saved report's raw results again (with this version's summaries)."""
    by_name = {b.name: b for b in BENCHMARKS}
    for name, bench in report["benchmarks"].items():
        if name in by_name and isinstance(bench.get("result"), dict):
            bench["rows"] = [list(row) for row in by_name[name].summarise(bench["result"])]
    report["rows"] = [row for b in report["benchmarks"].values() for row in b.get("rows", [])]


def _in_order(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The report's benchmarks in suite order (a saved report may have its keys sorted)."""
    order = {b.name: i for i, b in enumerate(BENCHMARKS)}
    return sorted(report["benchmarks"].items(), key=lambda item: order.get(item[0], len(order)))


def render(report: dict[str, Any]) -> Any:
    """The report as one rich table (data as plain ``Text``, never markup) plus the machine."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    mark = {True: Text("yes", style="green"), False: Text("no", style="red"), None: Text("")}
    table = Table(title=Text("annotate benchmarks" + (" (--quick)" if report["quick"] else "")),
                  title_justify="left")
    for col in ("benchmark", "measure", "value", "target", "met"):
        table.add_column(col)
    for name, b in _in_order(report):
        if not b.get("ok") and not b.get("rows"):
            table.add_row(Text(name), Text("FAILED"), Text(b.get("error", "")), Text(""), mark[False])
            continue
        for _, measure, value, target, met in b.get("rows", []):
            table.add_row(Text(name), Text(measure), Text(value), Text(target), mark[met])
        if not b.get("ok"):
            table.add_row(Text(name), Text("FAILED"), Text(b.get("error", "")), Text(""), mark[False])
    m = report["machine"]
    timings = ", ".join(f"{n} {b['seconds']:.0f} s" for n, b in _in_order(report))
    lines = [
        Text(f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; Python {m['python']}, "
             f"SQLite {m['sqlite']}, Textual {m['textual']}; {m['platform']}."),
        Text(f"Load average (1/5/15 min): {' '.join(map(str, report['load_average_start']))} at the start, "
             f"{' '.join(map(str, report['load_average_end']))} at the end; "
             f"{report['seconds']:.0f} s in all ({timings})."),
    ]
    return Group(table, *lines)


def markdown(report: dict[str, Any]) -> str:
    """The table as Markdown (for the README's Performance section)."""
    out = ["| benchmark | measure | value | target | met |", "|---|---|---|---|---|"]
    for name, b in _in_order(report):
        for _, measure, value, target, met in b.get("rows", []):
            cells = [name, measure, value, target, {True: "yes", False: "no", None: ""}[met]]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        if not b.get("ok"):
            error = " ".join(str(b.get("error", "")).split()).replace("|", "\\|")
            out.append(f"| {name} | FAILED | {error} | | no |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run every benchmark (each in its own process) and print one table.",
        epilog="Example: python -m benchmarks --quick --only tui --only keystrokes",
    )
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark (smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--only", action="append", default=[], metavar="NAME[,NAME...]",
                        help="run only these benchmarks (comma-separated or repeated; see --list)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="give up on a benchmark after this long (default: no limit)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--from", dest="saved", type=Path, metavar="REPORT.json",
                        help="show a report saved earlier with --json instead of running anything")
    args = parser.parse_args(argv)
    if args.list:
        for b in BENCHMARKS:
            print(f"{b.name:<11} python -m {b.module}: {b.about}")
        return 0
    known = {b.name for b in BENCHMARKS}
    args.only = [name.strip() for given in args.only for name in given.split(",") if name.strip()]
    unknown = [n for n in args.only if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(sorted(known))}")
    from rich.console import Console

    err = Console(stderr=True, markup=False, highlight=False)
    if args.saved is not None:
        try:
            report = json.loads(args.saved.read_text(encoding="utf-8").strip().splitlines()[-1])
            resummarise(report)
        except (OSError, ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
            parser.error(f"{args.saved}: not a saved report ({exc!r})")
    else:
        report = run_suite(args.only, args.quick, args.timeout, progress=None if args.json else err.print)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, sort_keys=True))
    elif args.markdown:
        print(markdown(report))
    else:
        Console(markup=False, highlight=False, width=None if sys.stdout.isatty() else 160).print(render(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
