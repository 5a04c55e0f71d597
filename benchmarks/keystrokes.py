"""Keystrokes per entity: reproduce a gold file's spans in the real app with its default keys.

The gold file's texts are imported into a temporary database (texts only) and the real
:class:`tui.app.AnnotateApp` is opened headless (``App.run_test()``). For each document, a
planner reads what the screen shows — the reader's cursor word, its words and wrapped
lines, the accepted spans and the pending suggestions — and picks the cheapest next step
as a practised annotator would: walk to a word (``→ ← ↓ ↑ pgdn pgup n N tab shift+tab
home end``, a shortest path found by breadth-first search over the app's own navigation:
the same ``DocModel.next_candidate``/``next_span`` and line layout the reader uses), then decide
(``1``-``9`` to label or relabel, ``shift+→``/``shift+←`` to select several words first,
``enter`` to accept a correct suggestion, ``x`` to reject a wrong one, ``backspace`` to
remove a wrong span, ``A`` once every pending suggestion is right), and ``d`` at the end.
The work is done in reading order from the cursor, or cheapest step first where that
looks cheaper over the rest of the document (``--policy``).
Keys are sent as Pilot sends them (key events through the app's headless driver, each
handled before the next); after each step the benchmark waits for the app's
workers (the suggestion refresh after a decision) and checks the state: the cursor where
the plan said before the decision key, the entity then accepted. A wrong guess is counted
and re-planned from what the app really shows, so the count is that of keys actually pressed.

With suggestions on, the recognisers run as a person would have them: ``annotate
suggest`` once before opening the app (every default recogniser that can run here, with
the gold folder's ``patterns.jsonl``), then the app's own ``suggest=True`` path: it
refreshes the open document's propagation suggestions after every label or accept and,
on every ``d``, retrains its in-loop CRF in a child process and suggests with it (and
propagation) in the open and the remaining documents. The benchmark waits for all of that
(the app's workers) before planning the next step; the CRF's retrain has a time budget,
so on a busy machine the figure with suggestions can move a little between runs. Wrong
suggestions nobody needs to touch are left pending (they are not exported; their number is
reported); ``--strict`` rejects them all before ``d``.

At the end the done documents are exported (``annotations.formats`` JSONL) and compared
with the gold: any difference is printed and the exit status is 1. Keys per gold entity
are printed overall and per document. Targets (issue 6): <= 3.0 without suggestions,
<= 1.3 with them.

Usage::

    python -m benchmarks.keystrokes                                   # gold.jsonl, both modes
    python benchmarks/keystrokes.py benchmarks/gold/gold.jsonl --suggestions off
    python -m benchmarks.keystrokes --quick --json                    # first 2 documents
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._util import format_table, peak_rss_mb

GOLD = Path(__file__).resolve().parent / "gold" / "gold.jsonl"
TARGET_OFF = 3.0
TARGET_ON = 1.3
QUICK_DOCS = 2
SIZE = (120, 40)
ANNOTATOR = "keystrokes"

#: How the planner orders the work in a document (see ``--policy``).
POLICIES = ("sweep", "nearest", "lookahead")
#: Keys that make one store action each (so one event); the others move or select.
DECISION_KEYS = frozenset({"enter", "x", "A", "backspace", "d", *"123456789"})

Gold = tuple[int, int, str]  # start, end, label


class KeystrokeError(Exception):
    """The benchmark could not reproduce the gold (or could not start)."""


# -- gold ----------------------------------------------------------------------------------


@dataclass
class GoldDoc:
    """One gold document: text (as the store normalises it) and its spans."""

    text: str
    spans: frozenset[Gold]
    line: int


def read_gold(path: Path, limit: int | None = None) -> list[GoldDoc]:
    """Read a Prodigy-style gold JSONL file with the importer's own reader (same validation)."""
    from annotations.importer import ImportFailure, read_jsonl

    if not path.is_file():
        raise KeystrokeError(f"{path}: no such gold file")
    docs: list[GoldDoc] = []
    seen: dict[str, int] = {}
    try:
        for rec in read_jsonl(path, path.name):
            line = rec.line or 0
            if rec.text in seen:
                raise KeystrokeError(f"{path}, line {line}: the same text as line {seen[rec.text]}")
            seen[rec.text] = line
            spans = frozenset((s.start, s.end, s.label) for s in rec.spans or ())
            docs.append(GoldDoc(rec.text, spans, line))
            if limit is not None and len(docs) >= limit:
                break
    except ImportFailure as exc:
        raise KeystrokeError(str(exc)) from None
    if not docs:
        raise KeystrokeError(f"{path}: no gold documents")
    return docs


