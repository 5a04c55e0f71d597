"""spaCy ``DocBin`` (``.spacy``) export and import. spaCy is imported only inside these functions.

Export: one ``Doc`` per (document, annotator), built from the store's own tokens (spaCy's
blank tokenizer's, cut at whitespace: ``annotations.tokenize``) with ``Doc(vocab, words, spaces)``, so ``doc.text`` is the document text
exactly and every span becomes an entity with
``doc.char_span(start, end, label, alignment_mode="strict")``; spans off token boundaries
(only possible for spans imported so) are handled before, the same in every format, by
the export's misaligned policy (``export.MISALIGNED``). Suggestions (``include_suggestions``) go into the span group
``doc.spans["suggestions"]`` with ``attrs["scores"]`` and ``attrs["sources"]`` (the layout
spaCy's spancat uses). ``doc.user_data["annotate"]`` holds the document id, annotator,
status, source, title, language and meta. The vocab is ``spacy.blank(lang)``'s for
:func:`make_doc` on its own; the export uses fresh vocabs with the same language settings
(:func:`fresh_vocab`), renewed every 1,000 Docs, because a vocab keeps every word it has
seen. The file is the same either way (a test compares it with spaCy's own).

A ``.spacy`` file is one compressed msgpack message, which ``DocBin.to_bytes`` builds in
memory; here it is written as a stream (see :class:`_StreamingDocBin`), so memory stays
flat. Exporting to a folder writes shards of :data:`SHARD` Docs (``part-00000.spacy``,
...), which ``spacy train`` reads as one corpus.

Import: every ``Doc`` becomes an annotated document (done unless ``user_data`` says
otherwise) with its text, its tokens (kept, cut at whitespace) and its ``doc.ents`` as
spans, zero entities included (a negative example); a Doc of another tool whose tokens
carry no entity annotation at all (``ENT_IOB`` unset: not even ``O``) is text, left todo; status, annotator, language and meta come back from ``user_data`` when the file
is ours. A file that is not a DocBin is refused cleanly.
"""

from __future__ import annotations

from itertools import compress, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..importer import ImportFailure, Record, RecordSpan
from ..text import LANGUAGES
from ..tokenize import SPACY_LANGS, Tokens, blank_nlp
from .export import ExportItem, ExportStats, clean_meta, span_tokens

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc, DocBin
    from spacy.vocab import Vocab

__all__ = ["SHARD", "doc_words", "fresh_vocab", "make_doc", "user_data", "write_docbin", "read_docbin"]

SHARD = 10_000
_ATTRS = ["ENT_IOB", "ENT_TYPE"]


def doc_words(text: str, tokens: Tokens) -> tuple[list[str], list[bool]]:
    """spaCy ``words`` and ``spaces`` that rebuild ``text`` exactly from our tokens.

    Text between tokens that is not a single space (spaCy's own tokens never leave any;
    imported tokens may) becomes a token of its own, after the one space the previous
    token can carry.
    """
    fast = _simple_words(text, tokens)
    if fast is not None:
        return fast
    words: list[str] = []
    spaces: list[bool] = []
    pos = 0

    def gap(upto: int) -> None:
        piece = text[pos:upto]
        if not piece:
            return
        if words and not spaces[-1] and piece.startswith(" "):
            spaces[-1] = True
            piece = piece[1:]
        if piece:
            words.append(piece)
            spaces.append(False)

    for s, e in zip(tokens.starts, tokens.ends):
        if s == pos + 1 and words and text[pos] == " ":
            spaces[-1] = True  # the usual case: one space between two tokens
        elif s > pos:
            gap(s)
        words.append(text[s:e])
        spaces.append(False)
        pos = e
    gap(len(text))
    return words, spaces


def _simple_words(text: str, tokens: Tokens) -> tuple[list[str], list[bool]] | None:
    """:func:`doc_words` of the usual layout, without a loop in Python: tokens from the
    start of the text, each followed by nothing or by one space (spaCy's own tokens).
    None for any other layout."""
    starts, ends = list(tokens.starts), list(tokens.ends)
    n = len(starts)
    if not n or starts[0] != 0:
        return None
    gaps = list(map(int.__sub__, starts[1:], ends[:-1]))
    tail = len(text) - ends[-1]
    if tail > 1 or (gaps and (min(gaps) < 0 or max(gaps) > 1)):
        return None
    spaces = [gap == 1 for gap in gaps]
    spaces.append(tail == 1)
    # every character no token covers must be the one space after a token
    if not all(map(text.startswith, repeat(" "), compress(ends, spaces))):
        return None
    return list(map(text.__getitem__, map(slice, starts, ends))), spaces


