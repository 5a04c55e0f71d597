"""Russian NER with Natasha (a regular dependency of annotate), cleaned.

Natasha's news NER (slovnet, with its navec embeddings) ships inside its wheels and runs
offline. It is the best offline Russian tagger but has known faults on news text, which
are cleaned here before anything is suggested:

- **Line breaks and brackets.** It runs a dateline into the agency ("АНКАРА (ИА Реалист"
  as one ORG) and a name across a paragraph break ("Си\\n\\nЛОНДОН"). Spans are cut at
  line breaks, brackets and quotes; each piece is tagged again on its own and kept only if
  Natasha tags the whole piece, with the label it gives it there.
- **Capitals.** It calls capitalised datelines organisations ("БИШКЕК" ORG). An
  all-capitals span of five letters or more is tagged again in title case ("Бишкек").
- **Sentence-initial common nouns.** A one-word span that pymorphy3 knows first as an
  ordinary noun (no name, surname, place or organisation reading: "Товарооборот") is dropped.
- **Generic designators.** Our guidelines leave "район", "область", "город"... out of a
  place name; a trailing lower-case designator is trimmed ("Джети-Огузском районе" →
  "Джети-Огузском").
- **Token boundaries.** Spans are widened to whole spaCy tokens, never across a line break.

Labels map to ours: PER, LOC, ORG. Only documents in Russian (``ru``) are tagged.
Without Natasha installed the recogniser reports itself unavailable with the install hint.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from ..store import snap_to_tokens
from .base import BaseRecogniser, Suggestion, TextDoc, register

if TYPE_CHECKING:  # pragma: no cover
    from ..store import Store

__all__ = ["NatashaRecogniser", "NatashaToKyrgyz", "NATASHA_HINT", "LABELS", "clean", "russian_names"]

#: Right for a source checkout and an installed wheel alike: Natasha itself, into this Python.
NATASHA_HINT = (
    "Natasha is not installed in this environment; install it with: "
    f"{shlex.quote(sys.executable)} -m pip install 'natasha>=1.6'"
)

#: Natasha's span types → our labels.
LABELS = {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}

#: Natasha gives no probability; its suggestions rank below propagation's and patterns'.
NATASHA_SCORE = 0.6

_BREAKS = re.compile(r"[\n\r()\[\]{}«»\"“”„]")
_EDGE = " \t.,;:!?-–—'’/\\|*"
#: pymorphy3 grammemes that make a one-word span a name rather than a common noun.
_NAME_TAGS = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr"})

#: Lemmas of generic place words trimmed from the end of a LOC span.
_DESIGNATORS = frozenset({
    "район", "область", "город", "село", "посёлок", "поселок", "край", "округ", "провинция",
    "штат", "улица", "площадь", "аймак", "шаар", "облус",
})

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tagger() -> tuple[Any, Any]:
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    return Segmenter(), NewsNERTagger(NewsEmbedding())


def _tag(text: str) -> list[tuple[int, int, str]]:
    """Natasha's raw spans of ``text``: (start, stop, type)."""
    from natasha import Doc

    with _lock:  # one tagger shared by all threads
        segmenter, ner = _tagger()
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_ner(ner)
    return [(s.start, s.stop, s.type) for s in doc.spans]


@lru_cache(maxsize=4096)
def _alone(text: str) -> str | None:
    """The type Natasha gives ``text`` tagged on its own, if it tags all of it."""
    for start, stop, kind in _tag(text):
        if start == 0 and stop == len(text):
            return kind
    return None


@lru_cache(maxsize=65536)
def _common_noun(word: str) -> bool:
    """True if pymorphy3 knows ``word`` only as an ordinary word (no name-like reading)."""
    from .inflection_ru import _analyser

    analyser = _analyser()
    lower = word.lower()
    if not analyser.word_is_known(lower):
        return False
    parses = analyser.parse(lower)
    if parses[0].tag.POS != "NOUN":  # "Иссык-Кульской": an adjective of a place name stays
        return False
    return not any(_NAME_TAGS & p.tag.grammemes for p in parses)


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut ``start``..``end`` at line breaks, brackets and quotes; trim each piece."""
    out = []
    pos = start
    for m in _BREAKS.finditer(text, start, end):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, end))
    trimmed = []
    for a, b in out:
        while a < b and text[a] in _EDGE:
            a += 1
        while b > a and text[b - 1] in _EDGE:
            b -= 1
        if b > a:
            trimmed.append((a, b))
    return trimmed


def _trim_designator(text: str, a: int, b: int) -> int:
    """The end of ``a``..``b`` without trailing lower-case designator words."""
    from .inflection_ru import _analyser

    while True:
        space = text.rfind(" ", a, b)
        if space < 0:
            return b
        word = text[space + 1:b]
        if not word.islower():
            return b
        lemmas = {p.normal_form for p in _analyser().parse(word)}
        if not lemmas & _DESIGNATORS:
            return b
        b = space


def _title(text: str) -> str:
    return "-".join(p[:1] + p[1:].lower() for p in text.split("-"))


def clean(text: str, raw: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Apply the cleaning rules of the module docstring to Natasha's raw spans."""
    out = []
    for start, stop, kind in raw:
        pieces = _pieces(text, start, stop)
        split = len(pieces) != 1 or pieces[0] != (start, stop)
        for a, b in pieces:
            piece = text[a:b]
            letters = [c for c in piece if c.isalpha()]
            caps = len(letters) >= 5 and all(c.isupper() for c in letters)
            label: str | None = kind
            if caps:
                label = _alone(_title(piece))
            elif split:
                label = _alone(piece)
            if label is None:
                continue
            if label == "LOC":
                b = _trim_designator(text, a, b)
                piece = text[a:b]
            if " " not in piece and _common_noun(piece):
                continue
            out.append((a, b, label))
    return out


