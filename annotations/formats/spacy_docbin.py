"""spaCy ``DocBin`` (``.spacy``) export and import. spaCy is imported only inside these functions.

Export: one ``Doc`` per (document, annotator), built on ``spacy.blank(lang)``'s vocab from
the store's own tokens (``Doc(vocab, words, spaces)``), so ``doc.text`` is the document text
exactly and every span that lies on token boundaries becomes an entity with
``doc.char_span(start, end, label, alignment_mode="strict")``. A span that does not (only
possible for spans imported off token boundaries) is left out and counted in
``ExportStats.misaligned``. Suggestions (``include_suggestions``) go into the span group
``doc.spans["suggestions"]`` with ``attrs["scores"]`` and ``attrs["sources"]`` (the layout
spaCy's spancat uses). ``doc.user_data["annotate"]`` holds the document id, annotator,
status, source, title, language and meta.

A single ``.spacy`` file is one compressed blob, so it is built in memory; exporting to a
folder instead writes shards of :data:`SHARD` documents (``part-00000.spacy``, ...), which
``spacy train`` reads as one corpus, with flat memory.

Import: every ``Doc`` becomes a document with its text, its tokens (kept as they are) and
its ``doc.ents`` as spans; status, language and meta come back from ``user_data`` when the
file is ours. A file that is not a DocBin is refused cleanly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..importer import ImportFailure, Record, RecordSpan
from ..text import LANGUAGES
from ..tokenize import Tokens, blank_nlp
from .export import ExportItem, ExportStats, clean_meta

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc, DocBin
    from spacy.vocab import Vocab

__all__ = ["SHARD", "doc_words", "make_doc", "user_data", "write_docbin", "read_docbin"]

SHARD = 10_000
_ATTRS = ["ENT_IOB", "ENT_TYPE"]


def doc_words(text: str, tokens: Tokens) -> tuple[list[str], list[bool]]:
    """spaCy ``words`` and ``spaces`` that rebuild ``text`` exactly from our tokens.

    Text between tokens that is not a single space (spaCy's own tokens never leave any;
    imported tokens may) becomes a token of its own, after the one space the previous
    token can carry.
    """
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
    doc = Doc(vocab or blank_nlp(item.lang).vocab, words=words, spaces=spaces)
    ents = []
    for sp in item.spans:
        span = doc.char_span(sp.start, sp.end, label=sp.label, alignment_mode="strict")
        if span is None:
            stats.misaligned += 1
        else:
            ents.append(span)
    doc.ents = ents
    stats.spans += len(ents)
    if item.suggestions:
        group, scores, sources = [], [], []
        for sp in item.suggestions:
            span = doc.char_span(sp.start, sp.end, label=sp.label, alignment_mode="strict")
            if span is None:
                stats.misaligned += 1
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
    """A DocBin that gets its ``user_data`` from us, already packed (see :func:`write_docbin`)."""
    from spacy.tokens import DocBin

    return DocBin(attrs=_ATTRS, store_user_data=False)


def write_docbin(
    items: Iterable[ExportItem], target: Path, stats: ExportStats, *, shard: int | None = None
) -> None:
    """Write records to the ``.spacy`` file ``target``, or with ``shard`` to shards in the folder ``target``."""
    import srsly.msgpack
    from spacy.vocab import Vocab

    # DocBin.add packs each Doc's user_data with a new srsly Packer, whose set-up scans the
    # installed packages' entry points (milliseconds per Doc). We add the Docs without
    # user_data and append the same msgpack bytes from one reused Packer instead.
    packer = srsly.msgpack.Packer(use_bin_type=True)
    docbin = _new_bin()
    vocab = Vocab()
    part = 0
    last_doc = None
    for item in items:
        docbin.add(make_doc(item, stats, vocab, with_user_data=False))
        docbin.user_data.append(packer.pack({"annotate": user_data(item)}))
        stats.records += 1
        if item.doc_id != last_doc:
            stats.documents += 1
            last_doc = item.doc_id
        if stats.records % SHARD == 0:
            vocab = Vocab()  # the DocBin keeps its own strings; the old vocab can go
        if shard and len(docbin) >= shard:
            _save(docbin, target / f"part-{part:05d}.spacy", stats)
            part += 1
            docbin = _new_bin()
    if shard:
        if len(docbin) or part == 0:
            _save(docbin, target / f"part-{part:05d}.spacy", stats)
    else:
        _save(docbin, target, stats)


def _save(docbin: "DocBin", path: Path, stats: ExportStats) -> None:
    docbin.store_user_data = True  # the user_data list is complete: write it
    path.write_bytes(docbin.to_bytes())
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
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__


def _record(doc: "Doc", user: Any, index: int) -> Record:
    info: Any = user.get("annotate") if isinstance(user, dict) else None
    info = info if isinstance(info, dict) else {}
    meta = dict(info.get("meta") or {}) if isinstance(info.get("meta"), dict) else {}
    meta["format"] = "spacy"
    status = info.get("status") if info.get("status") in ("done", "skipped") else None
    lang = info.get("lang") if info.get("lang") in LANGUAGES else None
    tokens = [(t.idx, t.idx + len(t.text)) for t in doc if t.text]
    spans = [RecordSpan(e.start_char, e.end_char, e.label_) for e in doc.ents]
    return Record(
        text=doc.text, line=index, meta=meta, spans=spans, tokens=tokens, status=status, lang=lang
    )
