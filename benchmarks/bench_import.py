"""Import benchmark: 100,000 synthetic Cyrillic news documents (~2 kB each) as JSONL.

Measures, on a fresh database:

* the library import (``annotations.import_paths``) in a child process: docs/s (wall and
  per CPU-second, the latter steadier on a busy machine) and peak RSS;
* the command-line path (``annotate import``) in another child process, same figures;
* listing one page of 50 documents (plain, with a status filter, deep by ``after``);
* a full-text search for a rare and a common term (and a prefix of the common one).

Query times are medians over repeats, in milliseconds. Targets (issue 2): import
>= 20,000 docs/s, peak RSS < 200 MB, page and search <= 10 ms.

Usage::

    python -m benchmarks.bench_import                  # 100,000 documents
    python -m benchmarks.bench_import --quick          # 2,000 documents, smoke run
    python -m benchmarks.bench_import --json           # one JSON object
    python -m benchmarks.bench_import --diagnose-fts   # also import without the FTS5 index
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from ._util import median_ms, peak_rss_mb, print_results, run_child

TARGET_DOCS_PER_S = 20_000
TARGET_RSS_MB = 200
TARGET_QUERY_MS = 10
#: Timings reported without a target: a deep OFFSET walks the skipped rows (``after`` is the
#: fast way to page), and a search restricted to done documents checks every match.
INFORMATIONAL = frozenset({"page_deep_offset_ms", "search_common_done_ms"})

#: A name that appears in about one document in 10,000 (the "rare" search).
RARE_NAME = "Зыйнаткан"
#: A name that appears in about half of the documents (the "common" search).
COMMON_NAME = "Бишкек"

# -- synthetic text ------------------------------------------------------------------------

_KY_SYLLABLES = (
    "ка кы көр бер ал жа ма на та са ба ты кү тү бү сү ор өз үй ке ше ле ре жол бол кол"
    " тоо суу жер эл баш иш ай күн түн аш кеч эр ат"
).split()
_KY_SUFFIXES = (
    "", "", "", "дун", "дүн", "нын", "нин", "га", "ге", "ка", "кө", "да", "де", "дан", "дөн",
    "лар", "лер", "дар", "дер", "ды", "ди", "ту", "ңыз", "үүчү", "өө", "ган", "гөн", "уу", "үү",
)
_RU_SYLLABLES = (
    "ра про го ве ст но ли ко мо за пре де ти ни ва ло ре ми ту ба ны по ста ра ви жи ку"
).split()
_RU_SUFFIXES = (
    "", "", "", "ов", "ая", "ого", "ами", "ения", "ский", "ных", "ет", "ают", "ость", "ому", "ие",
)
_NAMES_KY = (
    "Садыр Жапаров", "Акылбек Жапаров", "Михаил Мишустин", "Владимир Путин", "Ош", "Нарын",
    "Москва", "Чүй", "Талас", "Баткен", "Жалал-Абад", "Ысык-Көл", "Токмок", "Каракол",
    "Айгүл Токтогулова", "Бакыт Сыдыков", "Нурлан Асанов", "Евразия", "ЕАЭБ", "ОДКБ",
)
_NAMES_RU = (
    "Садыр Жапаров", "Михаил Мишустин", "Владимир Путин", "Ош", "Нарын", "Москва", "Чуй",
    "Талас", "Баткен", "Каракол", "Сергей Лавров", "Анна Петрова", "Иван Смирнов",
    "Евразия", "ЕАЭС", "ОДКБ", "Санкт-Петербург", "Казань",
)
_FUNCTION_KY = "жана менен үчүн боюнча ошондой эле бул ал да деп өтө".split()
_FUNCTION_RU = "и в на с по для что это как также не из к о".split()


def _vocabulary(rng: random.Random, syllables: list[str], suffixes: tuple[str, ...], n: int) -> list[str]:
    """``n`` distinct word forms: 1-3 syllable stems with inflectional suffixes."""
    seen: dict[str, None] = {}
    while len(seen) < n:
        stem = "".join(rng.choice(syllables) for _ in range(rng.randint(1, 3)))
        seen[stem + rng.choice(suffixes)] = None
    return list(seen)


class TextGenerator:
    """Deterministic Kyrgyz- and Russian-like news text with capitalised names."""

    def __init__(self, seed: int = 2) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.ky = _vocabulary(rng, _KY_SYLLABLES, _KY_SUFFIXES, 30_000) + _FUNCTION_KY * 200
        self.ru = _vocabulary(rng, _RU_SYLLABLES, _RU_SUFFIXES, 30_000) + _FUNCTION_RU * 200
        given = _vocabulary(rng, _KY_SYLLABLES, ("бек", "бай", "гүл", "жан", "кан", ""), 3_000)
        self.ky_names = [w.capitalize() for w in given] + list(_NAMES_KY)
        surnames = _vocabulary(rng, _RU_SYLLABLES, ("ов", "ев", "ин", "ова", "ева", "ина"), 3_000)
        self.ru_names = [w.capitalize() for w in surnames] + list(_NAMES_RU)
        # Zipf-like weights so a few words are frequent and most are rare, as in real text.
        self.ky_cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(self.ky))))
        self.ru_cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(self.ru))))

    def _words(self, vocab: list[str], cum: list[float], k: int) -> list[str]:
        total = cum[-1]
        rnd = self.rng.random
        return [vocab[bisect.bisect(cum, rnd() * total)] for _ in range(k)]

    def document(self, index: int, size: int = 2000) -> str:
        """One document of about ``size`` UTF-8 bytes (Kyrgyz for even ``index``, else Russian)."""
        rng = self.rng
        kyrgyz = index % 2 == 0
        vocab, cum = (self.ky, self.ky_cum) if kyrgyz else (self.ru, self.ru_cum)
        names = self.ky_names if kyrgyz else self.ru_names
        target = int(size * rng.uniform(0.9, 1.1))
        paragraphs: list[str] = []
        sentences: list[str] = []
        length = 0
        if rng.random() < 0.5:
            sentences.append(f"{COMMON_NAME} шаарында")
        if index % 10_000 == 7:
            sentences.append(f"{RARE_NAME} {rng.choice(names)}")
        while length < target:
            words = self._words(vocab, cum, rng.randint(6, 16))
            for _ in range(rng.randint(0, 3)):
                words.insert(rng.randrange(len(words) + 1), rng.choice(names))
            sentence = " ".join(words)
            sentence = sentence[0].upper() + sentence[1:] + rng.choice(".....,!?")[0]
            sentences.append(sentence)
            length += len(sentence.encode("utf-8")) + 1
            if rng.random() < 0.2:
                paragraphs.append(" ".join(sentences))
                sentences = []
        if sentences:
            paragraphs.append(" ".join(sentences))
        return "\n\n".join(paragraphs)


def write_corpus(path: Path, docs: int, seed: int = 2) -> int:
    """Write ``docs`` JSONL records to ``path``; returns the file size in bytes."""
    gen = TextGenerator(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(docs):
            record = {"text": gen.document(i), "meta": {"source": "bench", "n": i}}
            fh.write(json.dumps(record, ensure_ascii=False))
            fh.write("\n")
    return path.stat().st_size


def iter_documents(docs: int, seed: int = 2) -> Iterator[str]:
    """The benchmark's documents, for other benchmarks that want the same corpus."""
    gen = TextGenerator(seed)
    for i in range(docs):
        yield gen.document(i)


