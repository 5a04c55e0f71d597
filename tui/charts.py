"""The dashboard's charts, drawn on a plotext figure: the ``plotext`` module itself
(``annotate stats --plot``) or a ``textual_plotext`` widget's ``plt`` (the statistics screen).

Each chart is a function ``draw(plt, data)`` of the numbers from
:func:`annotations.dashboard.chart_data`; :data:`CHARTS` lists them in the order shown. Names
(labels, annotators) reach plotext only through :func:`annotations.inert`, so a name can
never put an escape sequence into the drawing. Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from annotations import inert

__all__ = ["CHARTS", "Chart", "plot_text"]

Draw = Callable[[Any, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Chart:
    """One panel: its id (the screen's widget id) and how to draw it."""

    id: str
    title: str
    draw: Draw


def _name(value: object, width: int = 16) -> str:
    text = inert(str(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def _rgb(colour: str | None) -> tuple[int, int, int] | str:
    """``#rrggbb`` as plotext's RGB tuple (plotext's own colour for anything else)."""
    if isinstance(colour, str) and len(colour) == 7 and colour.startswith("#"):
        try:
            return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
        except ValueError:
            pass
    return "blue+"


def _empty(plt: Any, title: str, why: str) -> None:
    """A frame with ``why`` written in its middle: the chart has nothing to draw yet."""
    plt.title(title)
    plt.xlim(0, 1)
    plt.ylim(0, 1)
    plt.xticks([])
    plt.yticks([])
    plt.text(why, 0.5, 0.5, alignment="center", color="default", background="default")


def spans_per_label(plt: Any, data: dict[str, Any]) -> None:
    chart = data["spans_per_label"]
    title = "Accepted spans per label"
    if not chart["labels"]:
        _empty(plt, title, "no labels")
        return
    for i, (count, colour) in enumerate(zip(chart["counts"], chart["colours"]), 1):
        plt.bar([i], [count], width=0.6, color=_rgb(colour))
    plt.xticks(list(range(1, len(chart["labels"]) + 1)), [_name(n) for n in chart["labels"]])
    plt.xlim(0.4, len(chart["labels"]) + 0.6)
    plt.ylim(0, max(1, *chart["counts"]))
    plt.title(f"{title} ({sum(chart['counts'])})")


def done_per_day(plt: Any, data: dict[str, Any]) -> None:
    chart = data["done_per_day"]
    title = "Documents done per day (UTC)"
    if not chart["days"]:
        _empty(plt, title, "none done yet")
        return
    days = [d[5:] for d in chart["days"]]  # MM-DD
    names = list(chart["annotators"])
    if len(names) == 1:
        plt.bar(days, chart["annotators"][names[0]], width=0.6, label=_name(names[0]))
    else:
        plt.multiple_bar(days, [chart["annotators"][n] for n in names], labels=[_name(n) for n in names])
    plt.ylim(0, max(1, *(c for n in names for c in chart["annotators"][n])) * 1.3)
    plt.title(title)


def entities_per_minute(plt: Any, data: dict[str, Any]) -> None:
    rows = data["entities_per_minute"]
    title = "Entities per minute, per session"
    if not rows:
        _empty(plt, title, "no session has added spans")
        return
    plt.bar([f"{_name(r['annotator'], 10)} #{r['session']}" for r in rows],
            [r["entities_per_minute"] for r in rows], width=0.6)
    plt.ylim(0, max(1.0, *(r["entities_per_minute"] for r in rows)))
    plt.title(title)


def learning_curve(plt: Any, data: dict[str, Any]) -> None:
    curves = data["learning_curve"]
    title = "Model F1 by labelled documents"
    scored = {n: [p for p in pts if p["f1"] is not None] for n, pts in curves.items()}
    scored = {n: pts for n, pts in scored.items() if pts}
    if not curves:
        _empty(plt, title, "no model yet: mark documents done (d)")
        return
    if not scored:
        trained = max(p["documents"] for pts in curves.values() for p in pts)
        _empty(plt, title, f"trained on {trained} document(s), not scored yet")
        return
    for name, pts in scored.items():
        plt.plot([p["documents"] for p in pts], [p["f1"] for p in pts], marker="braille", label=_name(name))
    plt.ylim(0, 1)
    plt.xlim(0, max(p["documents"] for pts in scored.values() for p in pts))
    plt.xlabel("labelled documents")
    plt.title(title)


def agreement(plt: Any, data: dict[str, Any]) -> None:
    chart = data["agreement"]
    title = "Agreement F1 per label"
    if not chart["labels"]:
        _empty(plt, title, "needs documents done by two annotators")
        return
    colours = dict(zip(data["spans_per_label"]["labels"], data["spans_per_label"]["colours"]))
    for i, (name, f1) in enumerate(zip(chart["labels"], chart["f1"]), 1):
        plt.bar([i], [f1], width=0.6, color=_rgb(colours.get(name)))
    plt.xticks(list(range(1, len(chart["labels"]) + 1)), [_name(n) for n in chart["labels"]])
    plt.xlim(0.4, len(chart["labels"]) + 0.6)
    plt.ylim(0, 1)
    n = chart["documents"]
    plt.title(f"{title} ({n} doc{'' if n == 1 else 's'})")


#: Every panel, in order (a new panel is one more entry here; the screen lays them out two a row).
CHARTS: list[Chart] = [
    Chart("spans-per-label", "Spans per label", spans_per_label),
    Chart("done-per-day", "Done per day", done_per_day),
    Chart("entities-per-minute", "Entities per minute", entities_per_minute),
    Chart("agreement", "Agreement", agreement),
    Chart("learning-curve", "Learning curve", learning_curve),
]


def plot_text(data: dict[str, Any], width: int = 80, height: int = 14, colour: bool = True) -> str:
    """Every chart drawn by the ``plotext`` module, one under the other (``annotate stats --plot``)."""
    import plotext

    parts = []
    for chart in CHARTS:
        plotext.clf()
        plotext.theme("clear")
        plotext.plotsize(width, height)
        chart.draw(plotext, data)
        drawn = plotext.build()
        parts.append(drawn if colour else plotext.uncolorize(drawn))
    plotext.clf()
    return "\n".join(parts)
