"""``annotate assign``: coverage, balance, determinism and incremental runs on a real database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from annotations import Store, StoreError
from annotations.team import assign, assigned_ids, has_assignments, next_assigned, queue_progress


def _rows(store: Store) -> set[tuple[str, str]]:
    """(document hash, annotator) of every assignment: comparable across databases."""
    return set(store.db.conn.execute(
        "SELECT d.hash, a.annotator FROM assignments a JOIN documents d ON d.id = a.doc_id").fetchall())


def _corpus(store: Store, write_jsonl, n: int = 30) -> None:
    from annotations import import_paths

    path = write_jsonl([{"text": f"Документ номер {i}: Садыр Жапаров Бишкекте."} for i in range(n)])
    assert import_paths(store, [path]).added == n


@pytest.mark.parametrize("overlap, per_doc", [(1, 1), (2, 2), ("all", 3)])
def test_every_document_gets_overlap_annotators_balanced(store: Store, write_jsonl, overlap, per_doc) -> None:
    _corpus(store, write_jsonl, 31)
    report = assign(store, ["aida", "bek", "chyngyz"], overlap)
    per = Counter(d for d, _ in store.db.conn.execute("SELECT doc_id, annotator FROM assignments"))
    assert set(per) == set(store.document_ids()) and set(per.values()) == {per_doc}
    loads = report.total
    assert sum(loads.values()) == 31 * per_doc
    assert max(loads.values()) - min(loads.values()) <= 1
    assert report.new == 31 * per_doc and report.documents == 31


def test_deterministic_whatever_the_order_of_names(tmp_path: Path, write_jsonl) -> None:
    results = []
    for i, names in enumerate([["aida", "bek", "chyngyz"], ["chyngyz", "aida", "bek"]]):
        with Store(tmp_path / f"{i}.db", "lead") as store:
            _corpus(store, write_jsonl, 20)
            assign(store, names, 2)
            results.append(_rows(store))
    assert results[0] == results[1]


def test_running_again_changes_nothing_and_a_new_annotator_fills_only_the_gaps(store: Store, write_jsonl) -> None:
    _corpus(store, write_jsonl, 12)
    assign(store, ["aida", "bek"], 1)
    before = _rows(store)
    again = assign(store, ["aida", "bek"], 1)
    assert again.new == 0 and _rows(store) == before and again.covered == 12
    # Overlap 1 is met everywhere: a third annotator gets nothing...
    assert assign(store, ["aida", "bek", "chyngyz"], 1).new == 0
    # ...until the overlap grows: then only the missing second annotator per document is added,
    # and the newcomer (with nothing yet) takes most of it.
    grown = assign(store, ["aida", "bek", "chyngyz"], 2)
    assert _rows(store) >= before and grown.new == 12
    assert grown.added["chyngyz"] >= 6
    per = Counter(d for d, _ in store.db.conn.execute("SELECT doc_id, annotator FROM assignments"))
    assert set(per.values()) == {2}


def test_only_todo_leaves_finished_documents_out(store: Store, write_jsonl) -> None:
    _corpus(store, write_jsonl, 6)
    store.set_status(1, "done")
    store.set_status(2, "skipped")
    report = assign(store, ["aida", "bek"], "all", only="todo")
    assert report.documents == 4
    assert {d for d, _ in store.db.conn.execute("SELECT doc_id, annotator FROM assignments")} == {3, 4, 5, 6}


def test_filters_select_documents(store: Store, add_doc) -> None:
    ru = add_doc("Президент России Владимир Путин прибыл в Бишкек на переговоры с коллегой.", lang="ru")
    ky = add_doc("Садыр Жапаров Москвага келди жана сүйлөштү.", lang="ky")
    assign(store, ["aida"], 1, lang="ru")
    assert assigned_ids(store, "aida") == [ru]
    assign(store, ["bek"], 1, search="Москвага")
    assert assigned_ids(store, "bek") == [ky]


def test_queue_progress_and_next(store: Store, write_jsonl) -> None:
    _corpus(store, write_jsonl, 6)
    assert not has_assignments(store, "aida")
    assign(store, ["aida", "bek"], 1)
    mine = assigned_ids(store, "aida")
    assert len(mine) == 3 and has_assignments(store, "aida")
    with Store(store.path, "aida") as aida:
        assert queue_progress(aida) == {"todo": 3, "done": 0, "skipped": 0, "total": 3}
        aida.set_status(mine[0], "done")
        assert queue_progress(aida)["done"] == 1
        assert next_assigned(aida, after=mine[0]) == mine[1]
        assert next_assigned(aida, after=mine[2]) == mine[1]  # wraps round, skipping the done one


@pytest.mark.parametrize("names, overlap, why", [
    (["aida"], 2, "between 1 and 1"), (["aida", "bek"], 0, "between 1 and 2"),
    (["aida", "bek"], "two", "invalid overlap"), (["bad\u200bname"], 1, "invalid annotator"),
    (["x" * 65], 1, "invalid annotator"), ([], 1, "no annotators"),
])
def test_bad_requests_are_refused(store: Store, names, overlap, why) -> None:
    with pytest.raises(StoreError, match=why):
        assign(store, names, overlap)


def test_names_with_spaces_as_the_app_takes_them(store: Store, write_jsonl) -> None:
    # The browser's name prompt (and --annotator) take "Aida K"; so does sharing the work out.
    _corpus(store, write_jsonl, 4)
    report = assign(store, " Aida K , bek ", 1)
    assert report.annotators == ["Aida K", "bek"] and len(assigned_ids(store, "Aida K")) == 2
