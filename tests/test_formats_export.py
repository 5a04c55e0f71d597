"""Export selection (status, annotator, labels, suggestions), streaming, token cache and the JSONL layout."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable

import pytest

import annotations.formats.export as export_mod
from annotations import Store, import_paths
from annotations.formats import ExportError, ExportStats, Selection, iter_items, run_export
from annotations.formats.jsonl import input_hash, task_hash
from prodigy_schema import prodigy_problems
from annotations.tokenize import tokenizer_id

#: The store tests run on SQLite and on PostgreSQL (``store``/``db_path`` fixtures, tests/conftest.py).
BOTH_BACKENDS = True

TEXTS = [
    "Садыр Жапаров Бишкекте Михаил Мишустинди кабыл алды.",
    "Президент Путин встретился с Жапаровым в Москве.",
    "Министр Кулубаев Москвага иш сапары менен барды.",
    "Улуттук банк жаңы пайыздык чен жарыялады.",
    "Ош шаарында жаңы мектеп ачылды.",
    "Ала-Тоо аянтында майрамдык концерт өттү.",
    "Жогорку Кеңеш мыйзам долбоорун кабыл алды.",
]


def word(store: Store, doc_id: int, w: str) -> tuple[int, int]:
    start = store.text(doc_id).index(w)
    return start, start + len(w)


@pytest.fixture
def corpus(store: Store, db_path: Path, add_doc: Callable[..., int]) -> dict[str, int]:
    """Seven documents in every state an export must tell apart (annotators alice and bob)."""
    ids = [add_doc(t) for t in TEXTS]
    d1, d2, d3, d4, d5, d6, d7 = ids
    store.add_span(d1, *word(store, d1, "Садыр Жапаров"), "PER")
    store.add_span(d1, *word(store, d1, "Бишкекте"), "LOC")
    store.add_suggestions(d1, [(*word(store, d1, "Михаил Мишустинди"), "PER", 0.75)], "patterns")
    store.set_status(d1, "done")
    store.add_span(d2, *word(store, d2, "Путин"), "PER")
    store.set_status(d2, "skipped")
    store.add_span(d3, *word(store, d3, "Кулубаев"), "PER")  # todo, with a span
    store.add_suggestions(d4, [(*word(store, d4, "Улуттук банк"), "ORG", 0.5)], "patterns")  # pending only
    store.add_suggestions(d5, [(*word(store, d5, "Ош"), "LOC", 0.9)], "patterns")
    store.reject(store.spans(d5)[0].id)  # a rejected suggestion is a decision
    store.set_status(d7, "done")  # done, no entities
    with Store(db_path, "bob") as bob:
        bob.add_span(d1, *word(bob, d1, "Михаил Мишустинди"), "PER")
        bob.set_status(d1, "done")
    return {f"d{i}": doc for i, doc in enumerate(ids, 1)}


def records(store: Store, **selection: Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    run_export(store, "jsonl", Selection(**selection), None, stdout=out)
    return [json.loads(line) for line in out.getvalue().decode("utf-8").splitlines()]


def keys(recs: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(r["meta"]["id"], r["_annotator_id"]) for r in recs]


# -- the Prodigy layout, checked field by field -----------------------------------------------


def test_jsonl_passes_the_prodigy_layout_check(store: Store, corpus: dict[str, int]) -> None:
    recs = records(store, status="any", include_suggestions=True)
    assert recs
    for rec in recs:
        assert prodigy_problems(rec) == [], rec


def test_prodigy_checker_catches_a_broken_record(store: Store, corpus: dict[str, int]) -> None:
    rec = records(store)[0]
    rec["spans"][0]["token_end"] += 1
    rec["answer"] = "yes"
    del rec["tokens"][0]["ws"]
    problems = prodigy_problems(rec)
    assert "answer is accept/reject/ignore" in problems
    assert "spans[0] token_end (inclusive)" in problems
    assert "token 0 has exactly text/start/end/id/ws" in problems


# -- selection ------------------------------------------------------------------------------


def test_default_is_done_documents_one_record_per_annotator(store: Store, corpus: dict[str, int]) -> None:
    recs = records(store)
    assert keys(recs) == [(corpus["d1"], "alice"), (corpus["d1"], "bob"), (corpus["d7"], "alice")]
    alice, bob, empty = recs
    assert [(s["text"], s["label"]) for s in alice["spans"]] == [("Садыр Жапаров", "PER"), ("Бишкекте", "LOC")]
    assert [(s["text"], s["label"]) for s in bob["spans"]] == [("Михаил Мишустинди", "PER")]
    assert "suggestions" not in alice
    assert empty["spans"] == [] and empty["answer"] == "accept"
    assert all(r["answer"] == "accept" for r in recs)


def test_status_any_takes_every_decision_or_span(store: Store, corpus: dict[str, int]) -> None:
    recs = records(store, status="any")
    assert keys(recs) == [
        (corpus["d1"], "alice"), (corpus["d1"], "bob"), (corpus["d2"], "alice"),
        (corpus["d3"], "alice"), (corpus["d5"], "alice"), (corpus["d7"], "alice"),
    ]
    by_doc = {(r["meta"]["id"], r["_annotator_id"]): r for r in recs}
    skipped, todo = by_doc[(corpus["d2"], "alice")], by_doc[(corpus["d3"], "alice")]
    assert (skipped["answer"], skipped["meta"]["status"]) == ("ignore", "skipped")
    assert (todo["answer"], todo["meta"]["status"]) == ("ignore", "todo")
    assert by_doc[(corpus["d5"], "alice")]["spans"] == []  # rejected spans are never written


def test_suggestions_are_kept_apart_with_source_and_score(store: Store, corpus: dict[str, int]) -> None:
    recs = records(store, status="any", include_suggestions=True)
    assert (corpus["d4"], "alice") in keys(recs)  # pending suggestions count as spans here
    first = recs[0]
    assert [s["label"] for s in first["spans"]] == ["PER", "LOC"]
    (sug,) = first["suggestions"]
    assert (sug["text"], sug["label"], sug["source"], sug["score"]) == (
        "Михаил Мишустинди", "PER", "patterns", 0.75
    )


def test_annotator_filter(store: Store, corpus: dict[str, int]) -> None:
    assert keys(records(store, annotator="bob")) == [(corpus["d1"], "bob")]
    assert keys(records(store, annotator="nobody")) == []


def test_label_filter_keeps_documents_and_drops_other_spans(store: Store, corpus: dict[str, int]) -> None:
    recs = records(store, labels=("LOC",))
    assert len(recs) == 3
    assert [[s["label"] for s in r["spans"]] for r in recs] == [["LOC"], [], []]


def test_unknown_label_and_suggestions_in_conll_are_refused(store: Store, corpus: dict[str, int]) -> None:
    with pytest.raises(ExportError, match="no label 'EVENT'"):
        run_export(store, "jsonl", Selection(labels=("EVENT",)), None, stdout=io.BytesIO())
    with pytest.raises(ExportError, match="conll cannot keep suggestions apart"):
        run_export(store, "conll", Selection(include_suggestions=True), None, stdout=io.BytesIO())
    with pytest.raises(ExportError, match="brat needs an output"):
        run_export(store, "brat", Selection(), None, stdout=io.BytesIO())


def test_meta_hashes_and_timestamp(store: Store, corpus: dict[str, int]) -> None:
    rec = records(store)[0]
    doc = store.document(corpus["d1"])
    assert rec["meta"]["id"] == doc.id and rec["meta"]["title"] == doc.title
    assert rec["meta"]["lang"] == doc.lang and rec["meta"]["source"] == doc.source
    assert rec["_input_hash"] == input_hash(doc.text)
    assert rec["_task_hash"] == task_hash(rec["_input_hash"], [(s["start"], s["end"], s["label"]) for s in rec["spans"]])
    assert rec["_timestamp"] > 1_700_000_000
    assert rec["_view_id"] == "ner_manual"


def test_hashes_are_stable_and_depend_on_the_right_things() -> None:
    # Fixed values: a change here changes every exported hash, which consumers dedupe on.
    assert input_hash("Бишкек") == input_hash("Бишкек") == -1942954581
    assert input_hash("Бишкек ") != input_hash("Бишкек")
    h = input_hash("Бишкек")
    assert task_hash(h, [(0, 6, "LOC")]) == task_hash(h, [(0, 6, "LOC")])
    assert task_hash(h, [(0, 6, "LOC")]) != task_hash(h, [(0, 6, "ORG")])
    assert task_hash(h, [(0, 6, "LOC")]) != task_hash(h, [])


# -- streaming and the token cache ------------------------------------------------------------


def test_paging_gives_the_same_stream(store: Store, corpus: dict[str, int]) -> None:
    sel = Selection(status="any", include_suggestions=True)
    whole = [(i.doc_id, i.annotator, i.spans, i.suggestions) for i in iter_items(store, sel)]
    paged = [(i.doc_id, i.annotator, i.spans, i.suggestions) for i in iter_items(store, sel, page=2)]
    assert whole == paged and len(whole) == 7


def test_progress_reports_documents(store: Store, corpus: dict[str, int]) -> None:
    seen: list[tuple[int, int]] = []
    list(iter_items(store, Selection(status="any"), page=2, progress=lambda d, t: seen.append((d, t))))
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_tokens_are_cached_by_the_first_export(
    store: Store, corpus: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    store.backend.execute("DELETE FROM doc_tokens")
    records(store)
    cached = dict(store.backend.all("SELECT doc_id, tokenizer FROM doc_tokens"))
    assert cached == {d: tokenizer_id(store.document(d).lang) for d in (corpus["d1"], corpus["d7"])}

    def no_tokenising(text: str, lang: str) -> None:
        raise AssertionError("tokenised again")

    monkeypatch.setattr(export_mod, "tokenize", no_tokenising)
    assert len(records(store)) == 3


def test_reimported_jsonl_restores_statuses_and_spans(store: Store, corpus: dict[str, int], tmp_path: Path) -> None:
    path = tmp_path / "alice.jsonl"
    run_export(store, "jsonl", Selection(status="any", annotator="alice"), path)
    with Store(tmp_path / "copy.db", "carol") as copy:
        report = import_paths(copy, [path])
        assert report.ok, report.to_dict()
        # the records' _annotator_id (alice) is whose annotations they are, not carol's
        got = {copy.text(d): (copy.status(d, "alice"), [(s.start, s.end, s.label) for s in copy.spans(d, annotator="alice")])
               for d in copy.document_ids()}
    want = {}
    for doc_id in (corpus[k] for k in ("d1", "d2", "d3", "d5", "d7")):
        want[store.text(doc_id)] = (
            store.status(doc_id), [(s.start, s.end, s.label) for s in store.spans(doc_id, states=("accepted",))]
        )
    assert got == want


def test_output_file_is_replaced_whole_and_failures_leave_it(store: Store, corpus: dict[str, int], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("annotations.formats.jsonl.prodigy_bytes", broken)
    with pytest.raises(RuntimeError):
        run_export(store, "jsonl", Selection(), target)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl")] == []
    monkeypatch.undo()
    stats = run_export(store, "jsonl", Selection(), target)
    assert isinstance(stats, ExportStats) and len(target.read_text().splitlines()) == 3


def test_duplicate_suggestions_with_and_without_score_export(store: Store, write_jsonl: Any) -> None:
    spans = [{"start": 0, "end": 5, "label": "PER"}, {"start": 0, "end": 5, "label": "PER", "score": 0.5}]
    if store.backend.name == "sqlite":
        path = write_jsonl([{"text": "Садыр келди.", "spans": spans}])
        assert import_paths(store, [path], mode="suggestions").suggestions == 2
    else:  # the importer's PostgreSQL path is another module's: the same rows, written as it writes them
        from annotations.store import NewDocument, now

        ((doc_id, _),) = store.add_documents([NewDocument("Садыр келди.", source="data.jsonl", line=1)])
        with store.transaction():
            for sp in spans:
                store.backend.execute(
                    'INSERT INTO spans (doc_id, start, "end", label, annotator, origin, state, score, created, updated)'
                    " VALUES (?, ?, ?, ?, ?, 'import', 'pending', ?, ?, ?)",
                    [doc_id, sp["start"], sp["end"], sp["label"], store.annotator, sp.get("score"), now(), now()],
                )
    recs = records(store, status="any", include_suggestions=True)
    assert [(s["start"], s["end"], s["score"]) for s in recs[0]["suggestions"]] == [(0, 5, None), (0, 5, 0.5)]


# -- the same export on both backends -------------------------------------------------------

#: Every format with the selections an export offers (suggestions only where a format keeps them).
_EXPORTS = [
    ("jsonl", Selection()),
    ("jsonl", Selection(status="any", include_suggestions=True)),
    ("jsonl", Selection(status="all", annotator="bob")),
    ("jsonl", Selection(status=("done", "skipped"), labels=("LOC",), misaligned="drop")),
    ("spacy", Selection(status="any", include_suggestions=True)),
    ("spacy", Selection(status="all")),  # a folder of shards
    ("conll", Selection(status="all")),
    ("hf", Selection(status="any", labels=("PER",))),
    ("brat", Selection()),
]


def _outputs(store: Store, folder: Path) -> dict[str, bytes]:
    """Every export of :data:`_EXPORTS`, as file name -> bytes (folders' files included)."""
    folder.mkdir()
    got: dict[str, bytes] = {}
    for n, (fmt, sel) in enumerate(_EXPORTS):
        name = {"jsonl": "out.jsonl", "spacy": "out.spacy", "conll": "out.conll", "hf": "out.jsonl", "brat": "out"}[fmt]
        if fmt == "spacy" and sel.status == "all":
            name = "shards"
        target = folder / str(n) / name
        target.parent.mkdir()
        run_export(store, fmt, sel, target)
        for path in sorted(p for p in target.parent.rglob("*") if p.is_file()):
            got[str(path.relative_to(folder))] = path.read_bytes()
    return got


@pytest.mark.sqlite_only
def test_every_format_is_byte_identical_on_both_backends(
    store: Store, corpus: dict[str, int], tmp_path: Path, pg_server: Any, write_jsonl: Any
) -> None:
    """The same content (copied across, ids and timestamps kept) exports to the same bytes
    from SQLite and PostgreSQL, in every format and selection, tokenising or from the cache."""
    from annotations.store.copy import copy_database

    prodigy = write_jsonl([{  # an imported Prodigy example: its own hashes come back unchanged
        "text": "Бишкек шаары жаңырды.", "spans": [{"start": 0, "end": 6, "label": "LOC"}], "answer": "accept",
        "_input_hash": 11, "_task_hash": 22, "_timestamp": 1_700_000_000, "_annotator_id": "carol",
    }])
    assert import_paths(store, [prodigy]).ok
    with Store(pg_server.new_database(), "alice") as pg:
        copy_database(store.backend, pg.backend)
        for s in (store, pg):
            s.backend.execute("DELETE FROM doc_tokens")
        cold = _outputs(store, tmp_path / "sqlite-cold"), _outputs(pg, tmp_path / "pg-cold")
        assert pg.backend.count_rows("doc_tokens") == store.backend.count_rows("doc_tokens") > 0
        warm = _outputs(store, tmp_path / "sqlite-warm"), _outputs(pg, tmp_path / "pg-warm")
    assert len(cold[0]) >= len(_EXPORTS) + 3  # hf's labels.json, brat's .ann/.txt and shards besides
    assert cold[0] == cold[1] == warm[0] == warm[1]
    assert any(b'"_input_hash":11,"_task_hash":22' in data for data in cold[1].values())


def test_spacy_reads_the_docbin_back_with_the_stores_spans(store: Store, corpus: dict[str, int], tmp_path: Path) -> None:
    """Round trip through the consumer's reader: spaCy's ``DocBin.from_disk`` gives every
    done record's text and accepted spans as entities, on either backend."""
    import spacy
    from spacy.tokens import DocBin

    path = tmp_path / "train.spacy"
    run_export(store, "spacy", Selection(), path)
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    got = [(d.user_data["annotate"]["id"], d.user_data["annotate"]["annotator"], d.text,
            [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs]
    want = []
    for doc_id, who in [(corpus["d1"], "alice"), (corpus["d1"], "bob"), (corpus["d7"], "alice")]:
        spans = store.spans(doc_id, annotator=who, states=("accepted",))
        want.append((doc_id, who, store.text(doc_id), [(s.start, s.end, s.label) for s in spans]))
    assert got == want
