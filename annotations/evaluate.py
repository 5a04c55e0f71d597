"""Scoring spans against a gold file: precision, recall and F1 per label and overall.

Two ways to count a hit:

- **exact**: same start, end and label;
- **overlap**: same label and the spans share at least one character, each gold span and
  each predicted span used at most once (largest overlaps paired first).

Gold documents are matched to the database by their text (the same content hash the
importer uses), so a gold file can be scored against any database holding those texts.
What is scored is either an annotator's accepted spans (checking a person) or the
pending suggestions (checking recognisers, optionally only some origins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .importer import ImportFailure, check_spans, read_jsonl
from .text import content_hash

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = [
    "GoldDoc",
    "PRF",
    "LabelScore",
    "EvalReport",
    "read_gold",
    "score_documents",
    "evaluate_store",
    "WHAT",
]

WHAT = ("annotations", "suggestions")

SpanT = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class GoldDoc:
    """One gold document: its text, its spans and where it was read from."""

    text: str
    spans: tuple[SpanT, ...]
    line: int | None = None


def read_gold(path: str | Path) -> list[GoldDoc]:
    """Read a gold JSONL file (``text`` + ``spans``); bad input raises ``ImportFailure``.

    The error names the file and line: invalid JSON, a record without text, a span that is
    out of range, reversed, overlapping another or without a label.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise ImportFailure(name, "no such file")
    out = []
    for rec in read_jsonl(path, name):
        if rec.spans is None:
            raise ImportFailure(name, "gold record has no \"spans\" list", rec.line)
        check_spans(rec, name, allow_overlap=False)
        out.append(GoldDoc(rec.text, tuple((s.start, s.end, s.label) for s in rec.spans), rec.line))
    if not out:
        raise ImportFailure(name, "no gold records in the file")
    return out


@dataclass
class PRF:
    """Hits, and precision/recall/F1 given the gold and predicted totals."""

    tp_gold: int = 0
    tp_pred: int = 0
    gold: int = 0
    predicted: int = 0

    @property
    def precision(self) -> float:
        return self.tp_pred / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp_gold / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: "PRF") -> None:
        self.tp_gold += other.tp_gold
        self.tp_pred += other.tp_pred
        self.gold += other.gold
        self.predicted += other.predicted

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "matched_gold": self.tp_gold,
            "matched_predicted": self.tp_pred,
        }


@dataclass
class LabelScore:
    """Exact and overlap scores of one label (or of all labels together)."""

    label: str
    exact: PRF = field(default_factory=PRF)
    overlap: PRF = field(default_factory=PRF)

    @property
    def gold(self) -> int:
        return self.exact.gold

    @property
    def predicted(self) -> int:
        return self.exact.predicted

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "predicted": self.predicted,
            "exact": self.exact.to_dict(),
            "overlap": self.overlap.to_dict(),
        }


@dataclass
class EvalReport:
    """Scores per label and overall, and how many gold documents were found."""

    labels: dict[str, LabelScore]
    overall: LabelScore
    documents: int
    missing: int = 0
    what: str = "annotations"
    annotator: str | None = None
    origins: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "annotator": self.annotator,
            "origins": list(self.origins),
            "documents": self.documents,
            "missing_documents": self.missing,
            "labels": {k: v.to_dict() for k, v in sorted(self.labels.items())},
            "overall": self.overall.to_dict(),
        }


def _overlap_hits(gold: list[SpanT], pred: list[SpanT]) -> int:
    """One-to-one pairs of same-label overlapping spans, largest overlaps first (ties by
    position: the spans are sorted, so the count never depends on a set's iteration order)."""
    gold, pred = sorted(gold), sorted(pred)
    pairs = []
    for gi, (gs, ge, gl) in enumerate(gold):
        for pi, (ps, pe, pl) in enumerate(pred):
            if gl == pl and gs < pe and ps < ge:
                pairs.append((min(ge, pe) - max(gs, ps), gi, pi))
    pairs.sort(reverse=True)
    used_g: set[int] = set()
    used_p: set[int] = set()
    for _, gi, pi in pairs:
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
    return len(used_g)


def score_documents(
    pairs: Iterable[tuple[Sequence[SpanT], Sequence[SpanT]]],
) -> tuple[dict[str, LabelScore], LabelScore]:
    """Score ``(gold spans, predicted spans)`` per document; per-label and overall scores."""
    labels: dict[str, LabelScore] = {}
    overall = LabelScore("overall")
    for gold_spans, pred_spans in pairs:
        gold_set = set(gold_spans)
        pred_set = set(pred_spans)
        for lab in {s[2] for s in gold_set | pred_set}:
            g = [s for s in gold_set if s[2] == lab]
            p = [s for s in pred_set if s[2] == lab]
            exact = len(set(g) & set(p))
            hits = _overlap_hits(g, p)
            score = labels.setdefault(lab, LabelScore(lab))
            for part in (score, overall):
                part.exact.add(PRF(exact, exact, len(g), len(p)))
                part.overlap.add(PRF(hits, hits, len(g), len(p)))
    return labels, overall


def evaluate_store(
    store: "Store",
    gold: Sequence[GoldDoc],
    *,
    what: str = "annotations",
    annotator: str | None = None,
    origins: Sequence[str] = (),
) -> EvalReport:
    """Score the store against ``gold``: an annotator's accepted spans, or the pending
    suggestions they see (their own and those for everyone).

    ``origins`` limits suggestions to those recognisers (default: every origin). Gold
    documents not in the database are counted in ``missing`` and left out.
    """
    if what not in WHAT:
        raise ValueError(f"unknown --what {what!r}: use one of {', '.join(WHAT)}")
    annotator = annotator or store.annotator
    state = "accepted" if what == "annotations" else "pending"
    pairs = []
    missing = 0
    for doc in gold:
        doc_id = store.backend.document_by_hash(content_hash(doc.text))
        if doc_id is None:
            missing += 1
            continue
        if what == "suggestions":  # what the annotator sees: their own and those for everyone
            pred = [(sp.start, sp.end, sp.label)
                    for sp in store.spans(doc_id, annotator=annotator, states=("pending",))
                    if not origins or sp.origin in origins]
        else:
            pred = [tuple(r) for r in store.backend.spans_in_state(doc_id, annotator, state)]
        pairs.append((list(doc.spans), pred))
    labels, overall = score_documents(pairs)
    return EvalReport(labels, overall, len(pairs), missing, what, annotator, tuple(origins))