def _simple_layout(text: str, tokens: Tokens) -> tuple[list[str], Any] | None:
    """:func:`_simple_words` with its checks in numpy: ``(words, spaces as a bool array)``,
    None for any other layout (the DocBin export's usual path, see :func:`_add_simple`)."""
    import numpy

    n = len(tokens)
    if not n:
        return None
    starts = numpy.asarray(tokens.starts, dtype=numpy.int64)
    ends = numpy.asarray(tokens.ends, dtype=numpy.int64)
    if starts[0] != 0:
        return None
    gaps = starts[1:] - ends[:-1]
    tail = len(text) - int(ends[-1])
    if tail > 1 or tail < 0 or (n > 1 and (gaps.min() < 0 or gaps.max() > 1)):
        return None
    spaces = numpy.empty(n, dtype=bool)
    spaces[:-1] = gaps == 1
    spaces[-1] = tail == 1
    if spaces.any():
        # every character no token covers must be the one space after a token
        codes = numpy.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        if not (codes[ends[spaces]] == 32).all():
            return None
    first, last = starts.tolist(), ends.tolist()
    return list(map(text.__getitem__, map(slice, first, last))), spaces


def fresh_vocab(lang: str) -> "Vocab":
    """A new, empty vocab with the lexical attributes of ``spacy.blank(lang)``'s."""
    from spacy.util import get_lang_class
    from spacy.vocab import create_vocab

    # The language class's settings alone: building the blank pipeline (its tokenizer, the
    # language's exceptions and affix rules) costs tens of MB that a cached export never uses.
    cls = get_lang_class(SPACY_LANGS.get(lang, "xx"))
    return create_vocab(cls.lang, cls.Defaults)


def make_doc(
    item: ExportItem, stats: ExportStats, vocab: "Vocab | None" = None, *, with_user_data: bool = True
) -> "Doc":
    """The spaCy Doc of one record, with ``ents``, suggestions and (unless told not to)
    ``user_data["annotate"]`` set; counts into ``stats``.

    ``vocab`` defaults to ``spacy.blank(lang)``'s; the export passes a private one it can
    drop, because every new word added to a vocab stays there (memory would grow with the
    corpus).
    """
    from spacy.tokens import Doc, SpanGroup

    words, spaces = doc_words(item.text, item.tokens)
    if vocab is None:  # not "vocab or ...": an empty Vocab is falsy (it has no lexemes yet)
        vocab = blank_nlp(item.lang).vocab
    doc = Doc(vocab, words=words, spaces=spaces)
    ents = []
    for sp in item.spans:
        span = doc.char_span(sp.start, sp.end, label=sp.label, alignment_mode="strict")
        if span is None:  # iter_items aligned it to the store's tokens: only on no token at all
            stats.unwritten += 1
        else:
            ents.append(span)
    doc.ents = ents
    stats.spans += len(ents)
    if item.suggestions:
        group, scores, sources = [], [], []
        for sp in item.suggestions:
            span = doc.char_span(sp.start, sp.end, label=sp.label, alignment_mode="strict")
            if span is None:
                stats.unwritten += 1
                continue
            group.append(span)
            scores.append(sp.score)
            sources.append(sp.origin)
        doc.spans["suggestions"] = SpanGroup(
            doc, name="suggestions", spans=group, attrs={"scores": scores, "sources": sources}
        )
        stats.suggestions += len(group)
    if with_user_data:
        doc.user_data["annotate"] = user_data(item)
    return doc


def user_data(item: ExportItem) -> dict[str, Any]:
    """What ``doc.user_data["annotate"]`` holds for one record."""
    return {
        "id": item.doc_id, "annotator": item.annotator, "status": item.status,
        "source": item.source, "title": item.title, "lang": item.lang, "line": item.line,
        "meta": clean_meta(item.meta),
    }


def _new_bin() -> "DocBin":
    """A DocBin that gets its ``user_data`` from us, already packed (see :class:`_StreamingDocBin`)."""
    from spacy.tokens import DocBin

    return DocBin(attrs=_ATTRS, store_user_data=False)


#: Docs whose arrays are kept in memory before they are spooled to disk.
_CHUNK = 1_000
#: Words an export's private vocab may hold before it is replaced by a fresh one.
_VOCAB_LIMIT = 20_000
#: The DocBin message's lists, in the order ``DocBin.to_bytes`` writes them.
_LISTS = ("cats", "flags", "span_groups", "user_data")


