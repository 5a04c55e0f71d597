"""Pattern files: phrase and token patterns through spaCy's EntityRuler, kept in the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from annotations import Store
from annotations.recognisers import TextDoc, run_recognisers
from annotations.recognisers.patterns import (
    Pattern,
    PatternError,
    PatternRecogniser,
    clear_patterns,
    parse_pattern,
    read_patterns,
    save_patterns,
    stored_patterns,
)

KY_PATTERNS = [
    {"label": "ORG", "pattern": "ЕАЭБ"},
    {"label": "LOC", "pattern": [{"TEXT": {"REGEX": "^Москва(га|да|дан|нын|ны)?$"}}], "id": "moscow"},
    {"label": "ORG", "pattern": [{"TEXT": "Министрлер"}, {"TEXT": {"REGEX": "^Кабинет"}}]},
]


def suggest(rec: PatternRecogniser, text: str, lang: str) -> list[tuple[str, str]]:
    return [(text[s.start:s.end], s.label) for s in rec.suggest(TextDoc(text, lang))]


def test_phrase_and_token_patterns(store: Store) -> None:
    rec = PatternRecogniser([parse_pattern(p) for p in KY_PATTERNS], use_stored=False)
    rec.prepare(store)
    text = "ЕАЭБдин эмес, ЕАЭБ. Москвага, Москвада жана Министрлер Кабинетинин жыйыны. Москвачы."
    assert suggest(rec, text, "ky") == [
        ("ЕАЭБ", "ORG"), ("Москвага", "LOC"), ("Москвада", "LOC"), ("Министрлер Кабинетинин", "ORG"),
    ]


def test_russian_phrase_pattern_is_tokenised_like_the_document(store: Store) -> None:
    rec = PatternRecogniser([Pattern("LOC", "Нью-Йорк")], use_stored=False)
    rec.prepare(store)
    assert suggest(rec, "Рейс в Нью-Йорк.", "ru") == [("Нью-Йорк", "LOC")]


def test_read_patterns_reports_file_and_line(write_jsonl: Callable[..., Path]) -> None:
    good = write_jsonl(KY_PATTERNS, "good.jsonl")
    assert [p.label for p in read_patterns(good)] == ["ORG", "LOC", "ORG"]
    cases = [
        ("not json", "2: not valid JSON"),
        (json.dumps({"pattern": "x"}), "2: pattern needs a \"label\""),
        (json.dumps({"label": "ORG", "pattern": ""}), "2: phrase pattern is empty"),
        (json.dumps({"label": "ORG", "pattern": [{"NOPE": 1}]}), "2: invalid token pattern"),
        (json.dumps({"label": "ORG", "pattern": 3}), "2: \"pattern\" must be a string"),
        (json.dumps({"label": "ORG", "pattern": [{"TEXT": {"REGEX": "("}}]}), "2: invalid token pattern"),
    ]
    for bad, message in cases:
        path = write_jsonl([KY_PATTERNS[0], bad], "bad.jsonl")
        with pytest.raises(PatternError) as err:
            read_patterns(path)
        assert f"bad.jsonl:{message}" in str(err.value)


def test_patterns_kept_in_the_database_are_used_by_later_runs(seeded_store: Store) -> None:
    store = seeded_store
    pats = [parse_pattern(p) for p in KY_PATTERNS]
    assert save_patterns(store, pats, "orgs.jsonl") == 3
    assert save_patterns(store, pats[:1], "orgs.jsonl") == 1  # same file again replaces
    assert save_patterns(store, pats[1:2], "places.jsonl") == 1
    assert [p.label for p in stored_patterns(store)] == ["ORG", "LOC"]
    report = run_recognisers(store, [PatternRecogniser()])
    assert report.suggestions["patterns"] > 0
    origins = {s.origin for d in range(1, 6) for s in store.spans(d, states=("pending",))}
    assert origins == {"patterns"}
    assert clear_patterns(store, "places.jsonl") == 1 and clear_patterns(store) == 1
    assert stored_patterns(store) == []


def test_pattern_with_an_unknown_label_is_skipped_when_stored(seeded_store: Store) -> None:
    rec = PatternRecogniser([Pattern("EVENT", "ЕАЭБ")], use_stored=False)
    report = run_recognisers(seeded_store, [rec])
    assert report.suggestions["patterns"] == 0
