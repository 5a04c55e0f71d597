"""The keystrokes-per-entity benchmark reproduces gold spans exactly in the real app.

``benchmarks/keystrokes.py`` is run (``--quick``, in this process) on two short gold
documents, one Kyrgyz and one Russian, with suggestions off and on: the export must equal
the gold and the planner's model of the keys must match what the app did (no step
re-planned). Its checks — spans off word boundaries refused, exports compared, the store's
accept-all predicted — are tested on their own. No timing is asserted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from annotations import Store, import_paths
from benchmarks import keystrokes

GOLD = Path(keystrokes.__file__).resolve().parent / "gold"
#: Two short gold documents (by source, so the gold file may grow or be reordered).
SUBSET = ("ky_osh.txt", "ru_kumtor.txt")


@pytest.fixture
def small_gold(tmp_path: Path) -> Path:
    lines = [
        line for line in (GOLD / "gold.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line).get("meta", {}).get("source", "").endswith(SUBSET)
    ]
    assert len(lines) == len(SUBSET)
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(GOLD / "patterns.jsonl", tmp_path / "patterns.jsonl")
    return path


def test_reproduces_the_gold_with_and_without_suggestions(small_gold: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = keystrokes.main([str(small_gold), "--quick", "--json"])
    out = capsys.readouterr().out
    assert code == 0, capsys.readouterr().err
    results = json.loads(out.splitlines()[-1])
    assert results["equals_gold"] is True
    assert set(results["modes"]) == {"off", "on"}
    entities = results["entities"]
    assert entities == sum(len(json.loads(line)["spans"]) for line in small_gold.read_text().splitlines())
    for mode in results["modes"].values():
        assert mode["equals_gold"] is True and mode["differences"] == []
        assert mode["plan_misses"] == 0, "the planner's model of the keys disagreed with the app"
        assert mode["documents"] == 2 and len(mode["per_document"]) == 2
        assert mode["keys"] == sum(d["keys"] for d in mode["per_document"]) == sum(mode["by_key"].values())
        assert mode["by_key"]["d"] == 2
    off, on = results["modes"]["off"], results["modes"]["on"]
    # Without suggestions every entity needs at least its label key.
    assert sum(off["by_key"].get(k, 0) for k in "123") == entities
    assert off["keys"] >= entities + 2
    assert on["recognisers"] and on["initial_suggestions"] > 0


def test_a_gold_span_inside_a_word_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = tmp_path / "bad.jsonl"
    text = "Садыр Жапаров Москвага келди."
    gold.write_text(json.dumps({"text": text, "spans": [{"start": 6, "end": 13, "label": "PER"},
                                                        {"start": 14, "end": 20, "label": "LOC"}]},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    code = keystrokes.main([str(gold), "--suggestions", "off"])
    err = capsys.readouterr().err
    assert code == 2
    assert "line 1" in err and "'Москва'" in err and "word boundaries" in err


def test_duplicate_gold_texts_are_refused(tmp_path: Path) -> None:
    gold = tmp_path / "dup.jsonl"
    gold.write_text('{"text": "Ош"}\n{"text": "Ош"}\n', encoding="utf-8")
    with pytest.raises(keystrokes.KeystrokeError, match="line 2: the same text as line 1"):
        keystrokes.read_gold(gold)


def test_compare_lists_missing_extra_and_unfinished(tmp_path: Path) -> None:
    texts = ["Садыр Жапаров Бишкекте.", "Москва жана Ош."]
    src = tmp_path / "t.jsonl"
    src.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    gold = [keystrokes.GoldDoc(texts[0], frozenset({(0, 13, "PER"), (14, 22, "LOC")}), 1),
            keystrokes.GoldDoc(texts[1], frozenset({(0, 6, "LOC")}), 2)]
    with Store(tmp_path / "c.db", annotator="k") as store:
        import_paths(store, [src], mode="text")
        first, _second = store.document_ids()
        store.add_span(first, 0, 13, "PER")
        store.add_span(first, 14, 22, "ORG")
        store.set_status(first, "done")
        diffs = keystrokes.compare(store, gold)
    assert "gold line 1: missing LOC 14-22 'Бишкекте'" in diffs
    assert "gold line 1: extra ORG 14-22 'Бишкекте'" in diffs
    assert "gold line 2: document not exported (not marked done)" in diffs
    assert len(diffs) == 3


def test_accept_all_prediction_matches_the_store(tmp_path: Path) -> None:
    """The planner's model of ``A`` (best score first, clashes give way) is the store's."""
    text = "Кыргыз Республикасынын Президенти Садыр Жапаров Москвага барды."
    src = tmp_path / "t.jsonl"
    src.write_text(json.dumps({"text": text}, ensure_ascii=False) + "\n", encoding="utf-8")
    with Store(tmp_path / "a.db", annotator="k") as store:
        import_paths(store, [src], mode="text")
        (doc,) = store.document_ids()
        store.add_span(doc, 48, 56, "LOC")  # Москвага, accepted
        store.add_suggestions(doc, [(0, 6, "LOC", 0.4), (0, 22, "LOC", 0.9), (7, 22, "ORG", 0.5),
                                    (34, 47, "PER", None), (34, 39, "PER", 0.95)], "test")
        spans = store.spans(doc)
        predicted = keystrokes.accept_all_result(
            [s for s in spans if s.state == "accepted"], [s for s in spans if s.state == "pending"]
        )
        store.accept_all(doc)
        actual = {(s.start, s.end, s.label) for s in store.spans(doc, states=("accepted",))}
    assert predicted == actual
    assert (0, 22, "LOC") in actual and (34, 47, "PER") in actual  # no score counts as the best