# -- the planner: what each key does, from the reader's own data ------------------------------


@dataclass
class Option:
    """One way to do a task: stand on one of ``targets`` (word indices), then press ``keys``."""

    targets: frozenset[int]
    keys: tuple[str, ...]


@dataclass
class Task:
    """Something left to do in the open document."""

    kind: str  # create, accept, relabel, delete, reject
    start: int
    end: int
    options: list[Option]
    gold: Gold | None = None
    span_id: int | None = None


@dataclass
class Step:
    """A planned step: movement keys, then decision keys; where the cursor should be between."""

    nav: tuple[str, ...]
    word: int
    keys: tuple[str, ...]
    task: Task | None
    cost: int


class Navigator:
    """Breadth-first search over cursor states ``(word, goal column)`` using the reader's moves.

    ``right``/``left``/``home``/``end`` and ``n``/``N``/``tab``/``shift+tab`` are computed
    with the reader's :class:`DocModel` (``next_candidate``, ``next_span``); ``down``/``up``
    and ``pagedown``/``pageup`` repeat the reader's vertical move on its current line layout
    (goal column kept between vertical moves, reset by any other move), so the search
    predicts what the app does.
    """

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.model = reader.model
        self.layout = reader.layout_now
        self.n = len(self.model)
        #: Lines a page key moves (the reader's ``action_page``).
        self.page = max(reader.scrollable_content_region.height - 1, 1)
        self._on_line: dict[tuple[int, int], int | None] = {}

    def _word_on_line(self, y: int, x: int) -> int | None:
        key = (y, x)
        if key not in self._on_line:
            self._on_line[key] = self.reader._word_on_line(y, x)
        return self._on_line[key]

    def _vertical(self, word: int, goal: int | None, lines: int) -> tuple[int, int | None] | None:
        """The reader's ``_vertical_target``, without touching its state."""
        layout = self.layout
        y, x = layout.x_of(self.model.word_starts[word])
        goal = goal if goal is not None else x
        step = 1 if lines > 0 else -1
        target = max(0, min(y + lines, layout.height - 1))
        for ty in (*range(target, layout.height if step > 0 else -1, step), *range(target - step, y, -step)):
            if ty == y:
                break
            found = self._word_on_line(ty, goal)
            if found is not None:
                return found, goal
        return None

    def moves(self, word: int, goal: int | None) -> Iterable[tuple[str, tuple[int, int | None]]]:
        model = self.model
        if word + 1 < self.n:
            yield "right", (word + 1, None)
        if word > 0:
            yield "left", (word - 1, None)
        for key, lines in (("down", 1), ("up", -1), ("pagedown", self.page), ("pageup", -self.page)):
            moved = self._vertical(word, goal, lines)
            if moved is not None:
                yield key, moved
        for key, fn, step in (("n", model.next_candidate, 1), ("N", model.next_candidate, -1),
                              ("tab", model.next_span, 1), ("shift+tab", model.next_span, -1)):
            target = fn(word, step)
            if target is not None:
                yield key, (target, None)
        yield "home", (0, None)
        yield "end", (self.n - 1, None)

    def search(self, start: tuple[int, int | None]) -> Search:
        return Search(self, start)


class Search:
    """A breadth-first search from one cursor state, expanded layer by layer on demand."""

    def __init__(self, nav: Navigator, start: tuple[int, int | None]) -> None:
        self.nav = nav
        self.parent: dict[tuple[int, int | None], tuple[tuple[int, int | None], str] | None] = {start: None}
        self.first: dict[int, tuple[int, tuple[int, int | None]]] = {start[0]: (0, start)}
        self.frontier: list[tuple[int, int | None]] = [start]
        self.depth = 0

    def expand(self) -> bool:
        """Add one more layer; ``False`` when everything reachable has been seen."""
        if not self.frontier:
            return False
        self.depth += 1
        nxt: list[tuple[int, int | None]] = []
        for state in self.frontier:
            for key, new in self.nav.moves(*state):
                if new not in self.parent:
                    self.parent[new] = (state, key)
                    nxt.append(new)
                    if new[0] not in self.first:
                        self.first[new[0]] = (self.depth, new)
        self.frontier = nxt
        return bool(nxt)

    def distance(self, word: int) -> int | None:
        hit = self.first.get(word)
        return hit[0] if hit else None

    def keys_to(self, word: int) -> tuple[str, ...]:
        state = self.first[word][1]
        keys: list[str] = []
        while (link := self.parent[state]) is not None:
            state, key = link
            keys.append(key)
        return tuple(reversed(keys))


