"""Inter-annotator agreement: ``annotate agree``.

Measured on the documents that two or more of the chosen annotators marked done, over
their accepted spans (optionally only some labels):

- pairwise span precision/recall/F1, exact (same start, end, label) and overlapping (same
  label, sharing a character, paired one to one) per label and overall, the first of the
  pair as reference (F1 is symmetric), with the code ``annotate evaluate`` uses;
- token-level Cohen's κ per pair and Krippendorff's α (nominal) over all of them, on BIO
  tags of the store's tokens (whitespace tokens left out, as the CoNLL export does): a
  token is ``B-L`` if it is the first token of a span labelled L, ``I-L`` if it is a later
  one, else ``O``. α takes every token of every document as a unit, valued by each
  annotator who marked that document done;
- a label confusion table: spans with the same boundaries in two annotators' layers, by
  their two labels (the diagonal is agreement; the table is symmetric);
- every document's agreement (the mean pairwise exact-span F1 of the annotators who did
  it), lowest first, so a lead knows what to review first;
- with a reviewer, each annotator against the reviewer's layer (the reviewer as reference).

Reading is a handful of queries over the whole selection, so 10,000 documents by three
annotators take about a second.
"""

from __future__ import annotations

import itertools
import json
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, Iterable, Sequence

from ..db import write
from ..evaluate import PRF, LabelScore, _overlap_hits
from ..store import Store
from ..tokenize import Tokens, tokenize, tokenizer_id

__all__ = [
    "AgreeReport",
    "DocAgreement",
    "PairAgreement",
    "TeamData",
    "agree",
    "bio_tags",
    "cohen_kappa",
    "done_annotators",
    "krippendorff_alpha",
    "load_team",
    "reviewers",
]

SpanT = tuple[int, int, str]

#: Origin prefix of the spans a reviewer's decisions put in their layer.
REVIEW_ORIGIN = "review"

_SPACE = re.compile(r"\s")
_LABEL = itemgetter(2)


def cohen_kappa(confusion: dict[tuple[Any, Any], int]) -> float | None:
    """Cohen's κ from a confusion count ``{(tag_a, tag_b): n}``; ``None`` when undefined."""
    n = sum(confusion.values())
    if n == 0:
        return None
    rows: Counter = Counter()
    cols: Counter = Counter()
    agree = 0
    for (a, b), c in confusion.items():
        rows[a] += c
        cols[b] += c
        if a == b:
            agree += c
    po = agree / n
    pe = sum(rows[k] * cols.get(k, 0) for k in rows) / (n * n)
    if pe >= 1.0:
        return None
    return (po - pe) / (1 - pe)


class _Alpha:
    """Krippendorff's α (nominal), accumulated unit by unit from value counts."""

    def __init__(self) -> None:
        self.observed = 0.0  # sum over units of (m^2 - sum cnt^2) / (m - 1)
        self.values: Counter = Counter()  # n_c

    def add_unit(self, counts: Iterable[int], m: int, values: Iterable[Any]) -> None:
        counts = list(counts)
        self.observed += (m * m - sum(c * c for c in counts)) / (m - 1)
        for v, c in zip(values, counts):
            self.values[v] += c

    def add_agreed(self, value: Any, m: int, units: int) -> None:
        """``units`` units on which all ``m`` coders gave ``value``."""
        self.values[value] += m * units

    def add_patterns(self, patterns: Counter) -> None:
        """Units given as ``{(value of coder 1, value of coder 2, ...): how many units}``."""
        for values, times in patterns.items():
            m = len(values)
            counts = Counter(values)
            self.observed += times * (m * m - sum(c * c for c in counts.values())) / (m - 1)
            for v, c in counts.items():
                self.values[v] += times * c

    def result(self) -> float | None:
        n = sum(self.values.values())
        expected = n * n - sum(c * c for c in self.values.values())
        if n <= 1 or expected == 0:
            return None
        return 1.0 - (n - 1) * self.observed / expected


