"""The numbers behind the dashboard's charts, as plain JSON-able data (no Textual, no plotext).

One function, :func:`chart_data`, feeds the app's statistics screen, ``annotate stats --plot``
and the ``charts`` part of ``annotate stats --json``, so the three always agree:

- ``spans_per_label``: accepted spans per label (every annotator), in the label set's order,
  with each label's colour (``None`` for a label no longer in the set);
- ``done_per_day``: documents each annotator has done, by the UTC day they were marked done;
- ``entities_per_minute``: per tagging session in which spans were added (the latest
  ``SESSIONS`` of them), as ``annotate stats`` counts them;
- ``learning_curve``: per annotator, the in-loop model's held-out F1 by the number of labelled
  documents it was trained on, one point per retrain (``<db>.models/<annotator>/history.jsonl``);
- ``agreement``: per label, pairwise exact-span F1 between the annotators who marked the same
  documents done (``documents``: how many such documents, ``pairs``: annotator pairs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .stats import corpus_stats
from .training_log import read_history

if TYPE_CHECKING:
    from .store import Store

__all__ = ["SESSIONS", "chart_data"]

#: How many of the latest tagging sessions the entities-per-minute chart shows.
SESSIONS = 30

def _done_per_day(store: Store) -> dict[str, Any]:
    done = set(store.backend.doc_ids_with_status("done"))
    counts: dict[str, dict[str, int]] = {}
    for annotator, doc, ts in store.backend.done_events():
        if (annotator, doc) in done and ts:
            per = counts.setdefault(str(annotator), {})
            per[ts[:10]] = per.get(ts[:10], 0) + 1
    days = sorted({d for per in counts.values() for d in per})
    return {
        "days": days,
        "annotators": {a: [counts[a].get(d, 0) for d in days] for a in sorted(counts)},
    }


def _sessions(stats: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {
            "annotator": name, "session": s["id"], "started": s["started"], "minutes": s["minutes"],
            "spans_added": s["spans_added"], "entities_per_minute": s["entities_per_minute"],
        }
        for name, a in stats["annotators"].items()
        for s in a["sessions"]
        if s["spans_added"] > 0
    ]
    rows.sort(key=lambda r: (r["started"], r["session"]))
    return rows[-SESSIONS:]


def _learning_curve(store: Store, annotators: list[str]) -> dict[str, list[dict[str, Any]]]:
    from .recognisers.crf import model_dir

    curves: dict[str, list[dict[str, Any]]] = {}
    for name in annotators:
        folder = model_dir(store.path, name)
        points = read_history(folder) if folder is not None else []
        if points:
            curves[name] = [
                {"documents": p["documents"], "f1": p["f1"], "trained_at": p["trained_at"]} for p in points
            ]
    return curves


def _agreement(store: Store, names: list[str]) -> dict[str, Any]:
    """Pairwise exact-span F1 per label between annotators, on documents two or more of them
    marked done (summed over every pair and document: 2·matches / (spans of one + of the other))."""
    done: dict[int, list[str]] = {}
    for doc, annotator in store.backend.shared_done():
        done.setdefault(doc, []).append(annotator)
    layers: dict[tuple[int, str], set[tuple[int, int, str]]] = {}
    for doc, annotator, start, end, label in store.backend.shared_done_spans():
        layers.setdefault((doc, annotator), set()).add((start, end, label))
    matched: dict[str, int] = {}
    total: dict[str, int] = {}
    pairs: set[tuple[str, str]] = set()
    for doc, who in done.items():
        for i, a in enumerate(who):
            for b in who[i + 1:]:
                pairs.add((a, b))
                one, other = layers.get((doc, a), set()), layers.get((doc, b), set())
                for start, end, label in one | other:
                    total[label] = total.get(label, 0) + ((start, end, label) in one) + ((start, end, label) in other)
                for _s, _e, label in one & other:
                    matched[label] = matched.get(label, 0) + 1
    labels = [n for n in names if n in total] + sorted(n for n in total if n not in names)
    return {
        "documents": len(done),
        "pairs": len(pairs),
        "labels": labels,
        "f1": [round(2 * matched.get(n, 0) / total[n], 4) for n in labels],
        "spans": [total[n] for n in labels],
    }


def chart_data(store: Store, stats: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every chart's numbers (``stats``: :meth:`Store.stats` if already computed)."""
    stats = stats if stats is not None else corpus_stats(store.backend)
    by_label = stats["spans"]["by_label"]
    labels = store.labels()
    names = [lab.name for lab in labels]
    names += sorted(n for n in by_label if n not in names)
    colours = {lab.name: lab.colour for lab in labels}
    return {
        "spans_per_label": {
            "labels": names, "counts": [by_label.get(n, 0) for n in names],
            "colours": [colours.get(n) for n in names],
        },
        "done_per_day": _done_per_day(store),
        "entities_per_minute": _sessions(stats),
        "learning_curve": _learning_curve(store, list(stats["annotators"])),
        "agreement": _agreement(store, names),
    }
