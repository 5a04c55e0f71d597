"""The real app in a child process, driven by its keys, logging what its screen shows.

Usage: python crash_child.py DB ANNOTATOR SEED LOG [--decisions N] [--stop-file PATH]
                             [--no-suggest] [--model] [--pace SECONDS]
       python crash_child.py --serve        (a fork server: see :func:`serve`)

Runs :class:`tui.app.AnnotateApp` headless (``App.run_test()``) on ``DB`` (a SQLite file or a
``postgresql://`` URL) as ``ANNOTATOR``
and presses the app's own keys, chosen at random (``SEED``) from what the screen shows:
cursor moves, labels on words and selections (``1``-``3``), relabels, deletes, ``enter``
(accept), ``x`` (reject), ``A``, ``u``/``ctrl+z``, ``ctrl+r``/``ctrl+y``, ``d`` and ``s``.
Keys go through the app's own event queue, as ``Pilot.press`` sends them. The propagation
recogniser runs after labels as in the app (``--no-suggest`` turns it off); the CRF model
loop, which retrains in another process on every ``d``, only with ``--model``. It stops
after ``N`` decisions (0: only open and log), when ``--stop-file`` appears, or when
``tests/test_crash.py`` kills it with SIGKILL.

``LOG`` gets JSON lines:

- ``{"kind": "open", ...}`` once the first document is on screen (fields as ``shown``);
- ``{"kind": "intent", "seq", "action", "key", "expect"}`` BEFORE a key is pressed
  (``expect``: the cursor ``[doc, offset]`` a move key must lead to, predicted from the
  screen; flushed to the kernel, which is all SIGKILL can test);
- ``{"kind": "shown", "seq", "action", "key", "decisions", "doc", "status", "cursor",
  "spans", "event", "errors", "warnings", "mismatch"}`` only AFTER the key's handlers have
  finished (every queued message handled, no worker running) AND the app has produced a
  frame drawn from that state; flushed and fsynced. ``spans`` are the reader's (what it
  draws): ``[id, start, end, label, state]``; ``status`` is the title bar's; ``cursor`` is
  ``[doc, offset of the word under it]``; ``event`` is the newest event id of this annotator
  once the frame is out (read on a separate read-only connection: it only places the record
  in the event log, :func:`check_records` compares the screen with the database);
- ``{"kind": "end", ...}`` when it stops by itself (then it quits with ``q``).

``errors`` lists what the app reported as failed since the last record (error
notifications, ``Not saved: ...``, ``Suggestions failed: ...``, a status bar not saying
"saved"); the tests require none. The second half of this module reads such logs and the
database back for the tests (:func:`read_log`, :class:`Replay`, :func:`check_records`), on
either backend: they take the store's backend (``store.backend``), whose ``execute`` speaks
the portable SQL of :mod:`annotations.store.backend`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import sys
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic, time
from typing import Any, TextIO

from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot

import tui.app as tui_app
from annotations import Span, Store
from annotations.store import is_postgres_url
from tui.app import AnnotateApp
from tui.docmodel import DocModel

SIZE = (100, 30)
#: The label keys pressed (the default label set: PER, LOC, ORG).
LABEL_KEYS = ("1", "2", "3")
#: Relative weights of the decisions the child makes (moves come with them).
DECISIONS = {
    "label": 24, "label_selection": 10, "relabel": 10, "delete": 8, "accept": 12, "reject": 8,
    "accept_all": 1, "undo": 12, "redo": 4, "done": 5, "skip": 1, "move": 6,
}
SETTLE_TIMEOUT = 60.0


#: How the app words a failure (``tui/app.py``): an action or the cursor not saved, a document
#: that cannot be opened, or "<something> failed: <why>" from a worker or the model loop.
#: Refusals ("cannot undo that action any more: ...") are warnings, not failures.
FAILURE = re.compile(r"not saved|cannot open|could not|[\w ]+ failed: |.*locked", re.IGNORECASE)


def is_failure(message: str) -> bool:
    """Whether a notification says something failed, whatever its severity."""
    return FAILURE.match(message) is not None


class RecordingApp(AnnotateApp):
    """The app, counting the frames its compositor produces (headless ones included)."""

    CSS_PATH = str(Path(tui_app.__file__).with_name("app.tcss"))  # relative to tui/, not tests/
    frames = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Every notification raised, as (severity, message), in order (none can expire unseen).
        self.raised: list[tuple[str, str]] = []

    def notify(self, message: str, *, severity: Any = "information", **kwargs: Any) -> None:
        self.raised.append((str(severity), str(message)))
        super().notify(message, severity=severity, **kwargs)

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if renderable is not None:
            self.frames += 1


def reader(db: str) -> Any:
    """A separate read-only connection to ``db`` (each read sees the latest commit)."""
    if is_postgres_url(db):
        from annotations.store.postgres_backend import PostgresBackend

        return PostgresBackend(db, read_only="the crash test's reader")
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)


def key_event(key: str) -> events.Key:
    """The key event a terminal would send for ``key`` (as ``Pilot.press`` builds it)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


