"""Team benchmark: ``agree`` over 10,000 documents by three annotators, and the review screen's
next conflict.

* **agree** — a database of 10,000 synthetic Cyrillic news snippets (about 60 words, eight
  entities each) done by three annotators whose layers differ as people's do: each drops
  about 8 % of the entities, moves a boundary on 5 %, gives another label to 5 % and adds a
  spurious one now and then. Tokens are cached (imported with the documents), as after the
  documents were opened or exported once. Measured: the library call (median of repeats;
  wall clock and this process's CPU time) and ``annotate agree --json`` as a command
  (interpreter start-up included). Target (issue 12): ≤ 2 s.
* **open for review** — the review screen's worker computing one document's review (agreed spans
  and conflicts) on that database, for the first 50 documents in review order (library, median).
* **next conflict** — the review screen, headless at 120×40, on that database (its
  lowest-agreement document) and on one long document with several hundred conflicts:
  time from posting ``tab`` to the last frame it caused (``TEXTUAL_FPS`` raised to 1000 so
  the figure is the key's work, not the 60 fps tick). Target: ≤ 20 ms.

Usage::

    python -m benchmarks.bench_team            # 10,000 documents
    python -m benchmarks.bench_team --quick    # 200 documents, few samples (a smoke run)
    python -m benchmarks.bench_team --json     # one JSON object
"""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_FPS", "1000")  # must precede any Textual import

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from ._util import peak_rss_mb, print_results

ANNOTATORS = ("aida", "bek", "chyngyz")
LABELS = ("PER", "LOC", "ORG")
SIZE = (120, 40)
TARGET_AGREE_S = 2.0
TARGET_NEXT_MS = 20.0

SYLLABLES = ["ка", "ры", "ба", "ше", "ко", "ту", "ма", "на", "ли", "ос", "ен", "ар", "да", "бе", "ги", "жа"]


def _word(rng: random.Random, capital: bool = False) -> str:
    w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))
    return w.capitalize() if capital else w


