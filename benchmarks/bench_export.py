"""Export benchmark (issue 11): 100,000 Cyrillic news documents to JSONL and DocBin, and
a million one-sentence documents with flat memory.

Builds a database of synthetic Kyrgyz/Russian news (about 1,900 characters in paragraphs,
5 accepted entities each, all marked done; ``--words N`` makes documents of about N words
instead), then runs each export in its own child process (so the peak RSS is the export's
own; its tokenising process's peak is reported apart):

* ``jsonl_cold``: JSONL with no cached tokens: every document is tokenised with spaCy's
  blank tokenizer (in two tokenising processes, while the export reads and writes) and the tokens
  are cached (what the first export of a corpus costs);
* ``jsonl_warm``: JSONL again, tokens now cached (every later export);
* ``spacy_file``: one ``.spacy`` DocBin; ``spacy_shards``: a folder of DocBin shards.

Then the same for short documents (one sentence, ~110 characters, 2 entities: CoNLL-sized)
at two corpus sizes (100,000 and 1,000,000; ``--short``), first and warm JSONL export, and
the ratio of their peak RSS: flat memory means a ratio near 1.

For each: documents/s (wall, and per CPU-second of the export process, steadier on a busy
machine), tokens/s, peak RSS, and the RSS high-water mark when 10 % of the documents were
done. Every export also reports the spans that could not be aligned (must be 0). The load
average before and after is printed: other work on the machine slows wall-clock figures.

Targets (issue 11): JSONL >= 20,000 docs/s with tokens cached, >= 5,000 docs/s on a first
export; DocBin >= 10,000 docs/s; peak RSS < 200 MB; RSS at 1M / RSS at 100k <= 1.2.

Usage::

    python -m benchmarks.bench_export            # 100,000 news documents; 100k and 1M short ones
    python -m benchmarks.bench_export --quick    # 2,000 news documents; 2,000 and 20,000 short ones
    python -m benchmarks.bench_export --json     # one JSON object
    python -m benchmarks.bench_export --short 0  # skip the short documents
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
TARGET_JSONL_COLD_DOCS_PER_S = 5_000
TARGET_DOCBIN_DOCS_PER_S = 10_000
TARGET_RSS_MB = 200
TARGET_RSS_RATIO = 1.2
TARGETS = {
    "jsonl_warm_docs_per_s": TARGET_JSONL_DOCS_PER_S, "jsonl_cold_docs_per_s": TARGET_JSONL_COLD_DOCS_PER_S,
    "spacy_docs_per_s": TARGET_DOCBIN_DOCS_PER_S, "peak_rss_mb": TARGET_RSS_MB, "rss_ratio_1m_100k": TARGET_RSS_RATIO,
}

#: Word forms of the synthetic news text (Kyrgyz, then Russian): stems with inflections.
_KY_STEMS = (
    "өкмөт мыйзам долбоор жыйын мектеп министрлик кызмат маселе экономика инвестиция бюджет"
    " программа шаар айыл эл мамлекет президент депутат жер суу жол курулуш дарыгер оорукана"
    " соода базар баа акча бизнес ишкер мугалим окуучу спорт маданият тарых илим"
).split()
_KY_ENDINGS = ("", "", "", "дун", "нын", "га", "да", "дан", "лар", "дар", "ды", "ти", "чы", "лык")
_KY_VERBS = "кабыл алды ачылды билдирди талкууланды айтты белгиледи өттү башталды бүттү жарыялады".split()
_RU_STEMS = (
    "правительств закон проект заседани школ министерств сотрудничеств экономик инвестици бюджет"
    " программ город сел народ государств президент депутат земл вод дорог строительств врач"
    " больниц торговл рынк цен деньг бизнес предпринимател учител ученик спорт культур истори наук"
).split()
_RU_ENDINGS = ("а", "о", "ы", "е", "ов", "ами", "ой", "ия", "ий", "ых", "ую", "ом")
_RU_VERBS = "принял открыта сообщил обсуждались заявил отметил прошло началось завершилось объявил".split()
_FUNCTION = {"ky": "жана менен үчүн боюнча ошондой эле бул ал да деп".split(),
             "ru": "и в на с по для что это как также не из к о".split()}
_NAMES = {
    "PER": ["Садыр Жапаров", "Адылбек Касымалиев", "Михаил Мишустин", "Жээнбек Кулубаев", "Айгүл Асанова",
            "Сергей Лавров", "Анна Петрова"],
    "LOC": ["Бишкек", "Ош", "Москва", "Нарын", "Ысык-Көл", "Талас", "Жалал-Абад", "Санкт-Петербург"],
    "ORG": ["Жогорку Кеңеш", "Улуттук банк", "Министерство финансов", "Кабар агенттиги", "ЕАЭБ", "ОДКБ"],
}
#: Sentences generated per language; documents are drawn from them (building stays quick).
_POOL = 4_000


def _sentence_pool(rng: random.Random, lang: str, n_words: tuple[int, int]) -> list[str]:
    """``_POOL`` sentences of news-like text in ``lang``: words, commas, a verb, a full stop."""
    stems, endings, verbs = (
        (_KY_STEMS, _KY_ENDINGS, _KY_VERBS) if lang == "ky" else (_RU_STEMS, _RU_ENDINGS, _RU_VERBS)
    )
    function = _FUNCTION[lang]
    out = []
    for _ in range(_POOL):
        words = []
        for _ in range(rng.randint(*n_words)):
            r = rng.random()
            if r < 0.25:
                words.append(rng.choice(function))
            elif r < 0.3:
                words.append(str(rng.randrange(1, 3000)))
            else:
                words.append(rng.choice(stems) + rng.choice(endings))
            if rng.random() < 0.07:
                words[-1] += ","
        if rng.random() < 0.1:
            words.insert(rng.randrange(len(words)), f"«{rng.choice(stems)}»")
        words[0] = words[0].capitalize()
        words.append(rng.choice(verbs) + ".")
        out.append(" ".join(words))
    return out


class Corpus:
    """Deterministic synthetic Cyrillic news: ``kind`` ``news`` (~1.9k characters, paragraphs,
    5 entities) or ``short`` (one sentence, 2 entities, CoNLL-sized)."""

    def __init__(self, kind: str, seed: int = 4, words: int | None = None) -> None:
        self.kind = kind
        #: News documents' length in characters (about 7.5 per word with ``words``).
        self.size = (1550, 1950) if words is None else (max(1, int(words * 6.5)), max(1, int(words * 8)))
        self.rng = random.Random(seed)
        words = (8, 18) if kind == "news" else (6, 12)
        self.pools = {lang: _sentence_pool(self.rng, lang, words) for lang in ("ky", "ru")}

    def document(self, index: int) -> tuple[str, str, list[tuple[int, int, str]]]:
        """``(lang, text, spans)`` of document ``index``: spans on word boundaries, sorted."""
        rng = self.rng
        lang = "ru" if index % 3 == 0 else "ky"
        pool = self.pools[lang]
        if self.kind == "news":
            target, n_spans = rng.randint(*self.size), 5
        else:
            target, n_spans = 1, 2
        sentences: list[str] = []
        size = 0
        while size < target:
            sentences.append(rng.choice(pool))
            size += len(sentences[-1]) + 1
        slots = sorted(rng.sample(range(len(sentences)), k=n_spans) if len(sentences) >= n_spans else
                       [0] * n_spans)
        parts: list[str] = []
        spans: list[tuple[int, int, str]] = []
        pos = 0
        done = 0
        for i, sentence in enumerate(sentences):
            if i:
                sep = "\n" if self.kind == "news" and i % 4 == 0 else " "
                parts.append(sep)
                pos += 1
            while done < n_spans and slots[done] == i:
                label = ("PER", "LOC", "ORG")[rng.randrange(3)]
                name = rng.choice(_NAMES[label])
                joiner = " " if done + 1 < n_spans and slots[done + 1] == i else ", "
                spans.append((pos, pos + len(name), label))
                parts.append(name + joiner)
                pos += len(name) + len(joiner)
                done += 1
            parts.append(sentence)
            pos += len(sentence)
        tail = f" №{index}."
        return lang, "".join(parts) + tail, spans


def build(db_path: Path, n_docs: int, kind: str = "news", words: int | None = None) -> float:
    """Fill a new database with ``n_docs`` annotated, done documents; returns seconds taken.

    Documents are inserted with plain ``sqlite3`` in one transaction. The full-text index is
    left unbuilt (the trigger stands aside, as for a bulk import): an export never reads it.
    """
    from annotations import Store
    from annotations.text import content_hash, title_of

    started = time.perf_counter()
    Store(db_path, "bench").close()  # schema and default labels
    conn = sqlite3.connect(db_path, isolation_level=None)
    corpus = Corpus(kind, words=words)
    ts = "2025-08-15T10:00:00.000+00:00"
    conn.execute("BEGIN")
    conn.execute("INSERT INTO fts_deferred (flag) VALUES (1)")
    batch = 10_000
    for first in range(1, n_docs + 1, batch):
        docs, spans, status = [], [], []
        for i in range(first, min(first + batch, n_docs + 1)):
            lang, text, doc_spans = corpus.document(i)
            docs.append((i, content_hash(text), "bench.jsonl", i, title_of(text), lang, text, "{}", ts))
            spans.extend((i, s, e, label, ts, ts) for s, e, label in doc_spans)
            status.append((i, ts))
        conn.executemany(
            "INSERT INTO documents (id, hash, source, line, title, lang, text, meta, created)"
            " VALUES (?,?,?,?,?,?,?,?,?)", docs,
        )
        conn.executemany(
            "INSERT INTO spans (doc_id, start, end, label, annotator, origin, state, created, updated)"
            " VALUES (?,?,?,?,'bench','manual','accepted',?,?)", spans,
        )
        conn.executemany(
            "INSERT INTO doc_status (doc_id, annotator, status, updated) VALUES (?, 'bench', 'done', ?)", status
        )
    conn.execute("DELETE FROM fts_deferred")
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def child(phase: str, db_path: Path, out: Path) -> dict[str, Any]:
    """Run one export in this process and measure it."""
    import resource

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
        n_tokens = store.db.conn.execute("SELECT sum(length(offsets)) FROM doc_tokens").fetchone()[0] // 16
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)
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
        # the tokenising process (first exports of large corpora): its peak and CPU time
        "worker_peak_rss_mb": round(worker.ru_maxrss / 1024, 1) if worker.ru_maxrss else None,
        "worker_cpu_s": round(worker.ru_utime + worker.ru_stime, 3),
        "output_mb": round(sum(p.stat().st_size for p in ([out] if out.is_file() else out.iterdir())) / 1e6, 1),
    }


PHASES = ("jsonl_cold", "jsonl_warm", "spacy_file", "spacy_shards")
SHORT_PHASES = ("jsonl_cold", "jsonl_warm")


def _load() -> list[float]:
    try:
        import os

        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not available
        return []


def _run_phase(phase: str, db: Path, out: Path) -> dict[str, Any]:
    """One export in a child process; its output is removed after (they are large)."""
    try:
        return run_child(["benchmarks.bench_export", "--child", phase, "--db", str(db), "--out", str(out)])
    finally:
        if out.is_dir():
            shutil.rmtree(out, ignore_errors=True)
        else:
            out.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 documents (smoke run)")
    parser.add_argument("--docs", type=int, default=None, help="number of news documents (default 100,000)")
    parser.add_argument("--words", type=int, default=None,
                        help="about this many words per news document (default: ~1,900 characters)")
    parser.add_argument("--short", default=None, metavar="N,M",
                        help="sizes of the short-document corpora (default 100000,1000000; 0 skips them)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.db, args.out)))
        return 0

    n_docs = args.docs or (2_000 if args.quick else 100_000)
    if args.short is not None:
        short = [int(x) for x in args.short.split(",") if int(x) > 0]
    elif args.quick:
        short = [2_000, 20_000]
    elif args.docs:
        short = [args.docs, 10 * args.docs]
    else:
        short = [100_000, 1_000_000]
    results: dict[str, Any] = {
        "documents": n_docs, "words_per_doc": args.words, "load_average_start": _load(), "targets": TARGETS,
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench_export_"))
    try:
        db = tmp / "bench.db"
        build_s = build(db, n_docs, "news", args.words)
        results["build_s"] = round(build_s, 1)
        results["chars_per_doc"] = round(
            sqlite3.connect(db).execute("SELECT avg(length(text)) FROM documents").fetchone()[0]
        )
        outputs = {
            "jsonl_cold": tmp / "cold.jsonl", "jsonl_warm": tmp / "warm.jsonl",
            "spacy_file": tmp / "train.spacy", "spacy_shards": tmp / "shards",
        }
        for phase in PHASES:
            results[phase] = _run_phase(phase, db, outputs[phase])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        results["short"] = {}
        for size in short:
            sdb = tmp / f"short-{size}.db"
            took = build(sdb, size, "short")
            runs: dict[str, Any] = {"build_s": round(took, 1)}
            for phase in SHORT_PHASES:
                runs[phase] = _run_phase(phase, sdb, tmp / f"short-{phase}.jsonl")
            results["short"][str(size)] = runs
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sdb}{suffix}").unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["load_average_end"] = _load()

    warm = results["jsonl_warm"]
    results["target_jsonl_docs_per_s"] = TARGET_JSONL_DOCS_PER_S
    results["jsonl_meets_target"] = warm["docs_per_s"] >= TARGET_JSONL_DOCS_PER_S
    if len(short) >= 2:
        small, large = results["short"][str(short[0])], results["short"][str(short[-1])]
        results["short_rss_ratio"] = {
            phase: round(large[phase]["peak_rss_mb"] / small[phase]["peak_rss_mb"], 3) for phase in SHORT_PHASES
        }
    goals = {
        "jsonl_warm": f">= {TARGET_JSONL_DOCS_PER_S:,}", "jsonl_cold": f">= {TARGET_JSONL_COLD_DOCS_PER_S:,}",
        "spacy_file": f">= {TARGET_DOCBIN_DOCS_PER_S:,}", "spacy_shards": f">= {TARGET_DOCBIN_DOCS_PER_S:,}",
    }
    rows = [("documents", f"{n_docs:,} x ~{results['chars_per_doc']:,} chars", f"(built in {build_s:.1f} s)")]
    for phase in PHASES:
        r = results[phase]
        rows.append((f"{phase} docs/s", f"{r['docs_per_s']:,}", f"target {goals[phase]}"))
        rows.append((f"{phase} docs/CPU-s", f"{r['docs_per_cpu_s']:,}", "(the export process's own CPU)"))
        rows.append((f"{phase} tokens/s", f"{r['tokens_per_s']:,}", ""))
        worker = f", tokenising process {r['worker_peak_rss_mb']} MB" if r.get("worker_peak_rss_mb") else ""
        rows.append((f"{phase} peak RSS MB", f"{r['peak_rss_mb']}",
                     f"target < {TARGET_RSS_MB} (at 10 %: {r['rss_at_10pct_mb']}{worker})"))
        rows.append((f"{phase} misaligned spans", str(r["misaligned"]), "must be 0"))
    for size, runs in results["short"].items():
        for phase in SHORT_PHASES:
            r = runs[phase]
            rows.append((f"short {int(size):,} {phase}", f"{r['docs_per_s']:,} docs/s",
                         f"peak RSS {r['peak_rss_mb']} MB"))
    for phase, ratio in results.get("short_rss_ratio", {}).items():
        rows.append((f"short {phase} RSS {short[-1]:,} / {short[0]:,}", f"{ratio}", f"target <= {TARGET_RSS_RATIO}"))
    rows.append(("load average", f"{results['load_average_start']} -> {results['load_average_end']}", ""))
    print_results(results, rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
