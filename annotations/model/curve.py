"""Learning curve: held-out F1 against the number of labelled training documents.

The training documents are taken in the order given (document id order from the store:
roughly the order a person labelled them), the first *k* for each size *k*, and every
model is scored on the same held-out documents. The terminal drawing uses rich only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

from .crf import CRFModel
from .data import LabelledDocument
from .evaluate import Scores
from .features import Lexicon

__all__ = ["CurvePoint", "curve_sizes", "curve_table", "learning_curve"]

_STEPS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Scores of a model trained on the first ``documents`` training documents."""

    documents: int
    scores: Scores
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        o = self.scores.overall
        return {
            "documents": self.documents, "precision": round(o.precision, 4),
            "recall": round(o.recall, 4), "f1": round(o.f1, 4), "seconds": round(self.seconds, 4),
        }


def curve_sizes(n: int) -> list[int]:
    """1, 2, 3, 5, 10, 20, 50, … up to ``n``, always ending with ``n``."""
    sizes = [k for k in _STEPS if k < n]
    return sizes + [n] if n > 0 else []


def learning_curve(
    train: Sequence[LabelledDocument],
    held_out: Sequence[LabelledDocument],
    *,
    sizes: Sequence[int] | None = None,
    lexicon: Lexicon | None = None,
    params: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[CurvePoint]:
    """Train a CRF on the first *k* documents of ``train`` for each size; score on ``held_out``.

    Documents are counted by id (two annotators on one document count once).
    """
    order: list[int] = []
    for d in train:
        if d.doc_id not in order:
            order.append(d.doc_id)
    wanted = [k for k in (sizes or curve_sizes(len(order))) if 1 <= k <= len(order)]
    points: list[CurvePoint] = []
    for step, k in enumerate(wanted, 1):
        keep = set(order[:k])
        started = time.perf_counter()
        model = CRFModel.fit([d for d in train if d.doc_id in keep], lexicon, params=params)
        scores = model.evaluate(held_out)
        points.append(CurvePoint(k, scores, time.perf_counter() - started))
        if progress:
            progress(step, len(wanted))
    return points


_BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(value: float, width: int) -> str:
    """A horizontal bar of ``value`` (0..1) in ``width`` cells, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, value)) * width * 8)
    full, rest = divmod(eighths, 8)
    return ("█" * full + (_BLOCKS[rest] if rest else "")).ljust(width)


def curve_table(points: Sequence[CurvePoint], width: int = 30) -> Table:
    """The curve as a rich table: documents, P, R, F1 and an F1 bar."""
    table = Table("documents", "precision", "recall", "F1", "F1 (0 … 1)",
                  title="Learning curve (held-out, exact spans)", title_justify="left")
    for p in points:
        o = p.scores.overall
        table.add_row(
            str(p.documents), f"{o.precision:.3f}", f"{o.recall:.3f}", f"{o.f1:.3f}",
            Text(_bar(o.f1, width), style="green"),
        )
    return table
