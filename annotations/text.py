"""Text handling shared by import, store and formats: decoding, titles, language, boundaries.

Everything here is pure and cheap: no spaCy, no database.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, Mapping

__all__ = [
    "DecodeError",
    "decode",
    "foreign_bom",
    "normalise_newlines",
    "title_of",
    "detect_language",
    "content_hash",
    "is_grapheme_boundary",
    "LANGUAGES",
    "inert",
]

#: Language codes a document can carry. ``xx`` is spaCy's code for "other / multi-language".
LANGUAGES = ("ky", "ru", "xx")

_KY_ONLY = frozenset("ңөүҢӨҮ")
#: Letters of Kazakh (and other Turkic Cyrillic alphabets) that Kyrgyz does not use.
_OTHER_TURKIC = frozenset("әғқұһіӘҒҚҰҺІ")

TITLE_MAX = 200


class DecodeError(ValueError):
    """Bytes that are not valid UTF-8; ``offset`` is the byte offset of the first bad byte."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def normalise_newlines(text: str) -> str:
    """Turn CRLF into LF (lone CR is kept: it is data, shown inert by the TUI)."""
    return text.replace("\r\n", "\n")


#: Byte-order marks of encodings other than UTF-8 (UTF-32 first: its little-endian mark
#: starts with UTF-16's).
_FOREIGN_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)", "UTF-32"),
    (b"\xff\xfe", "UTF-16 (little-endian)", "UTF-16"),
    (b"\xfe\xff", "UTF-16 (big-endian)", "UTF-16"),
)


def foreign_bom(head: bytes) -> str | None:
    """Why a file starting with ``head`` is refused, if it starts with a UTF-16/32 byte-order mark.

    Such files are refused rather than decoded: every reader takes UTF-8 (line-based
    formats split on the byte ``\\n``, which UTF-16 does not keep whole), so the message
    says how to convert the file instead.
    """
    for bom, name, codec in _FOREIGN_BOMS:
        if head.startswith(bom):
            return (
                f"not UTF-8: the file starts with a {name} byte-order mark at byte 0;"
                f" convert it to UTF-8 first (e.g. iconv -f {codec} -t UTF-8)"
            )
    return None


