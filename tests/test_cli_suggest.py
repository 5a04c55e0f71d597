"""``annotate suggest`` and ``annotate evaluate`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from click.testing import CliRunner, Result

from annotations import Store
from tui.cli import main


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=True, prog_name="annotate")


def labelled_db(db_path: Path) -> Store:
    """Seeds imported, "Кыргызстан" and "Москвага" labelled in the first document."""
    store = Store(db_path, "alice")
    from annotations import import_seeds

    import_seeds(store)
    text = store.text(1)
    for surface, label in (("Кыргызстан", "LOC"), ("Москвага", "LOC")):
        i = text.index(surface)
        store.add_span(1, i, i + len(surface), label)
    return store


def test_help_has_an_example() -> None:
    for command in ("suggest", "evaluate"):
        result = run(command, "-h")
        assert result.exit_code == 0 and "Example:" in result.output


def test_suggest_text_and_json(db_path: Path) -> None:
    labelled_db(db_path).close()
    result = run("suggest", "--db", str(db_path), "--annotator", "alice", "--recogniser", "propagation")
    assert result.exit_code == 0, result.output
    assert "new span(s) in 5 document(s)" in result.output and "propagation" in result.output
    again = run("suggest", "--db", str(db_path), "--annotator", "alice", "--recogniser", "propagation",
                "--json", "--status", "any")
    data = json.loads(again.output)
    assert data["documents"] == 5 and data["suggestions"] == {"propagation": 0}  # nothing new
    with Store(db_path, "alice") as store:
        assert any(s.origin == "propagation" for s in store.spans(2, states=("pending",)))


def test_suggest_list_and_unknown_recogniser(db_path: Path) -> None:
    listed = run("suggest", "--list")
    assert listed.exit_code == 0 and "propagation" in listed.output and "natasha" in listed.output
    bad = run("suggest", "--db", str(db_path), "--recogniser", "nope")
    assert bad.exit_code == 1 and "unknown recogniser 'nope'" in bad.output
    assert "Traceback" not in bad.output


def test_suggest_with_patterns_file_and_keeping_them(db_path: Path, write_jsonl: Callable[..., Path]) -> None:
    labelled_db(db_path).close()
    pats = write_jsonl([{"label": "ORG", "pattern": "ЕАЭБ"}, {"label": "EVENT", "pattern": "ЖККУ"}], "orgs.jsonl")
    result = run("suggest", "--db", str(db_path), "--annotator", "alice", "--recogniser", "propagation",
                 "--patterns", str(pats), "--keep-patterns", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.split("\nWarning")[0])
    assert data["suggestions"]["patterns"] > 0
    assert "patterns use the label EVENT" in result.output
    with Store(db_path, "alice") as store:
        from annotations.recognisers.patterns import stored_patterns

        assert [p.label for p in stored_patterns(store)] == ["ORG", "EVENT"]


def test_suggest_bad_patterns_file_is_a_clean_error(db_path: Path, write_jsonl: Callable[..., Path]) -> None:
    pats = write_jsonl([{"label": "ORG", "pattern": "ЕАЭБ"}, '{"label": "ORG", "pattern": [{"FOO": 1}]}'],
                       "bad.jsonl")
    result = run("suggest", "--db", str(db_path), "--patterns", str(pats))
    assert result.exit_code == 1
    assert "bad.jsonl:2: invalid token pattern" in result.output and "Traceback" not in result.output
    assert not db_path.exists()  # refused before the database was opened


def gold_file(write_jsonl: Callable[..., Path], store: Store) -> Path:
    text = store.text(1)
    spans = []
    for surface, label in (("Кыргызстан", "LOC"), ("Москвага", "LOC"), ("Садыр Жапаров", "PER")):
        i = text.index(surface)
        spans.append({"start": i, "end": i + len(surface), "label": label})
    return write_jsonl([{"text": text, "spans": spans}, {"text": "not in the db", "spans": []}], "gold.jsonl")


def test_evaluate_text_and_json(db_path: Path, write_jsonl: Callable[..., Path]) -> None:
    store = labelled_db(db_path)
    gold = gold_file(write_jsonl, store)
    store.close()
    text = run("evaluate", "--db", str(db_path), "--annotator", "alice", str(gold))
    assert text.exit_code == 0, text.output
    assert "overall" in text.output and "1 gold document(s) not in the database" in text.output
    data = json.loads(run("evaluate", "--db", str(db_path), "--annotator", "alice", str(gold), "--json").output)
    assert data["overall"]["exact"]["precision"] == 1.0
    assert data["overall"]["exact"]["recall"] == round(2 / 3, 4)
    assert data["labels"]["PER"]["exact"]["recall"] == 0.0 and data["documents"] == 1
    sugg = json.loads(run("evaluate", "--db", str(db_path), "--annotator", "alice", str(gold),
                          "--what", "suggestions", "--origin", "propagation", "--json").output)
    assert sugg["what"] == "suggestions" and sugg["origins"] == ["propagation"]


def test_evaluate_bad_gold_file_names_file_and_line(db_path: Path, write_jsonl: Callable[..., Path]) -> None:
    bad = write_jsonl([{"text": "ok", "spans": []}, '{"text": "x", "spans": [{"start": 0}]}'], "gold.jsonl")
    result = run("evaluate", "--db", str(db_path), str(bad))
    assert result.exit_code == 1
    assert "gold.jsonl:2: span 1 needs integer \"start\" and \"end\"" in result.output
    assert "Traceback" not in result.output
    missing = run("evaluate", "--db", str(db_path), str(bad.parent / "nope.jsonl"))
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_evaluate_with_no_matching_documents_fails_cleanly(db_path: Path, write_jsonl: Callable[..., Path]) -> None:
    gold = write_jsonl([{"text": "elsewhere", "spans": []}], "gold.jsonl")
    result = run("evaluate", "--db", str(db_path), str(gold))
    assert result.exit_code == 1 and "none of the 1 gold document(s) are in the database" in result.output


def test_suggest_with_a_gazetteer_file(db_path: Path, tmp_path: Path) -> None:
    labelled_db(db_path).close()
    names = tmp_path / "names.tsv"
    names.write_text("LOC\tОрусия\n", encoding="utf-8")
    result = run("suggest", "--db", str(db_path), "--annotator", "alice", "--recogniser", "propagation",
                 "--gazetteer", str(names), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["suggestions"]["gazetteer"] > 0
    with Store(db_path, "alice") as store:  # seed 4 says "Орусия" (Kyrgyz for Russia)
        found = {store.text(4)[s.start:s.end] for s in store.spans(4, states=("pending",))
                 if s.origin == "gazetteer"}
    assert any(f.startswith("Орусия") for f in found), found
    bad = tmp_path / "bad.tsv"
    bad.write_text("LOC Орусия\n", encoding="utf-8")
    refused = run("suggest", "--db", str(db_path), "--gazetteer", str(bad))
    assert refused.exit_code == 1 and f"{bad}:1: expected LABEL<TAB>name" in refused.output
    assert "Traceback" not in refused.output
