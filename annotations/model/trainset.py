"""Labelled documents turned into the CRF's training sequences, with a reusable cache.

Sentence splitting and feature extraction cost more than a few L-BFGS iterations, and
between two retrains of the loop almost every labelled document is unchanged, so
:class:`FeatureCache` keeps each document's sentences and (lexicon-free) features keyed by
its text and spans. Lexicon features are added on every build, because the lexicon grows.

Lexicon leak: when the lexicon is learned from the same labels the CRF trains on, every
training entity is in it, and the CRF would learn that "in the lexicon" means "entity" and
little else — and then miss the new names it is there to find. So, for each training
document, a word that only *that* document's spans put in the lexicon counts as unknown
(what the lexicon would have said had the document not been labelled yet). Entities
labelled in two or more documents keep their lexicon features everywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .data import LabelledDocument
from .features import FeatureExtractor, Lexicon, lexicon_keys

__all__ = ["EncodedSentence", "FeatureCache", "training_sequences"]


@dataclass(frozen=True, slots=True)
class EncodedSentence:
    """A sentence's words, its encoded lexicon-free features and its BIO tags."""

    words: tuple[str, ...]
    features: list[list[Any]]
    tags: tuple[str, ...]


def _fingerprint(doc: LabelledDocument) -> tuple[Any, ...]:
    return (doc.lang, len(doc.text), hash(doc.text), doc.spans)


@dataclass
class FeatureCache:
    """Encoded sentences per (document, annotator), valid while text and spans are unchanged."""

    entries: dict[tuple[int, str], tuple[tuple[Any, ...], list[EncodedSentence]]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, doc: LabelledDocument, extract: FeatureExtractor) -> list[EncodedSentence]:
        key = (doc.doc_id, doc.annotator)
        fp = _fingerprint(doc)
        found = self.entries.get(key)
        if found is not None and found[0] == fp:
            self.hits += 1
            return found[1]
        self.misses += 1
        encoded = encode_document(doc, extract)
        self.entries[key] = (fp, encoded)
        return encoded

    def keep_only(self, keys: set[tuple[int, str]]) -> None:
        """Drop documents that are no longer labelled."""
        for key in [k for k in self.entries if k not in keys]:
            del self.entries[key]


def encode_document(doc: LabelledDocument, extract: FeatureExtractor) -> list[EncodedSentence]:
    out = []
    for sent in doc.sentences():
        assert sent.tags is not None
        out.append(EncodedSentence(sent.words, extract.base(sent.words, doc.lang, encoded=True), sent.tags))
    return out


def _span_words(doc: LabelledDocument, sents: Sequence[EncodedSentence]) -> dict[str, tuple[str, ...]]:
    """The words inside the document's spans, with their lexicon keys."""
    return {
        w: lexicon_keys(w, doc.lang)
        for s in sents for w, t in zip(s.words, s.tags) if t != "O"
    }


def training_sequences(
    docs: Sequence[LabelledDocument],
    lexicon: Lexicon | None = None,
    *,
    cache: FeatureCache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[tuple[list[list[Any]], tuple[str, ...]]], int]:
    """``([(features, tags), ...], tokens)`` for crfsuite, one pair per sentence."""
    extract = FeatureExtractor(lexicon)
    cache = cache if cache is not None else FeatureCache()
    encoded = []
    for k, doc in enumerate(docs, 1):
        encoded.append((doc, cache.get(doc, extract)))
        if progress:
            progress(k, len(docs))
    words_by_doc: list[dict[str, tuple[str, ...]]] = []
    key_counts: Counter[str] = Counter()
    if lexicon is not None:
        for doc, sents in encoded:
            words = _span_words(doc, sents)
            words_by_doc.append(words)
            key_counts.update({k for keys in words.values() for k in keys})
    data: list[tuple[list[list[Any]], tuple[str, ...]]] = []
    tokens = 0
    for n, (doc, sents) in enumerate(encoded):
        hide: set[str] = set()
        if lexicon is not None:
            own = {k for keys in words_by_doc[n].values() for k in keys}
            hide = {
                w for w, keys in words_by_doc[n].items()
                if not any(key_counts[k] - (k in own) > 0 for k in keys)
            }
        for s in sents:
            tokens += len(s.words)
            if lexicon is None:
                data.append((s.features, s.tags))
                continue
            lex = extract.lexicon_features(s.words, doc.lang, encoded=True, exclude=hide)
            data.append(([f + x if x else f for f, x in zip(s.features, lex)], s.tags))
    return data, tokens
