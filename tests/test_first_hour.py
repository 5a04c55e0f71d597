"""Issue 17, "The first hour": what a new annotator trips over (the library and CLI items).

Each test is named after its item: ``test_item1_...`` for item 1, and so on.
"""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from annotations import Store, import_seeds
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False, prog_name="annotate", env=env)


def seeded(db: Path, annotator: str = "alice") -> Store:
    store = Store(db, annotator)
    import_seeds(store)
    return store


# -- item 1: Natasha comes with the README's install command ------------------------------------


def test_item1_natasha_is_a_regular_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = [d.split(">")[0].split("=")[0].strip() for d in project["dependencies"]]
    assert "natasha" in deps  # `pip install -e .` (the README's one command) installs it
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -e . && .venv/bin/annotate" in readme


def test_item1_hint_without_natasha_is_right_for_a_checkout_and_ends_with_a_newline(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(db_path).close()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "natasha" else real(name, *a))
    result = run("suggest", "--db", str(db_path))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Skipped natasha:")]
    assert len(lines) == 1
    assert "-m pip install 'natasha>=1.6'" in lines[0] and "annotate[ru]" not in lines[0]
    assert result.stderr.endswith("\n")


# -- item 10: output not wrapped when piped; tables cut titles, keep dates whole -------------------