def _bin_header(n: int) -> bytes:
    """msgpack ``bin`` header for ``n`` bytes."""
    if n < 1 << 8:
        return b"\xc4" + n.to_bytes(1, "big")
    if n < 1 << 16:
        return b"\xc5" + n.to_bytes(2, "big")
    return b"\xc6" + n.to_bytes(4, "big")


def _array_header(n: int) -> bytes:
    """msgpack ``array`` header for ``n`` items."""
    if n < 16:
        return bytes([0x90 | n])
    if n < 1 << 16:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


class _StreamingDocBin:
    """Writes one ``.spacy`` file with flat memory.

    ``DocBin.to_bytes`` builds the whole file in memory (several copies of every token
    array at once: about 8 kB per 35-token Doc at its peak). Here each Doc's arrays and
    lists are appended to temporary files as it comes, as ``DocBin.add`` would add them
    (:meth:`add` does its work without its Python loop over every token, which cost most
    of a DocBin export's time). :meth:`save` then writes the same msgpack message
    ``to_bytes`` would (``version``, ``attrs``, ``tokens``, ``spaces``, ``lengths``,
    ``strings``, ``cats``, ``flags``, ``span_groups``, ``user_data``), zlib-compressed as it
    streams. Only the set of distinct strings stays in memory.
    """

    def __init__(self, folder: Path) -> None:
        import tempfile

        import srsly.msgpack

        self.packer = srsly.msgpack.Packer(use_bin_type=True)
        self.spools = {
            name: tempfile.TemporaryFile(dir=folder, prefix=".spacy-export-")
            for name in ("tokens", "spaces", "lengths", *_LISTS)
        }
        self.strings: set[str] = set()
        #: Hashes of the strings of the Docs since the last spool, and each hash's string.
        self.hashes: set[int] = set()
        self.known: dict[int, str] = {}
        self.seen: set[int] = set()
        self.count = 0
        self.attrs: list[Any] = list(_new_bin().attrs)
        self.buffers: dict[str, list[bytes]] = {name: [] for name in self.spools}
        self.lengths: list[int] = []
        #: For :meth:`add_words`: each word seen in this file -> its hash (ORTH); words whose
        #: text and norm are in :attr:`strings` already. Cleared now and then (flat memory).
        self.orth: dict[str, int] = {}
        self.constants: tuple[bytes, bytes, bytes] | None = None

    def add_words(
        self, words: list[str], spaces: Any, ents: list[tuple[int, int, str]], vocab: "Vocab",
        user: dict[str, Any],
    ) -> None:
        """What :meth:`add` adds for the Doc ``Doc(vocab, words, spaces)`` with the entities
        ``ents`` (``(first token, last token, label)``, sorted, not overlapping) and no span
        groups, cats or user data of its own, without making that Doc: its arrays are built
        here (numpy) from each word's hash, looked up once per file. The same bytes either way
        (a test compares them)."""
        import numpy

        pack, buffers = self.packer.pack, self.buffers
        if self.constants is None:
            self.constants = (pack({"has_unknown_spaces": False}), pack({}), pack(b"\x90"))  # b"\x90": no span groups
        flags, cats, groups = self.constants
        orth = self.orth
        unseen = set(words).difference(orth)
        if unseen:
            if len(orth) > _VOCAB_LIMIT:
                orth.clear()
                unseen = set(words)
            strings = self.strings
            for word in unseen:
                lexeme = vocab[word]
                orth[word] = lexeme.orth
                strings.add(word)
                strings.add(lexeme.norm_)
        n = len(words)
        tokens = numpy.zeros((n, 3), dtype=numpy.uint64)
        tokens[:, 0] = list(map(orth.__getitem__, words))
        tokens[:, 1] = 2  # ENT_IOB "O"
        for first, last, label in ents:
            tokens[first, 1] = 3  # "B"
            tokens[first + 1:last + 1, 1] = 1  # "I"
            tokens[first:last + 1, 2] = vocab.strings.add(label)
            self.strings.add(label)
        buffers["tokens"].append(tokens.tobytes("C"))
        buffers["spaces"].append(numpy.asarray(spaces, dtype=bool).tobytes("C"))
        self.lengths.append(n)
        buffers["flags"].append(flags)
        buffers["cats"].append(cats)
        buffers["span_groups"].append(groups)
        buffers["user_data"].append(pack(pack(user)))
        self.strings.add("")
        self.count += 1
        if len(self.lengths) >= _CHUNK:
            self._spool()

    def add(self, doc: "Doc", user: dict[str, Any]) -> None:
        """What ``DocBin.add`` adds for ``doc`` (with ``user`` as its packed user data)."""
        import numpy
        from spacy.attrs import SPACY

        pack, buffers = self.packer.pack, self.buffers
        tokens = doc.to_array(self.attrs)
        if len(tokens.shape) == 1:
            tokens = tokens.reshape((tokens.shape[0], 1))
        spaces = doc.to_array(SPACY)
        buffers["tokens"].append(tokens.tobytes("C"))
        buffers["spaces"].append(numpy.asarray(spaces.reshape((spaces.shape[0], 1)), dtype=bool).tobytes("C"))
        self.lengths.append(len(tokens))
        buffers["flags"].append(pack({"has_unknown_spaces": doc.has_unknown_spaces}))
        buffers["cats"].append(pack(doc.cats))
        buffers["span_groups"].append(pack(doc.spans.to_bytes()))
        buffers["user_data"].append(pack(pack(user)))
        self._add_strings(doc)
        self.count += 1
        if len(self.lengths) >= _CHUNK:
            self._spool()

    def _add_strings(self, doc: "Doc") -> None:
        """The strings ``DocBin.add`` collects from ``doc``: every token's text, tag, lemma,
        norm, morphology, dependency, entity type, KB id and entity id, and each span group's
        labels (and their KB and span ids)."""
        from spacy.attrs import DEP, ENT_ID, ENT_KB_ID, ENT_TYPE, LEMMA, MORPH, NORM, ORTH, TAG

        if len(doc):
            values = doc.to_array([ORTH, NORM, ENT_TYPE, TAG, LEMMA, DEP, ENT_KB_ID, ENT_ID, MORPH])
            if values[:, 3:].any():  # tagged or parsed Docs: spaCy's own loop, as it is
                for token in doc:
                    self.strings.update((
                        token.text, token.tag_, token.lemma_, token.norm_, str(token.morph), token.dep_,
                        token.ent_type_, token.ent_kb_id_, token.ent_id_,
                    ))
            else:
                # texts, norms and entity types by their hashes (a hash is the same in every
                # vocab); the empty tag, lemma, morphology, dependency and ids are "".
                self.strings.add("")
                hashes = set(values[:, :3].ravel().tolist())
                unseen = hashes - self.seen
                if unseen:
                    lookup = doc.vocab.strings
                    self.known.update((h, lookup[h]) for h in unseen)
                    self.seen |= unseen
                self.hashes |= hashes
        for group in doc.spans.values():
            for span in group:
                self.strings.add(span.label_)
                if span.kb_id in doc.vocab.strings:
                    self.strings.add(span.kb_id_)
                if span.id in doc.vocab.strings:
                    self.strings.add(span.id_)

    def _spool(self) -> None:
        import numpy

        for name, parts in self.buffers.items():
            if name == "lengths":
                continue
            self.spools[name].write(b"".join(parts))
            parts.clear()
        self.spools["lengths"].write(numpy.asarray(self.lengths, dtype="int32").tobytes("C"))
        self.lengths.clear()
        if self.hashes:
            self.strings.update(map(self.known.__getitem__, self.hashes))
            self.hashes.clear()
        # hashes are looked up again in the next chunk rather than kept: memory stays that of the strings
        self.known.clear()
        self.seen.clear()

    def save(self, path: Path) -> None:
        import zlib

        self._spool()
        pack = self.packer.pack
        attrs = self.attrs
        z = zlib.compressobj()
        with path.open("wb") as out:
            def put(data: bytes) -> None:
                out.write(z.compress(data))

            def put_spool(name: str) -> None:
                spool = self.spools[name]
                spool.seek(0)
                while block := spool.read(1 << 20):
                    put(block)

            put(b"\x8a")  # a map of ten entries
            put(pack("version") + pack("0.1") + pack("attrs") + pack(attrs))
            for name in ("tokens", "spaces", "lengths"):
                put(pack(name) + _bin_header(self.spools[name].tell()))
                put_spool(name)
            put(pack("strings") + _array_header(len(self.strings)))
            for string in sorted(self.strings):
                put(pack(string))
            for name in _LISTS:
                put(pack(name) + _array_header(self.count))
                put_spool(name)
            out.write(z.flush())

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()


