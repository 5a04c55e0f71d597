"""The store: one SQLite file holding a corpus, its label set, spans, statuses and event log.

:class:`Store` is the public API the TUI and the command line share. Each user action
(add/relabel/delete a span, accept/reject a suggestion, set a status, undo, redo) is one
write transaction that also appends to the event log, so what the screen shows is already
on disk.

Threading rule: a :class:`Store` (its SQLite connection) belongs to the thread that opened
it. A worker thread calls :meth:`Store.reopen` to get its own.
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import sqlite_utils

from . import db as dbmod
from .db import ReadOnlyError, StoreError  # StoreError lives in db, so that ReadOnlyError can be one
from .history import SPAN_COLUMNS, Change, UndoStacks, apply_changes, invert, load_changes
from .labels import DEFAULT_LABELS, PALETTE, label_repr, valid_colour, valid_label_name
from .models import STATUSES, Document, DocumentSummary, Label, Span
from .tokenize import Tokens, tokenize, tokenizer_id

__all__ = ["Store", "StoreError", "ReadOnlyError", "open_store", "default_annotator", "default_db_path", "now", "EVERYONE"]

#: The annotator that suggestions for everyone belong to (``annotate suggest`` without
#: ``--annotator``). Every annotator sees them as pending until they decide: a decision
#: (accept, reject, relabel, delete) makes the annotator's own copy, and a shared
#: suggestion is hidden from an annotator who has any span of their own overlapping it.
EVERYONE = "*"



def now() -> str:
    """UTC timestamp with milliseconds, as stored in every table."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def default_annotator() -> str:
    """``$USER`` (or the login name), else ``annotator``."""
    try:
        return os.environ.get("USER") or getpass.getuser() or "annotator"
    except Exception:  # pragma: no cover - no passwd entry
        return "annotator"


