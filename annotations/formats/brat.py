"""brat standoff: a ``.txt`` and ``.ann`` pair per document.

Export writes, for each (document, annotator), ``<doc id>-<annotator>.txt`` (the text,
UTF-8, byte for byte) and ``<doc id>-<annotator>.ann`` with one text-bound annotation per
accepted span::

    T1<TAB>PER 10 24<TAB>Садыр Жапаров

Offsets are code points into the ``.txt``, end exclusive, as brat counts them. A line
break or tab inside a span is written as a space in the third column (the line format
cannot hold it), and a control character as U+FFFD; the offsets stay exact. The folder
also gets an ``annotation.conf`` listing the label set as entity types (with empty
relation, event and attribute sections), so brat opens the folder as a project.

Import reads a ``.txt`` with the ``.ann`` beside it (a ``.txt`` with a ``.ann`` of the same
name is recognised as brat without ``--format``; naming the ``.ann`` works too).
A byte-order mark and CRLF line ends in the ``.txt`` are dropped and the offsets are
shifted to match. Discontinuous entities (``0 5;9 14``) become one span per fragment
(with a warning); relations, events, attributes, normalisations and notes are not
entities and are skipped (counted in a warning). Anything else is an error naming the
``.ann`` line: a line without an entity type says so, and overlapping entities (refused
when imported as accepted spans) name the ``.ann`` lines of both.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from pathlib import Path
from typing import Iterable, Iterator

from ..importer import ImportFailure, Record, RecordSpan
from ..labels import label_repr, valid_label_name
from ..text import foreign_bom
from .export import ExportItem, ExportStats

__all__ = ["CONF_FILE", "annotation_conf", "brat_ann", "write_brat", "read_brat", "sniff_brat"]

#: brat's project configuration file, written beside the documents.
CONF_FILE = "annotation.conf"

_SAFE = re.compile(r"[^\w.-]+")
_TEXT_BOUND = re.compile(r"^T\w+$")
_OTHER = re.compile(r"^([REAMN]\w+|#\w*|\*)$")


_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " ", "\t": " "})
_CONTROLS = str.maketrans({c: "\ufffd" for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in "\r\n\t"})


def _column(text: str) -> str:
    """A span's text as the third ``.ann`` column: line breaks and tabs as spaces, controls as U+FFFD."""
    return text.translate(_LINE_BREAKS).translate(_CONTROLS)


def annotation_conf(labels: Iterable[str]) -> str:
    """brat's ``annotation.conf`` with ``labels`` as the entity types."""
    return "[entities]\n" + "".join(f"{label}\n" for label in labels) + "\n[relations]\n\n[events]\n\n[attributes]\n"


def brat_ann(item: ExportItem, stats: ExportStats) -> str:
    """The ``.ann`` text of one record; counts spans into ``stats``."""
    lines = [
        f"T{n}\t{sp.label} {sp.start} {sp.end}\t{_column(item.text[sp.start:sp.end])}"
        for n, sp in enumerate(item.spans, 1)
    ]
    stats.spans += len(lines)
    return "".join(line + "\n" for line in lines)


def _stem(item: ExportItem, used: set[str]) -> str:
    who = _SAFE.sub("_", item.annotator).strip("._") or "annotator"
    stem = f"{item.doc_id:06d}-{who}"
    n = 1
    while stem in used:
        n += 1
        stem = f"{item.doc_id:06d}-{who}-{n}"
    used.add(stem)
    return stem


def write_brat(
    items: Iterable[ExportItem], folder: Path, stats: ExportStats, labels: Iterable[str] = ()
) -> None:
    """Write a ``.txt``/``.ann`` pair per record into ``folder``, and ``annotation.conf`` with ``labels``."""
    labels = list(labels)
    used: set[str] = set()
    last_doc = None
    for item in items:
        stem = _stem(item, used)
        (folder / f"{stem}.txt").write_bytes(item.text.encode("utf-8", "surrogatepass"))
        (folder / f"{stem}.ann").write_bytes(brat_ann(item, stats).encode("utf-8", "surrogatepass"))
        stats.records += 1
        if item.doc_id != last_doc:
            stats.documents += 1
            last_doc = item.doc_id
        for sp in item.spans:
            if sp.label not in labels:
                labels.append(sp.label)
    (folder / CONF_FILE).write_text(annotation_conf(labels), encoding="utf-8")


