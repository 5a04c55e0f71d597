"""Gazetteers: names from well-kept data (CLDR) and from a user's own file, in all word forms.

Where the names come from:

- **CLDR** (Unicode's Common Locale Data Repository, read through Babel's locale data):
  the territory names of the Kyrgyz, Russian, Kazakh and English locales — countries and
  territories as LOC ("Тажикстан", "Казахстан", "Kyrgyzstan"), and the three territory
  codes that name organisations (``EU`` European Union, ``EZ`` euro area, ``UN``) as ORG.
  Regions with numeric codes (continents, "the world") and pseudo-territories are left
  out; so are one-word names that are also ordinary words of their language (Russian
  "Того", "Восток": pymorphy3 knows them as a pronoun or a noun, not as a place).
  With ``cities=True`` the time-zone exemplar cities of the same locales are added as LOC
  ("Ташкент", "Самарканд", "Екатеринбург"): CLDR's only city names.
  Language names are not used: "кыргызча", "русский" are not PER/LOC/ORG entities.
- **A user's gazetteer file** (``files=[...]``, ``annotate suggest --gazetteer FILE``):
  UTF-8 text, one name a line as ``LABEL<TAB>name`` (an optional third column gives the
  name's language, ``ky``/``ru``/other; default ``ky`` for Cyrillic, ``xx`` otherwise),
  ``#`` comments and blank lines ignored; or JSON lines ``{"label": ..., "name": ...,
  "lang": ...}``. A bad line is refused with the file, the line and the reason.

Every name is taught to a propagation :class:`~.propagation.Lexicon`, so it is found in
every word form propagation finds ("Тажикстан" → "Тажикстандын", "Таджикистан" →
"Таджикистана", all capitals "RUSSIA"), on whole tokens, with the same rules (a surname
does not cut a name in two). Suggestions have the origin ``gazetteer`` and the score
:data:`GAZETTEER_SCORE`; the priority (15) is below what people labelled (propagation 30)
and their patterns (20), above the Russian NER (10), so CLDR's ORG "Европейский союз"
wins over Natasha's LOC. Labels are the project's PER/LOC/ORG; mapping them onto another
label set is the label map's job (``annotations.formats``), not this module's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from ..importer import ImportFailure
from .base import BaseRecogniser, Suggestion, TextDoc, register
from .propagation import Lexicon
from .scripts import from_romanised

if TYPE_CHECKING:  # pragma: no cover
    from ..store import Store

__all__ = [
    "CLDR_LOCALES",
    "GAZETTEER_SCORE",
    "GazetteerError",
    "GazetteerRecogniser",
    "Name",
    "cldr_names",
    "read_gazetteer",
]

#: The CLDR locales names are read from.
CLDR_LOCALES = ("ky", "ru", "kk", "en")
#: Score of a gazetteer match: well-kept data, but not this annotator's own labels.
GAZETTEER_SCORE = 0.8
#: Territory codes that name an organisation rather than a place.
ORG_TERRITORIES = frozenset({"EU", "EZ", "UN"})
#: Codes that are not territories (unknown region, pseudo-locales, outlying Oceania).
_NOT_TERRITORIES = frozenset({"ZZ", "XA", "XB", "QO"})
_LANG_OF_LOCALE = {"ky": "ky", "ru": "ru"}


class GazetteerError(ImportFailure):
    """A bad gazetteer file: names the file, the line and what was wrong."""


@dataclass(frozen=True, slots=True)
class Name:
    """One gazetteer name: its text, label and the language its word forms follow."""

    text: str
    label: str
    lang: str


def _ordinary_word(name: str, lang: str) -> bool:
    """A one-word name that its language also uses as an ordinary word ("Того", "Восток")."""
    if " " in name or not any("\u0400" <= c <= "\u04ff" for c in name):
        return False
    from .inflection_ru import _analyser

    low = name.lower()
    analyser = _analyser()
    if not analyser.word_is_known(low):
        return False
    parses = analyser.parse(low)
    return bool(parses) and "Geox" not in parses[0].tag.grammemes


@lru_cache(maxsize=8)
def cldr_names(locales: tuple[str, ...] = CLDR_LOCALES, cities: bool = False) -> tuple[Name, ...]:
    """Territory names (and with ``cities`` exemplar city names) of ``locales`` from CLDR."""
    from babel import Locale

    out: dict[tuple[str, str], Name] = {}
    for code in locales:
        loc = Locale.parse(code)
        lang = _LANG_OF_LOCALE.get(code, "xx")
        found: list[tuple[str, str]] = []
        for key, name in loc.territories.items():
            if not (len(key) == 2 and key.isalpha() and key.isupper()) or key in _NOT_TERRITORIES:
                continue
            found.append((name, "ORG" if key in ORG_TERRITORIES else "LOC"))
        if cities:
            for zone in loc.time_zones.values():
                city = zone.get("city") if hasattr(zone, "get") else None
                if city:
                    found.append((city, "LOC"))
        for name, label in found:
            name = " ".join(name.split())
            if not name or not name[0].isupper() or any(c.isdigit() for c in name):
                continue
            if _ordinary_word(name, lang):
                continue
            out.setdefault((name, lang), Name(name, label, lang))
    return tuple(out.values())


#: Countries whose ISO 3166-2 subdivisions are read: those of the corpus's languages
#: (CLDR's likely territory of ky, kk and ru).
ISO_SUBDIVISION_COUNTRIES = ("KG", "KZ", "RU")
#: Type words in iso-codes' subdivision names: such a name is a designator phrase, not used.
_DESIGNATORS = re.compile(
    r"\b(?:oblast'?|oblysy|kray|okrug|avtonomn\w*|avtonomnaya|shaary|shahri|region|province)\b",
    re.IGNORECASE,
)
@lru_cache(maxsize=4)
def iso_names(locales: tuple[str, ...] = ("ky", "ru", "kk")) -> tuple[Name, ...]:
    """Country names translated in ``locales`` by iso-codes (ISO 3166-1, via pycountry:
    "Корея Республикасы", "АКШ") and the subdivisions of :data:`ISO_SUBDIVISION_COUNTRIES`
    (ISO 3166-2, read back in Cyrillic: "Ош", "Баткен", "Астана", "Санкт-Петербург"), as LOC."""
    import gettext

    import pycountry

    out: dict[tuple[str, str], Name] = {}

    def add(text: str, lang: str) -> None:
        text = " ".join(text.split())
        if text and text[0].isupper() and not any(c.isdigit() for c in text) \
                and not _ordinary_word(text, lang):
            out.setdefault((text, lang), Name(text, "LOC", lang))

    for code in locales:
        lang = _LANG_OF_LOCALE.get(code, "xx")
        try:
            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[code])
        except OSError:
            continue
        for country in pycountry.countries:
            for name in {country.name, getattr(country, "official_name", country.name)}:
                local = tr.gettext(name)
                if local != name and "," not in local:
                    add(local, lang)
    for cc in ISO_SUBDIVISION_COUNTRIES:
        for sub in pycountry.subdivisions.get(country_code=cc) or ():
            name = sub.name.split(",")[0].strip()
            if _DESIGNATORS.search(name):
                continue
            cyr = from_romanised(name, turkic=cc != "RU")
            if cyr:
                add(cyr, "ky" if cc == "KG" else "ru" if cc == "RU" else "xx")
    return tuple(out.values())


_LABEL = re.compile(r"^\S{1,40}$")


def _default_lang(text: str) -> str:
    return "ky" if any("\u0400" <= c <= "\u04ff" for c in text) else "xx"


def read_gazetteer(path: str | Path) -> list[Name]:
    """Names of a user's gazetteer file (see the module docstring for the format)."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GazetteerError(source, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GazetteerError(source, f"not UTF-8 (byte {exc.start})") from None
    out: list[Name] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("{"):
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise GazetteerError(source, f"not JSON: {exc.msg}", number) from None
            if not isinstance(obj, dict):
                raise GazetteerError(source, "expected a JSON object", number)
            label, name, lang = obj.get("label"), obj.get("name"), obj.get("lang")
        else:
            parts = [p.strip() for p in line.split("\t")]
            if len(parts) not in (2, 3):
                raise GazetteerError(source, "expected LABEL<TAB>name[<TAB>lang]", number)
            label, name = parts[0], parts[1]
            lang = parts[2] if len(parts) == 3 else None
        if not isinstance(label, str) or not _LABEL.match(label):
            raise GazetteerError(source, "label must be 1-40 visible characters, no spaces", number)
        if not isinstance(name, str) or not name.strip() or not any(c.isalnum() for c in name):
            raise GazetteerError(source, "name must hold a letter or a digit", number)
        if lang is not None and not (isinstance(lang, str) and lang.isalpha() and len(lang) <= 8):
            raise GazetteerError(source, "lang must be a language code such as ky or ru", number)
        name = " ".join(name.split())
        out.append(Name(name, label, lang or _default_lang(name)))
    return out


