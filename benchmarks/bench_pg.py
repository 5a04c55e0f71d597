"""PostgreSQL against SQLite, side by side on this machine: import, export, page, search, key.

Both stores get the same synthetic corpus (Cyrillic news-like snippets of about 60 words)
through the same Store API, and each figure is printed for both with the ratio
PostgreSQL / SQLite. The PostgreSQL server is a throwaway one (``tests/pg_server.py``:
``initdb`` + ``pg_ctl`` on a temp folder, a Unix socket, no fsync: the data is thrown away,
so durability costs are not in the PostgreSQL figures; SQLite runs as in use, WAL with
``synchronous=NORMAL``).

* **import** — ``Store.add_documents`` of every document in one transaction (``COPY`` on
  PostgreSQL, batched FTS5 indexing on SQLite), then one suggestion run's worth of spans
  (``Store.add_suggestions_many``, eight per document).
* **import_file** — ``annotate import``'s library call (``import_paths``) of the same corpus
  as a JSONL file with five accepted spans per document, into a fresh database: checked,
  staged, published in short transactions (``COPY`` on PostgreSQL), searchable on return.
* **export** — ``annotate export``'s own path (``run_export``, JSONL, ``--status all``): keyset
  pages through ``store/sql_export.py``, every document tokenised and its tokens cached (a
  first export).
* **page** — one page of 50 documents deep in the corpus (``Store.documents(after=...)``),
  and one filtered by status; median.
* **search** — ``Store.documents(search=...)``: a common word, a rare one, a prefix; median.
* **key** — the store's work for one key press in the app: label a word (``add_span``) and
  read back what the screen redraws (the document's spans, its list row); median.
* **key → frame** — the real app (``App.run_test``, frames timed as ``benchmarks/bench_tui.py``
  times them) on each backend's store, on a document in the middle of the corpus with its
  suggestions: ``1`` (label the word under the cursor) and ``u`` (undo it), alternately; from
  posting the key to the last frame it caused, median and p95 (wall), and the event loop's
  CPU ms (whatever else the machine is doing). Target (issue 14): ≤ 5 ms median on PostgreSQL.
* **writers** (``--writers``) — 8 processes × 2,000 actions on PostgreSQL
  (``tests/concurrency_worker.py``): errors, lost actions, seconds.

Targets (issue 14): import and export within 2× of SQLite, page and search ≤ 10 ms, key → frame
≤ 5 ms median.

Usage::

    python -m benchmarks.bench_pg              # 20,000 documents
    python -m benchmarks.bench_pg --quick      # 2,000 documents, fewer samples
    python -m benchmarks.bench_pg --json       # one JSON object
    python -m benchmarks.bench_pg --writers    # also 8 writers x 2,000 actions on PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from ._util import REPO

os.environ.setdefault("TEXTUAL_FPS", "1000")  # before Textual is imported (see bench_tui)

sys.path.insert(0, str(REPO / "tests"))

SYLLABLES = ["ка", "ры", "ба", "ше", "ко", "ту", "ма", "на", "ли", "ос", "ен", "ар", "да", "бе", "ги", "жа"]
LABELS = ("PER", "LOC", "ORG")
TARGET_RATIO = 2.0
TARGET_MS = 10.0
TARGET_FRAME_MS = 5.0


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))


def make_corpus(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        words = [_word(rng) for _ in range(60)]
        words[rng.randrange(60)] = "Бишкек" if i % 10 == 0 else words[0]
        words[rng.randrange(60)] = f"уникалдуу{i}" if i % 1000 == 0 else words[1]
        docs.append(" ".join(words).capitalize() + ".")
    return docs


def _suggestions(text: str, rng: random.Random) -> list[tuple[int, int, str, float]]:
    out, pos = [], 0
    starts = [i for i, c in enumerate(text) if c == " "]
    for s in sorted(rng.sample(starts[:-1], 8)):
        if s + 1 < pos:
            continue
        end = text.find(" ", s + 1)
        out.append((s + 1, end, rng.choice(LABELS), 0.5))
        pos = end
    return out


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm: prepared statements, caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 3)


def run_backend(location: Any, corpus: list[str], repeat: int, out_dir: Path) -> dict[str, float]:
    from annotations.store import NewDocument, Store

    res: dict[str, float] = {}
    store = Store(location, "bench")
    rng = random.Random(3)
    t = time.perf_counter()
    ids = [doc_id for doc_id, _ in store.add_documents(NewDocument(text, source="bench.txt", line=i + 1, lang="ky")
                                                          for i, text in enumerate(corpus))]
    res["import_documents_s"] = round(time.perf_counter() - t, 3)
    shared = store.reopen("*")
    t = time.perf_counter()
    for i in range(0, len(ids), 1000):
        shared.add_suggestions_many([(d, _suggestions(corpus[d - ids[0]], rng)) for d in ids[i:i + 1000]], "bench")
    res["import_spans_s"] = round(time.perf_counter() - t, 3)
    res["import_s"] = round(res["import_documents_s"] + res["import_spans_s"], 3)
    shared.close()

    from annotations.formats import Selection, run_export

    t = time.perf_counter()
    run_export(store, "jsonl", Selection(status="all"), out_dir / f"{store.backend.name}.jsonl")
    res["export_s"] = round(time.perf_counter() - t, 3)

    for d in ids[: len(ids) // 20]:
        store.set_status(d, "done")
    deep = ids[int(len(ids) * 0.9)]
    res["page_ms"] = median_ms(lambda: store.documents(limit=50, after=deep), repeat)
    res["page_done_ms"] = median_ms(lambda: store.documents(status="done", limit=50), repeat)
    res["search_common_ms"] = median_ms(lambda: store.documents(search="Бишкек", limit=50), repeat)
    res["search_rare_ms"] = median_ms(lambda: store.documents(search="уникалдуу1000", limit=50), repeat)
    res["search_prefix_ms"] = median_ms(lambda: store.documents(search="уникал", limit=50), repeat)

    doc = ids[len(ids) // 2]
    text = corpus[doc - ids[0]]
    spaces = [i for i, c in enumerate(text) if c == " "]
    picks = iter(range(10**6))

    def key() -> None:
        i = next(picks) % (len(spaces) - 1)
        store.add_span(doc, spaces[i] + 1, spaces[i + 1], LABELS[i % 3])
        store.spans(doc)
        store.documents(ids=[doc])

    res["key_ms"] = median_ms(key, repeat)
    res.update(key_work(store, key, repeat))
    store.close()
    frames = asyncio.run(key_frames(location, doc, repeat))
    for action, stats in frames.items():
        res[f"frame_{action}_ms"] = stats["median_ms"]
        res[f"frame_{action}_p95_ms"] = stats["p95_ms"]
        res[f"frame_{action}_cpu_ms"] = stats["cpu_median_ms"]
    if "server_cpu_ms" in frames["label"]:
        res["frame_server_cpu_ms"] = frames["label"]["server_cpu_ms"]
    return res


def write_jsonl(corpus: list[str], path: Path) -> Path:
    """The corpus as JSONL, five accepted spans (whole words, not overlapping) per document."""
    rng = random.Random(5)
    with path.open("w", encoding="utf-8") as fh:
        for text in corpus:
            spans = [{"start": s, "end": e, "label": label} for s, e, label, _ in _suggestions(text, rng)[:5]]
            fh.write(json.dumps({"text": text, "spans": spans}, ensure_ascii=False) + "\n")
    return path


def run_import(location: Any, jsonl: Path, n: int) -> dict[str, float]:
    """``import_paths`` of ``jsonl`` into a fresh database at ``location``."""
    from annotations import Store, import_paths

    with Store(location, "bench") as store:
        t = time.perf_counter()
        report = import_paths(store, [jsonl], lang="ky")
        seconds = time.perf_counter() - t
        assert report.ok and report.added == n, report.to_dict()
    return {"import_file_s": round(seconds, 3)}


def _ticks(stat: Path | None) -> int:
    """CPU clock ticks (user + system) a process has used, from ``/proc/PID/stat`` (0: unknown)."""
    if stat is None or not stat.exists():
        return 0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def key_work(store: Any, key: Callable[[], Any], repeat: int) -> dict[str, float]:
    """What one key press costs whatever the load: statements sent (round trips, on
    PostgreSQL), this process's CPU ms and, on PostgreSQL, the server process's CPU ms."""
    b = store.backend
    sent = [0]
    target = b.conn if b.name == "postgresql" else b
    original = target.execute

    def counting(*args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return original(*args, **kwargs)

    target.execute = counting
    server = None
    if b.name == "postgresql":
        server = Path(f"/proc/{b.conn.info.backend_pid}/stat")

    def server_ticks() -> int:
        return _ticks(server)

    ticks0, cpu0 = server_ticks(), time.thread_time()
    n = max(repeat, 200)  # the server's clock ticks are 10 ms: many keys, then the mean
    for _ in range(n):
        key()
    cpu = (time.thread_time() - cpu0) * 1000 / n
    ticks = server_ticks() - ticks0
    del target.execute
    out = {"key_statements": round(sent[0] / n, 2), "key_cpu_ms": round(cpu, 3)}
    if server is not None:
        out["key_server_cpu_ms"] = round(ticks * 1000 / os.sysconf("SC_CLK_TCK") / n, 3)
    return out


async def key_frames(location: Any, doc: int, samples: int) -> dict[str, dict[str, float]]:
    """Key → last frame in the app on ``location``'s store: label (``1``) and undo (``u``)."""
    from annotations.store import Store
    from tui.app import AnnotateApp

    from .bench_tui import SIZE, FrameClock, _press, _stats, _wait

    store = Store(location, "bench-app")  # a layer of its own: the word under the cursor is free
    text = store.text(doc)
    store.save_cursor(doc, text.index(" ") + 1)  # the app opens there
    app = AnnotateApp(store, suggest=False, model=False, seed_if_empty=False)
    clock = FrameClock(app)
    got: dict[str, list[Any]] = {"label": [], "undo": []}
    b = store.backend
    server = Path(f"/proc/{b.conn.info.backend_pid}/stat") if b.name == "postgresql" else None
    async with app.run_test(size=SIZE):
        await _wait(lambda: app.reader.doc_id == doc)
        await asyncio.sleep(0.1)
        for key in ("1", "u", "1", "u"):  # warm: prepared statements, caches
            await _press(app, clock, key)
        ticks0 = _ticks(server)
        for _ in range(samples):
            got["label"].append(await _press(app, clock, "1"))
            got["undo"].append(await _press(app, clock, "u"))
        ticks = _ticks(server) - ticks0
        await app.action_quit()
    store.close()
    out = {action: _stats(samples_) for action, samples_ in got.items()}
    if server is not None:  # the server's CPU for a label and its undo, per key (a mean: 10 ms ticks)
        per_key = round(ticks * 1000 / os.sysconf("SC_CLK_TCK") / (2 * samples), 3)
        for stats in out.values():
            stats["server_cpu_ms"] = per_key
    return out


