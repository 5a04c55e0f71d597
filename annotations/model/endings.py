"""Case and number endings of Kyrgyz and Russian nouns, for the "stem" feature.

The model sees a word with its ending removed so that "Жапаров", "Жапаровдун" and
"Жапаровго" share a feature, as do "Путин", "Путина" and "Путину". This is a feature for
a statistical model, not a morphological analyser: a wrong cut on a rare word costs little,
so the lists are short and the rule is simple (longest ending that leaves a stem of at
least :data:`MIN_STEM` letters).

Kyrgyz endings follow vowel harmony (а/е/о/ө, ы/и/у/ү) and assimilate their first
consonant (д/т/н, г/к): every variant is listed. Compound endings (possessive + case,
plural + case, locative + the attributive -гы) come first in length order automatically.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["KY_ENDINGS", "MIN_STEM", "RU_ENDINGS", "split_ending"]

#: The shortest stem an ending may leave ("Ош" keeps its letters).
MIN_STEM = 3

_HARMONY_A = ("а", "е", "о", "ө")
_HARMONY_Y = ("ы", "и", "у", "ү")


def _forms(consonants: str, vowels: tuple[str, ...], tail: str = "") -> list[str]:
    return [c + v + tail for c in consonants for v in vowels]


def _ky_endings() -> tuple[str, ...]:
    base: list[str] = []
    base += _forms("нтд", _HARMONY_Y, "н")  # genitive: -нын/-дын/-тын (Жапаровдун, РФтин)
    base += _forms("гк", _HARMONY_A)  # dative: -га/-ка (Москвага, ЕАЭБге)
    base += _forms("нтд", _HARMONY_Y)  # accusative: -ны/-ды/-ты (Мишустинди)
    base += _forms("дт", _HARMONY_A)  # locative: -да/-та (Бишкекте)
    base += _forms("нтд", _HARMONY_A, "н")  # ablative: -дан/-тан/-нан (Москвадан)
    base += _forms("лдт", _HARMONY_A, "р")  # plural: -лар/-дар/-тар
    base += _forms("с", _HARMONY_Y)  # 3rd person possessive: -сы (Республикасы)
    base += _forms("дт", _HARMONY_A, "гы") + _forms("дт", _HARMONY_A, "ги")  # attributive: -дагы
    base += ["ча", "че", "чо", "чө"]  # equative/adverbial: -ча (кыргызча)
    # possessive + case: Республикасынын, Республикасына, Республикасын, Республикасында,
    # Республикасынан, and the vowel-stem forms after -ы (Федерациясына).
    poss: list[str] = []
    for y in _HARMONY_Y:
        for a in _HARMONY_A:
            poss += [f"с{y}н{y}н", f"с{y}н{a}", f"с{y}н", f"с{y}нд{a}", f"с{y}н{a}н",
                     f"{y}н{y}н", f"{y}нд{a}", f"{y}н{a}н"]
    # plural + case: -лардын, -ларга, -ларды, -ларда, -лардан
    plural: list[str] = []
    for c in "лдт":
        for a in _HARMONY_A:
            for case in (f"д{y}н" for y in _HARMONY_Y):
                plural.append(f"{c}{a}р{case}")
            plural += [f"{c}{a}рг{a}", f"{c}{a}рд{a}", f"{c}{a}рд{a}н"]
            plural += [f"{c}{a}рд{y}" for y in _HARMONY_Y]
    return tuple(sorted(set(base + poss + plural), key=lambda e: (-len(e), e)))


#: Russian noun and adjective endings (case and number), longest first.
RU_ENDINGS: tuple[str, ...] = tuple(sorted({
    "ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "иях", "ией", "ию", "ия", "ии",
    "ой", "ей", "ом", "ем", "ам", "ям", "ах", "ях", "ов", "ев", "ую", "юю", "ая", "яя",
    "ое", "ее", "ые", "ие", "ых", "их", "ым", "им", "ью",
    "ий", "ый", "а", "я", "у", "ю", "е", "ы", "и", "ь",
}, key=lambda e: (-len(e), e)))

#: Kyrgyz case, plural and possessive endings, longest first.
KY_ENDINGS: tuple[str, ...] = _ky_endings()

_BY_LANG: dict[str, tuple[str, ...]] = {
    "ky": KY_ENDINGS,
    "ru": RU_ENDINGS,
    "xx": tuple(sorted(set(KY_ENDINGS) | set(RU_ENDINGS), key=lambda e: (-len(e), e))),
}


def _by_length(endings: tuple[str, ...]) -> tuple[tuple[int, frozenset[str]], ...]:
    lengths = sorted({len(e) for e in endings}, reverse=True)
    return tuple((n, frozenset(e for e in endings if len(e) == n)) for n in lengths)


#: Endings grouped by length, longest first: one set look-up per length, not per ending.
_INDEX = {lang: _by_length(endings) for lang, endings in _BY_LANG.items()}


@lru_cache(maxsize=200_000)
def split_ending(word: str, lang: str) -> tuple[str, str]:
    """``(stem, ending)`` of a lower-case word: the longest listed ending that leaves
    at least :data:`MIN_STEM` characters, or ``(word, "")``.

    A hyphen or apostrophe before the ending goes with the ending ("24-майда" keeps
    "24-май"; "ЕАЭБ'ге" gives "ЕАЭБ"); an ending after a digit or other non-letter is no
    ending.
    """
    for n, endings in _INDEX.get(lang, _INDEX["xx"]):
        if len(word) - n < MIN_STEM or word[-n:] not in endings:
            continue
        stem = word[:-n]
        if stem[-1] in "-'’":
            return stem[:-1], word[len(stem) - 1:]
        if stem[-1].isalpha():
            return stem, word[-n:]
    return word, ""