class NatashaRecogniser(BaseRecogniser):
    """Natasha's Russian NER, cleaned, for documents in Russian."""

    name = "natasha"
    priority = 10
    languages = frozenset({"ru"})

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("natasha") is None:
            return NATASHA_HINT
        return None

    def prepare(self, store: "Store") -> None:
        _tagger()

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        if doc.lang != "ru":
            return []
        text = doc.text
        out: list[Suggestion] = []
        last_end = -1
        for a, b, kind in sorted(clean(text, _tag(text))):
            label = LABELS.get(kind)
            if label is None:
                continue
            a, b = snap_to_tokens(doc.tokens, a, b)
            if "\n" in text[a:b] or a < last_end:
                continue
            out.append(Suggestion(a, b, label, NATASHA_SCORE))
            last_end = b
        return out


register(
    "natasha",
    NatashaRecogniser,
    description="Natasha's Russian NER, Russian documents only.",
    priority=NatashaRecogniser.priority,
)


# -- Russian NER feeding Kyrgyz documents ---------------------------------------------------

#: Russian documents read by :class:`NatashaToKyrgyz` at most (in import order).
MAX_RUSSIAN_DOCS = 2000


def russian_names(
    texts: Iterable[str | tuple[str, list[tuple[int, int, str]]]], min_count: int = 1
) -> list[tuple[str, str]]:
    """``(name, label)`` Natasha finds (cleaned) in Russian ``texts`` with confidence: found
    at least ``min_count`` times, and always with the same label (lemma-wise).

    An item may be ``(text, spans)`` with Natasha's spans already known (``(start, end,
    label)``, e.g. its stored suggestions), so that text is not tagged again.
    """
    from collections import Counter

    from .inflection_ru import lemma_cased

    votes: dict[tuple[str, ...], Counter[str]] = {}
    surfaces: dict[tuple[str, ...], str] = {}
    for item in texts:
        if isinstance(item, tuple):
            text, known = item
        else:
            text = item
            known = [(a, b, LABELS[k]) for a, b, k in clean(text, _tag(text)) if k in LABELS]
        for a, b, label in known:
            if "\n" in text[a:b]:
                continue
            name = text[a:b]
            key = tuple((lemma_cased(w) or [w])[0].lower() for w in name.split())
            votes.setdefault(key, Counter())[label] += 1
            surfaces.setdefault(key, name)
    out = []
    for key, counts in votes.items():
        if len(counts) == 1 and sum(counts.values()) >= min_count:
            out.append((surfaces[key], next(iter(counts))))
    return out


class NatashaToKyrgyz(BaseRecogniser):
    """Names Natasha finds in the corpus's Russian documents, found in the Kyrgyz ones.

    Kyrgyz news names the same people, places and bodies as Russian news, with the same
    Cyrillic stems and Kyrgyz endings ("Касымалиевым" in Russian → "Касымалиевдин").
    ``prepare`` reads Natasha's stored suggestions in the store's Russian documents (at most
    :data:`MAX_RUSSIAN_DOCS`), tagging those it has not suggested in yet, and keeps the names
    Natasha gives one label every time (:func:`russian_names`); they are
    taught to a propagation lexicon (Russian lemmas as base forms) and suggested in Kyrgyz
    documents, origin ``natasha-ky``, score :data:`NATASHA_SCORE`.
    """

    name = "natasha-ky"
    priority = 12
    languages = frozenset({"ky"})

    def __init__(self, min_count: int = 1, max_docs: int = MAX_RUSSIAN_DOCS) -> None:
        self.min_count = min_count
        self.max_docs = max_docs
        self.lexicon: Any = None

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("natasha") is None:
            return NATASHA_HINT
        return None

    def prepare(self, store: "Store") -> None:
        """Learn the names: from Natasha's stored suggestions where a Russian document has
        them (rejected ones left out), else by tagging it."""
        from .propagation import Lexicon

        docs = store.backend.documents_in_language("ru", self.max_docs)
        stored: dict[int, list[tuple[int, int, str]]] = {}
        for doc_id, start, end, label in store.backend.spans_from_origin("ru", "natasha"):
            stored.setdefault(doc_id, []).append((start, end, label))
        items = ((text, stored[i]) if i in stored else text for i, text in docs)
        self.lexicon = Lexicon(other_script=False)
        for i, (name, label) in enumerate(russian_names(items, self.min_count)):
            self.lexicon.learn(i, name, label, "ru")

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        if doc.lang != "ky" or self.lexicon is None:
            return []
        return [Suggestion(s.start, s.end, s.label, NATASHA_SCORE) for s in self.lexicon.suggest(doc)]


register(
    "natasha-ky",
    NatashaToKyrgyz,
    description="Names Natasha finds in your Russian documents, found in the Kyrgyz ones "
                "(optional: pip install 'annotate[ru]').",
    priority=NatashaToKyrgyz.priority,
)
