"""Bringing work done elsewhere into this database: ``annotate merge OTHER.db``.

Documents are matched by content hash; labels, spans, statuses, assignments, reviewers, sessions and
the event log of every annotator are brought in, with ids renumbered so undo and redo keep
working here. Merging is idempotent (a second run changes nothing) and all-or-nothing per
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
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..db import write
from ..history import SPAN_COLUMNS
from ..store import Store, StoreError, now

__all__ = ["MergeConflict", "MergeReport", "merge_database"]

REQUIRED_TABLES = ("documents", "labels", "spans", "doc_status", "events")


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


def _open_source(path: Path) -> tuple[sqlite3.Connection, set[str]]:
    if not path.is_file():
        raise StoreError(f"{path}: no such database file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a database ({exc})") from None
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        conn.close()
        raise StoreError(f"{path}: not an annotate database (no {', '.join(missing)} table)")
    conn.execute("BEGIN")  # one consistent snapshot of the source
    return conn, tables


def _chunks(items: Sequence[Any], n: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def merge_database(store: Store, source: str | Path) -> MergeReport:
    """Merge the database at ``source`` into ``store``; raises :class:`MergeConflict` on conflicts."""
    path = Path(source)
    name = str(source)
    try:
        if path.resolve() == store.path.resolve():
            raise StoreError(f"{name}: that is this database")
    except OSError:
        pass
    src, tables = _open_source(path)
    try:
        with write(store.db):
            return _merge(store, src, tables, name)
    finally:
        src.close()


def _merge(store: Store, src: sqlite3.Connection, tables: set[str], name: str) -> MergeReport:
    conn = store.db.conn
    report = MergeReport(name)
    problems: list[str] = []

    # -- labels ---------------------------------------------------------------------------
    here = {r[0]: r for r in conn.execute("SELECT name, key, colour, description, position FROM labels")}
    keys = {r[1]: r[0] for r in here.values() if r[1]}
    position = max((r[4] for r in here.values()), default=-1)
    for lname, key, colour, desc, _pos in src.execute(
            "SELECT name, key, colour, description, position FROM labels ORDER BY position, name"):
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
        conn.execute("INSERT INTO labels (name, key, colour, description, position) VALUES (?,?,?,?,?)",
                     [lname, key, colour, desc, position])
        if key:
            keys[key] = lname
        report.labels.append(lname)

    # -- documents ------------------------------------------------------------------------
    docmap: dict[int, int] = {}
    titles: dict[int, str] = {}
    src_docs = src.execute("SELECT id, hash, title FROM documents ORDER BY id").fetchall()
    for chunk in _chunks(src_docs):
        found = dict(conn.execute(
            f"SELECT hash, id FROM documents WHERE hash IN ({','.join('?' * len(chunk))})",
            [h for _, h, _ in chunk]).fetchall())
        for sid, h, title in chunk:
            titles[sid] = title
            if h in found:
                docmap[sid] = found[h]
    new_docs = [sid for sid, _, _ in src_docs if sid not in docmap]
    for chunk in _chunks(new_docs):
        rows = src.execute(
            "SELECT id, hash, source, line, title, lang, text, meta, created FROM documents"
            f" WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY id", list(chunk)).fetchall()
        for sid, *values in rows:
            cur = conn.execute(
                "INSERT INTO documents (hash, source, line, title, lang, text, meta, created)"
                " VALUES (?,?,?,?,?,?,?,?)", values)
            docmap[sid] = int(cur.lastrowid)
            report.documents += 1
        if "doc_tokens" in tables:
            for sid, tok, offsets in src.execute(
                    f"SELECT doc_id, tokenizer, offsets FROM doc_tokens WHERE doc_id IN"
                    f" ({','.join('?' * len(chunk))})", list(chunk)):
                conn.execute("INSERT OR IGNORE INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)",
                             [docmap[sid], tok, offsets])

    def where(sid: int) -> str:
        return f"document {titles.get(sid, '')[:40]!r} (id {sid} in {name})"

    # -- statuses -------------------------------------------------------------------------
    src_status = {(d, a): (s, u) for d, a, s, u in src.execute(
        "SELECT doc_id, annotator, status, updated FROM doc_status")}
    tgt_status = {(d, a): s for d, a, s in conn.execute("SELECT doc_id, annotator, status FROM doc_status")}

    # -- spans ----------------------------------------------------------------------------
    cols = ", ".join(f"[{c}]" for c in SPAN_COLUMNS)
    src_spans: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
    for row in src.execute(f"SELECT {cols} FROM spans ORDER BY id"):
        src_spans.setdefault((row[1], row[5]), []).append(row)
    tgt_spans: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
    mapped = sorted(set(docmap.values()))  # every document the source holds: its layers may differ
    for chunk in _chunks(mapped):
        for row in conn.execute(f"SELECT {cols} FROM spans WHERE doc_id IN ({','.join('?' * len(chunk))})",
                                list(chunk)):
            tgt_spans.setdefault((row[1], row[5]), []).append(row)
    spanmap: dict[int, int] = {}
    next_id = [conn.execute(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'spans'), 0),"
        " coalesce((SELECT max(id) FROM spans), 0))").fetchone()[0]]
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
    ahead, behind = _lineage(src, conn, differ, docmap, spanmap)

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

    for chunk in _chunks(to_delete):
        conn.execute(f"DELETE FROM spans WHERE id IN ({','.join('?' * len(chunk))})", list(chunk))
    conn.executemany(f"INSERT INTO spans ({cols}) VALUES ({','.join('?' * len(SPAN_COLUMNS))})", to_insert)
    report.spans = sum(1 for r in to_insert if r[7] == "accepted")
    conn.executemany(
        "INSERT INTO doc_status (doc_id, annotator, status, updated) VALUES (?,?,?,?)"
        " ON CONFLICT(doc_id, annotator) DO UPDATE SET status = excluded.status, updated = excluded.updated",
        status_rows)
    report.statuses = len(status_rows)

    # -- assignments ----------------------------------------------------------------------
    if "assignments" in tables:
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO assignments (doc_id, annotator, created) VALUES (?,?,?)",
            [[docmap[d], a, c] for d, a, c in src.execute("SELECT doc_id, annotator, created FROM assignments")
             if d in docmap])
        report.assignments = conn.total_changes - before

    if "reviewers" in tables:
        before = conn.total_changes
        conn.executemany("INSERT OR IGNORE INTO reviewers (annotator, created) VALUES (?,?)",
                         src.execute("SELECT annotator, created FROM reviewers").fetchall())
        report.reviewers = conn.total_changes - before

    # -- sessions and events --------------------------------------------------------------
    sessmap: dict[int, int] = {}
    have_sessions = {(a, s): i for i, a, s in conn.execute("SELECT id, annotator, started FROM sessions")}
    for sid, annotator, started, ended in src.execute("SELECT id, annotator, started, ended FROM sessions ORDER BY id"):
        hit = have_sessions.get((annotator, started))
        if hit is None:
            hit = int(conn.execute("INSERT INTO sessions (annotator, started, ended) VALUES (?,?,?)",
                                   [annotator, started, ended]).lastrowid)
            report.sessions += 1
        sessmap[sid] = hit
    # An event is already here if one of the same annotator, time, action and document made
    # the same changes (ids aside): two actions can share a millisecond.
    have_events: dict[tuple[Any, ...], list[int]] = {}
    for i, a, ts, act, d in conn.execute("SELECT id, annotator, ts, action, doc_id FROM events"):
        have_events.setdefault((a, ts, act, d), []).append(i)
    eventmap: dict[int, int] = {}
    for eid, ts, annotator, session_id, doc_id, action, target, changes in src.execute(
            "SELECT id, ts, annotator, session_id, doc_id, action, target, changes FROM events ORDER BY id"):
        tdoc = docmap.get(doc_id) if doc_id is not None else None
        key = (annotator, ts, action, tdoc)
        shape = _shape(changes)
        hit = next((i for i in have_events.get(key, ()) if _shape(conn.execute(
            "SELECT changes FROM events WHERE id = ?", [i]).fetchone()[0]) == shape), None)
        if hit is not None:
            eventmap[eid] = hit
            continue
        moved = [_remap(ch, docmap, spanmap, fresh_id) for ch in json.loads(changes)]
        cur = conn.execute(
            "INSERT INTO events (ts, annotator, session_id, doc_id, action, target, changes) VALUES (?,?,?,?,?,?,?)",
            [ts, annotator, sessmap.get(session_id) if session_id is not None else None, tdoc, action,
             eventmap.get(target) if target is not None else None, json.dumps(moved, ensure_ascii=False)])
        eventmap[eid] = int(cur.lastrowid)
        have_events.setdefault(key, []).append(eventmap[eid])
        report.events += 1
    # Span ids handed out for spans that only live in the log: never reused by a new span.
    if next_id[0] > first_id:
        _bump_sequence(conn, next_id[0])
    return report


def _lineage(src: sqlite3.Connection, conn: sqlite3.Connection, pairs: set[tuple[int, str]],
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
    marks = ",".join("?" * len(names))

    History = dict[tuple[int, str], dict[tuple[str, str, str], str]]  # pair -> (ts, action, shape) -> changes

    def history(db: sqlite3.Connection, to_source: dict[int, int]) -> History:
        out: History = {}
        for ts, annotator, doc_id, action, changes in db.execute(
                f"SELECT ts, annotator, doc_id, action, changes FROM events WHERE annotator IN ({marks})"
                " AND doc_id IS NOT NULL ORDER BY id", names):
            sid = to_source.get(doc_id)
            if sid is not None and (sid, annotator) in pairs:
                out.setdefault((sid, annotator), {}).setdefault((ts, action, _shape(changes)), changes)
        return out

    there = history(src, {sid: sid for sid in docmap})
    here = history(conn, {tid: sid for sid, tid in docmap.items()})
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


def _bump_sequence(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'spans'", [seq])
    conn.execute("INSERT INTO sqlite_sequence (name, seq) SELECT 'spans', ? WHERE NOT EXISTS"
                 " (SELECT 1 FROM sqlite_sequence WHERE name = 'spans')", [seq])


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