class Driver:
    """Presses keys, waits until the screen shows their effect, and logs it."""

    def __init__(self, pilot: Pilot, app: RecordingApp, db: str, log: TextIO, rng: random.Random) -> None:
        self.pilot = pilot
        self.app = app
        self.log = log
        self.rng = rng
        self.seq = 0
        self.decisions = 0
        self.seen_notes = 0
        self.reader_db = reader(db)
        self.annotator = app.store.annotator

    # -- waiting for the screen ------------------------------------------------------------

    def _busy(self) -> bool:
        app = self.app
        if len(app.workers):
            return True
        nodes = [app, *app.screen.walk_children(with_self=True)]
        return any(not node._message_queue.empty() for node in nodes)

    async def settle(self) -> None:
        """Until every queued message is handled and no worker runs.

        Cheap polling first (queues empty on a few loop turns in a row), then one
        ``Pilot._wait_for_screen()`` as a barrier (a callback through every widget's queue),
        repeated until nothing is left to do.
        """
        deadline = monotonic() + SETTLE_TIMEOUT
        while True:
            quiet = 0
            while quiet < 3:
                if len(self.app.workers):
                    # A worker thread is opening a document or refreshing suggestions: wake
                    # rarely, or this loop starves it of the GIL on a busy machine.
                    quiet = 0
                    await asyncio.sleep(0.01)
                elif self._busy():
                    quiet = 0
                    await asyncio.sleep(0)
                else:
                    quiet += 1
                    await asyncio.sleep(0)
                if monotonic() > deadline:
                    raise RuntimeError("the app did not settle")
            await self.pilot._wait_for_screen()
            if not self._busy():
                return

    async def frame(self) -> None:
        """Until any change still to be drawn is in a frame the app has produced.

        After :meth:`settle` every widget that changed has told the screen; if the screen
        has something to redraw it is asked to update now (as ``Pilot.pause`` does) rather
        than at its next 60 Hz tick, and the frame counter proves it was drawn. If nothing
        is dirty, the last frame already shows the current state.
        """
        screen = self.app.screen
        if not (screen._dirty_widgets or screen._layout_required or screen._repaint_required
                or screen._scroll_required):
            return
        before = self.app.frames
        screen._on_timer_update()
        deadline = monotonic() + SETTLE_TIMEOUT
        while self.app.frames == before:
            await asyncio.sleep(0.001)
            if monotonic() > deadline:
                raise RuntimeError("no frame was drawn")

    async def shown(self) -> dict[str, Any]:
        """What the screen shows once the last key's effects are drawn."""
        while True:
            await self.settle()
            await self.frame()
            seen = len(self.app.raised)
            state = self.screen()
            if not self._busy():
                self.seen_notes = seen
                return state

    def newest_event(self) -> int:
        row = self.reader_db.execute(
            "SELECT coalesce(max(id), 0) FROM events WHERE annotator = ?", [self.annotator]
        ).fetchone()
        return int(row[0])

    def screen(self) -> dict[str, Any]:
        reader = self.app.reader
        model = reader.model
        assert model is not None, "no document on screen"
        errors, warnings = [], []
        raised = self.app.raised
        for severity, message in raised[self.seen_notes:]:
            if severity == "error" or is_failure(message):
                errors.append(message)
            elif severity == "warning":
                warnings.append(message)
        if self.app.status_bar.saved != "saved":
            errors.append(f"status bar: {self.app.status_bar.saved}")
        return {
            "doc": model.doc_id,
            "status": model.status,
            "cursor": list(reader.position or (model.doc_id, 0)),
            "spans": sorted([s.id, s.start, s.end, s.label, s.state] for s in model.spans),
            "errors": errors,
            "warnings": warnings,
        }

    def write(self, record: dict[str, Any], *, sync: bool = True) -> None:
        """Append one JSON line; flushed (in the kernel: SIGKILL cannot lose it) and fsynced."""
        record["t"] = round(time(), 4)
        self.log.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.log.flush()
        if sync:
            os.fsync(self.log.fileno())

    # -- keys ------------------------------------------------------------------------------

    def model(self) -> DocModel:
        model = self.app.reader.model
        assert model is not None
        return model

    def predict(self, key: str) -> list[int] | None:
        """The cursor ``[doc, offset]`` a move key must lead to, from what the screen shows."""
        model, cursor = self.model(), self.app.reader.cursor
        last = len(model) - 1
        step = {"right": 1, "left": -1, "shift+right": 1, "shift+left": -1}
        if key in step:
            word = max(0, min(cursor + step[key], last))
        elif key in ("home", "end"):
            word = 0 if key == "home" else last
        elif key in ("n", "N"):
            found = model.next_candidate(cursor, 1 if key == "n" else -1)
            word = cursor if found is None else found
        elif key in ("tab", "shift+tab"):
            found = model.next_span(cursor, 1 if key == "tab" else -1)
            word = cursor if found is None else found
        elif key == "escape":
            word = cursor
        else:
            return None
        return [model.doc_id, model.word_starts[word]]

    async def step(self, action: str, key: str) -> dict[str, Any]:
        """Log the intent, press ``key``, wait for the screen, log what it shows."""
        self.seq += 1
        expect = self.predict(key)
        # Flushed, not fsynced: a line written to the kernel survives SIGKILL, and this one
        # only has to be there if the process dies (fsync guards against power loss).
        self.write({"kind": "intent", "seq": self.seq, "action": action, "key": key, "expect": expect},
                   sync=False)
        self.app.post_message(key_event(key))
        state = await self.shown()
        if action != "move":
            self.decisions += 1
        mismatch = expect is not None and state["cursor"] != expect
        self.write({"kind": "shown", "seq": self.seq, "action": action, "key": key,
                    "decisions": self.decisions, **state, "event": self.newest_event(),
                    "mismatch": mismatch})
        return state

    async def move_to(self, word: int) -> None:
        """Walk the cursor to ``word`` with ``right``/``left`` (one logged step per key)."""
        for _ in range(12):
            cursor = self.app.reader.cursor
            if cursor == word:
                return
            await self.step("move", "right" if word > cursor else "left")

    def span_here(self, wanted: Callable[[Span], bool], word: int | None = None) -> Span | None:
        """A span under the cursor (or ``word``) that ``wanted`` accepts."""
        model = self.model()
        rng = model.word_range(self.app.reader.cursor if word is None else word)
        for span in model.spans.overlapping(*rng):
            if wanted(span):
                return span
        return None

    async def tab_to(self, wanted: Callable[[Span], bool], most: int = 5) -> Span | None:
        """Go to a span ``wanted`` accepts with the fewest ``tab``/``shift+tab`` (at most ``most``)."""
        model = self.model()
        best: tuple[int, str] | None = None
        for key, step in (("tab", 1), ("shift+tab", -1)):
            word = self.app.reader.cursor
            for presses in range(most + 1):
                if self.span_here(wanted, word) is not None:
                    if best is None or presses < best[0]:
                        best = (presses, key)
                    break
                found = model.next_span(word, step)
                if found is None:
                    break
                word = found
        if best is None:
            return None
        for _ in range(best[0]):
            await self.step("move", best[1])
        return self.span_here(wanted)

    # -- one decision ------------------------------------------------------------------------

    async def decide(self) -> None:
        """One decision (weighted by :data:`DECISIONS`), with the moves that lead to it."""
        rng = self.rng
        kind = rng.choices(list(DECISIONS), weights=list(DECISIONS.values()))[0]
        model = self.model()
        cursor = self.app.reader.cursor
        if kind in ("label", "label_selection"):
            if rng.random() < 0.5:
                await self.step("move", "n")
            else:
                await self.move_to(max(0, min(cursor + rng.randint(-3, 3), len(model) - 1)))
            if kind == "label_selection":
                for _ in range(rng.randint(1, 2)):
                    await self.step("move", "shift+right")
            await self.step(kind, rng.choice(LABEL_KEYS))
        elif kind == "relabel":
            span = await self.tab_to(lambda s: s.state == "accepted")
            if span is not None:
                keys = [lab.key for lab in self.app.labels if lab.key in LABEL_KEYS and lab.name != span.label]
                await self.step(kind, rng.choice(keys))
        elif kind == "delete":
            if await self.tab_to(lambda s: True) is not None:
                await self.step(kind, rng.choice(["backspace", "delete"]))
        elif kind in ("accept", "reject"):
            if await self.tab_to(lambda s: s.state == "pending") is not None:
                await self.step(kind, "enter" if kind == "accept" else "x")
        elif kind == "accept_all":
            if model.spans.pending:
                await self.step(kind, "A")
        elif kind == "undo":
            await self.step(kind, rng.choice(["u", "u", "ctrl+z"]))
            if rng.random() < 0.4:  # change one's mind again: redo has something to redo
                await self.step("redo", rng.choice(["ctrl+r", "ctrl+y"]))
        elif kind == "redo":
            await self.step(kind, rng.choice(["ctrl+r", "ctrl+y"]))
        elif kind == "done":
            await self.step(kind, "d")
        elif kind == "skip":
            await self.step(kind, "s")
        else:
            await self.step("move", rng.choice(["n", "n", "N", "home", "end", "escape", "right", "left"]))


