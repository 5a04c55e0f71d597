"""Corpus import: ``.txt`` files, ``.jsonl`` files and folders of them.

Each file is one transaction: a file with a bad line, bad span or bad encoding adds
nothing, and the error names the file, the line and what was wrong. Files stream line by
line, so memory stays flat. spaCy is only loaded for records that bring spans (to check
that they fall on token boundaries); plain text never pays for tokenisation.

Readers say what a record is (:class:`Record`): an annotated example (``annotated``,
``status``, ``answer``), whose it is (``annotator``) and its Prodigy keys (``prodigy``).
:func:`write_records` makes an annotated example a decision of its annotator (a status,
zero spans included; :func:`_record_decision`), settles a text already annotated
differently by the same annotator by :data:`ON_CONFLICT` (:func:`_resolve_conflict`), and
cuts given tokens at whitespace (``tokenize.split_whitespace``).
"""

from __future__ import annotations

import bisect
import errno
import hashlib
import json
import math
import os
import re
import sqlite3
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from .db import ReadOnlyError, deferred_fts, write
from .labels import label_repr, valid_label_name
from .mojibake import check_records
from .store import Store, StoreError, now
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
from .tokenize import Tokens, split_whitespace, tokenize, tokenizer_id

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
    """Write one file's records in one transaction (all or nothing).

    ``annotator``: whose annotations the records are (default: each record's own, e.g.
    Prodigy's ``_annotator_id``, else the store's annotator). ``on_conflict``: what a
    record does when its text is already annotated differently by that annotator (see
    :data:`ON_CONFLICT`).
    """
    if mode not in IMPORT_MODES:
        raise ValueError(f"unknown import mode {mode!r}")
    if on_conflict not in ON_CONFLICT:
        raise ValueError(f"unknown conflict rule {on_conflict!r}: use one of {', '.join(ON_CONFLICT)}")
    conflicts: list[str] = []
    conn = store.db.conn
    label_names = {lab.name for lab in store.labels()}
    ts = now()
    counts = {"added": 0, "duplicates": 0, "spans": 0, "suggestions": 0, "misaligned": 0, "mismatch": 0,
              "negatives": 0}
    annotated: dict[str, int] = {}  # into the report only once the file is written
    kept_from: dict[tuple[int, str], str] = {}  # (doc, annotator) -> the record of this file kept
    new_labels: list[str] = []
    doc_ids: list[int] = []
    warnings: list[str] = []
    any_records = False
    with write(store.db), deferred_fts(store.db) as index_batch:
        for rec in records:
            any_records = True
            warnings += [f"{name}: {w}" for w in rec.warnings]
            _check_text(rec.text, name, rec.line)
            if not rec.text.strip():
                report.skipped.append((f"{name}:{rec.line}" if rec.line else name, "empty text"))
                continue
            doc_lang = lang or rec.lang or detect_language(rec.text)
            if rec.tokens is not None:
                _check_tokens(rec, name)
            with_spans = mode != "text" and rec.spans
            if with_spans:
                check_spans(rec, name, allow_overlap=(mode == "suggestions"))
            h = content_hash(rec.text)
            cur = conn.execute(
                "INSERT INTO documents (hash, source, line, title, lang, text, meta, created)"
                " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(hash) DO NOTHING",
                [h, name, rec.line, title_of(rec.text, rec.meta), doc_lang, rec.text,
                 json.dumps(rec.meta, ensure_ascii=False), ts],
            )
            if cur.rowcount:
                doc_id = int(cur.lastrowid)
                counts["added"] += 1
                doc_ids.append(doc_id)
                if counts["added"] % BATCH == 0:
                    index_batch()
            else:
                doc_id = conn.execute("SELECT id FROM documents WHERE hash = ?", [h]).fetchone()[0]
                counts["duplicates"] += 1
            if rec.tokens is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)",
                    [doc_id, "import", split_whitespace(rec.text, Tokens.from_pairs(rec.tokens)).to_bytes()],
                )
            who = annotator or rec.annotator or store.annotator
            if mode == "accepted" and (rec.annotated or rec.spans is not None or rec.status is not None):
                # An annotated example: a decision of ``who`` (issue 10), zero spans included.
                who = _resolve_conflict(
                    store, doc_id, rec, who, name, on_conflict, fresh=bool(cur.rowcount), conflicts=conflicts,
                    kept_from=kept_from,
                )
                if who is None:
                    continue
                kept_from[(doc_id, who)] = f"{name}:{rec.line}" if rec.line is not None else name
            elif not with_spans:
                continue
            for sp in rec.spans or ():
                if sp.text is not None and sp.text != rec.text[sp.start:sp.end]:
                    counts["mismatch"] += 1
                if sp.label not in label_names:
                    label_names.add(sp.label)
                    new_labels.append(sp.label)
                    store.add_label(sp.label)
            if with_spans:
                assert rec.spans is not None
                if rec.tokens is not None:
                    tokens = split_whitespace(rec.text, Tokens.from_pairs(rec.tokens))
                else:
                    tokens = tokenize(rec.text, doc_lang)
                    conn.execute(
                        "INSERT OR IGNORE INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)",
                        [doc_id, tokenizer_id(doc_lang), tokens.to_bytes()],
                    )
                counts["misaligned"] += _misaligned(tokens, rec.spans)
                state = "accepted" if mode == "accepted" else "pending"
                existing = {} if cur.rowcount else {
                    (s.start, s.end): s
                    for s in store.spans(doc_id, annotator=who, states=("accepted", "pending", "rejected"))
                }
                for sp in rec.spans:
                    same = existing.get((sp.start, sp.end))
                    if same is not None:
                        if state == "accepted" and same.state != "accepted":
                            # a pending or rejected suggestion at the same place becomes the imported span
                            conn.execute(
                                "UPDATE spans SET state = 'accepted', label = ?, origin = 'import', updated = ?"
                                " WHERE id = ?", [sp.label, ts, same.id],
                            )
                            counts["spans"] += 1
                        continue
                    if any(s.state == "accepted" and s.overlaps(sp.start, sp.end) for s in existing.values()):
                        # An accepted span already there is a person's decision: an imported
                        # span or suggestion never competes with it (as in Store.add_suggestions).
                        warnings.append(
                            f"{name}:{rec.line}: span {sp.start}-{sp.end} overlaps a span this annotator"
                            " already has on the same text; kept the existing one"
                        )
                        continue
                    conn.execute(
                        "INSERT INTO spans (doc_id, start, end, label, annotator, origin, state, score,"
                        " created, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        [doc_id, sp.start, sp.end, sp.label, who, "import", state, sp.score, ts, ts],
                    )
                    counts["spans" if state == "accepted" else "suggestions"] += 1
            if mode == "accepted":
                _record_decision(store, doc_id, rec, who, ts)
                decided = _record_status(rec)
                annotated[decided] = annotated.get(decided, 0) + 1
                if not rec.spans:
                    counts["negatives"] += 1
        if any_records and (counts["added"] or counts["spans"] or counts["suggestions"]):
            store._log("import", [], None)
    if not any_records:
        report.notices.append(f"{name}: empty file, nothing to import")
    report.added += counts["added"]
    report.duplicates += counts["duplicates"]
    report.spans += counts["spans"]
    report.suggestions += counts["suggestions"]
    report.misaligned += counts["misaligned"]
    report.text_mismatch += counts["mismatch"]
    report.labels_added += new_labels
    report.warnings += warnings
    report.doc_ids += doc_ids
    report.conflicts += conflicts
    for decided, n in annotated.items():
        report.annotated[decided] = report.annotated.get(decided, 0) + n
    report.negatives += counts["negatives"]


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
    conn = store.db.conn
    row = conn.execute(
        "SELECT status FROM doc_status WHERE doc_id = ? AND annotator = ?", [doc_id, who]
    ).fetchone()
    spans = [
        tuple(r) for r in conn.execute(
            "SELECT start, end, label FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'accepted'"
            " ORDER BY start", [doc_id, who],
        )
    ]
    status = row[0] if row else "todo"
    if status == "todo" and not spans:
        return None
    return status, spans  # type: ignore[return-value]


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
    src, line = store.db.conn.execute("SELECT source, line FROM documents WHERE id = ?", [doc_id]).fetchone()
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
        store.db.conn.execute(
            "DELETE FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'accepted'", [doc_id, who]
        )
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
    conn = store.db.conn
    if status == "todo":
        conn.execute("DELETE FROM doc_status WHERE doc_id = ? AND annotator = ?", [doc_id, who])
    else:
        _set_status(store, doc_id, status, ts, who)
    if rec.answer is None and rec.prodigy is None:
        return
    spans = [(sp.start, sp.end, sp.label) for sp in rec.spans or ()]
    conn.execute(
        "INSERT OR REPLACE INTO import_records (doc_id, annotator, answer, fingerprint, prodigy)"
        " VALUES (?,?,?,?,?)",
        [doc_id, who, rec.answer, example_fingerprint(status, spans),
         json.dumps(rec.prodigy or {}, ensure_ascii=False)],
    )


def _set_status(store: Store, doc_id: int, status: str, ts: str, annotator: str | None = None) -> None:
    store.db.conn.execute(
        "INSERT INTO doc_status (doc_id, annotator, status, updated) VALUES (?,?,?,?)"
        " ON CONFLICT(doc_id, annotator) DO UPDATE SET status = excluded.status,"
        " updated = excluded.updated",
        [doc_id, annotator or store.annotator, status, ts],
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
            if reader is read_jsonl:
                records = read_jsonl(path, name, tick)
            else:
                records = reader(path, name)
            records = check_records(_checked(records, name), name, report, fix=fix_mojibake)
            write_records(
                store, records, name, report, mode=mode, lang=lang, annotator=annotator, on_conflict=on_conflict
            )
        except ImportFailure as exc:
            report.errors.append(exc)
        except sqlite3.DatabaseError as exc:  # disk full, a damaged file: this file is rolled back
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
