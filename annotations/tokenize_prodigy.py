"""A document's part of a Prodigy JSONL line, serialised once and cached (issue 11: export speed).

What a JSONL record writes about its document alone — the text as a JSON string, its
``_input_hash`` and the ``tokens`` list — does not change between exports, while the
annotator's spans, status and answer do. :func:`cache_entry` serialises those parts once
(the first export, in the tokenising process beside the tokens themselves); the token
cache keeps them (``doc_tokens.prodigy``), and every later export assembles its lines from
the stored bytes. Layout of an entry::

    crc32(offsets) : 4 bytes   the token blob it was made from (a stale entry is never used)
    _input_hash    : 4 bytes   signed, big-endian
    n              : 4 bytes   length of the text's JSON
    text JSON      : n bytes   UTF-8 (lone surrogates passed through, as the export writes them)
    tokens JSON    : the rest  UTF-8, ``[{"text","start","end","id","ws"}, ...]``

This file imports nothing of the ``annotations`` package, so the tokenising process loads
it by path (see :mod:`annotations.tokenize_worker`).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from array import array
from itertools import repeat
from json.encoder import encode_basestring
from typing import Any, Sequence

__all__ = ["cache_entry", "entry_parts", "input_hash", "tokens_json"]

_HEAD = 12


def input_hash(text: str) -> int:
    """Stable signed 32-bit hash of a text (``_input_hash``): the BLAKE2b digest of its UTF-8."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


#: Characters JSON must escape; texts without them are quoted as they are (the fast path).
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_WS = ("false", "true")
#: Documents with more tokens than this build their format string each time instead of caching it.
_CACHED_TOKENS = 50_000


class _TokenFormat:
    """The ``%`` format string of a ``tokens`` list of ``n`` entries, ids written in.

    One ``%`` call per document then formats every token (in C); the format for ``n``
    tokens is a prefix of one cached string, grown as needed.
    """

    def __init__(self, entry: str) -> None:
        self.entry = entry
        self.text = ""
        self.ends = [0]

    def __call__(self, n: int) -> str:
        if n >= len(self.ends):
            if n > _CACHED_TOKENS:
                return "".join([self.entry % i for i in range(n)])
            have = len(self.ends) - 1
            more = [self.entry % i for i in range(have, max(n, 2 * have, 512))]
            pos = self.ends[-1]
            for part in more:
                pos += len(part)
                self.ends.append(pos)
            self.text += "".join(more)
        return self.text[: self.ends[n]]


_PLAIN_FORMAT = _TokenFormat('{"text":"%%s","start":%%d,"end":%%d,"id":%d,"ws":%%s},')
_QUOTED_FORMAT = _TokenFormat('{"text":%%s,"start":%%d,"end":%%d,"id":%d,"ws":%%s},')


def tokens_json(text: str, starts: Sequence[int], ends: Sequence[int]) -> str:
    """The ``tokens`` list as JSON text: one ``%`` over a cached format string per document."""
    n = len(starts)
    if not n:
        return "[]"
    first, last = list(starts), list(ends)
    pieces = map(text.__getitem__, map(slice, first, last))
    if _NEEDS_ESCAPE.search(text) is None:
        fmt = _PLAIN_FORMAT(n)
    else:
        fmt = _QUOTED_FORMAT(n)
        pieces = map(encode_basestring, pieces)
    args: list[Any] = [None] * (4 * n)
    args[0::4] = pieces
    args[1::4] = first
    args[2::4] = last
    args[3::4] = map(_WS.__getitem__, map(text.startswith, repeat(" "), last))
    return "[" + (fmt % tuple(args))[:-1] + "]"


def cache_entry(text: str, offsets: bytes) -> bytes:
    """The cached JSONL parts of a document with the token blob ``offsets`` (``Tokens.to_bytes``)."""
    packed = array("l")
    packed.frombytes(offsets)
    quoted = encode_basestring(text).encode("utf-8", "surrogatepass")
    tokens = tokens_json(text, packed[0::2], packed[1::2]).encode("utf-8", "surrogatepass")
    head = (
        zlib.crc32(offsets).to_bytes(4, "big")
        + input_hash(text).to_bytes(4, "big", signed=True)
        + len(quoted).to_bytes(4, "big")
    )
    return b"".join((head, quoted, tokens))


def entry_parts(entry: bytes | None, offsets: bytes) -> tuple[int, memoryview, memoryview] | None:
    """``(input hash, text JSON, tokens JSON)`` of a cached entry made from ``offsets``; None
    if there is none, or it was made from other tokens (the cache was rewritten since)."""
    if not entry or len(entry) < _HEAD or zlib.crc32(offsets) != int.from_bytes(entry[:4], "big"):
        return None
    view = memoryview(entry)
    n = int.from_bytes(entry[8:12], "big")
    return int.from_bytes(entry[4:8], "big", signed=True), view[_HEAD:_HEAD + n], view[_HEAD + n:]