async def run(args: argparse.Namespace, log: TextIO) -> int:
    """Open the app, log its first screen, make decisions until told to stop, quit."""
    store = Store(args.db, args.annotator)
    app = RecordingApp(store, suggest=args.suggest, model=args.model)
    stop = Path(args.stop_file) if args.stop_file else None
    async with app.run_test(size=SIZE) as pilot:
        driver = Driver(pilot, app, args.db, log, random.Random(args.seed))
        deadline = monotonic() + SETTLE_TIMEOUT
        while app.reader.model is None:
            if monotonic() > deadline:
                raise RuntimeError("no document was opened")
            await asyncio.sleep(0.002)
        state = await driver.shown()
        driver.write({"kind": "open", "seq": 0, **state, "event": driver.newest_event()})
        while driver.decisions < args.decisions and not (stop is not None and stop.exists()):
            await driver.decide()
            if args.pace:
                await asyncio.sleep(args.pace)
        driver.write({"kind": "end", "seq": driver.seq, "decisions": driver.decisions})
        await pilot.press("q")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("annotator")
    parser.add_argument("seed", type=int)
    parser.add_argument("log")
    parser.add_argument("--decisions", type=int, default=10**9)
    parser.add_argument("--stop-file", default=None)
    parser.add_argument("--no-suggest", dest="suggest", action="store_false",
                        help="no propagation suggestions after a label (on by default, as in the app)")
    parser.add_argument("--model", action="store_true",
                        help="also run the app's CRF model loop (retrains in a child process on d)")
    parser.add_argument("--pace", type=float, default=0.0, help="seconds to wait between decisions")
    args = parser.parse_args(argv)
    with open(args.log, "a", encoding="utf-8") as log:
        return asyncio.run(run(args, log))


