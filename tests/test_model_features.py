"""Per-token features: word forms, shape, endings, script, position, neighbours, lexicon."""

from __future__ import annotations

import pytest

from annotations.model.endings import split_ending
from annotations.model.features import (
    FeatureExtractor,
    capitalisation,
    encode,
    script,
    sentence_features,
    shape,
    short_shape,
)


@pytest.mark.parametrize(
    ("word", "lang", "stem", "ending"),
    [
        ("жапаровдун", "ky", "жапаров", "дун"),
        ("москвага", "ky", "москва", "га"),
        ("бишкекте", "ky", "бишкек", "те"),
        ("кыргызстандагы", "ky", "кыргызстан", "дагы"),
        ("республикасынын", "ky", "республика", "сынын"),
        ("мишустинди", "ky", "мишустин", "ди"),
        ("еаэбге", "ky", "еаэб", "ге"),
        ("путина", "ru", "путин", "а"),
        ("владимиру", "ru", "владимир", "у"),
        ("ош", "ky", "ош", ""),  # too short to cut
        ("2025", "ru", "2025", ""),
    ],
)
def test_case_endings_are_removed(word: str, lang: str, stem: str, ending: str) -> None:
    assert split_ending(word, lang) == (stem, ending)


def test_shape_capitalisation_and_script() -> None:
    assert shape("Жапаровдун") == "Xxxxx" and short_shape("Жапаровдун") == "Xx"
    assert shape("ЕАЭБге") == "XXXXxx" and short_shape("24-майда") == "d-x"
    assert [capitalisation(w) for w in ("Садыр", "ЕАЭБ", "өкмөт", "РФтин", "2025", "А")] == [
        "title", "upper", "lower", "mixed", "none", "title",
    ]
    assert [script(w) for w in ("Бишкек", "Reuters", "КамАЗ-Truck", "2025", "«", "東京")] == [
        "cyr", "lat", "mix", "digit", "punct", "other",
    ]


def test_token_features_cover_word_position_and_neighbours() -> None:
    feats = sentence_features(["Президент", "Садыр", "Жапаровдун", "сапары", "."], "ky")
    first, name, surname, _, last = feats
    assert {"BOS", "init=title", "w=Президент", "lw=президент", "+1:lw=садыр", "+2:lw=жапаровдун"} <= set(first)
    assert {"w=Жапаровдун", "lw=жапаровдун", "st=жапаров", "end=дун", "cap=title", "scr=cyr",
            "sh=Xxxxx", "p3=жап", "s3=дун"} <= set(surname)
    assert {"-1:lw=садыр", "-1:ssh=Xx", "-2:lw=президент", "+1:lw=сапары", "+1:ssh=x", "+2:lw=."} <= set(surname)
    assert len(surname) == 16
    assert "BOS" not in name and "init=title" not in name
    assert "EOS" in last and "+1:lw=." not in last
    assert not any(f.startswith("lex") or "lex=" in f for tok in feats for f in tok)


def test_lexicon_flag_from_a_set_a_mapping_or_a_callable() -> None:
    words = ["Садыр", "Жапаровдун", "Москвага", "келди"]
    as_set = sentence_features(words, "ky", {"жапаров"})  # matched through the stem
    assert "lex=1" in as_set[1] and "-1:lex=1" in as_set[2] and "+1:lex=1" in as_set[0]
    assert not any(f.startswith("lex=") for f in as_set[2] + as_set[3])
    as_map = sentence_features(words, "ky", {"москва": "LOC", "Садыр": "PER"})
    assert "lex=PER" in as_map[0] and "lex=LOC" in as_map[2] and "+1:lex=LOC" in as_map[1]
    as_call = sentence_features(words, "ky", lambda w: "ORG" if w == "келди" else w.startswith("Жап"))
    assert "lex=1" in as_call[1] and "lex=ORG" in as_call[3] and not any(f.startswith("lex=") for f in as_call[0])


def test_excluded_words_count_as_unknown_to_the_lexicon() -> None:
    extract = FeatureExtractor({"жапаров"})
    feats = extract(["Садыр", "Жапаровдун"], "ky", exclude={"Жапаровдун"})
    assert not any("lex=" in f for tok in feats for f in tok)


def test_encoded_features_are_short_stable_ids() -> None:
    plain = FeatureExtractor()(["Садыр", "Жапаров"], "ky")
    coded = FeatureExtractor()(["Садыр", "Жапаров"], "ky", encoded=True)
    assert [[encode(f) for f in tok] for tok in plain] == coded
    # pinned: saved models depend on the ids being the same in every process and version
    assert encode("lw=садыр") == b"+vSqn69t" and encode("b") == b"oSDQrVDx"
    assert all(len(f) == 8 and f.isascii() for tok in coded for f in tok)
    assert len({f for tok in coded for f in tok}) == len({f for tok in plain for f in tok})
