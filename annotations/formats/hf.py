"""Hugging Face token classification: JSON lines plus ``<stem>.labels.json``.

Export writes one line per (document, annotator)::

    {"id": "12/aida", "doc_id": 12, "annotator": "aida", "status": "done",
     "tokens": ["Садыр", "Жапаров", ...], "ner_tags": [1, 2, ...]}

and, beside the data file, ``<stem>.labels.json`` (``train.jsonl`` -> ``train.labels.json``,
so two exports into one folder never overwrite each other's names): the tag names as a
JSON list, index = tag id
(``["O", "B-PER", "I-PER", "B-LOC", ...]``, the store's labels in key order, B- then I-),
which is what ``datasets.ClassLabel(names=...)`` and a model's ``id2label`` take. The tag
set depends only on the label set (and ``--label``), so train and test files exported from
one database share it. Tags are IOB2. Whitespace-only tokens are not written. Each record
is a whole document (no sentence split): chunk to your model's length when you tokenise.

Import reads the same layout: ``tokens`` (strings) and ``ner_tags`` (ids, named by the
``<stem>.labels.json`` beside the file, else a ``labels.json`` in the same folder, or tag
strings); ``annotator`` and ``status`` are honoured when present. The text is rebuilt from the tokens
joined by single spaces and the tokens are kept as given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..importer import ImportFailure, Record, RecordSpan, iter_json_lines
from .export import ExportItem, ExportStats, token_tags, written_tokens
from .iob import TagError, TagReader

__all__ = [
    "LABELS_FILE", "hf_record", "labels_path", "load_names", "read_hf", "sniff_hf", "write_hf", "write_labels",
]

#: The folder-wide tag names file other tools write; ours is :func:`labels_path`.
LABELS_FILE = "labels.json"


def labels_path(data: Path) -> Path:
    """The tag names file of one data file: ``train.jsonl`` -> ``train.labels.json``."""
    return data.with_name(f"{data.stem}.labels.json")


def hf_record(item: ExportItem, index: dict[str, int], stats: ExportStats) -> dict[str, Any]:
    """One record as a dict; counts spans into ``stats``."""
    keep = written_tokens(item.text, item.tokens)
    tags = token_tags(item, keep, stats)
    starts, ends = item.tokens.starts, item.tokens.ends
    return {
        "id": f"{item.doc_id}/{item.annotator}",
        "doc_id": item.doc_id,
        "annotator": item.annotator,
        "status": item.status,
        "tokens": [item.text[starts[i]:ends[i]] for i in keep],
        "ner_tags": [index[t] for t in tags],
    }


def write_labels(path: Path, names: list[str]) -> None:
    path.write_text(json.dumps(names, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_hf(items: Iterable[ExportItem], out: BinaryIO, names: list[str], stats: ExportStats) -> None:
    """Write records as JSON lines; ``names`` is the tag set (see :func:`iob.tag_names`)."""
    index = {name: i for i, name in enumerate(names)}
    last_doc = None
    for item in items:
        rec = hf_record(item, index, stats)
        out.write(json.dumps(rec, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n")
        stats.records += 1
        if item.doc_id != last_doc:
            stats.documents += 1
            last_doc = item.doc_id


def load_names(path: Path, name: str) -> list[str] | None:
    """Tag names from ``<stem>.labels.json`` (else ``labels.json``) beside ``path``: a list, or ``{"names": [...]}`` / ``{"id2label": {...}}``."""
    labels = labels_path(path)
    where = str(Path(name).with_name(labels.name))
    if not labels.is_file():
        labels = path.parent / LABELS_FILE
        where = str(Path(name).parent / LABELS_FILE)
    if not labels.is_file():
        return None
    try:
        data = json.loads(labels.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ImportFailure(where, f"cannot read the tag names: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("names"), list):
        data = data["names"]
    elif isinstance(data, dict) and isinstance(data.get("id2label"), dict):
        mapping = data["id2label"]
        try:
            data = [mapping[str(i)] for i in range(len(mapping))]
        except KeyError:
            raise ImportFailure(where, "id2label must map 0..n-1 to tag names") from None
    if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
        raise ImportFailure(where, "expected a JSON list of tag names")
    return data


def read_hf(path: Path, name: str) -> Iterator[Record]:
    """Read token-classification JSON lines into records."""
    names = load_names(path, name)
    for lineno, obj in iter_json_lines(path, name):
        yield _record(obj, names, name, lineno)


def _record(obj: Any, names: list[str] | None, name: str, lineno: int) -> Record:
    if not isinstance(obj, dict):
        raise ImportFailure(name, f"expected a JSON object, got {type(obj).__name__}", lineno)
    tokens, tags = obj.get("tokens"), obj.get("ner_tags")
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
        raise ImportFailure(name, "\"tokens\" must be a list of non-empty strings", lineno)
    if not isinstance(tags, list) or len(tags) != len(tokens):
        raise ImportFailure(name, "\"ner_tags\" must be a list as long as \"tokens\"", lineno)
    reader = TagReader()
    named: list[str] = []
    for i, tag in enumerate(tags):
        if isinstance(tag, int) and not isinstance(tag, bool):
            if names is None:
                raise ImportFailure(
                    name, f"\"ner_tags\" are ids but there is no {labels_path(Path(name)).name} or {LABELS_FILE}"
                    " beside the file", lineno,
                )
            if not 0 <= tag < len(names):
                raise ImportFailure(name, f"tag id {tag} (token {i + 1}) is not in {LABELS_FILE}", lineno)
            tag = names[tag]
        if not isinstance(tag, str):
            raise ImportFailure(name, f"tag of token {i + 1} is neither an id nor a string", lineno)
        named.append(tag)
        try:
            reader.add(i, tag)
        except TagError as exc:
            raise ImportFailure(name, f"token {i + 1}: {exc}", lineno) from None
    reader.close()
    offsets: list[tuple[int, int]] = []
    pos = 0
    for tok in tokens:
        offsets.append((pos, pos + len(tok)))
        pos += len(tok) + 1
    spans = [RecordSpan(offsets[a][0], offsets[b][1], label) for a, b, label in reader.spans]
    warnings = [
        f"line {lineno}: token {i + 1} starts an entity with {named[i]}; read as B-{named[i][2:]}"
        for i in reader.loose_starts
    ]
    meta = {"format": "hf"}
    if obj.get("id") is not None:
        meta["hf_id"] = obj["id"]
    who = obj.get("annotator") if isinstance(obj.get("annotator"), str) and obj.get("annotator") else None
    status = obj.get("status") if obj.get("status") in ("done", "skipped", "todo") else None
    return Record(
        text=" ".join(tokens), line=lineno, spans=spans, tokens=offsets, meta=meta, warnings=warnings,
        annotated=True, annotator=who, status=status,
    )


def sniff_hf(path: Path) -> str | None:
    """``"hf"`` if a ``.jsonl``/``.json`` file's first record has ``tokens`` and ``ner_tags`` and no ``text``."""
    if path.suffix.lower() not in (".jsonl", ".json"):
        return None
    try:
        with path.open("rb") as fh:
            first = fh.readline(1 << 20)
    except OSError:
        return None
    try:
        obj = json.loads(first.decode("utf-8").lstrip("\ufeff"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    if isinstance(obj, dict) and "ner_tags" in obj and "tokens" in obj and "text" not in obj:
        return "hf"
    return None
