"""``merge``: work done on a laptop comes back into the shared database; idempotent, all-or-nothing.

Every test runs with the shared database (the target) on SQLite and on PostgreSQL
(``BOTH_BACKENDS``); most also with the laptop's database (the source) on either backend
(``source_name``): SQLite into PostgreSQL, PostgreSQL into SQLite, PostgreSQL into PostgreSQL,
as SQLite into SQLite. A "copy" of a database (the laptop taking the shared file along) is
``cp`` between SQLite files, ``CREATE DATABASE ... TEMPLATE`` between PostgreSQL databases,
and ``annotate copy`` (verified, ids kept) across the two.
"""

from __future__ import annotations

import shutil
import tempfile
from itertools import count
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner
from conftest import _dump as _sqlite_dump
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import conninfo
from team_helpers import build_team, span_of

from annotations import Store, import_seeds
from annotations.store import NewDocument, connect_backend, is_postgres_url
from annotations.store.backend import TABLES
from annotations.store.copy import ID_TABLES, copy_database
from annotations.team import assign
from annotations.team.merge import MergeConflict, merge_database

BOTH_BACKENDS = True

_names = count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def source_name(request: pytest.FixtureRequest) -> str:
    """The backend of the database merged from (the laptop's)."""
    return str(request.param)


