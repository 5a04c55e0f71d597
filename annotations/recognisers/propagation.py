"""Propagation: every accepted span teaches the lexicon; other mentions become suggestions.

A labelled span becomes a lexicon entry: its words (runs of letters and digits, joined by
inner hyphens and dots as spaCy keeps them: "Нур-Султан", "Reporter.kg"), the gaps
between them, and its label. An entry finds its other mentions in every word form:

- **Kyrgyz** (``ky``): only the last word inflects, by the suffix table of
  :mod:`.inflection_ky` (case, plural, possessive, -DAгI, with vowel harmony and
  assimilation): "Садыр Жапаров" finds "Садыр Жапаровдун", "Москва" finds "Москвага".
  Earlier words must match exactly.
- **Russian** (``ru``): every word may inflect; words match by pymorphy3 lemma
  (:mod:`.inflection_ru`): "Владимир Путин" finds "Владимира Путина".
- Other languages (``xx``): exact words.

Entries learn from inflected labels too: "Михаил Мишустинди" is stored with the stem
"Мишустин" (and "Михаила Мишустина" with the lemmas "Михаил Мишустин"), so either finds
the other, in either language. Derived words are not inflections and do not match
(Кыргызстандык, россиялык, Российский). Case matters: a word matches a capitalised name
only if it is capitalised too (all capitals count, so "МОСКВА" in a dateline matches
"Москва"), so a lower-case common noun never becomes a name. A person's full name also
teaches its surname alone at a lower score ("Садыр Жапаров" → "Жапаровго"), the usual
way news refers to someone after the first mention.

A suggestion always covers whole tokens: the match is checked against the document's
cached spaCy tokens, or — when they are not cached — against spaCy's tokenisation of just
the whitespace-separated chunks at the match's edges (spaCy tokenises each chunk on its
own, so this is exact and costs a fraction of tokenising the document).

Score: the share of the entry's label among the labels people gave it, times 0.9 for a
word form not seen labelled, times 0.8 for a surname learned from a full name.

A one-word surname is not suggested where it would cut a name in two: "Жапаров" learned
from "Садыр Жапаров" is not suggested in "Акылбек Жапаров" (:func:`cuts_a_name`); the whole
name "Акылбек Жапаров" is suggested instead, at the surname's score times 0.8. Nor is a
match that is part of a quoted name of several capitalised words ("Кыргызстан" in
«Газпром Кыргызстан», :func:`inside_quoted_name`).

The lexicon also learns each entity spelt in the other script (:mod:`.scripts`:
"Садыр Жапаров" → "Sadyr Japarov", "ТАСС" → "TASS", "Sputnik" → "Спутник"); the
``translit`` recogniser (:class:`CrossScript`, origin ``translit``, score times 0.85)
suggests those matches.

The lexicon follows the store incrementally (:class:`LexiconState`): it replays the event
log since its last look, re-reading only the spans those events touched, so refreshing
after one accept costs a few milliseconds at any corpus size.
"""

from __future__ import annotations

import json
import re
import threading
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

from . import inflection_ky as ky
from . import inflection_ru as ru
from .base import BaseRecogniser, Suggestion, TextDoc, register

if TYPE_CHECKING:  # pragma: no cover
    from ..store import Store

__all__ = [
    "Lexicon", "LexiconState", "Propagation", "CrossScript", "Entry", "words_of", "select",
    "cuts_a_name", "given_name_before", "inside_quoted_name",
]

#: A word as propagation sees it: letters/digits, with inner hyphens and dots.
_WORD = re.compile(r"\w+(?:[-‐‑.]\w+)*")

#: Score factors (see the module docstring).
UNSEEN_FORM = 0.9
SURNAME = 0.8
OTHER_SCRIPT = 0.85
WHOLE_NAME = 0.8

EntryKey = tuple[str, ...]


def words_of(text: str) -> tuple[list[str], list[str]]:
    """The words of a span's text and the normalised gaps between them."""
    found = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    words = [text[s:e] for s, e in found]
    gaps = [_gap(text[a[1]:b[0]]) for a, b in zip(found, found[1:])]
    return words, gaps


