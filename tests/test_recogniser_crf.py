"""The ``crf`` recogniser: where models live, the lexicon feature, scored suggestions, the
command line (``suggest --recogniser crf``, ``docs --order``) and the jobs of the child process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from annotations import Store, import_paths
from annotations.model.process import TrainingProcess
from annotations.recognisers import (
    RecogniserError,
    create,
    recogniser_names,
    run_recognisers,
)
from annotations.recognisers.crf import (
    MIN_SCORE,
    CRFRecogniser,
    ensure_model,
    labelled_ids,
    lexicon_mapping,
    load_model,
    load_state,
    model_dir,
    propagation_lexicon,
    rank_job,
    refresh_job,
    retrain_job,
    suggest_corpus_job,
    todo_ids,
    train_model,
    warm_job,
)
from annotations.recognisers.propagation import LexiconState, Propagation
from tui.cli import main

# -- a small labelled corpus: Kyrgyz and Russian news sentences -------------------------------

KY = [("Садыр", "Жапаров", "Бишкекте"), ("Эдил", "Байсалов", "Ошто"), ("Камчыбек", "Ташиев", "Нарында"),
      ("Улукбек", "Марипов", "Таласта")]
RU = [("Владимир", "Путин", "Москве"), ("Сергей", "Лавров", "Минске"), ("Михаил", "Мишустин", "Казани"),
      ("Денис", "Мантуров", "Ташкенте")]


def ky_doc(first: str, last: str, place: str) -> tuple[str, list[tuple[str, str]]]:
    return (
        (f"Президент {first} {last} {place} журналисттер менен жолукту. {first} {last} жаңы мыйзамга"
         f" кол койду. Бул тууралуу өкмөттүн маалымат кызматы билдирди."),
        [(f"{first} {last}", "PER"), (place, "LOC"), (f"{first} {last}", "PER")],
    )


def ru_doc(first: str, last: str, place: str) -> tuple[str, list[tuple[str, str]]]:
    return (
        (f"Президент {first} {last} провел встречу в {place}. {first} {last} подписал новый закон."
         f" Об этом сообщила пресс-служба правительства."),
        [(f"{first} {last}", "PER"), (place, "LOC"), (f"{first} {last}", "PER")],
    )


def records() -> list[dict[str, Any]]:
    out = []
    for (text, ents), lang in [*((ky_doc(*p), "ky") for p in KY), *((ru_doc(*p), "ru") for p in RU)]:
        spans, pos = [], 0
        for ent, label in ents:
            i = text.index(ent, pos)
            spans.append({"start": i, "end": i + len(ent), "label": label})
            pos = i + len(ent)
        out.append({"text": text, "meta": {"lang": lang}, "spans": spans})
    return out


UNSEEN_KY = "Президент Алмазбек Атамбаев Баткенде журналисттер менен жолукту."
UNSEEN_RU = "Президент Андрей Белоусов провел встречу в Самаре."


@pytest.fixture
def labelled(store: Store, write_jsonl: Callable[..., Path]) -> Store:
    """Eight labelled documents (four Kyrgyz, four Russian) as alice's accepted spans, marked done."""
    report = import_paths(store, [write_jsonl(records())])
    assert report.ok and report.added == 8, report.to_dict()
    for doc_id in report.doc_ids:
        store.set_status(doc_id, "done")
    return store


def add_text(store: Store, tmp_path: Path, text: str, name: str) -> int:
    path = tmp_path / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    report = import_paths(store, [path])
    assert report.ok
    store.tokens(report.doc_ids[0])  # cached, as the app does on opening it
    return report.doc_ids[0]


def pending(store: Store, doc_id: int, origin: str | None = None) -> list[tuple[str, str, float | None]]:
    text = store.text(doc_id)
    return [(text[s.start:s.end], s.label, s.score) for s in store.spans(doc_id, states=("pending",))
            if origin is None or s.origin == origin]


# -- where models live ------------------------------------------------------------------------


