"""TUI benchmark: key press to frame on a 1 MB document with 20,000 spans, and time to first frame.

What is measured, headless at 120×40 (``App.run_test``, no terminal):

* **Actions** — cursor move (``l``/``h``), extend the selection (``shift+right``/``shift+left``),
  label (``1`` on a word without a span), undo (``u``, undoing that label) and page down, on a
  1 MB document (1,000,000 bytes of UTF-8, mostly Cyrillic: about 540,000 characters, in
  paragraphs) holding 20,000 accepted spans, and
  the same on a 1 kB document (page down and up alternate there: it is one screen long). The
  time runs from posting the key event to the app until the last frame that key caused has
  been produced: the compositor's update rendered to the terminal byte string
  (``App._display`` is wrapped to render it and take the time). ``TEXTUAL_FPS`` is raised to
  1000 so a frame follows its refresh within a millisecond: the figure is the work of the key
  press, not the wait for Textual's 60 fps tick (Pilot's ``press()`` + ``pause()`` would add
  ≥ 60 ms of sleeping and is not used).
* **Next document** — ``]``, ``[``, ``d`` and ``s`` on a corpus of seed-sized news articles
  (about 12 kB, not tokenised before the run): from posting the key to the first frame showing
  the next document, after a pause that lets the app prepare the likely next documents in the
  background (a person reads before moving on; the pause ends when the prefetch worker is idle,
  at most 3 s), and, as a second figure, pressed again at once (no pause).
* **First frame** — from creating the app to its first frame, and to the first frame showing
  the opening document, on a database of 100 documents and one of 100,000 documents.

Targets (issues 3 and 11): ≤ 5 ms median per action on the 1 MB document, 1 MB / 1 kB ratio
≤ 2, first-frame ratio 100k / 100 ≤ 1.2, next document shown ≤ 50 ms median.

Usage::

    python -m benchmarks.bench_tui            # full run (builds a 100,000-document database)
    python -m benchmarks.bench_tui --quick    # small sizes, few samples, in one process: a smoke run
    python -m benchmarks.bench_tui --json     # one JSON object
"""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_FPS", "1000")  # must precede any Textual import

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._util import print_results, run_child

SIZE = (120, 40)
ANNOTATOR = "bench"
LABELS = ("PER", "LOC", "ORG")
TARGET_ACTION_MS = 5.0
TARGET_RATIO = 2.0
TARGET_FIRST_FRAME_RATIO = 1.2
TARGET_NEXT_DOCUMENT_MS = 50.0
NEXT_KEYS = ("]", "[", "d", "s")
ACTIONS = ("cursor", "extend", "label", "undo", "page_down")


# -- synthetic corpus -----------------------------------------------------------------------------


def vocabulary() -> list[str]:
    """Words of the bundled seed articles (letters only, so spans line up with spaCy tokens)."""
    from annotations import seeds_dir

    words: list[str] = []
    for path in sorted(seeds_dir().glob("*.txt")):
        words += re.findall(r"[^\W\d_]{2,}", path.read_text(encoding="utf-8"))
    return words


