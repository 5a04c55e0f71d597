"""Exact-span precision, recall and F1 per label, for a model's held-out report.

A predicted span counts only if a gold span has the same document, start, end and label
(the CoNLL rule). ``overall`` is the micro average over all labels. The counting is
:func:`annotations.evaluate.score_documents` (the scorer of ``annotate evaluate``), so a
model's held-out figures and ``annotate evaluate``'s are the same arithmetic; this module
only groups keyed spans by document and keeps the compact shape the model reports use
(with the overlap F1 alongside).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LabelScores", "Scores", "score_spans"]

#: ``(document key, start, end, label)``: the key is anything that names a document.
KeyedSpan = tuple[Hashable, int, int, str]


@dataclass(slots=True)
class LabelScores:
    """Counts of one label (or of all labels) and the scores they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    overlap_f1: float = 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        """Gold spans of this label."""
        return self.tp + self.fn

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4), "recall": round(self.recall, 4),
            "f1": round(self.f1, 4), "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "support": self.support, "overlap_f1": round(self.overlap_f1, 4),
        }


@dataclass(slots=True)
class Scores:
    """Per-label scores (labels sorted by name) and their micro average."""

    labels: dict[str, LabelScores] = field(default_factory=dict)
    overall: LabelScores = field(default_factory=LabelScores)
    documents: int = 0

    @property
    def f1(self) -> float:
        return self.overall.f1

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "overall": self.overall.to_dict(),
            "labels": {name: s.to_dict() for name, s in self.labels.items()},
        }


def score_spans(
    gold: Iterable[KeyedSpan], predicted: Iterable[KeyedSpan], documents: int | None = None
) -> Scores:
    """Exact-match scores of ``predicted`` against ``gold`` (duplicates count once).

    ``documents`` is how many documents were scored (default: those with any span).
    """
    from ..evaluate import score_documents

    by_doc: dict[Hashable, tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]] = {}
    for key, start, end, label in gold:
        by_doc.setdefault(key, ([], []))[0].append((start, end, label))
    for key, start, end, label in predicted:
        by_doc.setdefault(key, ([], []))[1].append((start, end, label))
    labels, overall = score_documents(by_doc.values())

    def counts(score: Any) -> LabelScores:
        e = score.exact
        return LabelScores(e.tp_gold, e.predicted - e.tp_pred, e.gold - e.tp_gold, score.overlap.f1)

    return Scores(
        {name: counts(s) for name, s in sorted(labels.items())},
        counts(overall),
        documents if documents is not None else len(by_doc),
    )
