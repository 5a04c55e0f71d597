"""Running recognisers through the store: suggestions appear as pending spans, are accepted
and rejected with the Store API, never overwrite a decision and never come back once rejected.
"""

from __future__ import annotations

import threading

import pytest

from annotations import Store
from annotations.recognisers import (
    BaseRecogniser,
    RecogniserError,
    Suggestion,
    TextDoc,
    build_recognisers,
    refresh_corpus,
    refresh_document,
    run_recognisers,
    warm_up,
)
from annotations.recognisers.propagation import Propagation


def label(store: Store, doc_id: int, surface: str, lab: str, occurrence: int = 0) -> int:
    """Label the ``occurrence``-th ``surface`` in a document; returns the span id."""
    text = store.text(doc_id)
    i = -1
    for _ in range(occurrence + 1):
        i = text.index(surface, i + 1)
    return store.add_span(doc_id, i, i + len(surface), lab).spans[0].id


def pending(store: Store, doc_id: int) -> list[tuple[str, str, str]]:
    text = store.text(doc_id)
    return [(text[s.start:s.end], s.label, s.origin) for s in store.spans(doc_id, states=("pending",))]


class Fixed(BaseRecogniser):
    """A recogniser that suggests fixed surfaces wherever they occur."""

    def __init__(self, name: str, priority: int, items: list[tuple[str, str]]) -> None:
        self.name, self.priority, self.items = name, priority, items

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        out = []
        for surface, lab in self.items:
            i = doc.text.find(surface)
            if i >= 0:
                out.append(Suggestion(i, i + len(surface), lab, 0.5))
        return out


def test_accepted_span_is_propagated_to_other_documents(seeded_store: Store) -> None:
    store = seeded_store
    label(store, 1, "Москвага", "LOC")
    report = run_recognisers(store, [Propagation()])
    assert report.suggestions["propagation"] > 0
    sugs = pending(store, 2)
    assert ("Москвага", "LOC", "propagation") in sugs and ("Москванын", "LOC", "propagation") in sugs
    assert all(s.score is not None for s in store.spans(2, states=("pending",)))


def test_accept_and_reject_through_the_store_and_rejected_never_return(seeded_store: Store) -> None:
    store = seeded_store
    label(store, 1, "Кыргызстан", "LOC")
    run_recognisers(store, [Propagation()])
    sugs = store.spans(2, states=("pending",))
    first, second = sugs[0], sugs[1]
    store.accept(first.id)
    store.reject(second.id)
    before = {(s.start, s.end, s.state) for s in store.spans(2, states=("accepted", "rejected"))}
    # Reruns, a one-document refresh and a corpus refresh: the decisions stay, the rejected
    # range is not suggested again, the accepted one is not duplicated.
    run_recognisers(store, [Propagation()], status="any")
    refresh_document(store, 2)
    refresh_corpus(store, status=None)
    after = {(s.start, s.end, s.state) for s in store.spans(2, states=("accepted", "rejected"))}
    assert before <= after
    ranges = [(s.start, s.end) for s in store.spans(2, states=("pending",))]
    assert (second.start, second.end) not in ranges and (first.start, first.end) not in ranges


def test_suggestions_never_overlap_an_accepted_span(seeded_store: Store) -> None:
    store = seeded_store
    label(store, 1, "Россия", "LOC")
    label(store, 2, "Россиянын ири", "ORG")  # a person's (odd) decision
    run_recognisers(store, [Propagation()], status="any")
    text = store.text(2)
    i = text.index("Россиянын ири")
    assert all(not (s.start < i + 13 and i < s.end) for s in store.spans(2, states=("pending",)))


def test_refresh_document_follows_a_relabel_and_a_delete(seeded_store: Store) -> None:
    store = seeded_store
    span_id = label(store, 1, "Садыр Жапаров", "LOC")
    refresh_document(store, 1)
    assert ("Садыр Жапаровдун", "LOC", "propagation") in pending(store, 1)
    store.relabel_span(span_id, "PER")
    result = refresh_document(store, 1)
    assert ("Садыр Жапаровдун", "PER", "propagation") in pending(store, 1)
    assert result.doc_id == 1 and result.seconds < 5
    store.delete_span(span_id)
    refresh_document(store, 1)
    assert pending(store, 1) == []


def test_refresh_after_undo_and_from_another_store_of_the_same_file(seeded_store: Store) -> None:
    store = seeded_store
    assert warm_up(store) == 0
    label(store, 1, "Михаил Мишустинди", "PER")
    refresh_document(store, 3)
    assert ("Михаил Мишустин", "PER", "propagation") in pending(store, 3)
    store.undo()
    worker = store.reopen()
    refresh_document(worker, 3)  # a store of another thread shares the cached lexicon safely
    worker.close()
    assert pending(store, 3) == []


