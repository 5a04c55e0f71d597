"""Retraining in a child process: the model comes back, errors come back as ModelError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from annotations import Store
from annotations.model import ModelError
from annotations.model.process import TrainingProcess
from annotations.tokenize import tokenize

TEXTS = [
    ("Президент Садыр Жапаров Бишкекте жолукту.", [("Садыр Жапаров", "PER"), ("Бишкекте", "LOC")]),
    ("Министр Эдил Байсалов Ошто сүйлөдү.", [("Эдил Байсалов", "PER"), ("Ошто", "LOC")]),
    ("Президент Владимир Путин выступил в Москве.", [("Владимир Путин", "PER"), ("Москве", "LOC")]),
    ("Министр Сергей Лавров прибыл в Минск.", [("Сергей Лавров", "PER"), ("Минск", "LOC")]),
]


def _label(store: Store, add_doc: Callable[..., int], text: str, ents: list[tuple[str, str]]) -> int:
    doc = add_doc(text)
    for ent, label in ents:
        i = text.index(ent)
        store.add_span(doc, i, i + len(ent), label)
    store.set_status(doc, "done")
    store.tokens(doc)  # cached, as the app does on opening a document (the child needs no spaCy)
    return doc


def test_retrain_in_a_child_process(store: Store, add_doc: Callable[..., int], db_path: Path) -> None:
    for text, ents in TEXTS[:3]:
        _label(store, add_doc, text, ents)
    stages: list[str] = []
    with TrainingProcess(db_path, "alice") as trainer:
        assert trainer.alive
        model, report = trainer.retrain({"жапаров"}, progress=lambda stage, done, total: stages.append(stage))
        assert model.state.documents == 3 and model.state.annotator == "alice"
        assert model.lexicon == {"жапаров"} and report.held_out is None
        assert "training" in stages
        text = "Министр Алмазбек Атамбаев Бишкекте жолукту."
        assert model.predict(text, tokenize(text, "ky"), "ky")
        _label(store, add_doc, *TEXTS[3])
        model, report = trainer.retrain()
        assert model.state.documents == 4
        assert report.held_out is not None and report.held_out.documents == 1  # the newly labelled one
        calm = add_doc("Президент Садыр Жапаров Бишкекте жолукту. Бул жакшы.")
        odd = add_doc("Тамчы Бостери Кара-Ой Чолпон-Ата Барскоон.")
        ranked = trainer.rank([calm, odd])
        assert [doc_id for doc_id, _ in ranked] == [odd, calm]
        assert ranked == model.rank(store, [calm, odd])  # the same as ranking here
    assert not trainer.alive


def test_errors_come_back_as_model_errors(store: Store, db_path: Path) -> None:
    with TrainingProcess(db_path, "alice") as trainer:
        with pytest.raises(ModelError, match="no labelled documents to train on by alice"):
            trainer.retrain()
        with pytest.raises(ModelError, match="cannot be sent"):
            trainer.retrain(lambda word: False)  # a lambda does not pickle
        with pytest.raises(ModelError, match="no model yet"):
            trainer.rank([1])
        assert trainer.alive  # the child survives a failed request