# -- fork server ---------------------------------------------------------------------------------


def serve() -> int:
    """Start children by ``fork()`` from a process that has already imported everything.

    Importing Textual, the library and the recognisers takes about a second, and the crash
    test starts 21 children: forked from here they start in a fraction of that and run
    exactly the same app code. Requests and replies are JSON lines on stdin/stdout:
    ``{"run": [argv...], "output": PATH}`` -> ``{"pid": N}`` (the child's stdout and stderr
    go to ``PATH``); ``{"wait": N, "block": bool}`` -> ``{"done": bool, "signal": n|null,
    "code": n|null}``. This process is single-threaded and holds no database connection,
    so forking it is safe.
    """
    import annotations.recognisers  # noqa: F401 - loaded once here rather than in every child

    def reply(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    reply({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        if "run" in request:
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:  # the child: never returns into the server loop
                code = 1
                try:
                    out = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                    os.dup2(out, 1)
                    os.dup2(out, 2)
                    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                    code = main(request["run"])
                except BaseException:  # noqa: BLE001 - reported in the output file
                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            reply({"pid": pid})
        elif "wait" in request:
            pid, status = os.waitpid(request["wait"], 0 if request.get("block") else os.WNOHANG)
            if pid == 0:
                reply({"done": False})
            else:
                reply({
                    "done": True,
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                    "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                })
    return 0


# -- reading the log and the database (used by the tests) ---------------------------------------

#: A span as the replay keeps it: (doc_id, start, end, label, state).
SpanRow = tuple[int, int, int, str, str]


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete records of a log (a line cut short by SIGKILL was never logged)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the empty tail after the last newline, or a line cut by the kill
    return records


@dataclass
class Event:
    """One row of the event log."""

    id: int
    action: str
    doc_id: int | None
    changes: list[dict[str, Any]]


@dataclass
class Replay:
    """One annotator's spans (every state) and statuses, as the tables hold them or as replayed."""

    spans: dict[int, SpanRow] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)

    def copy(self) -> Replay:
        return Replay(dict(self.spans), dict(self.statuses))

    def apply(self, changes: list[dict[str, Any]]) -> None:
        """Apply an event's change records (the same records undo and redo use)."""
        for ch in changes:
            op = ch["op"]
            if op == "insert":
                sp = ch["span"]
                self.spans[sp["id"]] = (sp["doc_id"], sp["start"], sp["end"], sp["label"], sp["state"])
            elif op == "delete":
                self.spans.pop(ch["span"]["id"], None)
            elif op == "update":
                doc, start, end, label, state = self.spans[ch["id"]]
                after = {"start": start, "end": end, "label": label, "state": state, **ch["after"]}
                self.spans[ch["id"]] = (doc, after["start"], after["end"], after["label"], after["state"])
            elif op == "status":
                if ch["after"] in (None, "todo"):
                    self.statuses.pop(ch["doc_id"], None)
                else:
                    self.statuses[ch["doc_id"]] = ch["after"]

    def view(self, doc_id: int) -> tuple[list[list[Any]], str]:
        """What the reader shows of a document: accepted and pending spans, and its status."""
        spans = sorted(
            [sid, start, end, label, state]
            for sid, (doc, start, end, label, state) in self.spans.items()
            if doc == doc_id and state in ("accepted", "pending")
        )
        return spans, self.statuses.get(doc_id, "todo")


def snapshot(conn: Any, annotator: str) -> Replay:
    """What the tables hold for ``annotator`` (``conn``: a store's backend, or a sqlite3 connection)."""
    spans = {
        row[0]: tuple(row[1:])
        for row in conn.execute(
            'SELECT id, doc_id, start, "end", label, state FROM spans WHERE annotator = ?', [annotator]
        )
    }
    statuses = {
        doc: status
        for doc, status in conn.execute(
            "SELECT doc_id, status FROM doc_status WHERE annotator = ?", [annotator]
        )
        if status != "todo"
    }
    return Replay(spans, statuses)  # type: ignore[arg-type]


def newest_event(conn: Any, annotator: str) -> int:
    return int(conn.execute(
        "SELECT coalesce(max(id), 0) FROM events WHERE annotator = ?", [annotator]
    ).fetchone()[0])


def events_after(conn: Any, annotator: str, after: int) -> list[Event]:
    """``annotator``'s events with an id above ``after``, oldest first."""
    return [
        Event(eid, action, doc_id, json.loads(changes))
        for eid, action, doc_id, changes in conn.execute(
            "SELECT id, action, doc_id, changes FROM events WHERE annotator = ? AND id > ? ORDER BY id",
            [annotator, after],
        )
    ]


#: The event a decision key may log (a key may also log nothing: e.g. a refusal or "nothing to redo").
EVENT_OF = {
    "label": {"add", "relabel"}, "label_selection": {"add"}, "relabel": {"relabel"},
    "delete": {"delete"}, "accept": {"accept"}, "reject": {"reject"}, "accept_all": {"accept_all"},
    "undo": {"undo"}, "redo": {"redo"}, "done": {"status"}, "skip": {"status"}, "move": set(),
}
#: Events the app writes on its own after a decision (the recogniser's refreshed suggestions).
BACKGROUND = {"suggest"}


@dataclass
class Checked:
    """What :func:`check_records` found: per record, the events its key logged."""

    screens: int = 0
    committed: int = 0
    last: dict[str, Any] | None = None
    replay: Replay = field(default_factory=Replay)
    action_events: dict[int, Event] = field(default_factory=dict)


def check_records(records: list[dict[str, Any]], base: Replay, events: list[Event]) -> Checked:
    """Check that every screen a child logged is the database's state at that point of its log.

    ``base`` is the annotator's state when the child started and ``events`` its events since
    (oldest first). For each ``open``/``shown`` record, replaying the events up to the
    record's ``event`` mark onto ``base`` must give exactly the spans and status the screen
    showed for its document; the key between two records may have logged at most one event
    of its own (of the kind :data:`EVENT_OF` allows) plus recogniser suggestions; and no
    record may list an error or a cursor that differs from the one predicted for a move.
    Raises ``AssertionError`` naming the record otherwise.
    """
    result = Checked(replay=base.copy())
    pending = list(events)
    mark = None
    for rec in records:
        if rec["kind"] not in ("open", "shown"):
            continue
        assert not rec["errors"], f"the app showed an error: {rec}"
        assert not rec.get("mismatch"), f"a move key did not lead where the screen said: {rec}"
        if mark is not None:
            assert rec["event"] >= mark, f"the event log went backwards at {rec}"
        mine: list[Event] = []
        while pending and pending[0].id <= rec["event"]:
            ev = pending.pop(0)
            result.replay.apply(ev.changes)
            if ev.action not in BACKGROUND:
                mine.append(ev)
        if rec["kind"] == "shown":
            assert len(mine) <= 1, f"one key logged {len(mine)} actions: {rec}, {mine}"
            if mine:
                assert mine[0].action in EVENT_OF[rec["action"]], f"key {rec['key']} logged {mine[0].action}"
                result.action_events[rec["seq"]] = mine[0]
                result.committed += 1
        else:
            assert not mine, f"opening the app logged actions: {mine}"
        spans, status = result.replay.view(rec["doc"])
        assert (rec["spans"], rec["status"]) == (spans, status), (
            f"record {rec['seq']} ({rec['kind']} {rec.get('action')}) showed document {rec['doc']} as"
            f" {rec['spans']} ({rec['status']}) but the database had {spans} ({status})"
        )
        result.screens += 1
        result.last = rec
        mark = rec["event"]
    return result


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main())