def make_document(size: int, n_spans: int, rng: random.Random, words: list[str]) -> dict[str, Any]:
    """A JSONL record of ``size`` UTF-8 bytes: paragraphs of seed words, ``n_spans`` one- or two-word spans."""
    parts: list[str] = []
    positions: list[tuple[int, int]] = []
    length = 0
    nbytes = 0
    while nbytes < size:
        n = rng.randint(40, 160)
        for i in range(n):
            word = rng.choice(words)
            if i == 0:
                word = word[:1].upper() + word[1:]
            positions.append((length, length + len(word)))
            parts.append(word)
            sep = ".\n" if i == n - 1 else " "
            parts.append(sep)
            length += len(word) + len(sep)
            nbytes += len(word.encode("utf-8")) + len(sep)
    text = "".join(parts)
    step = max(len(positions) // max(n_spans, 1), 2)
    spans = []
    for k, i in enumerate(range(0, len(positions) - 2, step)):
        if len(spans) == n_spans:
            break
        start, end = positions[i]
        if k % 3 == 0 and step >= 3:
            end = positions[i + 1][1]
        spans.append({"start": start, "end": end, "label": LABELS[k % 3]})
    return {"text": text, "spans": spans, "meta": {"title": f"bench {size} bytes"}}


def build_db(path: Path, records: list[dict[str, Any]], *, tokenize_first: bool = True) -> None:
    """Import ``records`` (JSONL through the library) and cache the first document's tokens."""
    from annotations import Store, import_paths

    jsonl = path.with_suffix(".jsonl")
    with jsonl.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with Store(path, ANNOTATOR) as store:
        report = import_paths(store, [jsonl], mode="accepted")
        if report.errors:
            raise RuntimeError(f"import failed: {report.errors[0]}")
        if tokenize_first:
            for doc_id in store.document_ids()[:2]:
                store.tokens(doc_id)
    jsonl.unlink()


def small_records(n: int, rng: random.Random, words: list[str]) -> list[dict[str, Any]]:
    return [
        {"text": " ".join(rng.choice(words) for _ in range(rng.randint(30, 60))) + ".",
         "meta": {"title": f"doc {i}"}}
        for i in range(n)
    ]


def article_records(n: int, rng: random.Random, words: list[str]) -> list[dict[str, Any]]:
    """``n`` seed-sized articles (about 12 kB of UTF-8 each, paragraphs of seed words), to do.

    No ``spans`` key: a record with one (even empty) is an annotated example, imported as done,
    and ``d``/``s`` would find no unfinished document to go to.
    """
    return [{"text": make_document(12_000, 0, rng, words)["text"], "meta": {"title": f"article {i}"}}
            for i in range(n)]


# -- measuring --------------------------------------------------------------------------------------


class FrameClock:
    """Wraps ``app._display``: renders each update to terminal bytes and notes when that finished."""

    def __init__(self, app: Any) -> None:
        from rich.console import Console

        self.times: list[float] = []
        #: Main-thread CPU time at the end of each frame (the event loop's own work).
        self.cpu: list[float] = []
        #: When set, the time of the first frame drawn while ``shown_when()`` is true.
        self.shown_when: Callable[[], bool] | None = None
        self.shown_at: float | None = None
        self.frame = asyncio.Event()
        self.console = Console(width=SIZE[0], height=SIZE[1], force_terminal=True, color_system="truecolor")
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                if hasattr(renderable, "render_segments"):
                    renderable.render_segments(self.console)
                now = time.perf_counter()
                self.times.append(now)
                self.cpu.append(time.thread_time())
                self.frame.set()
                if self.shown_at is None and self.shown_when is not None and self.shown_when():
                    self.shown_at = now

        app._display = display

    async def after(
        self, count: int, t0: float, c0: float, quiet: float = 0.006, timeout: float = 3.0
    ) -> tuple[float, float] | None:
        """Wait for the frames caused since ``count``.

        Returns ms from ``t0`` to the last of them (wall clock) and the main thread's CPU
        ms from ``c0`` to it (the work alone, whatever else the machine is doing).
        """
        while len(self.times) == count:
            self.frame.clear()
            try:
                await asyncio.wait_for(self.frame.wait(), timeout)
            except TimeoutError:
                return None
        last = len(self.times)
        while True:
            await asyncio.sleep(quiet)
            if len(self.times) == last:
                break
            last = len(self.times)
        return (self.times[-1] - t0) * 1000, (self.cpu[-1] - c0) * 1000


async def _press(app: Any, clock: FrameClock, key: str) -> tuple[float, float] | None:
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    count = len(clock.times)
    c0 = time.thread_time()
    t0 = time.perf_counter()
    app.post_message(event)
    return await clock.after(count, t0, c0)


async def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.01)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _stats(samples: list[tuple[float, float] | None]) -> dict[str, float]:
    got = [s for s in samples if s is not None]
    if not got:
        nan = float("nan")
        return {"median_ms": nan, "p95_ms": nan, "cpu_median_ms": nan, "cpu_p95_ms": nan, "n": 0}
    wall = [w for w, _ in got]
    cpu = [c for _, c in got]
    return {
        "median_ms": round(statistics.median(wall), 3),
        "p95_ms": round(_pct(wall, 0.95), 3),
        "cpu_median_ms": round(statistics.median(cpu), 3),
        "cpu_p95_ms": round(_pct(cpu, 0.95), 3),
        "n": len(got),
    }


