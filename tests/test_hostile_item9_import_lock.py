"""Issue 16 item 9: a big import does not lock other writers out, and stays all or nothing.

A real ``annotate import`` of a generated JSONL file (several seconds of work) runs in a
subprocess while this process, as another annotator, keeps opening documents it has never
opened (the first open writes the token cache) and labelling a word in each: every one of
those writes is served within a fraction of a second, also while the import is publishing
(its note is in ``import_batches``). The import is checked and staged in a file of its own,
then published in short transactions (``annotations.importer._publish``).

Then the same import is killed with SIGKILL while it publishes: the database is consistent,
and once the next import (or ``recover_interrupted_imports``) has looked, nothing of the
killed file is left; and a file with a bad last line adds nothing, its staging file removed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from annotations import Store, import_paths
from annotations.importer import recover_interrupted_imports
from annotations.tokenize import tokenize

ANNOTATE = [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]
WORDS = ("шаар", "өкмөт", "жолугушуу", "президент", "министр", "кеңеш", "маалымат", "жаңылык",
         "город", "правительство", "встреча", "заявил", "Бишкек", "Ош", "Нарын", "Талас")
#: The other annotator's writes must each be served within this (the issue asks 100 ms;
#: a generous bound for a loaded 2-core machine that still fails if the import held the
#: lock for its whole length, which takes seconds).
WORST_S = 1.0
#: Documents of the other annotator, none opened yet (each is opened once).
OWN = 1500
#: Documents in the big file: a few seconds of import.
BIG = 6_000


def corpus(path: Path, docs: int, seed: int = 9) -> None:
    """``docs`` short Kyrgyz/Russian-like documents, each with two accepted spans."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(docs):
            words = [rng.choice(WORDS) for _ in range(rng.randint(40, 70))]
            text = f"Док{i} " + " ".join(words) + "."
            first = len(f"Док{i} ")
            second = text.rindex(" ") + 1
            spans = [{"start": 0, "end": first - 1, "label": "ORG"},
                     {"start": first, "end": first + len(words[0]), "label": "LOC"}]
            if second > first + len(words[0]) + 1:
                spans.append({"start": second, "end": len(text) - 1, "label": "PER"})
            fh.write(json.dumps({"text": text, "spans": spans}, ensure_ascii=False) + "\n")


def publishing(db: Path) -> bool:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return bool(conn.execute("SELECT count(*) FROM import_batches").fetchone()[0])
    finally:
        conn.close()


