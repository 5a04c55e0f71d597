"""Issue 10's closing figures (``benchmarks/roundtrip_report.py``) on a small corpus: for every
format, each consumer's own reader gives back every example of the source, negatives
included, in order, with the same tokens/tags/spans. No speed is asserted."""

from __future__ import annotations

import json

from benchmarks import roundtrip_report
from benchmarks.roundtrip_report import FORMATS, build_corpus, run, table


def test_the_corpus_has_negatives_both_ways_and_russian_abbreviations() -> None:
    records = build_corpus(40, 0.35, seed=3)
    assert len({r["text"] for r in records}) == 40
    negatives = [r for r in records if not r.get("spans")]
    assert len(negatives) == 14
    assert any("spans" not in r for r in negatives) and any(r.get("spans") == [] for r in negatives)
    assert any("и др." in r["text"] for r in records)
    for r in records:
        for sp in r.get("spans", []):
            assert r["text"][sp["start"]:sp["end"]].strip() == r["text"][sp["start"]:sp["end"]]


def test_every_format_gives_back_every_example_to_its_consumer() -> None:
    result = run(30, 0.35, seed=1, in_process=True)
    assert set(result["formats"]) == set(FORMATS)
    neg = result["negatives"]
    assert neg == 10 and result["entities"] > 20
    for fmt, r in result["formats"].items():
        figures = (r["in"], r["done"], r["out"], r["read"])
        assert figures == (30, 30, 30, 30), (fmt, r)
        assert (r["in_negatives"], r["out_negatives"], r["read_negatives"]) == (neg, neg, neg), (fmt, r)
        assert r["read_entities"] == result["entities"] and r["misaligned"] == 0, (fmt, r)
        assert r["same_as_source"], fmt
    assert result["formats"]["jsonl"]["consumer_schema_problems"] == 0
    assert result["formats"]["jsonl"]["consumer_answers"] == {"accept": 30}
    assert result["formats"]["conll"]["consumer_seqeval_entities"] == result["entities"]
    assert result["formats"]["brat"]["consumer_conf_entity_types"] == ["LOC", "ORG", "PER"]
    assert result["formats"]["brat"]["consumer_text_column_mismatches"] == 0
    text = table(result)
    assert text.count("| yes  |") == 5 and "NO" not in text
    json.dumps(result)  # --json can print it


def test_the_comparison_can_fail(monkeypatch) -> None:
    """A consumer that loses the last example makes ``same_as_source`` false (and the exit 1)."""
    real = roundtrip_report.read_docbin

    def lossy(path, report):
        view = real(path, report)
        return view[:-1] if "out" in path.parts else view

    monkeypatch.setitem(roundtrip_report.CONSUMERS, "spacy", ("lossy", lossy, False))
    result = run(8, 0.5, seed=2, in_process=True)
    assert not result["formats"]["spacy"]["same_as_source"]
    assert result["formats"]["spacy"]["read"] == 7
    assert all(r["same_as_source"] for f, r in result["formats"].items() if f != "spacy")