def words_of(model: Any, start: int, end: int) -> tuple[int, int]:
    """First and last word index of the offsets ``start``..``end`` (a gold span on word boundaries)."""
    a = bisect_left(model.word_starts, start)
    b = bisect_right(model.word_starts, end - 1) - 1
    if a >= len(model) or model.word_starts[a] != start or b < a or model.word_ends[b] != end:
        raise KeystrokeError(f"gold span {start}-{end} does not fall on word boundaries of the app's tokens")
    return a, b


def overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def accept_all_result(accepted: Sequence[Any], pending: Sequence[Any]) -> set[Gold]:
    """What ``A`` would leave accepted (the store's ``accept_all``: best score first, clashes give way)."""
    order = sorted(pending, key=lambda s: (-(s.score if s.score is not None else 1.0), s.start))
    result = {(s.start, s.end, s.label) for s in accepted}
    alive = {s.id for s in pending}
    for sug in order:
        if sug.id not in alive:
            continue
        result = {g for g in result if not overlaps(g[0], g[1], sug.start, sug.end)}
        alive -= {p.id for p in pending if overlaps(p.start, p.end, sug.start, sug.end)}
        result.add((sug.start, sug.end, sug.label))
    return result


class Planner:
    """Chooses the next step from the reader's state and the gold spans of the open document."""

    def __init__(self, gold: frozenset[Gold], keys: dict[str, str], strict: bool, policy: str = "lookahead") -> None:
        self.gold = gold
        self.keys = keys  # label name -> key
        self.strict = strict
        self.policy = policy

    def tasks(self, reader: Any) -> tuple[list[Task], list[Task], list[Task], bool]:
        """(individual tasks, correct suggestions, wrong suggestions, accept-all is clean)."""
        model = reader.model
        spans = list(model.spans)
        accepted = [s for s in spans if s.state == "accepted"]
        pending = [s for s in spans if s.state == "pending"]
        acc_set = {(s.start, s.end, s.label) for s in accepted}
        missing = sorted(self.gold - acc_set)
        n = len(model)
        tasks: list[Task] = []
        correct: list[Task] = []
        wrong: list[Task] = []

        def words(span: Any) -> range:
            a = bisect_left(model.word_starts, span.start)
            b = bisect_left(model.word_starts, span.end)
            return range(a, b)

        def span_words(span: Any) -> frozenset[int]:
            return frozenset(w for w in words(span) if model.span_at(*model.word_range(w)) is span)

        def pending_words(span: Any) -> frozenset[int]:
            return frozenset(w for w in words(span) if model.pending_at(*model.word_range(w)) is span)

        for g in missing:
            start, end, label = g
            key = self.keys[label]
            exact_p = [p for p in pending if (p.start, p.end) == (start, end)]
            exact_a = [s for s in accepted if (s.start, s.end) == (start, end)]
            right = [p for p in exact_p if p.label == label]
            if right:
                p = right[0]
                opts = [Option(pending_words(p), ("enter",)), Option(span_words(p), (key,))]
                correct.append(Task("accept", start, end, [o for o in opts if o.targets], g, p.id))
                continue
            if exact_a or exact_p:
                s = (exact_a or exact_p)[0]
                tasks.append(Task("relabel", start, end, [Option(span_words(s), (key,))], g, s.id))
                continue
            a, b = words_of(model, start, end)
            opts: list[Option] = []
            if a == b:
                under = model.spans.overlapping(*model.word_range(a))
                if not under:
                    opts.append(Option(frozenset({a}), (key,)))
                else:
                    if n > 1:
                        trick = ("shift+right", "shift+left") if a + 1 < n else ("shift+left", "shift+right")
                        opts.append(Option(frozenset({a}), (*trick, key)))
                    if all(s.state == "pending" for s in under):
                        opts.append(Option(frozenset({a}), (*["x"] * len(under), key)))
                    elif len(under) == 1:
                        opts.append(Option(frozenset({a}), ("backspace", key)))
                    if n == 1:
                        opts.append(Option(frozenset({a}), ("shift+right", key)))
            else:
                opts.append(Option(frozenset({a}), (*["shift+right"] * (b - a), key)))
                opts.append(Option(frozenset({b}), (*["shift+left"] * (b - a), key)))
            tasks.append(Task("create", start, end, opts, g))
        for s in accepted:
            if (s.start, s.end, s.label) in self.gold:
                continue
            if any((g[0], g[1]) == (s.start, s.end) for g in missing):
                continue  # a relabel task above
            if any(overlaps(s.start, s.end, g[0], g[1]) for g in missing):
                continue  # labelling that gold span removes it
            tasks.append(Task("delete", s.start, s.end, [Option(span_words(s), ("backspace",))], span_id=s.id))
        # Wrong suggestions: labelling a missing gold span that has no suggestion of its own
        # rejects those overlapping it; the others stand in the way of A.
        created = [(t.start, t.end) for t in tasks if t.gold is not None]
        for p in pending:
            if (p.start, p.end, p.label) in self.gold:
                continue
            if any(overlaps(p.start, p.end, g0, g1) for g0, g1 in created):
                continue
            wrong.append(Task("reject", p.start, p.end, [Option(pending_words(p), ("x",))], span_id=p.id))
        clean = False
        if pending:
            after = accept_all_result(accepted, pending)
            clean = after <= self.gold and len(after & self.gold) > len(acc_set & self.gold)
        return tasks, correct, wrong, clean

    def best(self, reader: Any, tasks: Sequence[Task], search: Search) -> Step | None:
        """The cheapest (movement + decision keys) of ``tasks``; ties go to reading order."""
        if not tasks:
            return None
        here = reader.model.word_starts[reader.cursor]
        best: tuple[tuple[int, int, int], Step] | None = None
        while True:
            for task in tasks:
                for opt in task.options:
                    for w in opt.targets:
                        d = search.distance(w)
                        if d is None:
                            continue
                        cost = d + len(opt.keys)
                        rank = (cost, 0 if task.start >= here else 1, task.start if task.start >= here else -task.start)
                        if best is None or rank < best[0]:
                            best = (rank, Step(search.keys_to(w), w, opt.keys, task, cost))
            # Any target not reached yet is at least depth + 1 moves away, plus a key.
            if best is not None and best[0][0] <= search.depth + 2:
                return best[1]
            if not search.expand():
                return best[1] if best else None

    @staticmethod
    def ahead(reader: Any, tasks: Sequence[Task]) -> Task:
        """The first task in reading order that ends after the cursor (else the first of all)."""
        here = reader.model.word_starts[reader.cursor]
        later = [t for t in tasks if t.end > here]
        return min(later or tasks, key=lambda t: t.start)

    def choose(self, reader: Any, tasks: Sequence[Task], nav: Navigator, start: tuple[int, int | None],
               policy: str) -> Step | None:
        """The next step among ``tasks`` by ``policy`` (see :data:`POLICIES`)."""
        if policy == "nearest":
            return self.best(reader, tasks, nav.search(start))
        if policy == "sweep":
            return self.best(reader, [self.ahead(reader, tasks)], nav.search(start))
        # lookahead: when reading order and cheapest-next disagree, follow the one whose
        # whole tour (estimated with the spans as they are now) costs fewer keys.
        sweep = self.choose(reader, tasks, nav, start, "sweep")
        nearest = self.choose(reader, tasks, nav, start, "nearest")
        if sweep is None or nearest is None or sweep.task is nearest.task:
            return sweep or nearest
        by_sweep = self.tour(reader, nav, start, tasks, "sweep")
        by_nearest = self.tour(reader, nav, start, tasks, "nearest")
        return sweep if by_sweep <= by_nearest else nearest

    def tour(self, reader: Any, nav: Navigator, start: tuple[int, int | None], tasks: Sequence[Task],
             policy: str | None = None) -> int:
        """Estimated keys to do ``tasks`` one after another by ``policy`` (spans as they are now)."""
        policy = policy or ("sweep" if self.policy == "lookahead" else self.policy)
        left = list(tasks)
        state = start
        total = 0
        fake: Any = reader
        while left:
            step = self.choose(fake, left, nav, state, policy)
            if step is None or step.task is None:
                return 10**9
            total += step.cost
            left = [t for t in left if t is not step.task]
            word = step.word + step.keys.count("shift+right") - step.keys.count("shift+left")
            state = (word, None)
            fake = _Cursor(reader, word)
        return total

    def next_step(self, reader: Any) -> Step | None:
        """The next step, or ``None`` when the document's accepted spans equal the gold.

        Labels, relabels and deletions come first (in the policy's order); the correct
        suggestions are left for one ``A`` at the end, after the wrong ones in its way are
        rejected — unless accepting the correct ones one by one costs fewer keys.
        """
        tasks, correct, wrong, clean = self.tasks(reader)
        if not tasks and not correct and not (self.strict and wrong):
            return None
        nav = Navigator(reader)
        start = (reader.cursor, reader._goal_x)
        if tasks:
            step = self.choose(reader, tasks, nav, start, self.policy)
        elif correct and clean:
            return Step((), reader.cursor, ("A",), None, 1)
        elif not correct or not wrong:
            step = self.choose(reader, correct or wrong, nav, start, self.policy)
        else:
            one_by_one = self.tour(reader, nav, start, correct)
            if self.strict:
                one_by_one += self.tour(reader, nav, start, wrong)
            clean_up = self.tour(reader, nav, start, wrong) + 1
            step = self.choose(reader, correct if one_by_one < clean_up else wrong, nav, start, self.policy)
        if step is None:
            raise KeystrokeError("the planner found no key sequence for what is left in this document")
        return step