def test_item10_piped_lines_are_not_wrapped(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    result = run("import", "--db", str(db), str(ROOT / "seeds"))
    assert result.exit_code == 0
    line = next(x for x in result.stdout.splitlines() if x.startswith("Imported"))
    assert line.endswith("already in the database.")  # one line, not cut at 80 columns


def test_item10_tables_cut_titles_with_an_ellipsis_and_keep_dates_whole(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with seeded(db) as store:
        store.start_session()
        store.set_status(1, "done")
        store.end_session()
    for columns in ("80", "120"):
        docs = run("docs", "--db", str(db), "--annotator", "alice", env={"COLUMNS": columns}).stdout
        rows = [x for x in docs.splitlines() if x.startswith("│")]
        assert len(rows) == 5  # one line per document: titles are not wrapped
        assert all(len(x) <= int(columns) for x in docs.splitlines())
        assert "…" in docs
    stats = run("stats", "--db", str(db), env={"COLUMNS": "80"}).stdout
    after = stats.split("Tagging sessions", 1)[1]
    session = next(x for x in after.splitlines() if "alice" in x)
    started = session.split("│")[3].strip()
    assert len(started) == 19 and started[4] == "-" and started[13] == ":"  # the whole date and time


# -- item 11: small inconsistencies ----------------------------------------------------------------


def test_item11_missing_source_is_named_once(tmp_path: Path) -> None:
    result = run("import", "--db", str(tmp_path / "a.db"), str(tmp_path / "nonexistent"))
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr
    assert "refused" not in result.stderr and "Imported 0" not in result.stdout


def test_item11_missing_and_refused_sources_are_counted_apart(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    result = run("import", "--db", str(tmp_path / "a.db"), str(tmp_path / "nonexistent"), str(bad))
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr
    assert "1 file(s) refused" in result.stderr


def test_item11_duplicate_key_reads_the_same_in_add_and_edit(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    assert run("labels", "--db", db, "add", "EVENT", "--key", "7").exit_code == 0
    added = run("labels", "--db", db, "add", "OTHER", "--key", "1")
    edited = run("labels", "--db", db, "edit", "EVENT", "--key", "1")
    assert added.exit_code == edited.exit_code == 1
    assert added.stderr == edited.stderr == "Error: key '1' is already used by 'PER'\n"


# -- item 12: titles chosen better, text kept exactly ----------------------------------------------


def test_item12_seed_titles_skip_dates_and_site_chrome(store: Store) -> None:
    import_seeds(store)
    titles = {d.id: d.title for d in store.documents()}
    assert titles[1].startswith("Кыргыз Республикасынын Президенти Садыр Жапаров")
    assert titles[4] == "Жапаров менен Путин кызматташуунун учурдагы абалын талкуулашты"
    assert titles[5].startswith("Товарооборот, безопасность, образование")
    first = sorted((ROOT / "seeds").glob("*.txt"))[0].read_text(encoding="utf-8")
    assert store.text(1) == first.replace("\r\n", "\n")  # the text itself is untouched
    assert store.text(1).lstrip().startswith("date 2025-08-15")


def test_item12_a_title_field_is_preferred(store: Store, write_jsonl) -> None:
    from annotations import import_paths

    path = write_jsonl([
        {"text": "Site icon 24.kg\n\nБишкекте жаан жаады.", "title": "Ооба: жаан"},
        {"text": "Оштон кабар.", "meta": {"title": "  Ош  шаары  "}},
        {"text": "15.08.2025 10:30\nwww.kabar.kg\n\nНарында кар жаады."},
    ])
    assert import_paths(store, [path]).ok
    assert [d.title for d in store.documents()] == ["Ооба: жаан", "Ош шаары", "Нарында кар жаады."]



def test_item12_only_a_leading_date_leaves_the_title() -> None:
    from annotations.text import title_of

    assert title_of("date 2025-08-15 Кыргыз Республикасынын Президенти") == "Кыргыз Республикасынын Президенти"
    assert title_of("15.08.2025 14:30 Бишкекте жаан") == "Бишкекте жаан"
    # A date further on is part of the title (the pattern once searched the whole first line).
    assert title_of("Жыйын 15.08.2025 өттү") == "Жыйын 15.08.2025 өттү"
    assert title_of("Site icon 24.kg " + "сөз " * 10) == ("Site icon 24.kg " + "сөз " * 10).strip()

# -- item 17: mojibake found at import, kept, repaired only when asked -----------------------------


SEED_003 = next((ROOT / "seeds").glob("003_*.txt"))


def test_item17_mojibake_is_kept_and_warned_about_with_file_and_line(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    result = run("import", "--db", str(db), str(SEED_003))
    assert result.exit_code == 0, result.output
    warning = next(x for x in result.stderr.splitlines() if "mojibake" in x)
    assert warning.startswith(f"Warning: {SEED_003.name}:5: ") and "Ðîññèÿ" in warning
    assert "--fix-mojibake" in warning
    with Store(db, "alice") as store:
        assert store.text(1) == SEED_003.read_text(encoding="utf-8")  # exactly as in the file
        assert "mojibake_repaired" not in store.document(1).meta


def test_item17_fix_mojibake_repairs_and_records_the_change(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    result = run("import", "--db", str(db), "--fix-mojibake", str(SEED_003))
    assert result.exit_code == 0, result.output
    assert "repaired mojibake in 1 line(s)" in result.stderr
    with Store(db, "alice") as store:
        doc = store.document(1)
    assert "Россия. Сочи. Президент Киргизии Садыр Жапаров и президент РФ Владимир Путин" in doc.text
    assert "ÐÔ" not in doc.text and len(doc.text) == len(SEED_003.read_text(encoding="utf-8"))
    (change,) = doc.meta["mojibake_repaired"]
    assert change["line"] == 5 and "Ðîññèÿ" in change["before"] and "Россия" in change["after"]
    assert change["how"] == "cp1251 text read as Latin-1"


def test_item17_utf8_mojibake_in_jsonl_names_the_line_and_spares_records_with_spans(
    store: Store, write_jsonl
) -> None:
    from annotations import import_paths

    bad = "Текст без ошибок".encode("utf-8").decode("cp1251")  # "РўРµРєСЃС‚ Р±РµР· РѕС€РёР±РѕРє"
    path = write_jsonl([
        {"text": "Ош шаары"},
        {"text": bad},
        {"text": bad + " Ош", "spans": [{"start": len(bad) + 1, "end": len(bad) + 3, "label": "LOC"}]},
        {"text": "café crème à la mode"},
    ])
    kept = import_paths(store, [path])
    assert [w.split(": ")[0] for w in kept.warnings] == ["data.jsonl:2", "data.jsonl:3"]
    fixed_store = Store(store.path.with_name("b.db"), "alice")
    fixed = import_paths(fixed_store, [path], fix_mojibake=True)
    texts = [fixed_store.text(i) for i in fixed.doc_ids]
    assert texts[1] == "Текст без ошибок" and texts[2] == bad + " Ош" and texts[3] == "café crème à la mode"
    assert any("not repaired" in w and w.startswith("data.jsonl:3") for w in fixed.warnings)
    assert fixed_store.document(fixed.doc_ids[1]).meta["mojibake_repaired"][0]["before"] == bad
    fixed_store.close()


# -- item 2: suggest on a fresh database says why nothing came and what to do ------------------------


def test_item2_fresh_database_says_why_and_what_next(db_path: Path) -> None:
    seeded(db_path).close()
    result = run("suggest", "--db", str(db_path), "--recogniser", "propagation", "--recogniser", "patterns")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "Suggested 0 new span(s) in 5 document(s)" in result.stdout
    assert "propagation: 0 new, ran on 4 Kyrgyz, 1 Russian document(s); nothing labelled yet" in err
    assert "patterns: 0 new" in err and "no patterns (give --patterns FILE)" in err
    assert "Nothing new was suggested. Next: open the app" in err and "1 for PER" in err
    assert "--patterns FILE" in err.split("Next:")[1]
    data = json.loads(run("suggest", "--db", str(db_path), "--recogniser", "propagation", "--json").stdout)
    assert data["annotator"] == "*" and data["notes"][-1].startswith("Nothing new was suggested")


def test_item2_names_the_languages_a_recogniser_skips(db_path: Path) -> None:
    pytest.importorskip("natasha")
    seeded(db_path).close()
    result = run("suggest", "--db", str(db_path), "--recogniser", "natasha")
    assert result.exit_code == 0, result.output
    assert "natasha: " in result.stderr
    line = next(x for x in result.stderr.splitlines() if x.strip().startswith("natasha:"))
    assert "ran on 1 Russian document(s) (not on 4 Kyrgyz)" in line
    assert "Nothing new was suggested" not in result.stderr


# -- item 14: suggestions are for everyone; commands say whose work they show ------------------------


def _shared_suggestions(db: Path, write_jsonl) -> Path:
    """``annotate suggest`` run by another user (bob) with a patterns file."""
    pats = write_jsonl([{"label": "PER", "pattern": "Садыр Жапаров"}, {"label": "LOC", "pattern": "Москва"}],
                       "people.jsonl")
    result = run("suggest", "--db", str(db), "--patterns", str(pats), "--recogniser", "patterns",
                 env={"USER": "bob"})
    assert result.exit_code == 0, result.output
    assert "These suggestions are for everyone" in result.stderr
    return pats


def test_item14_the_app_as_alice_shows_and_decides_suggestions_made_by_another_user(
    db_path: Path, write_jsonl
) -> None:
    import asyncio

    from tui_helpers import loaded, make_app, until

    seeded(db_path).close()
    _shared_suggestions(db_path, write_jsonl)
    alice = Store(db_path, "alice")
    shared = alice.spans(1, states=("pending",))
    assert shared and all(s.annotator == "*" for s in shared)

    async def scenario() -> None:
        async with make_app(alice).run_test(size=(120, 40)) as pilot:
            reader = await loaded(pilot, 1)
            model = reader.model
            assert model is not None and model.spans.pending == len(shared)
            await pilot.press("tab", "enter")  # to the first suggestion, accept it
            await until(pilot, lambda: bool(alice.spans(1, states=("accepted",))))
            await until(pilot, lambda: model.spans.accepted == 1 and model.spans.pending == len(shared) - 1)
            assert [s.annotator for s in model.spans if s.state == "accepted"] == ["alice"]
            await pilot.press("u")
            await until(pilot, lambda: model.spans.accepted == 0 and model.spans.pending == len(shared))
            await pilot.press("ctrl+r")
            await until(pilot, lambda: model.spans.accepted == 1)
            await pilot.press("d")
            await until(pilot, lambda: alice.status(1) == "done")

    asyncio.run(asyncio.wait_for(scenario(), 60))
    [mine] = alice.spans(1, states=("accepted",))
    assert (mine.annotator, mine.origin) == ("alice", "patterns")
    alice.close()
    with Store(db_path, "carol") as carol:  # nobody else's view changed
        assert len(carol.spans(1, states=("pending",))) == len(shared)
        assert not carol.spans(1, states=("accepted",))

    docs = run("docs", "--db", str(db_path), "--annotator", "alice", env={"COLUMNS": "120"})
    row = next(x for x in docs.stdout.splitlines() if x.startswith("│ 1 "))
    assert "done" in row and "│ 1 " in row.split("done", 1)[1]  # done, one entity
    assert "Showing alice's status and entities" in docs.stderr
    mine_only = run("docs", "--db", str(db_path), "--json", "--annotator", "alice").stdout
    assert json.loads(mine_only.splitlines()[0])["suggestions"] == len(shared) - 1

    stranger = run("docs", "--db", str(db_path), env={"USER": "root"})
    assert "Showing root's status and entities" in stranger.stderr
    assert "Warning: root has no finished documents or accepted spans" in stranger.stderr
    assert "alice (1 finished, 1 accepted)" in stranger.stderr


def test_item14_evaluate_warns_for_an_annotator_with_nothing(db_path: Path, write_jsonl) -> None:
    store = seeded(db_path)
    text = store.text(1)
    i = text.index("Садыр Жапаров")
    gold = write_jsonl([{"text": text, "spans": [{"start": i, "end": i + 13, "label": "PER"}]}], "gold.jsonl")
    store.add_span(1, i, i + 13, "PER")
    store.close()
    nobody = run("evaluate", "--db", str(db_path), "--annotator", "nobody", str(gold))
    assert nobody.exit_code == 0
    assert "Showing nobody's accepted spans" in nobody.stderr
    assert "Warning: nobody has no finished documents or accepted spans" in nobody.stderr
    assert "alice (0 finished, 1 accepted)" in nobody.stderr
    alice = run("evaluate", "--db", str(db_path), "--annotator", "alice", str(gold))
    assert "Warning" not in alice.stderr and "1.000" in alice.stdout
    empty = run("evaluate", "--db", str(db_path), "--what", "suggestions", str(gold))
    assert "suggestions for everyone" in empty.stderr and "no pending suggestions" in empty.stderr
    _shared_suggestions(db_path, write_jsonl)
    shared = json.loads(run("evaluate", "--db", str(db_path), "--what", "suggestions", str(gold),
                            "--json").stdout)
    assert shared["annotator"] == "*" and shared["overall"]["exact"]["recall"] == 1.0
    mine = json.loads(run("evaluate", "--db", str(db_path), "--what", "suggestions", "--annotator", "carol",
                          str(gold), "--json").stdout)
    assert mine["overall"]["exact"]["recall"] == 1.0  # carol sees the suggestions for everyone
    stats = run("stats", "--db", str(db_path)).stdout
    assert "│ *         │" in stats and "*: the suggestions for everyone" in stats


# -- item 16: spaCy training shows its progress; a mixed corpus gets xx -----------------------------


def test_item16_spacy_training_shows_epochs_loss_score_and_picks_xx_for_a_mix(
    store: Store, write_jsonl, db_path: Path, tmp_path: Path
) -> None:
    from annotations import import_paths
    from test_cli_train import records

    assert import_paths(store, [write_jsonl(records())]).ok
    out = tmp_path / "ner"
    result = run("train", "--db", str(db_path), "--model", "spacy", "-o", str(out), "--max-steps", "40")
    assert result.exit_code == 0, result.output
    err = result.stderr.splitlines()
    assert err[0] == "Training on every annotator's labelled documents (--annotator NAME for one's only)."
    assert err[1] == ("Pipeline language: xx (the documents mix languages (ky (6), ru (6)) and a pipeline"
                      " has one tokenizer: xx, spaCy's multi-language one, serves them all).")
    held = [x for x in err if x.startswith("Training spaCy: step")]
    final = [x for x in err if x.startswith("Training spaCy on all documents: step")]
    assert len(held) >= 4 and len(final) >= 4
    import re

    assert all(re.search(r"epoch +\d+  loss +\d+\.\d\d  F1 on held-out [01]\.\d{3}$", x) for x in held)
    assert "step 40/40" in held[-1] and "F1 on training" in final[-1]
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["lang"] == "xx"
    chosen = run("train", "--db", str(db_path), "--model", "spacy", "--max-steps", "10", "--lang", "ky", "--json")
    assert json.loads(chosen.stdout)["lang"] == "ky" and chosen.stderr == ""


def test_item14_every_decision_on_a_shared_suggestion_is_the_annotators_own(store: Store, add_doc) -> None:
    from annotations import EVERYONE

    text = "Садыр Жапаров Москвага келди. Ал Владимир Путин менен Бишкекте жолукту."
    doc = add_doc(text)
    at = {w: text.index(w) for w in ("Садыр Жапаров", "Москвага", "Владимир Путин", "Бишкекте")}
    with Store(store.path, EVERYONE) as everyone:
        everyone.add_suggestions(doc, [(at["Садыр Жапаров"], at["Садыр Жапаров"] + 13, "PER", 0.9),
                                       (at["Москвага"], at["Москвага"] + 8, "LOC", 0.8),
                                       (at["Владимир Путин"], at["Владимир Путин"] + 14, "PER", 0.7),
                                       (at["Бишкекте"], at["Бишкекте"] + 8, "LOC", 0.6)], origin="natasha")
    assert store.documents()[0].suggestions == 4
    shared = {text[s.start:s.end]: s for s in store.spans(doc)}
    store.reject(shared["Москвага"].id)
    store.delete_span(shared["Бишкекте"].id)
    store.relabel_span(shared["Владимир Путин"].id, "ORG")
    i = at["Садыр Жапаров"]
    store.add_span(doc, i, i + 5, "PER")  # over part of a shared suggestion: it is hidden
    mine = {(text[s.start:s.end], s.state, s.label, s.annotator) for s in
            store.spans(doc, states=("accepted", "pending", "rejected"))}
    assert mine == {("Москвага", "rejected", "LOC", "alice"), ("Бишкекте", "rejected", "LOC", "alice"),
                    ("Владимир Путин", "accepted", "ORG", "alice"), ("Садыр", "accepted", "PER", "alice")}
    assert store.documents()[0].suggestions == 0 and store.documents()[0].entities == 2
    last = store.events(annotator="alice", limit=1)[0]["changes"]
    assert [c["span"]["annotator"] for c in last if c.get("view")] == [EVERYONE]
    store.undo()
    assert [text[s.start:s.end] for s in store.spans(doc, states=("pending",))] == ["Садыр Жапаров"]
    assert store.accept_all(doc).spans[0].annotator == "alice"
    with Store(store.path, "bob") as bob:
        assert len(bob.spans(doc, states=("pending",))) == 4 and not bob.spans(doc, states=("accepted",))
    with Store(store.path, EVERYONE) as everyone:
        assert [s.state for s in everyone.spans(doc)] == ["pending"] * 4  # the shared rows never change
