"""The app opened by an annotator with assignments works through their queue; without, as ever."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import loaded, make_app, sync

from annotations import Store, import_seeds
from annotations.team import assign, assigned_ids
from tui.help import HelpScreen


def _team(path: Path) -> tuple[list[int], list[int]]:
    with Store(path, "lead") as lead:
        import_seeds(lead)
        assign(lead, ["aida", "bek"], 1)
        return assigned_ids(lead, "aida"), assigned_ids(lead, "bek")


def _rows(app) -> list[int]:
    table = app.doclist.table
    return [int(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


@sync
async def test_the_list_progress_and_d_follow_my_queue(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    mine, theirs = _team(path)
    assert len(mine) + len(theirs) == 5 and mine and theirs
    app = make_app(Store(path, "aida"))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, mine[0])
        assert _rows(app) == mine and app.doclist.mine_only
        assert app.status_bar.progress == (0, len(mine))
        header = str(app.doclist.query_one("#doclist-header").render())
        assert "Documents · mine" in header and "all" not in header
        await pilot.press("d")
        if len(mine) > 1:
            await loaded(pilot, mine[1])
        assert app.status_bar.progress == (1, len(mine))
        await pilot.press("m")
        await pilot.pause()
        assert _rows(app) == [1, 2, 3, 4, 5] and not app.doclist.mine_only
        await pilot.press("m")
        await pilot.pause()
        assert _rows(app) == mine
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert any(r.id == "app.toggle_mine" for r in app.screen.rows)
        await pilot.press("escape")
        for doc_id in mine[1:]:  # the rest of my queue: then mine are all done
            await loaded(pilot, doc_id)
            await pilot.press("d")
        await pilot.pause()
        assert app.status_bar.progress == (len(mine), len(mine))
        assert "Every document assigned to you is done or skipped." in [n.message for n in app._notifications]
        # ] and [ step through my documents only (theirs lie between mine in import order).
        assert set(range(mine[0], mine[-1] + 1)) - set(mine), "the fixture's queue must have gaps"
        for doc_id in reversed(mine[:-1]):
            await pilot.press("left_square_bracket")
            await loaded(pilot, doc_id)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.reader.doc_id == mine[0]
        assert "This is the first document assigned to you." in [n.message for n in app._notifications]
        await pilot.press("right_square_bracket")
        await loaded(pilot, mine[1])
        await pilot.press("q")


@sync
async def test_without_assignments_nothing_changes(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    _team(path)
    app = make_app(Store(path, "chyngyz"))  # not in the team: no queue
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, 1)
        assert _rows(app) == [1, 2, 3, 4, 5] and not app.doclist.mine_only
        assert app.status_bar.progress == (0, 5)
        assert "mine" not in str(app.doclist.query_one("#doclist-header").render())
        await pilot.press("m")  # does nothing here
        await pilot.pause()
        assert _rows(app) == [1, 2, 3, 4, 5]
        await pilot.press("d")
        await loaded(pilot, 2)
        await pilot.press("q")