def run_writers(server: Any, processes: int, actions: int) -> dict[str, Any]:
    from annotations.seeds import seeds_dir
    from annotations.store import NewDocument, Store
    from annotations.text import decode

    url = server.new_database()
    with Store(url, "setup") as store:
        store.add_documents([NewDocument(decode(p.read_bytes()), source=p.name) for p in sorted(seeds_dir().glob("*.txt"))])
        for d in store.document_ids():
            store.tokens(d)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-writers-"))
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, str(REPO / "tests" / "concurrency_worker.py"), url, f"w{n}",
                               str(actions), str(n), str(tmp / f"w{n}.json")], stderr=subprocess.PIPE, text=True)
             for n in range(processes)]
    for p in procs:
        p.communicate()
    seconds = time.perf_counter() - t
    errors, lost, done = 0, 0, 0
    with Store(url, "checker") as store:
        for n in range(processes):
            result = json.loads((tmp / f"w{n}.json").read_text())
            errors += len(result["errors"])
            logged = {}
            for ev in store.events(annotator=f"w{n}", limit=10**6):
                logged[ev["action"]] = logged.get(ev["action"], 0) + 1
            for action, k in result["counts"].items():
                done += k
                lost += abs(logged.get(action, 0) - k)
    return {"processes": processes, "actions_each": actions, "seconds": round(seconds, 2), "errors": errors,
            "lost": lost, "actions": done, "actions_per_s": round(done / seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--writers", action="store_true", help="also 8 writers x 2,000 actions on PostgreSQL")
    args = ap.parse_args()
    n = 2_000 if args.quick else args.docs
    repeat = 15 if args.quick else 51
    from pg_server import start

    server, why = start()
    if server is None:
        print(f"no PostgreSQL server: {why}", file=sys.stderr)
        sys.exit(1)
    try:
        corpus = make_corpus(n)
        tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        sqlite = run_backend(tmp / "bench.db", corpus, repeat, tmp)
        pg = run_backend(server.new_database(), corpus, repeat, tmp)
        jsonl = write_jsonl(corpus, tmp / "import.jsonl")
        sqlite.update(run_import(tmp / "import.db", jsonl, n))
        pg.update(run_import(server.new_database(), jsonl, n))
        ratios = {k: round(pg[k] / sqlite[k], 2) if sqlite.get(k) else None for k in pg}
        result: dict[str, Any] = {"documents": n, "sqlite": sqlite, "postgresql": pg, "ratio": ratios,
                                  "targets": {"import_ratio": TARGET_RATIO, "export_ratio": TARGET_RATIO,
                                              "page_search_ms": TARGET_MS, "key_frame_ms": TARGET_FRAME_MS}}
        checks = {
            "import within 2x": ratios["import_s"] <= TARGET_RATIO,
            "import file within 2x": ratios["import_file_s"] <= TARGET_RATIO,
            "export within 2x": ratios["export_s"] <= TARGET_RATIO,
            "page <= 10 ms": max(pg["page_ms"], pg["page_done_ms"]) <= TARGET_MS,
            "search <= 10 ms": max(pg["search_common_ms"], pg["search_rare_ms"], pg["search_prefix_ms"]) <= TARGET_MS,
            "key -> frame <= 5 ms": max(pg["frame_label_ms"], pg["frame_undo_ms"]) <= TARGET_FRAME_MS,
        }
        result["checks"] = checks
        if args.writers:
            result["writers"] = run_writers(server, 8, 2000)
    finally:
        server.stop()
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(f"{n} documents; PostgreSQL / SQLite on this machine; load average {result['load_average']}")
    print(f"{'measure':<22}{'SQLite':>12}{'PostgreSQL':>12}{'ratio':>8}")
    for k in pg:
        print(f"{k:<22}{sqlite.get(k, '-'):>12}{pg[k]:>12}{ratios[k] if ratios[k] is not None else '-':>8}")
    for what, ok in checks.items():
        print(f"  {what}: {'yes' if ok else 'NO'}")
    if "writers" in result:
        print("writers:", json.dumps(result["writers"]))


if __name__ == "__main__":
    main()