def krippendorff_alpha(units: Iterable[Sequence[Any]]) -> float | None:
    """Krippendorff's α (nominal) of ``units``, each the values the coders gave it (``None``: missing)."""
    acc = _Alpha()
    for unit in units:
        vals = [v for v in unit if v is not None]
        if len(vals) < 2:
            continue
        counts = Counter(vals)
        acc.add_unit(counts.values(), len(vals), counts.keys())
    return acc.result()


def bio_tags(tokens: Tokens, text: str, spans: Iterable[SpanT]) -> list[str]:
    """``O``/``B-L``/``I-L`` of every non-whitespace token (the definition ``agree`` uses)."""
    tags: dict[int, str] = {}
    for start, end, label in spans:
        first = True
        for i in range(len(tokens)):
            s, e = tokens.starts[i], tokens.ends[i]
            if s < end and start < e and not text[s:e].isspace():
                tags[i] = ("B-" if first else "I-") + label
                first = False
    return [tags.get(i, "O") for i in range(len(tokens)) if not text[tokens.starts[i]:tokens.ends[i]].isspace()]


@dataclass
class TeamData:
    """What agreement is computed from: who did which document, their spans, the tokens."""

    annotators: list[str]
    done: dict[int, list[str]]  # doc id -> annotators (of ``annotators``) who marked it done
    spans: dict[tuple[int, str], list[SpanT]]  # (doc id, annotator) -> accepted spans
    titles: dict[int, str] = field(default_factory=dict)


def done_annotators(store: Store) -> list[str]:
    """Every annotator who marked at least one document done, by name."""
    return [r[0] for r in store.db.conn.execute(
        "SELECT DISTINCT annotator FROM doc_status WHERE status = 'done' ORDER BY annotator")]


def reviewers(store: Store) -> list[str]:
    """Annotators who made review decisions (``annotate review --as``), by name."""
    return [r[0] for r in store.db.conn.execute("SELECT annotator FROM reviewers ORDER BY annotator")]


def load_team(
    store: Store, annotators: Sequence[str], labels: Sequence[str] = (), min_done: int = 2,
) -> TeamData:
    """The done documents (by at least ``min_done`` of ``annotators``) and their accepted spans."""
    conn = store.db.conn
    names = list(dict.fromkeys(annotators))
    marks = ",".join("?" * len(names))
    done: dict[int, list[str]] = {}
    for doc_id, annotator in conn.execute(
        f"SELECT doc_id, annotator FROM doc_status WHERE status = 'done' AND annotator IN ({marks})"
        " ORDER BY doc_id", names,
    ):
        done.setdefault(doc_id, []).append(annotator)
    order = {a: i for i, a in enumerate(names)}
    done = {d: sorted(a, key=order.__getitem__) for d, a in done.items() if len(a) >= min_done}
    spans: dict[tuple[int, str], list[SpanT]] = {}
    # One row per (document, annotator) with its spans as JSON: decoding that in C is several
    # times faster than a Python loop over every span's row.
    sql = ("SELECT doc_id, annotator, json_group_array(json_array(start, end, label)) FROM spans"
           f" WHERE state = 'accepted' AND annotator IN ({marks})")
    args: list[Any] = list(names)
    if labels:
        sql += " AND label IN (" + ",".join("?" * len(labels)) + ")"
        args += list(labels)
    loads = json.loads
    for doc_id, annotator, layer in conn.execute(sql + " GROUP BY doc_id, annotator", args):
        if doc_id in done:
            spans[(doc_id, annotator)] = list(map(tuple, loads(layer)))
    return TeamData(names, done, spans)


