"""JSONL in Prodigy's ``db-out`` layout, one record per (document, annotator).

Each line::

    {"text": ..., "meta": {"id", "source", "lang", "title", "status", ...},
     "_input_hash": int, "_task_hash": int,
     "tokens": [{"text", "start", "end", "id", "ws"}, ...],
     "spans": [{"start", "end", "token_start", "token_end", "label", "text"}, ...],
     "suggestions": [... same keys + "source", "score"],   # only with include_suggestions
     "_view_id": "ner_manual", "answer": "accept" | "ignore" | "reject",
     "_timestamp": int, "_annotator_id": str}

* ``spans`` are the accepted spans only, so Prodigy and spaCy (``data-to-spacy``) train on
  them unchanged. Pending suggestions, when asked for, go under their own ``suggestions``
  key with ``source`` (the recogniser that made them) and ``score``; Prodigy ignores keys it
  does not know.
* ``answer`` is ``accept`` for documents marked done and ``ignore`` (Prodigy's "skip") for
  skipped documents; a document imported with ``reject`` and not changed since writes
  ``reject`` again. Documents still to do (only with ``--status any``) are also written as
  ``ignore`` so no consumer trains on unfinished work; ``meta.status`` keeps the real
  status (``done``, ``skipped`` or ``todo``) and the importer restores it.
* An example imported from a Prodigy file and not edited since (same status, same spans)
  gets its own ``_input_hash``, ``_task_hash``, ``_timestamp``, ``_annotator_id``,
  ``_session_id`` and ``_view_id`` back unchanged, so Prodigy's dedup and ``--exclude``
  recognise it. New or edited examples get fresh ones:
* ``_input_hash`` is a signed 32-bit integer (like Prodigy's) taken from the BLAKE2b
  digest of the text; ``_task_hash`` from the digest of the input hash and the sorted
  ``(start, end, label)`` of the accepted spans. Both are stable across runs and machines;
  they are not bit-identical to Prodigy's own (which hashes with MurmurHash).
* ``meta`` also carries the document's own metadata from its import (Prodigy bookkeeping
  keys such as ``_input_hash`` or ``answer`` left out) and its ``line`` in the source file;
  ``meta.source`` is the record's own ``source`` when it came with one (Prodigy's meta shows
  it), else the file the document was imported from.
* ``_timestamp`` is the Unix time (seconds) of the annotator's last change to the document.
* Reading: the importer's ``.jsonl`` reader takes this layout back (``answer`` ``accept``
  -> done with or without spans, ``reject``/``ignore`` -> skipped, ``meta.status`` todo ->
  todo; ``_annotator_id`` is whose annotation it is; span ``text`` disagreeing with the
  offsets -> offsets win and the mismatch is counted).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, BinaryIO, Iterable

from ..importer import example_fingerprint
from ..tokenize_prodigy import input_hash, tokens_json
from .export import ExportItem, ExportSpan, ExportStats, clean_meta, span_tokens

__all__ = ["ANSWERS", "input_hash", "task_hash", "prodigy_bytes", "prodigy_line", "prodigy_record", "write_jsonl"]

#: Our status -> Prodigy's answer.
ANSWERS = {"done": "accept", "skipped": "ignore", "todo": "ignore"}

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def task_hash(in_hash: int, spans: Iterable[tuple[int, int, str]]) -> int:
    """Stable signed 32-bit hash of the input hash and the accepted spans (``_task_hash``)."""
    return input_hash(f"{in_hash}|" + "|".join(f"{s},{e},{label}" for s, e, label in sorted(spans)))


def _timestamp(updated: str) -> int:
    if not updated:
        return 0
    try:
        return int(datetime.fromisoformat(updated).timestamp())
    except ValueError:
        return 0


def _meta(item: ExportItem) -> dict[str, Any]:
    meta = clean_meta(item.meta)
    own = meta.get("source")  # a Prodigy record's own meta.source (a news site, a feed) is kept
    meta.update(id=item.doc_id, source=own if isinstance(own, str) and own else item.source,
                lang=item.lang, title=item.title, status=item.status)
    if item.line is not None:
        meta["line"] = item.line
    return meta


_PLAIN_META = '{"id":%d,"source":%s,"lang":%s,"title":%s,"status":%s'
_SPAN = '{"start":%d,"end":%d,"token_start":%d,"token_end":%d,"label":%s,"text":%s'
#: The tokens list as JSON (moved beside the token cache it is stored in; kept here by its old name).
_tokens_json = tokens_json


def _spans_json(item: ExportItem, spans: list[ExportSpan], stats: ExportStats, suggestion: bool) -> str:
    tokens = item.tokens
    top = len(tokens) - 1
    parts = []
    for sp in spans:
        # iter_items put every span on token boundaries (its misaligned policy), so
        # token_start/token_end match the offsets; the clamp only guards a span on no token.
        first, last, _aligned = span_tokens(tokens, sp.start, sp.end)
        first = min(first, max(top, 0))
        last = max(min(last, top), first)
        body = _SPAN % (
            sp.start, sp.end, first, last, encode_basestring(sp.label),
            encode_basestring(item.text[sp.start:sp.end]),
        )
        if suggestion:
            body += ',"source":%s,"score":%s' % (
                encode_basestring(sp.origin), "null" if sp.score is None or not math.isfinite(sp.score) else repr(float(sp.score))
            )
        parts.append(body + "}")
    return "[" + ",".join(parts) + "]"


def _as_imported(item: ExportItem) -> tuple[str | None, dict[str, Any]] | None:
    """``(answer, Prodigy keys)`` of a record as imported, if it is unchanged since (else None)."""
    if item.imported is None:
        return None
    answer, fingerprint, keys = item.imported
    if example_fingerprint(item.status, [(sp.start, sp.end, sp.label) for sp in item.spans]) != fingerprint:
        return None
    try:
        prodigy = json.loads(keys)
    except ValueError:
        return None
    return answer, prodigy if isinstance(prodigy, dict) else {}


def prodigy_line(item: ExportItem, stats: ExportStats) -> str:
    """One record as a JSON line (no newline); counts spans into ``stats``."""
    return prodigy_bytes(item, stats).decode("utf-8", "surrogatepass")


def prodigy_bytes(item: ExportItem, stats: ExportStats) -> bytes:
    """One record as a UTF-8 JSON line (no newline); counts spans into ``stats``.

    The document's own parts (its text, ``_input_hash`` and ``tokens``) come from the token
    cache as stored bytes when the export read them (``item.prodigy``), else are made here;
    the line is the same either way.
    """
    kept = _as_imported(item)
    prodigy = kept[1] if kept else {}
    in_hash = prodigy.get("_input_hash")
    t_hash = prodigy.get("_task_hash")
    cached = item.prodigy
    if cached is not None:
        doc_hash, quoted, tokens = cached
    else:
        doc_hash = None
        quoted = encode_basestring(item.text).encode("utf-8", "surrogatepass")
        tokens = _tokens_json(item.text, item.tokens.starts, item.tokens.ends).encode("utf-8", "surrogatepass")
    if not _int(in_hash) or not _int(t_hash):
        in_hash = doc_hash if doc_hash is not None else input_hash(item.text)
        t_hash = task_hash(in_hash, [(sp.start, sp.end, sp.label) for sp in item.spans])
    stats.spans += len(item.spans)
    if item.meta:
        meta = _encode(_meta(item))
    else:  # no metadata of its own (the usual case): what _meta gives, without a dict and the encoder
        meta = _PLAIN_META % (
            item.doc_id, encode_basestring(item.source), encode_basestring(item.lang),
            encode_basestring(item.title), encode_basestring(item.status),
        ) + ("}" if item.line is None else f',"line":{int(item.line)}}}')
    middle = f',"meta":{meta},"_input_hash":{in_hash},"_task_hash":{t_hash},"tokens":'
    tail = f',"spans":{_spans_json(item, item.spans, stats, False)}'
    if item.suggestions:
        tail += f',"suggestions":{_spans_json(item, item.suggestions, stats, True)}'
        stats.suggestions += len(item.suggestions)
    answer = kept[0] if kept and kept[0] in _ANSWERS_BACK.get(item.status, ()) else ANSWERS.get(item.status, "ignore")
    view = prodigy.get("_view_id") if isinstance(prodigy.get("_view_id"), str) else "ner_manual"
    stamp = prodigy.get("_timestamp") if _int(prodigy.get("_timestamp")) else _timestamp(item.updated)
    who = prodigy.get("_annotator_id") if isinstance(prodigy.get("_annotator_id"), str) else item.annotator
    tail = (
        f'{tail},"_view_id":{encode_basestring(view)},"answer":"{answer}",'
        f'"_timestamp":{stamp},"_annotator_id":{encode_basestring(who)}'
    )
    if isinstance(prodigy.get("_session_id"), str):
        tail += f',"_session_id":{encode_basestring(prodigy["_session_id"])}'
    return b"".join((
        b'{"text":', quoted, middle.encode("utf-8", "surrogatepass"), tokens,
        tail.encode("utf-8", "surrogatepass"), b"}",
    ))


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: The imported answers a status may write back (a rejected example is skipped here).
_ANSWERS_BACK = {"done": ("accept",), "skipped": ("reject", "ignore")}


def prodigy_record(item: ExportItem, stats: ExportStats | None = None) -> dict[str, Any]:
    """One record as a dict (for callers that want objects rather than lines)."""
    return json.loads(prodigy_line(item, stats or ExportStats()))


def write_jsonl(items: Iterable[ExportItem], out: BinaryIO, stats: ExportStats) -> None:
    """Write records as UTF-8 JSON lines to a binary stream."""
    last_doc = None
    chunk: list[bytes] = []
    size = 0
    for item in items:
        line = prodigy_bytes(item, stats)
        chunk.append(line)
        chunk.append(b"\n")
        size += len(line)
        stats.records += 1
        if item.doc_id != last_doc:
            stats.documents += 1
            last_doc = item.doc_id
        if size >= _WRITE_CHUNK:
            out.write(b"".join(chunk))
            chunk.clear()
            size = 0
    if chunk:
        out.write(b"".join(chunk))


#: Bytes of JSON lines gathered before each write.
_WRITE_CHUNK = 1 << 20
