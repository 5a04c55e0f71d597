"""Issue 10, item by item (each test is named after the item it checks), and the issue-16
items this branch owns (16.10 control characters in plain-text exports, 16.13 brat reader
messages)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import annotations.formats  # noqa: F401
from annotations import EVERYONE, Store, import_paths
from annotations.db import m005_whitespace_free_tokens
from annotations.formats import ExportError, Selection, run_export
from annotations.label_map import LabelMapError, load_label_map, save_label_map
from annotations.recognisers.base import Suggestion
from annotations.recognisers.runner import run_recognisers
from annotations.tokenize import Tokens, tokenize
from tui.cli import main

T_CONLL = "Бишкек\tB-LOC\nшаары\tO\n.\tO\n\nОл\tO\nкелди\tO\n.\tO\n"


def export_text(store: Store, fmt: str, **sel: Any) -> str:
    out = io.BytesIO()
    run_export(store, fmt, Selection(**sel), None, stdout=out)
    return out.getvalue().decode("utf-8")


def jsonl_records(store: Store, **sel: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in export_text(store, "jsonl", **sel).splitlines()]


def cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


# -- item 1 -----------------------------------------------------------------------------------


def test_item1_annotated_imports_count_as_done(tmp_path: Path) -> None:
    """The issue's t.conll: both sentences (one without entities) are done and exported."""
    src = tmp_path / "t.conll"
    src.write_text(T_CONLL, encoding="utf-8")
    db = str(tmp_path / "t.db")
    imported = cli("import", "--db", db, str(src))
    assert imported.exit_code == 0
    assert "Annotated examples: 2 (2 done), 1 of them without entities (negative examples)." in imported.stdout
    result = cli("export", "--db", db, "--format", "conll")
    assert result.exit_code == 0
    assert result.stdout == (
        "-DOCSTART- -X- O O\n\nБишкек\tB-LOC\nшаары\tO\n.\tO\n\n"
        "-DOCSTART- -X- O O\n\nОл\tO\nкелди\tO\n.\tO\n\n"
    )
    assert "Exported 2 record(s)" in result.stderr and "1 record(s) without entities" in result.stderr


KAZNERD = "Әрі O\n« O\nҚара B-ART\nсөздерінің I-ART\n» O\n. O\n\nМалмен O\nбірдей O\nішеміз O\n. O\n\n"


def test_item1_kaznerd_space_separated_txt_is_read_as_annotated(tmp_path: Path) -> None:
    """KazNERD ships ``IOB2_train.txt`` as ``token tag`` lines: read as IOB2 without --format,
    both sentences done, the all-O one a negative."""
    src = tmp_path / "IOB2_valid.txt"
    src.write_text(KAZNERD, encoding="utf-8")
    db = str(tmp_path / "kz.db")
    result = cli("import", "--db", db, str(src))
    assert result.exit_code == 0, result.output
    assert "Annotated examples: 2 (2 done), 1 of them without entities" in result.stdout
    out = cli("export", "--db", db, "--format", "conll")
    assert out.stdout.count("-DOCSTART-") == 2 and "Қара\tB-ART\nсөздерінің\tI-ART" in out.stdout


