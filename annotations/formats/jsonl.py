"""JSONL in Prodigy's ``db-out`` layout, one record per (document, annotator).

Each line::

    {"text": ..., "meta": {"id", "source", "lang", "title", "status", ...},
     "_input_hash": int, "_task_hash": int,
     "tokens": [{"text", "start", "end", "id", "ws"}, ...],
     "spans": [{"start", "end", "token_start", "token_end", "label", "text"}, ...],
     "suggestions": [... same keys + "source", "score"],   # only with include_suggestions
     "_view_id": "ner_manual", "answer": "accept" | "ignore",
     "_timestamp": int, "_annotator_id": str}

* ``spans`` are the accepted spans only, so Prodigy and spaCy (``data-to-spacy``) train on
  them unchanged. Pending suggestions, when asked for, go under their own ``suggestions``
  key with ``source`` (the recogniser that made them) and ``score``; Prodigy ignores keys it
  does not know.
* ``answer`` is ``accept`` for documents marked done and ``ignore`` (Prodigy's "skip") for
  skipped documents. Documents still to do (only with ``--status any``) are also written as
  ``ignore`` so no consumer trains on unfinished work; ``meta.status`` keeps the real
  status (``done``, ``skipped`` or ``todo``) and the importer restores it.
* ``_input_hash`` is a signed 32-bit integer (like Prodigy's) taken from the BLAKE2b
  digest of the text; ``_task_hash`` from the digest of the input hash and the sorted
  ``(start, end, label)`` of the accepted spans. Both are stable across runs and machines;
  they are not bit-identical to Prodigy's own (which hashes with MurmurHash).
* ``_timestamp`` is the Unix time (seconds) of the annotator's last change to the document.
* Reading: the importer's ``.jsonl`` reader takes this layout back (rows without
  ``spans``, ``answer`` ``reject``/``ignore`` -> skipped, span ``text`` disagreeing with the
  offsets -> offsets win and the mismatch is counted).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, BinaryIO, Iterable

from .export import ExportItem, ExportSpan, ExportStats, span_tokens

__all__ = ["ANSWERS", "input_hash", "task_hash", "prodigy_line", "prodigy_record", "write_jsonl"]

#: Our status -> Prodigy's answer.
ANSWERS = {"done": "accept", "skipped": "ignore", "todo": "ignore"}

#: Keys the importer folds into ``meta`` from a Prodigy row; not written back into ``meta``.
_BOOKKEEPING = frozenset({"answer", "suggestions", "spans", "tokens", "text", "meta"})

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_TOKEN = '{"text":%s,"start":%d,"end":%d,"id":%d,"ws":%s}'


def _hash32(data: str) -> int:
    digest = hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def input_hash(text: str) -> int:
    """Stable signed 32-bit hash of a text (``_input_hash``)."""
    return _hash32(text)


def task_hash(in_hash: int, spans: Iterable[tuple[int, int, str]]) -> int:
    """Stable signed 32-bit hash of the input hash and the accepted spans (``_task_hash``)."""
    return _hash32(json.dumps([in_hash, sorted([list(s) for s in spans])], ensure_ascii=False))


def _timestamp(updated: str) -> int:
    if not updated:
        return 0
    try:
        return int(datetime.fromisoformat(updated).timestamp())
    except ValueError:
        return 0


def _meta(item: ExportItem) -> dict[str, Any]:
    meta = {k: v for k, v in item.meta.items() if not k.startswith("_") and k not in _BOOKKEEPING}
    meta.update(id=item.doc_id, source=item.source, lang=item.lang, title=item.title, status=item.status)
    if item.line is not None:
        meta["line"] = item.line
    return meta


def _span_dict(item: ExportItem, sp: ExportSpan, stats: ExportStats, suggestion: bool) -> dict[str, Any]:
    first, last, aligned = span_tokens(item.tokens, sp.start, sp.end)
    if not aligned:
        stats.misaligned += 1
        top = max(len(item.tokens) - 1, 0)
        first, last = min(first, top), max(min(last, top), min(first, top))
    out: dict[str, Any] = {
        "start": sp.start,
        "end": sp.end,
        "token_start": first,
        "token_end": last,
        "label": sp.label,
        "text": item.text[sp.start:sp.end],
    }
    if suggestion:
        out["source"] = sp.origin
        out["score"] = sp.score
    return out


def _tokens_json(item: ExportItem) -> str:
    text = item.text
    starts, ends = item.tokens.starts, item.tokens.ends
    ws = ["true" if text[e:e + 1] == " " else "false" for e in ends]
    words = [encode_basestring(text[s:e]) for s, e in zip(starts, ends)]
    return "[" + ",".join([_TOKEN % t for t in zip(words, starts, ends, range(len(starts)), ws)]) + "]"


def prodigy_line(item: ExportItem, stats: ExportStats) -> str:
    """One record as a JSON line (no newline); counts spans into ``stats``."""
    in_hash = input_hash(item.text)
    spans = [_span_dict(item, sp, stats, False) for sp in item.spans]
    t_hash = task_hash(in_hash, ((sp.start, sp.end, sp.label) for sp in item.spans))
    stats.spans += len(spans)
    head = _encode({"text": item.text, "meta": _meta(item), "_input_hash": in_hash, "_task_hash": t_hash})
    tail: dict[str, Any] = {"spans": spans}
    if item.suggestions:
        tail["suggestions"] = [_span_dict(item, sp, stats, True) for sp in item.suggestions]
        stats.suggestions += len(item.suggestions)
    tail.update(
        _view_id="ner_manual",
        answer=ANSWERS.get(item.status, "ignore"),
        _timestamp=_timestamp(item.updated),
        _annotator_id=item.annotator,
    )
    return head[:-1] + ',"tokens":' + _tokens_json(item) + "," + _encode(tail)[1:]


def prodigy_record(item: ExportItem, stats: ExportStats | None = None) -> dict[str, Any]:
    """One record as a dict (for callers that want objects rather than lines)."""
    return json.loads(prodigy_line(item, stats or ExportStats()))


def write_jsonl(items: Iterable[ExportItem], out: BinaryIO, stats: ExportStats) -> None:
    """Write records as UTF-8 JSON lines to a binary stream."""
    last_doc = None
    for item in items:
        out.write(prodigy_line(item, stats).encode("utf-8", "surrogatepass") + b"\n")
        stats.records += 1
        if item.doc_id != last_doc:
            stats.documents += 1
            last_doc = item.doc_id
