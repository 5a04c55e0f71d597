"""``merge``: work done on a laptop comes back into the shared file; idempotent, all-or-nothing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from team_helpers import build_team, span_of

from annotations import Store, import_paths, import_seeds
from annotations.team import assign
from annotations.team.merge import MergeConflict, merge_database


def _layers(store: Store) -> set[tuple[str, str, int, int, str, str]]:
    """(document hash, annotator, start, end, label, state) of every span: comparable across files."""
    return set(store.db.conn.execute(
        "SELECT d.hash, s.annotator, s.start, s.end, s.label, s.state FROM spans s JOIN documents d ON d.id = s.doc_id"
    ).fetchall())


def _statuses(store: Store) -> set[tuple[str, str, str]]:
    return set(store.db.conn.execute(
        "SELECT d.hash, s.annotator, s.status FROM doc_status s JOIN documents d ON d.id = s.doc_id").fetchall())


def test_a_laptop_copy_comes_back(tmp_path: Path, dump_db) -> None:
    shared = tmp_path / "shared.db"
    with Store(shared, "lead") as lead:
        import_seeds(lead)
        assign(lead, ["aida", "bek"], 1)
    laptop = tmp_path / "laptop.db"
    shutil.copy(shared, laptop)
    with Store(shared, "aida") as aida:  # aida works on the shared file
        aida.add_span(1, *span_of(aida, 1, "Садыр Жапаров"), "PER")
        aida.set_status(1, "done")
    with Store(laptop, "bek") as bek:  # bek on his laptop
        bek.add_span(2, *span_of(bek, 2, "Бишкектен"), "LOC")
        bek.add_span(2, *span_of(bek, 2, "Москвага"), "LOC")
        bek.undo()
        bek.add_span(2, *span_of(bek, 2, "Москвага"), "ORG")
        bek.set_status(2, "done")
    with Store(shared, "lead") as lead:
        report = merge_database(lead, laptop)
        assert report.documents == 0 and report.spans == 2 and report.statuses == 1
        assert report.events == 5  # bek's four actions and his undo; the copy's own events are known
        assert lead.spans(2, annotator="bek") and lead.status(2, "bek") == "done"
        assert lead.status(1, "aida") == "done"
        before = dump_db(lead)
        again = merge_database(lead, laptop)
        assert not again.changed and dump_db(lead) == before
    # bek's history came with his work: his last action can be undone here.
    with Store(shared, "bek") as bek:
        assert bek.status(2) == "done"
        bek.undo()
        assert bek.status(2) == "todo"
        bek.undo()  # the ORG label
        bek.redo()
        assert {(s.label) for s in bek.spans(2)} == {"LOC", "ORG"}


def test_documents_and_labels_by_content(tmp_path: Path, write_jsonl) -> None:
    other = tmp_path / "other.db"
    with Store(other, "chyngyz") as there:
        import_paths(there, [write_jsonl([{"text": "Бишкек шаары чоң.", "spans": [{"start": 0, "end": 6, "label": "CITY"}]},
                                          {"text": "Ош шаары да чоң."}])])
    here_path = tmp_path / "here.db"
    with Store(here_path, "lead") as here:
        import_paths(here, [write_jsonl([{"text": "Ош шаары да чоң."}], "mine.jsonl")])
        report = merge_database(here, other)
        assert report.documents == 1 and report.labels == ["CITY"] and report.spans == 1
        assert here.count_documents() == 2
        assert here.documents(search="Бишкек")[0].title == "Бишкек шаары чоң."
        assert _layers(here) == {(here.document(2).hash, "chyngyz", 0, 6, "CITY", "accepted")}


def test_conflicts_are_refused_whole_with_a_report(tmp_path: Path, dump_db) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    build_team(a)
    shutil.copy(a, b)
    with Store(b, "aida") as aida:  # aida changed her mind on the laptop copy
        span = aida.spans(1)[0]
        aida.relabel_span(span.id, "ORG")
        aida.edit_label("LOC", colour="#123456")
        aida.add_label("EVENT")
    with Store(b, "dana") as dana:  # and a newcomer's work, which must not slip in either
        dana.add_span(5, 0, 4, "PER")
    with Store(a, "aida") as aida:  # while on the shared file she removed that span: the two diverged
        aida.delete_span(aida.spans(1)[0].id)
    with Store(a, "lead") as lead:
        before = dump_db(lead)
        with pytest.raises(MergeConflict) as caught:
            merge_database(lead, b)
        problems = caught.value.problems
        assert any("label 'LOC'" in p and "#123456" in p for p in problems)
        assert any("aida's spans differ" in p for p in problems)
        assert "nothing was merged" in str(caught.value)
        assert dump_db(lead) == before


def test_status_conflict_and_bad_sources(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    with Store(a, "aida") as s:
        import_seeds(s)
    shutil.copy(a, b)
    with Store(a, "aida") as s:
        s.set_status(3, "done")
    with Store(b, "aida") as s:
        s.set_status(3, "skipped")
    with Store(a, "lead") as lead:
        with pytest.raises(MergeConflict) as caught:
            merge_database(lead, b)
        assert "marked it done here and skipped" in caught.value.problems[0]
        junk = tmp_path / "junk.db"
        junk.write_bytes(b"not a database at all" * 100)
        with pytest.raises(Exception, match="not a database"):
            merge_database(lead, junk)
        with pytest.raises(Exception, match="no such database"):
            merge_database(lead, tmp_path / "missing.db")
        with pytest.raises(Exception, match="this database"):
            merge_database(lead, a)


TEXTS = [
    "Садыр Жапаров Москвага келди жана Путин менен жолукту.",
    "Бишкекте ЕАЭБ жыйыны өттү, анда Мишустин сүйлөдү.",
    "Ош шаарында Нур-Султандан келген делегация болду.",
    "Токтогул Сатылганов атындагы филармония.",
]
WORDS = [[(m.start(), m.end()) for m in __import__("re").finditer(r"\w+", t)] for t in TEXTS]

layer = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["PER", "LOC", "ORG"])), max_size=3, unique_by=lambda x: x[0])
work = st.dictionaries(
    st.tuples(st.integers(0, 3), st.sampled_from(["aida", "bek"])),
    st.tuples(layer, st.sampled_from(["todo", "done", "skipped"]), st.booleans()),
    max_size=5,
)


def _fill(path: Path, docs: list[int], work: dict, jsonl: Path) -> None:
    with Store(path, "lead") as lead:
        jsonl.write_text("".join('{"text": "%s"}\n' % TEXTS[i] for i in docs), encoding="utf-8")
        import_paths(lead, [jsonl])
        ids = {lead.text(d): d for d in lead.document_ids()}
    for (doc, name), (spans, status, undo) in sorted(work.items()):
        if doc not in docs:
            continue
        with Store(path, name) as s:
            doc_id = ids[TEXTS[doc]]
            for word, label in spans:
                if word < len(WORDS[doc]):
                    s.add_span(doc_id, *WORDS[doc][word], label)
            if undo and s.can_undo():
                s.undo()
            if status != "todo":
                s.set_status(doc_id, status)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source_docs=st.sets(st.integers(0, 3), min_size=1), target_docs=st.sets(st.integers(0, 3)),
       source_work=work, target_work=work)
def test_merging_twice_changes_nothing(source_docs, target_docs, source_work, target_work) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        source, target = tmpdir / "source.db", tmpdir / "target.db"
        _fill(source, sorted(source_docs), source_work, tmpdir / "s.jsonl")
        _fill(target, sorted(target_docs), {k: v for k, v in target_work.items() if k[1] == "bek"} | {
            (d, "lead"): v for (d, _), v in target_work.items()}, tmpdir / "t.jsonl")
        from conftest import _dump

        with Store(target, "lead") as t, Store(source, "lead") as s:
            before = _dump(t)
            try:
                merge_database(t, source)
            except MergeConflict:
                assert _dump(t) == before  # all or nothing
                return
            once = _dump(t)
            assert not merge_database(t, source).changed
            assert _dump(t) == once
            # Everything the source holds is here now; nothing that was here is gone.
            assert _layers(s) <= _layers(t)
            assert {x for x in _statuses(s) if x[2] != "todo"} <= _statuses(t)
            before_hashes = {r[1] for r in before["documents"]}
            assert before_hashes <= {r[1] for r in once["documents"]}


def test_actions_in_the_same_millisecond_are_all_brought_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    with Store(a, "lead") as s:
        import_seeds(s)
    shutil.copy(a, b)
    monkeypatch.setattr("annotations.store.now", lambda: "2026-01-01T00:00:00.000+00:00")
    with Store(b, "bek") as bek:
        bek.add_span(2, *span_of(bek, 2, "Бишкектен"), "LOC")
        bek.add_span(2, *span_of(bek, 2, "Москвага"), "LOC")
    with Store(a, "lead") as lead:
        assert merge_database(lead, b).events == 2
        assert not merge_database(lead, b).changed


def test_work_begun_before_the_copy_comes_back_and_a_stale_copy_changes_nothing(tmp_path: Path) -> None:
    """The README's laptop workflow with work already under way when the copy was taken: the
    copy's later state of a layer is brought in (by the shared event log), a copy older than
    the shared file is no conflict, and undo here walks back through both files' actions."""
    shared, laptop = tmp_path / "shared.db", tmp_path / "laptop.db"
    with Store(shared, "lead") as lead:
        import_seeds(lead)
    with Store(shared, "aida") as aida:
        aida.add_span(1, *span_of(aida, 1, "Садыр Жапаров"), "PER")
    with Store(shared, "bek") as bek:
        bek.add_span(2, *span_of(bek, 2, "Бишкектен"), "LOC")
        bek.add_span(2, *span_of(bek, 2, "Sputnik"), "ORG")
        bek.add_span(2, *span_of(bek, 2, "Москвага"), "ORG")
    shutil.copy(shared, laptop)
    with Store(shared, "aida") as aida:  # aida goes on with doc 1 on the shared file
        aida.add_span(1, *span_of(aida, 1, "Михаил Мишустинди"), "PER")
        aida.set_status(1, "done")
    with Store(laptop, "bek") as bek:  # bek goes on with doc 2 on the laptop: relabels, removes, adds
        spans = {bek.text(2)[s.start:s.end]: s for s in bek.spans(2)}
        bek.relabel_span(spans["Москвага"].id, "LOC")
        bek.delete_span(spans["Sputnik"].id)
        bek.add_span(2, *span_of(bek, 2, "Жапаровдун"), "PER")
        bek.set_status(2, "done")
    with Store(shared, "lead") as lead:
        report = merge_database(lead, laptop)
        assert report.updated == 1 and report.statuses == 1 and report.events == 4
        assert {(lead.text(2)[s.start:s.end], s.label) for s in lead.spans(2, annotator="bek")} == {
            ("Бишкектен", "LOC"), ("Москвага", "LOC"), ("Жапаровдун", "PER")}
        assert lead.status(2, "bek") == "done"
        # aida's doc 1 in the laptop copy is an earlier state of hers here: left as it is.
        assert len(lead.spans(1, annotator="aida")) == 2 and lead.status(1, "aida") == "done"
        assert not merge_database(lead, laptop).changed
    with Store(shared, "bek") as bek:  # his whole history, from both files, undoes here
        for _ in range(4):
            bek.undo()
        assert {(bek.text(2)[s.start:s.end], s.label) for s in bek.spans(2)} == {
            ("Бишкектен", "LOC"), ("Sputnik", "ORG"), ("Москвага", "ORG")}
        bek.undo()  # Москвага, added on the shared file before the copy
        assert len(bek.spans(2)) == 2
        for _ in range(5):
            bek.redo()
        assert bek.status(2) == "done" and len(bek.spans(2)) == 3
    # Both went on after the copy: that is still a conflict, refused whole.
    with Store(laptop, "aida") as aida:
        aida.add_span(1, *span_of(aida, 1, "Россия Федерациясынын"), "LOC")
    with Store(shared, "lead") as lead:
        with pytest.raises(MergeConflict) as caught:
            merge_database(lead, laptop)
        assert any("aida's spans differ" in p for p in caught.value.problems)


