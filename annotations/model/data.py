"""Training data from the store: labelled documents, sentences and BIO tags.

A document is *labelled* for an annotator when that annotator marked it done or accepted
at least one span in it (and did not skip it). With no annotator given, every
(document, annotator) pair that is labelled counts as one example; the held-out split is
by document, so no text is in both the training and the held-out part.

Sentences are cut at newline tokens and after sentence-final punctuation (``. ! ? …``)
unless the next word starts in lower case ("2,5 млрд. долларына") or the cut would fall
inside a labelled span. Whitespace-only tokens are never part of a sentence.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..store import Store, snap_to_tokens
from ..tokenize import Tokens, tokenizer_id

__all__ = [
    "LabelledDocument",
    "Sentence",
    "bio_tags",
    "labelled_documents",
    "sentences",
    "spans_from_tags",
    "split_documents",
]

#: Tokens after which a sentence may end.
SENTENCE_FINAL = frozenset({".", "!", "?", "…", "...", "?!", "!?", "!!", "??"})
#: Tokens that stay with the sentence they close (quotes, brackets after the full stop).
CLOSERS = frozenset({"»", '"', "”", "’", "'", ")", "]", "}"})


@dataclass(frozen=True, slots=True)
class Sentence:
    """The non-space tokens of one sentence: words, their offsets, and BIO tags if labelled."""

    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    tags: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.words)


@dataclass(frozen=True, slots=True)
class LabelledDocument:
    """One annotator's accepted spans on one document, with what the model needs to see."""

    doc_id: int
    annotator: str
    text: str
    lang: str
    tokens: Tokens
    spans: tuple[tuple[int, int, str], ...]

    def sentences(self) -> list[Sentence]:
        """The document's sentences with BIO tags from :attr:`spans`."""
        return sentences(self.text, self.tokens, self.spans)

    def token_spans(self) -> list[tuple[int, int, str]]:
        """The spans widened to whole tokens, as the model can predict them."""
        return [(*snap_to_tokens(self.tokens, s, e), lab) for s, e, lab in self.spans]

    @property
    def misaligned(self) -> int:
        """Spans whose edges are not token edges (they are widened to whole tokens)."""
        starts, ends = set(self.tokens.starts), set(self.tokens.ends)
        return sum(1 for s, e, _ in self.spans if s not in starts or e not in ends)


def _is_final(word: str) -> bool:
    return word in SENTENCE_FINAL or (word[0] in ".!?…" and not word.strip(".!?…"))


def bio_tags(tokens: Tokens, spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """A BIO tag per token: every token a span touches is part of it (spans widen to tokens)."""
    tags = ["O"] * len(tokens)
    for start, end, label in sorted(spans):
        first = bisect_right(tokens.ends, start)
        last = bisect_left(tokens.starts, end) - 1
        inside = False
        for i in range(first, last + 1):
            if tags[i] != "O" or not tokens.ends[i] > tokens.starts[i]:
                continue
            tags[i] = ("I-" if inside else "B-") + label
            inside = True
    return tags


def sentences(
    text: str,
    tokens: Tokens,
    spans: Sequence[tuple[int, int, str]] | None = None,
) -> list[Sentence]:
    """Split a document into sentences of non-space tokens (tagged if ``spans`` is given)."""
    tags = bio_tags(tokens, spans) if spans is not None else None
    starts, ends = tokens.starts, tokens.ends
    words = [text[s:e] for s, e in zip(starts, ends)]
    out: list[Sentence] = []
    idx: list[int] = []
    pending = False  # the last word ended a sentence; the next word decides

    def flush() -> None:
        if idx:
            out.append(Sentence(
                tuple([words[i] for i in idx]),
                tuple([starts[i] for i in idx]),
                tuple([ends[i] for i in idx]),
                tuple([tags[i] for i in idx]) if tags is not None else None,
            ))
            idx.clear()

    for i, word in enumerate(words):
        if not word or word.isspace():
            if "\n" in word and not (tags is not None and tags[i][0] == "I"):
                flush()
                pending = False
            continue
        if pending:
            if word in CLOSERS or _is_final(word):
                idx.append(i)
                continue
            if not word[0].islower() and not (tags is not None and tags[i][0] == "I"):
                flush()
        pending = _is_final(word)
        idx.append(i)
    flush()
    return out


def spans_from_tags(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """``(first, last, label)`` token ranges (``last`` inclusive) of a BIO sequence.

    An ``I-X`` that does not continue an ``X`` entity starts one (as conlleval reads it).
    """
    out: list[tuple[int, int, str]] = []
    first, label = -1, ""
    for i, tag in enumerate(tags):
        kind, _, name = tag.partition("-")
        if label and (kind != "I" or name != label):
            out.append((first, i - 1, label))
            label = ""
        if kind in ("B", "I") and not label:
            first, label = i, name
    if label:
        out.append((first, len(tags) - 1, label))
    return out


def labelled_documents(store: Store, annotator: str | None = None) -> list[LabelledDocument]:
    """Every labelled (document, annotator) pair, by document id then annotator.

    ``annotator`` limits it to one annotator; ``None`` takes all of them. Reads in a few
    bulk queries (a thousand labelled documents take a tenth of a second).
    """
    spans: dict[tuple[int, str], list[tuple[int, int, str]]] = {}
    for doc_id, who_, start, end, label in store.backend.accepted_spans(annotator):
        spans.setdefault((doc_id, who_), []).append((start, end, label))
    status = {(doc_id, who_): st for doc_id, who_, st in store.backend.decided_statuses(annotator)}
    keys = sorted(
        k for k in {*spans, *(k for k, st in status.items() if st == "done")}
        if status.get(k) != "skipped"
    )
    ids = sorted({doc_id for doc_id, _ in keys})
    texts: dict[int, tuple[str, str]] = {}
    cached: dict[int, tuple[str, bytes]] = {}
    for doc_id, text, lang in store.backend.document_texts(ids):
        texts[doc_id] = (text, lang)
    cached.update(store.backend.cached_tokens_many(ids))
    tokens: dict[int, Tokens] = {}
    for doc_id in ids:
        found = cached.get(doc_id)
        if found and found[0] in (tokenizer_id(texts[doc_id][1]), "import"):
            tokens[doc_id] = Tokens.from_bytes(found[1])
        else:
            tokens[doc_id] = store.tokens(doc_id)  # computes and caches them
    return [
        LabelledDocument(doc_id, who_, texts[doc_id][0], texts[doc_id][1], tokens[doc_id],
                         tuple(spans.get((doc_id, who_), ())))
        for doc_id, who_ in keys
    ]


def split_documents(
    docs: Sequence[LabelledDocument], eval_split: float = 0.2, seed: int = 0
) -> tuple[list[LabelledDocument], list[LabelledDocument]]:
    """``(train, held_out)``: a deterministic share of the *documents* is held out.

    At least one document is held out when ``eval_split > 0`` and there are two or more
    documents; at least one always stays for training. Order within each part is kept.
    """
    if not 0 <= eval_split < 1:
        raise ValueError(f"eval_split must be in [0, 1), got {eval_split}")
    ids = sorted({d.doc_id for d in docs})
    n_held = 0
    if eval_split > 0 and len(ids) >= 2:
        n_held = min(len(ids) - 1, max(1, round(len(ids) * eval_split)))
    held = set(random.Random(seed).sample(ids, n_held))
    return [d for d in docs if d.doc_id not in held], [d for d in docs if d.doc_id in held]