async def measure_actions(db: Path, samples: int, page_alternate: bool) -> dict[str, dict[str, float]]:
    """Median and p95 of each action on the first document of ``db``."""
    from annotations import Store
    from tui.app import AnnotateApp

    store = Store(db, ANNOTATOR)
    app = AnnotateApp(store, suggest=False)
    clock = FrameClock(app)
    results: dict[str, list[tuple[float, float] | None]] = {a: [] for a in ACTIONS}
    async with app.run_test(size=SIZE):
        reader = app.reader
        await _wait(lambda: reader.model is not None)
        await asyncio.sleep(0.1)
        model = reader.model
        assert model is not None

        def free_word_near(offset: int) -> int:
            i = model.word_at(offset) or 0
            while model.span_at(*model.word_range(i)) is not None:
                i += 1
            return model.word_range(i)[0]

        middle = len(model.text) // 2
        reader.move_to_offset(free_word_near(middle))
        await asyncio.sleep(0.05)
        for i in range(samples):
            results["cursor"].append(await _press(app, clock, "l" if i % 2 == 0 else "h"))
        for i in range(samples):
            results["extend"].append(await _press(app, clock, "shift+right" if i % 2 == 0 else "shift+left"))
        await _press(app, clock, "escape")
        for _ in range(samples):
            results["label"].append(await _press(app, clock, "1"))
            results["undo"].append(await _press(app, clock, "u"))
        reader.move_to_offset(0)
        await asyncio.sleep(0.05)
        for i in range(samples):
            key = "pageup" if page_alternate and i % 2 else "pagedown"
            results["page_down"].append(await _press(app, clock, key))
        await app.action_quit()
    store.close()
    return {a: _stats(results[a]) for a in ACTIONS}


async def measure_next_document(db: Path, rounds: int) -> dict[str, Any]:
    """Key → first frame showing the next document, for each of :data:`NEXT_KEYS`."""
    from annotations import Store
    from tui.app import AnnotateApp

    store = Store(db, ANNOTATOR)
    # Open on the second document, so that ``[`` has a document to go back to.
    store.save_cursor(store.document_ids()[1], 0)
    app = AnnotateApp(store, suggest=False)
    clock = FrameClock(app)
    paused: dict[str, list[float]] = {k: [] for k in NEXT_KEYS}
    at_once: dict[str, list[float]] = {k: [] for k in NEXT_KEYS}

    async def press(key: str) -> float | None:
        before = app.reader.doc_id
        clock.shown_at = None
        clock.shown_when = lambda: app.reader.model is not None and app.reader.doc_id != before
        t0 = time.perf_counter()
        app.post_message(_key_event(app, key))
        try:
            await _wait(lambda: clock.shown_at is not None, timeout=20)
        except TimeoutError:
            return None
        assert clock.shown_at is not None
        return (clock.shown_at - t0) * 1000

    async with app.run_test(size=SIZE):
        await _wait(lambda: app.reader.model is not None)
        for _ in range(rounds):
            for key in NEXT_KEYS:
                deadline = time.perf_counter() + 3.0
                while app.prefetch.busy and time.perf_counter() < deadline:
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.05)
                ms = await press(key)
                if ms is not None:
                    paused[key].append(ms)
                ms = await press("]" if key != "]" else "[")
                if ms is not None:
                    at_once[key].append(ms)
        await app.action_quit()
    store.close()

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 2) if values else float("nan")

    every = [v for vs in paused.values() for v in vs]
    every_now = [v for vs in at_once.values() for v in vs]
    return {
        "next_document_ms": {k: med(v) for k, v in paused.items()},
        "next_document_median_ms": med(every),
        "next_document_p95_ms": round(_pct(every, 0.95), 2) if every else float("nan"),
        "next_document_at_once_median_ms": med(every_now),
        "next_document_n": len(every),
    }


def _key_event(app: Any, key: str) -> Any:
    from textual import events

    character = {"right_square_bracket": "]", "left_square_bracket": "["}.get(key, key)
    name = {"]": "right_square_bracket", "[": "left_square_bracket"}.get(key, key)
    event = events.Key(name, character if len(character) == 1 else None)
    event.set_sender(app)
    return event


