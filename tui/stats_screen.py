"""The statistics screen: the dashboard's charts (textual-plotext) over the whole database.

The numbers come from :func:`annotations.dashboard.chart_data`, read in a thread worker with
its own connection, so a large database never stalls the keys; the panels are
:data:`tui.charts.CHARTS`, drawn by the same functions as ``annotate stats --plot``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from annotations import Store, inert

from .charts import CHARTS

__all__ = ["StatsScreen"]


class StatsScreen(Screen[None]):
    """Charts of the corpus and of everyone's work: spans per label, documents done per day,
    entities per minute per session, agreement per label and the model's learning curve.

    | Key(s) | Description |
    | :- | :- |
    | escape, q, g | Back to the document. |
    | r | Read the numbers again. |
    | ↑ ↓ pgup pgdn | Scroll, when the terminal is too short for every chart. |
    """

    CSS_PATH = "stats_screen.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,g", "app.pop_screen", "Back", id="stats.close",
                tooltip="Close the statistics and go back to the document."),
        Binding("r", "reload", "Refresh", id="stats.refresh",
                tooltip="Read the numbers from the database again (others may be working on it)."),
    ]

    data: reactive[dict[str, Any] | None] = reactive(None, init=False)
    """The charts' numbers (:func:`annotations.dashboard.chart_data`), ``None`` until read."""

    class Loaded(Message):
        """The worker read the numbers (``error``: why it could not)."""

        def __init__(self, data: dict[str, Any] | None, totals: str, error: str | None = None) -> None:
            super().__init__()
            self.data = data
            self.totals = totals
            self.error = error

    def __init__(self, store: Store) -> None:
        super().__init__(id="stats")
        self.store = store

    def compose(self) -> ComposeResult:
        yield Static(Text("Statistics · reading the database…"), id="stats-title")
        with VerticalScroll(id="stats-scroll"), Grid(id="stats-grid"):
            for i, chart in enumerate(CHARTS):
                wide = i == len(CHARTS) - 1 and len(CHARTS) % 2 == 1
                yield PlotextPlot(id=chart.id, classes="-wide" if wide else "")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def _read(self) -> None:
        from annotations.dashboard import chart_data

        try:
            with self.store.reopen() as store:
                stats = store.stats()
                data = chart_data(store, stats)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.post_message(self.Loaded(None, "", str(exc)))
            return
        docs = stats["documents"]
        done = docs["by_status"].get("done", 0)
        totals = (f"{docs['total']} documents ({done} done by someone) · {stats['spans']['by_state'].get('accepted', 0)}"
                  f" accepted spans · {len(stats['annotators'])} annotator(s)")
        self.post_message(self.Loaded(data, totals))

    def on_stats_screen_loaded(self, message: Loaded) -> None:
        title = self.query_one("#stats-title", Static)
        if message.error is not None or message.data is None:
            title.update(Text("Statistics · could not read the database: " + inert(message.error or "")))
            return
        title.update(Text("Statistics · " + message.totals))
        self.data = message.data

    def watch_data(self, data: dict[str, Any] | None) -> None:
        if data is None:
            return
        for chart in CHARTS:
            widget = self.query_one(f"#{chart.id}", PlotextPlot)
            widget.plt.clear_data()
            widget.plt.clear_figure()
            chart.draw(widget.plt, data)
            widget.refresh()