def build_lexicon(names: Iterable[Name]) -> Lexicon:
    """A propagation lexicon taught every name."""
    lex = Lexicon()
    for i, name in enumerate(names):
        lex.learn(i, name.text, name.label, name.lang)
    return lex


@lru_cache(maxsize=4)
def _cldr_lexicon(locales: tuple[str, ...], cities: bool, iso: bool) -> Lexicon:
    names = list(cldr_names(locales, cities))
    if iso:
        names += iso_names()
    return build_lexicon(names)


class GazetteerRecogniser(BaseRecogniser):
    """CLDR territory names and a user's gazetteer files, found in all their word forms."""

    name = "gazetteer"
    priority = 15

    def __init__(
        self,
        files: Sequence[str | Path] = (),
        *,
        names: Sequence[Name] = (),
        cldr: bool = True,
        cities: bool = True,
        iso: bool = True,
        locales: Sequence[str] = CLDR_LOCALES,
    ) -> None:
        user = [n for f in files for n in read_gazetteer(f)] + list(names)
        self.cldr, self.cities, self.iso, self.locales = cldr, cities, iso, tuple(locales)
        self._user = build_lexicon(user) if user else None
        self.lexicons: list[Lexicon] = []

    def unavailable(self) -> str | None:
        import importlib.util

        if self.cldr and importlib.util.find_spec("babel") is None:
            return "Babel is not installed (CLDR names): pip install babel"
        if self.cldr and self.iso and importlib.util.find_spec("pycountry") is None:
            return "pycountry is not installed (ISO 3166 names): pip install pycountry"
        return None

    def prepare(self, store: "Store | None" = None) -> None:
        """Read CLDR's names (once per process) into a lexicon."""
        lexicons = [_cldr_lexicon(self.locales, self.cities, self.iso)] if self.cldr else []
        self.lexicons = lexicons + ([self._user] if self._user is not None else [])

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        if not self.lexicons:
            self.prepare()
        if len(self.lexicons) == 1:
            found = self.lexicons[0].suggest(doc)
        else:
            from .propagation import select

            found = select(doc, [s for lex in self.lexicons for s in lex.suggest(doc)])
        return [Suggestion(s.start, s.end, s.label, GAZETTEER_SCORE) for s in found]


register(
    "gazetteer",
    GazetteerRecogniser,
    description="Country and territory names from CLDR (Kyrgyz, Russian, Kazakh, English) and your "
                "gazetteer files, in all their word forms.",
    priority=GazetteerRecogniser.priority,
)