@dataclass
class _Cursor:
    """A reader stand-in with another cursor (for estimating a tour)."""

    reader: Any
    cursor: int

    @property
    def model(self) -> Any:
        return self.reader.model


# -- driving the app -------------------------------------------------------------------------


@dataclass
class DocResult:
    """Keys pressed in one document."""

    doc_id: int
    title: str
    entities: int
    keys: int = 0
    by_key: Counter = field(default_factory=Counter)
    steps: int = 0
    misses: int = 0
    left_pending: int = 0
    seconds: float = 0.0

    @property
    def per_entity(self) -> float:
        return self.keys / self.entities if self.entities else float(self.keys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "title": self.title, "entities": self.entities, "keys": self.keys,
            "keys_per_entity": round(self.per_entity, 3), "steps": self.steps, "plan_misses": self.misses,
            "left_pending": self.left_pending, "seconds": round(self.seconds, 2),
            "by_key": dict(sorted(self.by_key.items())),
        }


def _shown(reader: Any) -> set[tuple[int, int, int, str, str]]:
    return {(s.id, s.start, s.end, s.label, s.state) for s in reader.model.spans}


def _stored(store: Any, doc_id: int) -> set[tuple[int, int, int, str, str]]:
    return {(s.id, s.start, s.end, s.label, s.state) for s in store.spans(doc_id, states=("accepted", "pending"))}