def start_import(db: Path, src: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*ANNOTATE, "import", "--db", str(db), "--annotator", "loader", str(src)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def prepare(tmp_path: Path, docs: int) -> tuple[Path, Path, list[int]]:
    db = tmp_path / "shared.db"
    src = tmp_path / "big.jsonl"
    corpus(src, docs)
    with Store(db, "annotator") as store:
        own = tmp_path / "own.jsonl"
        own.write_text("".join(json.dumps({"text": f"Менин документим {i}: Бишкек шаары."}, ensure_ascii=False)
                               + "\n" for i in range(OWN)), encoding="utf-8")
        report = import_paths(store, [own])
        assert report.ok
        ids = report.doc_ids
        assert store.db.conn.execute("SELECT count(*) FROM doc_tokens").fetchone()[0] == 0
    return db, src, ids


def test_item9_an_annotator_is_served_while_a_big_import_runs(tmp_path: Path) -> None:
    db, src, ids = prepare(tmp_path, BIG)
    proc = start_import(db, src)
    opens: list[float] = []
    labels: list[float] = []
    during_publish = 0
    with Store(db, "annotator") as store:
        for lang in ("ky", "ru", "xx"):
            tokenize("Бишкек", lang)  # spaCy loaded before anything is timed
        try:
            for doc_id in ids:
                if proc.poll() is not None:
                    break
                busy = publishing(db)
                t0 = time.perf_counter()
                doc = store.document(doc_id)  # first open: tokenises and caches (a write)
                t1 = time.perf_counter()
                store.add_span(doc_id, 0, doc.text.index(" "), "ORG")
                t2 = time.perf_counter()
                opens.append(t1 - t0)
                labels.append(t2 - t1)
                during_publish += busy
                time.sleep(0.03)
        finally:
            out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    print(f"\n{len(opens)} opens and labels during the import ({during_publish} while it published):"
          f" open worst {max(opens) * 1000:.0f} ms, median {sorted(opens)[len(opens) // 2] * 1000:.0f} ms;"
          f" label worst {max(labels) * 1000:.0f} ms, median {sorted(labels)[len(labels) // 2] * 1000:.0f} ms")
    assert during_publish >= 3 and len(opens) >= 10
    assert max(opens) < WORST_S and max(labels) < WORST_S
    with Store(db, "annotator") as store:
        assert store.count_documents() == OWN + BIG
        assert store.db.conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 0
        assert len(store.documents(search="Док5999", limit=5)) == 1  # searchable on return
        assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Both annotators' work is there: the loader's spans and statuses, this one's labels.
        conn = store.db.conn
        assert conn.execute("SELECT count(*) FROM doc_status WHERE annotator = 'loader'").fetchone()[0] == BIG
        assert conn.execute("SELECT count(*) FROM spans WHERE annotator = 'annotator'").fetchone()[0] == len(opens)
    assert not list(tmp_path.glob(".shared.db.import-*"))


def test_item9_kill_during_publishing_leaves_nothing_of_the_file(tmp_path: Path) -> None:
    db, src, ids = prepare(tmp_path, BIG)
    with Store(db, "annotator") as store:
        before = store.count_documents()
    proc = start_import(db, src)
    deadline = time.monotonic() + 60
    while not publishing(db):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        # What was published is noted, id range by id range, and nothing else was written.
        noted = raw.execute("SELECT coalesce(sum(last - first + 1), 0) FROM import_batch_docs").fetchone()[0]
        docs = raw.execute("SELECT count(*) FROM documents").fetchone()[0]
        assert 0 < noted < BIG and docs == before + noted
    finally:
        raw.close()
    # The next store opened on the file takes the half-published file back at once.
    with Store(db, "annotator") as store:
        conn = store.db.conn
        assert recover_interrupted_imports(store) == 0
        assert store.count_documents() == before
        assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM doc_status").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 0
        store.db.conn.execute("INSERT INTO documents_fts(documents_fts, rank) VALUES ('integrity-check', 1)")
        assert store.documents(search="Док5", limit=5) == []
    assert not list(tmp_path.glob(".shared.db.import-*"))


def test_item9_bad_last_line_adds_nothing_and_leaves_no_staging_file(tmp_path: Path) -> None:
    db, src, _ = prepare(tmp_path, 1_500)
    with src.open("a", encoding="utf-8") as fh:
        fh.write('{"text": "a", "spans": [{"start": 0, "end": 5, "label": "PER"}]}\n')
    with Store(db, "annotator") as store:
        before = store.count_documents()
        report = import_paths(store, [src])
        assert not report.ok and report.errors[0].line == 1_501 and "out of range" in report.errors[0].message
        assert store.count_documents() == before
        assert store.db.conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 0
    assert not list(tmp_path.glob(".shared.db.import-*"))


def test_item9_kill_while_staging_leaves_nothing_and_the_staging_file_is_removed(tmp_path: Path) -> None:
    db, src, _ = prepare(tmp_path, 3_000)
    with Store(db, "annotator") as store:
        before = store.count_documents()
    proc = start_import(db, src)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".shared.db.import-*.staging")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store(db, "annotator") as store:
        assert store.count_documents() == before  # killed before (or while) publishing: at most noted batches
        recover_interrupted_imports(store)
        assert store.count_documents() == before
        assert store.db.conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 0
    assert not list(tmp_path.glob(".shared.db.import-*"))
