"""The in-loop CRF: learns from accepted spans, finds unseen names, scores, ranks, saves, loads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from annotations import Store, import_paths
from annotations.model import CRFModel, ModelError, labelled_documents
from annotations.model.crf import ModelState
from annotations.model.loop import CostModel, ModelLoop
from annotations.tokenize import tokenize

# -- a small handwritten corpus: Kyrgyz and Russian news sentences ---------------------------

KY_PEOPLE = [("Садыр", "Жапаров"), ("Акылбек", "Жапаров"), ("Эдил", "Байсалов"), ("Камчыбек", "Ташиев"),
             ("Курманбек", "Бакиев"), ("Жээнбек", "Кулубаев"), ("Улукбек", "Марипов"), ("Нурлан", "Мамытов")]
KY_PLACES = [("Бишкек", "Бишкекте"), ("Ош", "Ошто"), ("Москва", "Москвада"), ("Нарын", "Нарында"),
             ("Баткен", "Баткенде"), ("Талас", "Таласта")]
RU_PEOPLE = [("Владимир", "Путин"), ("Сергей", "Лавров"), ("Алексей", "Оверчук"), ("Михаил", "Мишустин"),
             ("Денис", "Мантуров"), ("Андрей", "Белоусов")]
RU_PLACES = [("Москва", "Москве", "Москву"), ("Бишкек", "Бишкеке", "Бишкек"), ("Казань", "Казани", "Казань"),
             ("Минск", "Минске", "Минск"), ("Ташкент", "Ташкенте", "Ташкент")]

Sentence = tuple[str, list[tuple[str, str]]]


def ky_sentences(first: str, last: str, place: tuple[str, str]) -> list[Sentence]:
    gen = last + ("дин" if last.endswith("ев") else "дун")
    return [
        (f"Президент {first} {last} {place[1]} журналисттер менен жолукту.",
         [(f"{first} {last}", "PER"), (place[1], "LOC")]),
        (f"{first} {last} жаңы мыйзамга кол койду.", [(f"{first} {last}", "PER")]),
        (f"Министр {first} {last} {place[0]} шаарына барды.", [(f"{first} {last}", "PER"), (place[0], "LOC")]),
        (f"Бүгүн {first} {gen} төрагалыгы менен жыйын өттү.", [(f"{first} {gen}", "PER")]),
        ("Бул тууралуу өкмөттүн маалымат кызматы билдирди.", []),
    ]


def ru_gen(word: str) -> str:
    return word[:-1] + "я" if word.endswith("й") else word + "а"


def ru_sentences(first: str, last: str, place: tuple[str, str, str]) -> list[Sentence]:
    return [
        (f"Президент {first} {last} провел встречу в {place[1]}.", [(f"{first} {last}", "PER"), (place[1], "LOC")]),
        (f"{first} {last} подписал новый закон.", [(f"{first} {last}", "PER")]),
        (f"Министр {first} {last} прибыл в {place[2]}.", [(f"{first} {last}", "PER"), (place[2], "LOC")]),
        (f"По словам {ru_gen(first)} {ru_gen(last)}, переговоры прошли успешно.",
         [(f"{ru_gen(first)} {ru_gen(last)}", "PER")]),
        ("Об этом сообщила пресс-служба правительства.", []),
    ]


def record(sentences: list[Sentence], lang: str) -> dict[str, Any]:
    """One JSONL record: the sentences as one text, each entity found by its text."""
    text, spans = "", []
    for sent, ents in sentences:
        text += " " if text else ""
        base, pos = len(text), 0
        text += sent
        for ent, label in ents:
            i = sent.index(ent, pos)
            spans.append({"start": base + i, "end": base + i + len(ent), "label": label})
            pos = i + len(ent)
    return {"text": text, "meta": {"lang": lang}, "spans": spans, "answer": "accept"}


def training_records() -> list[dict[str, Any]]:
    """Twelve labelled documents (six Kyrgyz, six Russian), marked done."""
    out = []
    for k in range(6):
        f, l = KY_PEOPLE[k]
        f2, l2 = KY_PEOPLE[(k + 3) % len(KY_PEOPLE)]
        out.append(record(ky_sentences(f, l, KY_PLACES[k])[:3] + ky_sentences(f2, l2, KY_PLACES[(k + 2) % 6])[3:], "ky"))
        f, l = RU_PEOPLE[k]
        f2, l2 = RU_PEOPLE[(k + 2) % len(RU_PEOPLE)]
        out.append(record(ru_sentences(f, l, RU_PLACES[k % 5])[:3] + ru_sentences(f2, l2, RU_PLACES[(k + 1) % 5])[3:], "ru"))
    return out


@pytest.fixture
def labelled_store(store: Store, write_jsonl: Callable[..., Path]) -> Store:
    report = import_paths(store, [write_jsonl(training_records())])
    assert report.ok and report.added == 12 and report.spans > 60, report.to_dict()
    return store


@pytest.fixture
def model(labelled_store: Store) -> CRFModel:
    trained, _ = CRFModel.train(labelled_store, eval_split=0)
    return trained


def predict(model: CRFModel, text: str, lang: str) -> list[tuple[str, str, float]]:
    return [(text[s:e], label, score) for s, e, label, score in model.predict(text, tokenize(text, lang), lang)]


# -- learning ----------------------------------------------------------------------------------


def test_finds_a_kyrgyz_person_it_never_saw(model: CRFModel) -> None:
    found = predict(model, "Президент Алмазбек Атамбаев Бишкекте журналисттер менен жолукту.", "ky")
    assert ("Алмазбек Атамбаев", "PER") in [(t, lab) for t, lab, _ in found]
    assert all(t != "Президент" for t, _, _ in found)  # the title is not part of the name


def test_finds_an_unseen_name_in_an_inflected_form(model: CRFModel) -> None:
    found = predict(model, "Бүгүн Роза Отунбаеванын төрагалыгы менен жыйын өттү.", "ky")
    assert [(t, lab) for t, lab, _ in found] == [("Роза Отунбаеванын", "PER")]


def test_finds_a_russian_person_it_never_saw(model: CRFModel) -> None:
    found = predict(model, "Президент Дмитрий Медведев подписал новый закон.", "ru")
    assert [(t, lab) for t, lab, _ in found] == [("Дмитрий Медведев", "PER")]


def test_scores_are_marginal_probabilities_in_0_1(model: CRFModel) -> None:
    text = "Министр Алмазбек Атамбаев Ош шаарына барды. Тараптар Бишкекте жолугушту."
    preds = model.predict(text, tokenize(text, "ky"), "ky")
    assert preds
    for p in preds:
        assert 0.0 < p.score <= 1.0
        assert text[p.start:p.end] == text[p.start:p.end].strip()
    # a sentence it was trained on is tagged with more confidence than an odd one
    sure = max(p.score for p in model.predict(*_doc("Садыр Жапаров жаңы мыйзамга кол койду.", "ky")))
    odd = [p.score for p in model.predict(*_doc("Тамчы Бостери Кара-Ой жаңы мыйзамга кол койду.", "ky"))]
    assert odd and sure > max(odd)


def _doc(text: str, lang: str) -> tuple[str, Any, str]:
    return text, tokenize(text, lang), lang


def test_predictions_are_whole_tokens_and_can_be_stored_as_suggestions(labelled_store: Store, model: CRFModel) -> None:
    text = "Министр Алмазбек Атамбаев Москвада журналисттер менен жолукту."
    report = import_paths(labelled_store, [_write(labelled_store, text)])
    doc = labelled_store.document(report.doc_ids[0])
    preds = model.predict_document(doc)
    starts, ends = set(doc.tokens.starts), set(doc.tokens.ends)
    assert preds and all(p.start in starts and p.end in ends for p in preds)
    assert labelled_store.add_suggestions(doc.id, preds, origin="crf") == len(preds)
    stored = labelled_store.document(doc.id).pending
    assert {(s.start, s.end, s.label) for s in stored} == {(p.start, p.end, p.label) for p in preds}
    assert all(s.score is not None and 0 < s.score <= 1 for s in stored)


def _write(store: Store, text: str) -> Path:
    path = store.path.parent / f"new{abs(hash(text))}.txt"
    path.write_text(text, encoding="utf-8")
    return path


# -- uncertainty ---------------------------------------------------------------------------------


def test_uncertainty_ordering_puts_the_least_confident_document_first(labelled_store: Store, model: CRFModel) -> None:
    texts = [
        "Садыр Жапаров жаңы мыйзамга кол койду. Бул тууралуу өкмөттүн маалымат кызматы билдирди.",
        "Тамчы Бостери Кара-Ой Чолпон-Ата ЕАЭБ Жети-Өгүз Барскоон.",
        "Президент Владимир Путин провел встречу в Москве.",
    ]
    ids = [import_paths(labelled_store, [_write(labelled_store, t)]).doc_ids[0] for t in texts]
    ranked = model.rank(labelled_store, ids)
    assert ranked[0][0] == ids[1]
    values = [u.uncertainty for _, u in ranked]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= 1.0 for v in values)
    by_count = model.rank(labelled_store, ids, by="entities")
    counts = [u.entities for _, u in by_count]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 2
    with pytest.raises(ValueError):
        model.rank(labelled_store, ids, by="colour")


def test_document_uncertainty_matches_analyse(model: CRFModel) -> None:
    text, tokens, lang = _doc("Президент Дмитрий Медведев подписал новый закон.", "ru")
    preds, unc = model.analyse(text, tokens, lang)
    assert model.document_uncertainty(text, tokens, lang) == unc
    assert unc.entities == len(preds) == 1
    assert unc.tokens == 7 and 0 <= unc.least_confident <= 1


# -- state, saving and loading ---------------------------------------------------------------------


def test_train_reports_held_out_scores_and_state(labelled_store: Store) -> None:
    model, report = CRFModel.train(labelled_store, eval_split=0.25, seed=1)
    assert report.train_documents + report.held_out_documents == 12 and report.held_out_documents == 3
    assert report.held_out is not None and set(report.held_out.labels) <= {"PER", "LOC"}
    assert 0.5 < report.held_out.f1 <= 1.0
    state = model.state
    assert state.documents == 12  # refit on everything after scoring the held-out part
    assert state.held_out is not None and state.held_out_documents == 3
    assert state.f1 == pytest.approx(report.held_out.f1, abs=1e-4)
    assert state.labels == ("LOC", "PER") and state.trained_at.endswith("+00:00")
    assert "12 docs" in state.summary() and f"F1 {state.f1:.2f}" in state.summary()
    assert {"features", "append", "featgen", "iterations"} <= set(state.timings)
    assert ModelState.from_dict(state.to_dict()) == state


def test_save_and_load_round_trip(tmp_path: Path, model: CRFModel) -> None:
    text, tokens, lang = _doc("Президент Алмазбек Атамбаев Бишкекте журналисттер менен жолукту.", "ky")
    before = model.predict(text, tokens, lang)
    folder = model.save(tmp_path / "crf")
    assert sorted(p.name for p in folder.iterdir()) == ["model.crfsuite", "model.json"]
    loaded = CRFModel.load(folder)
    assert loaded.predict(text, tokens, lang) == before
    assert loaded.state == model.state
    again = CRFModel.from_bytes(model.to_bytes())
    assert again.predict(text, tokens, lang) == before and again.state == model.state


def test_load_refuses_what_is_not_a_model(tmp_path: Path, model: CRFModel) -> None:
    with pytest.raises(ModelError, match="missing model.crfsuite"):
        CRFModel.load(tmp_path)
    with pytest.raises(ModelError, match="not a saved CRF model"):
        CRFModel.from_bytes(b"hello")
    folder = model.save(tmp_path / "crf")
    (folder / "model.crfsuite").write_bytes(b"garbage, not crfsuite")
    with pytest.raises(ModelError, match="not a CRF model"):
        CRFModel.load(folder)


def test_nothing_labelled_is_a_clear_error(store: Store, add_doc: Callable[..., int]) -> None:
    add_doc("Садыр Жапаров Бишкекте.")
    with pytest.raises(ModelError, match="no labelled documents to train on"):
        CRFModel.train(store)


def test_a_lexicon_is_used_and_saved(tmp_path: Path, labelled_store: Store) -> None:
    lexicon = {"жапаров": "PER", "бишкек": "LOC"}
    model, _ = CRFModel.train(labelled_store, lexicon=lexicon, eval_split=0)
    assert model.state.lexicon
    loaded = CRFModel.load(model.save(tmp_path / "m"))
    assert loaded.lexicon == lexicon
    found = predict(loaded, "Президент Алмазбек Атамбаев Бишкекте журналисттер менен жолукту.", "ky")
    assert ("Алмазбек Атамбаев", "PER") in [(t, lab) for t, lab, _ in found]


def test_one_model_serves_two_threads(model: CRFModel) -> None:
    text, tokens, lang = _doc("Президент Дмитрий Медведев подписал новый закон.", "ru")
    expected = model.predict(text, tokens, lang)
    results: list[Any] = []

    def work() -> None:
        results.append([model.predict(text, tokens, lang) for _ in range(20)])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(run == expected for batch in results for run in batch)


# -- the loop ------------------------------------------------------------------------------------


def test_loop_retrains_with_cache_and_progressive_scores(labelled_store: Store) -> None:
    docs = labelled_documents(labelled_store)
    last = docs[-1].doc_id
    labelled_store.set_status(last, "skipped")  # the newest document is not labelled yet
    loop = ModelLoop()
    first, report = loop.retrain(labelled_store)
    assert first.state.documents == 11 and first.state.held_out is None and report.held_out is None
    labelled_store.set_status(last, "done")
    second, report = loop.retrain(labelled_store)
    assert second.state.documents == 12
    assert report.held_out is not None and report.held_out.documents == 1  # scored before learning from it
    assert second.state.held_out_documents == 1 and second.state.f1 is not None
    assert loop.cache.hits >= 11
    assert loop.model is second


def test_cost_model_samples_when_the_budget_is_short() -> None:
    cost = CostModel(fixed=20e-6, per_iteration=1e-6, margin=0.07)
    assert cost.plan(10_000, 1.0) == (40, None)  # small data: all of it, most iterations
    iterations, cap = cost.plan(25_000, 1.0)
    assert 15 <= iterations < 40 and cap is None
    iterations, cap = cost.plan(500_000, 1.0)
    assert iterations == 15 and cap == int(0.9 / 35e-6)
    iterations, cap = cost.plan(500_000, 0.0)  # budget already spent: still a small model
    assert iterations == 15 and cap is not None and 1000 <= cap < 2000


def test_fit_with_a_token_cap_trains_on_a_stable_sample(labelled_store: Store) -> None:
    docs = labelled_documents(labelled_store)
    a = CRFModel.fit(docs, max_tokens=300)
    b = CRFModel.fit(docs, max_tokens=300)
    assert a.state.total_tokens > 300 and 100 < a.state.tokens < a.state.total_tokens
    assert a.state.tokens == b.state.tokens and a.state.sentences == b.state.sentences
