"""``annotate export``: every option, the summary on stderr, errors without tracebacks."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from annotations import Store
from tui.cli import main
from tui.cli_export import export_progress


@pytest.fixture
def db(seeded_store: Store, db_path: Path) -> str:
    """The seeds, three marked done by alice (one with a suggestion), one skipped, one done by bob."""
    store = seeded_store
    ids = store.document_ids()
    for doc_id in ids[:3]:
        toks = store.tokens(doc_id)
        store.add_span(doc_id, toks.starts[2], toks.ends[2], "PER")
        store.add_span(doc_id, toks.starts[4], toks.ends[4], "LOC")
        store.set_status(doc_id, "done")
    toks = store.tokens(ids[0])
    store.add_suggestions(ids[0], [(toks.starts[6], toks.ends[6], "ORG", 0.4)], "patterns")
    store.set_status(ids[3], "skipped")
    with Store(db_path, "bob") as bob:
        bob.set_status(ids[4], "done")
    return str(db_path)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["export", *args])


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_help_has_an_example() -> None:
    result = run("-h")
    assert result.exit_code == 0
    assert "Example:" in result.stdout and "annotate export" in result.stdout
    for option in ("--output", "--format", "--status", "--annotator", "--label", "--include-suggestions"):
        assert option in result.stdout


def test_default_is_jsonl_of_done_documents_to_stdout(db: str) -> None:
    result = run("--db", db)
    assert result.exit_code == 0, result.output
    recs = lines(result)
    assert [(r["meta"]["id"], r["_annotator_id"]) for r in recs] == [(1, "alice"), (2, "alice"), (3, "alice"), (5, "bob")]
    assert ("Exported 4 record(s) of 4 document(s) as jsonl to stdout: 6 span(s);"
            " 1 record(s) without entities (negative examples).") in result.stderr
    assert "0 span(s) were off token boundaries." in result.stderr


def test_output_file(db: str, tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    result = run("--db", db, "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4


def test_status_any(db: str) -> None:
    recs = lines(run("--db", db, "--status", "any"))
    assert [(r["meta"]["id"], r["answer"]) for r in recs] == [
        (1, "accept"), (2, "accept"), (3, "accept"), (4, "ignore"), (5, "accept")
    ]


def test_annotator(db: str) -> None:
    recs = lines(run("--db", db, "--annotator", "bob"))
    assert [(r["meta"]["id"], r["_annotator_id"], r["spans"]) for r in recs] == [(5, "bob", [])]


def test_label_is_repeatable(db: str) -> None:
    only_per = lines(run("--db", db, "--label", "PER"))
    assert {s["label"] for r in only_per for s in r["spans"]} == {"PER"}
    both = lines(run("--db", db, "--label", "PER", "--label", "LOC"))
    assert sum(len(r["spans"]) for r in both) == 6


def test_unknown_label_is_an_error(db: str) -> None:
    result = run("--db", db, "--label", "EVENT")
    assert result.exit_code == 1 and "no label 'EVENT'" in result.stderr
    assert "Traceback" not in result.output


def test_include_suggestions(db: str) -> None:
    result = run("--db", db, "--include-suggestions")
    first = lines(result)[0]
    assert [s["label"] for s in first["spans"]] == ["PER", "LOC"]
    assert [(s["label"], s["source"], s["score"]) for s in first["suggestions"]] == [("ORG", "patterns", 0.4)]
    assert "1 suggestion(s)" in result.stderr
    refused = run("--db", db, "--include-suggestions", "--format", "conll")
    assert refused.exit_code == 1 and "use jsonl or spacy" in refused.stderr


@pytest.mark.parametrize(
    ("fmt", "target", "expect"),
    [
        ("jsonl", "x.jsonl", ["x.jsonl"]),
        ("spacy", "x.spacy", ["x.spacy"]),
        ("conll", "x.conll", ["x.conll"]),
        ("hf", "x.jsonl", ["x.jsonl", "x.labels.json"]),
        ("brat", "brat", ["brat"]),
    ],
)
def test_every_format(db: str, tmp_path: Path, fmt: str, target: str, expect: list[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run("--db", db, "--format", fmt, "-o", str(out / target))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == expect
    assert f"as {fmt} to" in result.stderr
    assert "0 span(s) were off token boundaries." in result.stderr


def test_format_follows_the_output_suffix(db: str, tmp_path: Path) -> None:
    result = run("--db", db, "-o", str(tmp_path / "train.spacy"))
    assert "as spacy to" in result.stderr
    result = run("--db", db, "-o", str(tmp_path / "train.iob"))
    assert "as conll to" in result.stderr
    assert (tmp_path / "train.iob").read_text(encoding="utf-8").startswith("-DOCSTART- -X- O O\n\n")


def test_conll_to_stdout(db: str) -> None:
    result = run("--db", db, "--format", "conll")
    assert result.exit_code == 0 and result.stdout.count("-DOCSTART-") == 4


@pytest.mark.parametrize("fmt", ["spacy", "hf", "brat"])
def test_file_formats_need_an_output(db: str, fmt: str) -> None:
    result = run("--db", db, "--format", fmt)
    assert result.exit_code == 1 and "needs an output" in result.stderr


def test_missing_database_and_bad_output_folder(db: str, tmp_path: Path) -> None:
    result = run("--db", str(tmp_path / "nope.db"))
    assert result.exit_code == 1 and "no database at" in result.stderr
    assert not (tmp_path / "nope.db").exists()
    result = run("--db", db, "-o", str(tmp_path / "missing" / "x.jsonl"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert "Traceback" not in result.output


def test_nothing_matched_says_so(db: str) -> None:
    result = run("--db", db, "--annotator", "nobody")
    assert result.exit_code == 0 and result.stdout == ""
    assert "Nothing matched the selection (try --status all)." in result.stderr


def test_progress_bar_only_on_a_terminal() -> None:
    buffer = io.StringIO()
    terminal = Console(file=buffer, force_terminal=True, width=80)
    with export_progress(terminal) as update:
        update(250, 500)
    assert "Exporting" in buffer.getvalue()
    quiet = io.StringIO()
    with export_progress(Console(file=quiet, force_terminal=False)) as update:
        assert update is None
    assert quiet.getvalue() == ""


def test_refuses_to_write_over_the_database(db: str) -> None:
    before = Path(db).read_bytes()
    result = run("--db", db, "-o", db)
    assert result.exit_code == 1 and "is the database itself" in result.stderr
    assert Path(db).read_bytes() == before


def test_db_and_annotator_before_the_command_apply(db: str) -> None:
    result = CliRunner().invoke(main, ["--db", db, "--annotator", "bob", "export"])
    assert result.exit_code == 0, result.output
    assert [(r["meta"]["id"], r["_annotator_id"]) for r in lines(result)] == [(5, "bob")]
