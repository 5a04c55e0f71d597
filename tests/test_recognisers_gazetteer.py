"""Gazetteer: CLDR and iso-codes names and a user's file, found in all their word forms."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from annotations import Store
from annotations.recognisers import TextDoc, build_recognisers, run_recognisers
from annotations.recognisers.gazetteer import (
    GazetteerError,
    GazetteerRecogniser,
    Name,
    cldr_names,
    iso_names,
    read_gazetteer,
)
from annotations.tokenize import tokenize


def found(rec: GazetteerRecogniser, text: str, lang: str) -> list[tuple[str, str]]:
    rec.prepare()
    doc = TextDoc(text, lang, None, tokenize(text, lang))
    return [(text[s.start:s.end], s.label) for s in rec.suggest(doc)]


def test_cldr_country_in_kyrgyz_case_forms() -> None:
    rec = GazetteerRecogniser(iso=False, cities=False)
    text = "Тажикстандын өкүлдөрү Тажикстанга кайтышты, Кыргызстан менен сүйлөшүп."
    assert found(rec, text, "ky") == [
        ("Тажикстандын", "LOC"), ("Тажикстанга", "LOC"), ("Кыргызстан", "LOC"),
    ]


def test_cldr_organisations_and_russian_lemmas() -> None:
    rec = GazetteerRecogniser(iso=False, cities=False)
    text = "Представители Европейского союза и Таджикистана встретились."
    assert found(rec, text, "ru") == [("Европейского союза", "ORG"), ("Таджикистана", "LOC")]


def test_english_names_and_all_capitals_in_a_caption() -> None:
    rec = GazetteerRecogniser(iso=False, cities=False)
    text = "SOCHI, RUSSIA – Kyrgyzstan's President met him.\n\nОрусия жана Кыргызстан."
    assert ("RUSSIA", "LOC") in found(rec, text, "ky")
    assert ("Kyrgyzstan", "LOC") in found(rec, text, "ky")


def test_cities_and_iso_subdivisions() -> None:
    assert GazetteerRecogniser(iso=False, cities=False).prepare() is None
    text = "Делегация Ташкентке, Оштон жана Баткенден келди. Корея Республикасынын элчиси."
    got = found(GazetteerRecogniser(), text, "ky")
    assert got == [("Ташкентке", "LOC"), ("Оштон", "LOC"), ("Баткенден", "LOC"),
                   ("Корея Республикасынын", "LOC")]
    assert found(GazetteerRecogniser(iso=False, cities=False), text, "ky") == []


def test_ordinary_words_are_not_names() -> None:
    names = {n.text for n in cldr_names(cities=True)} | {n.text for n in iso_names()}
    assert "Того" not in names and "Восток" not in names  # a pronoun, a noun in Russian
    assert {"Таджикистан", "Тажикстан", "Ош", "Жалал-Абад", "Санкт-Петербург"} <= names


def test_user_gazetteer_tsv_and_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "names.tsv"
    path.write_text(
        "# my names\nLOC\tОрусия\n\n"
        '{"label": "ORG", "name": "Улуттук банк", "lang": "ky"}\n'
        "ORG\tKOICA\txx\n",
        encoding="utf-8",
    )
    assert read_gazetteer(path) == [
        Name("Орусия", "LOC", "ky"), Name("Улуттук банк", "ORG", "ky"), Name("KOICA", "ORG", "xx"),
    ]
    rec = GazetteerRecogniser([path], cldr=False)
    text = "Орусиянын Улуттук банкы менен Улуттук банктын KOICA өкүлү."
    assert found(rec, text, "ky") == [
        ("Орусиянын", "LOC"), ("Улуттук банктын", "ORG"), ("KOICA", "ORG"),
    ]


@pytest.mark.parametrize("line, reason", [
    ("LOC Орусия", "expected LABEL<TAB>name"),
    ("LOC\t...", "name must hold a letter"),
    ("BAD LABEL\tОрусия", "label must be"),
    ('{"label": "LOC"', "not JSON"),
    ('{"label": "A B", "name": "x"}', "label must be"),
])
def test_user_gazetteer_errors_name_the_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(f"LOC\tОш\n{line}\n", encoding="utf-8")
    with pytest.raises(GazetteerError) as err:
        read_gazetteer(path)
    assert f"{path}:2: " in str(err.value) and reason in str(err.value)


def test_gazetteer_runs_by_default_with_its_origin_and_wins_over_natasha(
    store: Store, add_doc: Callable[..., int]
) -> None:
    ky = add_doc("Тажикстандын өкүлдөрү келди. Кыргызстан жана Тажикстан сүйлөштү.", "ky")
    ru = add_doc("Представители Европейского союза прибыли в Бишкек.", "ru")
    recs, _ = build_recognisers()
    assert "gazetteer" in [r.name for r in recs]
    run_recognisers(store, recs, status="any")
    got = {(store.text(s.doc_id)[s.start:s.end], s.label, s.origin)
           for d in (ky, ru) for s in store.spans(d, states=("pending",))}
    assert ("Тажикстандын", "LOC", "gazetteer") in got
    assert ("Европейского союза", "ORG", "gazetteer") in got
    assert not any(t == "Европейского союза" and o != "gazetteer" for t, _, o in got)