def _doc_tokens(store: Store, doc_ids: Sequence[int]) -> Iterable[tuple[int, str, Tokens]]:
    """(doc id, text, tokens) of each document, tokenising (and caching) those not cached yet."""
    conn = store.db.conn
    for i in range(0, len(doc_ids), 500):
        chunk = doc_ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        cached = {d: (t, b) for d, t, b in conn.execute(
            f"SELECT doc_id, tokenizer, offsets FROM doc_tokens WHERE doc_id IN ({marks})", chunk)}
        fresh: list[tuple[int, str, bytes]] = []
        out = []
        for doc_id, text, lang in conn.execute(
            f"SELECT id, text, lang FROM documents WHERE id IN ({marks}) ORDER BY id", chunk
        ):
            want = tokenizer_id(lang)
            hit = cached.get(doc_id)
            if hit is not None and hit[0] in (want, "import"):
                toks = Tokens.from_bytes(hit[1])
            else:
                toks = tokenize(text, lang)
                fresh.append((doc_id, want, toks.to_bytes()))
            out.append((doc_id, text, toks))
        if fresh:
            with write(store.db):
                conn.executemany(
                    "INSERT OR REPLACE INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)", fresh)
        yield from out


def _layer(spans: Sequence[SpanT], starts: list[int], ends: list[int], ws: frozenset[int],
           codes: dict[str, int]) -> dict[int, int]:
    """Token index -> tag code (B = odd, I = even, O absent) of one annotator's spans."""
    tags: dict[int, int] = {}
    for start, end, label in spans:
        i = bisect_right(ends, start)
        j = bisect_left(starts, end)
        b = codes[label]
        if j - i == 1 and i not in ws:
            tags[i] = b
            continue
        first = True
        for t in range(i, j):
            if t in ws:
                continue
            tags[t] = b if first else b + 1
            first = False
    return tags


@dataclass
class PairAgreement:
    """Two annotators on the documents both marked done."""

    a: str
    b: str
    documents: int = 0
    tokens: int = 0
    confusion: Counter = field(default_factory=Counter)
    #: Labels of a's spans, b's, those matched exactly; overlap matches beyond the exact ones.
    gold: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    exact: list[str] = field(default_factory=list)
    overlap: Counter = field(default_factory=Counter)
    #: Tag pairs of the tokens either tagged (``tag_a * width + tag_b``), counted in :meth:`finish`.
    tag_pairs: list[int] = field(default_factory=list)
    width: int = 1
    outside: int = 0
    kappa: float | None = None
    labels: dict[str, LabelScore] = field(default_factory=dict)
    overall: LabelScore = field(default_factory=lambda: LabelScore("overall"))

    def finish(self) -> None:
        """Turn the counts into κ and per-label scores (as :func:`annotations.evaluate.score_documents`)."""
        for code, n in Counter(self.tag_pairs).items():
            self.confusion[divmod(code, self.width)] += n
        self.confusion[(0, 0)] += self.outside
        self.tag_pairs = []
        self.kappa = cohen_kappa(self.confusion)
        self.labels = {}
        self.overall = LabelScore("overall")
        golds, preds, exacts = Counter(self.gold), Counter(self.predicted), Counter(self.exact)
        for label in sorted(golds.keys() | preds.keys()):
            gold, pred = golds[label], preds[label]
            exact = exacts[label]
            overlap = exact + self.overlap[label]
            score = self.labels[label] = LabelScore(label)
            for part in (score, self.overall):
                part.exact.add(PRF(exact, exact, gold, pred))
                part.overlap.add(PRF(overlap, overlap, gold, pred))

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a, "b": self.b, "documents": self.documents, "tokens": self.tokens,
            "kappa": None if self.kappa is None else round(self.kappa, 4),
            "overall": self.overall.to_dict(),
            "labels": {k: v.to_dict() for k, v in sorted(self.labels.items())},
        }


@dataclass(frozen=True, slots=True)
class DocAgreement:
    """One document's agreement: mean pairwise exact-span F1, and spans not shared by all."""

    doc_id: int
    title: str
    annotators: tuple[str, ...]
    f1: float
    disagreements: int

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "title": self.title, "annotators": list(self.annotators),
                "f1": round(self.f1, 4), "disagreements": self.disagreements}


