"""Mojibake: text decoded with the wrong code page, found at import and repaired only on request.

Two kinds turn up in Kyrgyz and Russian news dumps:

- **UTF-8 read as a single-byte code page** (``РўРµРєСЃС‚`` for "Текст", ``Ð¢ÐµÐºÑ`` for
  "Тек"): ftfy (:func:`ftfy.fix_encoding_and_explain`) detects and undoes it.
- **cp1251 read as Latin-1** (``Ðîññèÿ. Ñî÷è.`` for "Россия. Сочи.", seed 003): no UTF-8 is
  involved, so ftfy flags the line as bad (:func:`ftfy.badness.is_bad`) but has nothing to
  undo; each run of Latin-1 letters is re-read as cp1251 here, which changes no length.

The import keeps every text exactly as it is and warns (file and line) for each document with
mojibake; ``annotate import --fix-mojibake`` repairs it and records every changed line in the
document's meta under :data:`META_KEY`. A cheap regular-expression screen runs first, so clean
text (nearly all of it) never reaches ftfy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from .importer import ImportReport, Record

__all__ = ["Mojibake", "find_mojibake", "repair", "check_records", "META_KEY"]

#: Where a repair is recorded in a document's meta: ``[{"line", "before", "after", "how"}]``.
META_KEY = "mojibake_repaired"

#: Signatures of mojibake, cheap to search for: three Latin-1 letters in a row (cp1251 read as
#: Latin-1), or a UTF-8 lead byte's character followed by a continuation byte's character as
#: cp1252 (``Ã©``, ``Ð¢``) or as cp1251 (``Рў``, ``СЃ``).
_SCREEN = re.compile(
    "[\u00c0-\u00ff]{3}"
    "|[\u00c2\u00c3][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u20ac\u2122]"
    "|(?:[\u00d0\u00d1][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u20ac\u2122]){2}"
    "|(?:[\u0420\u0421][\u0402-\u040f\u0452-\u045f\u0490\u0491\u00a0-\u00bf\u2018-\u203a\u20ac\u2116]){2}"
)
#: One character that every text :data:`_SCREEN` matches holds (Latin-1 letters; the cp1251
#: readings of UTF-8 continuation bytes in "е" and "о", the commonest Russian letters, and
#: letters Kyrgyz and Russian never use): one fast scan that clean Cyrillic text passes.
_PRESCREEN = re.compile("[\u00c0-\u00ff\u00b5\u0402-\u040f\u0452-\u045f\u0490\u0491]")
#: A word of cp1251 Cyrillic read as Latin-1: А-я are U+00C0-U+00FF there, Ё and ё are ¨ and ¸.
_LATIN1_WORD = re.compile("[\u00a8\u00b8\u00c0-\u00ff]{2,}")
#: The same, one letter or more, standing as a whole word ("è" for "и", "â" for "в").
_LATIN1_WHOLE = re.compile(r"(?<![^\W\d_])[\u00a8\u00b8\u00c0-\u00ff]+(?![^\W\d_])")
#: The most of a line a warning quotes.
SAMPLE = 40


@dataclass(frozen=True, slots=True)
class Mojibake:
    """One line of a text that looks like mojibake, and its repair (``None`` if none is known)."""

    line: int
    before: str
    after: str | None
    how: str

    @property
    def sample(self) -> str:
        """The first bad stretch of the line, for a warning."""
        m = _SCREEN.search(self.before)
        start = max(0, (m.start() if m else 0) - 5)
        return self.before[start:start + SAMPLE]


def _cp1251_repair(line: str) -> str:
    line = _LATIN1_WORD.sub(lambda m: m.group().encode("latin-1").decode("cp1251"), line)
    return _LATIN1_WHOLE.sub(lambda m: m.group().encode("latin-1").decode("cp1251"), line)


def _cyrillic_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum("\u0400" <= ch <= "\u04ff" for ch in letters) / len(letters)


def _check_line(line: str) -> tuple[str | None, str] | None:
    """``(repaired line or None, how)`` if ``line`` is mojibake, else ``None``."""
    import ftfy
    from ftfy.badness import is_bad

    fixed, steps = ftfy.fix_encoding_and_explain(line)
    if fixed != line:
        return fixed, "ftfy: " + ", ".join(f"{a} {b}" for a, b in steps)
    words = _LATIN1_WORD.findall(line)
    if len(words) >= 2:
        candidate = _cp1251_repair(line)
        changed = "".join(_LATIN1_WORD.findall(line))
        if _cyrillic_share(candidate) > _cyrillic_share(line) and _cyrillic_share(
            changed.encode("latin-1").decode("cp1251")
        ) >= 0.9:
            return candidate, "cp1251 text read as Latin-1"
    if is_bad(line):
        return None, "ftfy finds it bad but knows no repair"
    return None


def find_mojibake(text: str) -> list[Mojibake]:
    """The lines of ``text`` (numbered from 1) that look like mojibake, with their repairs."""
    if _PRESCREEN.search(text) is None or _SCREEN.search(text) is None:
        return []
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        if _SCREEN.search(line) is None:
            continue
        checked = _check_line(line)
        if checked is not None:
            found.append(Mojibake(number, line, checked[0], checked[1]))
    return found


def repair(text: str, found: Iterable[Mojibake]) -> str:
    """``text`` with each repairable line of ``found`` replaced by its repair."""
    lines = text.split("\n")
    for m in found:
        if m.after is not None:
            lines[m.line - 1] = m.after
    return "\n".join(lines)


def _where(name: str, rec: "Record", m: Mojibake) -> str:
    if rec.line is None:
        return f"{name}:{m.line}"
    return f"{name}:{rec.line}" + (f" (line {m.line} of its text)" if "\n" in rec.text else "")


def check_records(
    records: Iterable["Record"], name: str, report: "ImportReport", *, fix: bool = False
) -> Iterator["Record"]:
    """Pass records through, warning (file and line) about mojibake; with ``fix``, repair it.

    A repair that changes the text's length is not made for a record whose spans or tokens
    carry offsets (they would no longer fit); the warning says so.
    """
    for rec in records:
        found = find_mojibake(rec.text)
        if not found:
            yield rec
            continue
        first = found[0]
        where = _where(name, rec, first)
        more = f" and {len(found) - 1} more line(s)" if len(found) > 1 else ""
        fixable = [m for m in found if m.after is not None]
        if not fix:
            hint = "; annotate import --fix-mojibake repairs it" if fixable else ""
            report.warnings.append(
                f"{where}: text looks like mojibake ({first.how}): {first.sample!r}{more};"
                f" kept as it is{hint}"
            )
            yield rec
            continue
        repaired = repair(rec.text, fixable)
        if len(repaired) != len(rec.text) and (rec.spans or rec.tokens is not None):
            report.warnings.append(
                f"{where}: mojibake not repaired: the repair changes the text's length and the"
                " record's spans or tokens hold offsets into it"
            )
            yield rec
            continue
        if fixable:
            rec.meta = {**rec.meta, META_KEY: [
                {"line": m.line, "before": m.before, "after": m.after, "how": m.how} for m in fixable
            ]}
            rec.text = repaired
            report.notices.append(
                f"{where}: repaired mojibake in {len(fixable)} line(s); meta \"{META_KEY}\" records each change"
            )
        unfixable = [m for m in found if m.after is None]
        for m in unfixable:
            report.warnings.append(f"{_where(name, rec, m)}: text looks like mojibake ({m.how}): {m.sample!r}")
        yield rec
