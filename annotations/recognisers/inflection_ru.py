"""Russian inflection of names through pymorphy3: a word's lemmas, as matching keys.

Russian inflects every word of a name ("Владимир Путин" → "Владимира Путина",
"Евразийский экономический союз" → "Евразийского экономического союза"), so propagation
compares words by lemma: a word in running text matches a word of a learned entity when
their singular noun or adjective analyses share a lemma of the same part of speech.

Why pymorphy3 and not a suffix table: on 99 inflected forms of 30 names and nouns
(surnames in -ов/-ин, Kyrgyz names, countries, cities, adjectives of organisation names)
and 37 derived or unrelated words that must not match (Российский, Кыргызстанский, Москвич,
Путинский, Украинец, Ирина...), a suffix table that strips the longest of 44 noun and
adjective endings found 86/99 forms and wrongly matched 2/37; pymorphy3 found 99/99 and
wrongly matched 1/37 (Роман ~ Романов). The table misses stem alternations a dictionary
knows (Египет → Египта, Павел → Павла, Лев → Льва, Орёл → Орла) and cannot tell an
adjective from a noun. pymorphy3 predicts unknown words (Жапарова, Садыра, Акылбека) by
analogy, which handles Kyrgyz names in Russian text. Plural-only readings are ignored
(names are singular), which keeps "Романов" from being read as a plural of "Роман".

Cost: about 0.1 ms per new word; results are cached per word, and propagation only asks
for words whose first letters could belong to a learned entity.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pymorphy3

__all__ = ["lemma_keys", "case_key", "lemma_cased"]

_lock = threading.Lock()
_NOMINAL = frozenset({"NOUN", "ADJF", "ADJS", "PRTF"})
_ADJECTIVAL = frozenset({"ADJF", "ADJS", "PRTF"})


@lru_cache(maxsize=1)
def _analyser() -> "pymorphy3.MorphAnalyzer":
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def case_key(word: str) -> str:
    """Capitalisation class of a word: ``U`` starts with a capital, ``l`` does not.

    All-capital words ("МОСКВА", "ОДКБ") are ``U`` too, so a headline city matches
    "Москва"; a lower-case common noun never matches a capitalised name.
    """
    return "U" if word[:1].isupper() else "l"


@lru_cache(maxsize=262144)
def _lemmas(lower: str) -> tuple[str, ...]:
    with _lock:  # MorphAnalyzer is not documented as thread-safe
        parses = _analyser().parse(lower)
    out: list[str] = []
    for p in parses:
        tag = p.tag
        if tag.POS is not None and tag.POS not in _NOMINAL:
            continue
        if "plur" in tag and "Pltm" not in tag:
            continue
        key = ("A:" if tag.POS in _ADJECTIVAL else "N:") + p.normal_form
        if key not in out:
            out.append(key)
    return tuple(out)


@lru_cache(maxsize=262144)
def lemma_keys(word: str) -> frozenset[str]:
    """Matching keys of ``word``: its exact form and its singular nominal lemmas, with case class."""
    ck = case_key(word)
    lower = word.lower()
    return frozenset({f"{ck}={lower}", *(f"{ck}{k}" for k in _lemmas(lower))})


def lemma_cased(word: str) -> list[str]:
    """The word's noun lemmas written with its capitals ("Путина" → ["Путин", "Путина"]).

    Used to give a name learned from Russian text a Kyrgyz stem to inflect.
    """
    out = []
    for key in _lemmas(word.lower()):
        if not key.startswith("N:"):
            continue
        lemma = key[2:]
        if word.isupper() and len(word) > 1:
            cased = lemma.upper()
        elif word[:1].isupper():
            parts, wparts = lemma.split("-"), word.split("-")
            if len(parts) != len(wparts):
                wparts = wparts[:1]
            cased = "-".join(
                p[:1].upper() + p[1:] if i < len(wparts) and wparts[i][:1].isupper() else p
                for i, p in enumerate(parts)
            )
        else:
            cased = lemma
        if cased not in out:
            out.append(cased)
    return out