def test_suggestions_are_not_undoable_actions(seeded_store: Store) -> None:
    store = seeded_store
    label(store, 1, "Кыргызстан", "LOC")
    run_recognisers(store, [Propagation()])
    assert pending(store, 2)
    store.undo()  # undoes the person's label, not the suggestion run
    assert store.spans(1, states=("accepted",)) == []
    refresh_corpus(store, status=None)  # and the lexicon forgets it
    assert pending(store, 2) == []


def test_overlaps_between_recognisers(seeded_store: Store) -> None:
    store = seeded_store
    low = Fixed("low", 5, [("Садыр Жапаров өлкөгө", "ORG"), ("Михаил Мишустинди", "PER")])
    high = Fixed("high", 50, [("Садыр Жапаров", "PER"), ("Мишустинди", "PER")])
    run_recognisers(store, [low, high], doc_ids=[1])
    got = pending(store, 1)
    # a different label: priority decides; the same label: the longer span is kept
    assert ("Садыр Жапаров", "PER", "high") in got and ("Садыр Жапаров өлкөгө", "ORG", "low") not in got
    assert ("Михаил Мишустинди", "PER", "low") in got and ("Мишустинди", "PER", "high") not in got
    # running only the low one later does not displace the high one's suggestion
    run_recognisers(store, [low], doc_ids=[1])
    assert ("Садыр Жапаров", "PER", "high") in pending(store, 1)


def test_a_rerun_replaces_a_recognisers_earlier_suggestions(seeded_store: Store) -> None:
    store = seeded_store
    run_recognisers(store, [Fixed("r", 5, [("Россия", "LOC")])], doc_ids=[1])
    assert pending(store, 1) == [("Россия", "LOC", "r")]
    run_recognisers(store, [Fixed("r", 5, [("Москвага", "LOC")])], doc_ids=[1])
    assert pending(store, 1) == [("Москвага", "LOC", "r")]


def test_status_filter_and_cancel(seeded_store: Store) -> None:
    store = seeded_store
    label(store, 1, "Кыргызстан", "LOC")
    store.set_status(2, "done")
    report = run_recognisers(store, [Propagation()], status="todo")
    assert report.documents == 4 and pending(store, 2) == []
    cancel = threading.Event()
    cancel.set()
    assert run_recognisers(store, [Propagation()], status="any", cancel=cancel).cancelled


def test_progress_is_reported(seeded_store: Store) -> None:
    seen: list[tuple[int, int]] = []
    run_recognisers(seeded_store, [Propagation()], status="any", progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)


def test_refresh_corpus_skips_excluded_documents(seeded_store: Store) -> None:
    store = seeded_store
    label(store, 1, "Кыргызстан", "LOC")
    report = refresh_corpus(store, exclude=[2])
    assert report.documents == 4 and pending(store, 2) == []


def test_unknown_and_unavailable_recognisers_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RecogniserError, match="unknown recogniser 'nope'"):
        build_recognisers(["nope"])
    from annotations.recognisers import natasha_ner

    monkeypatch.setattr(natasha_ner.NatashaRecogniser, "unavailable", lambda self: "not here")
    with pytest.raises(RecogniserError, match="cannot run: not here"):
        build_recognisers(["natasha"])
    recs, skipped = build_recognisers()
    assert "natasha" in skipped and [r.name for r in recs] == [
        "propagation", "translit", "patterns", "gazetteer", "natasha-ky",
    ]


def test_bulk_store_keeps_the_rules_of_add_suggestions(seeded_store: Store) -> None:
    store = seeded_store
    acc = label(store, 1, "Садыр Жапаров", "PER")
    text = store.text(1)
    i = text.index("Михаил Мишустинди")
    store.add_suggestions(1, [(i, i + 17, "PER", 0.5)], "x")
    rejected = store.spans(1, states=("pending",))[0]
    store.reject(rejected.id)
    j = text.index("Садыр Жапаров")
    k = text.index("Кыргызстан")
    counts = store.add_suggestions_many([
        (1, [(j, j + 5, "PER", 0.9),  # overlaps the accepted span
             (i, i + 17, "PER", 0.9),  # the rejected range
             (k, k + 10, "EVENT", 0.9),  # unknown label
             (k, k + 10, "LOC", 0.9)]),
        (2, [(0, 5, "PER", 0.7), (6, 10, "LOC", None)]),
    ], "bulk")
    assert counts == {1: 1, 2: 2}
    spans = store.spans(2, states=("pending",))
    assert [(s.start, s.end, s.origin, s.score) for s in spans] == [(0, 5, "bulk", 0.7), (6, 10, "bulk", None)]
    assert spans[1].id == spans[0].id + 1
    suggest_events = [e for e in store.events(limit=5) if e["action"] == "suggest"]
    assert {e["doc_id"] for e in suggest_events[:2]} == {1, 2}
    store.undo()  # the person's last action (the reject), not the bulk suggestions
    assert store.span(rejected.id).state == "pending"
    store.undo()  # and then the label
    assert acc not in {s.id for s in store.spans(1, states=("accepted", "pending"))}
    assert len(store.spans(2, states=("pending",))) == 2
