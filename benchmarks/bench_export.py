"""Export benchmark: 100,000 annotated documents to JSONL (Prodigy layout) and to a spaCy DocBin.

Builds a database of synthetic Kyrgyz/Russian news sentences (``--words`` words each,
default 30, about 220 characters; two or three entities each, all marked done), then
runs each export in its own child process (so the peak RSS is the export's own):

* ``jsonl_cold``: JSONL with no cached tokens: every document is tokenised with spaCy's
  blank tokenizer and the tokens are cached (what the first export of a corpus costs);
* ``jsonl_warm``: JSONL again, tokens now cached (every later export);
* ``spacy_file``: one ``.spacy`` DocBin (built in memory: the format is one blob);
* ``spacy_shards``: a folder of DocBin shards (flat memory).

For each: documents/s, tokens/s, peak RSS, and the RSS high-water mark when 10 % of the
documents were done: a flat-memory export has (nearly) the same figure at 10 % and at the
end. Every export also reports the spans that could not be aligned (must be 0).
Target (issue 4): JSONL >= 20,000 docs/s with flat memory.

Usage::

    python -m benchmarks.bench_export            # 100,000 documents
    python -m benchmarks.bench_export --quick    # 2,000 documents, smoke run
    python -m benchmarks.bench_export --json     # one JSON object
    python -m benchmarks.bench_export --words 300   # longer documents (~2 kB)
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._util import peak_rss_mb, print_results, run_child

TARGET_JSONL_DOCS_PER_S = 20_000

_WORDS = (
    "өкмөт мыйзам долбоор жыйын кабыл алды жаңы мектеп ачылды боюнча министрлик билдирди"
    " правительство закон проект заседание принял новый школа открыта по словам министерство"
    " сообщил эл аралык кызматташтык маселелери талкууланды экономика инвестиция өнүктүрүү"
    " бюджет программа вопросы сотрудничества обсуждались развитие региона"
).split()
_PER = ["Садыр Жапаров", "Адылбек Касымалиев", "Михаил Мишустин", "Жээнбек Кулубаев", "Айгүл Асанова"]
_LOC = ["Бишкек", "Ош", "Москва", "Нарын", "Ысык-Көл", "Талас", "Жалал-Абад"]
_ORG = ["Жогорку Кеңеш", "Улуттук банк", "Министерство финансов", "Кабар агенттиги"]


def make_doc(rng: random.Random, n_words: int) -> tuple[str, list[tuple[int, int, str]]]:
    """A sentence of about ``n_words`` words with two or three entities on word boundaries."""
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    entity_at = set(rng.sample(range(n_words), k=min(n_words, rng.choice((2, 3)))))
    for i in range(n_words):
        if i in entity_at:
            label = rng.choice(("PER", "LOC", "ORG"))
            words = rng.choice({"PER": _PER, "LOC": _LOC, "ORG": _ORG}[label])
            spans.append((pos, pos + len(words), label))
        else:
            words = rng.choice(_WORDS)
        parts.append(words)
        pos += len(words) + 1
    return " ".join(parts) + f" №{rng.randrange(10**9)}.", spans


def build(db_path: Path, n_docs: int, n_words: int) -> float:
    """Fill a new database with ``n_docs`` annotated, done documents; returns seconds taken."""
    from annotations import Store
    from annotations.text import content_hash, title_of

    started = time.perf_counter()
    Store(db_path, "bench").close()  # schema and default labels
    conn = sqlite3.connect(db_path, isolation_level=None)
    rng = random.Random(4)
    ts = "2025-08-15T10:00:00.000+00:00"
    conn.execute("BEGIN")
    for i in range(1, n_docs + 1):
        text, spans = make_doc(rng, n_words)
        lang = "ru" if i % 3 == 0 else "ky"
        conn.execute(
            "INSERT INTO documents (id, hash, source, line, title, lang, text, meta, created)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            [i, content_hash(text), "bench.jsonl", i, title_of(text), lang, text, "{}", ts],
        )
        conn.executemany(
            "INSERT INTO spans (doc_id, start, end, label, annotator, origin, state, created, updated)"
            " VALUES (?,?,?,?,'bench','manual','accepted',?,?)",
            [(i, s, e, label, ts, ts) for s, e, label in spans],
        )
        conn.execute(
            "INSERT INTO doc_status (doc_id, annotator, status, updated) VALUES (?, 'bench', 'done', ?)", [i, ts]
        )
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def child(phase: str, db_path: Path, out: Path) -> dict[str, Any]:
    """Run one export in this process and measure it."""
    from annotations import Store
    from annotations.formats import Selection, run_export

    rss_at_10pct: list[float] = []

    def progress(done: int, total: int) -> None:
        if not rss_at_10pct and done >= total / 10:
            rss_at_10pct.append(peak_rss_mb())

    with Store(db_path, "bench") as store:
        tokens = store.db.conn.execute("SELECT count(*) FROM doc_tokens").fetchone()[0]
        fmt = "jsonl" if phase.startswith("jsonl") else "spacy"
        started, cpu_started = time.perf_counter(), time.process_time()
        stats = run_export(store, fmt, Selection(), out, progress=progress)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        n_tokens = sum(
            len(blob) // 16 for (blob,) in store.db.conn.execute("SELECT offsets FROM doc_tokens")
        )
    return {
        "phase": phase,
        "records": stats.records,
        "seconds": round(elapsed, 3),
        "docs_per_s": round(stats.records / elapsed),
        "cpu_s": round(cpu, 3),
        "docs_per_cpu_s": round(stats.records / cpu),
        "tokens_per_s": round(n_tokens / elapsed),
        "cached_tokens_before": tokens,
        "misaligned": stats.misaligned,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_at_10pct_mb": round(rss_at_10pct[0], 1) if rss_at_10pct else None,
        "output_mb": round(sum(p.stat().st_size for p in ([out] if out.is_file() else out.iterdir())) / 1e6, 1),
    }


PHASES = ("jsonl_cold", "jsonl_warm", "spacy_file", "spacy_shards")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 documents (smoke run)")
    parser.add_argument("--docs", type=int, default=None, help="number of documents (default 100,000)")
    parser.add_argument("--words", type=int, default=30, help="words per document (default 30)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.db, args.out)))
        return 0

    n_docs = args.docs or (2_000 if args.quick else 100_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench_export_"))
    try:
        db = tmp / "bench.db"
        build_s = build(db, n_docs, args.words)
        outputs = {
            "jsonl_cold": tmp / "cold.jsonl", "jsonl_warm": tmp / "warm.jsonl",
            "spacy_file": tmp / "train.spacy", "spacy_shards": tmp / "shards",
        }
        results: dict[str, Any] = {"documents": n_docs, "words_per_doc": args.words, "build_s": round(build_s, 1)}
        for phase in PHASES:
            results[phase] = run_child(
                ["benchmarks.bench_export", "--child", phase, "--db", str(db), "--out", str(outputs[phase])]
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    warm = results["jsonl_warm"]
    results["target_jsonl_docs_per_s"] = TARGET_JSONL_DOCS_PER_S
    results["jsonl_meets_target"] = warm["docs_per_s"] >= TARGET_JSONL_DOCS_PER_S
    rows = [("documents", f"{n_docs:,} x {args.words} words", f"(built in {build_s:.1f} s)")]
    for phase in PHASES:
        r = results[phase]
        target = f"target >= {TARGET_JSONL_DOCS_PER_S:,}" if phase == "jsonl_warm" else ""
        rows.append((f"{phase} docs/s", f"{r['docs_per_s']:,}", target))
        rows.append((f"{phase} docs/CPU-s", f"{r['docs_per_cpu_s']:,}", ""))
        rows.append((f"{phase} tokens/s", f"{r['tokens_per_s']:,}", ""))
        rows.append((f"{phase} peak RSS MB", f"{r['peak_rss_mb']}", f"(at 10 %: {r['rss_at_10pct_mb']})"))
        rows.append((f"{phase} misaligned spans", str(r["misaligned"]), "must be 0"))
    print_results(results, rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
