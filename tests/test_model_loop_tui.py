"""The model in the app: ``d`` retrains in a child process while keys keep working, the model's
suggestions arrive with scores, its state shows, and the list follows the model's order."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tui_helpers import loaded, sync, until

from annotations import Store, import_paths
from annotations.model import TrainingProcess
from annotations.recognisers.crf import MIN_SCORE, model_dir, retrain_job, train_model
from tui.app import AnnotateApp
from tui.cli import main

SIZE = (110, 30)

LABELLED = [
    ("Президент Садыр Жапаров Бишкекте журналисттер менен жолукту. Садыр Жапаров мыйзамга кол койду.",
     [("Садыр Жапаров", "PER"), ("Бишкекте", "LOC"), ("Садыр Жапаров", "PER")]),
    ("Президент Эдил Байсалов Ошто журналисттер менен жолукту. Эдил Байсалов мыйзамга кол койду.",
     [("Эдил Байсалов", "PER"), ("Ошто", "LOC"), ("Эдил Байсалов", "PER")]),
    ("Президент Камчыбек Ташиев Нарында журналисттер менен жолукту. Камчыбек Ташиев мыйзамга кол койду.",
     [("Камчыбек Ташиев", "PER"), ("Нарында", "LOC"), ("Камчыбек Ташиев", "PER")]),
    ("Президент Улукбек Марипов Таласта журналисттер менен жолукту. Улукбек Марипов мыйзамга кол койду.",
     [("Улукбек Марипов", "PER"), ("Таласта", "LOC"), ("Улукбек Марипов", "PER")]),
    ("Президент Нурлан Мамытов Баткенде журналисттер менен жолукту. Нурлан Мамытов мыйзамга кол койду.",
     [("Нурлан Мамытов", "PER"), ("Баткенде", "LOC"), ("Нурлан Мамытов", "PER")]),
]
#: Todo documents: one like the labelled ones (the model is sure), one with a name it never saw,
#: one unlike anything it learned (the model is unsure).
CALM = "Президент Садыр Жапаров Бишкекте журналисттер менен жолукту. Бул тууралуу маалымат кызматы билдирди."
UNSEEN = "Президент Алмазбек Атамбаев Кочкордо журналисттер менен жолукту. Алмазбек Атамбаев мыйзамга кол койду."
ODD = "Тамчы Бостери Кара-Ой Чолпон-Ата ЕАЭБ Жети-Өгүз Барскоон."


@pytest.fixture
def corpus(store: Store, write_jsonl: Callable[..., Path]) -> dict[str, int]:
    """Five labelled documents (done) then three todo ones; returns the todo documents' ids."""
    records = []
    for text, ents in LABELLED:
        spans, pos = [], 0
        for ent, label in ents:
            i = text.index(ent, pos)
            spans.append({"start": i, "end": i + len(ent), "label": label})
            pos = i + len(ent)
        records.append({"text": text, "meta": {"lang": "ky"}, "spans": spans})
    records += [{"text": t, "meta": {"lang": "ky"}} for t in (CALM, UNSEEN, ODD)]
    report = import_paths(store, [write_jsonl(records)])
    assert report.ok and report.added == 8, report.to_dict()
    for doc_id in report.doc_ids[:5]:
        store.set_status(doc_id, "done")
    for doc_id in report.doc_ids:
        store.tokens(doc_id)  # cached, as opening them would: the child then needs no spaCy
    calm, unseen, odd = report.doc_ids[5:]
    return {"calm": calm, "unseen": unseen, "odd": odd}


class GatedTrainer(TrainingProcess):
    """A real training child whose retrain waits for the test's go-ahead (so the test knows
    a retrain is under way while it presses keys)."""

    gate = threading.Event()
    entered = threading.Event()

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is retrain_job:
            GatedTrainer.entered.set()
            assert GatedTrainer.gate.wait(30), "the test never let the retrain go on"
        return super().call(fn, *args, **kwargs)


def row_order(app: AnnotateApp) -> list[int]:
    table = app.doclist.table
    return [int(table.coordinate_to_cell_key((i, 0)).row_key.value or 0) for i in range(table.row_count)]


@sync
async def test_d_retrains_in_a_child_while_keys_take_effect_then_scored_suggestions_arrive(
    store: Store, corpus: dict[str, int], db_path: Path
) -> None:
    GatedTrainer.gate.clear()
    GatedTrainer.entered.clear()
    app = AnnotateApp(store, suggest=True)
    assert app.model_loop is not None
    app.model_loop.trainer_factory = lambda path, annotator: GatedTrainer(path, annotator)
    async with app.run_test(size=SIZE) as pilot:
        try:
            await _keys_during_a_retrain(pilot, app, store, corpus, db_path)
        finally:
            GatedTrainer.gate.set()  # never leave the worker thread waiting


