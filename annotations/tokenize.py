"""Tokenisation with spaCy's blank tokenizers, loaded lazily.

spaCy costs about a second to import, so nothing here imports it until a document is first
tokenised. Token boundaries are exactly spaCy's, so every span we store lines up with a
``spacy.blank(lang)`` Doc and trains without misalignment.
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

__all__ = ["Tokens", "tokenize", "tokenizer_id", "blank_nlp", "SPACY_LANGS"]

#: Our language code -> spaCy's blank pipeline code.
SPACY_LANGS = {"ky": "ky", "ru": "ru"}

_lock = threading.Lock()


@lru_cache(maxsize=None)
def _spacy_version() -> str:
    from importlib.metadata import version

    return version("spacy")


def tokenizer_id(lang: str) -> str:
    """Cache key of the tokenizer for ``lang``: tokens are recomputed when spaCy changes."""
    return f"spacy-{_spacy_version()}/{SPACY_LANGS.get(lang, 'xx')}"


@lru_cache(maxsize=None)
def _blank(code: str) -> "Language":
    import spacy

    nlp = spacy.blank(code)
    # spaCy refuses texts over 1,000,000 characters to protect parsers' memory; a blank
    # tokenizer needs no such guard, and a long document must still be annotatable.
    nlp.max_length = 10**9
    return nlp


def blank_nlp(lang: str) -> "Language":
    """The shared blank spaCy pipeline for one of our language codes."""
    with _lock:
        return _blank(SPACY_LANGS.get(lang, "xx"))


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token boundaries of one text: ``starts[i]``..``ends[i]`` (end exclusive, code points)."""

    starts: Sequence[int]
    ends: Sequence[int]

    def __len__(self) -> int:
        return len(self.starts)

    def to_bytes(self) -> bytes:
        packed = array("l")
        for s, e in zip(self.starts, self.ends):
            packed.append(s)
            packed.append(e)
        return packed.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Tokens":
        packed = array("l")
        packed.frombytes(data)
        return cls(packed[0::2], packed[1::2])

    @classmethod
    def from_pairs(cls, pairs: Sequence[tuple[int, int]]) -> "Tokens":
        return cls(array("l", (s for s, _ in pairs)), array("l", (e for _, e in pairs)))

    def words(self, text: str) -> list[str]:
        return [text[s:e] for s, e in zip(self.starts, self.ends)]

    def spaces(self, text: str) -> list[bool]:
        """spaCy's ``spaces``: whether one space follows each token."""
        n = len(self.starts)
        out = []
        for i in range(n):
            nxt = self.starts[i + 1] if i + 1 < n else len(text)
            out.append(nxt > self.ends[i] and text[self.ends[i]] == " ")
        return out


def tokenize(text: str, lang: str) -> Tokens:
    """Tokenise ``text`` with the blank spaCy tokenizer of ``lang`` (``xx`` for other)."""
    nlp = blank_nlp(lang)
    doc = nlp.make_doc(text)
    starts = array("l")
    ends = array("l")
    for tok in doc:
        starts.append(tok.idx)
        ends.append(tok.idx + len(tok.text))
    return Tokens(starts, ends)
