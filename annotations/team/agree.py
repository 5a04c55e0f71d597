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

Reading is a handful of queries over the whole selection; token-level figures are
computed for every token at once with numpy, span-level ones document by document with
small sets. 10,000 documents by three annotators take under two seconds.
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any, Iterable, Sequence

from ..evaluate import PRF, LabelScore, _overlap_hits
from ..store import Store
from ..tokenize import Tokens, tokenize, tokenizer_id

__all__ = [
    "AgreeReport",
    "DocAgreement",
    "PairAgreement",
    "TeamData",
    "agree",
    "cohen_kappa",
    "done_annotators",
    "krippendorff_alpha",
    "load_team",
    "reviewers",
]

SpanT = tuple[int, int, str]

_START, _END, _LABEL = itemgetter(0), itemgetter(1), itemgetter(2)


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


@dataclass
class TeamData:
    """What agreement is computed from: who did which document, their spans, the tokens."""

    annotators: list[str]
    done: dict[int, list[str]]  # doc id -> annotators (of ``annotators``) who marked it done
    spans: dict[tuple[int, str], list[SpanT]]  # (doc id, annotator) -> accepted spans
    titles: dict[int, str] = field(default_factory=dict)


def done_annotators(store: Store) -> list[str]:
    """Every annotator who marked at least one document done, by name."""
    return store.backend.done_annotators()


def reviewers(store: Store) -> list[str]:
    """Annotators who made review decisions (``annotate review --as``), by name."""
    return store.backend.reviewers()


def load_team(
    store: Store, annotators: Sequence[str], labels: Sequence[str] = (), min_done: int = 2,
    doc_id: int | None = None,
) -> TeamData:
    """The done documents (by at least ``min_done`` of ``annotators``) and their accepted spans;
    with ``doc_id``, of that document alone (the review screen opening one)."""
    names = list(dict.fromkeys(annotators))
    done: dict[int, list[str]] = {}
    for doc, annotator in store.backend.done_by(names, doc_id):
        done.setdefault(doc, []).append(annotator)
    order = {a: i for i, a in enumerate(names)}
    done = {d: sorted(a, key=order.__getitem__) for d, a in done.items() if len(a) >= min_done}
    spans: dict[tuple[int, str], list[SpanT]] = {}
    # One row per (document, annotator) with its spans as JSON: decoding that in C is several
    # times faster than a Python loop over every span's row.
    loads = json.loads
    for doc, annotator, layer in store.backend.accepted_layers(names, labels, doc_id):
        if doc in done:
            spans[(doc, annotator)] = list(map(tuple, loads(layer)))
    return TeamData(names, done, spans)


def _doc_tokens(store: Store, doc_ids: Sequence[int]) -> Iterable[tuple[int, str, Tokens]]:
    """(doc id, text, tokens) of each document, tokenising (and caching) those not cached yet."""
    for i in range(0, len(doc_ids), 500):
        chunk = doc_ids[i:i + 500]
        cached = store.backend.cached_tokens_many(chunk)
        fresh: list[tuple[int, str, bytes]] = []
        out = []
        for doc_id, text, lang in sorted(store.backend.document_texts(chunk)):
            want = tokenizer_id(lang)
            hit = cached.get(doc_id)
            if hit is not None and hit[0] in (want, "import"):
                toks = Tokens.from_bytes(hit[1])
            else:
                toks = tokenize(text, lang)
                fresh.append((doc_id, want, toks.to_bytes()))
            out.append((doc_id, text, toks))
        if fresh and not store.read_only:  # a read-only file is read as it is: nothing cached
            with store.transaction():
                for doc_id, tokenizer, blob in fresh:
                    store.backend.cache_tokens(doc_id, tokenizer, blob)
        yield from out


