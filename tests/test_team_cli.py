"""The team commands through click's runner: assign, agree, merge, review's refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from team_helpers import build_team

from annotations import Store, import_seeds
from annotations.team.agree import agree
from tui.cli import main


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    result.flat = " ".join(result.output.split())  # the console wraps long lines
    return result


@pytest.fixture
def team_db(tmp_path: Path) -> Path:
    path = tmp_path / "team.db"
    build_team(path)
    return path


@pytest.mark.parametrize("command", ["assign", "agree", "review", "merge"])
def test_help_has_an_example(command: str) -> None:
    result = run(command, "-h")
    assert result.exit_code == 0 and "Example:" in result.flat


def test_assign_prints_who_got_what(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Store(db, "lead") as lead:
        import_seeds(lead)
    result = run("assign", "--db", str(db), "--annotators", "aida,[red]bek[/red]", "--overlap", "all")
    assert result.exit_code == 0, result.output
    assert "5 document(s) selected, overlap 2: 10 new assignment(s)" in result.flat
    assert "[red]bek[/red]" in result.flat  # a name is data, not markup
    again = run("assign", "--db", str(db), "--annotators", "aida,[red]bek[/red]", "--overlap", "2", "--json")
    assert json.loads(again.output)["covered"] == 5
    bad = run("assign", "--db", str(db), "--annotators", "aida", "--overlap", "3")
    assert bad.exit_code != 0 and "between 1 and 1" in bad.flat and "Traceback" not in bad.flat
    bad = run("assign", "--db", str(db), "--annotators", "aida", "--overlap", "many")
    assert bad.exit_code != 0 and "use a number or all" in bad.flat


def test_agree_json_is_the_library_report(team_db: Path) -> None:
    result = run("agree", "--db", str(team_db), "--json", "--lowest", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    with Store(team_db, "lead") as lead:
        assert data == json.loads(json.dumps(agree(lead).to_dict(2)))
    assert [d["doc_id"] for d in data["lowest"]] == [1, 2]
    text = run("agree", "--db", str(team_db), "--label", "PER", "--annotators", "aida,bek")
    assert text.exit_code == 0 and "Krippendorff's alpha" in text.flat and "aida / bek" in text.flat


def test_agree_without_shared_documents_says_so(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Store(db, "aida") as s:
        import_seeds(s)
        s.set_status(1, "done")
    result = run("agree", "--db", str(db))
    assert result.exit_code == 0 and "no document was marked done by two or more" in result.flat


def test_merge_reports_and_refuses(team_db: Path, tmp_path: Path) -> None:
    laptop = tmp_path / "laptop.db"
    shutil.copy(team_db, laptop)
    with Store(laptop, "dana") as dana:
        dana.add_span(5, 0, 4, "PER")
        dana.set_status(5, "done")
    ok = run("merge", "--db", str(team_db), str(laptop))
    assert ok.exit_code == 0, ok.output
    assert "1 span(s), 1 status(es)" in ok.flat
    again = run("merge", "--db", str(team_db), str(laptop))
    assert again.exit_code == 0 and "nothing new (already merged)" in again.flat
    with Store(laptop, "dana") as dana:
        dana.edit_label("PER", colour="#000000")
    refused = run("merge", "--db", str(team_db), str(laptop), str(tmp_path / "missing.db"))
    assert refused.exit_code != 0
    assert "Refused" in refused.flat and "label 'PER'" in refused.flat and "no such database" in refused.flat
    assert "2 of 2 source(s) refused" in refused.flat


def test_review_needs_two_annotators(team_db: Path) -> None:
    result = run("review", "--db", str(team_db), "--annotators", "aida", "--as", "lead")
    assert result.exit_code != 0 and "two or more annotators" in result.flat


def test_agree_and_review_order_on_a_read_only_database(team_db: Path) -> None:
    """A file that cannot be written (here: a newer schema) is read as it is: agree tokenises
    what is not cached without trying to cache it."""
    import sqlite3

    from annotations.team.review import load_review, prefill, review_queue

    conn = sqlite3.connect(team_db)
    conn.execute("DELETE FROM doc_tokens")
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                 " VALUES ('annotate', 'm099_future', 'x')")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with Store(team_db, "lead") as lead:
        assert lead.read_only
        assert [d for d, _ in review_queue(lead, ["aida", "bek", "chyngyz"])] == [1, 2, 3]
        review = load_review(lead, 1, ["aida", "bek", "chyngyz"])
        assert len(review.conflicts) == 3 and prefill(lead, review) is None  # shown, not written
    result = run("agree", "--db", str(team_db), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["documents"] == 3


def test_agree_pairs_table_keeps_names_and_numbers_whole_at_80_columns(team_db: Path) -> None:
    result = run("agree", "--db", str(team_db), "--lowest", "0")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if " / chyngyz " in line][:2]
    assert len(rows) == 2 and all(len(line) <= 80 and "…" not in line for line in rows), rows
    assert rows[0].split() == ["aida", "/", "chyngyz", "3", "0.888", "0.900", "0.818", "0.857", "0.900", "0.818",
                               "0.857"]
