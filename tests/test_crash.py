"""Kill the real app with SIGKILL at random moments, 20 times: nothing the screen showed is lost.

On both backends (``BOTH_BACKENDS``): a SQLite file (20 kills), and a PostgreSQL database on
a real server (:data:`KILLS` for PostgreSQL: fewer, each run costs more there; the server
rolls back what a killed connection left open). A writer killed inside an explicit
multi-action transaction is tested on both too (the last test).

The child (``tests/crash_child.py``) runs the real :class:`tui.app.AnnotateApp` headless on
one database, as annotator ``crash``, with the propagation recogniser refreshing
suggestions in a worker thread after labels (the CRF model loop, which retrains in a
separate process, is off here; ``test_concurrency.py`` runs it), and presses the app's keys:
moves, labels on words and selections, relabels, deletes, ``enter``, ``x``, ``A``, undo,
redo, ``d`` and ``s``. Before each key it logs an ``intent``; after the key's handlers have
finished and the app has produced a frame from the result, it logs a ``shown`` record: what
the reader shows of the open document (spans and status), the cursor, and the annotator's
newest event id (the "mark" that places the record in the event log). Each record is in the
kernel (flushed; ``shown`` records also fsynced) before the next key is pressed.

The test kills the child after a random 10-40 decisions plus a random 0-80 ms (so the kill
lands anywhere inside the next key: before its commit, between commit and frame, while the
record is written), or for two runs at a random moment while it starts: 20 kills, on one
database whose state accumulates (seeded: ``SEED``). Before each run it adds a few pending
suggestions (``store.add_suggestions``) for the child to accept and reject. After each kill:

1. The database is consistent (:func:`event_log.check_integrity`): on SQLite ``PRAGMA
   integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` finds nothing; on PostgreSQL
   ``amcheck`` finds every table and index sound, and no row refers to a missing document.
2. Every screen the child logged is the database's state at that point: replaying the
   annotator's events up to the record's mark, from the state when the child started, gives
   exactly the spans and status the screen showed (:func:`crash_child.check_records`), and
   each key logged at most one action event, of the kind the key asks for.
3. The tables hold exactly the replay of every event, and after the last logged screen
   there is at most ONE action event: that of the key whose intent was logged but whose
   screen was not (an action can commit and the process die before its frame is logged;
   nothing else may be there), of the kind that key asks for. So the database equals either
   the last state the screen showed, or that state plus exactly the one key in flight.
4. The app reopens where it was: the cursor saved in the database, and the document and
   cursor the next run opens on, are the cursor of the last logged screen or one the app
   may legitimately have saved after it: a cursor logged since the last action that saves
   it at once (commits and document opens do; pure moves are saved after a 0.5 s pause),
   the predicted target of an in-flight move, or where an in-flight committed undo, redo or
   ``d`` takes the cursor. A last run reopens after the last kill and quits normally, and
   ``annotate stats`` then counts what the tables hold.

Children are forked from a server process that has already imported Textual and the
library (``crash_child.py --serve``), so each starts in about half a second instead of 1.5.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from crash_child import (
    BACKGROUND,
    EVENT_OF,
    Checked,
    Event,
    Replay,
    check_records,
    events_after,
    newest_event,
    read_log,
    snapshot,
)

from event_log import check_integrity

from annotations import Store, seeds_dir
from annotations.store import NewDocument
from annotations.text import decode
from tui.cli import main as cli
from tui.docmodel import DocModel, is_candidate

CHILD = Path(__file__).with_name("crash_child.py")
ANNOTATOR = "crash"
BOTH_BACKENDS = True
#: Kills per backend (each run reopens the app: about 2.5 s on SQLite here, more on PostgreSQL).
KILLS = {"sqlite": 20, "postgresql": 10}
SEED = 20250611
DECISIONS = (10, 40)
#: Extra time after the target decision before the kill (lands inside the next key).
KILL_DELAY = (0.0, 0.08)
#: Runs killed while the app is starting, and when (seconds after the fork).
STARTUP_KILLS = 2
STARTUP_DELAY = (0.02, 0.3)
RUN_TIMEOUT = 60.0

Position = tuple[int, int]


class ForkServer:
    """``crash_child.py --serve``: forks children that run the app (see its docstring)."""

    def __init__(self, cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd,
        )
        assert json.loads(self._line())["ready"]
        self.children: set[int] = set()

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the fork server died"
        return line

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def run(self, argv: list[str], output: Path) -> int:
        pid = int(self.ask({"run": argv, "output": str(output)})["pid"])
        self.children.add(pid)
        return pid

    def wait(self, pid: int, *, block: bool) -> dict[str, Any]:
        state = self.ask({"wait": pid, "block": block})
        if state["done"]:
            self.children.discard(pid)
        return state

    def close(self) -> None:
        """Kill any child still running (a failed test), then stop the server."""
        for pid in list(self.children):
            os.kill(pid, signal.SIGKILL)
            self.wait(pid, block=True)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def build_corpus(db: Path | str) -> None:
    """The five seed articles plus 25 of their paragraphs as short documents, tokens cached."""
    lines = []
    paths = sorted(seeds_dir().glob("*.txt"))
    for path in paths:
        lines += [ln for ln in path.read_text(encoding="utf-8").splitlines() if 150 <= len(ln) <= 700]
    docs = [NewDocument(decode(p.read_bytes()), source=p.name) for p in paths]
    docs += [NewDocument(ln, source="paragraphs.jsonl", line=n) for n, ln in enumerate(lines[:25], 1)]
    with Store(db, ANNOTATOR) as store:
        assert sum(added for _, added in store.add_documents(docs)) == 30
        for doc_id in store.document_ids():
            store.tokens(doc_id)


def model_of(store: Store, doc_id: int) -> DocModel:
    return DocModel(store.document(doc_id), store.labels())


def word_start(store: Store, doc_id: int, offset: int | None) -> Position:
    """Where the reader puts the cursor for ``offset`` (``None``: the first word)."""
    model = model_of(store, doc_id)
    word = model.word_at(offset) if offset is not None else (0 if len(model) else None)
    return doc_id, model.word_starts[word] if word is not None else 0


def add_suggestions(store: Store, rng: random.Random) -> int:
    """Pending suggestions on a few capitalised words of three documents (as a recogniser run would)."""
    added = 0
    for doc_id in rng.sample(store.document_ids(), 3):
        model = model_of(store, doc_id)
        words = [i for i in range(len(model)) if is_candidate(model.word_text(i))]
        picks = rng.sample(words, min(6, len(words)))
        sugs = [(model.word_starts[i], model.word_ends[i], rng.choice(["PER", "LOC", "ORG"]), rng.random())
                for i in picks]
        added += store.add_suggestions(doc_id, sugs, origin="test")
    return added


def focus_of(event: Event, after: Replay) -> int | None:
    """Where the app puts the cursor after an undo/redo (``tui.editor.Editor._focus``)."""
    for ch in event.changes:
        if ch["op"] in ("insert", "delete"):
            return int(ch["span"]["start"])
        if ch["op"] == "update" and ch["id"] in after.spans:
            return after.spans[ch["id"]][1]
    return None


def in_flight_cursor(store: Store, event: Event, last_doc: int, after: Replay) -> set[Position]:
    """Where a committed but unlogged key may have left (and saved) the cursor."""
    if event.action in ("undo", "redo"):
        focus = focus_of(event, after)
        assert event.doc_id is not None
        if event.doc_id == last_doc and focus is None:
            return set()
        return {word_start(store, event.doc_id, focus)}
    if event.action == "status":
        target = store.first_unfinished(after=last_doc)
        if target is not None and target != last_doc:
            return {word_start(store, target, None)}
    return set()


def allowed_cursors(
    store: Store,
    records: list[dict[str, Any]],
    checked: Checked,
    intent: dict[str, Any] | None,
    tail: Event | None,
    after: Replay | None,
    before: set[Position],
) -> set[Position]:
    """The cursors the database may hold after a kill (see the module docstring, point 4)."""
    screens = [r for r in records if r["kind"] in ("open", "shown")]
    if not screens:
        return set(before)  # killed while starting: the app saved nothing new
    last_saved = 0
    for i, rec in enumerate(screens):
        if rec["kind"] == "open" or rec["seq"] in checked.action_events or rec["doc"] != screens[i - 1]["doc"]:
            last_saved = i
    allowed = {tuple(r["cursor"]) for r in screens[last_saved:]}
    if intent is not None and intent["action"] == "move" and intent["expect"]:
        allowed.add(tuple(intent["expect"]))
    if tail is not None and after is not None:
        allowed |= in_flight_cursor(store, tail, screens[-1]["doc"], after)
    return allowed  # type: ignore[return-value]


def watch_and_kill(
    server: ForkServer, pid: int, log: Path, output: Path, rng: random.Random, *, startup: bool
) -> None:
    """SIGKILL the child at a random moment: while starting, or just after its N-th decision."""
    started = time.monotonic()
    target = rng.randint(*DECISIONS)
    delay = rng.uniform(*(STARTUP_DELAY if startup else KILL_DELAY))
    size = -1
    next_poll = started
    while True:
        now = time.monotonic()
        if startup and now - started >= delay:
            break
        if not startup and log.exists() and log.stat().st_size != size:
            size = log.stat().st_size
            if any(r.get("decisions", 0) >= target for r in read_log(log) if r["kind"] == "shown"):
                time.sleep(delay)
                break
        if now >= next_poll:
            state = server.wait(pid, block=False)
            assert not state["done"], f"the child ended by itself: {state}\n{output.read_text()}"
            next_poll = now + 0.1
        assert now - started < RUN_TIMEOUT, f"the child made no progress\n{output.read_text()}"
        time.sleep(0.003)
    os.kill(pid, signal.SIGKILL)
    state = server.wait(pid, block=True)
    assert state["signal"] == signal.SIGKILL, f"{state}\n{output.read_text()}"


def test_sigkill_at_random_moments_loses_nothing_the_screen_showed(tmp_path: Path, db_path: Path | str,
                                                                   backend_name: str) -> None:
    rng = random.Random(SEED)
    db = db_path
    kills = KILLS[backend_name]
    build_corpus(db)
    with Store(db, ANNOTATOR) as store:
        allowed = {word_start(store, store.first_unfinished() or 1, None)}
    startup_runs = set(rng.sample(range(kills), STARTUP_KILLS))
    kinds: Counter[str] = Counter()
    committed: Counter[str] = Counter()
    decisions = 0
    server = ForkServer(cwd=tmp_path)  # what the app keeps beside a PostgreSQL database goes in the test's folder
    try:
        for run in range(kills + 1):
            final = run == kills
            with Store(db, ANNOTATOR) as store:
                if not final:
                    add_suggestions(store, rng)
                conn = store.backend
                base, mark = snapshot(conn, ANNOTATOR), newest_event(conn, ANNOTATOR)
            log, output = tmp_path / f"run{run:02d}.jsonl", tmp_path / f"run{run:02d}.out"
            argv = [str(db), ANNOTATOR, str(SEED + run), str(log), "--decisions", "0" if final else "1000000"]
            pid = server.run(argv, output)
            if final:
                state = server.wait(pid, block=True)
                assert state["code"] == 0, f"{state}\n{output.read_text()}"
            else:
                watch_and_kill(server, pid, log, output, rng, startup=run in startup_runs)
            records = read_log(log)

            with Store(db, ANNOTATOR) as store:
                conn = store.backend
                check_integrity(store)
                events = events_after(conn, ANNOTATOR, mark)
                checked = check_records(records, base, events)

                # The app reopened where the previous run left it.
                opened = [r for r in records if r["kind"] == "open"]
                if opened:
                    assert tuple(opened[0]["cursor"]) in allowed, (run, opened[0]["cursor"], allowed)

                # After the last logged screen: at most the one key in flight.
                last = checked.last
                intents = [r for r in records if r["kind"] == "intent" and (last is None or r["seq"] > last["seq"])]
                assert len(intents) <= 1, intents
                intent = intents[0] if intents else None
                tail = [e for e in events if e.id > (last["event"] if last else mark) and e.action not in BACKGROUND]
                assert len(tail) <= 1, f"actions after the last logged screen: {tail}"
                if tail:
                    assert intent is not None and tail[0].action in EVENT_OF[intent["action"]], (intent, tail)

                # The tables hold exactly what the log says: the shown states and the key in flight.
                replayed, after_tail = base.copy(), None
                for ev in events:
                    replayed.apply(ev.changes)
                    if tail and ev.id == tail[0].id:
                        after_tail = replayed.copy()  # as the app saw it when it placed the cursor
                assert snapshot(conn, ANNOTATOR) == replayed

                saved = store.cursor()
                if final:
                    assert saved == tuple(opened[0]["cursor"]), (saved, opened)  # saved again on quit
                else:
                    allowed = allowed_cursors(store, records, checked, intent, tail[0] if tail else None,
                                              after_tail, allowed)
                    assert saved in allowed, (run, saved, allowed)

            decisions += max((r.get("decisions", 0) for r in records if r["kind"] == "shown"), default=0)
            committed.update(ev.action for ev in checked.action_events.values())
            if final:
                assert opened and records[-1]["kind"] == "end"
            elif not opened:
                kinds["while starting"] += 1
            elif intent is None:
                kinds["between keys"] += 1
            elif tail:
                kinds["committed, screen not yet logged"] += 1
            else:
                kinds["key pressed, nothing committed"] += 1
    finally:
        server.close()
    assert sum(kinds.values()) == kills
    # ``annotate stats`` reads the crashed sessions and counts what the tables hold.
    result = CliRunner().invoke(cli, ["stats", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    mine = json.loads(result.output)["annotators"][ANNOTATOR]
    with Store(db, ANNOTATOR) as store:
        held = snapshot(store.backend, ANNOTATOR)
    assert {k: v for k, v in mine["spans"].items() if v} == dict(Counter(sp[4] for sp in held.spans.values()))
    assert mine["sessions"][-1]["ended"] is not None
    # The keys really did all of it (a remapped key would silently do nothing).
    for action in ("add", "relabel", "delete", "accept", "reject", "undo", "redo", "status"):
        assert committed[action] >= 3, (action, committed)
    print(f"\n{backend_name}: {kills} kills after {decisions} decisions ({sum(committed.values())} committed:"
          f" {dict(committed)}); the kills landed: {dict(kinds)}")


#: A writer that makes five acknowledged actions, then dies (SIGKILL) inside one explicit
#: transaction holding three more (a span, a status, a label), with the write lock held.
_WRITER = textwrap.dedent(
    """
    import sys, time
    from annotations import open_store
    store = open_store(sys.argv[1], "victim")
    doc = int(sys.argv[2])
    for i in range(5):
        r = store.add_span(doc, i * 10, i * 10 + 4, "PER")
        print("acked", r.event_id, flush=True)
    with store.transaction():
        store.add_span(doc, 60, 64, "LOC")
        store.set_status(doc, "done")
        store.add_label("HALF")
        print("in-flight", flush=True)
        time.sleep(60)
    """
)


def test_kill_9_of_a_writer_mid_transaction_leaves_the_database_consistent(db_path: Path | str) -> None:
    """Nothing acknowledged is lost, nothing of the open transaction is there, the write lock is
    free at once, the database is consistent, and undo goes on from the acknowledged actions."""
    with Store(db_path, "setup") as store:
        doc = store.add_documents([NewDocument("Бишкек шаарында " * 8, source="a.txt")])[0][0]
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(db_path), str(doc)], stdout=subprocess.PIPE, text=True)
    acked = []
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("acked"):
                acked.append(int(line.split()[1]))
            if line.startswith("in-flight"):
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert len(acked) == 5
    t0 = time.monotonic()
    with Store(db_path, "victim") as store:
        check_integrity(store)
        # The next writer gets the write lock at once: the dead one's transaction was rolled back.
        store.add_span(doc, 100, 104, "ORG")
        assert time.monotonic() - t0 < 10
        events = list(reversed(store.events(annotator="victim", limit=100)))
        assert [e["id"] for e in events[:5]] == acked and len(events) == 6
        assert [(s.start, s.end, s.label) for s in store.spans(doc)] == [
            (0, 4, "PER"), (10, 14, "PER"), (20, 24, "PER"), (30, 34, "PER"), (40, 44, "PER"), (100, 104, "ORG")]
        assert store.status(doc) == "todo"
        assert "HALF" not in {lab.name for lab in store.labels()}
        assert store.undo() is not None and store.undo() is not None
        assert len(store.spans(doc)) == 4
