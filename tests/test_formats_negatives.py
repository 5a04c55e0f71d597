"""Every example out, read by each format's own consumer (issue 10).

One small corpus, imported from a Prodigy-style file the test writes: two examples with
entities, two accepted examples without any (negatives), a Russian one whose tokens spaCy
would keep as ``и др.``, a skipped (ignore), a rejected and a plain-text (todo) one. For
each format, ``import -> export -> the consumer's own reader`` must give back every done
example, in order, negatives included, with the same tokens, tags, spans and answers:
spaCy's ``DocBin``, ``python -m spacy convert -c ner``, seqeval, Hugging Face ``datasets``
with ``ClassLabel``, a brat standoff parser written from brat's format description, and
a Prodigy schema check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import spacy
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2, Entities
from spacy.tokens import DocBin

import annotations.formats  # noqa: F401
from annotations import Store, import_paths
from annotations.formats import Selection, run_export
from prodigy_schema import prodigy_problems

KY1 = "Садыр Жапаров Бишкекте болду."
KY_NEG = "Бүгүн күн ачык болду."
RU1 = "Путин, Лавров и др. прибыли в Москву."
RU_NEG = "Погода была хорошей."
SKIP = "Реклама магазина."
REJECT = "Ош шаары."
TODO = "Текст без разметки."


def at(text: str, word: str, label: str) -> dict[str, Any]:
    start = text.index(word)
    return {"start": start, "end": start + len(word), "label": label}


RECORDS = [
    {"text": KY1, "spans": [at(KY1, "Садыр Жапаров", "PER"), at(KY1, "Бишкекте", "LOC")], "answer": "accept"},
    {"text": KY_NEG, "spans": []},  # an annotated example with no entities: a negative
    {"text": RU1, "spans": [at(RU1, "Путин", "PER"), at(RU1, "Лавров", "PER"), at(RU1, "Москву", "LOC")],
     "answer": "accept"},
    {"text": RU_NEG, "answer": "accept"},  # Prodigy: accepted, no "spans" key
    {"text": SKIP, "answer": "ignore"},
    {"text": REJECT, "spans": [at(REJECT, "Ош", "LOC")], "answer": "reject"},
    {"text": TODO},
]
#: The done examples, in order: (text, entities as (text, label)).
DONE = [
    (KY1, [("Садыр Жапаров", "PER"), ("Бишкекте", "LOC")]),
    (KY_NEG, []),
    (RU1, [("Путин", "PER"), ("Лавров", "PER"), ("Москву", "LOC")]),
    (RU_NEG, []),
]


@pytest.fixture
def corpus(store: Store, write_jsonl: Any) -> Store:
    report = import_paths(store, [write_jsonl(RECORDS, name="news.jsonl")])
    assert report.ok and report.added == 7, report.to_dict()
    assert [store.status(d) for d in store.document_ids()] == [
        "done", "done", "done", "done", "skipped", "skipped", "todo"
    ]
    return store


#: The tokens every token-based export writes for each done example ("и др." is two).
WORDS = {
    KY1: ["Садыр", "Жапаров", "Бишкекте", "болду", "."],
    KY_NEG: ["Бүгүн", "күн", "ачык", "болду", "."],
    RU1: ["Путин", ",", "Лавров", "и", "др.", "прибыли", "в", "Москву", "."],
    RU_NEG: ["Погода", "была", "хорошей", "."],
}


def solid_words(text: str) -> list[str]:
    return WORDS[text]


def entity_words(done: list[tuple[str, list[tuple[str, str]]]]) -> list[list[tuple[str, str]]]:
    return [ents for _, ents in done]


# -- spaCy ------------------------------------------------------------------------------------


def test_docbin_gives_back_every_done_example(corpus: Store, tmp_path: Path) -> None:
    path = tmp_path / "train.spacy"
    stats = run_export(corpus, "spacy", Selection(), path)
    assert (stats.records, stats.misaligned) == (4, 0)
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    assert [(d.text, [(e.text, e.label_) for e in d.ents]) for d in docs] == DONE
    for doc in docs:  # no token mixes whitespace with text ("и др." is two tokens)
        assert all(not any(c.isspace() for c in t.text) or t.text.isspace() for t in doc)
    assert [t.text for t in docs[2] if not t.is_space] == WORDS[RU1]


def test_spacy_convert_reads_the_conll_export(corpus: Store, tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    assert run_export(corpus, "conll", Selection(), path).records == 4
    out = tmp_path / "converted"
    out.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "spacy", "convert", "-c", "ner", str(path), str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    docs = list(DocBin().from_disk(out / "train.spacy").get_docs(spacy.blank("xx").vocab))
    assert len(docs) == 4  # one Doc per -DOCSTART- block, negatives included
    for doc, (text, ents) in zip(docs, DONE):
        assert [t.text for t in doc] == solid_words(text)
        assert [(e.text, e.label_) for e in doc.ents] == ents
        assert "-DOCSTART-" not in doc.text


# -- seqeval ----------------------------------------------------------------------------------


def read_conll_documents(text: str) -> list[list[list[tuple[str, str]]]]:
    """Documents of sentences of (token, tag), the way CoNLL-2003 readers split a file."""
    docs: list[list[list[tuple[str, str]]]] = []
    sentence: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if line.startswith("-DOCSTART-"):
            assert line == "-DOCSTART- -X- O O"
            docs.append([])
            continue
        if not line.strip():
            if sentence:
                docs[-1].append(sentence)
                sentence = []
            continue
        fields = line.split()
        assert len(fields) == 2, line  # a token never holds whitespace
        sentence.append((fields[0], fields[1]))
    assert not sentence
    return docs


def test_seqeval_reads_every_example_with_the_right_entities(corpus: Store, tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    run_export(corpus, "conll", Selection(), path)
    docs = read_conll_documents(path.read_text(encoding="utf-8"))
    assert len(docs) == 4
    for doc, (text, ents) in zip(docs, DONE):
        tokens = [tok for sentence in doc for tok, _ in sentence]
        tags = [[tag for _, tag in sentence] for sentence in doc]
        assert tokens == solid_words(text)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # seqeval warns on tags it cannot read
            strict = Entities(tags, IOB2).entities
            loose = [get_entities(s) for s in tags]
        words = [[tok for tok, _ in sentence] for sentence in doc]
        got = [(" ".join(words[e.sent_id][e.start:e.end]), e.tag) for sent in strict for e in sent]
        assert got == [(w.replace(",", ""), label) for w, label in ents]
        assert sum(len(x) for x in loose) == len(ents)


# -- Hugging Face datasets --------------------------------------------------------------------


def test_datasets_loads_the_hf_export_with_classlabel_names(corpus: Store, tmp_path: Path) -> None:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # the json builder ships with the package
    import datasets
    path = tmp_path / "train.jsonl"
    stats = run_export(corpus, "hf", Selection(), path)
    assert stats.files == ["train.labels.json"]
    names = json.loads((tmp_path / "train.labels.json").read_text(encoding="utf-8"))
    features = datasets.Features({
        "id": datasets.Value("string"), "doc_id": datasets.Value("int64"),
        "annotator": datasets.Value("string"), "status": datasets.Value("string"),
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
    })
    ds = datasets.load_dataset(
        "json", data_files=str(path), features=features, split="train", cache_dir=str(tmp_path / "cache")
    )
    assert ds.num_rows == 4
    label = ds.features["ner_tags"].feature
    for row, (text, ents) in zip(ds, DONE):
        assert row["tokens"] == solid_words(text)
        tags = [label.int2str(t) for t in row["ner_tags"]]
        got = [(" ".join(row["tokens"][s:e + 1]), t) for t, s, e in get_entities(tags)]
        assert got == [(w.replace(",", ""), lab) for w, lab in ents]


# -- brat -------------------------------------------------------------------------------------


def parse_standoff(ann: str) -> list[tuple[str, str, int, int, str]]:
    """Text-bound annotations of an .ann file, by brat's format: ``T<id>\\t<type> <start> <end>\\t<text>``."""
    out = []
    for line in ann.splitlines():
        if not line:
            continue
        ident, middle, text = line.split("\t")
        kind, start, end = middle.split(" ")
        assert ident.startswith("T")
        out.append((ident, kind, int(start), int(end), text))
    return out


