"""Bringing work done elsewhere into this database: ``annotate merge OTHER.db``.

Documents are matched by content hash; labels, spans, statuses, assignments, reviewers, sessions and
the event log of every annotator are brought in, with ids renumbered so undo and redo keep
working here. Either side may be a SQLite file or a PostgreSQL database: the source is opened
read-only (never migrated or written) and read in one consistent snapshot, and every row is
read and written through the backends (:mod:`annotations.store.sql_merge`). Merging is idempotent (a second run changes nothing) and all-or-nothing per
source database (one transaction). It adds what is new, and changes what this database holds
only where the source holds a later state of the same work: a status that is ``todo`` here
and decided there, and an annotator's layer (spans and status on one document) whose every
event here is also in the source's log, which has more (a copy taken, then worked on). Where
the source's log of a layer is the part of this one's, the source is a stale copy of it and
that layer is left alone.

A source is refused, with every problem listed, when it conflicts:

- a label of the same name with another key or colour (or its key taken by another label);
- an annotator's accepted spans on a document that differ between the two databases when
  both hold some (or one side marked the document done with other spans), unless one log
  shows them to be an earlier state of the other: both went on, or neither log says;
- a document one annotator marked done in one database and skipped in the other (likewise).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..store import Store, StoreError, now
from ..store.backend import Backend
from ..store.core import is_postgres_url
from ..store.sql_merge import open_merge_source

__all__ = ["MergeConflict", "MergeReport", "merge_database"]

class MergeConflict(StoreError):
    """A source database that conflicts with this one; ``problems`` says where."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: {len(self.problems)} conflict(s); nothing was merged from it")


@dataclass
class MergeReport:
    """What one source brought in."""

    source: str
    documents: int = 0
    labels: list[str] = field(default_factory=list)
    spans: int = 0
    #: Layers (an annotator's spans on a document) brought up to a later state of the same work.
    updated: int = 0
    statuses: int = 0
    assignments: int = 0
    reviewers: int = 0
    sessions: int = 0
    events: int = 0

    @property
    def changed(self) -> bool:
        return any((self.documents, self.labels, self.spans, self.updated, self.statuses, self.assignments,
                    self.reviewers, self.sessions, self.events))

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "documents": self.documents, "labels": self.labels,
                "spans": self.spans, "updated": self.updated, "statuses": self.statuses,
                "assignments": self.assignments,
                "reviewers": self.reviewers,
                "sessions": self.sessions, "events": self.events}