@dataclass
class PairAgreement:
    """Two annotators on the documents both marked done (``a`` is the reference)."""

    a: str
    b: str
    documents: int = 0
    tokens: int = 0
    #: Token counts by (tag of a, tag of b), tags coded as in :func:`agree` (0 = ``O``).
    confusion: Counter = field(default_factory=Counter)
    kappa: float | None = None
    labels: dict[str, LabelScore] = field(default_factory=dict)
    overall: LabelScore = field(default_factory=lambda: LabelScore("overall"))

    def score_spans(self, gold: Counter, predicted: Counter, exact: Counter, overlap: Counter) -> None:
        """Per-label and overall scores from span counts by label (as ``annotate evaluate``)."""
        self.labels = {}
        self.overall = LabelScore("overall")
        for label in sorted(gold.keys() | predicted.keys()):
            g, p, e, o = gold[label], predicted[label], exact[label], overlap[label]
            score = self.labels[label] = LabelScore(label)
            for part in (score, self.overall):
                part.exact.add(PRF(e, e, g, p))
                part.overlap.add(PRF(o, o, g, p))

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


@lru_cache(maxsize=1)
def _space_table() -> Any:
    """``table[c]``: whether code point ``c`` is whitespace (none is above U+3000; the last
    entry, for everything from U+3001 on, is False)."""
    import numpy as np

    return np.array([chr(c).isspace() for c in range(0x3002)], dtype=bool)


class _Corpus:
    """Every token of the documents as one array, and each annotator's BIO tag of each token."""

    def __init__(self, store: Store, doc_ids: Sequence[int]) -> None:
        import numpy as np

        self.doc_ids = list(doc_ids)
        self.position = {d: i for i, d in enumerate(self.doc_ids)}
        starts, ends = array("l"), array("l")  # the typecode Tokens uses
        texts: list[str] = []
        counts: list[int] = []
        for _doc_id, text, toks in _doc_tokens(store, self.doc_ids):
            starts.extend(toks.starts)
            ends.extend(toks.ends)
            counts.append(len(toks))
            texts.append(text)
        # All the texts as one (a NUL after each), so each token's first character is one
        # index away: whitespace tokens are those starting with a whitespace character.
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        self.char_base = np.cumsum(lengths) - lengths
        offset = np.repeat(self.char_base, counts)
        item = np.dtype(f"i{starts.itemsize}")
        self.starts = np.frombuffer(starts, dtype=item).astype(np.int64) + offset
        self.ends = np.frombuffer(ends, dtype=item).astype(np.int64) + offset
        chars = np.frombuffer("\0".join(texts).encode("utf-32-le"), dtype=np.uint32)
        first = chars[self.starts] if len(self.starts) else np.zeros(0, np.uint32)
        table = _space_table()
        self.space = table[np.minimum(first, len(table) - 1)]
        #: Document (position in ``doc_ids``) of every token.
        self.token_doc = np.repeat(np.arange(len(self.doc_ids)), counts)
        self.n = len(self.starts)

    def tags(self, layers: Iterable[tuple[int, Sequence[SpanT]]], codes: dict[str, int]) -> Any:
        """Tag codes of every token for one annotator's layers ``(doc position, spans)``."""
        import numpy as np

        docs: list[int] = []
        s0: list[int] = []
        s1: list[int] = []
        labs: list[int] = []
        for pos, spans in layers:
            docs += [pos] * len(spans)
            s0 += map(_START, spans)
            s1 += map(_END, spans)
            labs += (codes[sp[2]] for sp in spans)
        tags = np.zeros(self.n, dtype=np.int16)
        if not docs:
            return tags
        base = self.char_base[np.array(docs)]
        first = np.searchsorted(self.ends, np.array(s0) + base, side="right")
        last = np.searchsorted(self.starts, np.array(s1) + base, side="left")
        length = np.maximum(last - first, 0)
        span_of = np.repeat(np.arange(len(first)), length)
        token = np.repeat(first, length) + (np.arange(len(span_of)) - np.repeat(np.cumsum(length) - length, length))
        keep = ~self.space[token]
        token, span_of = token[keep], span_of[keep]
        inside = np.zeros(len(token), dtype=bool)
        inside[1:] = span_of[1:] == span_of[:-1]
        tags[token] = np.array(labs, dtype=np.int16)[span_of] + inside
        return tags


