"""Propagation: Kyrgyz and Russian word forms found, derived words and common nouns not.

Each case learns from one labelled span and looks at what the lexicon suggests in a small
text, so a failure names the word form that was missed or wrongly taken.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from annotations import Store
from annotations.recognisers import TextDoc
from annotations.recognisers import inflection_ky as ky
from annotations.recognisers.propagation import Lexicon, LexiconState, Propagation
from annotations.tokenize import tokenize


def lexicon(*spans: tuple[str, str, str]) -> Lexicon:
    """A lexicon taught ``(text, label, lang)`` spans."""
    lex = Lexicon()
    for i, (text, label, lang) in enumerate(spans):
        lex.learn(i, text, label, lang)
    return lex


def found(lex: Lexicon, text: str, lang: str, *, cached: bool = True) -> list[tuple[str, str]]:
    """``(surface, label)`` of each suggestion in ``text``."""
    doc = TextDoc(text, lang, None, tokenize(text, lang) if cached else None)
    return [(text[s.start:s.end], s.label) for s in lex.suggest(doc)]


# -- Kyrgyz ----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", [
    "Москвага", "Москванын", "Москвада", "Москвадан", "Москваны", "Москвадагы",
])
def test_kyrgyz_case_forms_of_a_city(form: str) -> None:
    lex = lexicon(("Москва", "LOC", "ky"))
    assert found(lex, f"Делегация {form} барды.", "ky") == [(form, "LOC")]


@pytest.mark.parametrize("form", ["Кыргызстандын", "Кыргызстандагы", "Кыргызстанга", "Кыргызстанды"])
def test_kyrgyz_consonant_stem_with_assimilation(form: str) -> None:
    lex = lexicon(("Кыргызстан", "LOC", "ky"))
    assert found(lex, f"Бул {form} жаңылык.", "ky") == [(form, "LOC")]


def test_kyrgyz_only_the_last_word_of_a_name_inflects() -> None:
    lex = lexicon(("Садыр Жапаров", "PER", "ky"))
    text = "Садыр Жапаровдун сапары. Садыр Жапаровго кат. Садырдын Жапаров."
    assert found(lex, text, "ky") == [
        ("Садыр Жапаровдун", "PER"), ("Садыр Жапаровго", "PER"), ("Жапаров", "PER"),
    ]


def test_kyrgyz_vowel_harmony_is_respected() -> None:
    """"Жапаров" (back rounded о) takes -дун/-го; front-vowel endings are not its forms."""
    lex = lexicon(("Жапаров", "PER", "ky"))
    assert found(lex, "Жапаровдун, Жапаровдин, Жапаровге.", "ky") == [("Жапаровдун", "PER")]


def test_learning_from_an_inflected_label_finds_the_bare_name() -> None:
    lex = lexicon(("Михаил Мишустинди", "PER", "ky"))
    text = "Михаил Мишустин келди. Михаил Мишустиндин сөзү."
    assert found(lex, text, "ky") == [("Михаил Мишустин", "PER"), ("Михаил Мишустиндин", "PER")]


def test_kyrgyz_possessive_declension_of_a_state_name() -> None:
    lex = lexicon(("Кыргыз Республикасынын", "LOC", "ky"))
    text = "Кыргыз Республикасы менен Кыргыз Республикасына жана Кыргыз Республикасында."
    assert [f for f, _ in found(lex, text, "ky")] == [
        "Кыргыз Республикасы", "Кыргыз Республикасына", "Кыргыз Республикасында",
    ]


def test_kyrgyz_abbreviations_take_endings() -> None:
    lex = lexicon(("ШКУ", "ORG", "ky"), ("РФ", "LOC", "ky"))
    assert found(lex, "ШКУнун алкагында РФтин өкмөтү.", "ky") == [("ШКУнун", "ORG"), ("РФтин", "LOC")]


def test_kyrgyz_soft_sign_dropped_before_an_ending() -> None:
    lex = lexicon(("Кремль", "ORG", "ky"))
    assert found(lex, "Кремлден билдиришти.", "ky") == [("Кремлден", "ORG")]


@pytest.mark.parametrize("word", [
    "Кыргызстандык", "кыргызстандыктар", "Кыргызстанча", "россиялык", "Россиялык", "Россиян",
])
def test_kyrgyz_derived_words_are_not_the_entity(word: str) -> None:
    lex = lexicon(("Кыргызстан", "LOC", "ky"), ("Россия", "LOC", "ky"))
    assert found(lex, f"Бул {word} ишкерлер.", "ky") == []


def test_case_matters_for_names() -> None:
    lex = lexicon(("Россия", "LOC", "ky"), ("Ата Мекен", "ORG", "ky"))
    assert found(lex, "кыргыз-россия мамилелери, ата мекен үчүн.", "ky") == []


def test_all_capitals_dateline_matches_the_name() -> None:
    lex = lexicon(("Бишкек", "LOC", "ru"), ("Бишкек", "LOC", "ky"))
    assert found(lex, "БИШКЕК, 20 ноября.", "ru") == [("БИШКЕК", "LOC")]
    assert found(lex, "БИШКЕКТЕ жыйын өттү.", "ky") == [("БИШКЕКТЕ", "LOC")]


def test_a_name_is_not_found_inside_a_longer_token() -> None:
    """"А.Жапаров" is one spaCy token: a suggestion must cover whole tokens."""
    lex = lexicon(("Жапаров", "PER", "ky"))
    for cached in (True, False):
        assert found(lex, "А.Жапаров жана Жапаров.", "ky", cached=cached) == [("Жапаров", "PER")]


def test_spans_never_cross_a_line_break() -> None:
    lex = lexicon(("Садыр Жапаров", "PER", "ky"))
    assert found(lex, "Садыр\nЖапаров", "ky") == [("Жапаров", "PER")]  # the surname alone


def test_surname_alone_is_learned_from_a_full_name_at_a_lower_score() -> None:
    lex = lexicon(("Садыр Жапаров", "PER", "ky"))
    doc = TextDoc("Жапаровдун сапары.", "ky")
    (sug,) = lex.suggest(doc)
    assert (sug.label, sug.score) == ("PER", pytest.approx(0.72))


def test_our_kyrgyz_table_agrees_with_the_kyrgyz_package() -> None:
    """Every plain case form the ``kyrgyz`` package generates is recognised as the name."""
    kyrgyz = pytest.importorskip("kyrgyz")
    from kyrgyz.cases import Case

    names = ["Москва", "Бишкек", "Кыргызстан", "Жапаров", "Мишустин", "Ош", "Талас", "Өзгөн",
             "Түркия", "Чүй", "Токтогул", "Кремль", "Баткен", "Нарын"]
    missed = []
    for name in names:
        for case in Case:
            form = kyrgyz.inflect(name, case=case)
            if name not in ky.stems(form):
                missed.append((name, case.name, form))
    assert missed == []


# -- Russian ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["Путина", "Путину", "Путиным", "Путине"])
def test_russian_surname_forms(form: str) -> None:
    lex = lexicon(("Путин", "PER", "ru"))
    assert found(lex, f"Встреча с {form} прошла.", "ru") == [(form, "PER")]


def test_russian_every_word_inflects() -> None:
    lex = lexicon(("Владимир Путин", "PER", "ru"), ("Евразийский экономический союз", "ORG", "ru"))
    text = "Визит Владимира Путина. Страны Евразийского экономического союза."
    assert found(lex, text, "ru") == [
        ("Владимира Путина", "PER"), ("Евразийского экономического союза", "ORG"),
    ]


def test_russian_stem_alternations_come_from_the_dictionary() -> None:
    lex = lexicon(("Египет", "LOC", "ru"), ("Кремль", "ORG", "ru"))
    assert found(lex, "Из Египта в Кремль и из Кремля.", "ru") == [
        ("Египта", "LOC"), ("Кремль", "ORG"), ("Кремля", "ORG"),
    ]


@pytest.mark.parametrize("word", [
    "Российский", "российско-киргизские", "Кыргызстанский", "Московский", "Путинская", "россиян",
])
def test_russian_derived_words_are_not_the_entity(word: str) -> None:
    lex = lexicon(("Россия", "LOC", "ru"), ("Кыргызстан", "LOC", "ru"), ("Москва", "LOC", "ru"),
                  ("Путин", "PER", "ru"))
    assert found(lex, f"Это {word} проект.", "ru") == []


def test_russian_lower_case_common_noun_is_not_the_name() -> None:
    lex = lexicon(("Путин", "PER", "ru"))
    assert found(lex, "Началась путина на Иссык-Куле.", "ru") == []


# -- across languages ------------------------------------------------------------------------


def test_a_name_learned_in_kyrgyz_is_found_in_russian_and_back() -> None:
    lex = lexicon(("Садыр Жапаровдун", "PER", "ky"), ("Владимира Путина", "PER", "ru"))
    assert found(lex, "Встреча Садыра Жапарова и Владимира Путина.", "ru") == [
        ("Садыра Жапарова", "PER"), ("Владимира Путина", "PER"),
    ]
    assert found(lex, "Владимир Путиндин саламы, Садыр Жапаров.", "ky") == [
        ("Владимир Путиндин", "PER"), ("Садыр Жапаров", "PER"),
    ]


def test_majority_label_wins_with_its_share_as_score() -> None:
    lex = lexicon(("Кремль", "ORG", "ru"), ("Кремль", "ORG", "ru"), ("Кремль", "LOC", "ru"))
    (sug,) = lex.suggest(TextDoc("В Кремле.", "ru"))
    assert sug.label == "ORG" and sug.score == pytest.approx(2 / 3 * 0.9, abs=1e-3)


def test_longest_match_wins() -> None:
    lex = lexicon(("Россия", "LOC", "ky"), ("Россия Федерациясы", "LOC", "ky"))
    assert found(lex, "Россия Федерациясынын өкмөтү.", "ky") == [("Россия Федерациясынын", "LOC")]


def test_forgetting_a_span_takes_its_entry_back() -> None:
    lex = lexicon(("Москва", "LOC", "ky"))
    lex.forget(0)
    assert len(lex) == 0 and found(lex, "Москвага барды.", "ky") == []


def test_cached_and_uncached_token_paths_agree() -> None:
    lex = lexicon(("Москва", "LOC", "ru"), ("Нью-Йорк", "LOC", "ru"), ("ИА Реалист", "ORG", "ru"))
    text = "МОСКВА (ИА Реалист). Из Нью-Йорка, «Москвы» и (Москва)."
    assert found(lex, text, "ru", cached=True) == found(lex, text, "ru", cached=False)
    assert [f for f, _ in found(lex, text, "ru")] == ["МОСКВА", "ИА Реалист", "Нью-Йорка", "Москвы", "Москва"]


# -- following the store ---------------------------------------------------------------------


def test_lexicon_state_follows_adds_deletes_relabels_and_undo(seeded_store: Store) -> None:
    store = seeded_store
    state = LexiconState(store.annotator)
    state.sync(store)
    assert len(state.lexicon) == 0
    text = store.text(1)
    i = text.index("Михаил Мишустинди")
    span = store.add_span(1, i, i + len("Михаил Мишустинди"), "PER").spans[0]
    state.sync(store)
    assert {e.labels["PER"] for e in state.lexicon.entries.values()} == {1}
    store.relabel_span(span.id, "ORG")
    state.sync(store)
    assert all(set(e.labels) == {"ORG"} for e in state.lexicon.entries.values())
    store.undo()
    state.sync(store)
    assert all(set(e.labels) == {"PER"} for e in state.lexicon.entries.values())
    store.delete_span(span.id)
    state.sync(store)
    assert len(state.lexicon) == 0


def test_lexicon_is_per_annotator(seeded_store: Store) -> None:
    other = seeded_store.reopen("bob")
    text = other.text(1)
    i = text.index("Кыргызстан")
    other.add_span(1, i, i + len("Кыргызстан"), "LOC")
    rec = Propagation()
    rec.prepare(seeded_store)
    assert len(rec.lexicon) == 0
    rec.prepare(other)
    assert len(rec.lexicon) == 1
    other.close()


def test_lexicon_state_follows_label_renames_removals_and_imports(
    seeded_store: Store, write_jsonl: Callable[..., Path],
) -> None:
    from annotations import import_paths

    store = seeded_store
    state = LexiconState(store.annotator)
    text = store.text(1)
    i = text.index("Москвага")
    store.add_span(1, i, i + len("Москвага"), "LOC")
    state.sync(store)
    store.edit_label("LOC", new_name="PLACE")
    state.sync(store)
    assert [dict(e.labels) for e in state.lexicon.entries.values()] == [{"PLACE": 1}]
    path = write_jsonl([{"text": "Ош шаары", "spans": [{"start": 0, "end": 2, "label": "PLACE"}]}])
    assert import_paths(store, [path]).ok
    state.sync(store)
    assert sorted(e.key[1] for e in state.lexicon.entries.values()) == ["Москва", "Ош"]
    store.remove_label("PLACE", force=True)
    state.sync(store)
    assert len(state.lexicon) == 0


# -- a surname never cuts another person's name in two (issue 17 item 9) --------------------


def test_surname_is_not_suggested_inside_another_persons_name() -> None:
    # "Жапаров" learned from "Садыр Жапаров" is not cut out of "Акылбек Жапаров": the whole
    # name is suggested instead, at a lower score.
    lex = lexicon(("Садыр Жапаров", "PER", "ky"))
    text = "Министрлер Кабинетинин Төрагасы Акылбек Жапаров келди. Кийин Жапаров сүйлөдү."
    sugs = lex.suggest(TextDoc(text, "ky", None, tokenize(text, "ky")))
    assert [(text[s.start:s.end], s.label) for s in sugs] == [
        ("Акылбек Жапаров", "PER"), ("Жапаров", "PER"),
    ]
    assert sugs[0].score is not None and sugs[1].score is not None and sugs[0].score < sugs[1].score
    assert sugs[1].start == text.index("Жапаров сүйлөдү")


def test_surname_after_a_sentence_initial_common_word_is_kept() -> None:
    # "Президент" opens the sentence and "президенти" occurs in lower case: not a given name.
    lex = lexicon(("Садыр Жапаров", "PER", "ky"))
    text = "Өлкөнүн президенти келди. Президент Жапаров сүйлөдү."
    assert found(lex, text, "ky") == [("Жапаров", "PER")]


def test_surname_next_to_another_known_name_or_a_surname_is_kept() -> None:
    lex = lexicon(("Садыр Жапаров", "PER", "ky"), ("Москва", "LOC", "ky"))
    text = "Москвада Жапаров сүйлөдү. Касымалиев Жапаровго кат жазды. Матвиенко Жапаровдун сапарын айтты."
    assert found(lex, text, "ky") == [
        ("Москвада", "LOC"), ("Жапаров", "PER"), ("Жапаровго", "PER"), ("Жапаровдун", "PER"),
    ]


def test_russian_given_name_before_a_known_surname_is_another_person() -> None:
    lex = lexicon(("Владимир Путин", "PER", "ru"))
    text = "Вчера Людмила Путина выступила. Президент России Путин заявил."
    assert found(lex, text, "ru") == [("Людмила Путина", "PER"), ("Путин", "PER")]


def test_english_titles_do_not_count_as_given_names() -> None:
    from annotations.recognisers.propagation import cuts_a_name

    text = "Kyrgyzstan's President Japarov met Putin."
    assert not cuts_a_name(text, text.index("Japarov"), text.index("Japarov") + 7, "xx")


def test_a_match_inside_a_quoted_name_is_not_suggested() -> None:
    lex = lexicon(("Кыргызстан", "LOC", "ky"))
    text = "«Газпром Кыргызстан» ишканасы Кыргызстанда иштейт. «Кыргызстан» гезити чыкты."
    assert found(lex, text, "ky") == [("Кыргызстанда", "LOC"), ("Кыргызстан", "LOC")]


def test_kyrgyz_connecting_vowel_after_a_russian_sk_cluster() -> None:
    assert ("Новосибирск", "иге") in ky.analyses("Новосибирскиге")
    lex = lexicon(("Минск", "LOC", "ky"))
    assert found(lex, "Делегация Минскиге барды, Минскиде жолугушту.", "ky") == [
        ("Минскиге", "LOC"), ("Минскиде", "LOC"),
    ]
