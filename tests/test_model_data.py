"""Training data from the store: which documents count, sentences, BIO tags, the split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from annotations import Store, import_paths
from annotations.model import labelled_documents, sentences, split_documents
from annotations.model.data import bio_tags, spans_from_tags
from annotations.model.evaluate import score_spans
from annotations.tokenize import tokenize


def _spans(text: str, *pairs: tuple[str, str]) -> list[dict[str, object]]:
    out, pos = [], 0
    for ent, label in pairs:
        i = text.index(ent, pos)
        out.append({"start": i, "end": i + len(ent), "label": label})
        pos = i + len(ent)
    return out


def test_labelled_documents_are_done_or_hold_accepted_spans(
    store: Store, write_jsonl: Callable[..., Path], add_doc: Callable[..., int]
) -> None:
    t1 = "Садыр Жапаров Бишкекке келди."
    t2 = "Президент Владимир Путин выступил в Москве."
    path = write_jsonl([
        {"text": t1, "meta": {"lang": "ky"}, "spans": _spans(t1, ("Садыр Жапаров", "PER"), ("Бишкекке", "LOC"))},
        {"text": t2, "spans": _spans(t2, ("Владимир Путин", "PER")), "answer": "accept"},
    ])
    assert import_paths(store, [path]).ok
    empty_done = add_doc("Бүгүн жаан жаады.")
    store.set_status(empty_done, "done")
    skipped = add_doc("Алмазбек Атамбаев Ошко барды.")
    store.add_span(skipped, 0, 17, "PER")
    store.set_status(skipped, "skipped")
    add_doc("Жөн эле текст.")  # todo, nothing labelled
    docs = labelled_documents(store)
    assert [(d.doc_id, d.annotator) for d in docs] == [(1, "alice"), (2, "alice"), (empty_done, "alice")]
    assert docs[0].spans == ((0, 13, "PER"), (14, 22, "LOC")) and docs[0].lang == "ky"
    assert docs[2].spans == () and len(docs[2].tokens) == 4


def test_annotators_are_kept_apart(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc("Садыр Жапаров Бишкекке келди.")
    store.add_span(doc, 0, 13, "PER")
    bob = store.reopen("bob")
    bob.add_span(doc, 14, 22, "LOC")
    assert [d.spans for d in labelled_documents(store, "alice")] == [((0, 13, "PER"),)]
    assert [d.spans for d in labelled_documents(store, "bob")] == [((14, 22, "LOC"),)]
    both = labelled_documents(store)
    assert [(d.doc_id, d.annotator) for d in both] == [(doc, "alice"), (doc, "bob")]
    train, held = split_documents(both, 0.5, seed=0)
    assert len(train) == 2 and held == []  # one document: both of its versions stay together
    bob.close()


def test_sentences_split_on_newlines_and_final_punctuation() -> None:
    text = "Садыр Жапаров келди. Ал сүйлөдү!\nБаары «макул».\n\nКурс 2,5 млрд. доллар болду. т.е. баары"
    sents = sentences(text, tokenize(text, "ky"))
    assert [" ".join(s.words) for s in sents] == [
        "Садыр Жапаров келди .",
        "Ал сүйлөдү !",
        "Баары « макул » .",
        "Курс 2,5 млрд. доллар болду . т.е . баары",  # no cut before a lower-case word
    ]
    assert all(s.tags is None for s in sents)
    assert all(not w.isspace() for s in sents for w in s.words)
    s0 = sents[0]
    assert [text[a:b] for a, b in zip(s0.starts, s0.ends)] == list(s0.words)


def test_bio_tags_and_no_split_inside_a_span() -> None:
    text = "Биз Т . Ташиев менен жолуктук. Нур-Султан шаарында."
    toks = tokenize(text, "ky")
    spans = [(4, 14, "PER"), (31, 41, "LOC")]
    sents = sentences(text, toks, spans)
    assert [list(zip(s.words, s.tags)) for s in sents] == [
        [("Биз", "O"), ("Т", "B-PER"), (".", "I-PER"), ("Ташиев", "I-PER"), ("менен", "O"),
         ("жолуктук", "O"), (".", "O")],
        [("Нур-Султан", "B-LOC"), ("шаарында", "O"), (".", "O")],
    ]
    # without the span the full stop after "Т" ends a sentence
    assert [s.words[-1] for s in sentences(text, toks)][:2] == [".", "."]
    assert len(sentences(text, toks)) == 3
    # a span that does not fall on token edges is widened to whole tokens
    assert bio_tags(toks, [(9, 11, "PER")])[:5] == ["O", "O", "O", "B-PER", "O"]


def test_spans_from_tags_reads_bio_like_conlleval() -> None:
    tags = ["O", "B-PER", "I-PER", "I-LOC", "O", "I-ORG", "B-PER", "B-PER"]
    assert spans_from_tags(tags) == [(1, 2, "PER"), (3, 3, "LOC"), (5, 5, "ORG"), (6, 6, "PER"), (7, 7, "PER")]


def test_split_is_deterministic_by_document(store: Store, add_doc: Callable[..., int]) -> None:
    for k in range(10):
        doc = add_doc(f"Документ номер {k}: Бишкек.")
        store.set_status(doc, "done")
    docs = labelled_documents(store)
    train, held = split_documents(docs, 0.2, seed=3)
    assert len(held) == 2 and len(train) == 8
    assert split_documents(docs, 0.2, seed=3) == (train, held)
    assert split_documents(docs, 0.2, seed=4)[1] != held
    assert split_documents(docs[:1], 0.5) == (docs[:1], [])
    assert split_documents(docs, 0.0) == (docs, [])
    with pytest.raises(ValueError):
        split_documents(docs, 1.0)


def test_exact_span_scores() -> None:
    gold = [("d", 0, 5, "PER"), ("d", 10, 15, "LOC"), ("e", 0, 3, "ORG")]
    pred = [("d", 0, 5, "PER"), ("d", 10, 14, "LOC"), ("e", 0, 3, "PER")]
    scores = score_spans(gold, pred, documents=2)
    assert scores.labels["PER"].tp == 1 and scores.labels["PER"].fp == 1
    assert scores.labels["LOC"].to_dict()["f1"] == 0.0 and scores.labels["ORG"].support == 1
    assert scores.labels["LOC"].overlap_f1 == 1.0  # the same scorer as `annotate evaluate`
    assert (scores.overall.tp, scores.overall.fp, scores.overall.fn) == (1, 2, 2)
    assert scores.overall.precision == pytest.approx(1 / 3) and scores.f1 == pytest.approx(1 / 3)
    assert scores.to_dict()["documents"] == 2
    assert score_spans([], []).f1 == 0.0
