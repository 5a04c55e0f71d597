"""Scoring against gold: exact and overlap matching, gold file checks, the bundled gold data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from annotations import Store
from annotations.evaluate import GoldDoc, evaluate_store, read_gold, score_documents
from annotations.importer import ImportFailure
from annotations.tokenize import tokenize

GOLD = Path(__file__).resolve().parent.parent / "benchmarks" / "gold" / "gold.jsonl"


def read_gold_from(docs: list[tuple[str, list[tuple[int, int, str]]]]) -> list[GoldDoc]:
    return [GoldDoc(text, tuple(spans)) for text, spans in docs]


def test_exact_and_overlap_scores() -> None:
    gold = [(0, 5, "PER"), (10, 20, "LOC"), (30, 35, "ORG")]
    pred = [(0, 5, "PER"), (10, 15, "LOC"), (30, 35, "PER"), (40, 45, "LOC")]
    labels, overall = score_documents([(gold, pred)])
    assert (overall.exact.tp_gold, overall.gold, overall.predicted) == (1, 3, 4)
    assert overall.exact.precision == pytest.approx(1 / 4) and overall.exact.recall == pytest.approx(1 / 3)
    assert overall.overlap.tp_gold == 2  # PER exact + the LOC that overlaps
    assert labels["LOC"].exact.tp_gold == 0 and labels["LOC"].overlap.tp_gold == 1
    assert labels["ORG"].exact.recall == 0 and labels["ORG"].predicted == 0
    assert labels["PER"].exact.precision == pytest.approx(0.5)
    f1 = 2 * (1 / 4) * (1 / 3) / (1 / 4 + 1 / 3)
    assert overall.exact.f1 == pytest.approx(f1)


def test_overlap_matches_one_to_one() -> None:
    gold = [(0, 10, "LOC")]
    pred = [(0, 4, "LOC"), (5, 10, "LOC")]
    _, overall = score_documents([(gold, pred)])
    assert overall.overlap.tp_gold == 1 and overall.overlap.precision == pytest.approx(0.5)


def test_empty_predictions_score_zero_without_dividing_by_zero() -> None:
    _, overall = score_documents([([(0, 3, "PER")], [])])
    assert (overall.exact.precision, overall.exact.recall, overall.exact.f1) == (0.0, 0.0, 0.0)


def test_read_gold_names_file_and_line(write_jsonl: Callable[..., Path]) -> None:
    ok = {"text": "Садыр Жапаров", "spans": [{"start": 0, "end": 13, "label": "PER"}]}
    cases = [
        ("{not json", "gold.jsonl:2: not valid JSON"),
        (json.dumps({"text": "abc"}), "gold.jsonl:2: gold record has no \"spans\" list"),
        (json.dumps({"text": "abc", "spans": [{"start": 0, "end": 9, "label": "PER"}]}),
         "gold.jsonl:2: span 1 (PER) 0-9 is out of range"),
        (json.dumps({"text": "abc", "spans": [{"start": 0, "end": 2, "label": "PER"},
                                               {"start": 1, "end": 3, "label": "LOC"}]}),
         "gold.jsonl:2: spans overlap"),
    ]
    for bad, message in cases:
        path = write_jsonl([ok, bad], "gold.jsonl")
        with pytest.raises(ImportFailure) as err:
            read_gold(path)
        assert message in str(err.value)
    with pytest.raises(ImportFailure, match="no such file"):
        read_gold(path.parent / "missing.jsonl")


def test_evaluate_store_annotations_and_suggestions(seeded_store: Store) -> None:
    store = seeded_store
    text = store.text(1)
    i = text.index("Садыр Жапаров")
    j = text.index("Михаил Мишустинди")
    store.add_span(1, i, i + 13, "PER")
    store.add_suggestions(1, [(j, j + 17, "PER", 0.9), (0, 5, "LOC", 0.5)], "propagation")
    store.add_suggestions(1, [(j, j + 6, "PER", 0.5)], "other")
    gold = read_gold_from([(text, [(i, i + 13, "PER"), (j, j + 17, "PER")])])
    ann = evaluate_store(store, gold, what="annotations")
    assert (ann.overall.exact.precision, ann.overall.exact.recall) == (1.0, 0.5)
    sug = evaluate_store(store, gold, what="suggestions", origins=["propagation"])
    assert sug.overall.exact.tp_gold == 1 and sug.overall.predicted == 2
    both = evaluate_store(store, gold, what="suggestions")
    assert both.overall.predicted == 3 and both.documents == 1
    assert evaluate_store(store, gold, annotator="bob").overall.predicted == 0


def test_gold_documents_missing_from_the_database_are_counted(store: Store) -> None:
    report = evaluate_store(store, read_gold_from([("not imported", [(0, 3, "PER")])]))
    assert report.documents == 0 and report.missing == 1


def test_bundled_gold_is_valid_and_on_token_boundaries() -> None:
    """benchmarks/gold/gold.jsonl: every span's text matches and falls on spaCy tokens."""
    docs = read_gold(GOLD)
    records = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    assert len(docs) >= 12
    langs = [r["meta"]["lang"] for r in records]
    assert langs.count("ky") >= 6 and langs.count("ru") >= 4
    for rec in records:
        toks = tokenize(rec["text"], rec["meta"]["lang"])
        starts, ends = set(toks.starts), set(toks.ends)
        for sp in rec["spans"]:
            assert rec["text"][sp["start"]:sp["end"]] == sp["text"]
            assert sp["start"] in starts and sp["end"] in ends, (rec["meta"]["source"], sp)
            assert sp["label"] in {"PER", "LOC", "ORG"}