def decode(data: bytes) -> str:
    """Decode UTF-8 bytes as a document: drop a BOM, turn CRLF into LF.

    Raises :class:`DecodeError` with the byte offset of the first invalid byte (and says so
    when the bytes are UTF-16/32 or look binary: NUL bytes near a byte that is not UTF-8).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        shift = 3
    else:
        shift = 0
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = (shift == 0 and foreign_bom(data)) or f"invalid UTF-8 at byte {exc.start + shift}: {exc.reason}"
        if b"\x00" in data[:8192] and not message.startswith("not UTF-8"):
            message += " (this looks like a binary file, not text)"
        raise DecodeError(message, exc.start + shift) from None
    return normalise_newlines(text)


#: A leading date, with an optional "date"/"дата" word and time: "date 2025-08-15",
#: "15.08.2025 14:30", "2025-08-15T10:00:00".
_LEADING_DATE = re.compile(
    r"\A(?:(?:date|дата|датасы|күнү)\s*:?\s*)?"
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"(?=\s|$)\s*",
    re.IGNORECASE,
)
#: Words that open the navigation text a scraper keeps above an article.
_CHROME_START = re.compile(
    r"(?:site icon|site logo|logo|skip to|menu|home|share|search|главная|меню|поиск|поделиться"
    r"|башкы бет|издөө|бөлүшүү)\b",
    re.IGNORECASE,
)
#: A web address or a bare domain name ("Reporter.kg", "www.24.kg", "https://...").
_DOMAIN = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:kg|ru|kz|uz|tj|com|org|net|info|media|news)\b",
                     re.IGNORECASE)
#: Site chrome is short: a line of more words than this is taken as text.
CHROME_MAX_WORDS = 5


def _is_chrome(line: str) -> bool:
    """A short line of site navigation, a web address or no letters at all."""
    if not any(ch.isalpha() for ch in line):
        return True
    if len(line.split(None, CHROME_MAX_WORDS)) > CHROME_MAX_WORDS:  # not every word of a long line
        return False
    return bool(_CHROME_START.match(line) or _DOMAIN.search(line))


def title_of(text: str, meta: Mapping[str, Any] | None = None) -> str:
    """A document's title, cut to 200 characters; the text itself is never changed.

    The source's own ``title`` (a string in ``meta``) if it has one; else the first line
    that is not scraper residue: a leading date ("date 2025-08-15 ...") is dropped from
    the line, and short site-chrome lines ("Site icon Reporter.kg", a bare web address, a
    line without letters) are skipped. If every line is residue, the first non-empty one.
    """
    given = meta.get("title") if meta else None
    if isinstance(given, str) and given.strip():
        return " ".join(given.split())[:TITLE_MAX]
    first = ""
    for line in text.split("\n", 30)[:30]:
        line = line.strip()
        if not line:
            continue
        first = first or line
        rest = _LEADING_DATE.sub("", line, count=1) if line[:1].isdigit() or line[:1].isalpha() else line
        if not rest or _is_chrome(rest):
            continue
        return rest[:TITLE_MAX]
    return first[:TITLE_MAX]


def detect_language(text: str) -> str:
    """Guess ``ky``, ``ru`` or ``xx`` (other) from the letters of ``text``.

    The rule (documented in the README):

    1. Look at letters only. If fewer than 30 % of them are Cyrillic, the document is ``xx``.
    2. Kyrgyz writes ң, ө and ү; Russian never does. If they make up at least 1 % of the
       Cyrillic letters, the document is ``ky`` (Russian news that quotes a Kyrgyz name stays
       far below 1 %; Kyrgyz prose runs at 4–9 %).
    3. Letters of other Turkic Cyrillic alphabets (ә ғ қ ұ һ і) at 1 % or more make it ``xx``.
    4. Otherwise it is ``ru``.

    "Letters" are the characters for which ``str.isalpha()`` is true; "Cyrillic" is the
    Cyrillic block U+0400–U+04FF. Import calls this for every document, so the counting is
    done with C-speed byte operations on the UTF-8 encoding (same result as a per-character
    loop; ``tests/test_properties.py`` checks that against a reference loop).
    """
    data = text.encode("utf-8", "surrogatepass")
    ascii_letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    # Non-ASCII code points, one lead byte each: C0-F7 (continuation bytes are 80-BF).
    leads = data.translate(None, _ASCII_AND_CONTINUATION)
    cyrillic_block = len(leads) - len(leads.translate(None, b"\xd0\xd1\xd2\xd3"))
    others = len(leads) - cyrillic_block  # non-ASCII, non-Cyrillic code points
    # The byte after each D2/D3 lead names the code point: U+0480-U+04BF / U+04C0-U+04FF.
    after_d2 = bytes(p[0] for p in data.split(b"\xd2")[1:]) if b"\xd2" in leads else b""
    after_d3 = bytes(p[0] for p in data.split(b"\xd3")[1:]) if b"\xd3" in leads else b""
    cyrillic = cyrillic_block - _count(after_d2, _D2_NON_LETTERS)
    letters = ascii_letters + cyrillic
    if others and cyrillic < 0.3 * (letters + others) and cyrillic >= 0.3 * letters:
        # Undecided by the bounds: count exactly which of the other characters are letters.
        letters += sum(sum(map(str.isalpha, run)) for run in _NOT_ASCII_OR_CYRILLIC.findall(text))
    if letters == 0 or cyrillic < 0.3 * letters:
        return "xx"
    kyrgyz = _count(after_d2, _D2_KYRGYZ) + _count(after_d3, _D3_KYRGYZ)
    other = (
        _count(after_d2, _D2_OTHER_TURKIC) + _count(after_d3, _D3_OTHER_TURKIC)
        + text.count("і") + text.count("І")
    )
    if other >= 0.01 * cyrillic and other >= kyrgyz / 4:
        return "xx"
    if kyrgyz >= 0.01 * cyrillic:
        return "ky"
    return "ru"


def _count(data: bytes, members: bytes) -> int:
    """How many bytes of ``data`` are in ``members``."""
    return len(data) - len(data.translate(None, members)) if data else 0


def _second_bytes(chars: str, lead: int) -> bytes:
    """The second UTF-8 bytes of those ``chars`` whose first byte is ``lead``."""
    return bytes(enc[1] for enc in (ch.encode() for ch in chars) if enc[0] == lead)


_ASCII_LETTERS = bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))
_ASCII_AND_CONTINUATION = bytes(range(0xC0))
#: U+0482 (a sign) and U+0483-U+0489 (combining marks): the Cyrillic block's non-letters.
_D2_NON_LETTERS = _second_bytes("".join(map(chr, range(0x482, 0x48A))), 0xD2)
_D2_KYRGYZ, _D3_KYRGYZ = _second_bytes("".join(_KY_ONLY), 0xD2), _second_bytes("".join(_KY_ONLY), 0xD3)
_D2_OTHER_TURKIC = _second_bytes("".join(_OTHER_TURKIC), 0xD2)
_D3_OTHER_TURKIC = _second_bytes("".join(_OTHER_TURKIC), 0xD3)
_NOT_ASCII_OR_CYRILLIC = re.compile("[^\x00-\x7f\u0400-\u04ff]+")
assert {ch for ch in _OTHER_TURKIC if ch.encode()[0] not in (0xD2, 0xD3)} == {"і", "І"}


#: Characters encoded at a time when hashing a long text (so a 50 MB text is not copied whole).
_HASH_CHUNK = 1 << 20


def content_hash(text: str) -> str:
    """Stable identity of a document's text (importing the same text twice adds it once).

    The SHA-256 of the text's UTF-8 bytes; long texts are encoded a slice at a time (same
    digest: UTF-8 encodes each code point on its own).
    """
    if len(text) <= _HASH_CHUNK:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    digest = hashlib.sha256()
    for at in range(0, len(text), _HASH_CHUNK):
        digest.update(text[at:at + _HASH_CHUNK].encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


_ZWJ = "\u200d"


def _extends(ch: str) -> bool:
    """True if ``ch`` attaches to the character before it (grapheme Extend / SpacingMark)."""
    if ch == _ZWJ or ch == "\u200c":
        return True
    cp = ord(ch)
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:  # variation selectors
        return True
    if 0x1F3FB <= cp <= 0x1F3FF:  # emoji skin-tone modifiers
        return True
    if 0xE0020 <= cp <= 0xE007F:  # emoji tag sequences
        return True
    return unicodedata.category(ch) in ("Mn", "Me", "Mc")


def is_grapheme_boundary(text: str, i: int) -> bool:
    """Whether offset ``i`` lies between two user-perceived characters.

    A span edge must not cut a combining sequence, a ZWJ emoji sequence, an emoji and its
    modifier, a regional-indicator flag pair or a surrogate pair.
    """
    if i <= 0 or i >= len(text):
        return True
    before, after = text[i - 1], text[i]
    if "\ud800" <= before <= "\udbff" and "\udc00" <= after <= "\udfff":
        return False
    if _extends(after) or before == _ZWJ:
        return False
    if before == "\r" and after == "\n":
        return False
    if _is_regional(before) and _is_regional(after):
        # Flags pair up from the start of a run of regional indicators.
        run = 0
        j = i - 1
        while j >= 0 and _is_regional(text[j]):
            run += 1
            j -= 1
        return run % 2 == 0
    return True


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _inert_char(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x20:
        return chr(0x2400 + cp)  # control pictures: ␀ … ␟ (␛ for ESC)
    if cp == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= cp <= 0x9F or ch in _BIDI:
        return "\ufffd"
    return ch


_INERT_TABLE = {cp: _inert_char(chr(cp)) for cp in [*range(0x20), 0x7F, *range(0x80, 0xA0), *map(ord, _BIDI)]}
_INERT_KEEP_NL = {k: v for k, v in _INERT_TABLE.items() if k != 0x0A}


def inert(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters, escapes and bidi overrides made visible and harmless.

    One code point in, one code point out, so offsets into the result equal offsets into
    ``text``: C0 controls become their Control Pictures (ESC shows as ␛), DEL as ␡, C1
    controls and bidi overrides as �. Nothing of the result can move the terminal's cursor,
    change its colours or reorder its text.
    """
    return text.translate(_INERT_KEEP_NL if keep_newlines else _INERT_TABLE)
