"""Import benchmark: 100,000 synthetic Cyrillic news documents (~2 kB, 5 accepted spans each) as JSONL.

Measures, on fresh databases, each as a whole process in one run (so ratios are side by side):

* ``annotate import --as accepted`` (the command): docs/s, peak RSS (its worker process's too);
* the library import (``annotations.import_paths``) in a child process: docs/s (wall and per
  CPU-second, the latter steadier on a busy machine) and peak RSS;
* baselines: raw ``sqlite-utils insert --nl`` of the same file (stores the JSON, no spans, no
  search index), and a raw single-writer ``sqlite3`` ``executemany`` of the documents and
  their spans plus an FTS5 index (the benchmark's own script, :func:`child_baseline`);
* 1,000,000 short one-sentence documents imported, peak RSS at 100,000 and at 1,000,000
  (flat memory: ratio <= 1.2);
* listing one page of 50 documents (plain, with a status filter, deep by ``after``);
* a full-text search for a rare and a common term (and a prefix of the common one).

Query times are medians over repeats, in milliseconds. Targets: issue 11, the command
>= 0.8x sqlite-utils and >= 1.0x the raw baseline, peak RSS < 200 MB, RSS ratio 1M/100k
<= 1.2; issue 2, import >= 20,000 docs/s, page and search <= 10 ms.

Usage::

    python -m benchmarks.bench_import                  # 100,000 documents, 1M short ones
    python -m benchmarks.bench_import --quick          # 2,000 documents, smoke run
    python -m benchmarks.bench_import --json           # one JSON object
    python -m benchmarks.bench_import --profile        # also where the library import's time goes
    python -m benchmarks.bench_import --diagnose-fts   # also import without the FTS5 index
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from ._util import median_ms, peak_rss_mb, print_results, run_child

TARGET_DOCS_PER_S = 20_000
TARGET_RSS_MB = 200
TARGET_QUERY_MS = 10
#: Issue 11: the command against raw ``sqlite-utils insert --nl`` and against the raw baseline.
TARGET_VS_SQLITE_UTILS = 0.8
TARGET_VS_BASELINE = 1.0
#: Issue 11: peak RSS importing 1,000,000 short documents over importing 100,000.
TARGET_RSS_RATIO = 1.2
SPANS_PER_DOC = 5
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
        #: Single-word names, for spans (see :func:`annotate_names`); given names are PER.
        self.name_set = {n for n in self.ky_names + self.ru_names if " " not in n}
        self.per_set = {w.capitalize() for w in given} | {w.capitalize() for w in surnames}
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


def annotate_names(gen: TextGenerator, text: str, k: int = SPANS_PER_DOC) -> list[dict[str, Any]]:
    """Up to ``k`` spans on the generator's names in ``text`` (PER for two-word names and
    capitalised given names, LOC for the rest), as an annotator would mark them."""
    spans: list[dict[str, Any]] = []
    for m in _NAME_WORD.finditer(text):
        word = m.group()
        if word in gen.name_set:
            spans.append({"start": m.start(), "end": m.end(), "label": "PER" if word in gen.per_set else "LOC"})
            if len(spans) == k:
                break
    return spans


_NAME_WORD = re.compile(r"\w[\w-]*")


def write_corpus(path: Path, docs: int, seed: int = 2, spans: bool = True) -> int:
    """Write ``docs`` JSONL records to ``path`` (with :data:`SPANS_PER_DOC` spans each); returns bytes."""
    gen = TextGenerator(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(docs):
            text = gen.document(i)
            record: dict[str, Any] = {"text": text, "meta": {"source": "bench", "n": i}}
            if spans:
                record["spans"] = annotate_names(gen, text)
            fh.write(json.dumps(record, ensure_ascii=False))
            fh.write("\n")
    return path.stat().st_size


def write_short_corpus(path: Path, docs: int, seed: int = 3) -> int:
    """``docs`` one-sentence documents (CoNLL-sized) with their names as spans; returns bytes."""
    gen = TextGenerator(seed)
    rng = gen.rng
    with path.open("w", encoding="utf-8") as fh:
        for i in range(docs):
            kyrgyz = i % 2 == 0
            vocab, cum = (gen.ky, gen.ky_cum) if kyrgyz else (gen.ru, gen.ru_cum)
            words = gen._words(vocab, cum, rng.randint(6, 14))
            words.insert(rng.randrange(len(words) + 1), rng.choice(gen.ky_names if kyrgyz else gen.ru_names))
            text = f"{i} " + " ".join(words) + "."
            record = {"text": text, "spans": annotate_names(gen, text, 2)}
            fh.write(json.dumps(record, ensure_ascii=False))
            fh.write("\n")
    return path.stat().st_size


def iter_documents(docs: int, seed: int = 2) -> Iterator[str]:
    """The benchmark's documents, for other benchmarks that want the same corpus."""
    gen = TextGenerator(seed)
    for i in range(docs):
        yield gen.document(i)


