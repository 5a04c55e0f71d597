"""The store against real temp databases: schema, labels, spans, undo/redo, paging, sessions.

Every test runs on SQLite and on PostgreSQL (``BOTH_BACKENDS``), except those marked
``sqlite_only`` (SQLite's own file, pragmas, migrations table, FTS5 or the importer).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest
import sqlite_utils

from annotations import Store, StoreError, open_store
from annotations import db as dbmod
from annotations.history import NOT_UNDOABLE

#: Run each test on SQLite and on PostgreSQL (see tests/conftest.py).
BOTH_BACKENDS = True

TEXT = "Садыр Жапаров встретился с Путиным в Москве. Жапаровдун сапары Бишкекте бүттү."


def at(text: str, word: str, nth: int = 0) -> tuple[int, int]:
    """Offsets of the ``nth`` occurrence of ``word`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return start, start + len(word)


def snapshot(store: Store, doc_id: int) -> tuple[Any, ...]:
    """What the annotator sees of a document: spans (all states) and status."""
    spans = store.spans(doc_id, states=("accepted", "pending", "rejected"))
    return (
        tuple((s.id, s.start, s.end, s.label, s.state, s.origin) for s in spans),
        store.status(doc_id),
    )


@pytest.fixture
def doc(add_doc: Callable[..., int]) -> int:
    return add_doc(TEXT)


# -- schema ---------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_new_database_is_migrated_wal_with_foreign_keys_and_busy_timeout(store: Store, db_path: Path) -> None:
    conn = store.db.conn
    applied = conn.execute(
        "SELECT migration_set, name FROM _sqlite_migrations ORDER BY id"
    ).fetchall()
    assert [name for _, name in applied] == [m.name for m in dbmod.migrations._migrations]
    assert {s for s, _ in applied} == {"annotate"}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(applied) >= 2
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == dbmod.BUSY_TIMEOUT_MS >= 5000
    assert db_path.exists()


@pytest.mark.sqlite_only
def test_reopening_applies_no_migration_twice(store: Store, db_path: Path) -> None:
    before = store.db.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    store.close()
    with Store(db_path, "bob") as again:
        after = again.db.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert after == before
        assert [lab.name for lab in again.labels()] == ["PER", "LOC", "ORG"]


@pytest.mark.sqlite_only
def test_database_from_first_schema_version_is_upgraded(db_path: Path) -> None:
    """A file made before m002 keeps its documents searchable and gains the new trigger."""
    first = dbmod.migrations._migrations[0].name
    second = dbmod.migrations._migrations[1].name
    old = sqlite_utils.Database(db_path)
    dbmod.migrations.apply(old, stop_before=second)
    assert [m.name for m in dbmod.migrations.applied(old)] == [first]
    old.conn.execute(
        "INSERT INTO documents (hash, title, text, created) VALUES ('h1', 'Ош', 'Ош шаары', 'now')"
    )
    old.conn.commit()
    old.conn.close()
    with Store(db_path, "alice") as store:
        assert len(dbmod.migrations.applied(store.db)) == len(dbmod.migrations._migrations)
        assert [d.id for d in store.documents(search="ош")] == [1]
        store.db.conn.execute(
            "INSERT INTO documents (hash, title, text, created) VALUES ('h2', 'Нарын', 'Нарын', 'now')"
        )
        assert [d.id for d in store.documents(search="нарын")] == [2]


@pytest.mark.sqlite_only
def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("just some notes, not SQLite\n" * 20)
    with pytest.raises(sqlite3.DatabaseError):
        Store(bogus, "alice")
    assert bogus.read_text().startswith("just some notes")


def test_event_log_is_append_only(store: Store, doc: int) -> None:
    store.add_span(doc, *at(TEXT, "Москве"), "LOC")
    with pytest.raises(store.backend.DatabaseError, match="append-only"):
        store.backend.execute("UPDATE events SET action = 'forged'")
    with pytest.raises(store.backend.DatabaseError, match="append-only"):
        store.backend.execute("DELETE FROM events")
    assert [e["action"] for e in store.events()][0] == "add"


def test_accepted_spans_cannot_overlap_even_in_raw_sql(store: Store, doc: int) -> None:
    store.add_span(doc, 0, 5, "PER")
    with pytest.raises(store.backend.IntegrityError, match="overlap"):
        store.backend.execute(
            'INSERT INTO spans (doc_id, start, "end", label, annotator, state, created, updated)'
            " VALUES (?, 3, 9, 'PER', 'alice', 'accepted', 'now', 'now')",
            [doc],
        )
    # Another annotator's accepted span may overlap: each annotator has their own layer.
    store.backend.execute(
        'INSERT INTO spans (doc_id, start, "end", label, annotator, state, created, updated)'
        " VALUES (?, 3, 9, 'PER', 'bob', 'accepted', 'now', 'now')",
        [doc],
    )


# -- labels ---------------------------------------------------------------------------------


def test_default_labels(store: Store) -> None:
    labels = store.labels()
    assert [(lab.name, lab.key) for lab in labels] == [("PER", "1"), ("LOC", "2"), ("ORG", "3")]
    colours = [lab.colour for lab in labels]
    assert len(set(colours)) == 3
    assert all(c.startswith("#") and len(c) == 7 for c in colours)
    assert all(lab.description for lab in labels)


def test_add_label_gets_next_key_and_a_new_colour(store: Store) -> None:
    lab = store.add_label("EVENT", description="A named event")
    assert lab.key == "4"
    assert lab.colour not in {x.colour for x in store.labels() if x.name != "EVENT"}
    assert store.label("EVENT") == lab
    custom = store.add_label("MISC", key="m", colour="#123456")
    assert (custom.key, custom.colour) == ("m", "#123456")
    assert [x.name for x in store.labels()] == ["PER", "LOC", "ORG", "EVENT", "MISC"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "PER"}, "already exists"),
        ({"name": "TWO WORDS"}, "invalid label name"),
        ({"name": ""}, "invalid label name"),
        ({"name": "X", "key": "1"}, "already used"),
        ({"name": "X", "key": "ab"}, "invalid key"),
        ({"name": "X", "colour": "red"}, "invalid colour"),
    ],
)
def test_add_label_refusals(store: Store, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store.add_label(**kwargs)
    assert [x.name for x in store.labels()] == ["PER", "LOC", "ORG"]


def test_rename_label_carries_its_spans(store: Store, doc: int) -> None:
    span = store.add_span(doc, *at(TEXT, "Москве"), "LOC").spans[0]
    renamed = store.edit_label("LOC", new_name="GPE", colour="#00ff00", description="Geo-political")
    assert (renamed.name, renamed.key, renamed.colour) == ("GPE", "2", "#00ff00")
    assert store.span(span.id).label == "GPE"
    assert store.label("LOC") is None


def test_edit_label_refusals(store: Store) -> None:
    with pytest.raises(StoreError, match="no label"):
        store.edit_label("NOPE", colour="#000000")
    with pytest.raises(StoreError, match="already used"):
        store.edit_label("LOC", key="1")
    with pytest.raises(StoreError, match="already exists"):
        store.edit_label("LOC", new_name="PER")
    with pytest.raises(StoreError, match="invalid colour"):
        store.edit_label("LOC", colour="blue")
    with pytest.raises(StoreError, match="invalid key"):
        store.edit_label("LOC", key="long")
    assert store.label("LOC").key == "2"


def test_remove_label_refused_while_used_unless_forced(store: Store, doc: int) -> None:
    store.add_span(doc, *at(TEXT, "Москве"), "LOC")
    with pytest.raises(StoreError, match="used by 1 span"):
        store.remove_label("LOC")
    assert store.label("LOC") is not None
    assert store.remove_label("ORG") == 0
    assert store.remove_label("LOC", force=True) == 1
    assert store.spans(doc) == []
    assert [x.name for x in store.labels()] == ["PER"]
    with pytest.raises(StoreError, match="no label"):
        store.remove_label("LOC")


# -- spans ----------------------------------------------------------------------------------


def test_add_relabel_delete_span(store: Store, doc: int) -> None:
    start, end = at(TEXT, "Москве")
    result = store.add_span(doc, start, end, "ORG")
    (span,) = result.spans
    assert (span.start, span.end, span.label, span.state, span.origin, span.annotator) == (
        start, end, "ORG", "accepted", "manual", "alice",
    )
    assert TEXT[span.start:span.end] == "Москве"
    assert result.doc_id == doc and result.event_id > 0
    assert store.relabel_span(span.id, "LOC").spans[0].label == "LOC"
    assert [s.label for s in store.document(doc).spans] == ["LOC"]
    store.delete_span(span.id)
    assert store.document(doc).spans == []


def test_add_span_refusals(store: Store, doc: int) -> None:
    with pytest.raises(StoreError, match="unknown label"):
        store.add_span(doc, 0, 5, "NOPE")
    with pytest.raises(StoreError, match="out of range"):
        store.add_span(doc, 0, len(TEXT) + 1, "PER")
    with pytest.raises(StoreError, match="out of range"):
        store.add_span(doc, 5, 5, "PER")
    with pytest.raises(StoreError, match="no document"):
        store.add_span(999, 0, 1, "PER")
    with pytest.raises(StoreError, match="no span"):
        store.relabel_span(999, "PER")
    assert store.events() == [e for e in store.events() if e["action"] == "import"]


@pytest.mark.sqlite_only  # PostgreSQL text cannot hold U+0000 (refused: test_postgres.py)
def test_span_offsets_count_code_points_even_with_nul(store: Store, add_doc: Callable[..., int]) -> None:
    text = "a\x00b 😀 Ош"
    doc = add_doc(text)
    start, end = at(text, "Ош")
    span = store.add_span(doc, start, end, "LOC").spans[0]
    assert store.document(doc).text[span.start:span.end] == "Ош"


def test_new_span_replaces_overlapping_ones(store: Store, doc: int) -> None:
    s1 = store.add_span(doc, *at(TEXT, "Садыр"), "PER").spans[0]
    s2 = store.add_span(doc, *at(TEXT, "Жапаров"), "ORG").spans[0]
    store.add_suggestions(doc, [(at(TEXT, "Садыр")[0], at(TEXT, "Жапаров")[1] + 1, "LOC", 0.3)], "test")
    pending = store.spans(doc, states=("pending",))
    assert pending == []  # overlaps accepted spans: never suggested over a person's decision
    store.add_suggestions(doc, [(*at(TEXT, "Путиным"), "PER", 0.9)], "test")
    whole = store.add_span(doc, at(TEXT, "Садыр")[0], at(TEXT, "Путиным")[1], "PER").spans[0]
    spans = store.spans(doc, states=("accepted", "pending", "rejected"))
    assert {s.id for s in spans if s.state == "accepted"} == {whole.id}
    assert s1.id not in {s.id for s in spans} and s2.id not in {s.id for s in spans}
    assert [s.state for s in spans if s.id != whole.id] == ["rejected"]


def test_add_span_on_a_suggestion_accepts_it(store: Store, doc: int) -> None:
    start, end = at(TEXT, "Москве")
    store.add_suggestions(doc, [(start, end, "ORG", 0.5)], "gazetteer")
    (sug,) = store.spans(doc, states=("pending",))
    (span,) = store.add_span(doc, start, end, "LOC").spans
    assert (span.id, span.label, span.state, span.origin) == (sug.id, "LOC", "accepted", "gazetteer")


def test_add_span_snaps_to_tokens(store: Store, doc: int) -> None:
    start, end = at(TEXT, "Жапаровдун")
    span = store.add_span(doc, start + 2, end - 3, "PER", snap=True).spans[0]
    assert (span.start, span.end) == (start, end)


def test_relabel_a_suggestion_accepts_it(store: Store, doc: int) -> None:
    store.add_suggestions(doc, [(*at(TEXT, "Москве"), "ORG", 0.5)], "test")
    (sug,) = store.document(doc).pending
    span = store.relabel_span(sug.id, "LOC").spans[0]
    assert (span.state, span.label) == ("accepted", "LOC")


def test_accept_reject_accept_all(store: Store, doc: int) -> None:
    moscow, putin, bishkek = at(TEXT, "Москве"), at(TEXT, "Путиным"), at(TEXT, "Бишкекте")
    wide = (putin[0], moscow[1])
    n = store.add_suggestions(
        doc,
        [(*moscow, "LOC", 0.9), (*putin, "PER", 0.8), (*wide, "ORG", 0.2), (*bishkek, "LOC", None)],
        "test",
    )
    assert n == 4
    by_range = {(s.start, s.end): s for s in store.document(doc).pending}
    store.accept(by_range[moscow].id)
    assert store.span(by_range[moscow].id).state == "accepted"
    assert store.span(by_range[wide].id).state == "rejected"  # overlapped the accepted one
    store.reject(by_range[putin].id)
    assert store.span(by_range[putin].id).state == "rejected"
    with pytest.raises(StoreError, match="not a pending"):
        store.reject(by_range[putin].id)
    with pytest.raises(StoreError, match="already accepted"):
        store.accept(by_range[moscow].id)
    result = store.accept_all(doc)
    assert [(s.start, s.end) for s in result.spans] == [bishkek]
    assert store.document(doc).pending == []
    assert [(s.start, s.end) for s in store.document(doc).accepted] == [moscow, bishkek]


def test_accept_all_prefers_the_best_score(store: Store, doc: int) -> None:
    putin, moscow = at(TEXT, "Путиным"), at(TEXT, "Москве")
    store.add_suggestions(
        doc, [(putin[0], moscow[1], "ORG", 0.4), (*putin, "PER", 0.95), (*moscow, "LOC", 0.9)], "t"
    )
    store.accept_all(doc)
    accepted = [(s.start, s.end, s.label) for s in store.document(doc).accepted]
    assert accepted == [(*putin, "PER"), (*moscow, "LOC")]
    assert [s.state for s in store.spans(doc, states=("rejected",))] == ["rejected"]


def test_suggestions_never_overwrite_decisions_and_rejected_never_return(store: Store, doc: int) -> None:
    moscow, putin = at(TEXT, "Москве"), at(TEXT, "Путиным")
    store.add_span(doc, *moscow, "LOC")
    assert store.add_suggestions(doc, [(*putin, "PER", 0.5)], "ner") == 1
    (sug,) = store.document(doc).pending
    store.reject(sug.id)
    again = [(*moscow, "ORG", 0.99), (moscow[0], moscow[1] - 1, "LOC", 0.9), (*putin, "PER", 0.99)]
    assert store.add_suggestions(doc, again, "ner") == 0
    assert store.add_suggestions(doc, [(*at(TEXT, "Бишкекте"), "UNKNOWN", 0.9)], "ner") == 0
    spans = store.spans(doc, states=("accepted", "pending", "rejected"))
    assert [(s.start, s.end, s.label, s.state) for s in spans] == [
        (*putin, "PER", "rejected"), (*moscow, "LOC", "accepted"),
    ]
    with pytest.raises(StoreError, match="out of range"):
        store.add_suggestions(doc, [(0, len(TEXT) + 5, "PER", 0.5)], "ner")


def test_set_status(store: Store, doc: int) -> None:
    assert store.status(doc) == "todo"
    store.set_status(doc, "done")
    assert store.status(doc) == "done" and store.document(doc).status == "done"
    store.set_status(doc, "skipped")
    assert store.status(doc) == "skipped"
    with pytest.raises(StoreError, match="unknown status"):
        store.set_status(doc, "finished")
    with pytest.raises(StoreError, match="no document"):
        store.set_status(12345, "done")


def test_each_action_is_one_event(store: Store, doc: int) -> None:
    def count() -> int:
        return store.backend.value("SELECT count(*) FROM events")

    n = count()
    span = store.add_span(doc, *at(TEXT, "Москве"), "LOC").spans[0]
    store.relabel_span(span.id, "ORG")
    store.set_status(doc, "done")
    store.delete_span(span.id)
    store.undo()
    assert count() == n + 5
    assert [e["action"] for e in store.events(limit=5)] == ["undo", "delete", "status", "relabel", "add"]


# -- undo / redo ----------------------------------------------------------------------------


def _prepare_suggestions(store: Store, doc: int) -> list[int]:
    store.add_suggestions(
        doc, [(*at(TEXT, "Москве"), "LOC", 0.9), (*at(TEXT, "Путиным"), "PER", 0.8)], "test"
    )
    return [s.id for s in store.document(doc).pending]


ACTIONS: dict[str, Callable[[Store, int], Any]] = {
    "add": lambda s, d: s.add_span(d, *at(TEXT, "Москве"), "LOC"),
    "add over others": lambda s, d: (
        s.add_span(d, *at(TEXT, "Садыр"), "PER"),
        _prepare_suggestions(s, d),
        s.add_span(d, 0, at(TEXT, "Москве")[1], "ORG"),
    )[-1],
    "relabel": lambda s, d: s.relabel_span(s.add_span(d, *at(TEXT, "Москве"), "LOC").spans[0].id, "ORG"),
    "delete": lambda s, d: s.delete_span(s.add_span(d, *at(TEXT, "Москве"), "LOC").spans[0].id),
    "accept": lambda s, d: s.accept(_prepare_suggestions(s, d)[0]),
    "reject": lambda s, d: s.reject(_prepare_suggestions(s, d)[1]),
    "accept_all": lambda s, d: (_prepare_suggestions(s, d), s.accept_all(d))[-1],
    "status": lambda s, d: s.set_status(d, "done"),
    "status twice": lambda s, d: (s.set_status(d, "skipped"), s.set_status(d, "done"))[-1],
}


@pytest.mark.parametrize("name", list(ACTIONS))
@pytest.mark.parametrize("restart", [False, True], ids=["same-store", "after-restart"])
def test_undo_redo_every_action(store: Store, db_path: Path, doc: int, name: str, restart: bool) -> None:
    """Undo takes back the last action, redo brings it back, and undoing everything returns
    the document to how it was (suggestion runs are not undoable; their spans stay pending).

    With ``restart`` the undo and redo run in a fresh Store, as after quitting the app.
    """
    seen = store.backend.value("SELECT max(id) FROM events") or 0
    ACTIONS[name](store, doc)
    undoable = store.backend.value(
        f"SELECT count(*) FROM events WHERE id > ? AND action NOT IN ({','.join('?' * len(NOT_UNDOABLE))})",
        [seen, *NOT_UNDOABLE],
    )
    assert undoable >= 1
    after = snapshot(store, doc)
    s = store
    if restart:
        store.close()
        s = Store(db_path, "alice")
    try:
        result = s.undo()
        assert result is not None and result.doc_id == doc
        assert snapshot(s, doc) != after
        assert s.can_redo()
        s.redo()
        assert snapshot(s, doc) == after
        assert not s.can_redo()
        for _ in range(undoable):
            assert s.undo() is not None
        assert s.undo() is None
        spans, status = snapshot(s, doc)
        assert status == "todo"
        assert [x for x in spans if x[4] != "pending"] == []
    finally:
        if restart:
            s.close()


def test_undo_restores_the_exact_previous_state(store: Store, doc: int) -> None:
    store.add_span(doc, *at(TEXT, "Садыр"), "PER")
    _prepare_suggestions(store, doc)
    before = snapshot(store, doc)
    store.add_span(doc, 0, at(TEXT, "Москве")[1], "ORG")
    after = snapshot(store, doc)
    store.undo()
    assert snapshot(store, doc) == before
    store.redo()
    assert snapshot(store, doc) == after


def test_undo_walks_back_across_documents_and_sessions(store: Store, db_path: Path, add_doc: Callable[..., int]) -> None:
    d1, d2 = add_doc(TEXT), add_doc("Ош шаары. " + TEXT)
    store.add_span(d1, *at(TEXT, "Москве"), "LOC")
    store.set_status(d1, "done")
    store.add_span(d2, 0, 2, "LOC")
    store.close()
    with Store(db_path, "alice") as s:
        assert s.undo().doc_id == d2
        assert s.spans(d2) == []
        assert s.undo().doc_id == d1 and s.status(d1) == "todo"
        assert s.undo().doc_id == d1 and s.spans(d1) == []
        assert s.undo() is None
        assert not s.can_undo() and s.can_redo()
    with Store(db_path, "alice") as s:
        assert s.redo().doc_id == d1
        assert [x.label for x in s.spans(d1)] == ["LOC"]


def test_new_action_clears_redo(store: Store, doc: int) -> None:
    store.add_span(doc, *at(TEXT, "Москве"), "LOC")
    store.undo()
    assert store.can_redo()
    store.add_span(doc, *at(TEXT, "Путиным"), "PER")
    assert not store.can_redo()
    assert store.redo() is None
    assert [s.label for s in store.document(doc).spans] == ["PER"]


def test_undo_and_redo_are_not_undone_by_suggestions(store: Store, doc: int) -> None:
    store.add_span(doc, *at(TEXT, "Москве"), "LOC")
    store.add_suggestions(doc, [(*at(TEXT, "Путиным"), "PER", 0.8), (*at(TEXT, "Бишкекте"), "LOC", 0.7)], "t")
    store.undo()  # undoes the span, not the suggestion run
    assert store.document(doc).accepted == []
    assert len(store.document(doc).pending) == 2


def test_undo_that_can_no_longer_apply_is_refused_cleanly(store: Store, doc: int) -> None:
    span = store.add_span(doc, *at(TEXT, "Москве"), "LOC").spans[0]
    store.delete_span(span.id)
    store.remove_label("LOC")
    with pytest.raises(StoreError, match="cannot undo"):
        store.undo()
    assert store.spans(doc) == []
    assert store.events()[0]["action"] != "undo"


def test_two_annotators_on_one_file_see_only_their_own_work(store: Store, db_path: Path, doc: int) -> None:
    start, end = at(TEXT, "Москве")
    store.add_span(doc, start, end, "LOC")
    store.set_status(doc, "done")
    with Store(db_path, "bob") as bob:
        assert bob.document(doc).spans == []
        assert bob.status(doc) == "todo"
        bob.add_span(doc, start, end + 1, "ORG")  # overlaps alice's span: allowed, different layer
        assert bob.undo() is not None  # bob's own action
        assert bob.undo() is None  # never alice's
        bob.add_span(doc, start, end, "ORG")
        assert bob.documents()[0].entities == 1 and bob.documents()[0].status == "todo"
        with pytest.raises(StoreError, match="belongs to"):
            bob.delete_span(store.spans(doc)[0].id)
    assert [(s.label, s.annotator) for s in store.document(doc).spans] == [("LOC", "alice")]
    assert [(s.label, s.annotator) for s in store.document(doc, annotator="bob").spans] == [("ORG", "bob")]
    assert store.documents(status="done")[0].id == doc
    assert store.documents(status="done", annotator="bob") == []


# -- documents, tokens and search -------------------------------------------------------------


def test_tokens_are_computed_on_first_open_and_cached(store: Store, doc: int) -> None:
    count = "SELECT count(*) FROM doc_tokens"
    assert store.backend.value(count) == 0  # importing text tokenises nothing
    document = store.document(doc)
    assert store.backend.value(count) == 1
    import spacy

    expected = [(t.idx, t.idx + len(t.text)) for t in spacy.blank(document.lang).make_doc(TEXT)]
    assert list(zip(document.tokens.starts, document.tokens.ends)) == expected
    assert "Жапаровдун" in document.tokens.words(TEXT)
    tokenizer = store.backend.value("SELECT tokenizer FROM doc_tokens")
    assert f"/{document.lang}/" in tokenizer  # spacy-<version>/<lang>/t<tokens version>


@pytest.mark.sqlite_only
def test_importing_plain_text_does_not_import_spacy(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import sys
        from annotations import open_store, import_paths
        store = open_store({str(tmp_path / 'x.db')!r}, 'alice')
        report = import_paths(store, [{str(tmp_path / 'a.txt')!r}])
        assert report.added == 1, report.to_dict()
        store.documents(search="Москве"); store.stats(); store.progress()
        print("spacy" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_document_carries_its_import_details(store: Store, doc: int) -> None:
    d = store.document(doc)
    assert (d.text, d.lang, d.line, d.meta, d.status) == (TEXT, "ky", None, {}, "todo")
    assert d.title == TEXT.split("\n")[0].strip()
    assert d.source.endswith(".txt") and len(d.hash) == 64
    with pytest.raises(StoreError, match="no document"):
        store.document(999)


@pytest.fixture
def corpus(store: Store, add_doc: Callable[..., int]) -> list[int]:
    texts = [
        "Садыр Жапаров Бишкекте журналисттер менен жолукту. Өкмөт жаңы мыйзамды талкуулады.",
        "Президент России Владимир Путин прилетел в Бишкек.",
        "Москвага сапар. Жапаровдун сапары аяктады, деди өкмөт.",
        "The weather in Osh was sunny.",
        "Жапаров и Путин обсудили торговлю.",
        "ЁЛКА в центре города Ош.",
    ]
    return [add_doc(t) for t in texts]


def test_documents_filters_by_status_and_language(store: Store, corpus: list[int]) -> None:
    assert [d.id for d in store.documents()] == corpus
    assert [d.lang for d in store.documents()] == ["ky", "ru", "ky", "xx", "ru", "ru"]
    assert [d.id for d in store.documents(lang="ru")] == [corpus[1], corpus[4], corpus[5]]
    store.set_status(corpus[0], "done")
    store.set_status(corpus[2], "skipped")
    store.set_status(corpus[3], "done")
    store.set_status(corpus[3], "todo")
    assert [d.id for d in store.documents(status="done")] == [corpus[0]]
    assert [d.id for d in store.documents(status="todo")] == [corpus[1], corpus[3], corpus[4], corpus[5]]
    assert [d.id for d in store.documents(status=["done", "skipped"])] == [corpus[0], corpus[2]]
    assert [d.id for d in store.documents(status=["todo", "skipped"], lang="ky")] == [corpus[2]]
    assert len(store.documents(status=["todo", "done", "skipped"])) == len(corpus)
    with pytest.raises(StoreError, match="unknown status"):
        store.documents(status="finished")


def test_documents_report_counts(store: Store, corpus: list[int]) -> None:
    store.add_span(corpus[1], 0, 9, "PER")
    store.add_suggestions(corpus[1], [(18, 32, "PER", 0.5)], "t")
    row = store.documents(limit=2)[1]
    assert (row.id, row.entities, row.suggestions, row.status) == (corpus[1], 1, 1, "todo")
    assert row.title == "Президент России Владимир Путин прилетел в Бишкек."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Бишкек", [0, 1]),  # the last word is a prefix: "Бишкекте" (Kyrgyz locative) too
        ("бишкек", [0, 1]),  # case-insensitive in Cyrillic
        ("Бишк", [0, 1]),
        ("Бишкекте", [0]),
        ("бишк прилетел", []),  # only the last word is a prefix
        ("прилетел бишк", [1]),
        ("жапар", [0, 2, 4]),  # prefix catches Жапаров, Жапаровдун
        ("ЖАПАРОВ ПУТИН", [4]),  # every word must match
        ("ёлка", [5]),  # Ё folds to ё (but not to е: unicode61 keeps Cyrillic letters apart)
        ("өкмөт", [0, 2]),  # Kyrgyz letters
        ("osh", [3]),
        ("Ош", [5]),
        ("Жа", []),  # one- and two-letter words match whole words only (prefixes that short are slow)
        ('"', []),
        ("- * ( ) NEAR OR", []),  # FTS syntax is quoted away, never an error
        ("   ", [0, 1, 2, 3, 4, 5]),  # blank search = no filter
    ],
)
def test_full_text_search(store: Store, corpus: list[int], query: str, expected: list[int]) -> None:
    assert [d.id for d in store.documents(search=query)] == [corpus[i] for i in expected]


def test_search_combines_with_filters(store: Store, corpus: list[int]) -> None:
    store.set_status(corpus[4], "done")
    assert [d.id for d in store.documents(search="жапаров", status="done")] == [corpus[4]]
    assert [d.id for d in store.documents(search="жапаров", lang="ky")] == [corpus[0], corpus[2]]


def test_paging(store: Store, corpus: list[int]) -> None:
    first = store.documents(limit=2)
    assert [d.id for d in first] == corpus[:2]
    assert [d.id for d in store.documents(limit=2, after=first[-1].id)] == corpus[2:4]
    assert [d.id for d in store.documents(limit=2, offset=4)] == corpus[4:]
    assert store.documents(after=corpus[-1]) == []
    assert [d.id for d in store.documents(limit=1, after=corpus[0], search="жапар")] == [corpus[2]]
    assert [d.id for d in store.iter_documents(lang="ru")] == [corpus[1], corpus[4], corpus[5]]


def test_progress_and_first_unfinished(store: Store, corpus: list[int]) -> None:
    assert store.progress() == {"todo": 6, "done": 0, "skipped": 0, "total": 6}
    assert store.first_unfinished() == corpus[0]
    store.set_status(corpus[0], "done")
    store.set_status(corpus[1], "skipped")
    assert store.progress() == {"todo": 4, "done": 1, "skipped": 1, "total": 6}
    assert store.progress("bob")["todo"] == 6
    assert store.first_unfinished() == corpus[2]
    assert store.first_unfinished(after=corpus[4]) == corpus[5]
    store.set_status(corpus[5], "done")
    assert store.first_unfinished(after=corpus[4]) == corpus[2]  # wraps round
    for d in corpus:
        store.set_status(d, "done")
    assert store.first_unfinished() is None


def test_neighbour(store: Store, corpus: list[int]) -> None:
    assert store.neighbour(corpus[0], 1) == corpus[1]
    assert store.neighbour(corpus[1], -1) == corpus[0]
    assert store.neighbour(corpus[0], -1) is None
    assert store.neighbour(corpus[-1], 1) is None


def test_cursor_is_saved_per_annotator_and_survives_restart(store: Store, db_path: Path, corpus: list[int]) -> None:
    assert store.cursor() is None
    store.save_cursor(corpus[2], 17)
    store.save_cursor(corpus[3], 4)
    store.close()
    with open_store(db_path, "alice") as again:
        assert again.cursor() == (corpus[3], 4)
    with open_store(db_path, "bob") as bob:
        assert bob.cursor() is None


def test_session_summary(store: Store, doc: int, add_doc: Callable[..., int]) -> None:
    other = add_doc("Ош шаары. Нарын облусу.")
    session = store.start_session()
    store.add_span(doc, *at(TEXT, "Москве"), "LOC")
    store.add_span(doc, *at(TEXT, "Путиным"), "PER")
    store.add_span(other, 0, 2, "LOC")
    store.undo()  # the third label does not count
    store.set_status(doc, "done")
    summary = store.end_session()
    assert summary is not None
    assert summary["id"] == session and summary["annotator"] == "alice"
    assert (summary["spans_added"], summary["documents_done"]) == (2, 1)
    assert summary["ended"] is not None and summary["minutes"] >= 0
    assert store.end_session() is None
    assert store.session_summary(session) == summary
    events = store.events(annotator="alice", limit=5)
    assert {e["session_id"] for e in events} == {session}
    stats = store.stats()
    assert stats["annotators"]["alice"]["sessions"][0]["spans_added"] == 2


@pytest.mark.sqlite_only
def test_stats(seeded_store: Store) -> None:
    store = seeded_store
    d1, d5 = store.document_ids()[0], store.document_ids()[-1]
    store.add_span(d1, 0, 4, "PER")
    store.set_status(d5, "done")
    stats = store.stats()
    assert stats["documents"]["total"] == 5
    assert stats["documents"]["by_language"] == {"ky": 4, "ru": 1}
    assert stats["documents"]["by_status"] == {"done": 1}
    assert stats["spans"]["by_label"] == {"PER": 1}
    assert stats["spans"]["by_origin"] == {"manual": 1}
    assert stats["annotators"]["alice"]["documents"] == {"todo": 4, "done": 1, "skipped": 0}


def test_same_text_twice_is_one_document(store: Store, add_doc: Callable[..., int]) -> None:
    assert add_doc(TEXT) == add_doc(TEXT)
    assert store.count_documents() == 1


def test_reopen_gives_an_independent_connection(store: Store, doc: int) -> None:
    other = store.reopen()
    try:
        assert other.backend.conn is not store.backend.conn and other.annotator == "alice"
        other.add_span(doc, *at(TEXT, "Москве"), "LOC")
        assert [s.label for s in store.spans(doc)] == ["LOC"]
    finally:
        other.close()


@pytest.mark.parametrize("name", ["PER\u200b", "\u202eREP", "OR\u00adG", "LOC\u2060"])
def test_label_names_with_invisible_characters_are_refused(store: Store, name: str) -> None:
    """A label that looks like another on screen would split the data silently."""
    with pytest.raises(StoreError):
        store.add_label(name)


def test_shared_suggestions_shown_or_hidden_follow_every_action_exactly(store: Store, doc: int) -> None:
    """The "view" changes of each action (worked out from the action's own changes, without
    asking the database again) take what the annotator saw of the suggestions for everyone
    to exactly what they see afterwards: random labels, deletes, accepts, rejects, relabels,
    undos and redos over shared suggestions that overlap each other and the annotator's spans."""
    import random

    from annotations import EVERYONE

    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+", TEXT)]
    shared = store.reopen(EVERYONE)
    shared.add_suggestions(doc, [(s, e, "LOC", 0.5) for s, e in words[::2]]
                           + [(words[i][0], words[i + 1][1], "PER", 0.4) for i in range(0, len(words) - 1, 3)], "t")
    shared.close()
    rng = random.Random(5)

    def seen() -> dict[int, tuple[int, int]]:
        return {s.id: (s.start, s.end) for s in store.spans(doc) if s.annotator == EVERYONE}

    view = seen()
    assert view
    for step in range(60):
        spans = store.spans(doc)
        choice = rng.randrange(7)
        try:
            if choice == 0 or not spans:
                s, e = rng.choice(words)
                result = store.add_span(doc, s, e, rng.choice(["PER", "LOC", "ORG"]))
            elif choice == 1:
                result = store.delete_span(rng.choice(spans).id)
            elif choice == 2:
                result = store.accept(rng.choice([s for s in spans if s.state == "pending"] or spans).id)
            elif choice == 3:
                result = store.reject(rng.choice([s for s in spans if s.state == "pending"] or spans).id)
            elif choice == 4:
                result = store.relabel_span(rng.choice(spans).id, rng.choice(["PER", "ORG"]))
            else:
                result = store.undo() if choice == 5 else store.redo()
        except StoreError:
            continue
        if result is None:
            continue
        changes = store.events(limit=1)[0]["changes"]
        for ch in changes:
            if ch.get("view"):
                if ch["op"] == "delete":
                    view.pop(ch["span"]["id"])
                else:
                    view[ch["span"]["id"]] = (ch["span"]["start"], ch["span"]["end"])
        assert view == seen(), (step, choice)