def write_docbin(
    items: Iterable[ExportItem], target: Path, stats: ExportStats, *, shard: int | None = None
) -> None:
    """Write records to the ``.spacy`` file ``target``, or with ``shard`` to shards of that
    many Docs in the folder ``target``. Memory stays flat either way."""
    folder = target if shard else target.parent
    out = _StreamingDocBin(folder)
    vocabs: dict[str, Vocab] = {}
    part = 0
    last_doc = None
    try:
        for item in items:
            vocab = vocabs.get(item.lang)
            if vocab is None:
                vocab = vocabs[item.lang] = fresh_vocab(item.lang)
            if not _add_simple(out, item, stats, vocab):
                out.add(make_doc(item, stats, vocab, with_user_data=False), {"annotate": user_data(item)})
            stats.records += 1
            if item.doc_id != last_doc:
                stats.documents += 1
                last_doc = item.doc_id
            if stats.records % _CHUNK == 0 and any(len(v) > _VOCAB_LIMIT for v in vocabs.values()):
                vocabs.clear()  # every new word stays in a vocab: start fresh ones when they grow large
            if shard and stats.records % shard == 0:
                _save(out, target / f"part-{part:05d}.spacy", stats)
                part += 1
                out = _StreamingDocBin(folder)
        if not shard:
            _save(out, target, stats)
        elif out.count or part == 0:
            _save(out, target / f"part-{part:05d}.spacy", stats)
    finally:
        out.close()


