"""Corpus import: ``.txt`` files, ``.jsonl`` files and folders of them.

Each file is all or nothing: a file with a bad line, bad span or bad encoding adds
nothing, and the error names the file, the line and what was wrong. A file is checked and
staged first, in a SQLite file of its own (no lock on the database), then published in
short transactions (:func:`_publish`), so other writers are never locked out for long
(issue 16 item 9); big JSONL files are read and checked in a worker process, and their
first batches published while it checks the rest. The module holds no SQL: it writes
through the store's backend (``store/sql_import.py`` and each dialect's publisher), on
SQLite and PostgreSQL alike. Files stream line by line, so memory stays flat. spaCy is
only loaded for records whose span edges need it (:func:`misaligned_spans`); plain text
never pays for tokenisation.

Readers say what a record is (:class:`Record`): an annotated example (``annotated``,
``status``, ``answer``), whose it is (``annotator``) and its Prodigy keys (``prodigy``).
:func:`write_records` makes an annotated example a decision of its annotator (a status,
zero spans included; :func:`_record_decision`), settles a text already annotated
differently by the same annotator by :data:`ON_CONFLICT` (:func:`_resolve_conflict`), and
cuts given tokens at whitespace (``tokenize.split_whitespace``).
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import hashlib
import json
import math
import os
import re
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from .db import ReadOnlyError
from .labels import label_repr, valid_label_name
from .mojibake import check_records
from .store import Store, StoreError, now
from .store.sqlite_staging import Staging, held, unlink_staging
from .text import (
    LANGUAGES,
    DecodeError,
    content_hash,
    decode,
    detect_language,
    foreign_bom,
    is_grapheme_boundary,
    normalise_newlines,
    title_of,
)
from .tokenize import Tokens, blank_nlp, split_whitespace, tokenize, tokenizer_id

__all__ = [
    "IMPORT_MODES",
    "ON_CONFLICT",
    "ImportFailure",
    "ImportReport",
    "Record",
    "RecordSpan",
    "import_paths",
    "iter_sources",
    "example_fingerprint",
    "write_records",
]

IMPORT_MODES = ("accepted", "suggestions", "text")
#: Documents indexed for full-text search per batch during an import (see ``db.deferred_fts``).
BATCH = 1000

#: A progress callback: ``(bytes_done, bytes_total, current_file)``.
Progress = Callable[[int, int, str], None]


class ImportFailure(Exception):
    """Bad input: names the file, the line (if any) and what was wrong."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


@dataclass(slots=True)
class RecordSpan:
    start: int
    end: int
    label: str
    score: float | None = None
    text: str | None = None
    #: Where the span was given, when not on the record's own line: ``(file, line, id)``
    #: (a brat ``.ann`` line), for error messages.
    where: tuple[str, int, str] | None = None


@dataclass(slots=True)
class Record:
    """One document to import, as read from any format."""

    text: str
    line: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    spans: list[RecordSpan] | None = None
    tokens: list[tuple[int, int]] | None = None
    #: ``done``, ``skipped`` or ``todo`` when the input says so (Prodigy ``answer``, our own
    #: exports' ``meta.status``); None: ``done`` if :attr:`annotated`, else no status.
    status: str | None = None
    lang: str | None = None
    #: Reader warnings about this record (e.g. "line 12: entity starts with I-LOC"), reported per file.
    warnings: list[str] = field(default_factory=list)
    #: The record is an annotated example (its format carries annotations: tags, an .ann,
    #: a Doc's ents, a JSONL ``spans`` key or ``answer``), even with zero spans: imported as
    #: accepted it is a decision (status ``done`` unless :attr:`status` says otherwise).
    annotated: bool = False
    #: Prodigy's ``answer`` as given (``accept``/``reject``/``ignore``), written back unchanged.
    answer: str | None = None
    #: Whose annotation this is (Prodigy ``_annotator_id``, our exports' annotator); an
    #: import's ``annotator=`` overrides it; None: the importing annotator.
    annotator: str | None = None
    #: Prodigy bookkeeping as imported (``_input_hash``, ``_task_hash``, ``_timestamp``,
    #: ``_annotator_id``, ``_session_id``, ``_view_id``): exported unchanged while the
    #: example is not edited.
    prodigy: dict[str, Any] | None = None


@dataclass
class ImportReport:
    """What an import did, for the command line to print."""

    files: int = 0
    added: int = 0
    duplicates: int = 0
    spans: int = 0
    suggestions: int = 0
    labels_added: list[str] = field(default_factory=list)
    misaligned: int = 0
    text_mismatch: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[ImportFailure] = field(default_factory=list)
    doc_ids: list[int] = field(default_factory=list)
    #: Conflicting duplicates: ``file:line: what was done`` (see :data:`ON_CONFLICT`).
    conflicts: list[str] = field(default_factory=list)
    #: Annotated examples written, by the status they got (``done``, ``skipped``, ``todo``).
    annotated: dict[str, int] = field(default_factory=dict)
    #: Of those, examples without any entity (negative examples).
    negatives: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "added": self.added,
            "duplicates": self.duplicates,
            "spans": self.spans,
            "suggestions": self.suggestions,
            "labels_added": self.labels_added,
            "misaligned_spans": self.misaligned,
            "span_text_mismatch": self.text_mismatch,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "notices": self.notices,
            "warnings": self.warnings,
            "errors": [str(e) for e in self.errors],
            "annotated": dict(self.annotated),
            "negatives": self.negatives,
            "conflicts": len(self.conflicts),
            "conflicts_first": self.conflicts[:10],
        }


# -- finding sources -----------------------------------------------------------------------

READERS_BY_SUFFIX = (".txt", ".jsonl")
#: More suffixes a folder import picks up, registered by the formats module (e.g. ".conll").
EXTRA_SUFFIXES: set[str] = set()


def _special(mode: int) -> str:
    """What a file that is neither a regular file nor a folder is, in words."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _stat(path: Path) -> os.stat_result | str:
    """``path``'s stat (symlinks followed), or why it cannot be read."""
    try:
        return path.stat()
    except FileNotFoundError:
        return "is a dangling symlink (what it points to does not exist)" if path.is_symlink() else (
            "no such file or folder")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symlink loop"
        return f"cannot read: {exc.strerror}"


def iter_sources(paths: Iterable[str | Path], report: ImportReport) -> Iterator[tuple[Path, str]]:
    """Expand files and folders into ``(path, display_name)`` pairs, folders recursively.

    Only regular files are read (a FIFO named ``x.txt`` would block forever). What cannot be
    read is an error naming it (dangling or looping symlinks, unreadable folders); what is not
    a file (FIFOs, devices, sockets, symlinks to folders, which are not followed) is skipped
    and named.
    """
    for raw in paths:
        path = Path(raw)
        st = _stat(path)
        if isinstance(st, str):
            report.errors.append(ImportFailure(str(path), st))
        elif stat.S_ISDIR(st.st_mode):
            yield from _walk(path, report)
        elif stat.S_ISREG(st.st_mode):
            yield path, path.name
        else:
            report.errors.append(ImportFailure(
                str(path), f"is {_special(st.st_mode)}, not a regular file; save it to a file and import that"))


