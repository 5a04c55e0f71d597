"""Cross-script forms of a name: Cyrillic ↔ Latin transliteration, for cross-script propagation.

News in Kyrgyz and Russian quotes English captions and agency lines ("Sadyr Japarov",
"Vladimir Putin", "TASS", "SOCHI"), and Latin names come back in Cyrillic ("Sputnik" →
"Спутник"). :func:`variants` gives the other-script spellings of a name, which
propagation's lexicon learns beside the name itself (:class:`.propagation.Lexicon`,
``other_script``) and the ``translit`` recogniser suggests.

- **Cyrillic → Latin** with iuliia (a maintained library of the published Russian
  romanisation schemes): Wikipedia's ("Mikhail Klimentyev", "Yevgeny"), ICAO Doc 9303,
  the passport scheme ("Evgenii"), and the Telegram one, which writes ж as "j" as Kyrgyz
  names are romanised ("Sadyr Japarov", "Jalal-Abad"). The Kyrgyz letters the Russian schemes
  lack are written first as Kyrgyz Latin spelling does without diacritics:
  ө → o, ү → u, ң → ng.
- **Latin → Cyrillic** with cyrtranslit's Russian table ("Sputnik" → "Спутник"), for names
  labelled in Latin letters.

All capitals are already found by propagation ("SOCHI" ~ "Sochi", "МОСКВА" ~ "Москва").
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["variants", "to_latin", "to_cyrillic", "has_cyrillic", "has_latin"]

_KY_LETTERS = str.maketrans({"ө": "о", "Ө": "О", "ү": "у", "Ү": "У", "ң": "нг", "Ң": "Нг"})
_SCHEMES = ("WIKIPEDIA", "ICAO_DOC_9303", "TELEGRAM")


def has_cyrillic(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)


def has_latin(text: str) -> bool:
    return any(c.isascii() and c.isalpha() for c in text)


@lru_cache(maxsize=1)
def _schemas() -> tuple[object, ...]:
    import iuliia

    return tuple(getattr(iuliia, name) for name in _SCHEMES)


@lru_cache(maxsize=65536)
def to_latin(text: str) -> tuple[str, ...]:
    """Latin spellings of a Cyrillic ``text`` (distinct, in scheme order)."""
    src = text.translate(_KY_LETTERS)
    out: list[str] = []
    for schema in _schemas():
        latin = schema.translate(src)  # type: ignore[attr-defined]
        if text.isupper():
            latin = latin.upper()
        if latin not in out and not has_cyrillic(latin):
            out.append(latin)
    return tuple(out)


@lru_cache(maxsize=65536)
def to_cyrillic(text: str) -> tuple[str, ...]:
    """A Cyrillic spelling of a Latin ``text`` (Russian table)."""
    import cyrtranslit

    cyr = cyrtranslit.to_cyrillic(text, "ru")
    return (cyr,) if cyr != text and not has_latin(cyr) else ()


def variants(text: str) -> tuple[tuple[str, str], ...]:
    """``(spelling, language)`` of ``text`` in the other script: Latin ones as ``xx``,
    Cyrillic ones as ``ky`` (so Kyrgyz endings are found on them; Russian documents match
    them by lemma either way). Mixed-script text has none."""
    cyr, lat = has_cyrillic(text), has_latin(text)
    if cyr and not lat:
        return tuple((v, "xx") for v in to_latin(text))
    if lat and not cyr:
        return tuple((v, "ky") for v in to_cyrillic(text))
    return ()