def agree(
    store: Store,
    annotators: Sequence[str] | None = None,
    *,
    labels: Sequence[str] = (),
    reviewer: str | None = None,
) -> AgreeReport:
    """Agreement of ``annotators`` (default: everyone with done documents but reviewers).

    ``reviewer`` (default: the one reviewer there is, if exactly one) adds each annotator
    against the reviewer's layer. Token-level figures are computed over the whole
    selection at once with numpy; span-level ones with sets of spans.
    """
    import numpy as np

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
    corpus = _Corpus(store, sorted(data.done))
    done_docs = {a: np.zeros(len(corpus.doc_ids), dtype=bool) for a in everyone}
    for doc_id, who in data.done.items():
        for a in who:
            done_docs[a][corpus.position[doc_id]] = True
    tags = {a: corpus.tags(((corpus.position[d], sp) for (d, who), sp in data.spans.items() if who == a), codes)
            for a in everyone}
    units = ~corpus.space
    done_tokens = {a: done_docs[a][corpus.token_doc] & units for a in everyone}

    def token_pair(a: str, b: str) -> PairAgreement:
        pair = PairAgreement(a, b)
        pair.documents = int((done_docs[a] & done_docs[b]).sum())
        mask = done_tokens[a] & done_tokens[b]
        pair.tokens = int(mask.sum())
        cells = np.bincount(tags[a][mask].astype(np.int64) * width + tags[b][mask], minlength=width * width)
        for code in np.flatnonzero(cells):
            pair.confusion[divmod(int(code), width)] = int(cells[code])
        pair.kappa = cohen_kappa(pair.confusion)
        return pair

    pairs = {(a, b): token_pair(a, b) for a, b in itertools.combinations(names, 2)}
    versus = {a: token_pair(reviewer, a) for a in names} if reviewer else {}

    # Krippendorff's α: every token of a document two or more of the annotators did is a unit.
    coders = np.zeros(corpus.n, dtype=np.int64)
    for a in names:
        coders += done_tokens[a]
    alpha_units = coders >= 2
    total_units = int(alpha_units.sum())
    alpha: float | None = None
    if total_units:
        index = np.flatnonzero(alpha_units)
        values = np.zeros((len(index), width), dtype=np.int64)
        for a in names:
            sel = done_tokens[a][index]
            values[np.flatnonzero(sel), tags[a][index[sel]]] += 1
        m = coders[index]
        observed = float(((m * m - (values * values).sum(axis=1)) / (m - 1)).sum())
        n_c = values.sum(axis=0)
        n = int(n_c.sum())
        expected = n * n - int((n_c * n_c).sum())
        alpha = None if n <= 1 or expected == 0 else 1.0 - (n - 1) * observed / expected

    # Spans, document by document (small sets): P/R/F1, confusions, each document's agreement.
    counts = {key: _SpanCounts() for key in [*pairs, *((reviewer, a) for a in versus)]}
    confusion: dict[str, dict[str, int]] = {}
    name_set = set(names)
    empty: list[SpanT] = []
    docs: list[tuple[int, tuple[str, ...], float, int]] = []
    for doc_id in corpus.doc_ids:
        who = data.done[doc_id]
        coders_here = [a for a in who if a in name_set]
        sets = {a: set(data.spans.get((doc_id, a), empty)) for a in who}
        f1s = []
        for a, b in itertools.combinations(coders_here, 2):
            sa, sb = sets[a], sets[b]
            exact = counts[(a, b)].add(sa, sb, confusion)
            f1s.append(2 * exact / (len(sa) + len(sb)) if sa or sb else 1.0)
        if reviewer in sets:
            for a in coders_here:
                counts[(reviewer, a)].add(sets[reviewer], sets[a], None)
        if len(coders_here) >= 2:
            layers = [sets[a] for a in coders_here]
            disagreements = len(set().union(*layers)) - len(set.intersection(*layers))
            docs.append((doc_id, tuple(coders_here), sum(f1s) / len(f1s), disagreements))
    for key in pairs:
        counts[key].diagonal(confusion)
    confusion = {a: dict(sorted(row.items())) for a, row in sorted(confusion.items())}  # same JSON every run
    for key, pair in [*pairs.items(), *(((reviewer, a), p) for a, p in versus.items())]:
        counts[key].score(pair)
    titles = _titles(store, [d[0] for d in docs])
    per_doc = [DocAgreement(d, titles.get(d, ""), who, f1, n) for d, who, f1, n in docs]
    per_doc.sort(key=lambda d: (d.f1, -d.disagreements, d.doc_id))
    return AgreeReport(
        annotators=names, labels=label_names, documents=len(per_doc), tokens=total_units,
        pairs=list(pairs.values()), alpha=alpha, confusion=confusion, documents_by_agreement=per_doc,
        reviewer=reviewer, versus_reviewer=list(versus.values()),
    )


