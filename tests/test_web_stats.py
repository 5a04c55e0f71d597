"""The dashboard: the charts' numbers (library), ``stats --json``/``--plot``, the statistics
screen (Pilot and snapshots on a database with fixed timestamps) and the name prompt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.widgets import Input
from textual_plotext import PlotextPlot
from tui_helpers import loaded, make_app, sync, until
from web_helpers import SESSIONS, TRAININGS, build_dashboard_db, fixed_clock

from annotations import Store
from annotations.dashboard import chart_data
from annotations.recognisers.crf import model_dir, train_model
from annotations.training_log import read_history
from tui.cli import main
from tui.name_screen import check_name
from tui.serve_app import ServedApp
from tui.stats_screen import StatsScreen


@pytest.fixture
def dash_db(tmp_path: Path) -> Path:
    return build_dashboard_db(tmp_path / "dash.db")


def _stats_json(db: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["stats", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_chart_numbers_equal_stats_json(dash_db: Path) -> None:
    report = _stats_json(dash_db)
    with Store(dash_db, "someone") as store:
        charts = chart_data(store)
    assert report["charts"] == charts
    # ... and they are the numbers the rest of `stats --json` gives.
    by_label = dict(zip(charts["spans_per_label"]["labels"], charts["spans_per_label"]["counts"]))
    assert {k: v for k, v in by_label.items() if v} == report["spans"]["by_label"]
    done = charts["done_per_day"]["annotators"]
    assert {a: sum(done.get(a, [])) for a in report["annotators"]} == {
        a: v["documents"]["done"] for a, v in report["annotators"].items()}
    sessions = {(a, s["id"]): s for a, v in report["annotators"].items() for s in v["sessions"]}
    for row in charts["entities_per_minute"]:
        s = sessions[(row["annotator"], row["session"])]
        assert (row["entities_per_minute"], row["spans_added"], row["minutes"]) == (
            s["entities_per_minute"], s["spans_added"], s["minutes"])


def test_chart_numbers_on_the_fixed_database(dash_db: Path) -> None:
    with Store(dash_db, "someone") as store:
        charts = chart_data(store)
        colours = [lab.colour for lab in store.labels()]
    assert charts["spans_per_label"] == {"labels": ["PER", "LOC", "ORG"], "counts": [4, 2, 2],
                                         "colours": colours}
    assert charts["done_per_day"] == {"days": ["2026-03-02", "2026-03-03"],
                                      "annotators": {"aida": [2, 2], "bek": [1, 0]}}
    assert [(r["annotator"], r["spans_added"]) for r in charts["entities_per_minute"]] == [
        (a, len(spans)) for a, _, spans, _ in SESSIONS]
    assert [(p["documents"], p["f1"]) for p in charts["learning_curve"]["aida"]] == TRAININGS
    assert "bek" not in charts["learning_curve"]
    # Document 1 is done by both: PER "Садыр Жапаров" by both, ORG "ЕАЭБ" by aida alone.
    assert charts["agreement"] == {"documents": 1, "pairs": 1, "labels": ["PER", "ORG"],
                                   "f1": [1.0, 0.0], "spans": [2, 1]}


def test_agreement_counts_only_documents_both_marked_done(tmp_path: Path) -> None:
    db = build_dashboard_db(tmp_path / "d.db")
    with Store(db, "bek") as store:
        text = store.text(2)
        start = text.index("Sputnik")
        store.add_span(2, start, start + len("Sputnik"), "ORG")  # doc 2: aida done, bek not yet
        assert chart_data(store)["agreement"]["labels"] == ["PER", "ORG"]
        store.set_status(2, "done")
        agreement = chart_data(store)["agreement"]
    assert agreement == {"documents": 2, "pairs": 1, "labels": ["PER", "ORG"], "f1": [1.0, 0.6667],
                         "spans": [2, 3]}


def test_an_undone_done_is_not_counted(tmp_path: Path) -> None:
    db = build_dashboard_db(tmp_path / "d.db")
    with fixed_clock("2026-03-04T08:00:00"), Store(db, "bek") as store:
        store.set_status(3, "done")
        store.set_status(1, "todo")
        store.undo()  # doc 3 stays done, doc 1 is done again (its day: today, 03-04)
        charts = chart_data(store)
    assert charts["done_per_day"]["days"][-1] == "2026-03-04"
    assert charts["done_per_day"]["annotators"]["bek"] == [0, 0, 2]


def test_saving_a_model_records_a_learning_curve_point(seeded_store: Store) -> None:
    text = seeded_store.text(1)
    start = text.index("Садыр Жапаров")
    seeded_store.add_span(1, start, start + len("Садыр Жапаров"), "PER")
    seeded_store.set_status(1, "done")
    model, _ = train_model(seeded_store)
    history = read_history(model_dir(seeded_store.path, "alice"))
    assert [(p["documents"], p["f1"]) for p in history] == [(1, None)]
    assert chart_data(seeded_store)["learning_curve"]["alice"][0]["documents"] == 1


def test_a_broken_history_line_is_skipped(tmp_path: Path, dash_db: Path) -> None:
    folder = model_dir(dash_db, "aida")
    with open(folder / "history.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"documents": 9, "f1": 0.9}\n{"documents": "x"}\n[1]\n{"documents": 10, "f1')
    assert [p["documents"] for p in read_history(folder)] == [1, 2, 4, 9]


def test_stats_plot_draws_every_chart(dash_db: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "--db", str(dash_db), "--plot"])
    assert result.exit_code == 0, result.output
    out = result.output
    for title in ("Accepted spans per label (8)", "Documents done per day (UTC)",
                  "Entities per minute, per session", "Model F1 by labelled documents",
                  "Agreement F1 per label (1 doc)"):
        assert title in out
    assert "aida #1" in out and "bek #2" in out and "03-02" in out and "labelled documents" in out
    assert "\x1b" not in out  # not a terminal: no colour codes


def test_stats_plot_on_an_empty_database_says_why(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "--db", str(tmp_path / "e.db"), "--plot"])
    assert result.exit_code == 0, result.output
    assert "none done yet" in result.output
    assert "no session has added spans" in result.output
    assert "no model yet: mark documents done (d)" in result.output
    assert "needs documents done by two annotators" in result.output


def test_hostile_annotator_name_is_inert_in_the_plot(tmp_path: Path) -> None:
    evil = "\x1b]0;pwned\x07\x1b[31mmallory"
    db = tmp_path / "h.db"
    with Store(db, evil) as store:
        store.db.conn.execute("INSERT INTO documents (hash, source, title, lang, text, meta, created)"
                              " VALUES ('h', 's', 't', 'ru', 'Путин приехал.', '{}', '2026-01-01')")
        store.start_session()
        store.add_span(1, 0, 5, "PER")
        store.set_status(1, "done")
        store.end_session()
    result = CliRunner().invoke(main, ["stats", "--db", str(db), "--plot"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "␛]0;pwned" in result.output


def test_name_check() -> None:
    assert check_name("Айгүл Асанова") is None
    assert check_name("") and check_name("x" * 65) and check_name("a\x1bb") and check_name("a\tb")


# -- the screen ------------------------------------------------------------------------------


async def _stats_shown(pilot: Any) -> StatsScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, StatsScreen) and pilot.app.screen.data is not None)
    await pilot.pause(0.1)
    return pilot.app.screen


@sync
async def test_g_opens_the_statistics_and_document_keys_stay_off(dash_db: Path) -> None:
    store = Store(dash_db, "bek")
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        doc = app.reader.doc_id
        events = len(store.events(limit=1000))
        await pilot.press("g")
        screen = await _stats_shown(pilot)
        assert screen.data == chart_data(store)
        assert [w.id for w in screen.query(PlotextPlot)] == [
            "spans-per-label", "done-per-day", "entities-per-minute", "agreement", "learning-curve"]
        await pilot.press("d", "right_square_bracket", "u")  # would act on the hidden document
        assert len(store.events(limit=1000)) == events and app.reader.doc_id == doc
        assert isinstance(app.screen, StatsScreen)
        await pilot.press("escape")
        assert app.screen.id == "main"
    assert chart_data(store)["done_per_day"]["annotators"]["bek"] == [1, 0]


@sync
async def test_palette_opens_the_statistics(dash_db: Path) -> None:
    app = make_app(Store(dash_db, "bek"))
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        for ch in "Show statistics":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await _stats_shown(pilot)


def _stats_snapshot(db: Path, annotator: str = "bek") -> tuple[Any, Any]:
    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("g")
        await _stats_shown(pilot)

    return make_app(Store(db, annotator)), run_before


def test_stats_screen_snapshot(snap_compare: Any, dash_db: Path) -> None:
    app, run_before = _stats_snapshot(dash_db)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_stats_screen_snapshot_80x24(snap_compare: Any, dash_db: Path) -> None:
    app, run_before = _stats_snapshot(dash_db)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_stats_screen_snapshot_nothing_yet(snap_compare: Any, seeded_store: Store) -> None:
    app, run_before = _stats_snapshot(seeded_store.path, "alice")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


# -- the served app's name prompt --------------------------------------------------------------


@sync
async def test_served_app_asks_the_name_first(seeded_store: Store) -> None:
    store = Store(seeded_store.path, "(not named yet)")
    app = ServedApp(store, ask_name=True, model=False, suggest=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.screen.id == "name")
        assert not store.db.conn.execute("SELECT 1 FROM sessions WHERE annotator = ?", ["(not named yet)"]).fetchall()
        await pilot.press("enter")
        assert "Type your name" in str(app.screen.query_one("#name-error").render())
        for ch in "Бек":
            await pilot.press(ch)
        await pilot.press("enter")
        await loaded(pilot)
        assert app.store.annotator == "Бек" and app.status_bar.annotator == "Бек"
        await pilot.press("n", "1")
        await pilot.pause(0.1)
    rows = store.db.conn.execute("SELECT DISTINCT annotator FROM spans").fetchall()
    assert rows == [("Бек",)]
    assert store.db.conn.execute("SELECT annotator FROM sessions").fetchall() == [("Бек",)]


@sync
async def test_served_app_with_a_name_does_not_ask(seeded_store: Store) -> None:
    app = ServedApp(Store(seeded_store.path, "aida"), ask_name=False, model=False, suggest=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        assert app.screen.id == "main" and not app.query(Input).filter("#name-input")


@sync
async def test_served_app_ends_its_session_when_the_server_is_gone(
    seeded_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    import tui.serve_app

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    monkeypatch.setattr(tui.serve_app, "SERVER_CHECK", 0.05)
    store = Store(seeded_store.path, "aida")
    app = ServedApp(store, ask_name=False, model=False, suggest=False, server_pid=gone.pid)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.return_code is not None, timeout=10)
    assert store.db.conn.execute("SELECT ended IS NOT NULL FROM sessions").fetchall() == [(1,)]


def test_the_annotator_can_be_set_only_before_a_session(store: Store) -> None:
    from annotations import StoreError

    store.set_annotator("Бек")
    store.start_session()
    assert store.db.conn.execute("SELECT annotator FROM sessions").fetchall() == [("Бек",)]
    with pytest.raises(StoreError):
        store.set_annotator("aida")


def test_name_prompt_snapshot(snap_compare: Any, dash_db: Path) -> None:
    app = ServedApp(Store(dash_db, "(not named yet)"), ask_name=True, model=False, suggest=False)

    async def run_before(pilot: Any) -> None:
        await until(pilot, lambda: pilot.app.screen.id == "name")
        for ch in "Ай\x1bгүл":  # escape is a key here, never text in the field
            await pilot.press(ch if ch != "\x1b" else "escape")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
