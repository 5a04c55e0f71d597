"""What the reviewer sees: the review screen on the scripted team, at fixed sizes.

Regenerate with ``pytest tests/test_team_snapshots.py --snapshot-update`` and look at the
SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from team_helpers import build_team
from tui_helpers import until

from annotations import Store
from tui.review import ReviewApp


@pytest.fixture
def team_db(tmp_path: Path) -> Path:
    path = tmp_path / "team.db"
    build_team(path)
    return path


def ready(*keys: str):
    async def run_before(pilot: Any) -> None:
        screen = pilot.app.review_screen
        await until(pilot, lambda: screen.review is not None and screen.reader.model is not None)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.pause(0.1)

    return run_before


def test_review_screen_label_conflict(snap_compare: Any, team_db: Path) -> None:
    app = ReviewApp(Store(team_db, "lead"), ["aida", "bek", "chyngyz"])
    assert snap_compare(app, terminal_size=(100, 30), run_before=ready("tab"))


def test_review_screen_after_taking_a_side_80x24(snap_compare: Any, team_db: Path) -> None:
    app = ReviewApp(Store(team_db, "lead"), ["aida", "bek", "chyngyz"])
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready("tab", "tab", "b"))