def test_item1_conll2003_file_named_eng_train_is_sniffed(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "eng.train"
    src.write_text("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n", encoding="utf-8")
    report = import_paths(store, [src])
    assert report.ok and report.added == 1, report.to_dict()
    (doc,) = store.document_ids()
    assert (store.text(doc), store.status(doc)) == ("EU rejects", "done")


@pytest.mark.parametrize("body", [
    "Садыр Жапаров келди.\nАл Бишкекте болду.\n",  # prose
    "Глава I-A\nЧасть O\nКонец первой части, глава O\n",  # tag-like last words, ragged columns
    "a O\nb\tO\n",  # tabs and spaces mixed
])
def test_item1_plain_text_that_merely_ends_lines_in_tags_stays_text(store: Store, tmp_path: Path, body: str) -> None:
    src = tmp_path / "notes.txt"
    src.write_text(body, encoding="utf-8")
    report = import_paths(store, [src])
    assert report.ok and report.added == 1
    (doc,) = store.document_ids()
    assert store.status(doc) == "todo" and store.text(doc) == body


@pytest.mark.parametrize("fmt", ["brat", "hf", "spacy", "jsonl"])
def test_item1_every_annotated_format_imports_as_done(store: Store, tmp_path: Path, fmt: str) -> None:
    # make the file in that format from a corpus with a negative, import it elsewhere
    src = tmp_path / "src.conll"
    src.write_text(T_CONLL, encoding="utf-8")
    with Store(tmp_path / "a.db", "ann") as a:
        import_paths(a, [src])
        target = {"brat": "b", "hf": "x.jsonl", "spacy": "x.spacy", "jsonl": "x.jsonl"}[fmt]
        run_export(a, fmt, Selection(), tmp_path / target)
    report = import_paths(store, [tmp_path / target], annotator="alice")
    assert report.ok and report.added == 2
    assert [store.status(d) for d in store.document_ids()] == ["done", "done"]
    assert [len(store.spans(d)) for d in store.document_ids()] == [1, 0]


def test_item1_docbin_of_another_tool_negatives_done_unannotated_docs_todo(store: Store, tmp_path: Path) -> None:
    """spaCy's own DocBin: a Doc whose tokens are all ``O`` is a negative (done); a Doc with no
    entity annotation at all (made for another task) is text to annotate (todo)."""
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("ky")
    tagged, negative, untouched = (nlp.make_doc(t) for t in ("Бишкек шаары.", "Ол келди.", "Күн ачык."))
    tagged.ents = [tagged.char_span(0, 6, "LOC")]
    negative.ents = []
    path = tmp_path / "other.spacy"
    DocBin(docs=[tagged, negative, untouched]).to_disk(path)
    report = import_paths(store, [path])
    assert report.ok and report.added == 3 and report.negatives == 1, report.to_dict()
    assert [store.status(d) for d in store.document_ids()] == ["done", "done", "todo"]
    assert [len(store.spans(d)) for d in store.document_ids()] == [1, 0, 0]


def test_item1_plain_text_stays_todo_and_annotator_option_names_whose(store: Store, tmp_path: Path,
                                                                       write_jsonl: Any) -> None:
    path = write_jsonl([{"text": "Ош шаары."}, {"text": "Бишкек.", "spans": []}])
    import_paths(store, [path], annotator="kaznerd")
    first, second = store.document_ids()
    assert store.status(first, "kaznerd") == "todo"  # no spans key, no answer: just text
    assert store.status(second, "kaznerd") == "done" and store.status(second) == "todo"
    assert [r["_annotator_id"] for r in jsonl_records(store)] == ["kaznerd"]


def test_item1_answers_become_statuses_and_come_back(store: Store, write_jsonl: Any) -> None:
    path = write_jsonl([
        {"text": "Бир.", "answer": "accept"}, {"text": "Эки.", "answer": "reject"},
        {"text": "Үч.", "answer": "ignore"},
    ])
    import_paths(store, [path])
    assert [store.status(d) for d in store.document_ids()] == ["done", "skipped", "skipped"]
    assert [r["answer"] for r in jsonl_records(store, status="all")] == ["accept", "reject", "ignore"]


def test_item1_export_status_selects_plainly(store: Store, write_jsonl: Any) -> None:
    path = write_jsonl([
        {"text": "Бир.", "answer": "accept"}, {"text": "Эки.", "answer": "ignore"}, {"text": "Үч."},
    ])
    import_paths(store, [path])
    texts = lambda **sel: [r["text"] for r in jsonl_records(store, **sel)]  # noqa: E731
    assert texts() == ["Бир."]
    assert texts(status="skipped") == ["Эки."]
    assert texts(status="todo") == ["Үч."]
    assert texts(status=("done", "todo")) == ["Бир.", "Үч."]
    assert texts(status="all") == ["Бир.", "Эки.", "Үч."]
    assert [r["meta"]["status"] for r in jsonl_records(store, status="all")] == ["done", "skipped", "todo"]
    with pytest.raises(ValueError, match="unknown export status"):
        Selection(status="finished")


def test_item1_mark_command_marks_by_filter_in_one_undo_step(store: Store, tmp_path: Path,
                                                             write_jsonl: Any) -> None:
    path = write_jsonl([{"text": "Бишкек шаары."}, {"text": "Москва город."}, {"text": "Ош шаары."}])
    import_paths(store, [path])
    db = str(store.path)
    result = cli("mark", "--db", db, "--annotator", "alice", "done", "--search", "шаары")
    assert result.exit_code == 0 and "Marked 2 document(s) done" in result.stdout
    assert [store.status(d) for d in store.document_ids()] == ["done", "todo", "done"]
    assert cli("mark", "--db", db, "--annotator", "alice", "skipped", "--ids", "2").exit_code == 0
    assert cli("mark", "--db", db, "--annotator", "alice", "todo", "--source", "data.*",
               "--from", "done").exit_code == 0
    assert [store.status(d) for d in store.document_ids()] == ["todo", "skipped", "todo"]
    refused = cli("mark", "--db", db, "done")
    assert refused.exit_code == 1 and "no filter given" in refused.stderr
    assert cli("mark", "--db", db, "done", "--ids", "3-1").exit_code == 2
    # one bulk change is one undo step
    with Store(store.path, "alice") as again:
        assert again.set_status_many(again.document_ids(), "done") == 3
        again.undo()
        assert [again.status(d) for d in again.document_ids()] == ["todo", "skipped", "todo"]


def test_item1_mark_command_selects_by_language(store: Store, add_doc: Any) -> None:
    ky = add_doc("Бишкекте күн ачык болду.", lang="ky")
    ru = add_doc("В Москве шёл дождь.", lang="ru")
    db = str(store.path)
    result = cli("mark", "--db", db, "--annotator", "alice", "done", "--lang", "ky")
    assert result.exit_code == 0 and "Marked 1 document(s) done" in result.stdout
    assert (store.status(ky), store.status(ru)) == ("done", "todo")
    assert [r["text"] for r in jsonl_records(store)] == ["Бишкекте күн ачык болду."]  # a negative, exported


# -- item 2 -----------------------------------------------------------------------------------


def test_item2_accepted_prodigy_records_without_spans_are_exported(store: Store, write_jsonl: Any) -> None:
    path = write_jsonl([{"text": f"Сүйлөм {i}.", "answer": "accept"} for i in range(5)])
    import_paths(store, [path])
    recs = jsonl_records(store)
    assert len(recs) == 5 and all(r["answer"] == "accept" and r["spans"] == [] for r in recs)


# -- item 3 -----------------------------------------------------------------------------------


def test_item3_no_exported_token_holds_whitespace(store: Store, add_doc: Any, tmp_path: Path) -> None:
    doc = add_doc("Путин, Лавров и др. прибыли в т. ч. в Москву.", lang="ru")
    text = store.text(doc)
    store.add_span(doc, 0, 5, "PER")
    store.set_status(doc, "done")
    words = store.tokens(doc).words(text)
    assert "и др." not in words and ["и", "др."] == words[3:5]
    conll = export_text(store, "conll")
    assert all(len(line.split()) == 2 for line in conll.splitlines()[1:] if line)
    rec = jsonl_records(store)[0]
    assert all(not any(c.isspace() for c in t["text"]) for t in rec["tokens"])
    run_export(store, "hf", Selection(), tmp_path / "x.jsonl")
    hf = json.loads((tmp_path / "x.jsonl").read_text(encoding="utf-8"))
    assert hf["tokens"] == [w for w in words if not w.isspace()]


def test_item3_split_whitespace_keeps_spacy_spacing() -> None:
    text = "и  др. x"
    toks = tokenize(text, "ru")
    assert toks.words(text) == ["и", " ", "др", ".", "x"]
    assert tokenize("Садыр Жапаров", "ky").words("Садыр Жапаров") == ["Садыр", "Жапаров"]


def test_item3_migration_cuts_cached_tokens(store: Store, add_doc: Any) -> None:
    doc = add_doc("Ала-Тоо аянты толду")
    conn = store.db.conn
    # an old cache: spaCy tokens under an old tokenizer id, and imported tokens holding a space
    conn.execute("UPDATE doc_tokens SET tokenizer = 'spacy-3.8.0/ky' WHERE doc_id = ?", [doc])
    other = add_doc("Бишкек шаары")
    conn.execute(
        "UPDATE doc_tokens SET tokenizer = 'import', offsets = ? WHERE doc_id = ?",
        [Tokens.from_pairs([(0, 12)]).to_bytes(), other],
    )
    m005_whitespace_free_tokens(store.db)
    assert conn.execute("SELECT count(*) FROM doc_tokens WHERE doc_id = ?", [doc]).fetchone()[0] == 0
    assert store.tokens(other).words("Бишкек шаары") == ["Бишкек", "шаары"]
    assert store.tokens(doc).words("Ала-Тоо аянты толду") == ["Ала", "-", "Тоо", "аянты", "толду"]


# -- item 4 -----------------------------------------------------------------------------------


def test_item4_hf_label_names_travel_with_the_data(store: Store, add_doc: Any, tmp_path: Path) -> None:
    doc = add_doc("Садыр Жапаров Бишкекте болду.")
    store.add_span(doc, 0, 13, "PER")
    store.add_span(doc, 14, 22, "LOC")
    store.set_status(doc, "done")
    run_export(store, "hf", Selection(labels=("LOC",)), tmp_path / "loc.jsonl")
    run_export(store, "hf", Selection(), tmp_path / "all.jsonl")
    loc = json.loads((tmp_path / "loc.labels.json").read_text(encoding="utf-8"))
    every = json.loads((tmp_path / "all.labels.json").read_text(encoding="utf-8"))
    assert loc == ["O", "B-LOC", "I-LOC"] and every[:3] == ["O", "B-PER", "I-PER"]
    for name, want in (("loc", [("Бишкекте", "LOC")]), ("all", [("Садыр Жапаров", "PER"), ("Бишкекте", "LOC")])):
        with Store(tmp_path / f"{name}.db", "bob") as copy:
            assert import_paths(copy, [tmp_path / f"{name}.jsonl"]).ok
            (d,) = copy.document_ids()
            text = copy.text(d)
            assert [(text[s.start:s.end], s.label) for s in copy.spans(d, annotator="alice")] == want


# -- item 5 -----------------------------------------------------------------------------------


@pytest.fixture
def misaligned(store: Store, write_jsonl: Any) -> Store:
    text = "Садыр Жапаров Бишкекте болду."
    path = write_jsonl([{"text": text, "spans": [{"start": 14, "end": 20, "label": "LOC"}], "answer": "accept"}])
    report = import_paths(store, [path])
    assert report.misaligned == 1  # "Бишкек" inside the token "Бишкекте": kept as given
    return store


def test_item5_one_misaligned_policy_in_every_format(misaligned: Store, tmp_path: Path) -> None:
    store = misaligned
    written = {}
    for fmt, target in (("jsonl", "x.jsonl"), ("spacy", "x.spacy"), ("conll", "x.conll"), ("hf", "h.jsonl"),
                        ("brat", "brat")):
        stats = run_export(store, fmt, Selection(), tmp_path / target)
        assert (stats.misaligned, stats.spans) == (1, 1), fmt  # expand (the default): widened, counted
        with Store(tmp_path / f"{fmt}.db", "bob") as copy:
            assert import_paths(copy, [tmp_path / target]).ok
            who = "alice" if fmt in ("jsonl", "spacy", "hf") else "bob"
            (d,) = copy.document_ids()
            text = copy.text(d)
            written[fmt] = [(text[s.start:s.end], s.label) for s in copy.spans(d, annotator=who)]
    assert set(map(tuple, written.values())) == {(("Бишкекте", "LOC"),)}
    rec = jsonl_records(store)[0]
    sp = rec["spans"][0]
    assert (sp["start"], sp["end"], sp["token_start"], sp["token_end"]) == (14, 22, 2, 2)
    assert rec["tokens"][2]["start"] == sp["start"] and rec["tokens"][2]["end"] == sp["end"]


def test_item5_drop_and_error_policies(misaligned: Store, tmp_path: Path) -> None:
    store = misaligned
    for fmt in ("jsonl", "conll"):
        out = io.BytesIO()
        stats = run_export(store, fmt, Selection(misaligned="drop"), None, stdout=out)
        assert (stats.misaligned, stats.spans, stats.records) == (1, 0, 1)
    with pytest.raises(ExportError, match="not on token boundaries"):
        run_export(store, "spacy", Selection(misaligned="error"), tmp_path / "x.spacy")
    assert not (tmp_path / "x.spacy").exists()
    result = cli("export", "--db", str(store.path), "--misaligned", "error")
    assert result.exit_code == 1 and "not on token boundaries" in result.stderr
    result = cli("export", "--db", str(store.path))
    assert "1 span(s) were off token boundaries: widened to the tokens they touch." in result.stderr


# -- item 6 -----------------------------------------------------------------------------------


PRODIGY_KEYS = {"_input_hash": -123456, "_task_hash": 98765, "_timestamp": 1723700000,
                "_annotator_id": "news-aida", "_session_id": "news-aida", "_view_id": "ner_manual"}


def test_item6_prodigy_hashes_survive_unedited_examples(store: Store, write_jsonl: Any) -> None:
    text = "Садыр Жапаров келди."
    path = write_jsonl([
        {"text": text, "spans": [{"start": 0, "end": 13, "label": "PER"}], "answer": "accept",
         "meta": {"source": "news-feed"}, **PRODIGY_KEYS},
        {"text": "Башка сүйлөм.", "answer": "accept", **{**PRODIGY_KEYS, "_input_hash": 5, "_task_hash": 6}},
    ])
    import_paths(store, [path])
    first, second = jsonl_records(store)
    for key, value in PRODIGY_KEYS.items():
        assert first[key] == value, key
    assert (second["_input_hash"], second["_task_hash"]) == (5, 6)
    assert first["meta"]["source"] == "news-feed"  # the record's own meta.source, not our file name
    assert second["meta"]["source"] == "data.jsonl"  # none given: the file it came from
    # edit the first example (as its annotator): fresh hashes, our own timestamp
    with Store(store.path, "news-aida") as aida:
        doc = aida.document_ids()[0]
        aida.add_span(doc, 14, 19, "LOC")
    edited, unchanged = jsonl_records(store)
    assert edited["_input_hash"] != PRODIGY_KEYS["_input_hash"]
    assert edited["_task_hash"] != PRODIGY_KEYS["_task_hash"]
    assert edited["_timestamp"] != PRODIGY_KEYS["_timestamp"] and "_session_id" not in edited
    assert edited["_annotator_id"] == "news-aida"
    assert (unchanged["_input_hash"], unchanged["_task_hash"]) == (5, 6)
    # undoing the edit makes it the imported example again
    with Store(store.path, "news-aida") as aida:
        aida.undo()
    assert jsonl_records(store)[0]["_task_hash"] == PRODIGY_KEYS["_task_hash"]


# -- item 7 -----------------------------------------------------------------------------------


def kaznerd(write_jsonl: Any) -> Path:
    text = "Астана шаары чоң."
    return write_jsonl([
        {"text": text, "spans": [{"start": 0, "end": 6, "label": "LOC"}]},
        {"text": "Башка сүйлөм."},
        {"text": text, "spans": []},  # the same sentence again, all O
    ], name="kaznerd.jsonl")


def test_item7_conflicting_duplicates_are_reported_and_resolved(store: Store, write_jsonl: Any,
                                                                tmp_path: Path) -> None:
    path = kaznerd(write_jsonl)
    report = import_paths(store, [path])  # default: keep the first, say so
    assert report.ok and report.duplicates == 1
    assert report.conflicts == ["kaznerd.jsonl:3: annotated differently from kaznerd.jsonl:1 (alice); kept the first"]
    assert [(s.start, s.end) for s in store.spans(1)] == [(0, 6)]
    # the same file again: identical annotations are plain duplicates, not conflicts
    again = import_paths(store, [path])
    assert again.duplicates == 3 and len(again.conflicts) == 1  # line 3 still differs from line 1

    with Store(tmp_path / "v.db", "alice") as v:
        report = import_paths(v, [path], on_conflict="version")
        assert "kept as alice#2" in report.conflicts[0]
        assert (v.status(1, "alice#2"), v.spans(1, annotator="alice#2")) == ("done", [])
        assert [r["_annotator_id"] for r in jsonl_records(v)] == ["alice", "alice#2"]
    with Store(tmp_path / "r.db", "alice") as r:
        import_paths(r, [path], on_conflict="replace")
        assert r.spans(1) == [] and r.status(1) == "done"
    with Store(tmp_path / "e.db", "alice") as e:
        report = import_paths(e, [path], on_conflict="error")
        (error,) = report.errors
        assert error.line == 3 and "already annotated differently" in error.message
        assert e.count_documents() == 0  # nothing from the file
        assert (report.annotated, report.negatives, report.conflicts) == ({}, 0, [])  # nor counted as if it were
    # replaced twice in one file: each message names the version it replaced
    chain = write_jsonl([
        {"text": "Ош шаары.", "spans": [{"start": 0, "end": 2, "label": "LOC"}]},
        {"text": "Ош шаары.", "spans": []},
        {"text": "Ош шаары.", "spans": [{"start": 0, "end": 8, "label": "LOC"}]},
    ], name="chain.jsonl")
    with Store(tmp_path / "c.db", "alice") as c:
        report = import_paths(c, [chain], on_conflict="replace")
        assert report.conflicts == [
            "chain.jsonl:2: annotated differently from chain.jsonl:1 (alice); replaced it",
            "chain.jsonl:3: annotated differently from chain.jsonl:2 (alice); replaced it",
        ]
        assert [(s.start, s.end) for s in c.spans(1)] == [(0, 8)]
    result = cli("import", "--db", str(tmp_path / "cli.db"), str(path))
    assert result.exit_code == 0 and "1 text(s) already annotated differently" in result.stderr
    assert "kaznerd.jsonl:3" in result.stderr


# -- item 8 -----------------------------------------------------------------------------------


class FixedLabels:
    """A recogniser with its own label names (as Natasha's PER/LOC/ORG)."""

    name = "fixed"
    priority = 10
    languages = None

    def unavailable(self) -> str | None:
        return None

    def prepare(self, store: Store) -> None:
        pass

    def suggest(self, doc: Any) -> list[Suggestion]:
        return [Suggestion(0, 5, "PER", 0.9), Suggestion(6, 13, "MISC", 0.9)]


def test_item8_recogniser_labels_map_into_the_label_set(store: Store, add_doc: Any) -> None:
    add_doc("Садыр Жапаров келди.")
    store.add_label("Person")
    for name in ("PER", "LOC", "ORG"):
        store.remove_label(name, force=True)
    report = run_recognisers(store, [FixedLabels()], status=None)
    assert report.total == 0 and report.unmapped == {"fixed": {"PER": 1, "MISC": 1}}
    save_label_map(store, {"PER": "Person", "MISC": ""})
    assert load_label_map(store) == {"PER": "Person", "MISC": ""}
    report = run_recognisers(store, [FixedLabels()], status=None)
    assert report.total == 1 and report.unmapped == {}
    assert [(s.label, s.state) for s in store.spans(1, states=("pending",))] == [("Person", "pending")]
    with pytest.raises(LabelMapError, match="not a label here"):
        save_label_map(store, {"ORG": "Organisation"})


def test_item8_suggest_map_option_is_kept_and_unmapped_labels_are_named(store: Store, tmp_path: Path) -> None:
    db = str(store.path)
    for name in ("PER", "LOC", "ORG"):
        store.remove_label(name, force=True)
    store.add_label("Person")
    bad = cli("suggest", "--db", db, "--recogniser", "propagation", "--map", "PER")
    assert bad.exit_code == 1 and "is not FROM=TO" in bad.stderr
    ok = cli("suggest", "--db", db, "--recogniser", "propagation", "--map", "PER=Person")
    assert ok.exit_code == 0
    assert load_label_map(store) == {"PER": "Person"}


def test_item8_suggestions_in_default_labels_the_corpus_does_not_use_are_named(store: Store, add_doc: Any) -> None:
    """FactRuEval's own labels beside the default PER/LOC/ORG: suggestions landing in PER are
    not "unmapped", yet no accepted span uses PER; the library names them, a map ends it."""
    from annotations.label_map import labels_off_the_corpus

    add_doc("Садыр Жапаров келди.")
    other = add_doc("Бишкек шаары.")
    store.add_label("Person")
    store.add_label("Location")
    assert labels_off_the_corpus(store, ["fixed"]) == {}
    store.add_span(other, 0, 6, "Location")  # the corpus uses its own labels
    with Store(store.path, EVERYONE) as everyone:
        run_recognisers(everyone, [FixedLabels()], status=None)
        assert labels_off_the_corpus(everyone, ["fixed"]) == {"fixed": {"PER": 2}}  # one in each document
        assert labels_off_the_corpus(store, ["fixed"]) == {}  # alice has no pending suggestions of her own
        save_label_map(everyone, {"PER": "Person"})
        run_recognisers(everyone, [FixedLabels()], status=None)
        assert labels_off_the_corpus(everyone, ["fixed"]) == {}
        assert [s.label for s in everyone.spans(1, states=("pending",))] == ["Person"]


def test_item8_suggest_warns_when_suggestions_miss_the_corpus_labels(store: Store, tmp_path: Path,
                                                                     write_jsonl: Any) -> None:
    path = write_jsonl([{"text": "Садыр Жапаров Бишкекте болду.", "spans": [{"start": 0, "end": 13, "label": "Person"}]}])
    import_paths(store, [path])
    patterns = tmp_path / "p.jsonl"
    patterns.write_text(json.dumps({"label": "LOC", "pattern": "Бишкекте"}, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    db = str(store.path)
    result = cli("suggest", "--db", db, "--recogniser", "patterns", "--patterns", str(patterns))
    assert result.exit_code == 0, result.output
    assert ("Warning: patterns's suggestions are all in labels no accepted span uses (LOC (1)), while your"
            " accepted spans use Person; if they name the same entities, map them: --map LOC=YOURS") in result.stderr
    store.add_label("Location")
    mapped = cli("suggest", "--db", db, "--recogniser", "patterns", "--patterns", str(patterns), "--map", "LOC=Location")
    assert mapped.exit_code == 0 and "no accepted span uses" not in mapped.stderr


# -- issue 16 -----------------------------------------------------------------------------------


def test_16_item10_control_characters_in_conll_are_replaced(store: Store, write_jsonl: Any) -> None:
    text = "Садыр \x1b]0;PWNED\x07 \x1b]52;c;aGk=\x07 келди \x9b31m."
    import_paths(store, [write_jsonl([{"text": text, "answer": "accept"}])])
    conll = export_text(store, "conll")
    assert not any(ord(c) < 0x20 and c not in "\t\n" or 0x7F <= ord(c) < 0xA0 for c in conll)
    assert "\ufffd]0;PWNED\ufffd\tO" in conll and "\ufffd31\tO" in conll
    result = cli("export", "--db", str(store.path), "--format", "conll")
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_16_item13_brat_overlap_error_names_the_lines(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Ош шаары Бишкек", encoding="utf-8")
    (tmp_path / "a.ann").write_text("T1\tLOC 0 8\tОш шаары\nT7\tLOC 3 8\tшаары\n", encoding="utf-8")
    (error,) = import_paths(store, [tmp_path / "a.txt"]).errors
    assert (error.source, error.line) == ("a.ann", 2)
    assert error.message.startswith("T7 (LOC 3-8) overlaps T1 (LOC 0-8) of line 1")
    # as suggestions, overlapping entities are fine
    assert import_paths(store, [tmp_path / "a.txt"], mode="suggestions").ok


def test_16_item13_brat_missing_label_is_reported_as_such(store: Store, tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("Ош шаары", encoding="utf-8")
    (tmp_path / "b.ann").write_text("T1\t0 2\tОш\n", encoding="utf-8")
    (error,) = import_paths(store, [tmp_path / "b.txt"]).errors
    assert (error.source, error.line) == ("b.ann", 1)
    assert "T1 has no entity type" in error.message and "offsets" not in error.message
