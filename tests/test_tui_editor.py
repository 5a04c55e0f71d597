"""The editor: each reader decision is one store action whose logged changes come back to the screen.

Also pins the store's overlap handling the editor relies on (index seeks since migration
m004): a new accepted span replaces any accepted span it touches, wherever that one starts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from tui_helpers import SAMPLE

from annotations import Store
from tui.editor import Editor

NAME = (0, len("Садыр Жапаров"))


def test_label_reports_the_insert_and_where_it_is(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    outcome = Editor(store).label(doc, *NAME, "PER")
    assert outcome is not None and outcome.action == "add" and outcome.doc_id == doc
    assert [ch["op"] for ch in outcome.changes] == ["insert"]
    assert outcome.focus == 0 and not outcome.status_changed


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ((0, 5), (0, 13)),  # same start
        ((0, 13), (6, 13)),  # the old span starts before the new one
        ((6, 13), (0, 13)),  # the old span starts inside the new one
        ((3, 9), (6, 20)),  # partial overlap from the left
    ],
)
def test_a_label_replaces_the_accepted_spans_it_touches(
    store: Store, add_doc: Callable[..., int], old: tuple[int, int], new: tuple[int, int]
) -> None:
    doc = add_doc(SAMPLE)
    store.add_span(doc, *old, "LOC")
    far = store.add_span(doc, 40, 48, "ORG").spans[0]
    outcome = Editor(store).label(doc, *new, "PER")
    assert outcome is not None
    assert sorted(ch["op"] for ch in outcome.changes) == ["delete", "insert"]
    assert [(s.start, s.end, s.label) for s in store.spans(doc)] == [(*new, "PER"), (far.start, far.end, "ORG")]


def test_a_label_rejects_the_suggestions_it_covers(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    store.add_suggestions(doc, [(0, 5, "PER", 0.5), (6, 13, "LOC", 0.5)], origin="test")
    outcome = Editor(store).label(doc, *NAME, "PER")
    assert outcome is not None
    assert sorted(ch["op"] for ch in outcome.changes) == ["insert", "update", "update"]
    assert [s.state for s in store.spans(doc, states=("rejected",))] == ["rejected", "rejected"]


def test_the_overlap_trigger_still_refuses_overlapping_accepted_spans(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    store.add_span(doc, 6, 13, "PER")
    insert = (
        "INSERT INTO spans (doc_id, start, end, label, annotator, origin, state, created, updated)"
        " VALUES (?, ?, ?, 'PER', 'alice', 'manual', 'accepted', 'x', 'x')"
    )
    for start, end in [(6, 13), (0, 7), (12, 20), (7, 9), (0, 20)]:
        with pytest.raises(sqlite3.IntegrityError, match="must not overlap"):
            store.db.conn.execute(insert, [doc, start, end])
    store.db.conn.execute(insert, [doc, 0, 6])  # touching is not overlapping
    store.db.conn.execute(insert, [doc, 13, 14])
    pending = store.add_suggestions(doc, [(20, 28, "LOC", 0.5)], origin="test")
    assert pending == 1
    [sug] = store.spans(doc, states=("pending",))
    with pytest.raises(sqlite3.IntegrityError, match="must not overlap"):
        store.db.conn.execute("UPDATE spans SET start = 10, state = 'accepted' WHERE id = ?", [sug.id])


def test_undo_and_redo_report_their_changes_and_focus(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    editor = Editor(store)
    editor.label(doc, 14, 22, "LOC")
    undone = editor.undo()
    assert undone is not None and undone.action == "undo" and undone.focus == 14
    assert [ch["op"] for ch in undone.changes] == ["delete"]
    redone = editor.redo()
    assert redone is not None and redone.action == "redo" and redone.focus == 14
    assert editor.redo() is None
    assert editor.undo() is not None and editor.undo() is None


def test_span_actions_and_status(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    editor = Editor(store)
    store.add_suggestions(doc, [(0, 5, "PER", 0.9), (6, 13, "PER", 0.8), (14, 22, "LOC", 0.7)], origin="test")
    first, second, third = store.spans(doc, states=("pending",))
    assert editor.accept(first.id).action == "accept"  # type: ignore[union-attr]
    assert editor.reject(second.id).action == "reject"  # type: ignore[union-attr]
    assert editor.relabel(first.id, "ORG").focus == 0  # type: ignore[union-attr]
    assert editor.accept_all(doc).action == "accept_all"  # type: ignore[union-attr]
    assert editor.delete(third.id).action == "delete"  # type: ignore[union-attr]
    status = editor.set_status(doc, "done")
    assert status is not None and status.status_changed and status.focus is None
    assert [(s.start, s.label) for s in store.spans(doc)] == [(0, "ORG")]
    assert editor.fetch_span(third.id) is None
