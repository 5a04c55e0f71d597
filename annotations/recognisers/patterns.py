"""Pattern files: spaCy EntityRuler-style JSONL rules, matched by spaCy's own EntityRuler.

One pattern per line, exactly as spaCy's EntityRuler reads them::

    {"label": "ORG", "pattern": "ЕАЭБ"}
    {"label": "LOC", "pattern": [{"TEXT": {"REGEX": "^Москва(га|да|дан|нын|ны)?$"}}]}
    {"label": "PER", "pattern": [{"LOWER": "садыр"}, {"LOWER": {"REGEX": "^жапаров"}}], "id": "japarov"}

A string pattern is a phrase (tokenised like the document, matched on exact text); a list
is a token pattern (any Matcher attributes and operators — REGEX is how to cover Kyrgyz
endings). Patterns come from ``--patterns FILE`` for one run, or are kept in the database
(:func:`save_patterns`, the ``patterns`` table) and used by every later run and refresh.

Matching runs a blank spaCy pipeline per language with an ``entity_ruler`` on a Doc built
from the document's cached tokens, so spans always fall on our token boundaries and
overlaps are settled the EntityRuler's way (longest match first).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..importer import ImportFailure
from ..labels import valid_label_name
from .base import BaseRecogniser, Suggestion, TextDoc, register

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

    from ..store import Store

__all__ = [
    "Pattern",
    "PatternError",
    "PatternRecogniser",
    "parse_pattern",
    "read_patterns",
    "save_patterns",
    "stored_patterns",
    "clear_patterns",
]

#: Score of a pattern match: a rule a person wrote.
PATTERN_SCORE = 1.0


class PatternError(ImportFailure):
    """A bad pattern: names the file, the line and what was wrong (as import errors do)."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """One EntityRuler pattern: a label and a phrase or a token pattern (and an optional id)."""

    label: str
    pattern: str | tuple[Any, ...]
    id: str | None = None

    def to_ruler(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "pattern": self.pattern if isinstance(self.pattern, str) else list(self.pattern),
        }
        if self.id:
            out["id"] = self.id
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_ruler()["pattern"], ensure_ascii=False)


def _check_token_pattern(tokens: list[Any]) -> None:
    """Let spaCy's Matcher validate a token pattern (raises ValueError with its message)."""
    from spacy.matcher import Matcher

    from ..tokenize import blank_nlp

    matcher = Matcher(blank_nlp("xx").vocab, validate=True)
    try:
        matcher.add("pattern", [tokens])
    except Exception as exc:  # MatchPatternError, ValueError, re.error
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith("- [")]
        raise ValueError("; ".join(lines) if lines else str(exc).splitlines()[0]) from None


def parse_pattern(obj: Any, source: str = "<patterns>", line: int | None = None) -> Pattern:
    """Validate one pattern object into a :class:`Pattern`."""
    if not isinstance(obj, dict):
        raise PatternError(source, f"expected a JSON object, got {type(obj).__name__}", line)
    label = obj.get("label")
    if not isinstance(label, str) or not valid_label_name(label):
        raise PatternError(source, "pattern needs a \"label\": 1-40 visible characters, no spaces", line)
    pat = obj.get("pattern")
    pid = obj.get("id")
    if pid is not None and not isinstance(pid, str):
        raise PatternError(source, "\"id\" must be a string", line)
    if isinstance(pat, str):
        if not pat.strip():
            raise PatternError(source, "phrase pattern is empty", line)
        return Pattern(label, pat, pid)
    if isinstance(pat, list):
        if not pat or not all(isinstance(t, dict) for t in pat):
            raise PatternError(source, "token pattern must be a non-empty list of objects", line)
        try:
            _check_token_pattern(pat)
        except ValueError as exc:
            raise PatternError(source, f"invalid token pattern: {exc}", line) from None
        return Pattern(label, tuple(pat), pid)
    raise PatternError(source, "\"pattern\" must be a string or a list of token objects", line)


def read_patterns(path: str | Path) -> list[Pattern]:
    """Read a JSONL pattern file; a bad line raises :class:`PatternError` (file and line)."""
    path = Path(path)
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PatternError(name, f"cannot read: {exc.strerror}") from None
    out: list[Pattern] = []
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8").lstrip("\ufeff").strip()
        except UnicodeDecodeError as exc:
            raise PatternError(name, f"invalid UTF-8: {exc.reason}", lineno) from None
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PatternError(name, f"not valid JSON: {exc.msg} (column {exc.colno})", lineno) from None
        out.append(parse_pattern(obj, name, lineno))
    return out


def save_patterns(store: "Store", patterns: Iterable[Pattern], source: str) -> int:
    """Keep ``patterns`` in the database, replacing those saved earlier from ``source``."""
    from ..store import now

    rows = list(patterns)
    ts = now()
    with store.transaction():
        store.backend.replace_patterns(source, [(p.label, p.to_json(), p.id) for p in rows], ts)
    return len(rows)


def stored_patterns(store: "Store") -> list[Pattern]:
    """Patterns kept in the database, in the order they were saved."""
    out = []
    for label, pattern, pid, _source in store.backend.patterns():
        value = json.loads(pattern)
        out.append(Pattern(label, value if isinstance(value, str) else tuple(value), pid))
    return out


def clear_patterns(store: "Store", source: str | None = None) -> int:
    """Forget stored patterns (all, or those from ``source``); returns how many."""
    with store.transaction():
        return store.backend.delete_patterns(source)


class PatternRecogniser(BaseRecogniser):
    """Suggests what the stored patterns (and any given ones) match."""

    name = "patterns"
    priority = 20

    def __init__(
        self,
        patterns: Sequence[Pattern] = (),
        files: Sequence[str | Path] = (),
        use_stored: bool = True,
    ) -> None:
        self.extra = list(patterns)
        for path in files:
            self.extra += read_patterns(path)
        self.use_stored = use_stored
        self.patterns: list[Pattern] = list(self.extra)
        self._pipelines: dict[str, "Language"] = {}
        self._lock = threading.Lock()

    def prepare(self, store: "Store") -> None:
        stored = stored_patterns(store) if self.use_stored else []
        self.patterns = stored + self.extra
        self._pipelines = {}

    def _pipeline(self, lang: str) -> "Language":
        with self._lock:
            nlp = self._pipelines.get(lang)
            if nlp is None:
                import spacy

                from ..tokenize import SPACY_LANGS

                nlp = spacy.blank(SPACY_LANGS.get(lang, "xx"))
                ruler = nlp.add_pipe("entity_ruler", config={"validate": True})
                ruler.add_patterns([p.to_ruler() for p in self.patterns])  # type: ignore[attr-defined]
                self._pipelines[lang] = nlp
            return nlp

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        if not self.patterns:
            return []
        from spacy.tokens import Doc

        nlp = self._pipeline(doc.lang)
        toks = doc.tokens
        sdoc = Doc(nlp.vocab, words=toks.words(doc.text), spaces=toks.spaces(doc.text))
        if sdoc.text != doc.text:  # tokens that do not cover the text (imported offsets)
            sdoc = nlp.make_doc(doc.text)
        sdoc = nlp.get_pipe("entity_ruler")(sdoc)
        return [Suggestion(e.start_char, e.end_char, e.label_, PATTERN_SCORE) for e in sdoc.ents]


register(
    "patterns",
    PatternRecogniser,
    description="Rules from spaCy EntityRuler-style pattern files (--patterns, or kept in the database).",
    priority=PatternRecogniser.priority,
)