class _SpanCounts:
    """Span counts of one pair by label, added document by document."""

    __slots__ = ("gold", "predicted", "exact", "overlap")

    def __init__(self) -> None:
        self.gold: list[str] = []
        self.predicted: list[str] = []
        self.exact: list[str] = []
        self.overlap: Counter = Counter()  # overlap matches beyond the exact ones

    def add(self, a: set[SpanT], b: set[SpanT], table: dict[str, dict[str, int]] | None) -> int:
        """One document's two layers; returns the exact matches. ``table``: the confusion table."""
        # The table's diagonal (same span, same label) is the exact matches: added from
        # ``exact`` once every document is in (:meth:`diagonal`).
        if a == b:
            labels = list(map(_LABEL, a))
            self.gold += labels
            self.predicted += labels
            self.exact += labels
            return len(a)
        common = a & b
        self.gold += map(_LABEL, a)
        self.predicted += map(_LABEL, b)
        self.exact += map(_LABEL, common)
        rest_a, rest_b = a - common, b - common
        if table is not None:
            if rest_a and rest_b:
                bounds = {(s, e): lab for s, e, lab in rest_b}
                for s, e, lab in rest_a:
                    other = bounds.get((s, e))
                    if other is not None:  # same boundaries, so another label
                        for x, y in ((lab, other), (other, lab)):
                            row = table.get(x) or table.setdefault(x, {})
                            row[y] = row.get(y, 0) + 1
        if rest_a and rest_b:
            # An exact pair overlaps nothing else (a layer's spans never overlap), so the
            # one-to-one overlap pairing of the rest adds to the exact matches.
            # Sorted: the pairing's ties are broken by position, so the count must not depend
            # on a set's iteration order (which string hashing changes from run to run).
            for label in set(map(_LABEL, rest_a)) & set(map(_LABEL, rest_b)):
                self.overlap[label] += _overlap_hits(sorted(sp for sp in rest_a if sp[2] == label),
                                                     sorted(sp for sp in rest_b if sp[2] == label))
        return len(common)

    def diagonal(self, table: dict[str, dict[str, int]]) -> None:
        """Add the exact matches (same span, same label) to the confusion table's diagonal."""
        for lab, n in Counter(self.exact).items():
            row = table.setdefault(lab, {})
            row[lab] = row.get(lab, 0) + n

    def score(self, pair: PairAgreement) -> None:
        exact = Counter(self.exact)
        pair.score_spans(Counter(self.gold), Counter(self.predicted), exact, exact + self.overlap)


def _titles(store: Store, doc_ids: Sequence[int]) -> dict[int, str]:
    return store.backend.titles(doc_ids)