def _add_simple(out: _StreamingDocBin, item: ExportItem, stats: ExportStats, vocab: "Vocab") -> bool:
    """Add the record without making its Doc (:meth:`_StreamingDocBin.add_words`) when it
    is the usual one: spaCy's token layout and no suggestions. False otherwise."""
    if item.suggestions or _ATTRS != ["ENT_IOB", "ENT_TYPE"]:
        return False
    simple = _simple_layout(item.text, item.tokens)
    if simple is None:
        return False
    ents = []
    for sp in item.spans:
        first, last, aligned = span_tokens(item.tokens, sp.start, sp.end)
        if not aligned:  # what doc.char_span(..., alignment_mode="strict") refuses
            stats.unwritten += 1
            continue
        ents.append((first, last, sp.label))
    stats.spans += len(ents)
    out.add_words(simple[0], simple[1], ents, vocab, {"annotate": user_data(item)})
    return True


def _save(out: _StreamingDocBin, path: Path, stats: ExportStats) -> None:
    try:
        out.save(path)
    finally:
        out.close()
    stats.files.append(path.name)


# -- import --------------------------------------------------------------------------------


def read_docbin(path: Path, name: str) -> Iterator[Record]:
    """Read a ``.spacy`` file; each Doc's position is its ``line`` in error messages."""
    import srsly.msgpack
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailure(name, f"cannot read: {exc.strerror}") from None
    try:
        docbin = DocBin(store_user_data=True).from_bytes(data)
        # get_docs would unpack each Doc's user_data with a new (slow to set up) unpacker:
        # take the bytes out and unpack them here with one.
        packed, docbin.user_data = docbin.user_data, [None] * len(docbin)
        docs = docbin.get_docs(Vocab())
    except Exception as exc:  # zlib, msgpack, numpy: any of them means "not a DocBin"
        raise ImportFailure(name, f"not a spaCy DocBin (.spacy) file: {_reason(exc)}") from None
    unpacker = srsly.msgpack.Unpacker(raw=False, use_list=False)
    index = 0
    while True:
        index += 1
        try:
            doc = next(docs)
            info = None
            if index <= len(packed) and packed[index - 1]:
                unpacker.feed(packed[index - 1])
                info = unpacker.unpack()
        except StopIteration:
            return
        except Exception as exc:
            raise ImportFailure(name, f"Doc {index} of the DocBin cannot be read: {_reason(exc)}", index) from None
        yield _record(doc, info, index)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):  # str(KeyError("attrs")) is just "'attrs'"
        return f"missing field {exc}"[:200]
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__


def _record(doc: "Doc", user: Any, index: int) -> Record:
    info: Any = user.get("annotate") if isinstance(user, dict) else None
    info = info if isinstance(info, dict) else {}
    meta = dict(info.get("meta") or {}) if isinstance(info.get("meta"), dict) else {}
    meta["format"] = "spacy"
    status = info.get("status") if info.get("status") in ("done", "skipped", "todo") else None
    lang = info.get("lang") if info.get("lang") in LANGUAGES else None
    who = info.get("annotator") if isinstance(info.get("annotator"), str) and info.get("annotator") else None
    tokens = [(t.idx, t.idx + len(t.text)) for t in doc if t.text]
    if status is None and not doc.has_annotation("ENT_IOB"):
        # No token says "O" or "in an entity": named entities were never annotated on this
        # Doc (a DocBin made for another task), so it is text to annotate, not a negative.
        return Record(text=doc.text, line=index, meta=meta, tokens=tokens, lang=lang, annotator=who)
    spans = [RecordSpan(e.start_char, e.end_char, e.label_) for e in doc.ents]
    return Record(
        text=doc.text, line=index, meta=meta, spans=spans, tokens=tokens, status=status, lang=lang,
        annotated=True, annotator=who,
    )