def _gap(text: str) -> str:
    """A gap between two words, whitespace collapsed ("" for plain spaces)."""
    return " ".join(text.split())


#: How many leading letters of a learned word the candidate scan looks for.
PREFIX = 3


def _prefix(word: str) -> str:
    """The leading letters a mention must share with a learned word (first letter's case kept).

    The first letter keeps its case (a capitalised name only matches capitalised words);
    the rest is lower-cased, with ё read as е ("Пётр" ~ "Петра").
    """
    return word[:1] + word[1:PREFIX].lower().replace("ё", "е")


def _caps_variant(word: str) -> str | None:
    """"МОСКВАГА" → "Москвага": how an all-capitals word is looked up as a name."""
    if len(word) > 1 and word.isupper():
        return "-".join(p[:1] + p[1:].lower() for p in word.split("-"))
    return None


@lru_cache(maxsize=262144)
def _ky_keys(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(exact forms, inflected stems) under which a Kyrgyz word is looked up."""
    exact = [word]
    caps = _caps_variant(word)
    if caps:
        exact.append(caps)
    stems: list[str] = []
    for w in exact:
        stems += [s for s in ky.stems(w)[1:] if s not in stems]
    return tuple(exact), tuple(stems)


def _canonical(words: list[str], lang: str) -> list[str]:
    """The words as one entry key: Kyrgyz last word stripped, Russian words lemmatised."""
    if lang == "ky":
        stems = ky.learned_stems(words[-1])
        return [*words[:-1], min(stems, key=len)]
    if lang == "ru":
        return [(ru.lemma_cased(w) or [w])[0] for w in words]
    return list(words)


def _forms(words: list[str], lang: str) -> list[set[str]]:
    """Per position, the base forms a later mention is compared with."""
    if lang == "ky":
        return [*({w} for w in words[:-1]), set(ky.learned_stems(words[-1]))]
    if lang == "ru":
        return [{w, *ru.lemma_cased(w)} for w in words]
    return [{w} for w in words]


@dataclass
class Entry:
    """One entity the lexicon knows: its words' base forms, gaps, labels and seen forms."""

    key: EntryKey
    gaps: tuple[str, ...]
    forms: list[set[str]]
    labels: Counter[str] = field(default_factory=Counter)
    surfaces: Counter[tuple[str, ...]] = field(default_factory=Counter)
    derived: bool = False
    _ru: list[frozenset[str] | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.forms)

    def ru_keys(self, pos: int) -> frozenset[str]:
        """Russian lemma keys of the base forms at ``pos``, computed on first use.

        pymorphy3 costs up to a millisecond for an unknown word, so a lexicon learned from
        Kyrgyz text asks for it only when a Russian document needs this entry.
        """
        keys = self._ru[pos]
        if keys is None:
            keys = self._ru[pos] = frozenset().union(*(ru.lemma_keys(f) for f in self.forms[pos]))
        return keys


@dataclass(frozen=True, slots=True)
class _Learned:
    """What one accepted span contributed, so it can be taken back."""

    key: EntryKey
    surface: tuple[str, ...]
    label: str
    derived_key: EntryKey | None
    derived_surface: tuple[str, ...] | None


class Lexicon:
    """Entities learned from accepted spans, indexed for matching in any language."""

    def __init__(self, *, other_script: bool = True) -> None:
        self.entries: dict[EntryKey, Entry] = {}
        #: The same entities spelt in the other script (:mod:`.scripts`), learned with
        #: them; the ``translit`` recogniser suggests its matches.
        self.other_script: Lexicon | None = Lexicon(other_script=False) if other_script else None
        self._variants: dict[object, int] = {}
        self._learned: dict[int, _Learned] = {}
        self._wordless: dict[int, str] = {}
        self._ky_first: dict[str, set[EntryKey]] = {}
        self._by_prefix: dict[str, set[EntryKey]] = {}
        self._finder: re.Pattern[str] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    # -- learning ----------------------------------------------------------------------

    def learn(self, span_id: object, text: str, label: str, lang: str) -> bool:
        """Learn span ``span_id`` (its text, label and document language); False if no words."""
        self.forget(span_id)
        words, gaps = words_of(text)
        if not words:
            self._wordless[span_id] = label
            return False
        key = (lang if lang in ("ky", "ru") else "xx", *_canonical(words, lang), "|", *gaps)
        self._add(key, tuple(gaps), _forms(words, lang), label, tuple(words), derived=False)
        dkey = dsurface = None
        last = words[-1]
        if label == "PER" and len(words) >= 2 and last[:1].isupper() and len(last) >= 3:
            dkey = ("~", key[0], key[len(words)])
            dsurface = (last,)
            self._add(dkey, (), _forms([last], lang), label, dsurface, derived=True)
        self._learned[span_id] = _Learned(key, tuple(words), label, dkey, dsurface)
        if self.other_script is not None:
            self._learn_other_script(span_id, words, gaps, label, lang)
        return True

    def _learn_other_script(self, span_id: object, words: list[str], gaps: list[str], label: str,
                            lang: str) -> None:
        """Teach :attr:`other_script` the name's base form in the other script."""
        from .scripts import variants

        assert self.other_script is not None
        base = _canonical(words, lang)
        text = base[0] + "".join((f" {g} " if g else " ") + w for g, w in zip(gaps, base[1:]))
        n = 0
        for spelling, vlang in variants(text):
            if self.other_script.learn((span_id, n), spelling, label, vlang):
                n += 1
        if n:
            self._variants[span_id] = n

    def forget(self, span_id: object) -> None:
        """Take back what span ``span_id`` taught (no-op if it taught nothing)."""
        self._wordless.pop(span_id, None)
        if self.other_script is not None:
            for n in range(self._variants.pop(span_id, 0)):
                self.other_script.forget((span_id, n))
        learned = self._learned.pop(span_id, None)
        if learned is None:
            return
        self._remove(learned.key, learned.label, learned.surface)
        if learned.derived_key is not None and learned.derived_surface is not None:
            self._remove(learned.derived_key, learned.label, learned.derived_surface)

    def _add(
        self,
        key: EntryKey,
        gaps: tuple[str, ...],
        forms: list[set[str]],
        label: str,
        surface: tuple[str, ...],
        *,
        derived: bool,
    ) -> None:
        entry = self.entries.get(key)
        if entry is None:
            entry = Entry(key, gaps, [set() for _ in forms], derived=derived)
            entry._ru = [None for _ in forms]
            self.entries[key] = entry
        for pos, new in enumerate(forms):
            fresh = new - entry.forms[pos]
            if not fresh:
                continue
            entry.forms[pos] |= fresh
            entry._ru[pos] = None
            if pos == 0:
                for f in fresh:
                    self._ky_first.setdefault(f, set()).add(key)
                    p = _prefix(f)
                    if p not in self._by_prefix:
                        self._finder = None
                    self._by_prefix.setdefault(p, set()).add(key)
        entry.labels[label] += 1
        entry.surfaces[surface] += 1

    def _remove(self, key: EntryKey, label: str, surface: tuple[str, ...]) -> None:
        entry = self.entries.get(key)
        if entry is None:
            return
        entry.labels[label] -= 1
        if entry.labels[label] <= 0:
            del entry.labels[label]
        entry.surfaces[surface] -= 1
        if entry.surfaces[surface] <= 0:
            del entry.surfaces[surface]
        if entry.labels:
            return
        del self.entries[key]
        for f in entry.forms[0]:
            self._discard(self._ky_first, f, key)
            p = _prefix(f)
            self._discard(self._by_prefix, p, key)
            if p not in self._by_prefix:
                self._finder = None

    def span_labels(self) -> dict[int, str]:
        """The label each learned span was learned with."""
        return {**self._wordless, **{i: learned.label for i, learned in self._learned.items()}}

    @staticmethod
    def _discard(index: dict[str, set[EntryKey]], k: str, key: EntryKey) -> None:
        keys = index.get(k)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del index[k]

    # -- matching ----------------------------------------------------------------------

    def _word_matches(self, word: str, entry: Entry, pos: int, lang: str) -> bool:
        last = pos == len(entry) - 1
        if lang == "ru":
            return not ru.lemma_keys(word).isdisjoint(entry.ru_keys(pos))
        exact, stems = _ky_keys(word) if lang == "ky" else ((word,), ())
        forms = entry.forms[pos]
        if any(w in forms for w in exact):
            return True
        return last and any(s in forms for s in stems)

    def _first(self, word: str, lang: str) -> list[EntryKey]:
        """Entries whose first word may be ``word`` (no duplicates)."""
        found: list[EntryKey] = []
        if lang == "ru":
            near = self._by_prefix.get(_prefix(word))
            if near:
                keys = ru.lemma_keys(word)
                found = [k for k in near if not keys.isdisjoint(self.entries[k].ru_keys(0))]
            return found
        else:
            exact, stems = _ky_keys(word) if lang == "ky" else ((word,), ())
            for w in exact:
                got = self._ky_first.get(w)
                if got:
                    found.extend(got)
            for s in stems:
                for key in self._ky_first.get(s, ()):
                    if len(self.entries[key].forms) == 1:
                        found.append(key)
        return list(dict.fromkeys(found)) if len(found) > 1 else found

    def _candidates(self) -> re.Pattern[str]:
        """A regex finding words whose first two letters begin some learned entity.

        Scanning in C and stopping only at likely words is what makes matching cost a few
        microseconds per document rather than a Python step per word.
        """
        if self._finder is None:
            by_first: dict[str, set[str]] = {}
            for p in self._by_prefix:
                rest = "".join(
                    "[ЕеЁё]" if c == "е" else f"[{re.escape(c)}{re.escape(c.upper())}]" if c != c.upper()
                    else re.escape(c)
                    for c in p[1:]
                )
                for f in {p[0], p[0].upper()}:  # "МОСКВА" in a dateline matches "Москва"
                    by_first.setdefault(f, set()).add(rest)
            if not by_first:
                self._finder = re.compile(r"(?!x)x")
                return self._finder
            # A character class first lets the regex engine skip quickly to likely words;
            # look-behinds then check the word start and dispatch on its first letter.
            firsts = "".join(sorted(re.escape(f) for f in by_first))
            branches = "|".join(
                f"(?<={re.escape(f)})(?:{'|'.join(sorted(rests, key=lambda r: (-len(r), r)))})"
                for f, rests in sorted(by_first.items())
            )
            self._finder = re.compile(
                f"[{firsts}]" + r"(?<![\w\-‐‑.].)(?:" + branches + r")\w*(?:[-‐‑.]\w+)*"
            )
        return self._finder

    def matches(self, text: str, lang: str) -> list[tuple[int, int, list[Entry], bool]]:
        """Every mention in ``text``: ``(start, end, entries, exact form seen)``, overlapping."""
        if not self.entries:
            return []
        lang = lang if lang in ("ky", "ru") else "xx"
        found: dict[tuple[int, int], tuple[list[Entry], bool]] = {}
        entries = self.entries
        for m in self._candidates().finditer(text):
            s, e = m.span()
            first = m.group()
            for key in self._first(first, lang):
                entry = entries[key]
                if len(entry.forms) == 1:
                    end, surface = e, (first,)
                else:
                    got = self._extend(text, e, entry, lang)
                    if got is None:
                        continue
                    end, rest = got
                    surface = (first, *rest)
                seen = surface in entry.surfaces
                prev = found.get((s, end))
                if prev is None:
                    found[(s, end)] = ([entry], seen)
                else:
                    prev[0].append(entry)
                    found[(s, end)] = (prev[0], prev[1] or seen)
        return [(s, e, ents, seen) for (s, e), (ents, seen) in found.items()]

    def _extend(self, text: str, pos: int, entry: Entry, lang: str) -> tuple[int, list[str]] | None:
        """Match the entry's words after its first one, from ``pos``: (end, words) or None."""
        words = []
        for j in range(1, len(entry.forms)):
            w = _WORD.search(text, pos)
            if w is None:
                return None
            gap = text[pos:w.start()]
            if "\n" in gap or _gap(gap) != entry.gaps[j - 1]:
                return None
            word = w.group()
            if not self._word_matches(word, entry, j, lang):
                return None
            words.append(word)
            pos = w.end()
        return pos, words

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        """Non-overlapping suggestions for ``doc``, longest first, on whole tokens."""
        scored: list[Suggestion] = []
        for start, end, entries, seen in self.matches(doc.text, doc.lang):
            if len(entries) == 1:
                derived_only = entries[0].derived
                weights: dict[str, int] = entries[0].labels
            else:
                derived_only = all(e.derived for e in entries)
                weights = {}
                for entry in entries:
                    if entry.derived and not derived_only:
                        continue
                    for lab, n in entry.labels.items():
                        weights[lab] = weights.get(lab, 0) + n
            total = sum(weights.values())
            if not total:
                continue
            if len(weights) == 1:
                ((label, weight),) = weights.items()
            else:
                label, weight = max(weights.items(), key=lambda kv: (kv[1], kv[0]))
            score = weight / total
            if not seen:
                score *= UNSEEN_FORM
            if derived_only:
                score *= SURNAME
            scored.append(Suggestion(start, end, label, round(score, 3)))
        return select(doc, scored)


def select(doc: TextDoc, scored: list[Suggestion]) -> list[Suggestion]:
    """Non-overlapping suggestions, longest first, on whole tokens; no surname that would
    cut a name in two (:func:`cuts_a_name`)."""
    scored.sort(key=lambda s: (s.start, s.start - s.end))
    out: list[Suggestion] = []
    taken_end = -1
    for sug in scored:
        if sug.start < taken_end or not _aligned(doc, sug.start, sug.end):
            continue
        out.append(sug)
        taken_end = sug.end
    if not out:
        return out
    covered = [(s.start, s.end) for s in out]
    kept: list[Suggestion] = []
    for s in out:
        if inside_quoted_name(doc.text, s.start, s.end):
            continue
        if s.label == "PER":
            given = given_name_before(doc.text, s.start, s.end, doc.lang, covered)
            if given is not None:
                # the whole name, at a lower score ("Акылбек Жапаров", not "Жапаров")
                if _aligned(doc, given, s.end):
                    kept.append(Suggestion(given, s.end, s.label, round((s.score or 1.0) * WHOLE_NAME, 3)))
                continue
        kept.append(s)
    return kept


# -- names cut in two --------------------------------------------------------------------

#: A quoted name: «…» or „…“ or "…" around capitalised words, on one line.
_QUOTED = re.compile(r"[«„\"“]([^«»„“”\"\n]{1,80})[»“”\"]")


def inside_quoted_name(text: str, start: int, end: int) -> bool:
    """True if ``start``..``end`` is part of, but not all of, a quoted name of two or more
    capitalised words: news quotes company and newspaper names («Газпром Кыргызстан»
    ишканасы), so "Кыргызстан" there is not the country."""
    lo = max(0, start - 80)
    seg = text[lo:start]
    left = max(seg.rfind("«"), seg.rfind("„"), seg.rfind("\""), seg.rfind("“"))
    if left < 0:
        return False
    left += lo
    m = _QUOTED.match(text, left)
    if m is None or not (m.start(1) <= start and end <= m.end(1)):
        return False
    inner = m.group(1).strip()
    if (m.start(1), m.end(1)) == (start, end) or inner == text[start:end]:
        return False
    words = _WORD.findall(inner)
    return len(words) >= 2 and all(w[:1].isupper() for w in words)


_WORD_BEFORE = re.compile(r"\w+(?:[-‐‑.]\w+)*$")
_SENTENCE_END = frozenset(".!?…:;\n\"«»“”„—–")
#: Endings of family names and patronymics (Russian and Kyrgyz naming), and the Kyrgyz
#: possessive of a title ("Төрагасы"): a word ending so is not a given name.
_NOT_GIVEN = re.compile(
    r"(?:ов|ев|ёв|ин|ын|ова|ева|ёва|ина|ына|енко|ский|цкий|ская|цкая|вич|вна|уулу|кызы"
    r"|сы|си|су|сү)$"
)


def _cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


@lru_cache(maxsize=65536)
def _given_name_like(word: str, lang: str) -> bool:
    """Could ``word`` be a given name standing before a surname ("Акылбек", "Михаил")?

    Russian: pymorphy3 reads it as a given name. Otherwise: a capitalised Cyrillic word,
    not all capitals, without a case ending (:func:`inflection_ky.analyses`: a given name
    before a surname does not inflect in Kyrgyz) and not ending like a family name.
    """
    if len(word) < 2 or not (word[0].isupper() and _cyrillic(word[0])) or word.isupper():
        return False
    if lang == "ru":
        from .inflection_ru import _analyser

        return any("Name" in p.tag.grammemes for p in _analyser().parse(word))
    low = word.lower()
    if _NOT_GIVEN.search(low) or any(len(e) >= 2 for _, e in ky.analyses(word)):
        return False
    return True


def cuts_a_name(
    text: str, start: int, end: int, lang: str, covered: Iterable[tuple[int, int]] = ()
) -> bool:
    """True if a one-word PER match at ``start``..``end`` is the surname of a longer name
    (:func:`given_name_before` finds its given name)."""
    return given_name_before(text, start, end, lang, covered) is not None


def given_name_before(
    text: str, start: int, end: int, lang: str, covered: Iterable[tuple[int, int]] = ()
) -> int | None:
    """Where the given name before a one-word PER match at ``start``..``end`` starts, if the
    match is the surname of a longer name, else ``None``.

    "Жапаров" learned from "Садыр Жапаров" must not be suggested in "Акылбек Жапаров"
    (another person). The word before it, across plain spaces on the same line, counts as
    that person's given name when :func:`_given_name_like` and no other suggestion
    (``covered``) holds it; at a sentence start (capitalised anyway) only if the document
    never writes it in lower case. Only Cyrillic text: English capitalises titles
    ("Kyrgyzstan's President Sadyr Japarov").
    """
    if not _cyrillic(text[start:start + 1] or "a") or _WORD.fullmatch(text, start, end) is None:
        return None
    p = start
    while p > 0 and text[p - 1] in " \t\u00a0":
        p -= 1
    if p == start:
        return None
    m = _WORD_BEFORE.search(text, max(0, p - 64), p)
    if m is None or m.end() != p or not _given_name_like(m.group(), lang):
        return None
    if any(x < m.end() and m.start() < y for x, y in covered):
        return None
    q = m.start()
    while q > 0 and text[q - 1] in " \t\u00a0":
        q -= 1
    if q == 0 or text[q - 1] in _SENTENCE_END:
        word = m.group()
        if (word[:1].lower() + word[1:]) in text:
            return None
    return m.start()


# -- token alignment ---------------------------------------------------------------------


def _aligned(doc: TextDoc, start: int, end: int) -> bool:
    """True if ``start``..``end`` begins and ends on spaCy token boundaries of ``doc``."""
    if doc.has_tokens:
        toks = doc.tokens
        i = bisect_left(toks.starts, start)
        j = bisect_left(toks.ends, end)
        return i < len(toks) and toks.starts[i] == start and j < len(toks) and toks.ends[j] == end
    text = doc.text
    left_free = start == 0 or text[start - 1].isspace()
    right_free = end == len(text) or text[end].isspace()
    return (left_free or _edge_is_boundary(text, start, doc.lang)) and (
        right_free or _edge_is_boundary(text, end, doc.lang)
    )


def _edge_is_boundary(text: str, pos: int, lang: str) -> bool:
    """Is ``pos`` a token boundary? Tokenise only the whitespace-separated chunk around it."""
    left = pos
    while left > 0 and not text[left - 1].isspace():
        left -= 1
    right = pos
    while right < len(text) and not text[right].isspace():
        right += 1
    if left == pos or right == pos:
        return True  # the chunk starts or ends here
    return (pos - left) in _chunk_boundaries(lang, text[left:right])


@lru_cache(maxsize=65536)
def _chunk_boundaries(lang: str, chunk: str) -> frozenset[int]:
    from ..tokenize import blank_nlp

    doc = blank_nlp(lang).tokenizer(chunk)
    return frozenset(t.idx for t in doc) | frozenset(t.idx + len(t.text) for t in doc)


# -- following the store -----------------------------------------------------------------

#: Actions whose changes never touch accepted spans.
_SKIP_ACTIONS = frozenset({"suggest", "status", "session"})


class LexiconState:
    """A lexicon kept in step with one annotator's accepted spans in a store (every
    annotator's, for the suggestions for everyone: ``annotator`` ``"*"``)."""

    def __init__(self, annotator: str) -> None:
        self.annotator = annotator
        #: Whose spans are learned (``None``: everyone's).
        self._who = None if annotator == "*" else annotator
        self.lexicon = Lexicon()
        self.last_event = -1
        self.lock = threading.Lock()

    def rebuild(self, store: "Store") -> None:
        """Learn every accepted span of the annotator afresh."""
        last = store.backend.last_event_id()
        lexicon = Lexicon()
        for span_id, label, lang, text in store.backend.accepted_span_texts(self._who):
            lexicon.learn(span_id, text, label, lang)
        self.lexicon = lexicon
        self.last_event = last

    def sync(self, store: "Store") -> None:
        """Catch up with the event log: the spans its events touched are learned again.

        The first call learns everything. An import or a label change (which change spans
        without listing them) is caught up by comparing the learned spans with the store's.
        """
        if self.last_event < 0:
            self.rebuild(store)
            return
        rows = store.backend.events_since(self.last_event)
        if not rows:
            return
        touched: set[int] = set()
        bulk = False
        for _id, annotator, _doc, action, changes in rows:
            everyone = self.annotator == "*"
            if action == "labels" or (action == "import" and (everyone or annotator == self.annotator)):
                bulk = True  # spans renamed, deleted or added without change records
                continue
            if (annotator != self.annotator and not everyone) or action in _SKIP_ACTIONS:
                continue
            touched |= _span_ids(json.loads(changes))
        if bulk:
            touched |= self._differences(store)
        self._relearn(store, touched)
        self.last_event = rows[-1][0]

    def _differences(self, store: "Store") -> set[int]:
        """Accepted spans added, removed or relabelled since they were learned."""
        current = store.backend.accepted_labels(self._who)
        learned = self.lexicon.span_labels()
        changed = {i for i, label in learned.items() if current.get(i) != label}
        return changed | (current.keys() - learned.keys())

    def _relearn(self, store: "Store", span_ids: Iterable[int]) -> None:
        for span_id in span_ids:
            self.lexicon.forget(span_id)
            row = store.backend.accepted_span_text(span_id, self._who)
            if row:
                self.lexicon.learn(span_id, row[2], row[0], row[1])


def _span_ids(changes: list[dict]) -> set[int]:
    out: set[int] = set()
    for ch in changes:
        op = ch.get("op")
        if op in ("insert", "delete"):
            out.add(int(ch["span"]["id"]))
        elif op == "update":
            out.add(int(ch["id"]))
    return out


class Propagation(BaseRecogniser):
    """The propagation recogniser: the annotator's accepted spans, found again everywhere."""

    name = "propagation"
    priority = 30

    def __init__(self, state: LexiconState | None = None) -> None:
        self.state = state

    def prepare(self, store: "Store") -> None:
        if self.state is None or self.state.annotator != store.annotator:
            self.state = LexiconState(store.annotator)
        self.state.sync(store)

    @property
    def lexicon(self) -> Lexicon:
        if self.state is None:
            raise RuntimeError("prepare(store) first")
        return self.state.lexicon

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        return self.lexicon.suggest(doc)


class CrossScript(Propagation):
    """Cross-script propagation: the annotator's accepted spans found again in the other
    script ("Садыр Жапаров" → "Sadyr Japarov", "ТАСС" → "TASS"; see :mod:`.scripts`)."""

    name = "translit"
    priority = 25

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        other = self.lexicon.other_script
        if other is None:
            return []
        return [
            Suggestion(s.start, s.end, s.label, round((s.score or 1.0) * OTHER_SCRIPT, 3))
            for s in other.suggest(doc)
        ]


register(
    "translit",
    CrossScript,
    description="Entities you labelled, found again spelt in the other script (Cyrillic ↔ Latin).",
    priority=CrossScript.priority,
)

register(
    "propagation",
    Propagation,
    description="Mentions of entities you labelled, in all their Kyrgyz and Russian word forms.",
    priority=Propagation.priority,
)