async def first_frame(db: Path) -> tuple[float, float]:
    """(ms to the first frame, ms to the first frame showing the opening document)."""
    from annotations import Store
    from tui.app import AnnotateApp

    store = Store(db, ANNOTATOR)
    t0 = time.perf_counter()
    app = AnnotateApp(store, suggest=False)
    clock = FrameClock(app)
    clock.shown_when = lambda: app.reader.model is not None
    async with app.run_test(size=SIZE):
        await _wait(lambda: clock.shown_at is not None)
        first = (clock.times[0] - t0) * 1000
        shown = (clock.shown_at - t0) * 1000 if clock.shown_at is not None else float("nan")
        await app.action_quit()
    store.close()
    return first, shown


async def first_frames(small: Path, large: Path, repeats: int, warm_up: bool = True) -> dict[str, float]:
    runs: dict[str, list[tuple[float, float]]] = {"small": [], "large": []}
    if warm_up:  # imports and caches (the quick run has warmed them up measuring the actions)
        await first_frame(small)
        await first_frame(large)
    for _ in range(repeats):
        runs["small"].append(await first_frame(small))
        runs["large"].append(await first_frame(large))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in runs.items()}
    return {
        "first_frame_small_ms": round(med["small"][0], 2),
        "first_frame_large_ms": round(med["large"][0], 2),
        "document_shown_small_ms": round(med["small"][1], 2),
        "document_shown_large_ms": round(med["large"][1], 2),
        "first_frame_ratio": round(med["large"][0] / med["small"][0], 3),
        "document_shown_ratio": round(med["large"][1] / med["small"][1], 3),
    }


# -- driver -------------------------------------------------------------------------------------------