def _newest_event(store: Any) -> int:
    events = store.events(annotator=store.annotator, limit=1)
    return int(events[0]["id"]) if events else 0


def _events_since(store: Any, event_id: int, limit: int) -> int:
    """How many of the annotator's events are newer than ``event_id`` (counting up to ``limit``)."""
    return sum(1 for e in store.events(annotator=store.annotator, limit=limit) if int(e["id"]) > event_id)


class Keyboard:
    """Sends key events the way Pilot does (through the driver), then waits only as long as needed.

    ``Pilot.press`` sleeps at least 40 ms per key waiting for the process to look idle;
    here each key is followed by rounds of "every widget has handled its queued messages"
    until a condition the caller names holds (the cursor moved, the store logged the
    decision), which is exact and fast.
    """

    def __init__(self, pilot: Any, result: DocResult | None = None) -> None:
        self.pilot = pilot
        self.app = pilot.app
        self.result = result

    @staticmethod
    def event(key: str) -> Any:
        import unicodedata

        from textual import events
        from textual.keys import (
            REPLACED_KEYS,
            _character_to_key,
            _get_unicode_name_from_key,
        )

        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        original = REPLACED_KEYS.get(key, key)
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
        except KeyError:
            char = key if len(key) == 1 else None
        return events.Key(key, char)

    async def drain(self) -> None:
        """One round: every widget on the screen (and the app) handled the messages queued now."""
        wait = getattr(self.pilot, "_wait_for_screen", None)
        if wait is not None:
            await wait()
        else:  # pragma: no cover - older/newer Textual without the helper
            await self.pilot.pause()
        await asyncio.sleep(0)

    async def until(self, predicate: Any, rounds: int = 400) -> bool:
        """Drain until ``predicate()`` holds; ``False`` if it still does not after ``rounds``."""
        for i in range(rounds):
            if predicate():
                return True
            await self.drain()
            if i > 20:
                await asyncio.sleep(0.005)
        return bool(predicate())

    async def press(self, keys: Sequence[str]) -> None:
        """Press ``keys`` one after another (each handled before the next is sent)."""
        driver = self.app._driver
        for key in keys:
            event = self.event(key)
            event.set_sender(self.app)
            driver.send_message(event)
            for _ in range(4):  # app -> screen -> focused widget -> bindings
                await self.drain()
            if self.result is not None:
                self.result.keys += 1
                self.result.by_key[key] += 1

    async def decide(self, keys: Sequence[str]) -> bool:
        """Press keys ending in decisions; wait until the store logged each decision and the app settled.

        Every decision key the planner uses (a label, ``enter``, ``x``, ``backspace``,
        ``A``, ``d``) is one store action, so one event; selection keys log none.
        """
        store = self.app.store
        before = _newest_event(store)
        expected = sum(1 for k in keys if k in DECISION_KEYS)
        await self.press(keys)
        logged = await self.until(lambda: _events_since(store, before, expected + 1) >= expected)
        await settle(self.pilot)
        return logged