@pytest.fixture
def place(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """``place(backend)``: where a new database of that backend goes (a file path, or a fresh URL)."""

    def new(backend: str) -> Any:
        if backend == "postgresql":
            return request.getfixturevalue("pg_server").new_database()
        return tmp_path / f"db{next(_names)}.db"

    return new


def copy_db(src: Any, target: Any) -> None:
    """The whole database at ``src`` taken along to ``target`` (a new file or a fresh database)."""
    if not is_postgres_url(src) and not is_postgres_url(target):
        shutil.copy(src, target)
        return
    if is_postgres_url(src) and is_postgres_url(target):
        import psycopg

        info, there = conninfo.conninfo_to_dict(src), conninfo.conninfo_to_dict(target)
        admin = conninfo.make_conninfo(src, dbname="postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {there['dbname']}")
            conn.execute(f"CREATE DATABASE {there['dbname']} TEMPLATE {info['dbname']}")
        return
    a, b = connect_backend(src), connect_backend(target)
    try:
        copy_database(a, b)
    finally:
        a.close()
        b.close()


def seed(store: Store) -> None:
    """The five seed articles, ids 1-5 (the importer, on either backend)."""
    assert import_seeds(store).added == 5


def add_texts(store: Store, texts: list[str]) -> None:
    store.add_documents([NewDocument(t, source="texts.jsonl", line=n) for n, t in enumerate(texts, 1)])


def dump_db(store: Store, *, counters: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and each id counter), for "nothing changed" comparisons.

    ``counters=False``: without PostgreSQL's id sequences, for comparisons after a refused or
    failed merge (a sequence is not transactional: ids a rolled-back insert drew stay used).
    """
    if store.backend.name == "sqlite":
        return _sqlite_dump(store)
    b = store.backend
    out = {t: sorted(b.table_rows(t), key=repr) for t in TABLES}
    if counters:
        out["id counters"] = [(t, b.id_high_water(t)) for t in ID_TABLES]
    return out


def _layers(store: Store) -> set[tuple[str, str, int, int, str, str]]:
    """(document hash, annotator, start, end, label, state) of every span: comparable across databases."""
    return set(store.backend.all(
        'SELECT d.hash, s.annotator, s.start, s."end", s.label, s.state FROM spans s JOIN documents d ON d.id = s.doc_id'
    ))


def _statuses(store: Store) -> set[tuple[str, str, str]]:
    return set(store.backend.all(
        "SELECT d.hash, s.annotator, s.status FROM doc_status s JOIN documents d ON d.id = s.doc_id"))


def test_a_laptop_copy_comes_back(db_path: Any, source_name: str, place: Callable[[str], Any]) -> None:
    shared = db_path
    with Store(shared, "lead") as lead:
        seed(lead)
        assign(lead, ["aida", "bek"], 1)
        lead.document(3)  # a token cache row, which the copy also holds
    laptop = place(source_name)
    copy_db(shared, laptop)
    with Store(shared, "aida") as aida:  # aida works on the shared database
        aida.add_span(1, *span_of(aida, 1, "Садыр Жапаров"), "PER")
        aida.set_status(1, "done")
    with Store(laptop, "bek") as bek:  # bek on his laptop
        bek.start_session()
        bek.add_span(2, *span_of(bek, 2, "Бишкектен"), "LOC")
        bek.add_span(2, *span_of(bek, 2, "Москвага"), "LOC")
        bek.undo()
        bek.add_span(2, *span_of(bek, 2, "Москвага"), "ORG")
        bek.set_status(2, "done")
        bek.end_session()
        bek.backend.add_reviewer("bek", "2026-01-01T00:00:00.000+00:00")
    with Store(shared, "lead") as lead:
        report = merge_database(lead, laptop)
        assert report.documents == 0 and report.spans == 2 and report.statuses == 1
        assert report.events == 5  # bek's four actions and his undo; the copy's own events are known
        assert report.sessions == 1 and report.reviewers == 1 and report.assignments == 0
        assert lead.spans(2, annotator="bek") and lead.status(2, "bek") == "done"
        assert lead.status(1, "aida") == "done"
        assert lead.backend.reviewers() == ["bek"]
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
        # A new span gets an id no span (nor the log) has used on either side.
        new = bek.add_span(4, *span_of(bek, 4, "Жапаров"), "PER").spans[0]
        used = {ch["span"]["id"] for e in bek.events(limit=10**6) for ch in e["changes"] if "span" in ch}
        assert new.id == max(used)


def test_documents_labels_and_token_caches_by_content(db_path: Any, source_name: str,
                                                      place: Callable[[str], Any]) -> None:
    other = place(source_name)
    with Store(other, "chyngyz") as there:
        add_texts(there, ["Бишкек шаары чоң.", "Ош шаары да чоң."])
        there.add_label("CITY", key="7", colour="#aa5500")
        there.add_span(1, 0, 6, "CITY")
        tokens = there.tokens(1)  # cached in the source: comes along with the document
    with Store(db_path, "lead") as here:
        add_texts(here, ["Ош шаары да чоң."])
        report = merge_database(here, other)
        assert report.documents == 1 and report.labels == ["CITY"] and report.spans == 1
        assert here.count_documents() == 2
        assert here.documents(search="Бишкек")[0].title == "Бишкек шаары чоң."
        assert _layers(here) == {(here.document(2).hash, "chyngyz", 0, 6, "CITY", "accepted")}
        assert here.backend.count_rows("doc_tokens") == 1 and list(here.tokens(2).starts) == list(tokens.starts)
        city = next(lab for lab in here.labels() if lab.name == "CITY")
        assert (city.key, city.colour) == ("7", "#aa5500")
        assert not merge_database(here, other).changed


def test_conflicts_are_refused_whole_with_a_report(db_path: Any, source_name: str,
                                                   place: Callable[[str], Any]) -> None:
    a, b = db_path, place(source_name)
    build_team(a)
    copy_db(a, b)
    with Store(b, "aida") as aida:  # aida changed her mind on the laptop copy
        span = aida.spans(1)[0]
        aida.relabel_span(span.id, "ORG")
        aida.edit_label("LOC", colour="#123456")
        aida.add_label("EVENT")
    with Store(b, "dana") as dana:  # and a newcomer's work, which must not slip in either
        dana.add_span(5, 0, 4, "PER")
    with Store(a, "aida") as aida:  # while on the shared database she removed that span: the two diverged
        aida.delete_span(aida.spans(1)[0].id)
    with Store(a, "lead") as lead:
        before = dump_db(lead, counters=False)
        with pytest.raises(MergeConflict) as caught:
            merge_database(lead, b)
        problems = caught.value.problems
        assert any("label 'LOC'" in p and "#123456" in p for p in problems)
        assert any("aida's spans differ" in p for p in problems)
        assert "nothing was merged" in str(caught.value)
        assert dump_db(lead, counters=False) == before


def test_a_failure_halfway_writes_nothing(db_path: Any, place: Callable[[str], Any],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A source that breaks off after documents, labels and spans went in leaves the target as it was."""
    other = place("sqlite")
    with Store(other, "bek") as there:
        add_texts(there, ["Бишкек шаары чоң.", "Ош шаары да чоң."])
        there.add_label("CITY")
        there.add_span(1, 0, 6, "CITY")
        there.set_status(1, "done")
    with Store(db_path, "lead") as here:
        seed(here)
        before = dump_db(here, counters=False)

        def broken(self: Any) -> Any:
            raise here.backend.DatabaseError("disk I/O error")

        monkeypatch.setattr(type(here.backend), "merge_event_keys", broken)
        with pytest.raises(Exception, match="disk I/O error"):
            merge_database(here, other)
        monkeypatch.undo()
        assert dump_db(here, counters=False) == before
        assert merge_database(here, other).documents == 2  # and it goes in whole afterwards


def test_status_conflict_and_bad_sources(db_path: Any, source_name: str, place: Callable[[str], Any],
                                         tmp_path: Path) -> None:
    a, b = db_path, place(source_name)
    with Store(a, "aida") as s:
        seed(s)
    copy_db(a, b)
    with Store(a, "aida") as s:
        s.set_status(3, "done")
    with Store(b, "aida") as s:
        s.set_status(3, "skipped")
    with Store(a, "lead") as lead:
        with pytest.raises(MergeConflict) as caught:
            merge_database(lead, b)
        assert "marked it done here and skipped" in caught.value.problems[0]
        with pytest.raises(Exception, match="this database"):
            merge_database(lead, a)
        if source_name == "sqlite":
            junk = tmp_path / "junk.db"
            junk.write_bytes(b"not a database at all" * 100)
            with pytest.raises(Exception, match="not a database"):
                merge_database(lead, junk)
            with pytest.raises(Exception, match="no such database"):
                merge_database(lead, tmp_path / "missing.db")
            empty = tmp_path / "empty.db"
            __import__("sqlite3").connect(empty).execute("CREATE TABLE t (x)").connection.close()
        else:
            server = conninfo.conninfo_to_dict(b)
            with pytest.raises(Exception, match="no database 'nosuchdb'"):
                merge_database(lead, "postgresql://postgres@/nosuchdb?host=" + server["host"])
            empty = b.replace(server["dbname"], server["dbname"] + "e")  # a database, but not annotate's
            import psycopg

            with psycopg.connect(conninfo.make_conninfo(b, dbname="postgres"), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {server['dbname']}e")
        with pytest.raises(Exception, match="not an annotate database"):
            merge_database(lead, empty)
    if source_name == "postgresql":  # never migrated by the merge: still no tables there
        import psycopg

        with psycopg.connect(empty) as conn:
            assert conn.execute("SELECT to_regclass('documents')").fetchone() == (None,)


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


def _fill(location: Any, docs: list[int], work: dict) -> None:
    with Store(location, "lead") as lead:
        add_texts(lead, [TEXTS[i] for i in docs])
        ids = {lead.text(d): d for d in lead.document_ids()}
    for (doc, name), (spans, status, undo) in sorted(work.items()):
        if doc not in docs:
            continue
        with Store(location, name) as s:
            doc_id = ids[TEXTS[doc]]
            for word, label in spans:
                if word < len(WORDS[doc]):
                    s.add_span(doc_id, *WORDS[doc][word], label)
            if undo and s.can_undo():
                s.undo()
            if status != "todo":
                s.set_status(doc_id, status)


class Places:
    """New databases for a property test's examples (hypothesis calls the test many times)."""

    def __init__(self, folder: Path, pg: Any) -> None:
        self.folder, self.pg = folder, pg

    def new(self, backend: str) -> Any:
        if backend == "postgresql":
            return self.pg.new_database()
        return self.folder / f"db{next(_names)}.db"


#: The property tests' examples per backend pair: fewer where PostgreSQL makes each example slower.
EXAMPLES = {"sqlite": 25, "postgresql": 5}


def _mixed(backend_name: str) -> str:
    """The source's backend in a property test: the other one than the target's (SQLite
    into PostgreSQL, PostgreSQL into SQLite); same-backend pairs are covered by the tests above."""
    return "sqlite" if backend_name == "postgresql" else "postgresql"


@pytest.mark.parametrize("mixed", [False, True], ids=["same", "mixed"])
def test_merging_twice_changes_nothing(backend_name: str, mixed: bool, request: pytest.FixtureRequest) -> None:
    source_backend = _mixed(backend_name) if mixed else backend_name
    slow = "postgresql" in (backend_name, source_backend)

    @settings(max_examples=EXAMPLES["postgresql" if slow else "sqlite"], deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(source_docs=st.sets(st.integers(0, 3), min_size=1), target_docs=st.sets(st.integers(0, 3)),
           source_work=work, target_work=work)
    def check(source_docs, target_docs, source_work, target_work) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            places = Places(Path(tmp), request.getfixturevalue("pg_server") if slow else None)
            source, target = places.new(source_backend), places.new(backend_name)
            _fill(source, sorted(source_docs), source_work)
            _fill(target, sorted(target_docs), {k: v for k, v in target_work.items() if k[1] == "bek"} | {
                (d, "lead"): v for (d, _), v in target_work.items()})
            with Store(target, "lead") as t, Store(source, "lead") as s:
                before = dump_db(t, counters=False)
                try:
                    merge_database(t, source)
                except MergeConflict:
                    assert dump_db(t, counters=False) == before  # all or nothing
                    return
                once = dump_db(t)
                assert not merge_database(t, source).changed
                assert dump_db(t) == once
                # Everything the source holds is here now; nothing that was here is gone.
                assert _layers(s) <= _layers(t)
                assert {x for x in _statuses(s) if x[2] != "todo"} <= _statuses(t)
                before_hashes = {r[1] for r in before["documents"]}
                assert before_hashes <= {r[1] for r in once["documents"]}

    check()


def test_actions_in_the_same_millisecond_are_all_brought_in(db_path: Any, source_name: str,
                                                            place: Callable[[str], Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = db_path, place(source_name)
    with Store(a, "lead") as s:
        seed(s)
    copy_db(a, b)
    monkeypatch.setattr("annotations.store.now", lambda: "2026-01-01T00:00:00.000+00:00")
    with Store(b, "bek") as bek:
        bek.add_span(2, *span_of(bek, 2, "Бишкектен"), "LOC")
        bek.add_span(2, *span_of(bek, 2, "Москвага"), "LOC")
    with Store(a, "lead") as lead:
        assert merge_database(lead, b).events == 2
        assert not merge_database(lead, b).changed


def test_work_begun_before_the_copy_comes_back_and_a_stale_copy_changes_nothing(
        db_path: Any, source_name: str, place: Callable[[str], Any]) -> None:
    """The README's laptop workflow with work already under way when the copy was taken: the
    copy's later state of a layer is brought in (by the shared event log), a copy older than
    the shared database is no conflict, and undo here walks back through both databases' actions."""
    shared, laptop = db_path, place(source_name)
    with Store(shared, "lead") as lead:
        seed(lead)
    with Store(shared, "aida") as aida:
        aida.add_span(1, *span_of(aida, 1, "Садыр Жапаров"), "PER")
    with Store(shared, "bek") as bek:
        bek.add_span(2, *span_of(bek, 2, "Бишкектен"), "LOC")
        bek.add_span(2, *span_of(bek, 2, "Sputnik"), "ORG")
        bek.add_span(2, *span_of(bek, 2, "Москвага"), "ORG")
    copy_db(shared, laptop)
    with Store(shared, "aida") as aida:  # aida goes on with doc 1 on the shared database
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
    with Store(shared, "bek") as bek:  # his whole history, from both databases, undoes here
        for _ in range(4):
            bek.undo()
        assert {(bek.text(2)[s.start:s.end], s.label) for s in bek.spans(2)} == {
            ("Бишкектен", "LOC"), ("Sputnik", "ORG"), ("Москвага", "ORG")}
        bek.undo()  # Москвага, added on the shared database before the copy
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


def _work_on(location: Any, work: dict) -> None:
    """Apply ``work`` (as :func:`_fill`'s) to a database that already holds the texts."""
    with Store(location, "lead") as lead:
        ids = {lead.text(i): i for i in lead.document_ids()}
    for (doc, name), (spans, status, undo) in sorted(work.items()):
        with Store(location, name) as s:
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


@pytest.mark.parametrize("mixed", [False, True], ids=["same", "mixed"])
def test_a_copy_worked_on_merges_back_to_its_state(backend_name: str, mixed: bool,
                                                   request: pytest.FixtureRequest) -> None:
    """A copy taken at any point and worked on merges back without conflict where only the copy
    went on (its layers and statuses arrive as they are there), changes nothing where only this
    database went on, and merging it again changes nothing."""
    source_backend = _mixed(backend_name) if mixed else backend_name
    slow = "postgresql" in (backend_name, source_backend)

    @settings(max_examples=15 if not slow else 4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(base=work, later=work, here=work)
    def check(base, later, here) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            places = Places(Path(tmp), request.getfixturevalue("pg_server") if slow else None)
            shared, laptop = places.new(backend_name), places.new(source_backend)
            _fill(shared, [0, 1, 2, 3], base)
            copy_db(shared, laptop)
            later = {k: v for k, v in later.items() if k[1] == "bek"}  # bek on the laptop...
            _work_on(laptop, later)
            _work_on(shared, {k: v for k, v in here.items() if k[1] == "aida"})  # ...aida on the shared one
            with Store(shared, "lead") as t, Store(laptop, "lead") as s:
                aida_before = {x for x in _layers(t) if x[1] == "aida"}
                merge_database(t, laptop)
                assert {x for x in _layers(t) if x[1] == "bek"} == {x for x in _layers(s) if x[1] == "bek"}
                assert {x for x in _statuses(t) if x[1] == "bek" and x[2] != "todo"} == {
                    x for x in _statuses(s) if x[1] == "bek" and x[2] != "todo"}
                assert {x for x in _layers(t) if x[1] == "aida"} == aida_before
                once = dump_db(t)
                assert not merge_database(t, laptop).changed
                assert dump_db(t) == once

    check()


def test_annotate_merge_into_postgresql(tmp_path: Path, pg_server: Any) -> None:
    """``annotate --db postgresql://... merge laptop.db``: the command on a PostgreSQL store."""
    from tui.cli import main as cli

    url = pg_server.new_database()
    with Store(url, "lead") as lead:
        seed(lead)
    laptop = tmp_path / "laptop.db"
    copy_db(url, laptop)
    with Store(laptop, "bek") as bek:
        bek.add_span(2, *span_of(bek, 2, "Бишкектен"), "LOC")
        bek.set_status(2, "done")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", url, "merge", str(laptop)])
    assert result.exit_code == 0, result.output
    assert f"Merged {laptop}: 0 new document(s), 1 span(s), 1 status(es)" in result.output
    with Store(url, "bek") as bek:
        assert [s.label for s in bek.spans(2)] == ["LOC"] and bek.status(2) == "done"
    result = runner.invoke(cli, ["--db", url, "merge", str(laptop)])
    assert result.exit_code == 0 and "nothing new (already merged)" in result.output
    # And back the other way, a PostgreSQL source named by its URL (never with a password).
    back = tmp_path / "back.db"
    with Store(back, "lead") as lead:
        seed(lead)
    secret = url.replace("postgres@", "postgres:hush@")
    result = runner.invoke(cli, ["--db", str(back), "merge", "--json", secret])
    assert result.exit_code == 0, result.output
    assert '"spans": 1' in result.output and "hush" not in result.output