# -- child processes (measured on their own) ------------------------------------------------


def child_import(db: Path, src: Path, fts: bool = True) -> dict[str, Any]:
    """Import ``src`` into ``db`` with the library; time it and report peak memory.

    ``fts=False`` is a diagnostic: the same import with full-text indexing patched out,
    to show how much of the time the FTS5 index costs.
    """
    from annotations import Store, import_paths

    if not fts:
        import annotations.db

        annotations.db.index_documents = lambda db, after_id: after_id

    store = Store(db, "bench")
    c0, t0 = time.process_time(), time.perf_counter()
    report = import_paths(store, [src])
    c1, t1 = time.process_time(), time.perf_counter()
    store.close()
    t2 = time.perf_counter()
    if report.errors:
        raise SystemExit(f"import failed: {report.errors[0]}")
    return {
        "added": report.added,
        "seconds": round(t1 - t0, 3),
        "cpu_seconds": round(c1 - c0, 3),
        "seconds_with_close": round(t2 - t0, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def child_cli(db: Path, src: Path) -> dict[str, Any]:
    """Run ``annotate import`` in-process (click, rich report) and report time and memory."""
    import contextlib
    import io

    from tui.cli import main

    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        try:
            main(["import", "--db", str(db), "--annotator", "bench", str(src)], standalone_mode=False)
        except SystemExit as exc:  # pragma: no cover - click may still exit
            if exc.code:
                raise
    t1 = time.perf_counter()
    return {"seconds": round(t1 - t0, 3), "peak_rss_mb": round(peak_rss_mb(), 1)}


# -- queries ------------------------------------------------------------------------------


def time_queries(db: Path, repeats: int) -> dict[str, Any]:
    """Median times of the document-list page and full-text searches, in ms."""
    from annotations import Store

    store = Store(db, "bench")
    ids = store.document_ids()
    # A few documents done and skipped, so the status filters have something to find.
    for doc_id in ids[:: max(1, len(ids) // 100)][:100]:
        store.set_status(doc_id, "done")
    for doc_id in ids[1 :: max(1, len(ids) // 50)][:50]:
        store.set_status(doc_id, "skipped")
    deep = ids[-(min(len(ids), 1000))]
    q = {
        "page_ms": lambda: store.documents(limit=50),
        "page_todo_ms": lambda: store.documents(limit=50, status="todo"),
        "page_done_ms": lambda: store.documents(limit=50, status="done"),
        "page_deep_after_ms": lambda: store.documents(limit=50, after=deep),
        "page_deep_offset_ms": lambda: store.documents(limit=50, offset=len(ids) - 1000),
        "page_lang_ms": lambda: store.documents(limit=50, lang="ru"),
        "search_rare_ms": lambda: store.documents(limit=50, search=RARE_NAME),
        "search_common_ms": lambda: store.documents(limit=50, search=COMMON_NAME),
        "search_common_prefix_ms": lambda: store.documents(limit=50, search=COMMON_NAME[:4]),
        "search_two_words_ms": lambda: store.documents(limit=50, search=f"{COMMON_NAME} Ош"),
        "search_common_todo_ms": lambda: store.documents(limit=50, search=COMMON_NAME, status="todo"),
        "search_common_done_ms": lambda: store.documents(limit=50, search=COMMON_NAME, status="done"),
    }
    out: dict[str, Any] = {name: median_ms(fn, repeats=repeats) for name, fn in q.items()}
    out["search_rare_hits"] = len(store.documents(limit=1000, search=RARE_NAME))
    out["search_common_hits_page"] = len(store.documents(limit=50, search=COMMON_NAME))
    out["page_done_hits"] = len(store.documents(limit=50, status="done"))
    store.close()
    return out


# -- driver ------------------------------------------------------------------------------------


def run(docs: int, with_cli: bool, repeats: int, workdir: Path, with_nofts: bool = False) -> dict[str, Any]:
    src = workdir / "corpus.jsonl"
    t0 = time.perf_counter()
    size = write_corpus(src, docs)
    gen_s = time.perf_counter() - t0

    db = workdir / "bench.db"
    imp = run_child(["benchmarks.bench_import", "--child", "import", "--db", str(db), "--src", str(src)])
    results: dict[str, Any] = {
        "docs": docs,
        "jsonl_mb": round(size / 1e6, 1),
        "generate_s": round(gen_s, 2),
        "import_added": imp["added"],
        "import_s": imp["seconds"],
        "import_docs_per_s": round(docs / imp["seconds"]),
        "import_with_close_s": imp["seconds_with_close"],
        "import_cpu_s": imp["cpu_seconds"],
        "import_docs_per_cpu_s": round(docs / imp["cpu_seconds"]),
        "import_peak_rss_mb": imp["peak_rss_mb"],
        "db_mb": round(sum(p.stat().st_size for p in workdir.glob("bench.db*")) / 1e6, 1),
    }
    if with_nofts:
        nofts_db = workdir / "nofts.db"
        nofts = run_child(["benchmarks.bench_import", "--child", "import-nofts", "--db", str(nofts_db),
                           "--src", str(src)])
        results["diagnostic_no_fts_docs_per_s"] = round(docs / nofts["seconds"])
        results["diagnostic_no_fts_docs_per_cpu_s"] = round(docs / nofts["cpu_seconds"])
        for p in workdir.glob("nofts.db*"):
            p.unlink()
    if with_cli:
        cli_db = workdir / "cli.db"
        cli = run_child(["benchmarks.bench_import", "--child", "cli", "--db", str(cli_db), "--src", str(src)])
        results.update({
            "cli_s": cli["seconds"],
            "cli_docs_per_s": round(docs / cli["seconds"]),
            "cli_process_s": cli["wall_s"],
            "cli_peak_rss_mb": cli["peak_rss_mb"],
        })
        for p in workdir.glob("cli.db*"):
            p.unlink()
    results.update(time_queries(db, repeats))
    query_keys = [k for k in results if k.endswith("_ms") and k not in INFORMATIONAL]
    results["targets"] = {
        "import_docs_per_s": TARGET_DOCS_PER_S,
        "peak_rss_mb": TARGET_RSS_MB,
        "query_ms": TARGET_QUERY_MS,
    }
    results["meets_targets"] = bool(
        results["import_docs_per_s"] >= TARGET_DOCS_PER_S
        and results["import_peak_rss_mb"] < TARGET_RSS_MB
        and all(results[k] <= TARGET_QUERY_MS for k in query_keys)
    )
    return results


def _rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [
        ("documents", f"{r['docs']:,}", f"({r['jsonl_mb']} MB JSONL, generated in {r['generate_s']} s)"),
        ("import (library)", f"{r['import_docs_per_s']:,} docs/s",
         f"target >= {TARGET_DOCS_PER_S:,}  ({r['import_s']} s; {r['import_with_close_s']} s with close)"),
        ("import CPU", f"{r['import_docs_per_cpu_s']:,} docs/CPU-s",
         f"({r['import_cpu_s']} s of CPU: less sensitive to other load on the machine)"),
        ("import peak RSS", f"{r['import_peak_rss_mb']} MB", f"target < {TARGET_RSS_MB} MB"),
    ]
    if "cli_s" in r:
        rows += [
            ("import (annotate CLI)", f"{r['cli_docs_per_s']:,} docs/s",
             f"({r['cli_s']} s in-process, {r['cli_process_s']} s whole process)"),
            ("CLI peak RSS", f"{r['cli_peak_rss_mb']} MB", ""),
        ]
    if "diagnostic_no_fts_docs_per_s" in r:
        rows.append(("import without FTS (diagnostic)", f"{r['diagnostic_no_fts_docs_per_s']:,} docs/s",
                     f"({r['diagnostic_no_fts_docs_per_cpu_s']:,} docs/CPU-s; full-text indexing patched out)"))
    rows.append(("database size", f"{r['db_mb']} MB", ""))
    for key in sorted(k for k in r if k.endswith("_ms")):
        target = "(no target)" if key in INFORMATIONAL else f"target <= {TARGET_QUERY_MS} ms"
        rows.append((key[:-3].replace("_", " "), f"{r[key]} ms", target))
    rows.append(("meets targets", "yes" if r["meets_targets"] else "NO", ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="number of documents")
    parser.add_argument("--quick", action="store_true", help="2,000 documents (smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-cli", action="store_true", help="skip the annotate-command run")
    parser.add_argument("--diagnose-fts", action="store_true",
                        help="also import with full-text indexing patched out (how much FTS5 costs)")
    parser.add_argument("--repeats", type=int, default=21, help="repeats per query timing")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here (default: temp)")
    parser.add_argument("--child", choices=("import", "import-nofts", "cli"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.child == "cli":
            print(json.dumps(child_cli(args.db, args.src)))
        else:
            print(json.dumps(child_import(args.db, args.src, fts=args.child == "import")))
        return 0

    docs = 2_000 if args.quick else args.docs
    repeats = 5 if args.quick else args.repeats
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        for p in args.workdir.glob("bench.db*"):
            p.unlink()
        results = run(docs, not args.no_cli, repeats, args.workdir, args.diagnose_fts)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench_import_"))
        try:
            results = run(docs, not args.no_cli, repeats, tmp, args.diagnose_fts)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print_results(results, _rows(results), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
