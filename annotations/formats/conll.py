"""CoNLL: IOB2 export, and import of IOB1 / IOB2 / BIOES files.

Export (one block per (document, annotator))::

    -DOCSTART- -X- O O
    <blank>
    token<TAB>tag        one line per token, tags in IOB2
    ...
    <blank>              after every sentence

* ``-DOCSTART- -X- O O`` is the CoNLL-2003 document line, exactly the delimiter
  ``spacy convert -c ner`` splits documents at (any other spelling it reads as a token)
  and what the CoNLL-2003 readers (Hugging Face's, seqeval users') skip.
* Whitespace-only tokens (spaCy's ``"\\n"``, ``"  "``) are not written; no other token
  holds whitespace (the store's tokens are cut at it, see ``annotations.tokenize``).
* Sentence split: a sentence ends where the text between two written tokens holds a line
  break, and after a token made only of ``. ! ? …`` (closing quotes and brackets right
  after it stay in the sentence) unless the next token starts with a lowercase letter
  (``«…болдум.» деди``) or the mark is a full stop after a lone letter (an initial,
  ``Ж. Садыров``, or an abbreviation, ``т. ч.``). A sentence never ends inside an entity,
  so every entity is whole and the tags are valid IOB2.
* Control characters in a token (C0 and C1 controls and DEL: ``ESC``, ``BEL``, ``CSI``...)
  are written as U+FFFD, so an export to a terminal cannot retitle the window or write
  the clipboard, and a file holds no escape sequences. The JSON formats escape them instead.

Import:

* One token per line, token first and tag last; the columns are separated by tabs (then a
  token may contain spaces: multi-word tokens are kept whole) or by spaces (then the column
  count of the file's first token line is the norm, and a line with more columns holds a
  token with spaces: its extra leading columns are joined into the token).
* A blank line ends a sentence. ``-DOCSTART-`` starts a document. A file whose first line
  is not ``-DOCSTART-`` holds one document per sentence.
* A line starting with ``#`` is a comment unless it is ``token<TAB>tag`` (or two
  space-separated columns ending in a tag): ``#`` is a token too.
* Tags: ``O`` and ``B-``/``I-``/``E-``/``S-`` (BIOES) or ``L-``/``U-`` (BILOU) followed by a
  label. An entity starting with ``I-`` (IOB1, or a broken IOB2 file) or ``E-`` is read as
  if it began with ``B-``; each such start is reported as a warning with its line.
* The document text is rebuilt from the tokens: single spaces between the tokens of a
  sentence, a line break between sentences. Tokens are kept exactly as given (they become
  the document's tokens), whatever spaCy would have made of the text.
* Anything else (a line without a tag, an unknown tag, bad UTF-8) stops the file with its
  line number; nothing from the file is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from ..importer import ImportFailure, Record, RecordSpan
from ..text import foreign_bom
from .export import ExportItem, ExportStats, token_tags, written_tokens
from .iob import TagError, TagReader, is_tag

__all__ = ["conll_document", "write_conll", "read_conll", "safe_token", "sniff_conll", "DOCSTART", "DOCSTART_LINE"]

DOCSTART = "-DOCSTART-"
#: The document line written: CoNLL-2003's, which ``spacy convert -c ner`` splits at.
DOCSTART_LINE = "-DOCSTART- -X- O O"
_SENTENCE_END = re.compile(r"^[.!?…]+$")
_CLOSERS = frozenset("\"'»”’“)]}›")
#: Control characters (C0, DEL, C1) -> U+FFFD in written tokens.
_UNSAFE = str.maketrans({c: "\ufffd" for c in [*range(0x20), *range(0x7F, 0xA0)]})
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def safe_token(word: str) -> str:
    """A token as written to a plain-text export: control characters replaced by U+FFFD."""
    return word.translate(_UNSAFE) if _CONTROL.search(word) else word


# -- export --------------------------------------------------------------------------------


def conll_document(item: ExportItem, stats: ExportStats) -> str:
    """One record as CoNLL text (``-DOCSTART-`` block); counts spans into ``stats``."""
    text = item.text
    starts, ends = item.tokens.starts, item.tokens.ends
    keep = written_tokens(text, item.tokens)
    tags = token_tags(item, keep, stats)
    lines = [DOCSTART_LINE, ""]
    sentence_open = False
    pending = False  # a sentence-final punctuation mark was just written
    prev_end: int | None = None
    before = ""  # the word written before the current one
    for pos, i in enumerate(keep):
        s, e = starts[i], ends[i]
        word = text[s:e]
        gap = text[prev_end:s] if prev_end is not None else ""
        closer = pending and not gap and all(c in _CLOSERS for c in word)
        ends_here = pending and not closer and not word[:1].islower()
        if ("\n" in gap or ends_here) and sentence_open and not tags[pos].startswith("I-"):
            lines.append("")
            sentence_open = False
        lines.append(f"{safe_token(word)}\t{tags[pos]}")
        sentence_open = True
        if not closer:
            # "Ж. Садыров", "т. ч.": a full stop after a lone letter is an initial or an abbreviation
            pending = bool(_SENTENCE_END.match(word)) and not (word == "." and len(before) == 1 and before.isalpha())
        before = word
        prev_end = e
    if sentence_open:
        lines.append("")
    return "\n".join(lines) + "\n"


def write_conll(items: Iterable[ExportItem], out: BinaryIO, stats: ExportStats) -> None:
    """Write records as CoNLL IOB2 (UTF-8) to a binary stream."""
    last_doc = None
    for item in items:
        out.write(conll_document(item, stats).encode("utf-8", "surrogatepass"))
        stats.records += 1
        if item.doc_id != last_doc:
            stats.documents += 1
            last_doc = item.doc_id


# -- import --------------------------------------------------------------------------------


def _comment(line: str) -> bool:
    """A ``#`` line that is not a token line (``#<TAB>O`` is the token ``#``)."""
    if not line.startswith("#"):
        return False
    if "\t" in line:
        fields = [f.strip() for f in line.split("\t")]
        fields = [f for f in fields if f] or [""]
        return not (len(fields) >= 2 and is_tag(fields[-1]))
    fields = line.split()
    return not (len(fields) == 2 and is_tag(fields[1]))


