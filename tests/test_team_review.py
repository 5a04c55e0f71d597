"""Adjudication: conflicts of the scripted team, the reviewer's decisions as events, the review
screen driven by keys (Pilot), the gold exported, and agreement against the reviewer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from team_helpers import build_team, expected_spans, span_of
from tui_helpers import sync, until

from annotations import Store
from annotations.team.agree import agree
from annotations.team.review import doc_review, load_review, prefill, review_queue, take, take_all
from tui.cli import main
from tui.review import ReviewApp

TEAM3 = ["aida", "bek", "chyngyz"]


@pytest.fixture(scope="module")
def team_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("team") / "team.db"
    build_team(path)
    return path


@pytest.fixture
def team_db(team_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "team.db"
    shutil.copy(team_template, path)
    return path


def mine(store: Store, doc_id: int) -> set[tuple[int, int, str]]:
    return {(s.start, s.end, s.label) for s in store.spans(doc_id, states=("accepted",))}


def test_conflicts_by_kind() -> None:
    review = doc_review(7, {
        "a": [(0, 5, "PER"), (10, 20, "LOC"), (30, 40, "ORG"), (50, 60, "PER")],
        "b": [(0, 5, "PER"), (10, 20, "ORG"), (33, 40, "ORG"), (70, 75, "LOC")],
    })
    assert review.agreed == [(0, 5, "PER")]
    assert [(c.start, c.end, c.kind) for c in review.conflicts] == [
        (10, 20, "label"), (30, 40, "boundaries"), (50, 60, "missing"), (70, 75, "missing")]
    assert review.conflicts[1].option("b").spans == ((33, 40, "ORG"),)
    assert review.next_conflict(25) == 1 and review.next_conflict(80) == 0 and review.next_conflict(5, -1) == 3


def test_documents_come_lowest_agreement_first(team_db: Path) -> None:
    with Store(team_db, "lead") as lead:
        assert [d for d, _ in review_queue(lead, TEAM3)] == [1, 2, 3]
        # aida-chyngyz: doc 1 6/7, doc 2 all equal, doc 3 3 of 4+4.
        assert [d for d, _ in review_queue(lead, ["aida", "chyngyz"])] == [3, 1, 2]


def test_decisions_are_events_that_undo_and_survive_a_restart(team_db: Path) -> None:
    with Store(team_db, "lead") as lead:
        review = load_review(lead, 1, TEAM3)
        assert [c.kind for c in review.conflicts] == ["missing", "label", "boundaries"]
        prefill(lead, review)
        assert mine(lead, 1) == {(*span_of(lead, 1, "Садыр Жапаров"), "PER")}
        assert prefill(lead, review) is None  # once per document
        assert not lead.can_undo()  # opening a document is not a decision: undo passes over it
        take(lead, review.conflicts[2], "bek")  # Мишустинди without Михаил
        assert (*span_of(lead, 1, "Мишустинди"), "PER") in mine(lead, 1)
        take(lead, review.conflicts[2], "aida")  # changed my mind: the full name
        assert (*span_of(lead, 1, "Михаил Мишустинди"), "PER") in mine(lead, 1)
        origins = {s.origin for s in lead.spans(1)}
        assert origins == {"review:agreed", "review:aida"}
    with Store(team_db, "lead") as lead:  # a restart
        lead.undo()
        assert (*span_of(lead, 1, "Мишустинди"), "PER") in mine(lead, 1)
        lead.redo()
        take_all(lead, load_review(lead, 1, TEAM3), "bek")
        assert mine(lead, 1) == expected_spans(lead, 1, "bek")
        assert [e["action"] for e in lead.events(annotator="lead", limit=5)][:2] == ["review_take_all", "redo"]


def _app(path: Path) -> ReviewApp:
    return ReviewApp(Store(path, "lead"), TEAM3)


async def _ready(pilot, app: ReviewApp, doc_id: int | None = None) -> None:
    screen = app.review_screen
    await until(pilot, lambda: screen.review is not None and screen.reader.model is not None
                and (doc_id is None or screen.reader.doc_id == doc_id))
    await pilot.pause()


@sync
async def test_review_screen_by_keys(team_db: Path) -> None:
    app = _app(team_db)
    store = app.store
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot, app, 1)
        screen = app.review_screen
        assert "Conflict 1 / 3 · missing on one side" in screen.panel.plain
        assert "chyngyz   — nothing here" in screen.panel.plain
        # The agreed span is already in the reviewer's layer, and on screen.
        assert screen.reader.model.spans.accepted == 1
        await pilot.press("tab")
        assert "Conflict 2 / 3 · different label" in screen.panel.plain
        await pilot.press("b")  # bek's ORG
        assert (*span_of(store, 1, "Россия Федерациясынын"), "ORG") in mine(store, 1)
        assert "ORG   ✓ chosen" in screen.panel.plain
        await pilot.press("a")  # no: aida's LOC
        assert (*span_of(store, 1, "Россия Федерациясынын"), "LOC") in mine(store, 1)
        await pilot.press("u")
        assert (*span_of(store, 1, "Россия Федерациясынын"), "ORG") in mine(store, 1)
        await pilot.press("ctrl+r")
        assert (*span_of(store, 1, "Россия Федерациясынын"), "LOC") in mine(store, 1)
        await pilot.press("tab", "tab")  # round to the first conflict: the missing one
        assert "Conflict 1 / 3" in screen.panel.plain
        await pilot.press("3")  # by hand: the region is selected, 3 is ORG
        assert (*span_of(store, 1, "Кыргыз Республикасынын"), "ORG") in mine(store, 1)
        assert {s.origin for s in store.spans(1)} >= {"review:manual"}
        await pilot.press("C")  # all of chyngyz in this document
        assert mine(store, 1) == expected_spans(store, 1, "chyngyz")
        main_doc = app.reader.doc_id  # the annotator screen under the review screen
        await pilot.press("s", "slash", "ctrl+p")  # its keys do nothing here
        await pilot.pause()
        assert app.screen is screen
        assert main_doc is None or store.status(main_doc) == "todo"
        await pilot.press("d")
        await _ready(pilot, app, 2)
        assert store.status(1) == "done"
        assert "review 2 / 3" in screen.title_bar.details
        await pilot.press("left_square_bracket")
        await _ready(pilot, app, 1)
        await pilot.press("q")
    # Decisions survive the restart: undo in a new app takes back "all of chyngyz".
    app = _app(team_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot, app, 2)  # doc 1 is reviewed: it opens on the next
        await pilot.press("u")  # undo "reviewed" (doc 1): the screen goes to it
        await _ready(pilot, app, 1)
        await pilot.press("u")
        await pilot.pause()
        assert mine(app.store, 1) != expected_spans(app.store, 1, "chyngyz")
        await pilot.press("q")


@sync
async def test_untrusted_names_are_shown_as_text(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    build_team(path)
    with Store(path, "lead") as lead:
        lead.db.conn.execute("UPDATE doc_status SET annotator = '[red]bek[/red]' WHERE annotator = 'bek'")
        lead.db.conn.execute("UPDATE spans SET annotator = '[red]bek[/red]' WHERE annotator = 'bek'")
    app = ReviewApp(Store(path, "lead"), ["aida", "[red]bek[/red]"])
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot, app, 1)
        assert "[red]bek[/red]" in app.review_screen.panel.plain
        await pilot.press("q")


def test_export_the_gold_and_agreement_against_the_reviewer(team_db: Path, tmp_path: Path) -> None:
    with Store(team_db, "lead") as lead:
        for doc_id in (1, 2, 3):
            review = load_review(lead, doc_id, TEAM3)
            prefill(lead, review)
            take_all(lead, review, "aida")
            lead.set_status(doc_id, "done")
    out = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(main, ["export", "--db", str(team_db), "--annotator", "lead", "-o", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with Store(team_db, "lead") as lead:
        assert [r["_annotator_id"] for r in records] == ["lead"] * 3
        for doc_id, record in zip((1, 2, 3), records):
            assert {(s["start"], s["end"], s["label"]) for s in record["spans"]} == expected_spans(lead, doc_id, "aida")
        report = agree(lead)
        assert report.reviewer == "lead" and report.annotators == TEAM3
        versus = {p.b: p for p in report.versus_reviewer}
        assert versus["aida"].overall.exact.f1 == 1.0 and versus["aida"].kappa == 1.0
        assert versus["bek"].overall.exact.f1 == pytest.approx(8 / 11)
    result = CliRunner().invoke(main, ["agree", "--db", str(team_db)])
    assert result.exit_code == 0, result.output
    assert "Against the reviewer lead" in result.output


def test_keymap_files_may_remap_the_review_and_queue_keys(tmp_path: Path) -> None:
    from tui.keymap import KeymapError, load_keymap
    from tui.review_keys import REVIEW_BINDINGS

    path = tmp_path / "keys.toml"
    path.write_text('"review.next_conflict" = "n"\n"review.take_b" = "2"\n"app.toggle_mine" = "M"\n',
                    encoding="utf-8")
    assert load_keymap(path) == {"review.next_conflict": "n", "review.take_b": "2", "app.toggle_mine": "M"}
    path.write_text('"review.no_such_thing" = "n"\n', encoding="utf-8")
    with pytest.raises(KeymapError, match="unknown binding id 'review.no_such_thing'"):
        load_keymap(path)
    assert all(b.id and b.tooltip for b in REVIEW_BINDINGS)


@sync
async def test_remapped_review_keys_act_and_the_panel_shows_them(team_db: Path) -> None:
    # "2" is also the LOC label's key in the reader: the keymap's pick key wins, as asked.
    app = ReviewApp(Store(team_db, "lead"), TEAM3, keymap={"review.next_conflict": "n", "review.take_b": "2"})
    store = app.store
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot, app, 1)
        screen = app.review_screen
        assert " 2  bek " in screen.panel.plain and " b  bek " not in screen.panel.plain
        await pilot.press("n")
        assert "Conflict 2 / 3 · different label" in screen.panel.plain
        await pilot.press("2")
        assert (*span_of(store, 1, "Россия Федерациясынын"), "ORG") in mine(store, 1)
        await pilot.press("q")


@sync
async def test_labels_on_letter_keys_label_by_hand_in_the_review_screen(team_db: Path) -> None:
    with Store(team_db, "lead") as lead:
        lead.add_label("EVENT", key="p")
        lead.add_label("MISC", key="e")  # e takes annotator 4's version on the review screen
    with Store(team_db, "*") as everyone:  # a suggestion for everyone: not part of the review
        everyone.db.conn.execute(
            "INSERT INTO spans (doc_id, start, end, label, annotator, origin, state, created, updated)"
            " VALUES (1, ?, ?, 'ORG', '*', 'natasha', 'pending', 'x', 'x')", span_of(everyone, 1, "Төрагасы"))
    app = _app(team_db)
    store = app.store
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot, app, 1)
        assert any("Label MISC has key e" in n.message for n in app._notifications)
        assert store.spans(1, states=("pending",)) and not app.review_screen.reader.model.spans.pending
        await pilot.press("p")  # the first conflict's region is selected: Кыргыз Республикасынын
        assert (*span_of(store, 1, "Кыргыз Республикасынын"), "EVENT") in mine(store, 1)
        assert {s.origin for s in store.spans(1)} >= {"review:manual"}
        await pilot.press("q")


@sync
async def test_help_lists_the_review_keys_first_and_only_keys_that_act_here(team_db: Path) -> None:
    from tui.help import HelpScreen

    app = _app(team_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot, app, 1)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ids = [row.id for row in app.screen.rows]
        assert ids[0] == "review.next_conflict" and "review.take_all_c" in ids
        assert {"reader.label_1", "reader.delete", "reader.extend", "app.quit"} <= set(ids)
        assert not {"app.skip", "app.search", "doclist.filter", "reader.accept", "reader.next_entity"} & set(ids)
        assert all(row.tooltip for row in app.screen.rows if row.id)
        await pilot.press("escape", "q")
