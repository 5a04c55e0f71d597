"""The consumers judge the exports: spaCy reads the DocBin, seqeval the CoNLL tags, brat re-imports."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import spacy
from seqeval.metrics import classification_report
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2
from spacy.tokens import DocBin
from spacy.training import Corpus, Example, offsets_to_biluo_tags

import annotations.formats  # noqa: F401
from annotations import Store, import_paths
from annotations.formats import ExportError, ExportStats, Selection, run_export
from annotations.formats.spacy_docbin import SHARD

LABELS = ("PER", "LOC", "ORG")


@pytest.fixture
def annotated_seeds(seeded_store: Store) -> Store:
    """The seeds with every run of capitalised words (up to three) labelled, on token boundaries."""
    store = seeded_store
    n = 0
    for doc_id in store.document_ids():
        doc = store.document(doc_id)
        words = doc.tokens.words(doc.text)
        i = 0
        while i < len(words):
            if words[i][:1].isupper() and words[i].isalpha():
                j = i
                while j + 1 < len(words) and j - i < 2 and words[j + 1][:1].isupper() and words[j + 1].isalpha() \
                        and doc.tokens.starts[j + 1] == doc.tokens.ends[j] + 1:
                    j += 1
                store.add_span(doc_id, doc.tokens.starts[i], doc.tokens.ends[j], LABELS[n % 3])
                n += 1
                i = j + 1
            else:
                i += 1
        store.set_status(doc_id, "done")
    assert n > 100
    return store


def accepted(store: Store) -> int:
    return store.db.conn.execute("SELECT count(*) FROM spans WHERE state = 'accepted'").fetchone()[0]


# -- spaCy ----------------------------------------------------------------------------------


def test_spacy_reads_the_docbin_and_builds_aligned_examples(annotated_seeds: Store, tmp_path: Path) -> None:
    store = annotated_seeds
    path = tmp_path / "train.spacy"
    stats = run_export(store, "spacy", Selection(), path)
    assert stats.misaligned == 0  # the requirement on the seeds
    assert stats.spans == accepted(store) and stats.records == 5
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    assert len(docs) == 5
    n_ents = 0
    for doc in docs:
        info = doc.user_data["annotate"]
        assert doc.text == store.text(info["id"])
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [
            (s.start, s.end, s.label) for s in store.spans(info["id"], annotator=info["annotator"])
        ]
        nlp = spacy.blank(info["lang"])
        entities = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # W030 (misaligned entities) would fail the test
            assert "-" not in offsets_to_biluo_tags(nlp.make_doc(doc.text), entities)
            example = Example.from_dict(nlp.make_doc(doc.text), {"entities": entities})
            aligned = Example(nlp.make_doc(doc.text), doc).get_aligned_ner()
        assert [(e.start_char, e.end_char, e.label_) for e in example.reference.ents] == entities
        assert None not in aligned and "-" not in aligned
        n_ents += len(entities)
    assert n_ents == accepted(store)


def test_spacy_corpus_reads_a_sharded_folder(annotated_seeds: Store, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("annotations.formats.spacy_docbin.SHARD", 2)
    folder = tmp_path / "corpus"
    stats = run_export(annotated_seeds, "spacy", Selection(), folder)
    shards = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))  # .annotate-export beside them
    assert shards == ["part-00000.spacy", "part-00001.spacy", "part-00002.spacy"]
    assert stats.files == shards
    examples = list(Corpus(folder)(spacy.blank("ky")))
    assert len(examples) == 5
    assert sum(len(ex.reference.ents) for ex in examples) == accepted(annotated_seeds)
    assert SHARD == 10_000


def test_docbin_carries_suggestions_in_a_span_group(store: Store, add_doc, tmp_path: Path) -> None:
    doc_id = add_doc("Садыр Жапаров Бишкекте болду.")
    store.add_span(doc_id, 0, 13, "PER")
    store.add_suggestions(doc_id, [(14, 22, "LOC", 0.8)], "patterns")
    store.set_status(doc_id, "done")
    path = tmp_path / "s.spacy"
    stats = run_export(store, "spacy", Selection(include_suggestions=True), path)
    assert (stats.spans, stats.suggestions) == (1, 1)
    (doc,) = DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab)
    group = doc.spans["suggestions"]
    assert [(s.text, s.label_) for s in group] == [("Бишкекте", "LOC")]
    assert list(group.attrs["scores"]) == [0.8] and list(group.attrs["sources"]) == ["patterns"]
    assert [e.text for e in doc.ents] == ["Садыр Жапаров"]


# -- seqeval --------------------------------------------------------------------------------


def conll_sentences(text: str) -> list[list[str]]:
    """Tags per sentence of a token<TAB>tag file, -DOCSTART- blocks left out."""
    sentences: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        if line == "-DOCSTART- -X- O O":
            continue
        token, tag = line.split("\t")
        assert token and not token.isspace()
        current.append(tag)
    if current:
        sentences.append(current)
    return sentences


def seqeval_reads_cleanly(tags: list[list[str]]) -> int:
    """Run seqeval over the tags with warnings as errors; returns the entities it saw."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        classification_report(tags, tags, zero_division=0)
        classification_report(tags, tags, mode="strict", scheme=IOB2, zero_division=0)
        return len(get_entities(tags))


