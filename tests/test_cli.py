"""The ``annotate`` command line through click's CliRunner: help, import, docs, stats, labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

import click
import pytest
from click.testing import CliRunner, Result

from annotations import __version__, open_store
from tui.cli import main

KY = "Садыр Жапаров Бишкекте өкмөт мүчөлөрү менен жолукту."
RU = "Президент России Владимир Путин прилетел в Бишкек."


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=True, prog_name="annotate")
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an uncaught error is a bug, never a message to the user
    return result


def ok(*args: str, env: dict[str, str] | None = None) -> Result:
    result = run(*args, env=env)
    assert result.exit_code == 0, result.output
    return result


def fails(*args: str, code: int = 1, env: dict[str, str] | None = None) -> Result:
    result = run(*args, env=env)
    assert result.exit_code == code, result.output
    assert "Error" in result.output
    return result


@pytest.fixture
def corpus(tmp_path: Path, write_jsonl: Callable[..., Path]) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ky.txt").write_text(KY, encoding="utf-8")
    start = RU.index("Путин")
    write_jsonl([{"text": RU, "spans": [{"start": start, "end": start + 5, "label": "PER"}]}],
                name="corpus/ru.jsonl")
    return folder


def all_commands() -> Iterator[tuple[list[str], click.Command]]:
    """Every command and subcommand path, lazily loaded ones included."""
    ctx = click.Context(main)

    def walk(path: list[str], cmd: click.Command) -> Iterator[tuple[list[str], click.Command]]:
        yield path, cmd
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, name
                yield from walk([*path, name], sub)

    yield from walk([], main)


COMMANDS = [path for path, _ in all_commands()]


def test_version() -> None:
    assert ok("--version").output.strip() == f"annotate, version {__version__}"


def test_the_foundation_commands_exist() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"import", "docs", "stats", "labels", "labels add", "labels edit", "labels remove"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "annotate")
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_has_help_with_an_example(path: list[str], flag: str) -> None:
    out = ok(*path, flag).output
    assert out.startswith("Usage: annotate")
    assert "Example:" in out
    example = out.split("Example:", 1)[1].strip().splitlines()[0]
    assert example.startswith("annotate")


def test_import_docs_stats(tmp_path: Path, corpus: Path) -> None:
    db = str(tmp_path / "cli.db")
    out = ok("import", "--db", db, "--annotator", "aida", str(corpus)).output
    assert "Imported 2 new document(s) from 2 file(s); 0 duplicate(s)" in out
    assert "Spans: 1 accepted" in out
    again = ok("import", "--db", db, "--annotator", "aida", str(corpus), "--json")
    report = json.loads(again.stdout)
    assert (report["added"], report["duplicates"], report["errors"]) == (0, 2, [])

    rows = [json.loads(line) for line in ok("docs", "--db", db, "--json", "--annotator", "aida").stdout.splitlines()]
    assert [(r["title"], r["lang"], r["status"], r["entities"]) for r in rows] == [
        (KY, "ky", "todo", 0), (RU, "ru", "done", 1),  # a record with spans is annotated: done (issue 10)
    ]
    assert rows[1]["source"] == "corpus/ru.jsonl" and rows[1]["line"] == 1
    searched = ok("docs", "--db", db, "--json", "--search", "путин").stdout.splitlines()
    assert [json.loads(line)["id"] for line in searched] == [rows[1]["id"]]
    assert ok("docs", "--db", db, "--json", "--lang", "ky").stdout.count("\n") == 1
    assert ok("docs", "--db", db, "--json", "--status", "done").stdout == ""
    assert ok("docs", "--db", db, "--json", "--limit", "1", "--offset", "1").stdout.count("\n") == 1
    table = ok("docs", "--db", db).stdout
    assert "Садыр Жапаров" in table and "corpus/ru.jsonl:1" in table

    stats = json.loads(ok("stats", "--db", db, "--json").stdout)
    assert stats["documents"]["total"] == 2
    assert stats["documents"]["by_language"] == {"ky": 1, "ru": 1}
    assert stats["spans"]["by_label"] == {"PER": 1}
    assert stats["spans"]["by_origin"] == {"import": 1}
    assert stats["annotators"]["aida"]["spans"] == {"accepted": 1}
    text = ok("stats", "--db", db).stdout
    assert "Documents: 2" in text and "Per annotator" in text and "aida" in text


def test_import_modes_and_language(tmp_path: Path, corpus: Path) -> None:
    db = str(tmp_path / "cli.db")
    ok("import", "--db", db, "--as", "suggestions", "--lang", "xx", str(corpus / "ru.jsonl"))
    with open_store(db, "x") as store:
        (doc,) = store.documents()
        assert doc.lang == "xx"
    stats = json.loads(ok("stats", "--db", db, "--json").stdout)
    assert stats["spans"]["by_state"] == {"pending": 1}
    fails("import", "--db", db, "--as", "maybe", str(corpus), code=2)
    fails("import", "--db", db, "--lang", "de", str(corpus), code=2)


def test_import_errors_are_named_and_exit_non_zero(tmp_path: Path, corpus: Path) -> None:
    db = str(tmp_path / "cli.db")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": "broken\n', encoding="utf-8")
    result = fails("import", "--db", db, str(bad), str(corpus))
    assert "bad.jsonl:2: not valid JSON" in result.stderr
    assert "1 file(s) refused; nothing from them was written." in result.stderr
    assert "Imported 2 new document(s)" in result.stdout  # the good files still went in
    with open_store(db, "x") as store:
        assert store.count_documents() == 2
    missing = fails("import", "--db", db, str(tmp_path / "nowhere.txt"))
    assert "no such file or folder" in missing.stderr
    (tmp_path / "blank.txt").write_text(" \n", encoding="utf-8")
    skipped = ok("import", "--db", db, str(tmp_path / "blank.txt"))
    assert "Skipped blank.txt: empty text" in skipped.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    notice = ok("import", "--db", db, str(empty))
    assert "Notice:" in notice.stderr and "no .txt or .jsonl files" in notice.stderr
    fails("import", "--db", db, code=2)  # no SOURCE


def test_import_reports_new_labels_and_misaligned_spans(tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    db = str(tmp_path / "cli.db")
    path = write_jsonl([{"text": "Жапаровдун сапары.", "spans": [{"start": 0, "end": 7, "label": "PERSON"}]}])
    result = ok("import", "--db", db, str(path))
    assert "New labels added: PERSON" in result.stdout
    assert "1 span(s) do not fall on token boundaries" in result.stderr


def test_labels_list_add_edit_remove(tmp_path: Path, corpus: Path) -> None:
    db = str(tmp_path / "cli.db")
    listing = ok("labels", "--db", db).stdout
    assert all(name in listing for name in ("PER", "LOC", "ORG"))
    assert "Added label EVENT (key 4" in ok("labels", "add", "EVENT", "--db", db).stdout
    ok("labels", "--db", db, "add", "MISC", "--key", "m", "--colour", "#c678dd", "--description", "Other")
    fails("labels", "add", "EVENT", "--db", db)
    assert "invalid colour" in fails("labels", "add", "X", "--colour", "red", "--db", db).stderr
    assert "already used" in fails("labels", "edit", "MISC", "--key", "1", "--db", db).stderr
    ok("labels", "edit", "MISC", "--name", "OTHER", "--colour", "#000000", "--db", db)
    with open_store(db, "x") as store:
        assert [(lab.name, lab.key, lab.colour) for lab in store.labels()][-1] == ("OTHER", "m", "#000000")

    ok("import", "--db", db, str(corpus))
    refused = fails("labels", "remove", "PER", "--db", db)
    assert "used by 1 span(s)" in refused.stderr and "--force" in refused.stderr
    assert "Removed label PER and 1 span(s)." in ok("labels", "remove", "PER", "--force", "--db", db).stdout
    assert "Removed label OTHER." in ok("labels", "remove", "OTHER", "--db", db).stdout
    assert "no label" in fails("labels", "remove", "NOPE", "--db", db).stderr


def test_annotate_db_environment_variable(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "from-env.db"
    monkeypatch.chdir(tmp_path)
    env = {"ANNOTATE_DB": str(db)}
    ok("import", str(corpus), env=env)
    assert db.exists() and not (tmp_path / "annotations.db").exists()
    assert len(ok("docs", "--json", env=env).stdout.splitlines()) == 2
    assert json.loads(ok("stats", "--json", env=env).stdout)["documents"]["total"] == 2
    assert "PER" in ok("labels", env=env).stdout
    # --db wins over the environment.
    other = tmp_path / "other.db"
    ok("docs", "--db", str(other), env=env)
    assert other.exists()


def test_default_database_is_in_the_current_folder(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ok("import", str(corpus))
    assert (tmp_path / "annotations.db").exists()


def test_a_file_that_is_not_a_database_is_a_clean_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("these are my notes\n" * 100, encoding="utf-8")
    for command in (["docs"], ["stats"], ["labels"], ["import", str(bogus)], ["labels", "add", "X"]):
        result = fails(*command, "--db", str(bogus))
        assert "cannot open database" in result.stderr and "notes.txt" in result.stderr
    assert bogus.read_text(encoding="utf-8") == "these are my notes\n" * 100
    missing_dir = tmp_path / "no" / "such" / "dir.db"
    assert "cannot open database" in fails("docs", "--db", str(missing_dir)).stderr
    fails("docs", "--db", str(tmp_path), code=2)  # a folder is not a database file


def test_bad_status_and_arguments_are_usage_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    fails("docs", "--db", db, "--status", "finished", code=2)
    fails("docs", "--db", db, "--limit", "0", code=2)
    fails("nosuchcommand", code=2)


def test_output_never_carries_terminal_escapes_from_data(tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    db = str(tmp_path / "cli.db")
    evil = "\x1b[2J\x1b]0;pwned\x07 [bold]Ош[/bold] шаары"
    ok("import", "--db", db, str(write_jsonl([{"text": evil}], name="e\x1b[31mvil.jsonl")))
    table = ok("docs", "--db", db).stdout
    assert "\x1b" not in table and "\x07" not in table
    assert "␛[2J" in table and "[bold]" in table  # the title is cut to the table's width
    listed = ok("docs", "--db", db, "--json").stdout
    assert "\x1b" not in listed and "[bold]Ош[/bold]" in listed
    refused = fails("labels", "add", "BAD\x1b[31m", "--db", db).stderr
    assert "invalid label name" in refused and "\x1b" not in refused


def test_db_before_the_command_is_honoured(tmp_path: Path) -> None:
    """``annotate --db X import ...`` writes to X, not ./annotations.db."""
    db = tmp_path / "before.db"
    doc = tmp_path / "a.txt"
    doc.write_text("Садыр Жапаров Москвага барды.", encoding="utf-8")
    result = CliRunner().invoke(main, ["--db", str(db), "--annotator", "zed", "import", str(doc)])
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        assert store.count_documents() == 1
    result = CliRunner().invoke(main, ["--db", str(db), "docs", "--json"])
    assert "Садыр Жапаров" in result.output