def _work_on(path: Path, work: dict) -> None:
    """Apply ``work`` (as :func:`_fill`'s) to a database that already holds the texts."""
    with Store(path, "lead") as lead:
        ids = {lead.text(i): i for i in lead.document_ids()}
    for (doc, name), (spans, status, undo) in sorted(work.items()):
        with Store(path, name) as s:
            doc_id = ids[TEXTS[doc]]
            for word, label in spans:
                if word < len(WORDS[doc]):
                    s.add_span(doc_id, *WORDS[doc][word], label)
            if spans and undo and s.can_undo():
                s.undo()
            if undo and not spans:  # clears the layer
                for span in s.spans(doc_id):
                    s.delete_span(span.id)
            if status != s.status(doc_id):
                s.set_status(doc_id, status)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=work, later=work, here=work)
def test_a_copy_worked_on_merges_back_to_its_state(base, later, here) -> None:
    """A copy taken at any point and worked on merges back without conflict where only the copy
    went on (its layers and statuses arrive as they are there), changes nothing where only this
    file went on, and merging it again changes nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        shared, laptop = tmpdir / "shared.db", tmpdir / "laptop.db"
        _fill(shared, [0, 1, 2, 3], base, tmpdir / "s.jsonl")
        shutil.copy(shared, laptop)
        later = {k: v for k, v in later.items() if k[1] == "bek"}  # bek on the laptop...
        _work_on(laptop, later)
        _work_on(shared, {k: v for k, v in here.items() if k[1] == "aida"})  # ...aida on the shared file
        from conftest import _dump

        with Store(shared, "lead") as t, Store(laptop, "lead") as s:
            aida_before = {x for x in _layers(t) if x[1] == "aida"}
            merge_database(t, laptop)
            assert {x for x in _layers(t) if x[1] == "bek"} == {x for x in _layers(s) if x[1] == "bek"}
            assert {x for x in _statuses(t) if x[1] == "bek" and x[2] != "todo"} == {
                x for x in _statuses(s) if x[1] == "bek" and x[2] != "todo"}
            assert {x for x in _layers(t) if x[1] == "aida"} == aida_before
            once = _dump(t)
            assert not merge_database(t, laptop).changed
            assert _dump(t) == once
