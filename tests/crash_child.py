"""The real app in a child process, driven by its keys, logging what its screen shows.

Usage: python crash_child.py DB ANNOTATOR SEED LOG [--decisions N] [--stop-file PATH]
                             [--no-suggest] [--pace SECONDS]

Runs :class:`tui.app.AnnotateApp` headless (``App.run_test()``) on ``DB`` as ``ANNOTATOR``
and presses the app's own keys, chosen at random (``SEED``) from what the screen shows:
cursor moves, labels on words and selections (``1``-``3``), relabels, deletes, ``enter``
(accept), ``x`` (reject), ``A``, ``u``/``ctrl+z``, ``ctrl+r``/``ctrl+y``, ``d`` and ``s``.
It stops after ``N`` decisions (0: only open and log), when ``--stop-file`` appears, or
when ``tests/test_crash.py`` kills it with SIGKILL.

``LOG`` gets JSON lines, each flushed and fsynced before the next key is pressed:

- ``{"kind": "open", ...}`` once the first document is on screen;
- ``{"kind": "intent", "seq", "action", "key", "expect"}`` BEFORE a key is pressed
  (``expect``: the cursor a move key must lead to, predicted from the screen);
- ``{"kind": "shown", "seq", "action", "key", "decisions", "doc", "status", "cursor",
  "spans", "event", "errors", "mismatch"}`` only AFTER the key's handlers have finished
  (messages processed, workers done) AND the app has produced a frame drawn from that
  state. ``spans`` are the reader's (what it draws): ``[id, start, end, label, state]``;
  ``status`` is the title bar's; ``cursor`` is ``[doc, offset of the word under it]``;
  ``event`` is the newest event id of this annotator in the file once the frame is out
  (read on a separate read-only connection; it only aligns the record with the log);
- ``{"kind": "end", ...}`` when it stops by itself.

Errors the app showed (notifications of severity ``error``, a status bar saying
"not saved") are listed in ``errors``; the tests require none.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import unicodedata
from pathlib import Path
from time import monotonic, time
from typing import Any, TextIO

from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot

from annotations import Store
import tui.app as tui_app
from tui.app import AnnotateApp
from tui.docmodel import DocModel

SIZE = (100, 30)
LABEL_KEYS = ("1", "2", "3")
#: Relative weights of the decisions the child makes (moves come with them).
DECISIONS = {
    "label": 24, "label_selection": 10, "relabel": 10, "delete": 8, "accept": 12, "reject": 8,
    "accept_all": 1, "undo": 12, "redo": 7, "done": 5, "skip": 1, "move": 6,
}
SETTLE_TIMEOUT = 60.0
#: Notifications that say an action or a worker failed (whatever their severity).
FAILURES = ("Not saved", "Suggestions failed", "Cannot open", "Could not", "Export failed")


class RecordingApp(AnnotateApp):
    """The app, counting the frames its compositor produces (headless ones included)."""

    CSS_PATH = str(Path(tui_app.__file__).with_name("app.tcss"))  # relative to tui/, not tests/
    frames = 0

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if renderable is not None:
            self.frames += 1


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
        self.seen_notes: set[str] = set()
        self.reader_db = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)
        self.annotator = app.store.annotator

    # -- waiting for the screen ------------------------------------------------------------

    def _busy(self) -> bool:
        app = self.app
        if len(app.workers):
            return True
        nodes = [app, *app.screen.walk_children(with_self=True)]
        return any(not node._message_queue.empty() for node in nodes)

    async def settle(self) -> None:
        """Until every queued message is handled and no worker runs (twice in a row)."""
        deadline = monotonic() + SETTLE_TIMEOUT
        quiet = 0
        while quiet < 2:
            await self.pilot._wait_for_screen()
            if self._busy():
                quiet = 0
                await asyncio.sleep(0.001)
            else:
                quiet += 1
            if monotonic() > deadline:
                raise RuntimeError("the app did not settle")

    async def frame(self) -> None:
        """Until the app has produced a frame drawn after everything so far."""
        before = self.app.frames
        self.app.reader.refresh()
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
            state = self.screen()
            if not self._busy():
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
        for note in list(self.app._notifications):
            if note.identity in self.seen_notes:
                continue
            self.seen_notes.add(note.identity)
            message = note.message
            if note.severity == "error" or "locked" in message.lower() or message.startswith(FAILURES):
                errors.append(message)
            elif note.severity == "warning":
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

    def write(self, record: dict[str, Any]) -> None:
        record["t"] = round(time(), 4)
        self.log.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.log.flush()
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
        self.write({"kind": "intent", "seq": self.seq, "action": action, "key": key, "expect": expect})
        self.app._driver.send_message(key_event(key))
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
        for _ in range(40):
            cursor = self.app.reader.cursor
            if cursor == word:
                return
            await self.step("move", "right" if word > cursor else "left")

    async def tab_to(self, wanted: Any) -> bool:
        """Press ``tab``/``shift+tab`` until the cursor is on a span ``wanted(span)`` accepts."""
        step = self.rng.choice(["tab", "shift+tab"])
        for _ in range(8):
            if self.span_here(wanted) is not None:
                return True
            before = self.app.reader.cursor
            await self.step("move", step)
            if self.app.reader.cursor == before:
                step = "tab" if step == "shift+tab" else "shift+tab"
        return self.span_here(wanted) is not None

    def span_here(self, wanted: Any) -> Any:
        rng = self.app.reader.cursor_range
        if rng is None:
            return None
        for span in self.model().spans.overlapping(*rng):
            if wanted(span):
                return span
        return None

    # -- one decision ------------------------------------------------------------------------

    async def decide(self) -> None:
        rng = self.rng
        kind = rng.choices(list(DECISIONS), weights=list(DECISIONS.values()))[0]
        model = self.model()
        cursor = self.app.reader.cursor
        if kind in ("label", "label_selection"):
            await self.move_to(max(0, min(cursor + rng.randint(-6, 6), len(model) - 1)))
            if kind == "label_selection":
                for _ in range(rng.randint(1, 2)):
                    await self.step("move", "shift+right")
            await self.step(kind, rng.choice(LABEL_KEYS))
        elif kind == "relabel":
            if await self.tab_to(lambda s: s.state == "accepted"):
                span = self.span_here(lambda s: s.state == "accepted")
                keys = [k for k, name in zip(LABEL_KEYS, ("PER", "LOC", "ORG")) if name != span.label]
                await self.step(kind, rng.choice(keys))
        elif kind == "delete":
            if await self.tab_to(lambda s: True):
                await self.step(kind, rng.choice(["backspace", "delete"]))
        elif kind in ("accept", "reject"):
            if await self.tab_to(lambda s: s.state == "pending"):
                await self.step(kind, "enter" if kind == "accept" else "x")
        elif kind == "accept_all":
            if model.spans.pending:
                await self.step(kind, "A")
        elif kind == "undo":
            await self.step(kind, rng.choice(["u", "u", "ctrl+z"]))
        elif kind == "redo":
            await self.step(kind, rng.choice(["ctrl+r", "ctrl+y"]))
        elif kind == "done":
            await self.step(kind, "d")
        elif kind == "skip":
            await self.step(kind, "s")
        else:
            await self.step("move", rng.choice(["n", "n", "N", "home", "end", "escape", "right", "left"]))


async def run(args: argparse.Namespace) -> int:
    store = Store(args.db, args.annotator)
    app = RecordingApp(store, suggest=args.suggest)
    stop = Path(args.stop_file) if args.stop_file else None
    with open(args.log, "a", encoding="utf-8") as log:
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
    parser.add_argument("--no-suggest", dest="suggest", action="store_false")
    parser.add_argument("--pace", type=float, default=0.0)
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
