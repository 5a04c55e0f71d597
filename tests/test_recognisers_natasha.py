"""Natasha's Russian NER: its known faults cleaned, Russian documents only, a clear message
when the optional extra is missing. Natasha ships its models in its wheel, so this runs offline.
"""

from __future__ import annotations

import importlib.util

import pytest

from annotations import Store
from annotations.recognisers import TextDoc, build_recognisers, run_recognisers
from annotations.recognisers.natasha_ner import NATASHA_HINT, NatashaRecogniser, clean

pytest.importorskip("natasha", reason="the optional extra annotate[ru] is not installed")


@pytest.fixture(scope="module")
def natasha() -> NatashaRecogniser:
    return NatashaRecogniser()


def tagged(rec: NatashaRecogniser, text: str, lang: str = "ru") -> list[tuple[str, str]]:
    return [(text[s.start:s.end], s.label) for s in rec.suggest(TextDoc(text, lang))]


def test_a_span_running_over_a_bracket_is_split_and_each_piece_relabelled() -> None:
    text = "АНКАРА (ИА Реалист). Турция следит."
    raw = [(0, text.index(")"), "ORG")]  # what Natasha returns for seed 004's datelines
    assert [(text[a:b], lab) for a, b, lab in clean(text, raw)] == [("АНКАРА", "LOC"), ("ИА Реалист", "ORG")]


def test_the_russian_seed_is_cleaned(seeded_store: Store) -> None:
    (rec,), _ = build_recognisers(["natasha"])
    run_recognisers(seeded_store, [rec], doc_ids=[5])
    doc = seeded_store.document(5)
    got = [(doc.text[s.start:s.end], s.label) for s in doc.pending]
    for expected in [("АНКАРА", "LOC"), ("ТЕГЕРАН", "LOC"), ("ИА Реалист", "ORG"), ("БИШКЕК", "LOC"),
                     ("Владимира Путина", "PER"), ("Стармера", "PER")]:
        assert expected in got
    assert all(not set(s) & set("()\n") for s, _ in got)
    assert ("Товарооборот", "LOC") not in got


def test_no_span_crosses_a_line_break(natasha: NatashaRecogniser) -> None:
    text = "Лондон готовит встречу Стармера и Си\n\nЛОНДОН (ИА Реалист). Министры Британии готовили почву."
    got = tagged(natasha, text)
    assert all("\n" not in s for s, _ in got)
    assert ("ЛОНДОН", "LOC") in got and ("Британии", "LOC") in got


def test_capitalised_city_is_not_an_organisation(natasha: NatashaRecogniser) -> None:
    got = tagged(natasha, "БИШКЕК, 20 ноября. Президент Кыргызстана Садыр Жапаров провел встречу.")
    assert ("БИШКЕК", "LOC") in got and ("Садыр Жапаров", "PER") in got and ("Кыргызстана", "LOC") in got


def test_sentence_initial_common_noun_is_dropped(natasha: NatashaRecogniser) -> None:
    got = tagged(natasha, "Товарооборот, безопасность: Москва и Бишкек расширяют сотрудничество.")
    assert [s for s, _ in got] == ["Москва", "Бишкек"]


def test_only_russian_documents_are_tagged(natasha: NatashaRecogniser) -> None:
    assert tagged(natasha, "Садыр Жапаров Москвага барды.", "ky") == []


def test_spans_fall_on_token_boundaries(seeded_store: Store) -> None:
    (rec,), _ = build_recognisers(["natasha"])
    report = run_recognisers(seeded_store, [rec])
    doc = seeded_store.document(5)
    starts, ends = set(doc.tokens.starts), set(doc.tokens.ends)
    assert report.suggestions["natasha"] > 20
    assert all(s.start in starts and s.end in ends for s in doc.pending)
    assert {s.label for s in doc.pending} == {"PER", "LOC", "ORG"}
    assert all(not seeded_store.spans(d, states=("pending",)) for d in (1, 2, 3, 4))  # Kyrgyz


def test_unavailable_without_natasha(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "natasha" else real(name, *a))
    assert NatashaRecogniser().unavailable() == NATASHA_HINT
    assert "-m pip install 'natasha>=1.6'" in NATASHA_HINT and "annotate[ru]" not in NATASHA_HINT


def test_generic_designators_are_trimmed_from_places() -> None:
    text = "Рудник в Джети-Огузском районе Иссык-Кульской области."
    raw = [(text.index("Джети"), text.index("районе") + 6, "LOC"),
           (text.index("Иссык"), text.index("области") + 7, "LOC")]
    assert [text[a:b] for a, b, _ in clean(text, raw)] == ["Джети-Огузском", "Иссык-Кульской"]