async def settle(pilot: Any, timeout: float = 60.0) -> None:
    """Wait until the app's workers are done and the reader shows what the store holds."""
    from textual.worker import WorkerState

    app = pilot.app
    keyboard = Keyboard(pilot)
    deadline = time.monotonic() + timeout
    while True:
        await keyboard.drain()
        await app.workers.wait_for_complete()
        await keyboard.drain()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
        reader = app.reader
        if not busy and (reader.model is None or _shown(reader) == _stored(app.store, reader.doc_id)):
            return
        if time.monotonic() > deadline:
            raise KeystrokeError("the app did not settle (workers busy or reader out of step with the store)")
        await asyncio.sleep(0.005)


async def wait_for_document(pilot: Any, doc_id: int, timeout: float = 60.0) -> None:
    app = pilot.app
    deadline = time.monotonic() + timeout
    while app.reader.model is None or app.reader.doc_id != doc_id:
        if time.monotonic() > deadline:
            raise KeystrokeError(f"document {doc_id} did not open")
        await pilot.pause(0.01)
    await settle(pilot)


async def annotate_document(pilot: Any, planner: Planner, result: DocResult, verbose: bool) -> None:
    """Press keys until the open document's accepted spans equal the gold, then ``d``."""
    app = pilot.app
    reader = app.reader
    keyboard = Keyboard(pilot, result)
    started = time.perf_counter()
    limit = 20 * (len(planner.gold) + len(reader.model.spans)) + 50
    while True:
        if reader.selection is not None:  # never expected: start each step without a selection
            await keyboard.press(("escape",))
        step = planner.next_step(reader)
        if step is None:
            break
        result.steps += 1
        if result.steps > limit:
            raise KeystrokeError(f"document {result.doc_id}: no end in sight after {limit} steps")
        await keyboard.press(step.nav)
        if not await keyboard.until(lambda word=step.word: reader.cursor == word, rounds=30):
            result.misses += 1  # the model of the keys was wrong: re-plan from what the app shows
            await settle(pilot)
            continue
        if not await keyboard.decide(step.keys):
            raise KeystrokeError(f"document {result.doc_id}: keys {step.keys} changed nothing in the store")
        if verbose:
            what = ("accept all", "") if step.task is None else (
                step.task.kind, repr(reader.model.raw[step.task.start:step.task.end]))
            print(f"  {what[0]:10} {what[1]:40} {' '.join((*step.nav, *step.keys))}", file=sys.stderr)
        task = step.task
        if task is not None and task.gold is not None:
            shown = {(s.start, s.end, s.label) for s in reader.model.spans if s.state == "accepted"}
            if task.gold not in shown:
                result.misses += 1
    result.left_pending = reader.model.spans.pending
    await keyboard.decide(("d",))
    result.seconds = time.perf_counter() - started