def test_seqeval_reads_the_conll_without_warnings(annotated_seeds: Store, tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    stats = run_export(annotated_seeds, "conll", Selection(), path)
    text = path.read_text(encoding="utf-8")
    assert text.count("-DOCSTART- -X- O O\n\n") == 5
    sentences = conll_sentences(text)
    assert len(sentences) > 5 * 3  # split into sentences, not one line per document
    assert seqeval_reads_cleanly(sentences) == stats.spans == accepted(annotated_seeds)
    # valid IOB2: an I- tag only continues an entity of its own label
    for tags in sentences:
        for prev, tag in zip(["O", *tags], tags):
            if tag.startswith("I-"):
                assert prev in (f"B-{tag[2:]}", tag)


def test_the_seqeval_harness_does_fail_on_bad_tags() -> None:
    with pytest.raises(UserWarning):
        seqeval_reads_cleanly([["X-PER", "O"]])


def test_conll_sentence_split_and_whitespace_tokens(store: Store, add_doc, tmp_path: Path) -> None:
    doc_id = add_doc("Садыр Жапаров келди.\n\nОл «Бишкекте болдум.» деди  Ж. Садыров")
    text = store.text(doc_id)
    store.add_span(doc_id, 0, 13, "PER")
    start = text.index("Бишкекте")
    store.add_span(doc_id, start, start + 8, "LOC")
    store.set_status(doc_id, "done")
    path = tmp_path / "t.conll"
    run_export(store, "conll", Selection(), path)
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    assert blocks[0] == "-DOCSTART- -X- O O"
    assert blocks[1].split("\n") == ["Садыр\tB-PER", "Жапаров\tI-PER", "келди\tO", ".\tO"]
    assert blocks[2].split("\n")[:4] == ["Ол\tO", "«\tO", "Бишкекте\tB-LOC", "болдум\tO"]
    # the closing quote stays in its sentence, and so does the lowercase "деди" after it
    assert blocks[2].split("\n")[4:] == [".\tO", "»\tO", "деди\tO", "Ж.\tO", "Садыров\tO"]
    assert all("\t" in line and not line.split("\t")[0].isspace() for b in blocks[1:] for line in b.split("\n") if line)


def test_conll_sentences_end_at_a_full_stop_but_not_after_initials_or_abbreviations(
    store: Store, add_doc, tmp_path: Path
) -> None:
    doc_id = add_doc("Ал т. ч. Москвага барды. Кийин Ошко келди! Г . Жапаров келди.", lang="ky")
    store.set_status(doc_id, "done")
    path = tmp_path / "t.conll"
    run_export(store, "conll", Selection(), path)
    blocks = [b.split("\n") for b in path.read_text(encoding="utf-8").strip("\n").split("\n\n")[1:]]
    assert [[line.split("\t")[0] for line in b] for b in blocks] == [
        ["Ал", "т", ".", "ч", ".", "Москвага", "барды", "."],  # "т. ч.": a lone letter's full stop
        ["Кийин", "Ошко", "келди", "!"],
        ["Г", ".", "Жапаров", "келди", "."],  # an initial
    ]


def test_conll_never_splits_inside_an_entity(store: Store, add_doc, tmp_path: Path) -> None:
    doc_id = add_doc("Бишкек шаары.\nОш облусу жана калган.")
    text = store.text(doc_id)
    store.add_span(doc_id, 0, text.index("Ош") + 2, "LOC")  # an entity across a line break
    store.set_status(doc_id, "done")
    path = tmp_path / "t.conll"
    run_export(store, "conll", Selection(), path)
    sentences = conll_sentences(path.read_text(encoding="utf-8"))
    assert sentences[0] == ["B-LOC", "I-LOC", "I-LOC", "I-LOC", "O", "O", "O", "O"]
    assert seqeval_reads_cleanly(sentences) == 1


# -- Hugging Face ---------------------------------------------------------------------------


def test_hf_records_and_labels_json(annotated_seeds: Store, tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    stats = run_export(annotated_seeds, "hf", Selection(), path)
    names = json.loads((tmp_path / "train.labels.json").read_text(encoding="utf-8"))
    assert names == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(recs) == 5 and stats.files == ["train.labels.json"]
    tags = []
    for rec in recs:
        assert set(rec) == {"id", "doc_id", "annotator", "status", "tokens", "ner_tags"}
        assert len(rec["tokens"]) == len(rec["ner_tags"])
        assert all(tok.strip() == tok and tok for tok in rec["tokens"])
        tags.append([names[t] for t in rec["ner_tags"]])
    assert seqeval_reads_cleanly(tags) == accepted(annotated_seeds)


# -- brat -----------------------------------------------------------------------------------


def test_brat_export_reimports_identically(annotated_seeds: Store, tmp_path: Path) -> None:
    folder = tmp_path / "brat"
    stats = run_export(annotated_seeds, "brat", Selection(), folder)
    assert stats.records == 5 and len(list(folder.glob("*.ann"))) == 5
    first_ann = sorted(folder.glob("*.ann"))[0].read_text(encoding="utf-8").splitlines()[0]
    ident, middle, surface = first_ann.split("\t")
    label, start, end = middle.split(" ")
    assert ident == "T1" and label in LABELS and int(end) > int(start)
    with Store(tmp_path / "copy.db", "carol") as copy:
        report = import_paths(copy, [folder])
        assert report.ok and report.added == 5 and report.text_mismatch == 0, report.to_dict()
        got = {copy.text(d): [(s.start, s.end, s.label) for s in copy.spans(d)] for d in copy.document_ids()}
    want = {
        annotated_seeds.text(d): [(s.start, s.end, s.label) for s in annotated_seeds.spans(d)]
        for d in annotated_seeds.document_ids()
    }
    assert got == want


def test_brat_folder_output_replaces_an_existing_folder_only_with_force(annotated_seeds: Store, tmp_path: Path) -> None:
    """Issue 16 item 11: no stale files beside a new export; a folder it did not write needs force."""
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty and was not written by an export"):
        run_export(annotated_seeds, "brat", Selection(), folder)
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    stats = run_export(annotated_seeds, "brat", Selection(), folder, force=True)
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert "keep.txt" not in names and "annotation.conf" in names and len(names) == 11 and isinstance(stats, ExportStats)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".brat")]


