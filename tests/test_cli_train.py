"""``annotate train``: crf and spacy models from a database, reports, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from annotations import Store, import_paths
from annotations.model import CRFModel
from tui.cli import main

PEOPLE = [("Садыр", "Жапаров"), ("Эдил", "Байсалов"), ("Камчыбек", "Ташиев"), ("Акылбек", "Жапаров"),
          ("Улукбек", "Марипов"), ("Нурлан", "Мамытов")]
RU_PEOPLE = [("Владимир", "Путин"), ("Сергей", "Лавров"), ("Михаил", "Мишустин"), ("Денис", "Мантуров"),
             ("Андрей", "Белоусов"), ("Алексей", "Оверчук")]
PLACES = ["Бишкекте", "Ошто", "Москвада", "Нарында", "Баткенде", "Таласта"]


def _record(sentences: list[tuple[str, list[tuple[str, str]]]], lang: str) -> dict[str, Any]:
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


def records() -> list[dict[str, Any]]:
    """Twelve short labelled news documents, Kyrgyz and Russian."""
    out = []
    for k in range(6):
        f, l = PEOPLE[k]
        other = " ".join(PEOPLE[(k + 1) % 6])
        out.append(_record([
            (f"Президент {f} {l} {PLACES[k]} журналисттер менен жолукту.", [(f"{f} {l}", "PER"), (PLACES[k], "LOC")]),
            (f"{other} жаңы мыйзамга кол койду.", [(other, "PER")]),
            ("Бул тууралуу өкмөттүн маалымат кызматы билдирди.", []),
        ], "ky"))
        f, l = RU_PEOPLE[k]
        out.append(_record([
            (f"Президент {f} {l} провел встречу в Москве.", [(f"{f} {l}", "PER"), ("Москве", "LOC")]),
            (f"{f} {l} подписал новый закон.", [(f"{f} {l}", "PER")]),
            ("Об этом сообщила пресс-служба правительства.", []),
        ], "ru"))
    return out


@pytest.fixture
def train_db(store: Store, write_jsonl: Callable[..., Path], db_path: Path) -> Path:
    assert import_paths(store, [write_jsonl(records())]).ok
    return db_path


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_train_crf_reports_scores_curve_and_writes_the_model(train_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "crf"
    result = run("train", "--db", str(train_db), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "12 labelled document(s): 10 to train on, 2 held out" in text
    assert "Held-out precision / recall / F1" in text and "PER" in text and "overall" in text
    assert "Learning curve" in text and "█" in text
    assert "Model written to" in text
    model = CRFModel.load(out)
    assert model.state.documents == 12 and model.state.held_out_documents == 2
    sentence = "Президент Алмазбек Атамбаев Бишкекте журналисттер менен жолукту."
    from annotations.tokenize import tokenize

    found = [(sentence[p.start:p.end], p.label) for p in model.predict(sentence, tokenize(sentence, "ky"), "ky")]
    assert ("Алмазбек Атамбаев", "PER") in found


def test_train_json(train_db: Path) -> None:
    result = run("train", "--db", str(train_db), "--json", "--eval-split", "0.5", "--seed", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "crf" and data["documents"] == 12
    assert data["train_documents"] == 6 and data["held_out_documents"] == 6
    assert set(data["held_out"]["labels"]) == {"LOC", "PER"}
    assert 0 < data["held_out"]["overall"]["f1"] <= 1
    assert [p["documents"] for p in data["curve"]] == [1, 2, 3, 5, 6]
    assert data["output"] is None and data["state"]["kind"] == "crf"


def test_train_one_annotator_and_group_level_db(store: Store, db_path: Path, add_doc: Callable[..., int]) -> None:
    doc = add_doc("Президент Садыр Жапаров Бишкекте жолукту.")
    store.add_span(doc, 10, 23, "PER")
    result = run("--db", str(db_path), "train", "--annotator", "alice", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["documents"] == 1 and data["held_out"] is None and data["curve"] == []
    result = run("train", "--db", str(db_path), "--annotator", "bob")
    assert result.exit_code == 1
    assert "no labelled documents to train on by bob" in result.output


def test_train_errors_are_clean(tmp_path: Path, train_db: Path) -> None:
    empty = run("train", "--db", str(tmp_path / "empty.db"))
    assert empty.exit_code == 1 and "Error: no labelled documents to train on" in empty.output
    assert "Traceback" not in empty.output
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    bad = run("train", "--db", str(train_db), "-o", str(a_file))
    assert bad.exit_code == 2 and "is a file" in bad.output
    assert run("train", "--db", str(train_db), "--eval-split", "1").exit_code == 2
    assert "Example:" in run("train", "-h").output


def test_train_spacy_writes_a_pipeline_that_loads_and_tags(train_db: Path, tmp_path: Path) -> None:
    import spacy

    out = tmp_path / "spacy-model"
    result = run("train", "--db", str(train_db), "--model", "spacy", "-o", str(out), "--max-steps", "40")
    assert result.exit_code == 0, result.output
    assert "Held-out precision / recall / F1" in result.stdout and "Learning curve" not in result.stdout
    nlp = spacy.load(out)
    assert nlp.pipe_names == ["tok2vec", "ner"] and set(nlp.get_pipe("ner").labels) == {"LOC", "PER"}
    doc = nlp("Президент Садыр Жапаров Бишкекте журналисттер менен жолукту.")
    assert ("Садыр Жапаров", "PER") in [(e.text, e.label_) for e in doc.ents]
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert "annotate_held_out" in meta["performance"]
