"""The import's fast token-boundary check tells exactly what tokenising the whole text tells.

``importer.misaligned_spans`` looks at the text around each span edge and tokenises only
where punctuation, whitespace or one of spaCy's multi-word exceptions could move a token
edge; here it is compared, edge by edge, with :func:`annotations.tokenize.tokenize` of the
whole text, on every offset of the seed articles and on texts made to be hard (exceptions
such as ``т. е.`` and ``и др.``, runs of spaces and newlines, punctuation, digits, hyphens).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from annotations import Store, import_paths, importer
from annotations.importer import RecordSpan, misaligned_spans
from annotations.seeds import seeds_dir
from annotations.text import detect_language, is_grapheme_boundary
from annotations.tokenize import tokenize

HARD = [
    "Он приехал, т. е. прилетел, в Бишкек (и др. города) 12.05.2024 г. в 10:30 — «Ош-Нарын»!",
    "вед. науч. сотр.  Иванов И.И. и т. д.\n\nСм. также: https://example.org/x?y=1 , e-mail a@b.kg",
    "  Жалал-Абад\tшаарында 1 000 сом...  «Кыргызстан» (КР) — 5%; т.е. 3-4 км²\n",
]


def _check(text: str, lang: str, rng: random.Random, tries: int) -> int:
    tokens = tokenize(text, lang)
    starts, ends = set(tokens.starts), set(tokens.ends)
    edges = [i for i in range(len(text) + 1) if is_grapheme_boundary(text, i)]
    checked = 0
    for _ in range(tries):
        a, b = sorted(rng.sample(edges, 2))
        if a == b:
            continue
        if rng.random() < 0.5:  # mostly spans of one to three words, as people mark them
            b = min(len(text), a + rng.randint(1, 30))
            while b < len(text) and not is_grapheme_boundary(text, b):
                b += 1
            if b <= a:
                continue
        want = int(not (a in starts and b in ends))
        got = misaligned_spans(text, [RecordSpan(a, b, "X")], lang)
        assert got == want, (text[max(0, a - 20):b + 20], a, b, got, want)
        checked += 1
    return checked


def test_fast_boundary_check_equals_whole_text_tokenisation() -> None:
    rng = random.Random(11)
    checked = 0
    for path in sorted(seeds_dir().glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        checked += _check(text, detect_language(text), rng, 400)
    for text in HARD:
        for lang in ("ru", "ky", "xx"):
            checked += _check(text, lang, rng, 300)
    assert checked > 2000


def test_several_spans_counted_once_each() -> None:
    text = HARD[0]
    tokens = tokenize(text, "ru")
    pairs = list(zip(tokens.starts, tokens.ends))
    spans = [RecordSpan(s, e, "X") for s, e in pairs[::3]] + [RecordSpan(1, 3, "X"), RecordSpan(4, 9, "X")]
    starts, ends = set(tokens.starts), set(tokens.ends)
    want = sum(1 for sp in spans if sp.start not in starts or sp.end not in ends)
    assert want == 2
    assert misaligned_spans(text, spans, "ru") == want


#: What an import writes, without its timestamps.
TABLES = (
    "SELECT id, hash, source, line, title, lang, text, meta FROM documents ORDER BY id",
    "SELECT id, doc_id, start, end, label, annotator, origin, state, score FROM spans ORDER BY id",
    "SELECT doc_id, annotator, status FROM doc_status ORDER BY doc_id, annotator",
    "SELECT * FROM import_records ORDER BY doc_id, annotator",
    "SELECT * FROM doc_tokens ORDER BY doc_id",
    "SELECT name, key, colour, position FROM labels ORDER BY name",
    "SELECT action, doc_id, changes FROM events ORDER BY id",
)


def test_worker_process_import_equals_in_process_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSONL file read and checked in the worker process (big files) imports exactly as in process."""
    records = [
        {"text": f"Садыр Жапаров {i}-жолу Бишкекте.\nÐîññèÿ è Êûðãûçñòàí", "spans": [{"start": 0, "end": 13, "label": "PER"}],
         "answer": "accept" if i % 3 else "reject", "_input_hash": i, "meta": {"n": i}}
        for i in range(40)
    ] + [{"text": "Садыр Жапаров 1-жолу Бишкекте.\nÐîññèÿ è Êûðãûçñòàí"}, {"text": "   "}, {"text": "Ош", "tokens": [
        {"start": 0, "end": 2}]}]
    src = tmp_path / "w.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    reports, dumps = [], []
    for threshold in (10**12, 0):
        monkeypatch.setattr(importer, "WORKER_MIN_BYTES", threshold)
        with Store(tmp_path / f"db{threshold}.db", "me") as store:
            report = import_paths(store, [src])
            reports.append(report.to_dict())
            dumps.append([store.db.conn.execute(q).fetchall() for q in TABLES])
    assert reports[0] == reports[1]
    assert reports[0]["added"] == 41 and reports[0]["duplicates"] == 1 and reports[0]["warnings"]
    assert dumps[0] == dumps[1]
    # A bad line is named by the worker as by the reader in process, and nothing is written.
    with src.open("a", encoding="utf-8") as fh:
        fh.write("{broken\n")
    with Store(tmp_path / "bad.db", "me") as store:
        report = import_paths(store, [src])
        assert not report.ok and report.errors[0].line == len(records) + 1
        assert store.count_documents() == 0