@dataclass
class AgreeReport:
    """Everything ``annotate agree`` prints."""

    annotators: list[str]
    labels: list[str]
    documents: int
    tokens: int
    pairs: list[PairAgreement]
    alpha: float | None
    confusion: dict[str, dict[str, int]]
    documents_by_agreement: list[DocAgreement]
    reviewer: str | None = None
    versus_reviewer: list[PairAgreement] = field(default_factory=list)

    def to_dict(self, lowest: int = 10) -> dict[str, Any]:
        return {
            "annotators": self.annotators,
            "labels": self.labels,
            "documents": self.documents,
            "tokens": self.tokens,
            "pairs": [p.to_dict() for p in self.pairs],
            "alpha": None if self.alpha is None else round(self.alpha, 4),
            "confusion": self.confusion,
            "lowest": [d.to_dict() for d in self.documents_by_agreement[:lowest]],
            "reviewer": self.reviewer,
            "versus_reviewer": [p.to_dict() for p in self.versus_reviewer],
        }


def _doc_f1(a: Sequence[SpanT], b: Sequence[SpanT]) -> float:
    """Exact-span F1 of two layers of one document (1 when both are empty)."""
    if not a and not b:
        return 1.0
    return 2 * len(set(a) & set(b)) / (len(a) + len(b))