class _Doc:
    """One document being read: its sentences of tokens, their tags and line numbers."""

    def __init__(self) -> None:
        self.sentences: list[list[str]] = []
        self.current: list[str] = []
        self.lines: list[int] = []
        self.tags: list[str] = []
        self.reader = TagReader()

    def add(self, token: str, tag: str, lineno: int, name: str) -> None:
        try:
            self.reader.add(len(self.tags), tag)
        except TagError as exc:
            raise ImportFailure(name, str(exc), lineno) from None
        self.current.append(token)
        self.tags.append(tag)
        self.lines.append(lineno)

    def end_sentence(self) -> None:
        self.reader.close()
        if self.current:
            self.sentences.append(self.current)
            self.current = []

    def record(self) -> Record | None:
        self.end_sentence()
        if not self.sentences:
            return None
        offsets: list[tuple[int, int]] = []
        pieces: list[str] = []
        pos = 0
        for si, sentence in enumerate(self.sentences):
            if si:
                pieces.append("\n")
                pos += 1
            for ti, token in enumerate(sentence):
                if ti:
                    pieces.append(" ")
                    pos += 1
                pieces.append(token)
                offsets.append((pos, pos + len(token)))
                pos += len(token)
        spans = [
            RecordSpan(offsets[first][0], offsets[last][1], label)
            for first, last, label in self.reader.spans
        ]
        warnings = [
            f"line {self.lines[i]}: entity starts with {self.tags[i]}; read as B-{self.tags[i][2:]}"
            for i in self.reader.loose_starts
        ]
        return Record(
            text="".join(pieces), line=self.lines[0], spans=spans, tokens=offsets,
            meta={"format": "conll"}, warnings=warnings, annotated=True,
        )