# -- import --------------------------------------------------------------------------------


def _read_text(path: Path, name: str) -> tuple[str, list[int]]:
    """The ``.txt`` text with BOM and CRLF dropped, and the raw offsets of dropped characters."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailure(name, f"cannot read: {exc.strerror}") from None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFailure(name, foreign_bom(data) or f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from None
    dropped = [0] if raw.startswith("\ufeff") else []
    dropped += [m.start() for m in re.finditer("\r\n", raw)]
    text = raw[1:] if raw.startswith("\ufeff") else raw
    return text.replace("\r\n", "\n"), dropped


def read_brat(path: Path, name: str) -> Iterator[Record]:
    """Read one brat pair; ``path`` may be the ``.txt`` or the ``.ann``."""
    txt, ann = path.with_suffix(".txt"), path.with_suffix(".ann")
    txt_name, ann_name = str(Path(name).with_suffix(".txt")), str(Path(name).with_suffix(".ann"))
    if not ann.is_file():
        raise ImportFailure(ann_name, "no .ann file beside the .txt (brat needs both)")
    if not txt.is_file():
        raise ImportFailure(txt_name, "no .txt file beside the .ann (brat needs both)")
    text, dropped = _read_text(txt, txt_name)

    def shift(offset: int) -> int:
        return offset - bisect_left(dropped, offset)

    spans: list[RecordSpan] = []
    warnings: list[str] = []
    skipped = 0
    try:
        ann_bytes = ann.read_bytes()
    except OSError as exc:
        raise ImportFailure(ann_name, f"cannot read: {exc.strerror}") from None
    for lineno, raw in enumerate(ann_bytes.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            why = (lineno == 1 and foreign_bom(raw)) or f"invalid UTF-8 at column {exc.start + 1}: {exc.reason}"
            raise ImportFailure(ann_name, why, lineno) from None
        if lineno == 1:
            line = line.lstrip("\ufeff")
        if not line.strip():
            continue
        fields = line.split("\t")
        ident = fields[0].strip()
        if _OTHER.match(ident):
            skipped += 1
            continue
        if not _TEXT_BOUND.match(ident) or len(fields) < 2:
            raise ImportFailure(ann_name, f"not a brat annotation line: {line[:60]!r}", lineno)
        label, _, ranges = fields[1].strip().partition(" ")
        if not label or (label.isascii() and label.isdigit()):
            raise ImportFailure(
                ann_name, f"{ident} has no entity type: expected \"TYPE start end\", got {fields[1].strip()[:60]!r}",
                lineno,
            )
        if not valid_label_name(label):
            raise ImportFailure(ann_name, f"{ident} has an invalid label {label_repr(label)}", lineno)
        fragments = []
        for part in ranges.split(";"):
            bits = part.split()
            if len(bits) != 2 or not all(b.isascii() and b.isdigit() and len(b) <= 18 for b in bits):
                raise ImportFailure(ann_name, f"{ident}: expected \"start end\" offsets, got {part.strip()!r}", lineno)
            start, end = shift(int(bits[0])), shift(int(bits[1]))
            if not 0 <= start < end <= len(text):
                raise ImportFailure(
                    ann_name, f"{ident}: offsets {bits[0]}-{bits[1]} are empty or outside the text"
                    f" ({len(text)} characters)", lineno,
                )
            fragments.append((start, end))
        given = fields[2] if len(fields) > 2 else None
        if len(fragments) > 1:
            warnings.append(f"line {lineno} of the .ann: discontinuous entity {ident} imported as {len(fragments)} spans")
            given = None
        for start, end in fragments:
            actual = text[start:end]
            spans.append(RecordSpan(
                start, end, label, None, None if given in (None, _column(actual)) else given,
                where=(ann_name, lineno, ident),
            ))
    if skipped:
        warnings.append(f"skipped {skipped} relation, event, attribute or note line(s): not entities")
    yield Record(text=text, line=None, spans=spans, meta={"format": "brat"}, warnings=warnings, annotated=True)


def sniff_brat(path: Path) -> str | None:
    """``"brat"`` for a ``.txt`` with a ``.ann`` of the same name beside it."""
    if path.suffix.lower() == ".txt" and path.with_suffix(".ann").is_file():
        return "brat"
    return None