def prepare(store: Any, gold: list[GoldDoc], suggestions: bool, patterns: Path | None) -> dict[str, Any]:
    """Import the gold texts (texts only) and, with suggestions, run ``annotate suggest`` once."""
    from annotations.importer import import_paths

    info: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "texts.jsonl"
        with src.open("w", encoding="utf-8") as fh:
            for doc in gold:
                fh.write(json.dumps({"text": doc.text}, ensure_ascii=False) + "\n")
        report = import_paths(store, [src], mode="text")
    if report.errors:
        raise KeystrokeError(f"import failed: {report.errors[0]}")
    store.ensure_labels(sorted({g[2] for doc in gold for g in doc.spans}))
    if suggestions:
        from annotations.recognisers import build_recognisers, run_recognisers
        from annotations.recognisers.patterns import read_patterns

        pats = read_patterns(patterns) if patterns is not None else []
        recognisers, skipped = build_recognisers(None, {"patterns": {"patterns": pats}})
        t0 = time.perf_counter()
        run = run_recognisers(store, recognisers, status="todo")
        info = {
            "recognisers": [r.name for r in recognisers], "skipped": skipped,
            "patterns": str(patterns) if patterns else None,
            "initial_suggestions": run.total, "suggest_seconds": round(time.perf_counter() - t0, 2),
        }
    return info


def check_alignment(store: Any, gold: list[GoldDoc]) -> None:
    """Every gold span must start and end on a word the app's cursor can stand on."""
    from tui.docmodel import DocModel

    by_text = {doc.text: doc for doc in gold}
    labels = store.labels()
    for doc_id in store.document_ids():
        doc = by_text[store.text(doc_id)]
        model = DocModel(store.document(doc_id), labels)
        for start, end, label in sorted(doc.spans):
            try:
                words_of(model, start, end)
            except KeystrokeError:
                raise KeystrokeError(
                    f"gold line {doc.line}: {label} span {start}-{end} {doc.text[start:end]!r} does not"
                    " start and end on word boundaries of the app's tokens, so no keys can make it"
                ) from None


def compare(store: Any, gold: list[GoldDoc]) -> list[str]:
    """Export the done documents as JSONL and list every difference from the gold."""
    from annotations.formats import Selection, run_export

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "export.jsonl"
        run_export(store, "jsonl", Selection(status="done", annotator=store.annotator), out)
        exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_text = {rec["text"]: {(s["start"], s["end"], s["label"]) for s in rec.get("spans") or ()} for rec in exported}
    diffs: list[str] = []
    for doc in gold:
        got = by_text.get(doc.text)
        if got is None:
            diffs.append(f"gold line {doc.line}: document not exported (not marked done)")
            continue
        for s, e, label in sorted(doc.spans - got):
            diffs.append(f"gold line {doc.line}: missing {label} {s}-{e} {doc.text[s:e]!r}")
        for s, e, label in sorted(got - doc.spans):
            diffs.append(f"gold line {doc.line}: extra {label} {s}-{e} {doc.text[s:e]!r}")
    return diffs


async def run_mode(gold: list[GoldDoc], suggestions: bool, patterns: Path | None, strict: bool,
                   verbose: bool, size: tuple[int, int], policy: str = "lookahead") -> dict[str, Any]:
    """One mode (suggestions on or off) on a fresh database; returns its figures."""
    from annotations import Store
    from tui.app import AnnotateApp

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "keystrokes.db", annotator=ANNOTATOR)
        try:
            info = prepare(store, gold, suggestions, patterns)
            check_alignment(store, gold)
            ids = store.document_ids()
            by_text = {doc.text: doc for doc in gold}
            keys = {lab.name: lab.key for lab in store.labels() if lab.key}
            missing = sorted({g[2] for doc in gold for g in doc.spans} - set(keys))
            if missing:
                raise KeystrokeError(f"labels without a key: {', '.join(missing)}")
            results: list[DocResult] = []
            app = AnnotateApp(store, suggest=suggestions, seed_if_empty=False)
            async with app.run_test(size=size) as pilot:
                for doc_id in ids:
                    await wait_for_document(pilot, doc_id)
                    doc = by_text[store.text(doc_id)]
                    result = DocResult(doc_id, app.reader.model.title, len(doc.spans))
                    if verbose:
                        print(f"document {doc_id}: {result.title}", file=sys.stderr)
                    await annotate_document(pilot, Planner(doc.spans, keys, strict, policy), result, verbose)
                    results.append(result)
                await settle(pilot)
            diffs = compare(store, gold)
        finally:
            store.close()
    entities = sum(r.entities for r in results)
    total = sum(r.keys for r in results)
    by_key: Counter = Counter()
    for r in results:
        by_key.update(r.by_key)
    target = TARGET_ON if suggestions else TARGET_OFF
    per = total / entities if entities else 0.0
    return {
        "suggestions": suggestions,
        "documents": len(results),
        "entities": entities,
        "keys": total,
        "keys_per_entity": round(per, 3),
        "target": target,
        "meets_target": per <= target,
        "movement_keys": sum(n for k, n in by_key.items() if k not in DECISION_KEYS),
        "decision_keys": sum(n for k, n in by_key.items() if k in DECISION_KEYS),
        "by_key": dict(sorted(by_key.items())),
        "plan_misses": sum(r.misses for r in results),
        "left_pending": sum(r.left_pending for r in results),
        "equals_gold": not diffs,
        "differences": diffs,
        "per_document": [r.to_dict() for r in results],
        "seconds": round(time.perf_counter() - started, 1),
        **info,
    }