def _token_line(line: str, ncols: int | None, name: str, lineno: int) -> tuple[str, str, int | None]:
    """``(token, tag, ncols)`` of one token line."""
    if "\t" in line:
        fields = [f.strip() for f in line.split("\t")]
        while fields and not fields[-1]:
            fields.pop()
        if len(fields) < 2:
            raise ImportFailure(name, "expected a token and a tag separated by a tab", lineno)
        token, tag = fields[0], fields[-1]
        if not token:
            raise ImportFailure(name, "the token (first column) is empty", lineno)
        return token, tag, ncols
    fields = line.split()
    if len(fields) < 2:
        raise ImportFailure(
            name, f"expected a token and a tag (tab- or space-separated), got {line.strip()[:40]!r}", lineno
        )
    if ncols is None:
        ncols = len(fields)
    extra = len(fields) - ncols
    token = " ".join(fields[: extra + 1]) if extra > 0 else fields[0]
    return token, fields[-1], ncols


def read_conll(path: Path, name: str) -> Iterator[Record]:
    """Read a CoNLL / IOB file into records (see the module docstring for the rules)."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ImportFailure(name, f"cannot read: {exc.strerror}") from None
    ncols: int | None = None
    by_document: bool | None = None
    doc = _Doc()
    with fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                why = (lineno == 1 and foreign_bom(raw)) or f"invalid UTF-8 at column {exc.start + 1}: {exc.reason}"
                raise ImportFailure(name, why, lineno) from None
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
            line = line.rstrip("\r\n")
            if not line.strip():
                if by_document is False:
                    rec = doc.record()
                    if rec is not None:
                        yield rec
                    doc = _Doc()
                else:
                    doc.end_sentence()
                continue
            if _comment(line):
                continue
            first = line.split()[0]
            if first == DOCSTART:
                by_document = True
                rec = doc.record()
                if rec is not None:
                    yield rec
                doc = _Doc()
                continue
            if by_document is None:
                by_document = False
            token, tag, ncols = _token_line(line, ncols, name, lineno)
            doc.add(token, tag, lineno, name)
    rec = doc.record()
    if rec is not None:
        yield rec


#: Suffixes another reader owns: never sniffed as CoNLL.
_OTHER_SUFFIXES = frozenset({".jsonl", ".json", ".ann", ".spacy"})
#: Most columns a space-separated token line may have (CoNLL-2003 has 4, CoNLL-U 10).
_MAX_COLUMNS = 10


def sniff_conll(path: Path) -> str | None:
    """``"conll"`` if a file looks like CoNLL: its first line is ``-DOCSTART-``, or every one
    of its first (up to 20) token lines is ``token<TAB>...tag``, or every one is
    space-separated with the same number of columns (2 to 10) and a tag last (KazNERD's
    ``IOB2_train.txt``: ``Астана B-GPE``).

    Asked of ``.txt`` and ``.tsv`` files, and of files whose suffix no reader claims
    (CoNLL-2003's ``eng.train``), whether named or found in a folder walk (which only
    finds ``.txt`` among them).
    """
    suffix = path.suffix.lower()
    if suffix in _OTHER_SUFFIXES or (suffix not in (".txt", ".tsv") and suffix in _known_suffixes()):
        return None
    try:
        with path.open("rb") as fh:
            data = fh.read(4096)
            whole = len(data) < 4096 or not fh.read(1)
    except OSError:
        return None
    head = data.decode("utf-8", "ignore").lstrip("\ufeff")
    lines = [ln for ln in head.splitlines()[:21] if ln.strip() and not _comment(ln)]
    if not lines:
        return None
    if lines[0].split()[0] == DOCSTART:
        return "conll"
    if not whole and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    lines = lines[:20]
    if len(lines) < 2:
        return None
    if all("\t" in ln and is_tag(ln.rstrip().rsplit("\t", 1)[-1].strip()) for ln in lines):
        return "conll"
    if any("\t" in ln for ln in lines):
        return None
    widths = {len(ln.split()) for ln in lines}
    if len(widths) == 1 and 2 <= widths.pop() <= _MAX_COLUMNS and all(is_tag(ln.split()[-1]) for ln in lines):
        return "conll"
    return None


def _known_suffixes() -> set[str]:
    from .. import importer

    return set(importer.READERS_BY_SUFFIX) | importer.EXTRA_SUFFIXES
