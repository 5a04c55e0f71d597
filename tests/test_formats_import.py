"""Import of Prodigy JSONL, CoNLL / IOB, Hugging Face, brat and spaCy files, messy cases included."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import annotations.formats  # noqa: F401  (registers the readers)
from annotations import Store, import_paths
from tui.cli import main

DATA = Path(__file__).parent / "data" / "formats"


def spans_of(store: Store, doc_id: int, annotator: str | None = None) -> list[tuple[str, str]]:
    text = store.text(doc_id)
    return [(text[s.start:s.end], s.label) for s in store.spans(doc_id, annotator=annotator, states=("accepted",))]


def doc_ids(store: Store) -> list[int]:
    return store.document_ids()


def words(store: Store, doc_id: int) -> list[str]:
    return store.tokens(doc_id).words(store.text(doc_id))


# -- Prodigy JSONL -------------------------------------------------------------------------


def test_prodigy_rows_without_spans_answers_and_mismatched_text(store: Store) -> None:
    report = import_paths(store, [DATA / "prodigy.jsonl"])
    assert report.ok, report.to_dict()
    assert report.added == 6
    assert report.spans == 8
    assert report.text_mismatch == 2  # "Путина" and "Москва" disagree with their offsets
    ids = doc_ids(store)
    # accept -> done (with or without spans: issue 10 item 2), reject and ignore -> skipped,
    # spans without an answer -> done, no spans and no answer -> text only (todo);
    # the first record's _annotator_id is whose annotation it is
    assert store.status(ids[0], "news-aida") == "done" and store.status(ids[0]) == "todo"
    assert [store.status(i) for i in ids[1:]] == ["done", "skipped", "skipped", "done", "todo"]
    assert spans_of(store, ids[0], "news-aida") == [
        ("Садыр Жапаров", "PER"), ("Бишкекте", "LOC"), ("Михаил Мишустинди", "PER")
    ]
    assert spans_of(store, ids[1]) == []  # a row without "spans" is text only
    assert spans_of(store, ids[2]) == [("Кулубаев", "PER"), ("Москвага", "LOC")]
    # offsets win over the span "text"
    assert spans_of(store, ids[4]) == [("Путин", "PER"), ("Жапаровым", "PER"), ("Москве", "LOC")]
    assert store.document(ids[0]).meta["source"] == "kabar.kg"
    assert store.document(ids[0]).lang == "ky"


# -- CoNLL ----------------------------------------------------------------------------------


def test_conll_multiword_tokens_i_starts_comments_and_docstart(store: Store) -> None:
    report = import_paths(store, [DATA / "mixed.conll"])
    assert report.ok, report.to_dict()
    assert report.added == 2
    first, second = doc_ids(store)
    assert store.text(first) == (
        "Садыр Жапаров Бишкек шаары келди .\nАла-Тоо аянты толду # Жогорку Кеңеш жыйын өткөрдү"
    )
    # tokens are kept as given, cut at whitespace (issue 10 item 3): "#" is a token, and a
    # multi-word token becomes its words, the entity still covering all of them
    assert words(store, first) == [
        "Садыр", "Жапаров", "Бишкек", "шаары", "келди", ".",
        "Ала-Тоо", "аянты", "толду", "#", "Жогорку", "Кеңеш", "жыйын", "өткөрдү",
    ]
    assert spans_of(store, first) == [
        ("Садыр Жапаров", "PER"), ("Бишкек шаары", "LOC"), ("Ала-Тоо аянты", "LOC"),
        ("Жогорку Кеңеш", "ORG"),
    ]
    assert store.text(second) == "Президент Путин прибыл в Москву"
    assert spans_of(store, second) == [("Путин", "PER"), ("Москву", "LOC")]
    # the two I- starts are warned about, with their lines, and counted
    assert len(report.warnings) == 2
    assert report.warnings[0].startswith("mixed.conll: line 10: entity starts with I-LOC")
    assert "line 13" in report.warnings[1] and "I-ORG" in report.warnings[1]
    assert report.misaligned == 0


def test_conll_bioes_space_separated_with_multiword_token(store: Store) -> None:
    report = import_paths(store, [DATA / "bioes.conll"])
    assert report.ok, report.to_dict()
    (doc,) = doc_ids(store)
    assert store.text(doc) == "Садыр Жапаров Бишкек шаары келди .\nУлуттук банк кызматкерлери жыйналды"
    assert ["Бишкек", "шаары"] == words(store, doc)[2:4]
    assert spans_of(store, doc) == [
        ("Садыр Жапаров", "PER"), ("Бишкек шаары", "LOC"), ("Улуттук банк кызматкерлери", "ORG")
    ]
    assert report.warnings == []


def test_iob1_without_docstart_is_one_document_per_sentence(store: Store) -> None:
    report = import_paths(store, [DATA / "iob1.iob"])
    assert report.ok, report.to_dict()
    first, second = doc_ids(store)
    assert spans_of(store, first) == [("Садыр Жапаров", "PER"), ("Мишустин", "PER")]
    assert spans_of(store, second) == [("Москва", "LOC")]
    assert len(report.warnings) == 2  # both entities that begin with I-


def test_conll_in_a_txt_file_is_detected_by_content(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "tagged.txt"
    path.write_text("-DOCSTART-\tO\n\nБишкек\tB-LOC\nшаары\tO\n", encoding="utf-8")
    report = import_paths(store, [path])
    assert report.ok, report.to_dict()
    (doc,) = doc_ids(store)
    assert spans_of(store, doc) == [("Бишкек", "LOC")]


@pytest.mark.parametrize(
    ("name", "where", "what"),
    [
        ("bad_tag.conll", "bad_tag.conll:4", "'X-PER'"),
        ("no_tag.conll", "no_tag.conll:2", "expected a token and a tag"),
    ],
)
def test_malformed_conll_names_file_and_line_and_writes_nothing(
    store: Store, name: str, where: str, what: str
) -> None:
    report = import_paths(store, [DATA / "bad" / name])
    assert not report.ok
    message = str(report.errors[0])
    assert message.startswith(where) and what in message
    assert store.count_documents() == 0


def test_error_late_in_a_conll_file_writes_nothing_from_it(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "late.conll"
    good = "-DOCSTART-\tO\n\nСадыр\tB-PER\n\n"
    path.write_text(good * 3 + "-DOCSTART-\tO\n\nЖапаров\tB-\n", encoding="utf-8")
    report = import_paths(store, [path])
    assert [str(e) for e in report.errors] == [
        "late.conll:15: tag 'B-' has an invalid label ''"
    ]
    assert store.count_documents() == 0


def test_conll_invalid_utf8_names_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin1.conll"
    path.write_bytes("Садыр\tB-PER\n".encode() + b"Caf\xe9\tO\n")
    report = import_paths(store, [path])
    assert str(report.errors[0]).startswith("latin1.conll:2: invalid UTF-8")


# -- Hugging Face ---------------------------------------------------------------------------


def test_hf_jsonl_with_labels_json_is_detected_and_read(store: Store) -> None:
    report = import_paths(store, [DATA / "hf" / "train.jsonl", DATA / "hf" / "strings.jsonl"])
    assert report.ok, report.to_dict()
    first, second, third = doc_ids(store)
    assert store.text(first) == "Садыр Жапаров Бишкекке келди ."
    assert spans_of(store, first) == [("Садыр Жапаров", "PER"), ("Бишкекке", "LOC")]
    assert spans_of(store, second) == [("Улуттук банк", "ORG")]
    assert spans_of(store, third) == [("Путин", "PER"), ("Москву", "LOC")]


def test_hf_ids_without_labels_json_are_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ids.jsonl"
    path.write_text('{"tokens": ["a"], "ner_tags": [0]}\n', encoding="utf-8")
    report = import_paths(store, [path], fmt="hf")
    assert "ids.jsonl:1" in str(report.errors[0]) and "labels.json" in str(report.errors[0])
    shutil.copy(DATA / "hf" / "labels.json", tmp_path / "labels.json")
    path.write_text('{"tokens": ["a", "b"], "ner_tags": [0, 9]}\n', encoding="utf-8")
    report = import_paths(store, [path], fmt="hf")
    assert "tag id 9" in str(report.errors[0])
    assert store.count_documents() == 0


# -- brat -----------------------------------------------------------------------------------


def test_brat_pair_with_discontinuous_entity_and_relations(store: Store) -> None:
    report = import_paths(store, [DATA / "brat" / "news1.txt"])
    assert report.ok, report.to_dict()
    (doc,) = doc_ids(store)
    assert store.text(doc) == (DATA / "brat" / "news1.txt").read_text(encoding="utf-8")
    assert spans_of(store, doc) == [
        ("Садыр Жапаров", "PER"), ("Бишкекте", "LOC"), ("Михаил Мишустинди", "PER"),
        ("Ала-Тоо", "LOC"), ("аянтында", "LOC"),
    ]
    assert any("discontinuous entity T4" in w for w in report.warnings)
    assert any("skipped 2 relation" in w for w in report.warnings)
    assert report.text_mismatch == 0


def test_brat_by_ann_path_and_in_a_folder(store: Store, tmp_path: Path) -> None:
    report = import_paths(store, [DATA / "brat" / "news1.ann"])
    assert report.ok and report.added == 1
    folder = tmp_path / "corpus"
    shutil.copytree(DATA / "brat", folder)
    report = import_paths(store, [folder])
    assert report.ok and report.files == 1 and report.duplicates == 1  # the .txt only, once


def test_brat_bom_and_crlf_shift_offsets(store: Store, tmp_path: Path) -> None:
    raw = "\ufeffСадыр келди.\r\nЖапаров да келди."
    (tmp_path / "d.txt").write_bytes(raw.encode("utf-8"))
    start = raw.index("Жапаров")
    (tmp_path / "d.ann").write_text(
        f"T1\tPER 1 6\tСадыр\nT2\tPER {start} {start + 7}\tЖапаров\n", encoding="utf-8"
    )
    report = import_paths(store, [tmp_path / "d.txt"])
    assert report.ok, report.to_dict()
    (doc,) = doc_ids(store)
    assert store.text(doc) == "Садыр келди.\nЖапаров да келди."
    assert spans_of(store, doc) == [("Садыр", "PER"), ("Жапаров", "PER")]
    assert report.text_mismatch == 0


def test_brat_bad_offsets_name_the_ann_line(store: Store) -> None:
    report = import_paths(store, [DATA / "bad" / "offsets.txt"])
    message = str(report.errors[0])
    assert message.startswith("offsets.ann:2: T2: offsets 15-99") and "outside the text" in message
    assert store.count_documents() == 0


def test_brat_span_text_disagreeing_is_counted(store: Store, tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("Садыр келди.", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T1\tPER 0 5\tЖапаров\n", encoding="utf-8")
    report = import_paths(store, [tmp_path / "d.txt"])
    assert report.ok and report.text_mismatch == 1


def test_brat_format_without_ann_is_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "lonely.txt").write_text("Садыр келди.", encoding="utf-8")
    report = import_paths(store, [tmp_path / "lonely.txt"], fmt="brat")
    assert "no .ann file" in str(report.errors[0])


# -- spaCy ----------------------------------------------------------------------------------


def test_not_a_docbin_is_refused_cleanly(store: Store) -> None:
    report = import_paths(store, [DATA / "bad" / "not_a_docbin.spacy"])
    message = str(report.errors[0])
    assert message.startswith("not_a_docbin.spacy: not a spaCy DocBin (.spacy) file")
    assert store.count_documents() == 0


def test_not_a_docbin_via_cli_exits_nonzero_without_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["import", "--db", str(tmp_path / "x.db"), str(DATA / "bad" / "not_a_docbin.spacy")]
    )
    assert result.exit_code == 1
    assert "not a spaCy DocBin" in result.output
    assert "Traceback" not in result.output


def test_cli_import_with_format_option(tmp_path: Path) -> None:
    path = tmp_path / "tagged.data"
    path.write_text("Бишкек\tB-LOC\nшаары\tO\n", encoding="utf-8")
    db = str(tmp_path / "x.db")
    result = CliRunner().invoke(main, ["import", "--db", db, "--format", "conll", str(path)])
    assert result.exit_code == 0, result.output
    assert "Spans: 1 accepted" in result.output


def test_folder_import_picks_up_the_new_suffixes(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("mixed.conll", "iob1.iob"):
        shutil.copy(DATA / name, folder / name)
    report = import_paths(store, [folder])
    assert report.ok and report.files == 2 and report.added == 4


def test_importing_formats_does_not_load_spacy() -> None:
    code = "import sys, annotations.formats; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_import_prints_the_i_start_warnings(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "x.db"), str(DATA / "mixed.conll")])
    assert result.exit_code == 0, result.output
    assert "Warning: mixed.conll: line 10: entity starts with I-LOC; read as B-LOC" in result.stderr
    assert "line 13: entity starts with I-ORG" in result.stderr


def test_cli_import_of_a_malformed_file_names_file_and_line_and_exits_nonzero(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = CliRunner().invoke(main, ["import", "--db", str(db), str(DATA / "bad" / "bad_tag.conll")])
    assert result.exit_code == 1
    assert "bad_tag.conll:4: tag 'X-PER' is not O or B-/I-/E-/S-/L-/U- followed by a label" in result.stderr
    assert "Traceback" not in result.output
    with Store(db, "alice") as store:
        assert store.count_documents() == 0
