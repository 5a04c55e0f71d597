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

import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .data import LabelledDocument
from .features import FeatureExtractor, Lexicon, lexicon_keys

__all__ = ["EncodedSentence", "FeatureCache", "TrainingSet", "training_sequences"]


@dataclass(slots=True)
class EncodedSentence:
    """A sentence's words and BIO tags; its lexicon-free features, computed on first use."""

    words: tuple[str, ...]
    tags: tuple[str, ...]
    lang: str
    _features: list[list[Any]] | None = None

    def features(self, extract: FeatureExtractor) -> list[list[Any]]:
        if self._features is None:
            self._features = extract.base(self.words, self.lang, encoded=True)
        return self._features


def _fingerprint(doc: LabelledDocument) -> tuple[Any, ...]:
    return (doc.lang, len(doc.text), hash(doc.text), doc.spans)


@dataclass
class FeatureCache:
    """Encoded sentences per (document, annotator), valid while text and spans are unchanged."""

    entries: dict[tuple[int, str], tuple[tuple[Any, ...], list[EncodedSentence]]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, doc: LabelledDocument) -> list[EncodedSentence]:
        key = (doc.doc_id, doc.annotator)
        fp = _fingerprint(doc)
        found = self.entries.get(key)
        if found is not None and found[0] == fp:
            self.hits += 1
            return found[1]
        self.misses += 1
        encoded = [EncodedSentence(s.words, s.tags or (), doc.lang) for s in doc.sentences()]
        self.entries[key] = (fp, encoded)
        return encoded

    def keep_only(self, keys: set[tuple[int, str]]) -> None:
        """Drop documents that are no longer labelled."""
        for key in [k for k in self.entries if k not in keys]:
            del self.entries[key]


def _span_words(doc: LabelledDocument, sents: Sequence[EncodedSentence]) -> dict[str, tuple[str, ...]]:
    """The words inside the document's spans, with their lexicon keys."""
    return {
        w: lexicon_keys(w, doc.lang)
        for s in sents for w, t in zip(s.words, s.tags) if t != "O"
    }


def _keep(doc_id: int, index: int, rate: float) -> bool:
    """A stable coin toss per sentence: the same sentences stay in as documents are added."""
    return zlib.crc32(f"{doc_id}:{index}".encode()) < rate * 0xFFFFFFFF


@dataclass(slots=True)
class TrainingSet:
    """What crfsuite gets: one ``(features, tags)`` pair per sentence, and how much was used."""

    sequences: list[tuple[list[list[Any]], tuple[str, ...]]]
    tokens: int
    total_tokens: int
    sentences: int
    total_sentences: int


def training_sequences(
    docs: Sequence[LabelledDocument],
    lexicon: Lexicon | None = None,
    *,
    cache: FeatureCache | None = None,
    max_tokens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrainingSet:
    """The CRF's training sequences from labelled documents.

    With ``max_tokens`` and more tokens than that, a stable sample of the sentences is
    kept (each sentence in with the same probability; the same ones from one retrain to
    the next), so training time stays within a budget however much is labelled.
    """
    extract = FeatureExtractor(lexicon)
    cache = cache if cache is not None else FeatureCache()
    encoded = [(doc, cache.get(doc)) for doc in docs]
    total = sum(len(s.words) for _, sents in encoded for s in sents)
    total_sentences = sum(len(sents) for _, sents in encoded)
    rate = 1.0 if not max_tokens or total <= max_tokens else max_tokens / total
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
        for i, s in enumerate(sents):
            if rate < 1.0 and not _keep(doc.doc_id, i, rate):
                continue
            tokens += len(s.words)
            feats = s.features(extract)
            if lexicon is not None:
                lex = extract.lexicon_features(s.words, doc.lang, encoded=True, exclude=hide)
                feats = [f + x if x else f for f, x in zip(feats, lex)]
            data.append((feats, s.tags))
        if progress:
            progress(n + 1, len(encoded))
    return TrainingSet(data, tokens, total, len(data), total_sentences)