async def _keys_during_a_retrain(pilot: Any, app: AnnotateApp, store: Store, corpus: dict[str, int],
                                 db_path: Path) -> None:
    assert app.model_loop is not None
    reader = await loaded(pilot, corpus["calm"])
    await pilot.press("d")  # done: a retrain starts, and the next todo document opens
    reader = await loaded(pilot, corpus["unseen"])
    await until(pilot, lambda: GatedTrainer.entered.is_set() and app.model_loop.training)
    assert "training" in app.status_bar.model
    # Keys while the retrain is under way: each takes effect at once.
    start = reader.cursor
    await pilot.press("l", "l")
    assert reader.cursor != start and app.model_loop.training
    await pilot.press("n")  # next candidate: a capitalised word not in an entity
    assert reader.model is not None and reader.model.word_text(reader.cursor)[:1].isupper()
    await pilot.press("shift+right", "3")  # label it ORG: saved at once, mid-retrain
    assert app.model_loop.training
    assert any(s.label == "ORG" for s in store.spans(corpus["unseen"], states=("accepted",)))
    await pilot.press("u")  # and undone
    assert not store.spans(corpus["unseen"], states=("accepted",))
    GatedTrainer.gate.set()
    await until(pilot, lambda: app.model_loop.retrains == 1)
    trainer = app.model_loop.trainer
    assert trainer is not None and trainer.pid not in (None, os.getpid())  # trained in a child
    # The open document's suggestions come at once, with the model's probability as score.
    await until(pilot, lambda: any(s.origin == "crf" for s in store.spans(corpus["unseen"], states=("pending",))))
    crf = [s for s in store.spans(corpus["unseen"], states=("pending",)) if s.origin == "crf"]
    text = store.text(corpus["unseen"])
    assert "Алмазбек Атамбаев" in [text[s.start:s.end] for s in crf if s.label == "PER"]
    assert all(s.score is not None and MIN_SCORE <= s.score <= 1.0 for s in crf)
    await until(pilot, lambda: reader.model is not None and reader.model.spans.pending > 0)
    # The model's state is on the status bar: documents learned from and the time.
    assert app.status_bar.model.startswith("CRF · 6 docs · F1")
    # ...and the other todo documents get theirs in the background (the child's pass).
    await until(pilot, lambda: app.model_loop.last_corpus is not None)
    assert app.model_loop.last_corpus.documents == 1 and not app.model_loop.last_corpus.cancelled  # "odd"
    saved = model_dir(db_path, "alice")
    assert saved is not None and (saved / "model.json").exists()
    await pilot.press("q")


@sync
async def test_uncertainty_order_lists_the_least_confident_first_and_d_follows_it(
    store: Store, corpus: dict[str, int]
) -> None:
    train_model(store)  # a model saved earlier, as the app leaves it
    app = AnnotateApp(store, suggest=True, order="uncertainty")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, corpus["calm"])
        await until(pilot, lambda: app.doclist.order == "uncertainty")
        assert app.model_loop is not None and app.model_loop.state is not None
        assert app.status_bar.model.startswith("CRF · 5 docs")  # the saved model's state
        rows = row_order(app)
        todo = [corpus["odd"], corpus["unseen"], corpus["calm"]]
        assert rows[0] == corpus["odd"] and set(rows[:3]) == set(todo)  # least confident first
        assert rows[3:] == [1, 2, 3, 4, 5]  # the done ones after, in import order
        assert "least confident first" in str(app.query_one("#doclist-header").render())
        await pilot.press("d")  # the next todo document in the list's order, wrapping round
        position = rows.index(corpus["calm"])
        following = [d for d in rows[position + 1:] + rows[:position] if d in todo]
        await loaded(pilot, following[0])
        app.order_documents("import")
        assert app.doclist.order == "import" and row_order(app)[:3] == [1, 2, 3]
        await pilot.press("q")


@sync
async def test_without_a_model_the_order_falls_back_to_import_until_a_retrain(
    store: Store, corpus: dict[str, int]
) -> None:
    app = AnnotateApp(store, suggest=True, order="uncertainty")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, corpus["calm"])
        await until(pilot, lambda: any("No model yet" in n.message for n in app._notifications))
        assert app.doclist.order == "import" and row_order(app)[:3] == [1, 2, 3]
        await pilot.press("ctrl+p", *"Retrain model", "enter")  # on demand, from the palette
        await until(pilot, lambda: app.doclist.order == "uncertainty")
        assert row_order(app)[0] == corpus["odd"]
        assert app.model_loop is not None and app.model_loop.retrains == 1
        app.show_model_state()
        await pilot.pause()
        assert any("Learned from 5 labelled document(s)" in n.message for n in app._notifications)
        await pilot.press("q")


def test_open_takes_an_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run_app(store: Store, keymap: Any = None, order: str = "import") -> None:
        seen["order"] = order
        store.close()

    monkeypatch.setattr("tui.app.run_app", fake_run_app)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    db = str(tmp_path / "o.db")
    result = CliRunner().invoke(main, ["open", "--db", db, "--order", "uncertainty"])
    assert result.exit_code == 0, result.output
    assert seen["order"] == "uncertainty"
    bad = CliRunner().invoke(main, ["open", "--db", db, "--order", "colour"])
    assert bad.exit_code == 2 and "colour" in bad.output