def agree(
    store: Store,
    annotators: Sequence[str] | None = None,
    *,
    labels: Sequence[str] = (),
    reviewer: str | None = None,
) -> AgreeReport:
    """Agreement of ``annotators`` (default: everyone with done documents but reviewers).

    ``reviewer`` (default: the one reviewer there is, if exactly one) adds each annotator
    against the reviewer's layer.
    """
    found_reviewers = reviewers(store)
    if reviewer is None and len(found_reviewers) == 1:
        reviewer = found_reviewers[0]
    if annotators is None:
        annotators = [a for a in done_annotators(store) if a not in found_reviewers and a != reviewer]
    names = [a for a in dict.fromkeys(annotators) if a != reviewer]
    everyone = names + ([reviewer] if reviewer else [])
    data = load_team(store, everyone, labels, min_done=2)
    label_names = sorted({s[2] for spans in data.spans.values() for s in spans})
    codes = {lab: 1 + 2 * i for i, lab in enumerate(label_names)}
    width = 2 * len(label_names) + 1
    pairs = {(a, b): PairAgreement(a, b, width=width) for a, b in itertools.combinations(names, 2)}
    versus = {a: PairAgreement(reviewer, a, width=width) for a in names} if reviewer else {}
    alpha = _Alpha()
    confusion: dict[str, dict[str, int]] = {}
    per_doc: list[DocAgreement] = []
    total_units = 0
    name_set = set(names)
    doc_ids = sorted(data.done)
    titles = {}
    if doc_ids:
        for i in range(0, len(doc_ids), 900):
            chunk = doc_ids[i:i + 900]
            titles.update(store.db.conn.execute(
                f"SELECT id, title FROM documents WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    empty: list[SpanT] = []
    patterns: Counter = Counter()  # α's units by the values the coders gave them
    for doc_id, text, toks in _doc_tokens(store, doc_ids):
        who = data.done[doc_id]
        coders = [a for a in who if a in name_set]
        starts, ends = list(toks.starts), list(toks.ends)
        firsts = "".join(map(text.__getitem__, starts))
        ws = frozenset(m.start() for m in _SPACE.finditer(firsts))
        n_tokens = len(starts) - len(ws)
        spans_of = {a: data.spans.get((doc_id, a), empty) for a in who}
        layers = {a: _layer(spans_of[a], starts, ends, ws, codes) for a in who}
        # Pairs of annotators.
        f1s = []
        for a, b in itertools.combinations(coders, 2):
            sa, sb = spans_of[a], spans_of[b]
            exact = _add_pair(pairs[(a, b)], layers[a], layers[b], n_tokens, sa, sb, confusion)
            f1s.append(2 * exact / (len(sa) + len(sb)) if sa or sb else 1.0)
        if reviewer and reviewer in layers:
            for a in coders:
                _add_pair(versus[a], layers[reviewer], layers[a], n_tokens, spans_of[reviewer], spans_of[a])
        # Krippendorff's α over the annotators who did this document.
        m = len(coders)
        if m >= 2:
            total_units += n_tokens
            coded = [layers[a] for a in coders]
            union = list(set().union(*coded))
            if union:
                patterns.update(zip(*[list(map(layer.get, union, itertools.repeat(0))) for layer in coded]))
            alpha.add_agreed(0, m, n_tokens - len(union))
            sets = [set(spans_of[a]) for a in coders]
            disagreements = len(set().union(*sets) - set.intersection(*sets))
            per_doc.append(DocAgreement(doc_id, titles.get(doc_id, ""), tuple(coders),
                                        sum(f1s) / len(f1s), disagreements))
    alpha.add_patterns(patterns)
    for pair in [*pairs.values(), *versus.values()]:
        pair.finish()
    per_doc.sort(key=lambda d: (d.f1, -d.disagreements, d.doc_id))
    return AgreeReport(
        annotators=names, labels=label_names, documents=len(per_doc), tokens=total_units,
        pairs=[p for p in pairs.values()], alpha=alpha.result(), confusion=confusion,
        documents_by_agreement=per_doc, reviewer=reviewer, versus_reviewer=list(versus.values()),
    )


def _add_pair(pair: PairAgreement, la: dict[int, int], lb: dict[int, int], n_tokens: int,
              sa: list[SpanT], sb: list[SpanT], confusion: dict[str, dict[str, int]] | None = None) -> int:
    """Add one document of a pair (token tags, spans and, if given, the label confusion table).

    Returns the number of exact span matches.
    """
    pair.documents += 1
    pair.tokens += n_tokens
    width = pair.width
    if la == lb:
        pair.tag_pairs.extend(t * width + t for t in la.values())
        pair.outside += n_tokens - len(la)
    else:
        keys = la.keys() | lb.keys()
        pair.tag_pairs.extend(x * width + y for x, y in zip(map(la.get, keys, repeat(0)), map(lb.get, keys, repeat(0))))
        pair.outside += n_tokens - len(keys)
    a, b = set(sa), set(sb)
    if a == b:
        labels = list(map(_LABEL, sa))
        pair.gold += labels
        pair.predicted += labels
        pair.exact += labels
        if confusion is not None:
            for lab in labels:
                row = confusion.get(lab) or confusion.setdefault(lab, {})
                row[lab] = row.get(lab, 0) + 1
        return len(sa)
    common = a & b
    pair.gold += map(_LABEL, sa)
    pair.predicted += map(_LABEL, sb)
    shared = list(map(_LABEL, common))
    pair.exact += shared
    rest_a, rest_b = a - common, b - common
    if confusion is not None:
        for lab in shared:
            row = confusion.get(lab) or confusion.setdefault(lab, {})
            row[lab] = row.get(lab, 0) + 1
        if rest_a and rest_b:
            bounds = {(s, e): lab for s, e, lab in rest_b}
            for s, e, lab in rest_a:
                other = bounds.get((s, e))
                if other is not None:  # same boundaries, so a different label
                    for x, y in ((lab, other), (other, lab)):
                        row = confusion.get(x) or confusion.setdefault(x, {})
                        row[y] = row.get(y, 0) + 1
    if rest_a and rest_b:
        # An exact pair overlaps nothing else (a layer's spans never overlap), so the
        # one-to-one overlap pairing of the rest adds to the exact matches.
        for label in set(map(_LABEL, rest_a)) & set(map(_LABEL, rest_b)):
            pair.overlap[label] += _overlap_hits([sp for sp in rest_a if sp[2] == label],
                                                 [sp for sp in rest_b if sp[2] == label])
    return len(common)
