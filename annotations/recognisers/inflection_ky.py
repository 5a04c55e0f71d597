"""Kyrgyz inflection of names: which endings a stem can take, and how to strip them.

Propagation needs two things from Kyrgyz morphology: given a labelled form ("Жапаровдун"),
the stem it was inflected from ("Жапаров"); and given a word in running text ("Москвага"),
the stems it may be an inflected form of. Only the entity's *last* word inflects in
Kyrgyz ("Садыр Жапаровдун"), and only with *inflectional* endings: case, plural and the
3rd-person possessive with its own case forms. Derivational suffixes make another word
(Кыргызстандык "Kyrgyzstani", россиялык "Russian" adj., Кыргызстанча "in the Kyrgyz way")
and are deliberately absent, so those words never match the entity.

The suffix table below is written with archiphonemes, as Kyrgyz grammars write it, and is
realised per stem with vowel harmony and consonant assimilation:

=========  ===============  ======================================  ===========================
code       suffix           realisations                            example
=========  ===============  ======================================  ===========================
GEN        -NIн             нын нин нун нүн дын ... тын ... түн     Москванын, Жапаровдун, РФтин
DAT        -GA              га ге го гө ка ке ко кө                 Москвага, Бишкекке
ACC        -NI              ны ни ну нү ды ... тү                   Мишустинди
LOC        -DA              да де до дө та те то тө                 Москвада, Бишкекте
ABL        -DAн             дан ден дон дөн тан ...                 Бишкектен
ATTR       -DAгI            дагы деги догу дөгү тагы ...            Кыргызстандагы
PL(+case)  -LAр             лар лер лор лөр дар ... төр (+ any)     Жапаровдор, Жапаровдордун
POSS3      -(с)I            сы си су сү / ы и у ү                   Республикасы
POSS3+case -нIн -нA -н      нын на н нда нан ндагы                  Республикасынын, -сына
           -ндA -ндAн -ндAгI
=========  ===============  ======================================  ===========================

Archiphonemes: ``A`` = а/е/о/ө and ``I`` = ы/и/у/ү agree with the last vowel (``A`` is
rounded after о, ө, ү but not after у); ``G`` = г/к, ``D`` = д/т, ``N`` = н/д/т and the
plural ``L`` = л/д/т depend on how the stem ends (vowel; voiced consonant; voiceless
consonant — and the plural keeps л after й and р). A final soft sign is dropped before a
suffix (Кремль → Кремлден). Abbreviations (РФтин, ШКУнун, АКШдагы) are read aloud by letter
names, which the spelling does not show, so they accept every harmony variant.

Why a table and not the ``kyrgyz`` package: ``kyrgyz`` 0.1.1 generates the six plain case
forms of a noun (and its rules agree with this table on them — ``tests`` check this on
names), but it has no plural, no possessive declension and no -DAгI, so it cannot produce
"Кыргызстандагы" or "Республикасынын", and it generates forms rather than analysing them,
which is the direction propagation needs. Matching by table also costs a few dictionary
look-ups per word, which keeps ``suggest`` above 1,000 documents a second.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = [
    "endings_for",
    "analyses",
    "stems",
    "learned_stems",
    "is_abbreviation",
    "MAX_ENDING",
    "MIN_STEM",
]

VOWELS = frozenset("аеёиоөуүыэюя")
_VOICELESS = frozenset("кпстфхцчшщ")
#: After these voiced consonants the plural keeps л (үйлөр, жерлер).
_PLURAL_L = frozenset("йр")

#: The shortest stem an ending may leave ("Ош" + "то").
MIN_STEM = 2

# Vowel classes: (low vowel A, high vowel I) chosen after the last vowel.
_HARMONY = {
    "а": ("а", "ы"), "ы": ("а", "ы"), "я": ("а", "ы"),
    "у": ("а", "у"), "ю": ("а", "у"),
    "о": ("о", "у"), "ё": ("о", "у"),
    "е": ("е", "и"), "и": ("е", "и"), "э": ("е", "и"),
    "ө": ("ө", "ү"), "ү": ("ө", "ү"),
}
_VOWEL_CLASSES = ("а", "у", "о", "е", "ө")  # one representative per harmony class

# How the stem ends: V vowel, T voiceless, D voiced, R й/р (voiced, plural with л).
_END_CLASSES = ("V", "T", "D", "R")

_CASES = ("NIн", "GA", "NI", "DA", "DAн", "DAгI")
_BARE_CHAINS = _CASES + ("LAр",) + tuple("LAр" + c for c in _CASES)
_POSS_CASES = ("нIн", "нA", "н", "ндA", "ндAн", "ндAгI")


def _end_class(letter: str) -> str:
    if letter in VOWELS:
        return "V"
    if letter in _VOICELESS:
        return "T"
    if letter in _PLURAL_L:
        return "R"
    return "D"


def _realise(template: str, vowel: str, end: str) -> str:
    """Spell ``template`` after a stem whose last vowel class is ``vowel`` and ending ``end``."""
    out = []
    for sym in template:
        low, high = _HARMONY[vowel]
        if sym == "A":
            letter = low
        elif sym == "I":
            letter = high
        elif sym == "G":
            letter = "к" if end == "T" else "г"
        elif sym == "D":
            letter = "т" if end == "T" else "д"
        elif sym == "N":
            letter = "н" if end == "V" else ("т" if end == "T" else "д")
        elif sym == "L":
            letter = "л" if end in ("V", "R") else ("т" if end == "T" else "д")
        else:
            letter = sym
        out.append(letter)
        if letter in VOWELS:
            vowel = letter
        end = _end_class(letter)
    return "".join(out)


@lru_cache(maxsize=None)
def _table(vowel: str, end: str) -> frozenset[str]:
    """Every inflectional ending (bare chains) for one stem profile."""
    return frozenset(_realise(t, vowel, end) for t in _BARE_CHAINS)


@lru_cache(maxsize=None)
def _poss_table(vowel: str) -> frozenset[str]:
    """Case endings after the 3rd-person possessive (the stem ends in its vowel)."""
    return frozenset(_realise(t, vowel, "V") for t in _POSS_CASES)


def _all_endings() -> frozenset[str]:
    out: set[str] = set()
    for v in _VOWEL_CLASSES:
        out |= _poss_table(v)
        for e in _END_CLASSES:
            out |= _table(v, e)
    return frozenset(out)


_ANY = _all_endings()
MAX_ENDING = max(len(e) for e in _ANY)


def is_abbreviation(stem: str) -> bool:
    """All capitals and at least two letters (РФ, ШКУ, ЕАЭБ): read aloud by letter names."""
    letters = [c for c in stem if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _profile(stem: str) -> tuple[str, str] | None:
    """(vowel class, end class) of a lower-case stem, or ``None`` if it has no vowel."""
    s = stem[:-1] if stem.endswith(("ь", "ъ")) else stem
    if not s:
        return None
    vowel = next((c for c in reversed(s) if c in _HARMONY), None)
    if vowel is None:
        return None
    return vowel, _end_class(s[-1])


@lru_cache(maxsize=65536)
def endings_for(stem: str) -> frozenset[str]:
    """The inflectional endings ``stem`` can take (lower case; abbreviations take any)."""
    if is_abbreviation(stem):
        return _ANY
    low = stem.lower()
    profile = _profile(low)
    if profile is None:
        return _ANY
    vowel, end = profile
    endings = _table(vowel, end)
    if low[-1] in "ыиуү":  # a possessive form: Республикасы → Республикасынын, -сына
        endings = endings | _poss_table(vowel)
    return endings


def analyses(word: str) -> list[tuple[str, str]]:
    """Every ``(stem, ending)`` split of ``word`` with a valid inflectional ending.

    The ending is matched in lower case so "МОСКВАГА" splits like "Москвага". A stem
    whose soft sign was dropped (Кремлден) is returned with it restored (Кремль) too, and
    one that took a connecting и after a final -ск cluster (Минскиге) without it (Минск).
    """
    out: list[tuple[str, str]] = []
    n = len(word)
    for k in range(max(MIN_STEM, n - MAX_ENDING), n):
        ending = word[k:].lower()
        if ending not in _ANY:
            continue
        stem = word[:k]
        if not stem[-1].isalpha():
            continue
        if ending in endings_for(stem):
            out.append((stem, ending))
        if stem[-1] == "л":  # Кремлден: the soft sign of Кремль was dropped
            out.append((stem + "ь", ending))
        if stem[-3:].lower() == "ски" and len(stem) > 3:
            # Минскиге, Новосибирскиде: a connecting и after a Russian -ск cluster
            out.append((stem[:-1], stem[-1:] + ending))
    return out


def stems(word: str) -> list[str]:
    """``word`` itself and every stem it may be an inflected form of."""
    return [word, *(s for s, _ in analyses(word))]


def learned_stems(word: str) -> list[str]:
    """Stems to learn from a labelled last word: itself and its case/plural-stripped stems.

    Stricter than :func:`stems`: a bare possessive is kept as part of the name
    ("Кыргыз Республикасы" stays whole) and one-letter endings are only stripped after a
    clear possessive (-сын), so "Нарын" is not cut to "Нар".
    """
    out = [word]
    for stem, ending in analyses(word):
        if len(ending) >= 2 or (ending == "н" and stem[-2:-1].lower() == "с"):
            out.append(stem)
    return out