def default_db_path() -> Path:
    """``$ANNOTATE_DB`` if set, else ``./annotations.db``."""
    return Path(os.environ.get("ANNOTATE_DB") or "annotations.db")


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did: its event id, the document it touched and the spans it created."""

    event_id: int
    doc_id: int | None
    spans: tuple[Span, ...] = ()


def _span(row: Sequence[Any]) -> Span:
    return Span(*row)


def _row(span: Span) -> dict[str, Any]:
    return {c: getattr(span, c) for c in SPAN_COLUMNS}


_SPAN_SELECT = "SELECT " + ", ".join(f"[{c}]" for c in SPAN_COLUMNS) + " FROM spans"


class Store:
    """A corpus and its annotations in one SQLite file, seen by one annotator."""

    def __init__(self, path: str | Path, annotator: str | None = None) -> None:
        self.path = Path(path)
        self.annotator = annotator or default_annotator()
        self.db: sqlite_utils.Database = dbmod.connect(self.path)
        self._stacks = UndoStacks(self.annotator)
        self._session_id: int | None = None
        self._lengths: dict[int, int] = {}
        self._ensure_default_labels()

    # -- lifecycle ---------------------------------------------------------------------

    def reopen(self, annotator: str | None = None) -> "Store":
        """A new store on the same file, for use in another thread."""
        return Store(self.path, annotator or self.annotator)

    def set_annotator(self, annotator: str) -> None:
        """Work as ``annotator`` from now on; only before a session starts (a served app asks first)."""
        if self._session_id is not None:
            raise StoreError("the annotator cannot change during a session")
        self.annotator = annotator
        self._stacks = UndoStacks(annotator)

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self):
        return dbmod.write(self.db)

    @property
    def read_only(self) -> str | None:
        """Why the database was opened read-only (not writable, newer schema), or None."""
        return dbmod.read_only_reason(self.db)

    def _log(
        self,
        action: str,
        changes: list[Change],
        doc_id: int | None = None,
        target: int | None = None,
        annotator: str | None = None,
    ) -> int:
        cur = self.db.conn.execute(
            "INSERT INTO events (ts, annotator, session_id, doc_id, action, target, changes)"
            " VALUES (?,?,?,?,?,?,?)",
            [now(), annotator or self.annotator, self._session_id, doc_id, action, target,
             json.dumps(changes, ensure_ascii=False)],
        )
        return int(cur.lastrowid)

    # -- labels ------------------------------------------------------------------------

    def _ensure_default_labels(self) -> None:
        if self.read_only or self.db.conn.execute("SELECT 1 FROM labels LIMIT 1").fetchone():
            return
        with self._write():
            if self.db.conn.execute("SELECT 1 FROM labels LIMIT 1").fetchone():
                return
            for pos, (name, key, colour, desc) in enumerate(DEFAULT_LABELS):
                self.db.conn.execute(
                    "INSERT INTO labels (name, key, colour, description, position) VALUES (?,?,?,?,?)",
                    [name, key, colour, desc, pos],
                )

    def labels(self) -> list[Label]:
        """The label set in key order."""
        rows = self.db.conn.execute(
            "SELECT name, key, colour, description, position FROM labels ORDER BY position, name"
        ).fetchall()
        return [Label(*r) for r in rows]

    def label(self, name: str) -> Label | None:
        row = self.db.conn.execute(
            "SELECT name, key, colour, description, position FROM labels WHERE name = ?", [name]
        ).fetchone()
        return Label(*row) if row else None

    def _free_key(self, used: set[str]) -> str | None:
        for k in "123456789":
            if k not in used:
                return k
        return None

    def add_label(
        self,
        name: str,
        key: str | None = None,
        colour: str | None = None,
        description: str = "",
    ) -> Label:
        """Add a label; without ``key``/``colour`` it gets the next free key and palette colour."""
        if not valid_label_name(name):
            raise StoreError(f"invalid label name {label_repr(name)}: use 1-40 visible characters, no spaces")
        if colour is not None and not valid_colour(colour):
            raise StoreError(f"invalid colour {colour!r}: use #rrggbb")
        with self._write():
            existing = self.labels()
            if any(lab.name == name for lab in existing):
                raise StoreError(f"label {name!r} already exists")
            used = {lab.key: lab.name for lab in existing if lab.key}
            if key is not None and key in used:
                raise StoreError(f"key {key!r} is already used by {used[key]!r}")
            if key is not None and (len(key) != 1 or not key.isprintable() or key.isspace()):
                raise StoreError(f"invalid key {key!r}: use one printable character")
            key = key if key is not None else self._free_key(used)
            colour = colour or PALETTE[len(existing) % len(PALETTE)]
            pos = max((lab.position for lab in existing), default=-1) + 1
            self.db.conn.execute(
                "INSERT INTO labels (name, key, colour, description, position) VALUES (?,?,?,?,?)",
                [name, key, colour, description, pos],
            )
            self._log("labels", [], None)
        return Label(name, key, colour, description, pos)

    def ensure_labels(self, names: Iterable[str]) -> list[str]:
        """Add any of ``names`` not yet in the label set; returns the ones added."""
        have = {lab.name for lab in self.labels()}
        added = []
        for name in dict.fromkeys(names):
            if name not in have:
                self.add_label(name)
                added.append(name)
        return added

    def edit_label(
        self,
        name: str,
        *,
        new_name: str | None = None,
        key: str | None = None,
        colour: str | None = None,
        description: str | None = None,
    ) -> Label:
        """Rename a label (spans follow) or change its key, colour or description."""
        with self._write():
            lab = self.label(name)
            if lab is None:
                raise StoreError(f"no label {name!r}")
            if new_name is not None and new_name != name:
                if not valid_label_name(new_name):
                    raise StoreError(f"invalid label name {label_repr(new_name)}")
                if self.label(new_name):
                    raise StoreError(f"label {new_name!r} already exists")
            if colour is not None and not valid_colour(colour):
                raise StoreError(f"invalid colour {colour!r}: use #rrggbb")
            if key is not None:
                if len(key) != 1 or not key.isprintable() or key.isspace():
                    raise StoreError(f"invalid key {key!r}: use one printable character")
                clash = self.db.conn.execute(
                    "SELECT name FROM labels WHERE key = ? AND name != ?", [key, name]
                ).fetchone()
                if clash:
                    raise StoreError(f"key {key!r} is already used by {clash[0]!r}")
            updates = {
                "name": new_name, "key": key, "colour": colour, "description": description,
            }
            updates = {k: v for k, v in updates.items() if v is not None}
            if updates:
                cols = ", ".join(f"[{k}] = ?" for k in updates)
                self.db.conn.execute(
                    f"UPDATE labels SET {cols} WHERE name = ?", [*updates.values(), name]
                )
                self._log("labels", [], None)
        result = self.label(new_name or name)
        assert result is not None
        return result

    def remove_label(self, name: str, *, force: bool = False) -> int:
        """Remove a label. Refused while spans use it unless ``force`` (which deletes them)."""
        with self._write():
            if self.label(name) is None:
                raise StoreError(f"no label {name!r}")
            used = self.db.conn.execute(
                "SELECT count(*) FROM spans WHERE label = ?", [name]
            ).fetchone()[0]
            if used and not force:
                raise StoreError(
                    f"label {name!r} is used by {used} span(s); use --force to delete them too"
                )
            self.db.conn.execute("DELETE FROM spans WHERE label = ?", [name])
            self.db.conn.execute("DELETE FROM labels WHERE name = ?", [name])
            self._log("labels", [], None)
        return used

    # -- documents ---------------------------------------------------------------------

    def count_documents(self) -> int:
        return self.db.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    def _doc_filters(
        self,
        status: str | Sequence[str] | None,
        lang: str | None,
        annotator: str,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if status:
            wanted = [status] if isinstance(status, str) else list(status)
            for s in wanted:
                if s not in STATUSES:
                    raise StoreError(f"unknown status {s!r}: use one of {', '.join(STATUSES)}")
            # Shaped so SQLite walks an index (a page of "done" documents must not scan the
            # whole corpus): todo is "no row with another status", the others come from
            # the doc_status index.
            if "todo" in wanted:
                others = [s for s in STATUSES if s not in wanted]
                if others:
                    where.append(
                        "NOT EXISTS (SELECT 1 FROM doc_status s WHERE s.doc_id = d.id"
                        " AND s.annotator = ? AND s.status IN (" + ",".join("?" * len(others)) + "))"
                    )
                    args += [annotator, *others]
            else:
                where.append(
                    "d.id IN (SELECT doc_id FROM doc_status WHERE annotator = ?"
                    " AND status IN (" + ",".join("?" * len(wanted)) + "))"
                )
                args += [annotator, *wanted]
        if lang:
            where.append("d.lang = ?")
            args.append(lang)
        return where, args

    def documents(
        self,
        *,
        status: str | Sequence[str] | None = None,
        lang: str | None = None,
        search: str | None = None,
        limit: int = 50,
        after: int | None = None,
        offset: int = 0,
        annotator: str | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[DocumentSummary]:
        """One page of documents in import order, with this annotator's status and counts.

        ``after`` pages by id (fast at any depth); ``offset`` is also accepted (it walks
        the skipped rows, so deep offsets are slower). ``search`` is a full-text query over
        title and text: every word must match, the last one as a prefix (see
        :func:`_fts_query`). ``ids`` keeps only those documents (a page of a list in
        another order: the caller puts the rows in its order).
        """
        if ids is not None and not ids:
            return []
        annotator = annotator or self.annotator
        where, args = self._doc_filters(status, lang, annotator)
        source, order = "documents d", "d.id"
        wanted = [status] if isinstance(status, str) else list(status or ())
        if search and search.strip() and wanted and "todo" not in wanted:
            # Few documents are done or skipped: check those against the set of matches.
            where.append("d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)")
            args.append(_fts_query(search))
        elif search and search.strip():
            # Ordered by the FTS table's own rowid so SQLite reads matches in order and
            # stops after one page, instead of collecting and sorting every match.
            source, order = "documents_fts f JOIN documents d ON d.id = f.rowid", "f.rowid"
            where.insert(0, "documents_fts MATCH ?")
            args.insert(0, _fts_query(search))
        if after is not None:
            where.append(f"{order} > ?")
            args.append(after)
        if ids is not None:
            where.append("d.id IN (" + ",".join("?" * len(ids)) + ")")
            args += list(ids)
        sql = (
            "SELECT d.id, d.title, d.lang, d.source, d.line,"
            " coalesce((SELECT status FROM doc_status WHERE doc_id = d.id AND annotator = ?), 'todo'),"
            " (SELECT count(*) FROM spans WHERE doc_id = d.id AND annotator = ? AND state = 'accepted'),"
            " (SELECT count(*) FROM spans WHERE doc_id = d.id AND annotator = ? AND state = 'pending')"
            " + (SELECT count(*) FROM spans g WHERE g.doc_id = d.id AND g.annotator = ? AND g.state = 'pending'"
            "    AND NOT EXISTS (SELECT 1 FROM spans o WHERE o.doc_id = d.id AND o.annotator = ?"
            "    AND o.start < g.end AND g.start < o.end))"
            f" FROM {source}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY {order} LIMIT ? OFFSET ?"
        )
        rows = self.db.conn.execute(
            sql, [annotator, annotator, annotator, EVERYONE, annotator, *args, limit, offset]
        ).fetchall()
        return [DocumentSummary(*r) for r in rows]

    def iter_documents(self, **filters: Any) -> Iterator[DocumentSummary]:
        """Every matching document, page by page (flat memory)."""
        after = None
        while True:
            page = self.documents(after=after, limit=500, **filters)
            if not page:
                return
            yield from page
            after = page[-1].id

    def progress(self, annotator: str | None = None) -> dict[str, int]:
        """Documents by this annotator's status: ``{"todo": n, "done": n, "skipped": n, "total": n}``."""
        annotator = annotator or self.annotator
        total = self.count_documents()
        counts = dict(
            self.db.conn.execute(
                "SELECT status, count(*) FROM doc_status WHERE annotator = ? GROUP BY status",
                [annotator],
            ).fetchall()
        )
        done, skipped = counts.get("done", 0), counts.get("skipped", 0)
        return {"todo": total - done - skipped, "done": done, "skipped": skipped, "total": total}

    def first_unfinished(self, after: int | None = None) -> int | None:
        """The first todo document in import order (after ``after``, wrapping round)."""
        sql = (
            "SELECT d.id FROM documents d LEFT JOIN doc_status s ON s.doc_id = d.id"
            " AND s.annotator = ? WHERE (s.status IS NULL OR s.status = 'todo') {cond}"
            " ORDER BY d.id LIMIT 1"
        )
        if after is not None:
            row = self.db.conn.execute(sql.format(cond="AND d.id > ?"), [self.annotator, after]).fetchone()
            if row:
                return row[0]
        row = self.db.conn.execute(sql.format(cond=""), [self.annotator]).fetchone()
        return row[0] if row else None

    def neighbour(self, doc_id: int, step: int) -> int | None:
        """The next (``step`` = 1) or previous (-1) document id in import order."""
        if step > 0:
            row = self.db.conn.execute(
                "SELECT id FROM documents WHERE id > ? ORDER BY id LIMIT 1", [doc_id]
            ).fetchone()
        else:
            row = self.db.conn.execute(
                "SELECT id FROM documents WHERE id < ? ORDER BY id DESC LIMIT 1", [doc_id]
            ).fetchone()
        return row[0] if row else None

    def document_ids(self) -> list[int]:
        return [r[0] for r in self.db.conn.execute("SELECT id FROM documents ORDER BY id")]

    def document(self, doc_id: int, annotator: str | None = None) -> Document:
        """A document with its tokens (computed and cached on first use) and spans."""
        row = self.db.conn.execute(
            "SELECT id, text, title, lang, source, line, hash, meta FROM documents WHERE id = ?",
            [doc_id],
        ).fetchone()
        if row is None:
            raise StoreError(f"no document {doc_id}")
        annotator = annotator or self.annotator
        tokens = self._tokens(doc_id, row[1], row[3])
        return Document(
            id=row[0], text=row[1], title=row[2], lang=row[3], source=row[4], line=row[5],
            hash=row[6], meta=json.loads(row[7]), status=self.status(doc_id, annotator),
            tokens=tokens, spans=self.spans(doc_id, annotator=annotator),
        )

    def text(self, doc_id: int) -> str:
        row = self.db.conn.execute("SELECT text FROM documents WHERE id = ?", [doc_id]).fetchone()
        if row is None:
            raise StoreError(f"no document {doc_id}")
        return row[0]

    def tokens(self, doc_id: int) -> Tokens:
        """The document's tokens (cached in ``doc_tokens``)."""
        row = self.db.conn.execute("SELECT text, lang FROM documents WHERE id = ?", [doc_id]).fetchone()
        if row is None:
            raise StoreError(f"no document {doc_id}")
        return self._tokens(doc_id, row[0], row[1])

    def _tokens(self, doc_id: int, text: str, lang: str) -> Tokens:
        want = tokenizer_id(lang)
        cached = self.db.conn.execute(
            "SELECT tokenizer, offsets FROM doc_tokens WHERE doc_id = ?", [doc_id]
        ).fetchone()
        if cached and cached[0] in (want, "import"):
            return Tokens.from_bytes(cached[1])
        toks = tokenize(text, lang)
        if self.read_only:
            return toks  # not cached: nothing can be written
        with self._write():
            self.db.conn.execute(
                "INSERT OR REPLACE INTO doc_tokens (doc_id, tokenizer, offsets) VALUES (?,?,?)",
                [doc_id, want, toks.to_bytes()],
            )
        return toks

    def status(self, doc_id: int, annotator: str | None = None) -> str:
        row = self.db.conn.execute(
            "SELECT status FROM doc_status WHERE doc_id = ? AND annotator = ?",
            [doc_id, annotator or self.annotator],
        ).fetchone()
        return row[0] if row else "todo"

    # -- spans: reading ------------------------------------------------------------------

    def spans(
        self,
        doc_id: int,
        *,
        annotator: str | None = None,
        states: Sequence[str] = ("accepted", "pending"),
    ) -> list[Span]:
        """One annotator's spans of a document, by start offset.

        Pending suggestions for everyone (:data:`EVERYONE`) that the annotator has not
        decided on are included (their ``annotator`` is ``EVERYONE``).
        """
        who = annotator or self.annotator
        marks = ",".join("?" * len(states))
        rows = self.db.conn.execute(
            f"{_SPAN_SELECT} WHERE doc_id = ? AND annotator = ? AND state IN ({marks})"
            " ORDER BY start, end",
            [doc_id, who, *states],
        ).fetchall()
        out = [_span(r) for r in rows]
        if "pending" in states and who != EVERYONE:
            shared = self._shared_visible(doc_id, who)
            if shared:
                out = sorted(out + shared, key=lambda sp: (sp.start, sp.end, sp.id))
        return out

    def _shared_visible(self, doc_id: int, who: str) -> list[Span]:
        """Suggestions for everyone in a document that ``who`` has no span of their own over."""
        sql = (
            f"{_SPAN_SELECT} g WHERE g.doc_id = ? AND g.annotator = ? AND g.state = 'pending'"
            " AND NOT EXISTS (SELECT 1 FROM spans o WHERE o.doc_id = g.doc_id AND o.annotator = ?"
            " AND o.start < g.end AND g.start < o.end) ORDER BY g.start, g.end"
        )
        return [_span(r) for r in self.db.conn.execute(sql, [doc_id, EVERYONE, who])]

    def _shared_snapshot(self, doc_id: int) -> dict[int, Span] | None:
        """The shared suggestions this annotator sees in a document (``None``: there are none)."""
        if self.annotator == EVERYONE or not self.db.conn.execute(
            "SELECT 1 FROM spans WHERE doc_id = ? AND annotator = ? AND state = 'pending' LIMIT 1",
            [doc_id, EVERYONE],
        ).fetchone():
            return None
        return {sp.id: sp for sp in self._shared_visible(doc_id, self.annotator)}

    def _view_changes(self, doc_id: int, before: dict[int, Span] | None) -> list[Change]:
        """Change records for the shared suggestions an action hid or showed again.

        They are marked ``"view": True``: the reader applies them, the database does not
        (the shared rows never change), and undo/redo work them out afresh.
        """
        if before is None:
            return []
        after = {sp.id: sp for sp in self._shared_visible(doc_id, self.annotator)}
        out: list[Change] = [
            {"op": "delete", "span": _row(sp), "view": True} for i, sp in before.items() if i not in after
        ]
        out += [{"op": "insert", "span": _row(sp), "view": True} for i, sp in after.items() if i not in before]
        return out

    def span(self, span_id: int) -> Span:
        row = self.db.conn.execute(f"{_SPAN_SELECT} WHERE id = ?", [span_id]).fetchone()
        if row is None:
            raise StoreError(f"no span {span_id}")
        return _span(row)

    def _own_span(self, span_id: int) -> Span:
        """A span this annotator may act on: their own, or a shared pending suggestion."""
        span = self.span(span_id)
        if span.annotator == EVERYONE and span.state == "pending" and self.annotator != EVERYONE:
            return span
        if span.annotator != self.annotator:
            raise StoreError(f"span {span_id} belongs to {span.annotator!r}, not {self.annotator!r}")
        return span

    def _overlapping(self, doc_id: int, start: int, end: int, state: str) -> list[Span]:
        if state == "accepted":
            # Accepted spans of one annotator never overlap (a trigger enforces it), so only
            # the last one starting before ``start`` can reach into the range: two index
            # seeks instead of scanning every span that starts before ``end``.
            base = f"{_SPAN_SELECT} WHERE doc_id = ? AND annotator = ? AND state = 'accepted'"
            rows = self.db.conn.execute(
                base + " AND start >= ? AND start < ? ORDER BY start",
                [doc_id, self.annotator, start, end],
            ).fetchall()
            before = self.db.conn.execute(
                base + " AND start < ? ORDER BY start DESC LIMIT 1", [doc_id, self.annotator, start]
            ).fetchone()
            found = [_span(r) for r in rows]
            if before is not None and _span(before).end > start:
                found.insert(0, _span(before))
            return found
        rows = self.db.conn.execute(
            f"{_SPAN_SELECT} WHERE doc_id = ? AND annotator = ? AND state = ?"
            " AND start < ? AND ? < end ORDER BY start",
            [doc_id, self.annotator, state, end, start],
        ).fetchall()
        return [_span(r) for r in rows]

    def _check_label(self, label: str) -> None:
        if self.label(label) is None:
            raise StoreError(f"unknown label {label!r}")

    def _check_range(self, doc_id: int, start: int, end: int) -> None:
        # The length is taken in Python: SQLite's length() stops at the first NUL character.
        # Documents never change once imported, so it is remembered (reading a long text
        # costs milliseconds on every span added).
        n = self._lengths.get(doc_id)
        if n is None:
            row = self.db.conn.execute("SELECT text FROM documents WHERE id = ?", [doc_id]).fetchone()
            if row is None:
                raise StoreError(f"no document {doc_id}")
            n = self._lengths[doc_id] = len(row[0])
        if not (0 <= start < end <= n):
            raise StoreError(f"span {start}-{end} is out of range for document {doc_id} ({n} characters)")

    # -- spans: actions (each one transaction and one event) ----------------------------

    def _insert_span(
        self,
        doc_id: int,
        start: int,
        end: int,
        label: str,
        *,
        origin: str,
        state: str,
        score: float | None,
        ts: str,
    ) -> Change:
        cur = self.db.conn.execute(
            "INSERT INTO spans (doc_id, start, end, label, annotator, origin, state, score,"
            " created, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [doc_id, start, end, label, self.annotator, origin, state, score, ts, ts],
        )
        row = {
            "id": int(cur.lastrowid), "doc_id": doc_id, "start": start, "end": end,
            "label": label, "annotator": self.annotator, "origin": origin, "state": state,
            "score": score, "created": ts, "updated": ts,
        }
        return {"op": "insert", "span": row}

    def _update(self, span: Span, ts: str, **after: Any) -> Change:
        before = {k: getattr(span, k) for k in after}
        change = {"op": "update", "id": span.id, "before": before, "after": after}
        apply_changes(self.db, [change], ts)
        return change

    def _delete(self, span: Span) -> Change:
        change = {"op": "delete", "span": _row(span)}
        apply_changes(self.db, [change], "")
        return change

    def _claim(self, shared: Span, ts: str, state: str = "pending") -> tuple[Span, list[Change]]:
        """This annotator's own copy of a suggestion for everyone, to decide on."""
        change = self._insert_span(
            shared.doc_id, shared.start, shared.end, shared.label, origin=shared.origin,
            state=state, score=shared.score, ts=ts,
        )
        return Span(**change["span"]), [change]

    def _clear_for(self, doc_id: int, start: int, end: int, ts: str, keep: int | None = None) -> list[Change]:
        """Make room for an accepted span: drop overlapping accepted spans, reject suggestions."""
        changes: list[Change] = []
        for old in self._overlapping(doc_id, start, end, "accepted"):
            if old.id != keep:
                changes.append(self._delete(old))
        for sug in self._overlapping(doc_id, start, end, "pending"):
            if sug.id != keep:
                changes.append(self._update(sug, ts, state="rejected"))
        return changes

    def add_span(
        self,
        doc_id: int,
        start: int,
        end: int,
        label: str,
        *,
        origin: str = "manual",
        snap: bool = False,
    ) -> ActionResult:
        """Label ``start``..``end`` (accepted). Overlapping spans of this annotator give way.

        If a pending suggestion covers exactly this range it is accepted with ``label``
        (keeping its origin). ``snap`` widens the range to whole tokens first.
        """
        with self._write():
            self._check_label(label)
            self._check_range(doc_id, start, end)
            if snap:
                start, end = snap_to_tokens(self.tokens(doc_id), start, end)
            ts = now()
            before = self._shared_snapshot(doc_id)
            exact = [s for s in self._overlapping(doc_id, start, end, "pending")
                     if s.start == start and s.end == end]
            keep = exact[0].id if exact else None
            changes = self._clear_for(doc_id, start, end, ts, keep=keep)
            if not exact and before:  # a shared suggestion over exactly this range lends its origin
                origin = next((sp.origin for sp in before.values()
                               if (sp.start, sp.end) == (start, end)), origin)
            if exact:
                changes.append(self._update(exact[0], ts, state="accepted", label=label))
                span_id = exact[0].id
            else:
                change = self._insert_span(
                    doc_id, start, end, label, origin=origin, state="accepted", score=None, ts=ts
                )
                changes.append(change)
                span_id = change["span"]["id"]
            changes += self._view_changes(doc_id, before)
            event = self._log("add", changes, doc_id)
            return ActionResult(event, doc_id, (self.span(span_id),))

    def relabel_span(self, span_id: int, label: str) -> ActionResult:
        """Give an existing span another label (a suggestion relabelled is also accepted)."""
        with self._write():
            self._check_label(label)
            span = self._own_span(span_id)
            before = self._shared_snapshot(span.doc_id)
            ts = now()
            changes = []
            if span.annotator == EVERYONE:
                span, changes = self._claim(span, ts)
                span_id = span.id
            if span.state != "accepted":
                changes += self._clear_for(span.doc_id, span.start, span.end, ts, keep=span.id)
                changes.append(self._update(span, ts, label=label, state="accepted"))
            elif span.label != label:
                changes.append(self._update(span, ts, label=label))
            changes += self._view_changes(span.doc_id, before)
            event = self._log("relabel", changes, span.doc_id)
            return ActionResult(event, span.doc_id, (self.span(span_id),))

    def delete_span(self, span_id: int) -> ActionResult:
        """Remove a span (an accepted one, or a suggestion outright; a suggestion for
        everyone is rejected for this annotator, so that it stays gone for them)."""
        with self._write():
            span = self._own_span(span_id)
            if span.annotator == EVERYONE:
                before = self._shared_snapshot(span.doc_id)
                ts = now()
                copy, changes = self._claim(span, ts)
                changes.append(self._update(copy, ts, state="rejected"))
                changes += self._view_changes(span.doc_id, before)
            else:
                changes = [self._delete(span)]
            event = self._log("delete", changes, span.doc_id)
            return ActionResult(event, span.doc_id)

    def accept(self, span_id: int) -> ActionResult:
        """Accept a pending suggestion; overlapping suggestions are rejected."""
        with self._write():
            span = self._own_span(span_id)
            if span.state == "accepted":
                raise StoreError(f"span {span_id} is already accepted")
            before = self._shared_snapshot(span.doc_id)
            ts = now()
            claimed: list[Change] = []
            if span.annotator == EVERYONE:
                span, claimed = self._claim(span, ts)
                span_id = span.id
            changes = claimed + self._clear_for(span.doc_id, span.start, span.end, ts, keep=span.id)
            changes.append(self._update(span, ts, state="accepted"))
            changes += self._view_changes(span.doc_id, before)
            event = self._log("accept", changes, span.doc_id)
            return ActionResult(event, span.doc_id, (self.span(span_id),))

    def reject(self, span_id: int) -> ActionResult:
        """Reject a pending suggestion; it will not be suggested again for this document."""
        with self._write():
            span = self._own_span(span_id)
            if span.state != "pending":
                raise StoreError(f"span {span_id} is not a pending suggestion")
            before = self._shared_snapshot(span.doc_id)
            ts = now()
            changes: list[Change] = []
            if span.annotator == EVERYONE:
                span, changes = self._claim(span, ts)
            changes.append(self._update(span, ts, state="rejected"))
            changes += self._view_changes(span.doc_id, before)
            event = self._log("reject", changes, span.doc_id)
            return ActionResult(event, span.doc_id)

    def accept_all(self, doc_id: int) -> ActionResult:
        """Accept every pending suggestion of a document, best score first; clashes are rejected."""
        with self._write():
            ts = now()
            before = self._shared_snapshot(doc_id)
            pending = self.spans(doc_id, states=("pending",))
            pending.sort(key=lambda s: (-(s.score if s.score is not None else 1.0), s.start))
            changes: list[Change] = []
            accepted: list[Span] = []
            for sug in pending:
                if sug.annotator == EVERYONE:
                    if self._overlapping(doc_id, sug.start, sug.end, "accepted"):
                        continue  # a better one was just accepted over it
                    changes += self._clear_for(doc_id, sug.start, sug.end, ts)
                    sug, claimed = self._claim(sug, ts, state="accepted")
                    changes += claimed
                    accepted.append(sug)
                    continue
                if self.span(sug.id).state != "pending":
                    continue
                changes += self._clear_for(doc_id, sug.start, sug.end, ts, keep=sug.id)
                changes.append(self._update(sug, ts, state="accepted"))
                accepted.append(sug)
            changes += self._view_changes(doc_id, before)
            event = self._log("accept_all", changes, doc_id)
            return ActionResult(event, doc_id, tuple(self.span(s.id) for s in accepted))

    def set_status(self, doc_id: int, status: str) -> ActionResult:
        """Mark a document todo, done or skipped for this annotator."""
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        with self._write():
            row = self.db.conn.execute(
                "SELECT status FROM doc_status WHERE doc_id = ? AND annotator = ?",
                [doc_id, self.annotator],
            ).fetchone()
            if not self.db.conn.execute("SELECT 1 FROM documents WHERE id = ?", [doc_id]).fetchone():
                raise StoreError(f"no document {doc_id}")
            change = {
                "op": "status", "doc_id": doc_id, "annotator": self.annotator,
                "before": row[0] if row else None, "after": status,
            }
            apply_changes(self.db, [change], now())
            event = self._log("status", [change], doc_id)
            return ActionResult(event, doc_id)

    def set_status_many(self, doc_ids: Iterable[int], status: str) -> int:
        """Mark many documents todo, done or skipped for this annotator: one transaction and
        one event (one undo step); documents already in that status are left alone.
        Returns how many changed."""
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        ids = list(dict.fromkeys(doc_ids))
        with self._write():
            before: dict[int, str] = {}
            for chunk in range(0, len(ids), 500):
                part = ids[chunk:chunk + 500]
                marks = ",".join("?" * len(part))
                before.update(self.db.conn.execute(
                    f"SELECT doc_id, status FROM doc_status WHERE annotator = ? AND doc_id IN ({marks})",
                    [self.annotator, *part],
                ).fetchall())
            changes = [
                {"op": "status", "doc_id": doc_id, "annotator": self.annotator,
                 "before": before.get(doc_id), "after": status}
                for doc_id in ids if before.get(doc_id, "todo") != status
            ]
            if changes:
                apply_changes(self.db, changes, now())
                self._log("status", changes, None)
            return len(changes)

    def add_suggestions(
        self,
        doc_id: int,
        suggestions: Iterable[tuple[int, int, str, float | None]],
        origin: str,
        *,
        replace: bool = False,
    ) -> int:
        """Store a recogniser's suggestions as pending spans; returns how many were new.

        With ``replace``, this origin's pending suggestions in the document that are not in
        ``suggestions`` are removed and kept ones take the new label and score, so a rerun
        (or a refresh after the lexicon changed) leaves exactly its current suggestions.
        Accepted and rejected spans are never touched.

        A suggestion is skipped if it overlaps an accepted span, or if any span of this
        annotator (pending or rejected) already covers the same range: a person's decision
        is never overwritten and a rejected suggestion never comes back. Suggestions with a
        label not in the label set are skipped; one out of the text's range is a recogniser
        bug and raises :class:`StoreError` (nothing is stored).
        """
        with self._write():
            ts = now()
            existing = self.spans(doc_id, states=("accepted", "pending", "rejected"))
            labels = {lab.name for lab in self.labels()}
            changes: list[Change] = []
            if replace:
                suggestions = list(suggestions)
                wanted = {(s, e): (lab, sc) for s, e, lab, sc in suggestions}
                for old in existing:
                    if old.state != "pending" or old.origin != origin:
                        continue
                    want = wanted.get((old.start, old.end))
                    if want is None or want[0] not in labels:
                        changes.append(self._delete(old))
                    elif want != (old.label, old.score):
                        changes.append(self._update(old, ts, label=want[0], score=want[1]))
                gone = {ch["span"]["id"] for ch in changes if ch["op"] == "delete"}
                existing = [sp for sp in existing if sp.id not in gone]
            taken = {(s.start, s.end) for s in existing if s.state != "accepted"}
            accepted = [s for s in existing if s.state == "accepted"]
            n = len(self.text(doc_id))
            added = 0
            for start, end, label, score in suggestions:
                if not (0 <= start < end <= n):
                    raise StoreError(
                        f"suggestion {start}-{end} is out of range for document {doc_id} ({n} characters)"
                    )
                if (start, end) in taken or label not in labels:
                    continue
                if any(a.overlaps(start, end) for a in accepted):
                    continue
                changes.append(self._insert_span(
                    doc_id, start, end, label, origin=origin, state="pending", score=score, ts=ts
                ))
                taken.add((start, end))
                added += 1
            if changes:
                self._log("suggest", changes, doc_id)
            return added

    def add_suggestions_many(
        self,
        items: Iterable[tuple[int, Iterable[tuple[int, int, str, float | None]]]],
        origin: str,
    ) -> dict[int, int]:
        """:meth:`add_suggestions` for many documents in one transaction (a suggestion run).

        Same rules, checked inside the transaction: a suggestion that overlaps an accepted
        span, repeats a range this annotator already has (pending or rejected) or has an
        unknown label is skipped. Rows and events are written in bulk, which is what lets
        a recogniser run store suggestions for a thousand documents a second. Returns the
        number of new suggestions per document.
        """
        batch = [(doc_id, list(sugs)) for doc_id, sugs in items]
        if not batch:
            return {}
        conn = self.db.conn
        with self._write():
            ts = now()
            labels = {lab.name for lab in self.labels()}
            ids = [d for d, _ in batch]
            marks = ",".join("?" * len(ids))
            lengths = {
                r[0]: len(r[1])
                for r in conn.execute(f"SELECT id, text FROM documents WHERE id IN ({marks})", ids)
            }
            existing: dict[int, list[tuple[int, int, str]]] = {d: [] for d in ids}
            for doc_id, start, end, state in conn.execute(
                f"SELECT doc_id, start, end, state FROM spans WHERE annotator = ? AND doc_id IN ({marks})",
                [self.annotator, *ids],
            ):
                existing[doc_id].append((start, end, state))
            next_id = conn.execute(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'spans'), 0),"
                " coalesce((SELECT max(id) FROM spans), 0))"
            ).fetchone()[0] + 1
            rows: list[tuple[Any, ...]] = []
            events: list[tuple[Any, ...]] = []
            added: dict[int, int] = {}
            for doc_id, sugs in batch:
                if doc_id not in lengths:
                    raise StoreError(f"no document {doc_id}")
                n = lengths[doc_id]
                taken = {(s, e) for s, e, st in existing[doc_id] if st != "accepted"}
                accepted = [(s, e) for s, e, st in existing[doc_id] if st == "accepted"]
                changes: list[Change] = []
                for start, end, label, score in sugs:
                    if not (0 <= start < end <= n):
                        raise StoreError(
                            f"suggestion {start}-{end} is out of range for document {doc_id} ({n} characters)"
                        )
                    if (start, end) in taken or label not in labels:
                        continue
                    if any(a < end and start < b for a, b in accepted):
                        continue
                    row = (next_id, doc_id, start, end, label, self.annotator, origin, "pending",
                           score, ts, ts)
                    rows.append(row)
                    changes.append({"op": "insert", "span": dict(zip(SPAN_COLUMNS, row))})
                    taken.add((start, end))
                    next_id += 1
                if changes:
                    events.append((ts, self.annotator, self._session_id, doc_id, "suggest", None,
                                   json.dumps(changes, ensure_ascii=False)))
                added[doc_id] = len(changes)
            conn.executemany(
                "INSERT INTO spans (" + ", ".join(SPAN_COLUMNS) + ") VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows
            )
            conn.executemany(
                "INSERT INTO events (ts, annotator, session_id, doc_id, action, target, changes)"
                " VALUES (?,?,?,?,?,?,?)",
                events,
            )
            return added

    # -- undo / redo ---------------------------------------------------------------------

    def _step(self, direction: str) -> ActionResult | None:
        with self._write():
            self._stacks.sync(self.db)
            stack = self._stacks.undo if direction == "undo" else self._stacks.redo
            if not stack:
                return None
            target = stack[-1]
            doc_id, changes = load_changes(self.db, target)
            changes = [ch for ch in changes if not ch.get("view")]  # worked out afresh below
            todo = invert(changes) if direction == "undo" else changes
            before = self._shared_snapshot(doc_id) if doc_id is not None else None
            try:
                apply_changes(self.db, todo, now())
            except sqlite3.IntegrityError as exc:
                # E.g. the span's label was removed since, or another session of the same
                # annotator labelled the same place: refuse cleanly, change nothing.
                raise StoreError(f"cannot {direction} that action any more: {exc}") from None
            if doc_id is not None:
                todo = todo + self._view_changes(doc_id, before)
            event = self._log(direction, todo, doc_id, target=target)
            self._stacks.sync(self.db)
            return ActionResult(event, doc_id)

    def undo(self) -> ActionResult | None:
        """Undo this annotator's last action (any document); ``None`` if there is none."""
        return self._step("undo")

    def redo(self) -> ActionResult | None:
        """Redo the last undone action; ``None`` if there is none."""
        return self._step("redo")

    def can_undo(self) -> bool:
        self._stacks.sync(self.db)
        return bool(self._stacks.undo)

    def can_redo(self) -> bool:
        self._stacks.sync(self.db)
        return bool(self._stacks.redo)

    def events(self, *, annotator: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest events (all annotators unless ``annotator``), newest first."""
        sql = "SELECT id, ts, annotator, session_id, doc_id, action, target, changes FROM events"
        args: list[Any] = []
        if annotator:
            sql += " WHERE annotator = ?"
            args.append(annotator)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        cols = ("id", "ts", "annotator", "session_id", "doc_id", "action", "target", "changes")
        out = []
        for row in self.db.conn.execute(sql, args):
            ev = dict(zip(cols, row))
            ev["changes"] = json.loads(ev["changes"])
            out.append(ev)
        return out

    # -- cursor and sessions -------------------------------------------------------------

    def save_cursor(self, doc_id: int, offset: int) -> None:
        """Remember where this annotator is (restored when the app reopens); not on a read-only file."""
        if self.read_only:
            return
        with self._write():
            self.db.conn.execute(
                "INSERT INTO cursors (annotator, doc_id, offset, updated) VALUES (?,?,?,?)"
                " ON CONFLICT(annotator) DO UPDATE SET doc_id = excluded.doc_id,"
                " offset = excluded.offset, updated = excluded.updated",
                [self.annotator, doc_id, offset, now()],
            )

    def cursor(self) -> tuple[int, int] | None:
        """``(doc_id, offset)`` saved for this annotator, if the document still exists."""
        row = self.db.conn.execute(
            "SELECT c.doc_id, c.offset FROM cursors c JOIN documents d ON d.id = c.doc_id"
            " WHERE c.annotator = ?",
            [self.annotator],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def start_session(self) -> int:
        """Begin a tagging session; actions from now on are counted in it (0: read-only, none kept)."""
        if self.read_only:
            return 0
        with self._write():
            cur = self.db.conn.execute(
                "INSERT INTO sessions (annotator, started) VALUES (?, ?)", [self.annotator, now()]
            )
            self._session_id = int(cur.lastrowid)
        return self._session_id

    def end_session(self) -> dict[str, Any] | None:
        """End the current session and return its summary."""
        if self._session_id is None:
            return None
        with self._write():
            self.db.conn.execute(
                "UPDATE sessions SET ended = ? WHERE id = ?", [now(), self._session_id]
            )
        summary = self.session_summary(self._session_id)
        self._session_id = None
        return summary

    def session_summary(self, session_id: int) -> dict[str, Any]:
        """Documents done, spans added, minutes and entities per minute of one session."""
        from .stats import session_summary

        return session_summary(self.db, session_id)

    # -- stats -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Documents by status and language, spans by label and origin, per annotator."""
        from .stats import corpus_stats

        return corpus_stats(self.db)


#: The last search word matches as a prefix only from this length: FTS5 expands a prefix
#: into every indexed word that starts with it, and one or two letters match most of a
#: large corpus (hundreds of ms on 100,000 documents; three letters stay under 10 ms).
PREFIX_MIN_CHARS = 3


def _fts_query(text: str) -> str:
    """Turn user text into a safe FTS5 query: every word must match.

    Each word is quoted (FTS5 operators and punctuation in it are data). The last word
    also matches as a prefix if it has at least :data:`PREFIX_MIN_CHARS` characters, so
    "Жапар" finds "Жапаровдун" while the user is still typing.
    """
    words = [w.replace('"', '""') for w in text.split()]
    if not words:
        return '""'
    quoted = [f'"{w}"' for w in words]
    if len(words[-1]) >= PREFIX_MIN_CHARS:
        quoted[-1] += "*"
    return " ".join(quoted)


def snap_to_tokens(tokens: Tokens, start: int, end: int) -> tuple[int, int]:
    """Widen ``start``..``end`` to the boundaries of the tokens it touches."""
    from bisect import bisect_left, bisect_right

    i = bisect_right(tokens.ends, start)
    j = bisect_left(tokens.starts, end) - 1
    if i < len(tokens) and tokens.starts[i] < end:
        start = min(start, tokens.starts[i])
    if j >= 0 and tokens.ends[j] > start:
        end = max(end, tokens.ends[j])
    return start, end


def open_store(path: str | Path | None = None, annotator: str | None = None) -> Store:
    """Open the database at ``path`` (default :func:`default_db_path`) as ``annotator``."""
    return Store(path or default_db_path(), annotator)