def test_brat_parser_reads_every_example_and_the_conf(corpus: Store, tmp_path: Path) -> None:
    folder = tmp_path / "brat"
    assert run_export(corpus, "brat", Selection(), folder).records == 4
    stems = sorted(p.stem for p in folder.glob("*.txt"))
    assert len(stems) == 4 and sorted(p.stem for p in folder.glob("*.ann")) == stems
    for stem, (text, ents) in zip(stems, DONE):
        body = (folder / f"{stem}.txt").read_text(encoding="utf-8")
        assert body == text
        anns = parse_standoff((folder / f"{stem}.ann").read_text(encoding="utf-8"))
        assert [(body[s:e], kind) for _, kind, s, e, _ in anns] == ents
        assert all(given == body[s:e] for _, _, s, e, given in anns)
    conf = (folder / "annotation.conf").read_text(encoding="utf-8")
    sections = {}
    current = None
    for line in conf.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
        elif line.strip():
            sections[current].append(line.strip())
    assert set(sections) == {"entities", "relations", "events", "attributes"}
    assert {"PER", "LOC"} <= set(sections["entities"])


# -- Prodigy ----------------------------------------------------------------------------------


def test_prodigy_jsonl_keeps_every_example_and_its_answer(corpus: Store, tmp_path: Path) -> None:
    path = tmp_path / "all.jsonl"
    stats = run_export(corpus, "jsonl", Selection(status="all"), path)
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert stats.records == len(recs) == 7
    for rec in recs:
        assert prodigy_problems(rec) == [], rec
    assert [r["text"] for r in recs] == [r["text"] for r in RECORDS]
    assert [r["answer"] for r in recs] == ["accept", "accept", "accept", "accept", "ignore", "reject", "ignore"]
    assert [[(s["text"], s["label"]) for s in r["spans"]] for r in recs[:4]] == entity_words(DONE)
    done = [json.loads(line) for line in _export(corpus, tmp_path / "done.jsonl").splitlines()]
    assert [r["text"] for r in done] == [t for t, _ in DONE]  # the default: every done example


def _export(store: Store, path: Path) -> str:
    run_export(store, "jsonl", Selection(), path)
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt,target", [
    ("jsonl", "x.jsonl"), ("spacy", "x.spacy"), ("conll", "x.conll"), ("hf", "x.jsonl"), ("brat", "brat"),
])
def test_every_format_reimports_every_example_done(corpus: Store, tmp_path: Path, fmt: str, target: str) -> None:
    out = tmp_path / target
    run_export(corpus, fmt, Selection(), out)
    with Store(tmp_path / "copy.db", "bob") as copy:
        report = import_paths(copy, [out])
        assert report.ok and report.added == 4, report.to_dict()
        who = "alice" if fmt in ("jsonl", "spacy", "hf") else "bob"
        got = []
        for d in copy.document_ids():
            text = copy.text(d)
            got.append((copy.status(d, who), [(text[s.start:s.end], s.label) for s in copy.spans(d, annotator=who)]))
    assert got == [("done", ents) for _, ents in DONE]