# -- child processes (measured on their own) ------------------------------------------------


def children_rss_mb() -> float:
    """Peak RSS of this process's finished children (the import's worker process), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def child_import(db: Path, src: Path, fts: bool = True, profile: bool = False) -> dict[str, Any]:
    """Import ``src`` into ``db`` with the library; time it and report peak memory.

    ``fts=False`` is a diagnostic: the same import with full-text indexing patched out,
    to show how much of the time the FTS5 index costs. ``profile``: the top of a cProfile
    of this process (the worker process is not in it), by own time.
    """
    import annotations.formats  # noqa: F401 - as the command loads it
    from annotations import Store, import_paths

    if not fts:
        import annotations.db

        annotations.db.index_documents = lambda db, after_id: after_id

    store = Store(db, "bench")
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    c0, t0 = time.process_time(), time.perf_counter()
    report = import_paths(store, [src])
    c1, t1 = time.process_time(), time.perf_counter()
    if prof is not None:
        prof.disable()
    store.close()
    t2 = time.perf_counter()
    if report.errors:
        raise SystemExit(f"import failed: {report.errors[0]}")
    out = {
        "added": report.added,
        "spans": report.spans,
        "misaligned": report.misaligned,
        "seconds": round(t1 - t0, 3),
        "cpu_seconds": round(c1 - c0, 3),
        "seconds_with_close": round(t2 - t0, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "worker_peak_rss_mb": round(children_rss_mb(), 1),
    }
    if prof is not None:
        import pstats

        stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
        top = sorted(stats.items(), key=lambda kv: -kv[1][2])[:15]
        out["profile"] = [
            {"function": f"{Path(fn).name}:{line}({name})", "calls": nc, "own_s": round(tt, 3), "cum_s": round(ct, 3)}
            for (fn, line, name), (_cc, nc, tt, ct, _callers) in top
        ]
    return out


def child_cli(db: Path, src: Path) -> dict[str, Any]:
    """Run ``annotate import`` in-process (click, rich report) and report time and memory."""
    import contextlib
    import io

    from tui.cli import main

    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        try:
            main(["import", "--db", str(db), "--annotator", "bench", "--as", "accepted", str(src)],
                 standalone_mode=False)
        except SystemExit as exc:  # pragma: no cover - click may still exit
            if exc.code:
                raise
    t1 = time.perf_counter()
    return {"seconds": round(t1 - t0, 3), "peak_rss_mb": round(peak_rss_mb(), 1),
            "worker_peak_rss_mb": round(children_rss_mb(), 1)}


def child_baseline(db: Path, src: Path) -> dict[str, Any]:
    """The raw single-writer baseline: parse each line, ``executemany`` the documents (with a
    content hash, unique) and their span rows, build an FTS5 index of them; one transaction,
    no checks. What one writer reaches with plain ``sqlite3``."""
    t0 = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(
        """
        CREATE TABLE documents (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, title TEXT, text TEXT,
                                meta TEXT);
        CREATE TABLE spans (id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL REFERENCES documents(id),
                            start INTEGER, end INTEGER, label TEXT);
        CREATE INDEX spans_doc ON spans(doc_id);
        CREATE VIRTUAL TABLE documents_fts USING fts5(title, text, content='documents', content_rowid='id',
                                                      tokenize='unicode61');
        """
    )
    conn.execute("BEGIN")
    docs: list[tuple[Any, ...]] = []
    spans: list[tuple[Any, ...]] = []
    n = 0

    def flush() -> None:
        conn.executemany("INSERT INTO documents VALUES (?,?,?,?,?)", docs)
        conn.executemany("INSERT INTO spans (doc_id, start, end, label) VALUES (?,?,?,?)", spans)
        docs.clear()
        spans.clear()

    with src.open("rb") as fh:
        for line in fh:
            obj = json.loads(line)
            n += 1
            text = obj["text"]
            docs.append((n, hashlib.blake2b(text.encode(), digest_size=16).hexdigest(), text[:200], text,
                         json.dumps(obj.get("meta", {}), ensure_ascii=False)))
            spans += [(n, sp["start"], sp["end"], sp["label"]) for sp in obj.get("spans", ())]
            if len(docs) >= 1000:
                flush()
    flush()
    conn.execute("INSERT INTO documents_fts (rowid, title, text) SELECT id, title, text FROM documents")
    conn.execute("COMMIT")
    conn.close()
    return {"added": n, "seconds": round(time.perf_counter() - t0, 3), "peak_rss_mb": round(peak_rss_mb(), 1)}


def run_sqlite_utils(db: Path, src: Path) -> float:
    """Wall seconds of ``sqlite-utils insert DB docs FILE --nl`` as a whole process."""
    exe = Path(sys.executable).with_name("sqlite-utils")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sqlite_utils"]
    t0 = time.perf_counter()
    proc = subprocess.run([*cmd, "insert", str(db), "docs", str(src), "--nl"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"sqlite-utils failed: {proc.stderr[-2000:]}")
    return wall


def load_average() -> list[float]:
    try:
        import os

        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not available
        return []


# -- queries ------------------------------------------------------------------------------


def time_queries(db: Path, repeats: int) -> dict[str, Any]:
    """Median times of the document-list page and full-text searches, in ms."""
    from annotations import Store

    # Another annotator than the importer (whose every document is done, since each brings
    # its spans): the list as a colleague starting on the corpus sees it.
    store = Store(db, "reader")
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


def _clean(workdir: Path, stem: str) -> None:
    for p in workdir.glob(f"{stem}*"):
        p.unlink()


def run(docs: int, with_cli: bool, repeats: int, workdir: Path, with_nofts: bool = False,
        short: tuple[int, int] | None = None, profile: bool = False) -> dict[str, Any]:
    src = workdir / "corpus.jsonl"
    t0 = time.perf_counter()
    size = write_corpus(src, docs)
    gen_s = time.perf_counter() - t0
    load_before = load_average()

    results: dict[str, Any] = {"docs": docs, "jsonl_mb": round(size / 1e6, 1), "generate_s": round(gen_s, 2),
                               "spans_per_doc": SPANS_PER_DOC}
    # The baselines first and then ours, in one run, so their ratios are side by side.
    su_db = workdir / "su.db"
    su_s = run_sqlite_utils(su_db, src)
    _clean(workdir, "su.db")
    base_db = workdir / "base.db"
    base = run_child(["benchmarks.bench_import", "--child", "baseline", "--db", str(base_db), "--src", str(src)])
    _clean(workdir, "base.db")
    results.update({
        "sqlite_utils_s": round(su_s, 3),
        "sqlite_utils_docs_per_s": round(docs / su_s),
        "baseline_s": base["wall_s"],
        "baseline_docs_per_s": round(docs / base["wall_s"]),
        "baseline_peak_rss_mb": base["peak_rss_mb"],
    })

    db = workdir / "bench.db"
    args = ["benchmarks.bench_import", "--child", "import", "--db", str(db), "--src", str(src)]
    imp = run_child(args + (["--profile"] if profile else []))
    results.update({
        "import_added": imp["added"],
        "import_spans": imp["spans"],
        "import_misaligned": imp["misaligned"],
        "import_s": imp["seconds"],
        "import_docs_per_s": round(docs / imp["seconds"]),
        "import_process_s": imp["wall_s"],
        "import_with_close_s": imp["seconds_with_close"],
        "import_cpu_s": imp["cpu_seconds"],
        "import_docs_per_cpu_s": round(docs / imp["cpu_seconds"]),
        "import_peak_rss_mb": imp["peak_rss_mb"],
        "import_worker_peak_rss_mb": imp["worker_peak_rss_mb"],
        "db_mb": round(sum(p.stat().st_size for p in workdir.glob("bench.db*")) / 1e6, 1),
    })
    if "profile" in imp:
        results["import_profile"] = imp["profile"]
    if with_nofts:
        nofts_db = workdir / "nofts.db"
        nofts = run_child(["benchmarks.bench_import", "--child", "import-nofts", "--db", str(nofts_db),
                           "--src", str(src)])
        results["diagnostic_no_fts_docs_per_s"] = round(docs / nofts["seconds"])
        results["diagnostic_no_fts_docs_per_cpu_s"] = round(docs / nofts["cpu_seconds"])
        _clean(workdir, "nofts.db")
    if with_cli:
        cli_db = workdir / "cli.db"
        cli = run_child(["benchmarks.bench_import", "--child", "cli", "--db", str(cli_db), "--src", str(src)])
        results.update({
            "cli_s": cli["seconds"],
            "cli_docs_per_s": round(docs / cli["seconds"]),
            "cli_process_s": cli["wall_s"],
            "cli_process_docs_per_s": round(docs / cli["wall_s"]),
            "cli_peak_rss_mb": cli["peak_rss_mb"],
            "cli_worker_peak_rss_mb": cli["worker_peak_rss_mb"],
            "cli_vs_sqlite_utils": round(su_s / cli["wall_s"], 3),
            "cli_vs_baseline": round(base["wall_s"] / cli["wall_s"], 3),
        })
        _clean(workdir, "cli.db")
    results["import_vs_sqlite_utils"] = round(su_s / imp["wall_s"], 3)
    results["import_vs_baseline"] = round(base["wall_s"] / imp["wall_s"], 3)
    src.unlink()
    if short:
        for n, key in zip(short, ("short_small", "short_large")):
            short_src = workdir / "short.jsonl"
            write_short_corpus(short_src, n)
            short_db = workdir / "short.db"
            r = run_child(["benchmarks.bench_import", "--child", "import", "--db", str(short_db),
                           "--src", str(short_src)])
            results[f"{key}_docs"] = n
            results[f"{key}_docs_per_s"] = round(n / r["seconds"])
            results[f"{key}_peak_rss_mb"] = r["peak_rss_mb"]
            results[f"{key}_worker_peak_rss_mb"] = r["worker_peak_rss_mb"]
            _clean(workdir, "short.")
        results["short_rss_ratio"] = round(results["short_large_peak_rss_mb"] / results["short_small_peak_rss_mb"], 3)
    results.update(time_queries(db, repeats))
    results["load_average"] = {"before": load_before, "after": load_average()}
    query_keys = [k for k in results if k.endswith("_ms") and k not in INFORMATIONAL]
    results["targets"] = {
        "import_docs_per_s": TARGET_DOCS_PER_S,
        "peak_rss_mb": TARGET_RSS_MB,
        "query_ms": TARGET_QUERY_MS,
    }
    results["ratio_targets"] = {
        "vs_sqlite_utils": TARGET_VS_SQLITE_UTILS,
        "vs_baseline": TARGET_VS_BASELINE,
        "short_rss_ratio": TARGET_RSS_RATIO,
    }
    cmd_ratio_su = results.get("cli_vs_sqlite_utils", results["import_vs_sqlite_utils"])
    cmd_ratio_base = results.get("cli_vs_baseline", results["import_vs_baseline"])
    results["meets_ratio_targets"] = bool(
        cmd_ratio_su >= TARGET_VS_SQLITE_UTILS and cmd_ratio_base >= TARGET_VS_BASELINE
        and results["import_peak_rss_mb"] < TARGET_RSS_MB
        and results.get("short_rss_ratio", 0) <= TARGET_RSS_RATIO
    )
    results["meets_targets"] = bool(
        results["import_docs_per_s"] >= TARGET_DOCS_PER_S
        and results["import_peak_rss_mb"] < TARGET_RSS_MB
        and all(results[k] <= TARGET_QUERY_MS for k in query_keys)
    )
    return results


def _rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    su, base = r["sqlite_utils_docs_per_s"], r["baseline_docs_per_s"]
    rows = [
        ("documents", f"{r['docs']:,}",
         f"({r['jsonl_mb']} MB JSONL, {r['spans_per_doc']} accepted spans each, generated in {r['generate_s']} s)"),
        ("baseline: sqlite-utils insert --nl", f"{su:,} docs/s", f"({r['sqlite_utils_s']} s whole process; no spans, no index)"),
        ("baseline: raw executemany + FTS5", f"{base:,} docs/s",
         f"({r['baseline_s']} s whole process, peak {r['baseline_peak_rss_mb']} MB)"),
    ]
    if "cli_s" in r:
        rows += [
            ("annotate import --as accepted", f"{r['cli_process_docs_per_s']:,} docs/s",
             f"({r['cli_process_s']} s whole process, {r['cli_s']} s in the command)"),
            ("  vs sqlite-utils", f"{r['cli_vs_sqlite_utils']:.2f}x", f"target >= {TARGET_VS_SQLITE_UTILS}x"),
            ("  vs raw baseline", f"{r['cli_vs_baseline']:.2f}x", f"target >= {TARGET_VS_BASELINE}x"),
            ("  peak RSS", f"{r['cli_peak_rss_mb']} MB",
             f"target < {TARGET_RSS_MB} MB (worker process {r['cli_worker_peak_rss_mb']} MB)"),
        ]
    rows += [
        ("import (library)", f"{r['import_docs_per_s']:,} docs/s",
         f"target >= {TARGET_DOCS_PER_S:,}  ({r['import_s']} s; {r['import_process_s']} s whole process;"
         f" {r['import_vs_sqlite_utils']:.2f}x sqlite-utils, {r['import_vs_baseline']:.2f}x baseline)"),
        ("import CPU (this process)", f"{r['import_docs_per_cpu_s']:,} docs/CPU-s",
         f"({r['import_cpu_s']} s of CPU; the worker process's is not counted)"),
        ("import peak RSS", f"{r['import_peak_rss_mb']} MB",
         f"target < {TARGET_RSS_MB} MB (worker process {r['import_worker_peak_rss_mb']} MB)"),
        ("spans imported", f"{r['import_spans']:,}", f"({r['import_misaligned']} off token boundaries)"),
    ]
    if "short_rss_ratio" in r:
        rows += [
            (f"short docs, {r['short_small_docs']:,}", f"{r['short_small_docs_per_s']:,} docs/s",
             f"peak {r['short_small_peak_rss_mb']} MB (worker {r['short_small_worker_peak_rss_mb']} MB)"),
            (f"short docs, {r['short_large_docs']:,}", f"{r['short_large_docs_per_s']:,} docs/s",
             f"peak {r['short_large_peak_rss_mb']} MB (worker {r['short_large_worker_peak_rss_mb']} MB)"),
            ("  peak RSS ratio", f"{r['short_rss_ratio']:.2f}", f"target <= {TARGET_RSS_RATIO}"),
        ]
    if "diagnostic_no_fts_docs_per_s" in r:
        rows.append(("import without FTS (diagnostic)", f"{r['diagnostic_no_fts_docs_per_s']:,} docs/s",
                     f"({r['diagnostic_no_fts_docs_per_cpu_s']:,} docs/CPU-s; full-text indexing patched out)"))
    rows.append(("database size", f"{r['db_mb']} MB", ""))
    for key in sorted(k for k in r if k.endswith("_ms")):
        target = "(no target)" if key in INFORMATIONAL else f"target <= {TARGET_QUERY_MS} ms"
        rows.append((key[:-3].replace("_", " "), f"{r[key]} ms", target))
    for entry in r.get("import_profile", [])[:10]:
        rows.append(("  profile", f"{entry['cum_s']} s", f"{entry['function']} (own {entry['own_s']} s, {entry['calls']} calls)"))
    la = r["load_average"]
    rows.append(("load average", " ".join(map(str, la["after"])), f"(before: {' '.join(map(str, la['before']))})"))
    rows.append(("meets ratio targets (issue 11)", "yes" if r["meets_ratio_targets"] else "NO", ""))
    rows.append(("meets targets (issue 2)", "yes" if r["meets_targets"] else "NO", ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="number of documents")
    parser.add_argument("--short-docs", type=int, nargs=2, default=(100_000, 1_000_000), metavar=("SMALL", "LARGE"),
                        help="short-document runs compared for flat memory (default 100,000 and 1,000,000)")
    parser.add_argument("--no-short", action="store_true", help="skip the short-document runs")
    parser.add_argument("--quick", action="store_true", help="2,000 documents (smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-cli", action="store_true", help="skip the annotate-command run")
    parser.add_argument("--profile", action="store_true", help="cProfile the library import (this process)")
    parser.add_argument("--diagnose-fts", action="store_true",
                        help="also import with full-text indexing patched out (how much FTS5 costs)")
    parser.add_argument("--repeats", type=int, default=21, help="repeats per query timing")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here (default: temp)")
    parser.add_argument("--child", choices=("import", "import-nofts", "cli", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.child == "cli":
            print(json.dumps(child_cli(args.db, args.src)))
        elif args.child == "baseline":
            print(json.dumps(child_baseline(args.db, args.src)))
        else:
            print(json.dumps(child_import(args.db, args.src, fts=args.child == "import", profile=args.profile)))
        return 0

    docs = 2_000 if args.quick else args.docs
    repeats = 5 if args.quick else args.repeats
    short = None if args.no_short else ((200, 2_000) if args.quick else tuple(args.short_docs))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_import_"))
    try:
        if args.workdir:
            workdir.mkdir(parents=True, exist_ok=True)
            _clean(workdir, "bench.db")
        results = run(docs, not args.no_cli, repeats, workdir, args.diagnose_fts, short, args.profile)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print_results(results, _rows(results), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