def run(quick: bool) -> dict[str, Any]:
    rng = random.Random(3)
    words = vocabulary()
    big_bytes, big_spans = (20_000, 300) if quick else (1_000_000, 20_000)
    small_docs, large_docs = (20, 200) if quick else (100, 100_000)
    samples = 4 if quick else 80
    repeats = 1 if quick else 5
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        tmpdir = Path(tmp)
        t = time.perf_counter()
        big_db, small_db = tmpdir / "big.db", tmpdir / "small.db"
        big_doc = make_document(big_bytes, big_spans, rng, words)
        build_db(big_db, [big_doc])
        build_db(small_db, [make_document(1_000, 20, rng, words)])
        articles_db = tmpdir / "articles.db"
        build_db(articles_db, article_records(12 if quick else 60, rng, words))
        few_db, many_db = tmpdir / "few.db", tmpdir / "many.db"
        build_db(few_db, small_records(small_docs, rng, words))
        build_db(many_db, small_records(large_docs, rng, words))
        setup_s = time.perf_counter() - t

        if quick:
            # A smoke run: every measurement once, in this process (no interpreter start-up).
            got = child(["quick", str(big_db), str(small_db), str(few_db), str(many_db), str(articles_db),
                         str(samples)], False)
            big, small, frames, nxt = got["big"], got["small"], got["frames"], got["next"]
        else:
            # Each measurement in a fresh interpreter: no heap or cache left over from another.
            big = run_child(["benchmarks.bench_tui", "--child", "actions", str(big_db), str(samples)])
            small = run_child(["benchmarks.bench_tui", "--child", "actions", str(small_db), str(samples),
                               "--alternate"])
            frames = run_child(["benchmarks.bench_tui", "--child", "frames", str(few_db), str(many_db),
                                str(repeats)])
            nxt = run_child(["benchmarks.bench_tui", "--child", "next", str(articles_db), "8"])
            for got in (big, small, frames, nxt):
                got.pop("wall_s", None)
    ratios = {
        a: round(big[a]["median_ms"] / small[a]["median_ms"], 3) if small[a]["median_ms"] else float("nan")
        for a in ACTIONS
    }
    return {
        "quick": quick,
        "size": list(SIZE),
        "big_document": {"characters": len(big_doc["text"]),
                         "utf8_bytes": len(big_doc["text"].encode("utf-8")),
                         "spans": len(big_doc["spans"])},
        "documents": {"small_db": small_docs, "large_db": large_docs},
        "samples_per_action": samples,
        "actions_1mb": big,
        "actions_1kb": small,
        "ratio_1mb_1kb": ratios,
        **frames,
        **nxt,
        "setup_s": round(setup_s, 1),
        "targets": {"action_median_ms": TARGET_ACTION_MS, "ratio": TARGET_RATIO,
                    "first_frame_ratio": TARGET_FIRST_FRAME_RATIO,
                    "next_document_ms": TARGET_NEXT_DOCUMENT_MS},
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    big = result["big_document"]
    out.append(("big document", f"{big['characters']:,} chars / {big['utf8_bytes']:,} B / {big['spans']:,} spans", ""))
    for a in ACTIONS:
        b, s = result["actions_1mb"][a], result["actions_1kb"][a]
        out.append((f"{a} 1MB median / p95", f"{b['median_ms']:.2f} / {b['p95_ms']:.2f} ms",
                    f"target ≤ {TARGET_ACTION_MS} ms median"))
        out.append((f"{a} 1MB CPU median / p95", f"{b['cpu_median_ms']:.2f} / {b['cpu_p95_ms']:.2f} ms", ""))
        out.append((f"{a} 1kB median / p95", f"{s['median_ms']:.2f} / {s['p95_ms']:.2f} ms", ""))
        out.append((f"{a} 1kB CPU median / p95", f"{s['cpu_median_ms']:.2f} / {s['cpu_p95_ms']:.2f} ms", ""))
        out.append((f"{a} ratio 1MB/1kB", f"{result['ratio_1mb_1kb'][a]:.2f}", f"target ≤ {TARGET_RATIO}"))
    docs = result["documents"]
    out.append((f"first frame {docs['small_db']:,} docs", f"{result['first_frame_small_ms']:.1f} ms", ""))
    out.append((f"first frame {docs['large_db']:,} docs", f"{result['first_frame_large_ms']:.1f} ms", ""))
    out.append(("first frame ratio", f"{result['first_frame_ratio']:.3f}", f"target ≤ {TARGET_FIRST_FRAME_RATIO}"))
    out.append((f"document shown {docs['small_db']:,} docs", f"{result['document_shown_small_ms']:.1f} ms", ""))
    out.append((f"document shown {docs['large_db']:,} docs", f"{result['document_shown_large_ms']:.1f} ms", ""))
    out.append(("document shown ratio", f"{result['document_shown_ratio']:.3f}", ""))
    per_key = ", ".join(f"{k} {v:.1f}" for k, v in result["next_document_ms"].items())
    out.append(("next document median (after a pause)", f"{result['next_document_median_ms']:.1f} ms ({per_key})",
                f"target ≤ {TARGET_NEXT_DOCUMENT_MS:g} ms"))
    out.append(("next document p95 (after a pause)", f"{result['next_document_p95_ms']:.1f} ms", ""))
    out.append(("next document median (pressed at once)", f"{result['next_document_at_once_median_ms']:.1f} ms", ""))
    return out


def child(args: list[str], alternate: bool) -> dict[str, Any]:
    """One measurement in this (fresh) process: ``actions DB SAMPLES`` or ``frames SMALL LARGE REPEATS``."""
    if args[0] == "quick":
        big, small, few, many, articles, samples = args[1:7]

        async def every() -> dict[str, Any]:
            return {
                "big": await measure_actions(Path(big), int(samples), page_alternate=False),
                "small": await measure_actions(Path(small), int(samples), page_alternate=True),
                "frames": await first_frames(Path(few), Path(many), 1, warm_up=False),
                "next": await measure_next_document(Path(articles), 1),
            }

        return asyncio.run(every())
    if args[0] == "actions":
        return asyncio.run(measure_actions(Path(args[1]), int(args[2]), page_alternate=alternate))
    if args[0] == "next":
        return asyncio.run(measure_next_document(Path(args[1]), int(args[2])))
    return asyncio.run(first_frames(Path(args[1]), Path(args[2]), int(args[3])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few samples (smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--alternate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.alternate)))
        return 0
    result = run(args.quick)
    print_results(result, rows(result), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
