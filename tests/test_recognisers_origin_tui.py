"""A suggestion's origin is visible in the app: tabbing to it shows label, origin and score."""

from __future__ import annotations

from typing import Callable

from annotations import Store
from tui_helpers import SAMPLE, loaded, make_app, sync, until


@sync
async def test_status_bar_names_the_suggestions_origin(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE, "ky")
    start = SAMPLE.index("Москвага")
    store.add_suggestions(doc, [(start, start + len("Москвага"), "LOC", 0.8)], "gazetteer")
    app = make_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot, doc)
        await pilot.press("tab")
        await until(pilot, lambda: app.status_bar.suggestion is not None)
        assert app.status_bar.suggestion == "LOC? gazetteer 0.80"
        await pilot.press("shift+right")  # a selection that is not the suggestion
        await until(pilot, lambda: app.status_bar.suggestion is None)
        await pilot.press("escape", "right")  # off the suggestion
        await until(pilot, lambda: app.status_bar.selection is None)
        assert app.status_bar.suggestion is None