def _walk(path: Path, report: ImportReport) -> Iterator[tuple[Path, str]]:
    found = 0

    def shown(full: str | Path) -> str:
        return str(Path(path.name) / Path(full).relative_to(path))

    def unreadable(exc: OSError) -> None:
        where = shown(exc.filename) if exc.filename else str(path)
        report.errors.append(ImportFailure(where, f"cannot read this folder: {exc.strerror}"))

    for dirpath, dirnames, filenames in os.walk(path, onerror=unreadable):
        here = Path(dirpath)
        for d in sorted(dirnames):
            if not d.startswith(".") and (here / d).is_symlink():
                report.skipped.append((shown(here / d), "a symlink to a folder, not followed"))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = here / name
            if full.suffix.lower() not in READERS_BY_SUFFIX and full.suffix.lower() not in EXTRA_SUFFIXES:
                continue
            st = _stat(full)
            if isinstance(st, str):
                report.errors.append(ImportFailure(shown(full), st))
            elif stat.S_ISREG(st.st_mode):
                found += 1
                yield full, shown(full)
            else:
                report.skipped.append((shown(full), f"{_special(st.st_mode)}, not a regular file"))
    if not found:
        report.notices.append(f"{path}: no .txt or .jsonl files in this folder")


# -- reading -------------------------------------------------------------------------------


def read_txt(path: Path, name: str) -> Iterator[Record]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailure(name, f"cannot read: {exc.strerror}") from None
    try:
        text = decode(data)
    except DecodeError as exc:
        raise ImportFailure(name, str(exc)) from None
    del data  # not held while the record is written: a 50 MB file is one copy fewer
    yield Record(text=text, line=None)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_jsonl_record(obj: Any, name: str, lineno: int) -> Record:
    """Validate one JSONL object (plain or Prodigy layout) into a :class:`Record`."""
    if not isinstance(obj, dict):
        raise ImportFailure(name, f"expected a JSON object, got {type(obj).__name__}", lineno)
    text = obj.get("text")
    if not isinstance(text, str):
        what = "has no \"text\"" if text is None else f"\"text\" is {type(text).__name__}, not a string"
        raise ImportFailure(name, f"record {what}", lineno)
    raw_text, text = text, normalise_newlines(text)
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise ImportFailure(name, "\"meta\" must be an object", lineno)
    meta = dict(meta)
    for key, value in obj.items():
        if key not in ("text", "meta", "spans", "tokens"):
            meta.setdefault(key, value)
    spans = None
    if obj.get("spans") is not None:
        raw = obj["spans"]
        if not isinstance(raw, list):
            raise ImportFailure(name, "\"spans\" must be a list", lineno)
        spans = []
        for i, sp in enumerate(raw, 1):
            if not isinstance(sp, dict):
                raise ImportFailure(name, f"span {i} is not an object", lineno)
            start, end, label = sp.get("start"), sp.get("end"), sp.get("label")
            if not (_int(start) and _int(end)):
                raise ImportFailure(name, f"span {i} needs integer \"start\" and \"end\"", lineno)
            if not isinstance(label, str) or not label:
                raise ImportFailure(name, f"span {i} needs a \"label\" string", lineno)
            score = sp.get("score")
            spans.append(RecordSpan(
                start, end, label,
                float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
                sp.get("text") if isinstance(sp.get("text"), str) else None,
            ))
    tokens = None
    if obj.get("tokens") is not None:
        raw = obj["tokens"]
        if not isinstance(raw, list):
            raise ImportFailure(name, "\"tokens\" must be a list", lineno)
        tokens = []
        for i, tok in enumerate(raw, 1):
            if not isinstance(tok, dict) or not (_int(tok.get("start")) and _int(tok.get("end"))):
                raise ImportFailure(name, f"token {i} needs integer \"start\" and \"end\"", lineno)
            tokens.append((tok["start"], tok["end"]))
    if len(text) != len(raw_text):
        spans, tokens = _shift_past_crlf(raw_text, spans, tokens)
    answer = obj.get("answer") if obj.get("answer") in ANSWER_STATUS else None
    status = ANSWER_STATUS.get(answer) if answer else None
    if answer == "ignore" and meta.get("status") == "todo":
        status = "todo"  # our own export of an unfinished document (see formats/jsonl.py)
    lang = meta.get("lang") if meta.get("lang") in LANGUAGES else None
    prodigy = {k: obj[k] for k in PRODIGY_KEYS if k in obj} or None
    who = obj.get("_annotator_id")
    return Record(
        text=text, line=lineno, meta=meta, spans=spans, tokens=tokens, status=status, lang=lang,
        annotated=answer is not None or spans is not None, answer=answer,
        annotator=who if isinstance(who, str) and who.strip() else None, prodigy=prodigy,
    )


#: Prodigy's answer -> our status (README "Import"): a rejected example is skipped, and its
#: answer is kept so an unchanged export writes ``reject`` again.
ANSWER_STATUS = {"accept": "done", "reject": "skipped", "ignore": "skipped"}
#: Prodigy's own keys of a record, kept per (document, annotator) and written back unchanged.
PRODIGY_KEYS = ("_input_hash", "_task_hash", "_timestamp", "_annotator_id", "_session_id", "_view_id")


def _shift_past_crlf(
    raw: str, spans: list[RecordSpan] | None, tokens: list[tuple[int, int]] | None
) -> tuple[list[RecordSpan] | None, list[tuple[int, int]] | None]:
    """Move offsets given against ``raw`` onto its CRLF→LF normalised text.

    Each CR dropped from a CRLF shifts later offsets one to the left, so a span keeps
    covering the same words. Offsets out of range stay out of range (and are refused).
    """
    dropped: list[int] = []
    at = raw.find("\r\n")
    while at != -1:
        dropped.append(at)
        at = raw.find("\r\n", at + 2)

    def move(offset: int) -> int:
        return offset - bisect.bisect_left(dropped, offset)

    if spans is not None:
        spans = [
            RecordSpan(move(sp.start), move(sp.end), sp.label, sp.score,
                       normalise_newlines(sp.text) if sp.text is not None else None)
            for sp in spans
        ]
    if tokens is not None:
        tokens = [(move(s), move(e)) for s, e in tokens]
    return spans, tokens


#: The integers meta may hold: what msgpack (spaCy's DocBin) can write.
INT64 = (-(1 << 63), (1 << 64) - 1)
#: How deep ``meta`` may nest (objects and arrays inside each other). spaCy's DocBin (msgpack)
#: stops at 511 levels and wraps meta a few levels deeper; JSON writers have no limit.
MAX_META_DEPTH = 100


