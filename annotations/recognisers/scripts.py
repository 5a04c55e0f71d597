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
- **Latin → Cyrillic**, for names labelled in Latin letters: read back as BGN/PCGN-style
  romanisation ("Sadyr Japarov" → "Садыр Жапаров", "Mikhail" → "Михаил") and with
  cyrtranslit's Russian table ("Sputnik" → "Спутник").

All capitals are already found by propagation ("SOCHI" ~ "Sochi", "МОСКВА" ~ "Москва").
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["variants", "to_latin", "to_cyrillic", "from_romanised", "has_cyrillic", "has_latin"]

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


#: BGN/PCGN-style romanisation of Kyrgyz, Kazakh and Russian (as iso-codes writes
#: subdivision names and as news writes names), read back letter by letter: digraphs first,
#: "y" after a vowel is й, otherwise ы.
_FROM_LATIN = [
    ("shch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"), ("gh", "г"), ("ts", "ц"),
    ("ya", "я"), ("yu", "ю"), ("yo", "ё"), ("ng", "ң"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"),
    ("i", "и"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"),
    ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("h", "х"), ("j", "ж"),
    ("q", "к"), ("ö", "ө"), ("ü", "ү"), ("ū", "у"), ("c", "ц"), ("w", "в"), ("x", "кс"),
]
_VOWELS_LAT = set("aeiouöüūy")


def from_romanised(name: str, turkic: bool = True) -> str | None:
    """A romanised name read back in Cyrillic ("Jalal-Abad" → "Жалал-Абад", "Sadyr Japarov"
    → "Садыр Жапаров"), ``None`` if it has other letters; "ng" is ң only in Kyrgyz and
    Kazakh names (``turkic``)."""
    out: list[str] = []
    low = name.lower()
    i = 0
    while i < len(low):
        ch = low[i]
        if not ch.isalpha():
            out.append(ch)
            i += 1
            continue
        if ch == "y" and not low.startswith(("ya", "yu", "yo"), i):
            prev = low[i - 1] if i else ""
            out.append("й" if prev in _VOWELS_LAT else "ы")
            i += 1
            continue
        for lat, cyr in _FROM_LATIN:
            if lat == "ng" and not turkic:
                continue
            if low.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            return None
    cyr = "".join(out)
    if name.isupper():
        return cyr.upper()
    # keep the capitals where the name had them (first letter of each part)
    return "".join(c.upper() if j == 0 or cyr[j - 1] in " -" else c for j, c in enumerate(cyr))



@lru_cache(maxsize=65536)
def to_cyrillic(text: str) -> tuple[str, ...]:
    """Cyrillic spellings of a Latin ``text``: read back as BGN/PCGN-style romanisation
    (:func:`from_romanised`: "Sadyr Japarov" → "Садыр Жапаров", "Mikhail" → "Михаил") and by
    cyrtranslit's Russian table ("Sputnik" → "Спутник")."""
    import cyrtranslit

    out: list[str] = []
    for cyr in (from_romanised(text), cyrtranslit.to_cyrillic(text, "ru")):
        if cyr and cyr != text and not has_latin(cyr) and cyr not in out:
            out.append(cyr)
    return tuple(out)


def variants(text: str) -> tuple[tuple[str, str], ...]:
    """``(spelling, language)`` of ``text`` in the other script: Latin ones as ``xx``,
    Cyrillic ones as ``ky`` (so Kyrgyz endings are found on them; Russian documents match
    them by lemma either way). Mixed-script text has none."""
    cyr, lat = has_cyrillic(text), has_latin(text)
    try:
        if cyr and not lat:
            return tuple((v, "xx") for v in to_latin(text))
        if lat and not cyr:
            return tuple((v, "ky") for v in to_cyrillic(text))
    except ImportError:  # an environment installed before iuliia/cyrtranslit were dependencies
        return ()
    return ()
