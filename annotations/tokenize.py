"""Tokenisation with spaCy's blank tokenizers, loaded lazily.

spaCy costs about a second to import, so nothing here imports it until a document is first
tokenised. Token boundaries are spaCy's, so every span we store lines up with a
``spacy.blank(lang)`` Doc and trains without misalignment, with one change: no token mixes
whitespace with other characters. spaCy's tokenizer exceptions keep some multi-word
abbreviations whole (Russian ``и др.``, ``т. е.``); a ``token<TAB>tag`` line cannot hold
such a token (CoNLL readers split it at the space), so :func:`split_whitespace` cuts
every token that holds whitespace at it, in the store's tokens, so that spans, CoNLL, HF,
DocBin and Prodigy tokens all agree. Whitespace-only tokens (spaCy's ``"\n"``, ``"  "``)
stay as they are. The tokenizer id carries :data:`TOKENS_VERSION`, so caches written
before the change are recomputed (migration ``m005_whitespace_free_tokens`` drops them).
"""

from __future__ import annotations

import re
import threading
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = [
    "Tokens", "tokenize", "tokenize_many", "doc_tokens", "tokenizer_id", "blank_nlp", "split_whitespace", "SPACY_LANGS", "TOKENS_VERSION",
]

#: Our language code -> spaCy's blank pipeline code.
SPACY_LANGS = {"ky": "ky", "ru": "ru"}

#: Bumped when our post-processing of spaCy's tokens changes (2: whitespace-free tokens).
TOKENS_VERSION = 2

_lock = threading.Lock()


@lru_cache(maxsize=None)
def _spacy_version() -> str:
    from importlib.metadata import version

    return version("spacy")


def tokenizer_id(lang: str) -> str:
    """Cache key of the tokenizer for ``lang``: tokens are recomputed when spaCy changes."""
    return f"spacy-{_spacy_version()}/{SPACY_LANGS.get(lang, 'xx')}/t{TOKENS_VERSION}"


@lru_cache(maxsize=None)
def _blank(code: str) -> "Language":
    import spacy

    nlp = spacy.blank(code)
    _loaded.add(code)
    # spaCy refuses texts over 1,000,000 characters to protect parsers' memory; a blank
    # tokenizer needs no such guard, and a long document must still be annotatable.
    nlp.max_length = 10**9
    return nlp


_loaded: set[str] = set()


def renew_pipelines(limit: int) -> bool:
    """Drop the cached blank pipelines if one's vocab holds more than ``limit`` lexemes.

    A vocab (and the tokenizer's cache) keeps every string it has seen, so a process that
    tokenises a million documents renews them now and then to keep its memory flat; the
    tokens are the same either way. Returns whether they were dropped.
    """
    with _lock:
        if not any(len(_blank(code).vocab) > limit for code in _loaded):
            return False
        _blank.cache_clear()
        _loaded.clear()
        return True


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
        """``start, end`` pairs as native ``array("l")`` items (the token cache's format)."""
        starts, ends = self.starts, self.ends
        packed = array("l", bytes(2 * len(starts) * array("l").itemsize))
        packed[0::2] = starts if isinstance(starts, array) and starts.typecode == "l" else array("l", starts)
        packed[1::2] = ends if isinstance(ends, array) and ends.typecode == "l" else array("l", ends)
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


_WS_RUN = re.compile(r"\s+")
#: Whitespace next to something else inside one token (``str.isspace`` whitespace, as ``str.split`` cuts).
_MIXED = re.compile(r"\S\s|\s\S")


def split_whitespace(text: str, tokens: Tokens) -> Tokens:
    """``tokens`` with every token that mixes whitespace and other characters cut at the whitespace.

    ``"и др."`` becomes ``"и"`` and ``"др."``; the one space between them is the first
    token's trailing space, as in spaCy, and any further whitespace becomes a
    whitespace-only token (as spaCy makes ``"  "`` into ``"и"`` + ``" "``). Returns
    ``tokens`` itself when no token needs cutting (the usual case).
    """
    starts, ends = tokens.starts, tokens.ends
    bad = [i for i in range(len(starts)) if _MIXED.search(text, starts[i], ends[i])]
    if not bad:
        return tokens
    new_starts, new_ends = array("l"), array("l")
    prev = 0
    for i in bad:
        new_starts.extend(starts[prev:i])
        new_ends.extend(ends[prev:i])
        s, e = starts[i], ends[i]
        pos = s
        for gap in _WS_RUN.finditer(text, s, e):
            g0, g1 = gap.span()
            if g0 > pos:
                new_starts.append(pos)
                new_ends.append(g0)
            if g0 == s or text[g0] != " ":
                lone = g0  # leading whitespace, or a gap that does not start with a space
            else:
                lone = g0 + 1  # the one space a token carries
            if g1 > lone:
                new_starts.append(lone)
                new_ends.append(g1)
            pos = g1
        if e > pos:
            new_starts.append(pos)
            new_ends.append(e)
        prev = i + 1
    new_starts.extend(starts[prev:])
    new_ends.extend(ends[prev:])
    return Tokens(new_starts, new_ends)


def tokenize(text: str, lang: str) -> Tokens:
    """Tokenise ``text`` with the blank spaCy tokenizer of ``lang`` (``xx`` for other), whitespace-free."""
    return doc_tokens(blank_nlp(lang).make_doc(text), text)


#: ``array("l")``'s item as a numpy dtype (8 bytes on Linux and macOS, 4 on Windows).
_LONG = f"=i{array('l').itemsize}"


def doc_tokens(doc: "Doc", text: str) -> Tokens:
    """The whitespace-free :class:`Tokens` of a spaCy ``Doc`` of ``text``.

    The offsets come from ``Doc.to_array([IDX, LENGTH])`` (one call into spaCy's C code)
    rather than from a Python loop over ``Token`` objects, which cost two thirds of the time
    of tokenising a news article.
    """
    from spacy.attrs import IDX, LENGTH

    starts, ends = array("l"), array("l")
    if len(doc):
        offsets = doc.to_array([IDX, LENGTH]).astype(_LONG)
        starts.frombytes(offsets[:, 0].tobytes())
        offsets[:, 1] += offsets[:, 0]
        ends.frombytes(offsets[:, 1].tobytes())
    tokens = Tokens(starts, ends)
    # spaCy leaves only single spaces between its tokens, and its multi-word exceptions
    # (the only tokens that hold whitespace) hold a space: when every space of the text is
    # between tokens, no token needs cutting. Two sums and a count, no loop in Python.
    if text.count(" ") == len(text) - (sum(ends) - sum(starts)):
        return tokens
    return split_whitespace(text, tokens)


def tokenize_many(texts: Sequence[tuple[str, str]]) -> list[bytes]:
    """``Tokens.to_bytes()`` of each ``(text, lang)``: the work an export hands to its tokenising process."""
    return [tokenize(text, lang).to_bytes() for text, lang in texts]