def check_meta(meta: Any, name: str, line: int | None) -> None:
    """Refuse meta that some export format could not write: nested deeper than
    :data:`MAX_META_DEPTH`, NaN or infinite floats, integers beyond 64 bits, lone surrogates.

    Every reader's records pass here (see :func:`import_paths`), so the limit is one for all formats.
    """
    stack: list[tuple[Any, int]] = [(meta, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = [*value.keys(), *value.values()]
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            why = None
            if isinstance(value, float) and not math.isfinite(value):
                why = f"holds {value!r}, which strict JSON readers refuse"
            elif isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
                why = "holds an integer that does not fit in 64 bits (spaCy's DocBin cannot hold it)"
            elif isinstance(value, str) and _SURROGATE.search(value):
                why = "holds a lone surrogate, which cannot be stored as UTF-8"
            if why:
                raise ImportFailure(name, f"meta {why}", line)
            continue
        if depth > MAX_META_DEPTH:
            raise ImportFailure(
                name, f"meta is nested more than {MAX_META_DEPTH} levels deep; every export format"
                " must be able to write it (spaCy's DocBin cannot write deeply nested data)", line)
        stack.extend((child, depth + 1) for child in children)


def _checked(records: Iterable[Record], name: str) -> Iterator[Record]:
    """Each record once its meta and span scores pass :func:`check_meta` (any reader's)."""
    for rec in records:
        check_meta(rec.meta, name, rec.line)
        for i, sp in enumerate(rec.spans or (), 1):
            if sp.score is not None and not math.isfinite(sp.score):
                raise ImportFailure(name, f"span {i} has score {sp.score!r}; scores must be finite numbers", rec.line)
        yield rec


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (strict JSON readers refuse NaN and Infinity)")


_DIGITS = re.compile(r"value has (\d+) digits")


def loads_strict(line: str) -> Any:
    """``json.loads`` that refuses NaN and Infinity (ValueError), as strict JSON readers do.

    An integer past Python's 4,300-digit limit is a ValueError too, said in words. Numbers
    are otherwise parsed by the C scanner (no Python call per number); what an export could
    not write (infinite floats, integers beyond 64 bits) is refused by :func:`check_meta`.
    """
    try:
        return json.loads(line, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        digits = _DIGITS.search(str(exc))
        if digits is None:
            raise
        raise ValueError(f"an integer of {int(digits[1]):,} digits (at most 4,300 are read)") from None


def iter_json_lines(
    path: Path, name: str, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed object)`` for each non-blank line of a JSON-lines file.

    Invalid UTF-8 (with its byte offset), a foreign BOM and lines that are not JSON raise
    :class:`ImportFailure` naming the file and line.
    """
    offset = 0
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ImportFailure(name, f"cannot read: {exc.strerror}") from None
    with fh:
        for lineno, raw in enumerate(fh, 1):
            line_start = offset
            offset += len(raw)
            if progress:
                progress(len(raw))
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFailure(
                    name,
                    (lineno == 1 and foreign_bom(raw))
                    or f"invalid UTF-8 at byte {line_start + exc.start}: {exc.reason}",
                    lineno,
                ) from None
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
            if not line or line.isspace():  # not line.strip(): that copies a 50 MB line
                continue
            try:
                obj = loads_strict(line)
            except json.JSONDecodeError as exc:
                raise ImportFailure(name, f"not valid JSON: {exc.msg} (column {exc.colno})", lineno) from None
            except RecursionError:  # e.g. 100,000 nested arrays: the parser gives up
                raise ImportFailure(name, "not valid JSON: nested too deeply", lineno) from None
            except ValueError as exc:  # NaN, Infinity, a 5,000-digit integer
                raise ImportFailure(name, f"not valid JSON: {exc}", lineno) from None
            del raw, line  # not held while the record is written
            yield lineno, obj


def read_jsonl(path: Path, name: str, progress: Callable[[int], None] | None = None) -> Iterator[Record]:
    for lineno, obj in iter_json_lines(path, name, progress):
        yield parse_jsonl_record(obj, name, lineno)


# -- checking ------------------------------------------------------------------------------


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(text: str, name: str, line: int | None) -> None:
    """Refuse lone surrogates (JSON can smuggle them in as ``\\ud800``); they cannot be stored as UTF-8.

    A regex search, not a trial encode: encoding a 50 MB text would copy it (up to 3 bytes
    a character) just to look.
    """
    found = _SURROGATE.search(text)
    if found:
        raise ImportFailure(
            name, f"text holds a lone surrogate (U+{ord(found.group()):04X}) at offset {found.start()}", line
        )


def _check_tokens(rec: Record, name: str) -> None:
    prev = 0
    for i, (s, e) in enumerate(rec.tokens or (), 1):
        if not (prev <= s < e <= len(rec.text)):
            raise ImportFailure(name, f"token {i} ({s}-{e}) is out of order or out of range", rec.line)
        prev = e


def check_spans(rec: Record, name: str, allow_overlap: bool) -> None:
    """Refuse spans out of range, reversed, overlapping or cutting a visible character."""
    n = len(rec.text)
    spans = rec.spans or []
    for i, sp in enumerate(spans, 1):
        if sp.start >= sp.end:
            raise ImportFailure(
                name, f"span {i} ({sp.label}) is empty or reversed: start {sp.start}, end {sp.end}", rec.line
            )
        if sp.start < 0 or sp.end > n:
            raise ImportFailure(
                name, f"span {i} ({sp.label}) {sp.start}-{sp.end} is out of range (text has {n} characters)",
                rec.line,
            )
        for edge in (sp.start, sp.end):
            if not is_grapheme_boundary(rec.text, edge):
                raise ImportFailure(
                    name,
                    f"span {i} ({sp.label}) {sp.start}-{sp.end} cuts through a character sequence"
                    f" at offset {edge} (a combining mark, emoji sequence or surrogate pair)",
                    rec.line,
                )
        if not valid_label_name(sp.label):
            raise ImportFailure(name, f"span {i} has an invalid label {label_repr(sp.label)}", rec.line)
    if not allow_overlap:
        ordered = sorted(spans, key=lambda s: (s.start, s.end))
        for a, b in zip(ordered, ordered[1:]):
            if b.start < a.end:
                if a.where is not None and b.where is not None:
                    (file, line, ident), (_, first_line, first_id) = sorted((a.where, b.where), key=itemgetter(1))[::-1]
                    later, earlier = (a, b) if a.where[1] == line else (b, a)
                    raise ImportFailure(
                        file,
                        f"{ident} ({later.label} {later.start}-{later.end}) overlaps {first_id}"
                        f" ({earlier.label} {earlier.start}-{earlier.end}) of line {first_line}"
                        " (overlapping entities can be imported only --as suggestions)",
                        line,
                    )
                raise ImportFailure(
                    name,
                    f"spans overlap: {a.label} {a.start}-{a.end} and {b.label} {b.start}-{b.end}",
                    rec.line,
                )


# -- writing -------------------------------------------------------------------------------


def _misaligned(tokens: Tokens, spans: list[RecordSpan]) -> int:
    starts, ends = set(tokens.starts), set(tokens.ends)
    return sum(1 for sp in spans if sp.start not in starts or sp.end not in ends)


def write_records(
    store: Store,
    records: Iterable[Record],
    name: str,
    report: ImportReport,
    *,
    mode: str = "accepted",
    lang: str | None = None,
    annotator: str | None = None,
    on_conflict: str = "keep",
) -> None:
    """Write one file's records, all or nothing, without holding the write lock for long.

    The records are checked and staged first (:class:`~annotations.store.sqlite_staging.Staging`,
    a file of its own: no lock on the database), then published in short transactions
    (:func:`_publish`); a file that fails anywhere leaves nothing behind. Called inside a transaction the caller already
    holds, the records are written in it instead, as one unit.

    ``annotator``: whose annotations the records are (default: each record's own, e.g.
    Prodigy's ``_annotator_id``, else the store's annotator). ``on_conflict``: what a
    record does when its text is already annotated differently by that annotator (see
    :data:`ON_CONFLICT`).
    """
    if mode not in IMPORT_MODES:
        raise ValueError(f"unknown import mode {mode!r}")
    if on_conflict not in ON_CONFLICT:
        raise ValueError(f"unknown conflict rule {on_conflict!r}: use one of {', '.join(ON_CONFLICT)}")
    opts = _options(store, name, mode, lang, annotator)
    if store.backend.in_transaction():
        _write_in_transaction(store, records, opts, report, on_conflict)
        return
    _staged_import(store, _InProcess(records, opts), opts, report, on_conflict)


@dataclass(frozen=True, slots=True)
class _Options:
    """What every record of one file is imported with."""

    name: str
    mode: str
    lang: str | None
    annotator: str | None
    default_annotator: str
    #: The database cannot store U+0000 in text (PostgreSQL): such a record is refused while checked.
    no_nul: str | None = None


def _options(store: Store, name: str, mode: str, lang: str | None, annotator: str | None) -> _Options:
    return _Options(name, mode, lang, annotator, store.annotator,
                    None if store.backend.stores_nul else store.backend.product)


class _RecordWriter:
    """Writes checked records one by one inside an open write transaction (the exact path:
    duplicates, conflicts, records annotated before). Counts go to :meth:`finish`."""

    def __init__(self, store: Store, opts: _Options, on_conflict: str, ts: str) -> None:
        self.store = store
        self.opts = opts
        self.on_conflict = on_conflict
        self.ts = ts
        self.backend = store.backend
        self.label_names = {lab.name for lab in store.labels()}
        self.counts = {"added": 0, "duplicates": 0, "spans": 0, "suggestions": 0, "misaligned": 0, "mismatch": 0}
        self.new_labels: list[str] = []
        self.doc_ids: list[int] = []
        self.warnings: list[str] = []
        self.conflicts: list[str] = []
        self.annotated: dict[str, int] = {}
        self.kept_from: dict[tuple[int, str], str] = {}  # (doc, annotator) -> the record of this file kept
        self.negatives = 0
        self.on_added: Callable[[], None] | None = None

    def add_label(self, label: str) -> None:
        if label not in self.label_names:
            self.label_names.add(label)
            self.new_labels.append(label)
            self.store.add_label(label)

    def write(self, rec: Record, doc_lang: str, h: str) -> None:
        store, backend, ts, mode, name = self.store, self.backend, self.ts, self.opts.mode, self.opts.name
        counts = self.counts
        with_spans = mode != "text" and rec.spans
        new_id = backend.insert_document(
            h, name, rec.line, title_of(rec.text, rec.meta), doc_lang, rec.text,
            json.dumps(rec.meta, ensure_ascii=False), ts,
        )
        fresh = new_id is not None
        if new_id is not None:
            doc_id = new_id
            counts["added"] += 1
            self.doc_ids.append(doc_id)
            if self.on_added is not None:
                self.on_added()
        else:
            doc_id = int(backend.document_by_hash(h))
            counts["duplicates"] += 1
        if rec.tokens is not None:
            backend.cache_tokens(doc_id, "import", split_whitespace(rec.text, Tokens.from_pairs(rec.tokens)).to_bytes())
        who = self.opts.annotator or rec.annotator or self.opts.default_annotator
        if mode == "accepted" and _decides(rec):
            # An annotated example: a decision of ``who`` (issue 10), zero spans included.
            who = _resolve_conflict(
                store, doc_id, rec, who, name, self.on_conflict, fresh=fresh, conflicts=self.conflicts,
                kept_from=self.kept_from,
            )
            if who is None:
                return
            self.kept_from[(doc_id, who)] = f"{name}:{rec.line}" if rec.line is not None else name
        elif not with_spans:
            return
        for sp in rec.spans or ():
            if sp.text is not None and sp.text != rec.text[sp.start:sp.end]:
                counts["mismatch"] += 1
            self.add_label(sp.label)
        if with_spans:
            assert rec.spans is not None
            if rec.tokens is not None:
                tokens = split_whitespace(rec.text, Tokens.from_pairs(rec.tokens))
            else:
                tokens = tokenize(rec.text, doc_lang)
                backend.cache_tokens_if_absent(doc_id, tokenizer_id(doc_lang), tokens.to_bytes())
            counts["misaligned"] += _misaligned(tokens, rec.spans)
            state = "accepted" if mode == "accepted" else "pending"
            existing = {} if fresh else {
                (s.start, s.end): s
                for s in store.spans(doc_id, annotator=who, states=("accepted", "pending", "rejected"))
            }
            for sp in rec.spans:
                same = existing.get((sp.start, sp.end))
                if same is not None:
                    if state == "accepted" and same.state != "accepted":
                        # a pending or rejected suggestion at the same place becomes the imported span
                        backend.accept_as_import(same.id, sp.label, ts)
                        counts["spans"] += 1
                    continue
                if any(s.state == "accepted" and s.overlaps(sp.start, sp.end) for s in existing.values()):
                    # An accepted span already there is a person's decision: an imported
                    # span or suggestion never competes with it (as in Store.add_suggestions).
                    self.warnings.append(
                        f"{name}:{rec.line}: span {sp.start}-{sp.end} overlaps a span this annotator"
                        " already has on the same text; kept the existing one"
                    )
                    continue
                backend.insert_import_span(doc_id, sp.start, sp.end, sp.label, who, state, sp.score, ts)
                counts["spans" if state == "accepted" else "suggestions"] += 1
        if mode == "accepted":
            _record_decision(store, doc_id, rec, who, ts)
            decided = _record_status(rec)
            self.annotated[decided] = self.annotated.get(decided, 0) + 1
            if not rec.spans:
                self.negatives += 1

    def add_batch(self, batch: dict[str, Any]) -> None:
        """Count what a publisher's batch wrote (see ``store.sql_import.ImportPublisher.rest``)."""
        c = self.counts
        c["added"] += batch["added"]
        c["spans" if self.opts.mode == "accepted" else "suggestions"] += batch["spans"]
        c["misaligned"] += batch["misaligned"]
        c["mismatch"] += batch["mismatch"]
        for status, k, negatives in batch["annotated"]:
            self.annotated[status] = self.annotated.get(status, 0) + k
            self.negatives += negatives
        self.doc_ids += batch["doc_ids"]

    def wrote_any(self) -> bool:
        c = self.counts
        return bool(c["added"] or c["spans"] or c["suggestions"])

    def finish(self, report: ImportReport) -> None:
        c = self.counts
        report.added += c["added"]
        report.duplicates += c["duplicates"]
        report.spans += c["spans"]
        report.suggestions += c["suggestions"]
        report.misaligned += c["misaligned"]
        report.text_mismatch += c["mismatch"]
        report.labels_added += self.new_labels
        report.warnings += self.warnings
        report.doc_ids += self.doc_ids
        report.conflicts += self.conflicts
        for status, n in self.annotated.items():
            report.annotated[status] = report.annotated.get(status, 0) + n
        report.negatives += self.negatives


def _decides(rec: Record) -> bool:
    """Whether the record, imported as accepted, is a decision of its annotator."""
    return rec.annotated or rec.spans is not None or rec.status is not None


def _check_record(rec: Record, opts: _Options, warnings: list[str], skipped: list[tuple[str, str]]) -> str | None:
    """Check one record before anything is written: its language, or None to skip it (empty)."""
    name = opts.name
    warnings += [f"{name}: {w}" for w in rec.warnings]
    _check_text(rec.text, name, rec.line)
    if opts.no_nul is not None and "\x00" in rec.text:
        raise ImportFailure(
            name, f"text holds the NUL character (U+0000) at offset {rec.text.index(chr(0))}, which"
            f" {opts.no_nul} cannot store", rec.line,
        )
    if not rec.text.strip():
        skipped.append((f"{name}:{rec.line}" if rec.line else name, "empty text"))
        return None
    doc_lang = opts.lang or rec.lang or detect_language(rec.text)
    if rec.tokens is not None:
        _check_tokens(rec, name)
    if opts.mode != "text" and rec.spans:
        check_spans(rec, name, allow_overlap=(opts.mode == "suggestions"))
    return doc_lang


def _write_in_transaction(
    store: Store, records: Iterable[Record], opts: _Options, report: ImportReport, on_conflict: str
) -> None:
    """The records written one by one inside one transaction (the caller's, or a new one)."""
    writer = _RecordWriter(store, opts, on_conflict, now())
    skipped: list[tuple[str, str]] = []
    any_records = False
    with store.transaction(), store.backend.bulk_index() as index_batch:
        added = 0

        def on_added() -> None:
            nonlocal added
            added += 1
            if added % BATCH == 0:
                index_batch()

        writer.on_added = on_added
        for rec in records:
            any_records = True
            doc_lang = _check_record(rec, opts, writer.warnings, skipped)
            if doc_lang is None:
                report.skipped += skipped
                skipped.clear()
                continue
            writer.write(rec, doc_lang, content_hash(rec.text))
        if any_records and writer.wrote_any():
            store._log("import", [], None)
    if not any_records:
        report.notices.append(f"{opts.name}: empty file, nothing to import")
    writer.finish(report)


# -- staged import: checked and staged outside the lock, published in short transactions ----

#: Records checked per chunk (sent from the worker process, written to the staging file).
STAGE_CHUNK = 500
#: How long one publishing transaction may hold the write lock, in seconds (the batch size
#: adapts to it), and the pause after each one. SQLite's busy handler retries a waiting
#: writer 1, 2, 5, 10, 15, 20, then 25 ms apart (for its first 228 ms), so a pause of
#: 25 ms is always seen by a writer that is waiting: it gets the lock within about one
#: batch plus the pause (~100 ms), and the import keeps three quarters of the time.
PUBLISH_SECONDS = 0.075
PUBLISH_PAUSE = 0.025
#: JSONL files at least this big are read and checked in a worker process (the second
#: core) while this process stages them: the worker's start (spaCy's import, ~2 CPU-seconds)
#: pays for itself from about 15,000 news-sized documents on.
WORKER_MIN_BYTES = 32 << 20

#: One checked record, ready to stage: the ``docs`` row (without ``seq``) and its span rows.
Prepared = tuple[tuple[Any, ...], list[tuple[int, int, str, float | None, str | None]]]


def _prepare(rec: Record, opts: _Options, warnings: list[str], skipped: list[tuple[str, str]]) -> Prepared | None:
    """Everything about one record that needs no database: checks, hash, title, language,
    token-boundary check, its decision's status and fingerprint (None: skipped, empty)."""
    doc_lang = _check_record(rec, opts, warnings, skipped)
    if doc_lang is None:
        return None
    text, mode = rec.text, opts.mode
    spans = rec.spans or []
    with_spans = bool(mode != "text" and spans)
    decide = mode == "accepted" and _decides(rec)
    tokens = pairs = None
    if rec.tokens is not None:
        given = Tokens.from_pairs(rec.tokens)
        pairs = given.to_bytes()
        split = split_whitespace(text, given)
        tokens = split.to_bytes()
    misaligned = 0
    if with_spans:
        misaligned = _misaligned(split, spans) if rec.tokens is not None else misaligned_spans(text, spans, doc_lang)
    mismatch = sum(1 for sp in spans if sp.text is not None and sp.text != text[sp.start:sp.end]) if (
        decide or with_spans) else 0
    status = _record_status(rec)
    record = decide and not (rec.answer is None and rec.prodigy is None)
    row = (
        content_hash(text), rec.line, title_of(text, rec.meta), doc_lang, text,
        json.dumps(rec.meta, ensure_ascii=False), tokens, pairs,
        opts.annotator or rec.annotator or opts.default_annotator, int(decide), int(with_spans), status,
        rec.answer, json.dumps(rec.prodigy, ensure_ascii=False) if rec.prodigy is not None else None,
        int(record), example_fingerprint(status, [(sp.start, sp.end, sp.label) for sp in spans]) if record else None,
        len(spans), misaligned, mismatch, int(rec.annotated), rec.status, rec.annotator, rec.lang,
        int(rec.spans is not None),
    )
    return row, [(sp.start, sp.end, sp.label, sp.score, sp.text) for sp in spans]


#: Whitespace-separated chunks on each side of a span edge that are tokenised with it. spaCy
#: tokenises each chunk on its own except for its multi-word exceptions (Russian ``т. е.``,
#: ``вед. науч. сотр.``: at most 3 chunks), so a margin of 5 chunks sees every rule that can
#: move a token edge at a span's start or end.
TOKEN_MARGIN = 5
_CHUNK = re.compile(r"\S+")
#: How far (characters) to look for those chunks; past it the whole text is tokenised.
_REACH = 400


def _window(text: str, lo: int, hi: int) -> tuple[int, int] | None:
    """``[a, b)`` around ``lo..hi``: whole chunks, :data:`TOKEN_MARGIN` of them on each side
    (None: not found within :data:`_REACH` characters)."""
    n = len(text)
    a = b = None
    for reach in (_REACH // 4, _REACH):
        a0 = max(0, lo - reach)
        starts = [m.start() for m in _CHUNK.finditer(text, a0, lo)]
        if a0 > 0 and starts and starts[0] == a0 and not text[a0 - 1].isspace():
            del starts[0]  # cut by the reach: not a chunk start
        if len(starts) > TOKEN_MARGIN:
            a = starts[-TOKEN_MARGIN - 1]
            break
        if a0 == 0:
            a = 0
            break
    for reach in (_REACH // 4, _REACH):
        b1 = min(n, hi + reach)
        ends = [m.end() for m in _CHUNK.finditer(text, hi, b1)]
        if len(ends) > TOKEN_MARGIN + 1 or (len(ends) > TOKEN_MARGIN and ends[TOKEN_MARGIN] < b1):
            b = ends[TOKEN_MARGIN]
            break
        if b1 == n:
            b = n
            break
    if a is None or b is None:
        return None
    return a, b


def _boundaries(text: str, lang: str) -> tuple[Sequence[int], Sequence[int]]:
    """Token starts and ends of ``text``, as :func:`~annotations.tokenize.tokenize` gives them,
    read from spaCy's arrays (no Python object per token)."""
    from spacy.attrs import IDX, LENGTH

    arr = blank_nlp(lang).make_doc(text).to_array([IDX, LENGTH])
    if not len(arr):
        return [], []
    starts = arr[:, 0]
    ends = starts + arr[:, 1]
    if text.count(" ") == len(text) - int(arr[:, 1].sum()):
        return starts.tolist(), ends.tolist()
    toks = split_whitespace(text, Tokens(starts.tolist(), ends.tolist()))
    return toks.starts, toks.ends


@lru_cache(maxsize=None)
def _multiword(lang: str) -> re.Pattern[str] | None:
    """spaCy's exceptions of ``lang`` that hold whitespace (``т. е.``), as one pattern; None if none."""
    rules = [k for k in blank_nlp(lang).tokenizer.rules if k.strip() and any(c.isspace() for c in k.strip())]
    if not rules:
        return None
    return re.compile("|".join(re.escape(k) for k in sorted(rules, key=len, reverse=True)))


@lru_cache(maxsize=None)
def _multiword_marks(lang: str) -> re.Pattern[str] | None:
    """A character class that every one of :func:`_multiword`'s exceptions holds a character of
    (``.``, ``-``, ``/``: none is letters and spaces alone), so text without one is near none of
    them, told by a cheap search; None if some exception is letters and spaces only."""
    rules = [k for k in blank_nlp(lang).tokenizer.rules if k.strip() and any(c.isspace() for c in k.strip())]
    marks = [{c for c in k if not c.isalpha() and not c.isspace()} for k in rules]
    if not rules or not all(marks):
        return None
    return re.compile("[" + "".join(re.escape(c) for c in sorted(set().union(*marks))) + "]")


def _edge(text: str, at: int, start: bool) -> tuple[int, int] | bool | None:
    """Whether offset ``at`` is a token edge (a span's start if ``start``, else its end), told
    without spaCy where the text says so: True at a chunk's own edge (tokens of a
    whitespace-separated chunk begin at its start and end at its end), False inside a chunk of
    letters (spaCy never splits one: none of its exceptions does). Otherwise the chunk
    ``(a, b)`` to tokenise, or None (at whitespace, or a chunk longer than :data:`_REACH`)."""
    n = len(text)
    left_ws = at == 0 or text[at - 1].isspace()
    right_ws = at == n or text[at].isspace()
    if left_ws and right_ws:
        return None
    if start and left_ws or not start and right_ws:
        return True
    if start and right_ws or not start and left_ws:
        return None  # a span that starts or ends in whitespace
    a = at
    stop = max(0, at - _REACH)
    while a > stop and not text[a - 1].isspace():
        a -= 1
    m = _CHUNK.match(text, at, min(n, at + _REACH))
    b = m.end() if m else at
    if (a == stop and a > 0 and not text[a - 1].isspace()) or (b < n and not text[b].isspace()):
        return None
    chunk = text[a:b]
    if chunk.isalpha():
        return False
    return a, b


def misaligned_spans(text: str, spans: Sequence[RecordSpan], lang: str) -> int:
    """How many spans do not start and end on token boundaries (spaCy's, as :func:`tokenize`).

    Told from the text around each span edge (:func:`_edge`): an edge at a chunk's own edge
    is a token edge, one inside a word of letters is not; only the chunks that hold
    punctuation at an edge are tokenised, all in one call. Near one of spaCy's multi-word
    exceptions, or at whitespace, the text around the span is tokenised
    (:data:`TOKEN_MARGIN` chunks each side). The answer is the same as tokenising the whole
    text (``tests/test_import_speed.py`` checks it on every offset of the seeds).
    """
    multi = _multiword(lang)
    marks = _multiword_marks(lang) if multi is not None else None
    n = len(text)
    unknown: list[tuple[int, bool]] = []
    chunks: dict[tuple[int, int], None] = {}
    windows: list[tuple[int, int]] = []
    bad = 0
    near = [multi is not None and (marks is None or marks.search(text, max(0, sp.start - 40), min(n, sp.end + 40))
                                   is not None)
            and multi.search(text, max(0, sp.start - 40), min(n, sp.end + 40)) is not None
            for sp in spans]
    for sp, near_multi in zip(spans, near):
        if near_multi:
            w = _window(text, sp.start, sp.end)
            windows.append(w if w is not None else (0, n))
            unknown += [(sp.start, True), (sp.end, False)]
            continue
        ok = True
        for at, is_start in ((sp.start, True), (sp.end, False)):
            edge = _edge(text, at, is_start)
            if edge is True:
                continue
            if edge is False:
                ok = False
            elif edge is None:
                w = _window(text, at, at)
                windows.append(w if w is not None else (0, n))
                unknown.append((at, is_start))
            else:
                chunks[edge] = None
                unknown.append((at, is_start))
        if not ok:
            bad += 1
    if not unknown:
        return bad
    windows = sorted([*windows, *chunks])
    merged: list[tuple[int, int]] = []
    for a, b in windows:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    starts, ends = _window_boundaries(text, merged, lang)
    # Count each span once: misaligned if an edge told without spaCy is not an edge, or one
    # tokenised is not.
    bad = 0
    for sp, near_multi in zip(spans, near):
        ok = True
        for at, is_start in ((sp.start, True), (sp.end, False)):
            if near_multi:
                ok = ok and (at in starts if is_start else at in ends)
                continue
            edge = _edge(text, at, is_start)
            if edge is False:
                ok = False
            elif edge is not True:
                ok = ok and (at in starts if is_start else at in ends)
        bad += not ok
    return bad


def _window_boundaries(text: str, windows: list[tuple[int, int]], lang: str) -> tuple[set[int], set[int]]:
    """Token starts and ends inside ``windows`` (whole chunks of ``text``), tokenised in one call."""
    sep = "\n\n"
    parts, offsets, at = [], [], 0
    for a, b in windows:
        parts.append(text[a:b])
        offsets.append((at, at + b - a, a))
        at += b - a + len(sep)
    t_starts, t_ends = _boundaries(sep.join(parts), lang)
    starts: set[int] = set()
    ends: set[int] = set()
    w = 0
    for s, e in zip(t_starts, t_ends):
        while w < len(offsets) and s >= offsets[w][1]:
            w += 1
        if w == len(offsets):
            break
        lo, hi, a = offsets[w]
        if s >= lo and e <= hi:
            starts.add(s - lo + a)
            ends.add(e - lo + a)
    return starts, ends


class _Source:
    """Checked records of one file, in chunks of :data:`Prepared` (in process or from a worker)."""

    warnings: list[str]
    skipped: list[tuple[str, str]]
    any_records: bool

    def chunks(self) -> Iterator[list[Prepared]]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class _InProcess(_Source):
    def __init__(self, records: Iterable[Record], opts: _Options) -> None:
        self.records, self.opts = records, opts
        self.warnings, self.skipped, self.any_records = [], [], False

    def chunks(self) -> Iterator[list[Prepared]]:
        chunk: list[Prepared] = []
        for rec in self.records:
            self.any_records = True
            p = _prepare(rec, self.opts, self.warnings, self.skipped)
            if p is not None:
                chunk.append(p)
                if len(chunk) >= STAGE_CHUNK:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk


def _worker_main() -> None:
    """The worker process (``python -c``, see :class:`_WorkerSource`): read, check and
    prepare one JSONL file, sending pickled chunks on stdout."""
    import pickle
    import sys

    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the pipe

    def send(msg: tuple[Any, ...]) -> None:
        pickle.dump(msg, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        path, fields, fix_mojibake, formats = pickle.load(sys.stdin.buffer)
        opts = _Options(*fields)
        if formats:
            import annotations.formats  # noqa: F401 - the readers' registrations
        local = ImportReport()
        last = done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n

        records = check_records(_checked(read_jsonl(Path(path), opts.name, tick), opts.name), opts.name,
                                local, fix=fix_mojibake)
        source = _InProcess(records, opts)
        for chunk in source.chunks():
            send(("rows", chunk, done - last))
            last = done
        send(("done", source.any_records, source.warnings, source.skipped, local.warnings, local.notices,
              done - last))
    except ImportFailure as exc:
        send(("failure", exc.source, exc.message, exc.line))
    except BrokenPipeError:
        pass  # the importer stopped listening (it failed or was interrupted)
    except BaseException as exc:  # noqa: BLE001 - reported by the parent as the file's error
        send(("error", f"{type(exc).__name__}: {exc}"))


class _WorkerSource(_Source):
    """A JSONL file read, checked and prepared in a worker process (the second core).

    A plain ``python -c`` child with pickles on its stdin and stdout, not
    ``multiprocessing``: that would re-run the caller's main script in the child."""

    def __init__(self, path: Path, opts: _Options, fix_mojibake: bool, report: ImportReport,
                 tick: Callable[[int], None]) -> None:
        import pickle
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from annotations.importer import _worker_main; _worker_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        fields = (opts.name, opts.mode, opts.lang, opts.annotator, opts.default_annotator, opts.no_nul)
        pickle.dump((str(path), fields, fix_mojibake, "annotations.formats" in sys.modules), self.proc.stdin)
        self.proc.stdin.close()
        self.pipe = self.proc.stdout
        self.report, self.tick, self.name = report, tick, opts.name
        self.warnings, self.skipped, self.any_records = [], [], False

    def chunks(self) -> Iterator[list[Prepared]]:
        import pickle

        while True:
            try:
                msg = pickle.load(self.pipe)
            except EOFError:
                raise ImportFailure(self.name, "could not be read (the worker process stopped)") from None
            kind = msg[0]
            if kind == "rows":
                self.any_records = True
                self.tick(msg[2])
                yield msg[1]
            elif kind == "done":
                self.any_records = self.any_records or msg[1]
                self.warnings, self.skipped = msg[2], msg[3]
                self.report.warnings += msg[4]
                self.report.notices += msg[5]
                self.tick(msg[6])
                return
            elif kind == "failure":
                raise ImportFailure(msg[1], msg[2], msg[3])
            else:
                raise ImportFailure(self.name, f"could not be read ({msg[1][:200]})")

    def close(self) -> None:
        self.pipe.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _staging_prefix(store: Store) -> str:
    return f".{store.path.name}.import-"


def _staged_import(store: Store, source: _Source, opts: _Options, report: ImportReport, on_conflict: str) -> None:
    """Stage a file's checked records, then publish them (see :func:`write_records`)."""
    recover_interrupted_imports(store)
    backend = store.backend
    staging = Staging(backend.staging_folder(store.path), _staging_prefix(store))
    feed = _Feed(staging, source)
    try:
        try:
            # A file read in a worker is published while the worker still checks (the second
            # core); one checked here is staged whole first (nothing published if it fails).
            while feed.more() and not isinstance(source, _WorkerSource):
                pass
            if feed.done:
                feed.close()
                staging.sealed(keep_open=backend.staging_keeps_open())
            if feed.done and not source.any_records:
                report.skipped += source.skipped
                report.notices.append(f"{opts.name}: empty file, nothing to import")
                report.warnings += source.warnings
                return
            _publish(store, staging, opts, report, on_conflict, feed)
        finally:
            feed.close()
    finally:
        staging.remove()


class _Feed:
    """A file's checked chunks, staged one at a time as the publisher asks (:func:`_publish`)."""

    def __init__(self, staging: Staging, source: _Source) -> None:
        self.staging, self.source = staging, source
        self.chunks = iter(source.chunks())
        self.done = self.closed = False

    def more(self) -> bool:
        """Stage the next chunk; False once there are no more (the source is then finished)."""
        if self.done:
            return False
        chunk = next(self.chunks, None)
        if chunk is None:
            self.done = True
            return False
        self.staging.add(chunk)
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.source.close()


def _publish(store: Store, staging: Staging, opts: _Options, report: ImportReport, on_conflict: str, feed: _Feed) -> None:
    """Copy the staged records into the database in short transactions, all or nothing.

    New documents (and their spans, statuses, Prodigy keys, given tokens) go in batches of
    a few hundred, each in its own transaction of about :data:`PUBLISH_SECONDS`, indexed
    for search in the same transaction (the backend's publisher: ``INSERT ... SELECT`` from
    the attached staging file on SQLite, ``COPY`` on PostgreSQL); each batch's document ids
    are noted in ``import_batches``/``import_batch_docs``. Records whose text is already in
    the database (or earlier in the file) are written by :class:`_RecordWriter` in the last
    transaction, which also logs the import and deletes the note. While ``feed`` still has
    chunks (a file checked in the worker process), they are staged between the batches, in
    the pause that lets other writers in. If anything fails, the
    batches already published are deleted again (:func:`_discard`); if the process dies,
    the note lets the next store opened (:func:`recover_interrupted_imports`) delete them.
    """
    backend = store.backend
    ts = now()
    writer = _RecordWriter(store, opts, on_conflict, ts)
    state = "accepted" if opts.mode == "accepted" else "pending"
    publisher = backend.import_publisher(staging, opts.name, ts, state)
    pause = backend.publish_pause(PUBLISH_PAUSE)
    batch_id: int | None = None
    added_labels: list[str] = []
    try:
        seq, n = 1, 200
        while True:
            while staging.count < seq + n - 1 and feed.more():
                pass
            if seq > staging.count:
                break
            t0 = time.perf_counter()
            last = min(staging.count, seq + n - 1)
            with store.transaction(), backend.bulk_index():
                if batch_id is None:
                    batch_id = backend.open_import_note(opts.name, staging.path, os.getpid(), ts)
                if publisher.documents(batch_id, seq, last):
                    labels = [label for label in publisher.labels() if label not in writer.label_names]
                    for label in labels:
                        writer.add_label(label)
                    if labels:
                        added_labels += labels
                        backend.note_import_labels(batch_id, json.dumps(added_labels, ensure_ascii=False))
                    writer.add_batch(publisher.rest())
            elapsed = time.perf_counter() - t0
            seq = last + 1
            n = max(20, min(5000, int(n * PUBLISH_SECONDS / max(elapsed, 1e-4))))
            if seq <= staging.count or not feed.done:
                # The pause other writers get in by: staging the next chunks meanwhile, if any.
                until = time.perf_counter() + pause
                while time.perf_counter() < until and feed.more():
                    pass
                time.sleep(max(0.0, until - time.perf_counter()))
        feed.close()
        report.skipped += feed.source.skipped
        writer.warnings += feed.source.warnings
        with store.transaction():
            for row, spans in publisher.unpublished():
                rec, doc_lang, h = _staged_record(row, spans)
                writer.write(rec, doc_lang, h)
            if writer.wrote_any():
                store._log("import", [], None)
            if batch_id is not None:
                backend.close_import_note(batch_id)
    except BaseException:
        if batch_id is not None:
            _discard(store, batch_id)
            batch_id = None
        raise
    finally:
        with contextlib.suppress(Exception):
            publisher.close()
        if batch_id is not None:
            backend.import_finished(batch_id)
    writer.finish(report)


def _staged_record(row: tuple[Any, ...], spans: list[tuple[Any, ...]] | None) -> tuple[Record, str, str]:
    """A staged row back as the :class:`Record` it came from (for :class:`_RecordWriter`)."""
    (_seq, h, line, _title, doc_lang, text, meta, _tokens, pairs, _who, _decide, _withspans, _status,
     answer, prodigy, _record, _fp, _nspans, _mis, _mm, annotated, rstatus, rannotator, rlang, hasspans) = row
    tokens = None
    if pairs is not None:
        t = Tokens.from_bytes(pairs)
        tokens = list(zip(t.starts, t.ends))
    rec = Record(
        text=text, line=line, meta=json.loads(meta),
        spans=[RecordSpan(s, e, label, score, stext) for s, e, label, score, stext in spans or ()] if hasspans else None,
        tokens=tokens, status=rstatus, lang=rlang, annotated=bool(annotated), answer=answer, annotator=rannotator,
        prodigy=json.loads(prodigy) if prodigy is not None else None,
    )
    return rec, doc_lang, h


#: Documents deleted per transaction when an import's published batches are taken back.
DISCARD_BATCH = 200


def _discard(store: Store, batch_id: int) -> None:
    """Delete what an import that did not finish published (short transactions)."""
    backend = store.backend
    try:
        labels = json.loads(backend.import_note_labels(batch_id) or "[]")
        while True:
            with store.transaction():
                if backend.discard_import_step(batch_id, DISCARD_BATCH, labels):
                    return
    except (sqlite3.Error, backend.DatabaseError, StoreError):
        pass  # e.g. the disk is still full, the server gone: the note stays, the next store takes them back
    finally:
        backend.import_finished(batch_id)


def recover_interrupted_imports(store: Store) -> int:
    """Take back what imports that died while publishing left (see :func:`_publish`).

    A running import marks itself (SQLite: ``flock`` on its staging file; PostgreSQL: a
    session lock the server drops when the importing process dies); a note no running
    import marks is an import that died (kill -9, power loss). Staging files no import
    holds (one killed before it published) are removed. Returns how many imports were
    taken back. Cheap when there are none (one read, one folder listing).
    """
    if store.read_only:
        return 0
    backend = store.backend
    taken = 0
    for batch_id, staging in backend.import_notes():
        if backend.import_alive(batch_id, staging):
            continue  # still running
        _discard(store, batch_id)
        unlink_staging(staging)
        taken += 1
    folder = backend.staging_folder(store.path)
    if folder is None:
        import tempfile

        folder = Path(tempfile.gettempdir())
    # Staging files of imports killed before they published anything (no note).
    for path in folder.glob(f"{_staging_prefix(store)}*.staging"):
        if held(str(path)) is False:
            unlink_staging(str(path))
    return taken


#: What an annotated record does when its text is already annotated, differently, by the
#: same annotator: ``keep`` the first version (default; reported), ``replace`` it with the
#: later one, store the later one as another ``version`` (annotator ``NAME#2``, ``#3``...),
#: or refuse the file (``error``). Identical annotations are plain duplicates.
ON_CONFLICT = ("keep", "replace", "version", "error")


def example_fingerprint(status: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """What an example is, for telling whether it changed since import: status and accepted spans."""
    body = status + "|" + ";".join(f"{s},{e},{label}" for s, e, label in sorted(spans))
    return hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _record_status(rec: Record) -> str:
    return rec.status or "done"


def _annotation(store: Store, doc_id: int, who: str) -> tuple[str, list[tuple[int, int, str]]] | None:
    """``who``'s decision on a document (status, accepted spans), or None if they have none."""
    row, spans = store.backend.import_annotation(doc_id, who)
    status = row or "todo"
    if status == "todo" and not spans:
        return None
    return status, spans


def _resolve_conflict(
    store: Store, doc_id: int, rec: Record, who: str, name: str, on_conflict: str, *,
    fresh: bool, conflicts: list[str], kept_from: dict[tuple[int, str], str] | None = None,
) -> str | None:
    """The annotator an annotated record is written for, or None to write nothing (see :data:`ON_CONFLICT`)."""
    if fresh:
        return who
    have = _annotation(store, doc_id, who)
    if have is None:
        return who
    want = (_record_status(rec), sorted((sp.start, sp.end, sp.label) for sp in rec.spans or ()))
    if want[0] == "todo" and not want[1]:
        return None  # an unfinished example never overrides a decision
    if (have[0], sorted(have[1])) == want:
        return None  # the same example again: a plain duplicate
    src, line = store.backend.document_origin(doc_id) or ("", None)
    first = (kept_from or {}).get((doc_id, who)) or (f"{src}:{line}" if line is not None else src)
    where = f"{name}:{rec.line}" if rec.line is not None else name
    if on_conflict == "error":
        raise ImportFailure(
            name, f"this text is already annotated differently by {who} (first at {first});"
            " use --on-conflict keep, replace or version", rec.line,
        )
    if on_conflict == "keep":
        conflicts.append(f"{where}: annotated differently from {first} ({who}); kept the first")
        return None
    if on_conflict == "replace":
        conflicts.append(f"{where}: annotated differently from {first} ({who}); replaced it")
        store.backend.delete_accepted(doc_id, who)
        return who
    n = 2
    while True:
        version = f"{who}#{n}"
        other = _annotation(store, doc_id, version)
        if other is None:
            conflicts.append(f"{where}: annotated differently from {first} ({who}); kept as {version}")
            return version
        if (other[0], sorted(other[1])) == want:
            return None
        n += 1


def _record_decision(store: Store, doc_id: int, rec: Record, who: str, ts: str) -> None:
    """``who``'s status of an annotated record, and its Prodigy bookkeeping if it has any."""
    status = _record_status(rec)
    if status == "todo":
        store.backend.put_status(doc_id, who, None, ts)
    else:
        store.backend.put_status(doc_id, who, status, ts)
    if rec.answer is None and rec.prodigy is None:
        return
    spans = [(sp.start, sp.end, sp.label) for sp in rec.spans or ()]
    store.backend.put_import_record(
        doc_id, who, rec.answer, example_fingerprint(status, spans), json.dumps(rec.prodigy or {}, ensure_ascii=False)
    )


#: Extra readers by suffix, registered by the formats module: ``suffix -> reader(path, name)``.
EXTRA_READERS: dict[str, Callable[[Path, str], Iterator[Record]]] = {}
#: Content sniffers registered by the formats module: ``path -> format name or None``,
#: asked in turn when no ``--format`` is given (e.g. a ``.txt`` with a brat ``.ann`` beside it).
SNIFFERS: list[Callable[[Path], str | None]] = []


def _sniff(path: Path) -> str | None:
    """The first sniffer's answer; a sniffer that fails on the content just does not claim it
    (the reader then says what is wrong, with the line)."""
    for sniff in SNIFFERS:
        try:
            kind = sniff(path)
        except (ValueError, RecursionError, OSError):
            continue
        if kind:
            return kind
    return None


def _reader(path: Path, fmt: str | None) -> Callable[..., Iterator[Record]]:
    kind = fmt or _sniff(path) or path.suffix.lower().lstrip(".")
    if kind in ("txt", "text"):
        return read_txt
    if kind in ("jsonl", "json"):
        return read_jsonl
    reader = EXTRA_READERS.get(kind)
    if reader is None:
        known = ", ".join(["txt", "jsonl", *sorted(EXTRA_READERS)])
        raise ImportFailure(
            str(path), f"unknown file type {fmt or path.suffix or '(none)'}: use one of {known} (or --format)"
        )
    return reader


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone since it was listed: its reader says so
        return 0


def import_paths(
    store: Store,
    paths: Iterable[str | Path],
    *,
    mode: str = "accepted",
    lang: str | None = None,
    fmt: str | None = None,
    progress: Progress | None = None,
    fix_mojibake: bool = False,
    annotator: str | None = None,
    on_conflict: str = "keep",
) -> ImportReport:
    """Import files and folders into ``store``; each file all-or-nothing.

    Errors are collected in the report (one per bad file) rather than raised, so one bad
    file in a folder does not stop the others. Mojibake is warned about (file and line)
    and kept, or with ``fix_mojibake`` repaired and recorded in meta (:mod:`.mojibake`).
    """
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    if mode not in IMPORT_MODES:
        raise ValueError(f"unknown import mode {mode!r}")
    if store.read_only:
        raise ReadOnlyError(f"cannot import: {store.read_only}")
    if not store.backend.in_transaction():
        recover_interrupted_imports(store)
    report = ImportReport()
    sources = list(iter_sources(paths, report))
    total = sum(_size(p) for p, _ in sources) or 1
    done = 0
    for path, name in sources:
        report.files += 1
        size = _size(path)
        file_done = 0

        def tick(n: int, _name: str = name) -> None:
            nonlocal file_done
            file_done += n
            if progress:
                progress(done + file_done, total, _name)

        try:
            reader = _reader(path, fmt)
            if reader is read_jsonl and size >= WORKER_MIN_BYTES and not store.backend.in_transaction():
                # Read and checked in a worker process while this one stages and publishes.
                if on_conflict not in ON_CONFLICT:
                    raise ValueError(f"unknown conflict rule {on_conflict!r}")
                opts = _options(store, name, mode, lang, annotator)
                _staged_import(store, _WorkerSource(path, opts, fix_mojibake, report, tick), opts, report,
                               on_conflict)
            else:
                if reader is read_jsonl:
                    records = read_jsonl(path, name, tick)
                else:
                    records = reader(path, name)
                records = check_records(_checked(records, name), name, report, fix=fix_mojibake)
                write_records(
                    store, records, name, report, mode=mode, lang=lang, annotator=annotator,
                    on_conflict=on_conflict,
                )
        except ImportFailure as exc:
            report.errors.append(exc)
        except (sqlite3.DatabaseError, store.backend.DatabaseError) as exc:  # disk full, a damaged file: rolled back
            report.errors.append(ImportFailure(name, f"not written, the database failed: {exc}"))
        except StoreError as exc:
            report.errors.append(ImportFailure(name, f"not written: {exc}"))
        except Exception as exc:  # a reader's own failure must not stop the other files
            what = f"{type(exc).__name__}: {exc}"
            report.errors.append(ImportFailure(name, f"could not be read ({what[:200]})"))
        done += size
        if progress:
            progress(done, total, name)
    return report
