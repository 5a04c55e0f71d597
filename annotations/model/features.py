"""Per-token features for Kyrgyz and Russian named-entity recognition.

Each token becomes a list of features (``"lw=жапаров"``) as python-crfsuite takes them;
the CRF gets them as short hashed ids (:func:`encode`), people and tests read the names.
What a token contributes depends only on its own text and language, so its features (and
the ones it lends its neighbours) are computed once per word type and cached; a
sentence's features are then list concatenations.

Features of a token (about 16: every feature costs training time, so the set was pruned
against the gold benchmark — dropping a second suffix and the neighbours' stems cost no F1):

- ``w`` the word, ``lw`` its lower-case form, ``sh`` shape (``Xxxx``: runs cut at 4),
  ``p3`` prefix, ``s3`` suffix (lower-case), ``st`` the lower-case word with its
  case ending removed and ``end`` that ending (see :mod:`.endings`), ``cap``
  capitalisation (title, upper, lower, mixed, none), ``scr`` script (cyr, lat, mix, digit,
  punct, other);
- ``BOS`` and ``init=<cap>`` on the sentence-initial token (capitalisation says less
  there), ``EOS`` on the last one;
- neighbours: ``-1:``/``+1:`` lower-case form and short shape (``Xx``),
  ``-2:``/``+2:`` lower-case form;
- ``lex``: membership in a lexicon of known entity word forms or stems, for the token and
  its ±1 neighbours (``lex=1``, or ``lex=LABEL`` when the lexicon says which label).

A lexicon is anything the caller has: a set of strings (a word matches if its own form,
its lower-case form or its stem is in it), a mapping from those to a label, or a callable
``word -> bool | label | None``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any

from .endings import split_ending

__all__ = [
    "FEATURE_VERSION",
    "FeatureExtractor",
    "Lexicon",
    "capitalisation",
    "encode",
    "lexicon_keys",
    "script",
    "sentence_features",
    "shape",
    "short_shape",
]

#: Bumped whenever the feature set changes: a saved model records the version it used.
FEATURE_VERSION = 1

Lexicon = Collection[str] | Mapping[str, str] | Callable[[str], bool | str | None]


def shape(word: str, cap: int = 4) -> str:
    """``X`` upper, ``x`` lower, ``d`` digit, other characters as themselves; runs cut at ``cap``."""
    out: list[str] = []
    last, run = "", 0
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.isalpha() else "d" if ch.isdigit() else ch
        run = run + 1 if c == last else 1
        last = c
        if run <= cap:
            out.append(c)
    return "".join(out)


def short_shape(word: str) -> str:
    """:func:`shape` with every run collapsed to one character ("Жапаровдун" -> ``Xx``)."""
    return shape(word, cap=1)


def capitalisation(word: str) -> str:
    """``title``, ``upper``, ``lower``, ``mixed`` or ``none`` (no letters)."""
    letters = [ch for ch in word if ch.isalpha()]
    if not letters:
        return "none"
    if all(ch.isupper() for ch in letters):
        return "upper" if len(letters) > 1 else "title"
    if all(ch.islower() for ch in letters):
        return "lower"
    if letters[0].isupper() and all(ch.islower() for ch in letters[1:]):
        return "title"
    return "mixed"


def script(word: str) -> str:
    """``cyr``, ``lat``, ``mix`` (both), ``digit``, ``punct`` (no letters or digits) or ``other``."""
    cyr = lat = other = digit = 0
    for ch in word:
        if ch.isalpha():
            if "\u0400" <= ch <= "\u04ff" or "\u0500" <= ch <= "\u052f":
                cyr += 1
            elif ch.isascii() or "\u00c0" <= ch <= "\u024f":
                lat += 1
            else:
                other += 1
        elif ch.isdigit():
            digit += 1
    if cyr and lat:
        return "mix"
    if cyr and not other:
        return "cyr"
    if lat and not other:
        return "lat"
    if other:
        return "other"
    return "digit" if digit else "punct"


# Cache sizes bound memory (a word's features are ~1 KB): the most frequent 30,000 words
# cover almost every token; the rest are recomputed when they come back.
@lru_cache(maxsize=30_000)
def _word(word: str, lang: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]:
    """A word type's own features, those it lends a ±1 and a ±2 neighbour, and its
    capitalisation."""
    low = word.lower()
    stem, ending = split_ending(low, lang)
    ssh = short_shape(word)
    cap = capitalisation(word)
    own = (
        "b",
        "w=" + word,
        "lw=" + low,
        "sh=" + shape(word),
        "p3=" + low[:3],
        "s3=" + low[-3:],
        "st=" + stem,
        "end=" + ending,
        "cap=" + cap,
        "scr=" + script(word),
    )
    near = ("lw=" + low, "ssh=" + ssh)
    far = ("lw=" + low,)
    return own, near, far, cap


@lru_cache(maxsize=100_000)
def encode(feature: str) -> bytes:
    """A feature's id as the CRF stores it: 8 ASCII bytes of a BLAKE2b hash.

    crfsuite keeps attribute names in a search tree of strings; short, evenly spread
    ids make adding training data about twice as fast as the readable names, and they
    are stable across processes (a saved model needs no dictionary of its own).
    """
    return base64.b64encode(hashlib.blake2b(feature.encode("utf-8"), digest_size=6).digest())


@lru_cache(maxsize=30_000)
def _slots(word: str, lang: str, encoded: bool) -> tuple[tuple[Any, ...], ...]:
    """Features ``word`` gives: its own, to the tokens at -2, -1, +1, +2, and at sentence start.

    Slot ``k`` for offset ``d`` holds what this word lends the token ``d`` positions away.
    """
    own, near, far, cap = _word(word, lang)
    lent = {d: tuple(f"{-d:+d}:{f}" for f in (near if abs(d) == 1 else far)) for d in (-2, -1, 1, 2)}
    init = ("BOS", "init=" + cap)
    slots = (own, lent[-2], lent[-1], lent[1], lent[2], init)
    if encoded:
        return tuple(tuple(encode(f) for f in slot) for slot in slots)
    return slots


class FeatureExtractor:
    """Turns sentences (lists of words) into crfsuite feature lists, with one lexicon."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon
        self._lex_cache: dict[tuple[str, str], str | None] = {}

    def lexicon_tag(self, word: str, lang: str) -> str | None:
        """``"1"`` or a label if ``word`` is in the lexicon, else ``None``."""
        lex = self.lexicon
        if lex is None:
            return None
        key = (word, lang)
        if key in self._lex_cache:
            return self._lex_cache[key]
        tag: str | None = None
        if callable(lex) and not isinstance(lex, (Mapping, Collection)):
            found = lex(word)
            tag = found if isinstance(found, str) and found else ("1" if found else None)
        else:
            for form in lexicon_keys(word, lang):
                if form in lex:  # type: ignore[operator]
                    value = lex[form] if isinstance(lex, Mapping) else None
                    tag = value if isinstance(value, str) and value else "1"
                    break
        if len(self._lex_cache) > 200_000:
            self._lex_cache.clear()
        self._lex_cache[key] = tag
        return tag

    def clear(self) -> None:
        """Forget cached lexicon look-ups (call after the lexicon changed in place)."""
        self._lex_cache.clear()

    def base(self, words: Sequence[str], lang: str, *, encoded: bool = False) -> list[list[Any]]:
        """Every feature but the lexicon's: they depend on the words alone (cacheable)."""
        n = len(words)
        slots = [_slots(w, lang, encoded) for w in words]
        out: list[list[Any]] = []
        for i in range(n):
            feats = list(slots[i][0])
            if i == 0:
                feats += slots[i][5]
            else:
                feats += slots[i - 1][3]
                if i > 1:
                    feats += slots[i - 2][4]
            if i == n - 1:
                feats.append(_EOS[encoded])
            else:
                feats += slots[i + 1][2]
                if i < n - 2:
                    feats += slots[i + 2][1]
            out.append(feats)
        return out

    def lexicon_features(
        self,
        words: Sequence[str],
        lang: str,
        *,
        encoded: bool = False,
        exclude: Collection[str] = (),
    ) -> list[list[Any]]:
        """The lexicon features of each word (mostly empty lists).

        A word in ``exclude`` counts as unknown: training uses this to hide the entries
        only the document itself taught the lexicon (see :mod:`.trainset`).
        """
        n = len(words)
        out: list[list[Any]] = [[] for _ in range(n)]
        if self.lexicon is None:
            return out
        tags = [self.lexicon_tag(w, lang) for w in words]
        if exclude:
            tags = [None if w in exclude else t for t, w in zip(tags, words)]
        for i, tag in enumerate(tags):
            if not tag:
                continue
            for j, prefix in ((i, "lex="), (i + 1, "-1:lex="), (i - 1, "+1:lex=")):
                if 0 <= j < n:
                    f = prefix + tag
                    out[j].append(encode(f) if encoded else f)
        return out

    def __call__(
        self,
        words: Sequence[str],
        lang: str,
        *,
        encoded: bool = False,
        exclude: Collection[str] = (),
    ) -> list[list[Any]]:
        """Feature lists of one sentence's words: readable strings, or the CRF's ids
        (:func:`encode`) when ``encoded``."""
        out = self.base(words, lang, encoded=encoded)
        if self.lexicon is not None:
            for feats, lex in zip(out, self.lexicon_features(words, lang, encoded=encoded, exclude=exclude)):
                feats += lex
        return out


def lexicon_keys(word: str, lang: str) -> tuple[str, ...]:
    """The forms a lexicon is searched for: the word, its lower-case form and its stem."""
    low = word.lower()
    return (word, low, split_ending(low, lang)[0])


_EOS: dict[bool, Any] = {False: "EOS", True: encode("EOS")}


def sentence_features(
    words: Sequence[str], lang: str, lexicon: Lexicon | None = None
) -> list[list[str]]:
    """Feature lists of one sentence (a convenience over :class:`FeatureExtractor`)."""
    return FeatureExtractor(lexicon)(words, lang)