def test_documents_with_imported_tokens_export_aligned(store: Store, tmp_path: Path) -> None:
    """CoNLL tokens are kept as given, cut at whitespace (line breaks between sentences not tokens):
    the DocBin still rebuilds the text exactly and every entity aligns."""
    data = Path(__file__).parent / "data" / "formats" / "mixed.conll"
    assert import_paths(store, [data]).ok
    for doc_id in store.document_ids():
        store.set_status(doc_id, "done")
    path = tmp_path / "x.spacy"
    stats = run_export(store, "spacy", Selection(), path)
    assert stats.misaligned == 0 and stats.spans == 6
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    assert [d.text for d in docs] == [store.text(i) for i in store.document_ids()]
    assert [e.text for e in docs[0].ents] == ["Садыр Жапаров", "Бишкек шаары", "Ала-Тоо аянты", "Жогорку Кеңеш"]
    assert ["Бишкек", "шаары"] == [t.text for t in docs[0]][2:4]  # cut at its space (issue 10 item 3)
    out = tmp_path / "x.jsonl"
    stats = run_export(store, "jsonl", Selection(), out)
    assert stats.misaligned == 0
    rec = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    bishkek = rec["spans"][1]
    assert [t["text"] for t in rec["tokens"][bishkek["token_start"]:bishkek["token_end"] + 1]] == ["Бишкек", "шаары"]


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        (" Ош  шаары\n", [(1, 3), (5, 10)]),  # leading space, double space, trailing line break
        ("Ош,шаары", [(0, 2), (3, 8)]),  # a character no token covers
        ("а б", [(0, 1), (2, 3)]),
        ("\n\nОш", [(2, 4)]),
    ],
)
def test_doc_words_rebuild_the_text_from_any_tokens(text: str, pairs: list[tuple[int, int]]) -> None:
    from spacy.tokens import Doc

    from annotations.formats.spacy_docbin import doc_words
    from annotations.tokenize import Tokens

    words, spaces = doc_words(text, Tokens.from_pairs(pairs))
    doc = Doc(spacy.blank("xx").vocab, words=words, spaces=spaces)
    assert doc.text == text
    for s, e in pairs:
        assert doc.char_span(s, e, alignment_mode="strict") is not None


def test_streamed_docbin_equals_spacys_own(annotated_seeds: Store, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The file written chunk by chunk decodes to the very message ``DocBin.to_bytes`` makes."""
    import zlib

    import srsly

    from annotations.formats import iter_items
    from annotations.formats.spacy_docbin import make_doc

    monkeypatch.setattr("annotations.formats.spacy_docbin._CHUNK", 2)  # 5 Docs: three chunks
    path = tmp_path / "streamed.spacy"
    run_export(annotated_seeds, "spacy", Selection(), path)
    reference = DocBin(attrs=["ENT_IOB", "ENT_TYPE"], store_user_data=True)
    for item in iter_items(annotated_seeds, Selection()):
        reference.add(make_doc(item, ExportStats()))
    ours = srsly.msgpack_loads(zlib.decompress(path.read_bytes()))
    theirs = srsly.msgpack_loads(zlib.decompress(reference.to_bytes()))
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert ours[key] == theirs[key], key