def _rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    from annotations import inert

    rows: list[tuple[str, str, str]] = [
        ("gold", results["gold"], f"{results['documents']} documents, {results['entities']} entities"),
    ]
    for name, r in results["modes"].items():
        rows.append((f"suggestions {name}: keys per entity", f"{r['keys_per_entity']:.2f}",
                     (f"target <= {r['target']}  ({r['keys']} keys: {r['movement_keys']} to move or select, "
                      f"{r['decision_keys']} to decide; equals gold: {'yes' if r['equals_gold'] else 'NO'})")))
        if r.get("recognisers") is not None:
            rows.append(("  recognisers", ", ".join(r["recognisers"]),
                         (f"{r['initial_suggestions']} suggestions before opening; "
                          f"{r['left_pending']} wrong ones left pending")))
        for d in r["per_document"]:
            rows.append((f"  {d['doc_id']:>3} {inert(d['title'][:40])}", f"{d['keys_per_entity']:.2f}",
                         f"{d['keys']} keys / {d['entities']} entities"
                         + (f", {d['plan_misses']} re-planned" if d["plan_misses"] else "")))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Example: python -m benchmarks.keystrokes benchmarks/gold/gold.jsonl --suggestions on",
    )
    parser.add_argument("gold", nargs="?", type=Path, default=GOLD, help="gold JSONL (default: benchmarks/gold/gold.jsonl)")
    parser.add_argument("--suggestions", choices=("on", "off", "both"), default="both",
                        help="run with the recognisers on, off, or both (default)")
    parser.add_argument("--patterns", type=Path, default=None,
                        help="pattern file for the suggest run (default: patterns.jsonl beside the gold file)")
    parser.add_argument("--strict", action="store_true", help="also reject every wrong suggestion before d")
    parser.add_argument("--policy", choices=POLICIES, default="lookahead",
                        help="order of the work in a document: reading order from the cursor (sweep), cheapest"
                             " next (nearest), or, where those two disagree, whichever looks cheaper over the"
                             " rest of the document (lookahead, the default; slower)")
    parser.add_argument("--quick", action="store_true", help=f"first {QUICK_DOCS} documents only (smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--verbose", action="store_true", help="print every step's keys on stderr")
    args = parser.parse_args(argv)
    patterns = args.patterns
    if patterns is None and (args.gold.parent / "patterns.jsonl").is_file():
        patterns = args.gold.parent / "patterns.jsonl"
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.suggestions]
    try:
        gold = read_gold(args.gold, QUICK_DOCS if args.quick else None)
        results: dict[str, Any] = {
            "gold": str(args.gold), "quick": args.quick, "strict": args.strict, "policy": args.policy,
            "documents": len(gold), "entities": sum(len(d.spans) for d in gold),
            "size": list(SIZE), "modes": {},
        }
        for on in modes:
            results["modes"]["on" if on else "off"] = asyncio.run(
                run_mode(gold, on, patterns, args.strict, args.verbose, SIZE, args.policy)
            )
    except KeystrokeError as exc:
        print(f"keystrokes: {exc}", file=sys.stderr)
        return 2
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    results["equals_gold"] = all(r["equals_gold"] for r in results["modes"].values())
    if args.json:
        print(json.dumps(results, ensure_ascii=False, sort_keys=True))
    else:
        print(format_table(_rows(results)))
    if not results["equals_gold"]:
        for name, r in results["modes"].items():
            for line in r["differences"]:
                print(f"suggestions {name}: {line}", file=sys.stderr)
        print("keystrokes: the exported annotations differ from the gold (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