def _chunks(items: Sequence[Any], n: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _same_database(store: Store, source: Backend) -> bool:
    """Whether ``source`` is the database ``store`` is open on."""
    here = store.backend
    if here.name != source.name:
        return False
    if here.name == "sqlite":
        try:
            return bool(Path(here.location).resolve() == Path(source.location).resolve())
        except OSError:
            return False
    return here.location == source.location


def merge_database(store: Store, source: str | os.PathLike[str]) -> MergeReport:
    """Merge the database at ``source`` (a SQLite file or a ``postgresql://`` URL) into ``store``;
    raises :class:`MergeConflict` on conflicts (and nothing is written)."""
    src = open_merge_source(source)
    try:
        # A URL is named without its password.
        name = src.location if is_postgres_url(source) else str(source)
        if _same_database(store, src):
            raise StoreError(f"{name}: that is this database")
        tables = src.table_names()
        with src.merge_snapshot(), store.transaction():
            return _merge(store.backend, src, tables, name)
    finally:
        src.close()


def _merge(tgt: Backend, src: Backend, tables: set[str], name: str) -> MergeReport:
    report = MergeReport(name)
    problems: list[str] = []

    # -- labels ---------------------------------------------------------------------------
    here = {r[0]: r for r in tgt.merge_labels()}
    keys = {r[1]: r[0] for r in here.values() if r[1]}
    position = max((r[4] for r in here.values()), default=-1)
    for lname, key, colour, desc, _pos in src.merge_labels():
        mine = here.get(lname)
        if mine is not None:
            if (mine[1], mine[2].lower()) != (key, colour.lower()):
                problems.append(
                    f"label {lname!r}: key {mine[1] or '-'} colour {mine[2]} here,"
                    f" key {key or '-'} colour {colour} in {name}")
            continue
        if key and key in keys:
            problems.append(f"label {lname!r}: its key {key} is label {keys[key]!r}'s here")
            continue
        position += 1
        tgt.merge_add_label(lname, key, colour, desc, position)
        if key:
            keys[key] = lname
        report.labels.append(lname)

    # -- documents ------------------------------------------------------------------------
    docmap: dict[int, int] = {}
    titles: dict[int, str] = {}
    src_docs = src.merge_documents()
    for chunk in _chunks(src_docs):
        found = tgt.merge_ids_of_hashes([h for _, h, _ in chunk])
        for sid, h, title in chunk:
            titles[sid] = title
            if h in found:
                docmap[sid] = found[h]
    new_docs = [sid for sid, _, _ in src_docs if sid not in docmap]
    for chunk in _chunks(new_docs):
        rows = src.merge_document_rows(chunk)
        # In bulk (COPY on PostgreSQL); none is there yet: their hashes were looked up above, under the write lock.
        for (sid, *_), (new_id, added) in zip(rows, tgt.insert_documents([values for _, *values in rows])):
            assert added, f"{name}: document {sid} appeared here while merging"
            docmap[sid] = new_id
            report.documents += 1
        if "doc_tokens" in tables:
            tgt.merge_add_tokens([(docmap[sid], tok, offsets) for sid, tok, offsets in src.merge_token_rows(chunk)])

    def where(sid: int) -> str:
        return f"document {titles.get(sid, '')[:40]!r} (id {sid} in {name})"

    # -- statuses -------------------------------------------------------------------------
    src_status = {(d, a): (s, u) for d, a, s, u in src.merge_statuses()}
    mapped = sorted(set(docmap.values()))  # every document the source holds: its layers may differ
    tgt_status = {(d, a): s for d, a, s in tgt.merge_statuses_of(mapped)}

    # -- spans ----------------------------------------------------------------------------
    src_spans: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
    for row in src.merge_spans():
        src_spans.setdefault((row[1], row[5]), []).append(row)
    tgt_spans: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
    for row in tgt.merge_spans(mapped):
        tgt_spans.setdefault((row[1], row[5]), []).append(row)
    spanmap: dict[int, int] = {}
    next_id = [tgt.id_high_water("spans")]  # the highest span id this database ever handed out
    first_id = next_id[0]

    def fresh_id() -> int:
        next_id[0] += 1
        return next_id[0]

    # -- where the two differ, whose work is the later: the event log says ------------------
    def accepted(rows: Sequence[tuple[Any, ...]]) -> set[tuple[int, int, str]]:
        return {(r[2], r[3], r[4]) for r in rows if r[7] == "accepted"}

    to_source = {tid: sid for sid, tid in docmap.items()}
    differ: set[tuple[int, str]] = set()
    for key in (set(src_spans) | set(src_status) | {(to_source[t], a) for t, a in tgt_spans}
                | {(to_source[t], a) for t, a in tgt_status if t in to_source}):
        sid, annotator = key
        tid = docmap[sid]
        if (accepted(src_spans.get(key, ())) != accepted(tgt_spans.get((tid, annotator), ()))
                or src_status.get(key, ("todo",))[0] != tgt_status.get((tid, annotator), "todo")):
            differ.add(key)
    ahead, behind = _lineage(src, tgt, differ, docmap, spanmap)

    to_insert: list[list[Any]] = []
    to_delete: list[int] = []
    inserted: set[int] = set()
    for (sid, annotator), rows in src_spans.items():
        tid = docmap[sid]
        mine = tgt_spans.get((tid, annotator), [])
        by_key = {(r[2], r[3], r[4], r[7]): r[0] for r in mine}
        for r in rows:
            hit = by_key.get((r[2], r[3], r[4], r[7]))
            if hit is not None:
                spanmap[r[0]] = hit
        if (sid, annotator) in behind:
            continue  # this database already holds a later version of that layer
        s_acc = accepted(rows)
        t_acc = accepted(mine)
        s_done = src_status.get((sid, annotator), ("todo",))[0] == "done"
        t_done = tgt_status.get((tid, annotator), "todo") == "done"
        copy_accepted = False
        if (sid, annotator) in ahead:
            # This database's layer is an earlier state of the source's: bring it up to date.
            gone = [r for r in mine if r[7] == "accepted" and (r[2], r[3], r[4]) not in s_acc]
            to_delete += [r[0] for r in gone]
            report.updated += 1
            copy_accepted = True
        elif s_acc != t_acc and (s_acc or s_done):
            if t_acc or t_done:
                only_here = sorted(t_acc - s_acc)
                only_there = sorted(s_acc - t_acc)
                example = (f"here {only_here[0][2]} at {only_here[0][0]}-{only_here[0][1]}" if only_here
                           else f"there {only_there[0][2]} at {only_there[0][0]}-{only_there[0][1]}")
                problems.append(
                    f"{where(sid)}: {annotator}'s spans differ: {len(t_acc)} here, {len(s_acc)} in {name}"
                    f" (e.g. only {example})")
                continue
            copy_accepted = True
        ranges = {(r[2], r[3]) for r in mine}
        live = {r[0] for r in mine} - set(to_delete)
        for r in rows:
            if r[7] == "accepted" and (r[2], r[3], r[4]) in t_acc:
                continue
            if r[7] != "accepted" and r[0] in spanmap and spanmap[r[0]] in live:
                continue
            if r[7] == "accepted" and not copy_accepted:
                continue
            if r[7] != "accepted" and (r[2], r[3]) in ranges:
                continue
            # The id the same span has in this database's log, if the two share that history.
            new = spanmap.get(r[0])
            if new is None or new in live or new in inserted:
                new = fresh_id()
            spanmap[r[0]] = new
            live.add(new)
            inserted.add(new)
            to_insert.append([new, tid, *r[2:]])

    # A later state of a layer with no spans left in it (all removed in the source).
    for sid, annotator in ahead - set(src_spans):
        gone = [r[0] for r in tgt_spans.get((docmap[sid], annotator), []) if r[7] == "accepted"]
        if gone:
            to_delete += gone
            report.updated += 1

    # -- statuses (after the spans: a conflict there is reported once) -----------------------
    status_rows = []
    for sid, annotator in ahead - set(src_status):  # reopened there: todo again
        if tgt_status.get((docmap[sid], annotator), "todo") != "todo":
            status_rows.append([docmap[sid], annotator, "todo", now()])
    for (sid, annotator), (status, updated) in src_status.items():
        tid = docmap.get(sid)
        if tid is None or (sid, annotator) in behind:
            continue
        mine = tgt_status.get((tid, annotator), "todo")
        if mine == status:
            continue
        if (sid, annotator) not in ahead:
            if status == "todo":
                continue
            if mine != "todo":
                problems.append(f"{where(sid)}: {annotator} marked it {mine} here and {status} in {name}")
                continue
        status_rows.append([tid, annotator, status, updated])

    if problems:
        raise MergeConflict(name, problems)

    tgt.merge_delete_spans(to_delete)
    if to_insert:
        tgt.insert_span_rows(to_insert)
    report.spans = sum(1 for r in to_insert if r[7] == "accepted")
    tgt.merge_put_statuses(status_rows)
    report.statuses = len(status_rows)

    # -- assignments ----------------------------------------------------------------------
    if "assignments" in tables:
        report.assignments = tgt.merge_add_assignments(
            [(docmap[d], a, c) for d, a, c in src.merge_assignments() if d in docmap])

    if "reviewers" in tables:
        report.reviewers = tgt.merge_add_reviewers(src.merge_reviewers())

    # -- sessions and events --------------------------------------------------------------
    sessmap: dict[int, int] = {}
    have_sessions = {(a, s): i for i, a, s, _ in tgt.merge_sessions()}
    for sid, annotator, started, ended in (src.merge_sessions() if "sessions" in tables else []):
        hit = have_sessions.get((annotator, started))
        if hit is None:
            hit = tgt.merge_add_session(annotator, started, ended)
            report.sessions += 1
        sessmap[sid] = hit
    # An event is already here if one of the same annotator, time, action and document made
    # the same changes (ids aside): two actions can share a millisecond.
    have_events: dict[tuple[Any, ...], list[int]] = {}
    for i, a, ts, act, d in tgt.merge_event_keys():
        have_events.setdefault((a, ts, act, d), []).append(i)
    eventmap: dict[int, int] = {}
    for eid, ts, annotator, session_id, doc_id, action, target, changes in src.merge_events():
        tdoc = docmap.get(doc_id) if doc_id is not None else None
        key = (annotator, ts, action, tdoc)
        shape = _shape(changes)
        hit = next((i for i in have_events.get(key, ()) if _shape(tgt.merge_event_changes(i)) == shape), None)
        if hit is not None:
            eventmap[eid] = hit
            continue
        moved = [_remap(ch, docmap, spanmap, fresh_id) for ch in json.loads(changes)]
        eventmap[eid] = tgt.log_event(
            ts, annotator, sessmap.get(session_id) if session_id is not None else None, tdoc, action,
            eventmap.get(target) if target is not None else None, moved)
        have_events.setdefault(key, []).append(eventmap[eid])
        report.events += 1
    # Span ids handed out for spans that only live in the log: never reused by a new span.
    if next_id[0] > first_id:
        tgt.set_id_high_water("spans", next_id[0])
    return report


def _lineage(src: Backend, tgt: Backend, pairs: set[tuple[int, str]],
             docmap: dict[int, int], spanmap: dict[int, int]) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """Of the ``(source document id, annotator)`` pairs whose spans or status differ between the two
    databases, those whose history here is a strict part of the source's (``ahead``: the source
    holds a later state of the same work, as when a copy was taken and worked on) and those whose
    source history is a strict part of the one here (``behind``: the source is a stale copy).

    A history is the pair's events, compared by time, action and changes (ids aside); a side
    without events proves nothing, so those pairs are neither. For ``ahead`` pairs the span ids
    of the shared events are put in ``spanmap`` (source id -> id here), so the source's later
    events, and the spans they left, keep the ids this database's log knows them by.
    """
    if not pairs:
        return set(), set()
    names = sorted({a for _, a in pairs})

    History = dict[tuple[int, str], dict[tuple[str, str, str], str]]  # pair -> (ts, action, shape) -> changes

    def history(db: Backend, to_source: dict[int, int]) -> History:
        out: History = {}
        for ts, annotator, doc_id, action, changes in db.merge_history(names):
            sid = to_source.get(doc_id)
            if sid is not None and (sid, annotator) in pairs:
                out.setdefault((sid, annotator), {}).setdefault((ts, action, _shape(changes)), changes)
        return out

    there = history(src, {sid: sid for sid in docmap})
    here = history(tgt, {tid: sid for sid, tid in docmap.items()})
    ahead: set[tuple[int, str]] = set()
    behind: set[tuple[int, str]] = set()
    for pair in pairs:
        s, t = there.get(pair, {}), here.get(pair, {})
        if t and s.keys() > t.keys():
            ahead.add(pair)
            for key, changes in t.items():
                for mine, theirs in zip(json.loads(changes), json.loads(s[key])):
                    if mine["op"] in ("insert", "delete") and theirs["op"] == mine["op"]:
                        spanmap.setdefault(theirs["span"]["id"], mine["span"]["id"])
                    elif mine["op"] == "update" and theirs["op"] == "update":
                        spanmap.setdefault(theirs["id"], mine["id"])
        elif s and t.keys() > s.keys():
            behind.add(pair)
    return ahead, behind


def _shape(changes: str) -> str:
    """An event's changes without span and document ids (they differ between databases)."""
    out = []
    for ch in json.loads(changes):
        ch = {k: v for k, v in ch.items() if k not in ("id", "doc_id")}
        if "span" in ch:
            ch["span"] = {k: v for k, v in ch["span"].items() if k not in ("id", "doc_id")}
        out.append(ch)
    return json.dumps(out, sort_keys=True)


def _remap(ch: dict[str, Any], docmap: dict[int, int], spanmap: dict[int, int], fresh_id: Any) -> dict[str, Any]:
    """A change record with this database's document and span ids."""
    def span_id(old: int) -> int:
        if old not in spanmap:
            spanmap[old] = fresh_id()
        return spanmap[old]

    out = dict(ch)
    if ch["op"] in ("insert", "delete"):
        span = dict(ch["span"])
        span["id"] = span_id(span["id"])
        span["doc_id"] = docmap.get(span["doc_id"], span["doc_id"])
        out["span"] = span
    elif ch["op"] == "update":
        out["id"] = span_id(ch["id"])
    elif ch["op"] == "status":
        out["doc_id"] = docmap.get(ch["doc_id"], ch["doc_id"])
    return out