def test_models_live_next_to_the_database_one_safe_directory_per_annotator(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    assert model_dir(db, "aida") == tmp_path / "news.db.models" / "aida"
    assert model_dir(db, "../evil").parent == tmp_path / "news.db.models"
    assert model_dir(db, "..").name == "%2E."
    assert model_dir(db, "a/b").name == "a%2Fb"
    assert model_dir(":memory:", "aida") is None
    assert load_model(db, "aida") is None and load_state(db, "aida") is None


def test_train_model_saves_where_the_recogniser_loads_it(labelled: Store, db_path: Path) -> None:
    model, _report = train_model(labelled)
    assert model.state.documents == 8 and model.state.lexicon
    assert (model_dir(db_path, "alice") / "model.crfsuite").exists()  # type: ignore[operator]
    loaded = load_model(db_path, "alice")
    assert loaded is not None and loaded.state.doc_ids == model.state.doc_ids
    assert "crf" in recogniser_names() and "crf" not in recogniser_names(defaults_only=True)


# -- the lexicon feature --------------------------------------------------------------------------


def test_the_propagation_lexicon_becomes_word_and_stem_keys_with_labels(labelled: Store) -> None:
    state = LexiconState("alice")
    state.sync(labelled)
    mapping = lexicon_mapping(state.lexicon)
    assert mapping["жапаров"] == "PER" and mapping["садыр"] == "PER"
    assert mapping["бишкекте"] == "LOC" and mapping["бишкек"] == "LOC"  # the form and its stem
    assert mapping["путин"] == "PER" and mapping["москве"] == "LOC"
    assert "президент" not in mapping
    assert propagation_lexicon(labelled, LexiconState("alice")) == mapping


def test_the_recogniser_reads_the_lexicon_afresh_on_prepare(labelled: Store, tmp_path: Path) -> None:
    train_model(labelled)
    rec = create("crf")
    rec.prepare(labelled)
    assert isinstance(rec, CRFRecogniser) and rec.lexicon is not None and "атамбаев" not in rec.lexicon
    doc = add_text(labelled, tmp_path, UNSEEN_KY, "new")
    start = labelled.text(doc).index("Алмазбек")
    labelled.add_span(doc, start, start + len("Алмазбек Атамбаев"), "PER")
    rec.prepare(labelled)
    assert rec.lexicon is not None and rec.lexicon["атамбаев"] == "PER"


# -- suggestions ----------------------------------------------------------------------------------


def test_crf_suggestions_are_stored_with_the_models_probability_as_score(labelled: Store, tmp_path: Path) -> None:
    model, _ = train_model(labelled)
    ky = add_text(labelled, tmp_path, UNSEEN_KY, "ky")
    ru = add_text(labelled, tmp_path, UNSEEN_RU, "ru")
    report = run_recognisers(labelled, [create("crf")], status="todo")
    assert report.suggestions["crf"] >= 2
    found_ky, found_ru = pending(labelled, ky, "crf"), pending(labelled, ru, "crf")
    assert ("Алмазбек Атамбаев", "PER") in [(t, lab) for t, lab, _ in found_ky]  # a name it never saw
    assert ("Андрей Белоусов", "PER") in [(t, lab) for t, lab, _ in found_ru]
    doc = labelled.document(ky)
    expected = {(p.start, p.end): round(p.score, 4)
                for p in model.predict(doc.text, doc.tokens, doc.lang, propagation_lexicon(labelled))}
    for span in labelled.spans(ky, states=("pending",)):
        assert span.score is not None and MIN_SCORE <= span.score <= 1.0
        assert span.score == expected[(span.start, span.end)]


def test_a_higher_threshold_drops_the_less_certain_suggestions(labelled: Store, tmp_path: Path) -> None:
    model, _ = train_model(labelled)
    ky = add_text(labelled, tmp_path, UNSEEN_KY + " Кечээ Тамчы Бостери Кара-Ойдо болду.", "ky")
    doc = labelled.document(ky)
    scores = [p.score for p in model.predict(doc.text, doc.tokens, doc.lang)]
    cut = sorted(scores)[len(scores) // 2]
    rec = CRFRecogniser(model, min_score=cut)
    rec.prepare(labelled)
    from annotations.recognisers import TextDoc

    kept = rec.suggest(TextDoc.from_document(doc))
    assert kept and all(s.score is not None and s.score >= cut for s in kept)
    assert len(kept) < len(CRFRecogniser(model, lexicon={}, min_score=0.0).suggest(TextDoc.from_document(doc)))


def test_without_a_model_the_recogniser_says_how_to_get_one(labelled: Store) -> None:
    with pytest.raises(RecogniserError, match="no trained model for annotator 'alice'"):
        create("crf").prepare(labelled)


def test_a_longer_crf_span_does_not_displace_propagation_inside_it(labelled: Store, tmp_path: Path) -> None:
    class Wide(CRFRecogniser):
        """A model that sweeps the word before a name into it."""

        def suggest(self, doc: Any) -> list[Any]:
            from annotations.recognisers import Suggestion

            i = doc.text.index("Вечером Жапаров")
            return [Suggestion(i, i + len("Вечером Жапаров"), "PER", 0.95)]

    doc = add_text(labelled, tmp_path, "Вечером Жапаров Бишкекке кайтып келди.", "wide")
    run_recognisers(labelled, [Propagation(), Wide(train_model(labelled)[0])], status=None, doc_ids=[doc])
    assert pending(labelled, doc) == [("Жапаров", "PER", 0.8)]  # the surname propagation learned


# -- the command line ---------------------------------------------------------------------------------


def test_suggest_crf_trains_first_then_reuses_the_saved_model(labelled: Store, db_path: Path, tmp_path: Path) -> None:
    doc = add_text(labelled, tmp_path, UNSEEN_KY, "new")
    runner = CliRunner()
    args = ["suggest", "--db", str(db_path), "--annotator", "alice", "--recogniser", "crf", "--json"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "Trained the model on 8 labelled document(s) (no model was trained yet)" in first.stderr
    assert json.loads(first.stdout)["suggestions"]["crf"] >= 1
    assert ("Алмазбек Атамбаев", "PER") in [(t, lab) for t, lab, _ in pending(labelled, doc, "crf")]
    again = runner.invoke(main, args)
    assert again.exit_code == 0 and "Trained" not in again.stderr
    labelled.set_status(doc, "done")
    assert labelled_ids(labelled)[-1] == doc
    stale = runner.invoke(main, args)
    assert "(documents were labelled since the saved model was trained)" in stale.stderr


def test_suggest_crf_with_nothing_labelled_is_a_clear_error(store: Store, db_path: Path, tmp_path: Path) -> None:
    add_text(store, tmp_path, UNSEEN_KY, "new")
    result = CliRunner().invoke(main, ["suggest", "--db", str(db_path), "--annotator", "alice",
                                       "--recogniser", "crf"])
    assert result.exit_code == 1
    assert "no labelled documents to train on by alice" in result.stderr
    assert "Traceback" not in result.output
    assert ensure_model.__name__  # the library raises; the command turns it into this message


def test_docs_order_uncertainty_puts_the_least_confident_first(labelled: Store, db_path: Path, tmp_path: Path) -> None:
    calm = add_text(labelled, tmp_path, "Президент Садыр Жапаров Бишкекте журналисттер менен жолукту.", "calm")
    odd = add_text(labelled, tmp_path, "Тамчы Бостери Кара-Ой Чолпон-Ата ЕАЭБ Жети-Өгүз Барскоон.", "odd")
    runner = CliRunner()
    args = ["docs", "--db", str(db_path), "--annotator", "alice", "--status", "todo", "--json"]
    before = runner.invoke(main, [*args, "--order", "uncertainty"])
    assert before.exit_code == 0 and "no model trained yet" in before.stderr
    assert [json.loads(line)["id"] for line in before.stdout.splitlines()] == [calm, odd]
    train_model(labelled)
    after = runner.invoke(main, [*args, "--order", "uncertainty"])
    rows = [json.loads(line) for line in after.stdout.splitlines()]
    assert [r["id"] for r in rows] == [odd, calm]
    assert rows[0]["uncertainty"] > rows[1]["uncertainty"]
    by_count = runner.invoke(main, [*args, "--order", "entities"])
    counts = [json.loads(line)["predicted_entities"] for line in by_count.stdout.splitlines()]
    assert by_count.exit_code == 0 and counts == sorted(counts, reverse=True) and counts[0] > 0
    table = runner.invoke(main, ["docs", "--db", str(db_path), "--annotator", "alice", "--order", "entities"])
    assert table.exit_code == 0 and table.stdout.splitlines()[0].count("┳") == 7  # + uncertainty, predicted


# -- jobs in the child process ------------------------------------------------------------------------


def test_the_child_ranks_and_suggests_with_an_adopted_model(labelled: Store, db_path: Path, tmp_path: Path) -> None:
    model, _ = train_model(labelled)
    calm = add_text(labelled, tmp_path, "Президент Садыр Жапаров Бишкекте журналисттер менен жолукту.", "calm")
    odd = add_text(labelled, tmp_path, "Тамчы Бостери Кара-Ой Чолпон-Ата ЕАЭБ Жети-Өгүз Барскоон.", "odd")
    new = add_text(labelled, tmp_path, UNSEEN_KY, "new")
    lexicon = propagation_lexicon(labelled)
    with TrainingProcess(db_path, "alice") as trainer:
        trainer.adopt(model)
        ranked = trainer.call(rank_job, "uncertainty", lexicon)
        assert trainer.call(rank_job, "uncertainty") == ranked  # the child reads the same lexicon
        assert trainer.call(warm_job) == 8  # features of the labelled documents computed ahead
        state, report = trainer.call(retrain_job)  # the app's retrain: lexicon built in the child
        assert state.documents == 8 and state.lexicon and report.train_documents == 8
        saved = load_state(db_path, "alice")  # the child saved it where the recogniser looks
        assert saved is not None and saved.trained_at == state.trained_at
        assert ranked[0][0] == odd and {d for d, _, _ in ranked} == {calm, odd, new}
        trainer.cancel()  # a cancel before a request does not stop it: the flag is cleared first
        report = trainer.call(suggest_corpus_job, lexicon, todo_ids(labelled, exclude=[calm]), MIN_SCORE)
        assert not report.cancelled and report.documents == 2
        assert ("Алмазбек Атамбаев", "PER") in [(t, lab) for t, lab, _ in pending(labelled, new, "crf")]
        assert pending(labelled, calm) == []  # excluded: the app refreshes the open document itself
        assert trainer.call(refresh_job, calm, lexicon, MIN_SCORE) >= 1  # the open document's
    assert ("Садыр Жапаров", "PER") in [(t, lab) for t, lab, _ in pending(labelled, calm)]


def test_a_cancelled_corpus_pass_stops_between_batches_and_says_how_far_it_got(
    labelled: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from annotations.model import ModelLoop
    from annotations.model.process import ChildContext
    from annotations.recognisers import crf as crf_module

    model, _ = train_model(labelled)
    ids = [add_text(labelled, tmp_path, UNSEEN_KY.replace("Баткенде", place), place)
           for place in ("Баткенде", "Кочкордо", "Токмокто")]
    loop = ModelLoop("alice")
    loop.adopt(model)

    class StopAfter:
        """A cancel flag that turns on once ``n`` batches have started."""

        def __init__(self, n: int) -> None:
            self.checks, self.n = 0, n

        def is_set(self) -> bool:
            self.checks += 1
            return self.checks > self.n

    monkeypatch.setattr(crf_module, "CORPUS_BATCH", 1)
    report = suggest_corpus_job(ChildContext(labelled, loop, StopAfter(1)), None, ids)
    assert report.cancelled and report.documents == 1
    assert pending(labelled, ids[0], "crf") and not pending(labelled, ids[1])
    rest = suggest_corpus_job(ChildContext(labelled, loop, StopAfter(10)), None, ids[report.documents:])
    assert not rest.cancelled and rest.documents == 2 and pending(labelled, ids[2], "crf")