def make_doc(rng: random.Random, n_words: int, n_entities: int) -> tuple[dict[str, Any], list[tuple[int, int, str]]]:
    """A record (text + Prodigy tokens) and its 'true' entities as word-index ranges."""
    words = [_word(rng) for _ in range(n_words)]
    slots = sorted(rng.sample(range(0, n_words - 2, 3), min(n_entities, (n_words - 2) // 3)))
    gold = []
    for i in slots:
        length = rng.choice((1, 1, 2))
        for k in range(length):
            words[i + k] = _word(rng, capital=True)
        gold.append((i, i + length, rng.choice(LABELS)))
    text = " ".join(words)
    tokens, at = [], 0
    for k, w in enumerate(words):
        tokens.append({"text": w, "start": at, "end": at + len(w), "id": k, "ws": k < len(words) - 1})
        at += len(w) + 1
    return {"text": text, "tokens": tokens, "meta": {"title": " ".join(words[:6])}}, gold


def perturb(rng: random.Random, gold: list[tuple[int, int, str]], n_words: int) -> list[tuple[int, int, str]]:
    """One annotator's version of the gold entities (word ranges)."""
    out = []
    for s, e, label in gold:
        r = rng.random()
        if r < 0.08:
            continue
        if r < 0.13:
            e = e + 1 if e < n_words and (not out or True) else e
        elif r < 0.18:
            label = rng.choice([lab for lab in LABELS if lab != label])
        out.append((s, e, label))
    if rng.random() < 0.3:
        w = rng.randrange(1, n_words - 1, 3)
        out.append((w, w + 1, rng.choice(LABELS)))
    # Keep one layer free of overlaps (a widened span may touch the next one).
    out.sort()
    clean: list[tuple[int, int, str]] = []
    for span in out:
        if not clean or span[0] >= clean[-1][1]:
            clean.append(span)
    return clean


def build(path: Path, n_docs: int, rng: random.Random, n_words: int = 60, n_entities: int = 8) -> None:
    """Import the documents (tokens included) and write the three layers and statuses in one go."""
    from annotations import Store, import_paths
    from annotations.db import write

    jsonl = path.with_suffix(".jsonl")
    golds = []
    with jsonl.open("w", encoding="utf-8") as fh:
        for _ in range(n_docs):
            record, gold = make_doc(rng, n_words, n_entities)
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            golds.append((record["tokens"], gold))
    with Store(path, "lead") as store:
        report = import_paths(store, [jsonl], mode="text")
        if report.errors:
            raise RuntimeError(report.errors[0])
        ids = store.document_ids()
        ts = "2026-01-01T00:00:00.000+00:00"
        spans, statuses = [], []
        for doc_id, (tokens, gold) in zip(ids, golds):
            for name in ANNOTATORS:
                for s, e, label in perturb(rng, gold, len(tokens)):
                    spans.append((doc_id, tokens[s]["start"], tokens[e - 1]["end"], label, name, ts, ts))
                statuses.append((doc_id, name, "done", ts))
        with write(store.db):
            store.db.conn.executemany(
                "INSERT INTO spans (doc_id, start, end, label, annotator, origin, state, created, updated)"
                " VALUES (?,?,?,?,?,'manual','accepted',?,?)", spans)
            store.db.conn.executemany(
                "INSERT INTO doc_status (doc_id, annotator, status, updated) VALUES (?,?,?,?)", statuses)
    jsonl.unlink()


def measure_agree(db: Path, repeats: int) -> dict[str, Any]:
    from annotations import Store
    from annotations.team.agree import agree

    walls, cpus = [], []
    report = None
    with Store(db, "lead") as store:
        for _ in range(repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            report = agree(store)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    assert report is not None
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tui", "agree", "--db", str(db), "--json"],
                          capture_output=True, text=True, check=False)
    command_s = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return {
        "documents": report.documents, "tokens": report.tokens,
        "spans": sum(p.overall.gold for p in report.pairs[:1]),
        "alpha": round(report.alpha or 0.0, 4),
        "kappa": [round(p.kappa or 0.0, 4) for p in report.pairs],
        "library_s": round(statistics.median(walls), 3), "library_cpu_s": round(statistics.median(cpus), 3),
        "library_runs_s": [round(w, 3) for w in walls],
        "command_s": round(command_s, 3),
    }


def measure_open_review(db: Path, samples: int) -> dict[str, Any]:
    """What the review screen's worker does to open a document: its review (agreed spans and
    conflicts) among the three, on documents in review order (library call, median)."""
    from annotations import Store
    from annotations.team.review import load_review, review_queue

    times = []
    with Store(db, "lead") as store:
        queue = review_queue(store, list(ANNOTATORS))
        for doc_id, _ in queue[:samples]:
            t0 = time.perf_counter()
            load_review(store, doc_id, list(ANNOTATORS))
            times.append((time.perf_counter() - t0) * 1000)
    return {"samples": len(times), "median_ms": round(statistics.median(times), 3),
            "max_ms": round(max(times), 3)}


class FrameClock:
    """Wraps ``app._display`` and notes when each frame has been rendered."""

    def __init__(self, app: Any) -> None:
        from rich.console import Console

        self.times: list[float] = []
        self.cpu: list[float] = []
        self.frame = asyncio.Event()
        self.console = Console(width=SIZE[0], height=SIZE[1], force_terminal=True, color_system="truecolor")
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                if hasattr(renderable, "render_segments"):
                    renderable.render_segments(self.console)
                self.times.append(time.perf_counter())
                self.cpu.append(time.thread_time())
                self.frame.set()

        app._display = display

    async def after(self, count: int, t0: float, c0: float, quiet: float = 0.006) -> tuple[float, float] | None:
        while len(self.times) == count:
            self.frame.clear()
            try:
                await asyncio.wait_for(self.frame.wait(), 3.0)
            except TimeoutError:
                return None
        last = len(self.times)
        while True:
            await asyncio.sleep(quiet)
            if len(self.times) == last:
                break
            last = len(self.times)
        return (self.times[-1] - t0) * 1000, (self.cpu[-1] - c0) * 1000


async def _wait(predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the review screen did not open in time")
        await asyncio.sleep(0.01)


async def measure_next_conflict(db: Path, samples: int) -> dict[str, Any]:
    from textual import events

    from annotations import Store
    from tui.review import ReviewApp

    app = ReviewApp(Store(db, "lead"), list(ANNOTATORS))
    clock = FrameClock(app)
    got = []
    async with app.run_test(size=SIZE):
        screen = app.review_screen
        await _wait(lambda: screen.review is not None and screen.reader.model is not None)
        await asyncio.sleep(0.3)
        conflicts = len(screen.review.conflicts)
        for _ in range(samples):
            event = events.Key("tab", None)
            event.set_sender(app)
            count = len(clock.times)
            c0, t0 = time.thread_time(), time.perf_counter()
            app.post_message(event)
            got.append(await clock.after(count, t0, c0))
    ok = [g for g in got if g is not None]
    wall, cpu = [w for w, _ in ok], [c for _, c in ok]
    return {"conflicts": conflicts, "samples": len(ok),
            "median_ms": round(statistics.median(wall), 3), "p95_ms": round(sorted(wall)[int(0.95 * (len(wall) - 1))], 3),
            "cpu_median_ms": round(statistics.median(cpu), 3)}


def run(quick: bool) -> dict[str, Any]:
    rng = random.Random(12)
    n_docs = 200 if quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "team.db"
        t0 = time.perf_counter()
        build(db, n_docs, rng)
        setup_s = time.perf_counter() - t0
        agree_result = measure_agree(db, 1 if quick else 3)
        open_review = measure_open_review(db, 5 if quick else 50)
        samples = 5 if quick else 60
        next_corpus = asyncio.run(measure_next_conflict(db, samples))
        long_db = Path(tmp) / "long.db"
        build(long_db, 1, rng, n_words=1500 if quick else 12_000, n_entities=300 if quick else 2000)
        next_long = asyncio.run(measure_next_conflict(long_db, samples))
    return {
        "benchmark": "team", "quick": quick, "documents": n_docs, "annotators": len(ANNOTATORS),
        "setup_s": round(setup_s, 1), "agree": agree_result, "open_review": open_review,
        "next_conflict_corpus": next_corpus, "next_conflict_long": next_long,
        "targets": {"agree_s": TARGET_AGREE_S, "next_conflict_ms": TARGET_NEXT_MS},
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    a = result["agree"]
    nc, nl = result["next_conflict_corpus"], result["next_conflict_long"]
    return [
        ("agree: documents × annotators", f"{a['documents']:,} × {result['annotators']} ({a['tokens']:,} tokens)", ""),
        ("agree, library (median)", f"{a['library_s']:.2f} s (CPU {a['library_cpu_s']:.2f} s)",
         f"target ≤ {TARGET_AGREE_S} s"),
        ("agree, `annotate agree --json`", f"{a['command_s']:.2f} s (start-up included)", ""),
        ("agree: α / κ per pair", f"{a['alpha']:.3f} / " + ", ".join(f"{k:.3f}" for k in a["kappa"]), ""),
        (f"open a document for review, {result['documents']:,}-doc db",
         f"{result['open_review']['median_ms']:.2f} ms median, max {result['open_review']['max_ms']:.2f}", ""),
        (f"next conflict, {result['documents']:,}-doc db ({nc['conflicts']} in doc)",
         f"{nc['median_ms']:.2f} ms median, p95 {nc['p95_ms']:.2f} (CPU {nc['cpu_median_ms']:.2f})",
         f"target ≤ {TARGET_NEXT_MS} ms"),
        (f"next conflict, long doc ({nl['conflicts']} conflicts)",
         f"{nl['median_ms']:.2f} ms median, p95 {nl['p95_ms']:.2f} (CPU {nl['cpu_median_ms']:.2f})",
         f"target ≤ {TARGET_NEXT_MS} ms"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 documents and few samples (smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.quick)
    print_results(result, rows(result), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
