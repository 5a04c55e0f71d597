"""The review screen: adjudicate the annotators' conflicts, document by document, by keys.

``annotate review`` opens the app (:class:`ReviewApp`, the annotator app with this screen on
top) as the reviewer. Documents come in order of lowest agreement. When a document is
opened, the spans every annotator agrees on are put in the reviewer's layer (once; logged, though
undo passes over it). The reader shows the reviewer's layer and takes the usual keys for
editing by hand; the panel below shows the current conflict with each annotator's version
in the label colours. Every decision is one store action (one transaction, one event), so
undo and redo work and survive a restart; the library side is :mod:`annotations.team.review`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import Console
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

from annotations import ActionResult, ConnectionLost, Label, Store, StoreError, inert
from annotations.team.review import (
    MANUAL_ORIGIN,
    DocReview,
    load_review,
    prefill,
    review_queue,
    take,
    take_all,
)

from .app import AnnotateApp, summary_line
from .docmodel import DocModel
from .help import HelpScreen
from .keymap import binding_rows, key_name, label_clash
from .layout import DocumentLayout
from .reader import Reader
from .server import Unsaved, needs_server
from .review_keys import REVIEW_BINDINGS
from .review_panel import PICK_KEYS, ConflictPanel
from .titlebar import DocTitle

__all__ = ["MAX_ANNOTATORS", "ReviewApp", "ReviewScreen", "run_review"]

#: Annotators one review compares at most (one pick key each).
MAX_ANNOTATORS = len(PICK_KEYS)


class ReviewScreen(Screen[None]):
    """Decide every conflict of the reviewed annotators, in order of lowest agreement.

    | Key(s) | Description |
    | :- | :- |
    | tab, shift+tab | Next / previous conflict in the document. |
    | a, b, c, e, f, g | Take that annotator's version of the conflict. |
    | A, B, C, E, F, G | Take all of that annotator's spans in the document. |
    | 1-9, backspace | Label / remove by hand (the reader's usual keys). |
    | d | Mark the document reviewed; open the next one. |
    | ], [ | Next / previous document in review order. |
    | u, ctrl+r | Undo, redo (survive a restart). |
    """

    CSS_PATH = "review.tcss"

    BINDINGS: ClassVar[list[BindingType]] = REVIEW_BINDINGS

    class QueueReady(Message):
        """The documents to review, lowest agreement first."""

        def __init__(self, queue: list[tuple[int, float]], error: str | None = None) -> None:
            super().__init__()
            self.queue = queue
            self.error = error

    class Loaded(Message):
        """A document's review was computed, its agreed spans put in, and it was wrapped."""

        def __init__(self, serial: int, review: DocReview, model: DocModel, layout: DocumentLayout) -> None:
            super().__init__()
            self.serial = serial
            self.review = review
            self.model = model
            self.layout = layout

    class Failed(Message):
        """Opening a document for review failed."""

        def __init__(self, serial: int, error: str) -> None:
            super().__init__()
            self.serial = serial
            self.error = error

    def __init__(self, annotators: Sequence[str]) -> None:
        super().__init__(id="review")
        self.annotators = list(annotators)
        #: ``(doc id, agreement)`` in review order.
        self.queue: list[tuple[int, float]] = []
        self.position = 0
        self.review: DocReview | None = None
        #: Index of the current conflict in :attr:`review` (``None``: none).
        self.conflict: int | None = None
        self._serial = 0
        self.labels: list[Label] = []
        #: Label keys other than 1-9 that act here (character -> label name).
        self._label_by_key: dict[str, str] = {}
        self.title_bar = DocTitle(id="review-title")
        self.reader = Reader(id="review-reader")
        self.panel = ConflictPanel(id="review-panel")

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        yield self.title_bar
        yield self.reader
        yield self.panel
        yield Footer()

    def on_mount(self) -> None:
        self.labels = self.store.labels()
        self.reader.set_labels(self.labels)
        self.panel.set_labels(self.labels)
        self.panel.pick_keys = self._pick_keys()
        self._label_by_key = self._label_keys()
        self.reader.empty_message = "Finding the documents with the lowest agreement…"
        self.reader.focus()
        self._prepare()

    def _label_keys(self) -> dict[str, str]:
        """Labels on keys other than 1-9 (the reader binds the digits) that no key here takes:
        character -> label name, as the annotator screen gives them."""
        keymap: dict[str, str] = getattr(self.app, "keymap", {}) or {}
        taken = {key for b in Binding.make_bindings(REVIEW_BINDINGS) if b.id
                 for key in (keymap[b.id].split(",") if b.id in keymap else [b.key])}
        out: dict[str, str] = {}
        for lab in self.labels:
            if not lab.key or (len(lab.key) == 1 and lab.key in "123456789") or label_clash(lab.key, keymap):
                continue  # the reader's digits, or a key the annotator screen already names as taken
            if lab.key in taken or key_name(lab.key) in taken:
                self.notify(f"Label {inert(lab.name)} has key {inert(lab.key)}, which takes an annotator's"
                            " version here: give it another (annotate labels edit NAME --key K) to label"
                            " by key in the review screen.", severity="warning", markup=False, timeout=10)
                continue
            out[lab.key] = lab.name
        return out

    def on_key(self, event: events.Key) -> None:
        name = self._label_by_key.get(event.character or "")
        if name is not None and self.focused is self.reader:
            event.prevent_default()
            event.stop()
            self.reader.request_label(name=name)

    def _pick_keys(self) -> tuple[str, ...]:
        """The key of each ``review.take_*`` binding in effect (the keymap may move them)."""
        keymap: dict[str, str] = getattr(self.app, "keymap", {}) or {}
        keys = []
        for k in PICK_KEYS:
            key = keymap.get(f"review.take_{k}", k).split(",")[0]
            keys.append(self.app.get_key_display(Binding(key, "")))
        return tuple(keys)

    # -- workers ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="review-queue", exit_on_error=False)
    def _prepare(self) -> None:
        try:
            with self.store.reopen() as store:
                queue = review_queue(store, self.annotators)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.post_message(self.QueueReady([], str(exc)))
            return
        self.post_message(self.QueueReady(queue))

    def on_review_screen_queue_ready(self, message: QueueReady) -> None:
        if message.error is not None:
            self.notify("Cannot review: " + inert(message.error), severity="error", markup=False)
            return
        self.queue = message.queue
        if not self.queue:
            self.reader.empty_message = (
                "Nothing to review: no document was marked done by two or more of "
                + ", ".join(inert(a) for a in self.annotators) + ".")
            self.reader.refresh()
            return
        first = next((i for i, (d, _) in enumerate(self.queue) if self.store.status(d) != "done"), 0)
        self.open_position(first)

    @work(thread=True, exclusive=True, group="review-load", exit_on_error=False)
    def _load(self, serial: int, doc_id: int, width: int, labels: list[Label]) -> None:
        try:
            with self.store.reopen() as store:
                review = load_review(store, doc_id, self.annotators)
                prefill(store, review)
                document = store.document(doc_id)
            document.spans = document.accepted  # the reviewer's layer: suggestions are not reviewed here
            model = DocModel(document, labels)
            layout = DocumentLayout(model.text, width, model.chips)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.post_message(self.Failed(serial, str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(serial, review, model, layout))

    @needs_server
    def open_position(self, position: int) -> None:
        """Open the ``position``-th document of the review order."""
        self.position = max(0, min(position, len(self.queue) - 1))
        self._serial += 1
        self._load(self._serial, self.queue[self.position][0], self.reader.wrap_width, list(self.labels))

    def on_review_screen_loaded(self, message: Loaded) -> None:
        if message.serial != self._serial:
            return
        self.review = message.review
        first = message.review.conflicts[0].start if message.review.conflicts else None
        self.reader.show(message.model, first, message.layout)
        self.conflict = 0 if message.review.conflicts else None
        self._focus_conflict()
        self._show()

    def on_review_screen_failed(self, message: Failed) -> None:
        if message.serial == self._serial:
            self.notify("Cannot open the document: " + inert(message.error), severity="error", markup=False)

    # -- showing ----------------------------------------------------------------------------

    def _mine(self) -> list[tuple[int, int, str]]:
        model = self.reader.model
        if model is None:
            return []
        return [(s.start, s.end, s.label) for s in model.spans if s.state == "accepted"]

    def _show(self) -> None:
        """Title bar and conflict panel for the open document and conflict."""
        model = self.reader.model
        review = self.review
        if model is None or review is None:
            return
        n = len(review.conflicts)
        details = (f"review {self.position + 1} / {len(self.queue)} · {model.status} · "
                   f"{n} conflict{'' if n == 1 else 's'} · {', '.join(review.annotators)}")
        self.title_bar.details = details
        self.title_bar.title = model.title
        self.panel.show(review, self.conflict, model.raw, self._mine())

    def _focus_conflict(self) -> None:
        """Cursor on the current conflict, its region selected (a label key labels all of it)."""
        review, model = self.review, self.reader.model
        if review is None or model is None or self.conflict is None:
            return
        c = review.conflicts[self.conflict]
        self.reader.move_to_offset(c.start)
        first, last = model.word_at(c.start), model.word_at(c.end - 1)
        if first is not None and last is not None:
            for _ in range(last - first):
                self.reader.action_extend(1)

    def _offline(self) -> bool:
        """Whether the database server is away (the screen then stays as it is: the decision unsaved)."""
        return getattr(self.app, "server_lost", None) is not None

    def _reload(self) -> None:
        if self._offline():
            return
        doc_id = self.reader.doc_id
        if doc_id is not None:
            self.reader.reload_spans(self.store.spans(doc_id, states=("accepted",)))
            model = self.reader.model
            if model is not None:
                model.status = self.store.status(doc_id)
        self._show()

    def _commit(self, action: Any, what: str = "your last review decision") -> ActionResult | None:
        app: Any = self.app
        if app.server_lost is not None:
            app.refuse_offline(what)
            return None
        seen = self.store.last_logged
        try:
            return action()
        except ConnectionLost as exc:  # said, retried; made again by hand once the server is back
            app.server_gone(exc, Unsaved(what, None, seen))
        except StoreError as exc:
            self.notify(inert(str(exc)), severity="warning", markup=False)
        except Exception as exc:  # noqa: BLE001 - keep the app alive
            self.notify("Not saved: " + inert(str(exc)), severity="error", markup=False)
        return None

    # -- actions ----------------------------------------------------------------------------

    def action_conflict(self, step: int) -> None:
        review = self.review
        if review is None or not review.conflicts:
            self.notify("No conflicts in this document.", timeout=2)
            return
        rng = self.reader.cursor_range
        at = rng[0] if rng else 0
        here = review.conflict_at(at)
        if here is not None and step > 0:
            self.conflict = (here + 1) % len(review.conflicts)
        elif here is not None:
            self.conflict = (here - 1) % len(review.conflicts)
        else:
            self.conflict = review.next_conflict(at, step)
        self._focus_conflict()
        self._show()

    def _annotator(self, index: int) -> str | None:
        review = self.review
        if review is None or index >= len(review.annotators):
            self.notify(f"There is no annotator {index + 1} in this document.", timeout=2)
            return None
        return review.annotators[index]

    def action_take(self, index: int) -> None:
        review = self.review
        name = self._annotator(index)
        if review is None or name is None:
            return
        if self.conflict is None:
            self.notify("No conflict here: nothing to take.", timeout=2)
            return
        conflict = review.conflicts[self.conflict]
        self._commit(lambda: take(self.store, conflict, name), f"take {name}'s version")
        if self._offline():
            return
        self.reader.clear_selection()
        self._reload()

    def action_take_all(self, index: int) -> None:
        review = self.review
        name = self._annotator(index)
        if review is None or name is None:
            return
        self._commit(lambda: take_all(self.store, review, name), f"take all of {name}'s spans")
        if self._offline():
            return
        self.reader.clear_selection()
        self._reload()

    @needs_server
    def action_reviewed(self) -> None:
        doc_id = self.reader.doc_id
        if doc_id is None:
            return
        if self._commit(lambda: self.store.set_status(doc_id, "done"), "reviewed") is None:
            return
        for step in range(1, len(self.queue) + 1):
            pos = (self.position + step) % len(self.queue)
            if self.store.status(self.queue[pos][0]) != "done":
                self.open_position(pos)
                return
        self._reload()
        self.notify("Every document is reviewed.", title="All done", markup=False)

    @needs_server
    def action_document(self, step: int) -> None:
        if not self.queue:
            return
        target = self.position + step
        if not 0 <= target < len(self.queue):
            self.notify("This is the " + ("last" if step > 0 else "first") + " document to review.", timeout=2)
            return
        self.open_position(target)

    def _history(self, undo: bool) -> None:
        result = self._commit(self.store.undo if undo else self.store.redo, "undo" if undo else "redo")
        if self._offline():
            return
        if result is None:
            self.notify(f"Nothing to {'undo' if undo else 'redo'}.", timeout=2)
            return
        if result.doc_id is not None and result.doc_id != self.reader.doc_id:
            where = next((i for i, (d, _) in enumerate(self.queue) if d == result.doc_id), None)
            if where is not None:
                self.open_position(where)
                return
        self._reload()

    def action_undo(self) -> None:
        self._history(True)

    def action_redo(self) -> None:
        self._history(False)

    # -- editing by hand (the reader's keys) ---------------------------------------------------

    @on(Reader.LabelRequested)
    def _label(self, message: Reader.LabelRequested) -> None:
        message.stop()
        if message.doc_id != self.reader.doc_id:
            return
        label = next((lab for lab in self.labels if (message.name and lab.name == message.name)
                      or (message.name is None and lab.key == message.key)), None)
        if label is None:
            self.notify(f"No label on key {inert(message.key or '')}.", severity="warning", markup=False)
            return
        span = message.span
        if span is not None and span.state == "accepted":
            self._commit(lambda: self.store.relabel_span(span.id, label.name), f"{label.name}")
        else:
            self._commit(lambda: self.store.add_span(message.doc_id, message.start, message.end, label.name,
                                                     origin=MANUAL_ORIGIN), f"{label.name}")
        if self._offline():
            return
        self.reader.clear_selection()
        self._reload()

    @on(Reader.SpanRequested)
    def _span(self, message: Reader.SpanRequested) -> None:
        message.stop()
        if message.doc_id == self.reader.doc_id and message.command == "delete":
            self._commit(lambda: self.store.delete_span(message.span.id))
            self._reload()

    @on(Reader.AcceptAllRequested)
    def _accept_all(self, message: Reader.AcceptAllRequested) -> None:
        message.stop()


class ReviewApp(AnnotateApp):
    """The annotator app opened on the review screen (as the reviewer, without suggestions)."""

    #: The palette's commands act on the annotator screen's document, not on the review.
    ENABLE_COMMAND_PALETTE = False

    #: App actions of the annotator screen, off while the review screen is on top (their keys
    #: would otherwise act on the document hidden under it).
    MAIN_ONLY: ClassVar[frozenset[str]] = frozenset({
        "mark", "next_document", "undo", "redo", "search", "toggle_list", "focus_list", "toggle_mine",
    })

    def __init__(self, store: Store, annotators: Sequence[str], *, keymap: dict[str, str] | None = None) -> None:
        super().__init__(store, keymap=keymap, suggest=False, model=False, seed_if_empty=False)
        self.review_screen = ReviewScreen(annotators)

    def on_mount(self) -> None:
        # AnnotateApp.on_mount runs too (Textual calls each class's handler).
        self.push_screen(self.review_screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MAIN_ONLY and self.screen is self.review_screen:
            return False
        return super().check_action(action, parameters)

    #: Help rows left out on the review screen: keys that do nothing there (the annotator
    #: screen's documents and list, suggestions, find) or that the review keys take over.
    HELP_HIDDEN: ClassVar[frozenset[str]] = frozenset({
        "reader.accept", "reader.reject", "reader.accept_all", "reader.find", "reader.next_match",
        "reader.previous_match", "reader.next_entity", "reader.previous_entity",
    })

    def action_help(self) -> None:
        """Every key of the review screen: its own first, then the reader's editing keys."""
        if self.screen is not self.review_screen:
            super().action_help()
            return
        extra = [("Review", list(Binding.make_bindings(ReviewScreen.BINDINGS)))]
        rows = [r for r in binding_rows(self.keymap, extra, self.labels)
                if r.section in ("Review", "Reader") and r.id not in self.HELP_HIDDEN
                or r.id in ("app.help", "app.quit")]
        rows.sort(key=lambda r: r.section != "Review")  # stable: each section keeps its order
        self.push_screen(HelpScreen(rows))


def run_review(store: Store, annotators: Sequence[str], keymap: dict[str, str] | None = None) -> None:
    """Run the review app; on quit print the session summary."""
    app = ReviewApp(store, annotators, keymap=keymap)
    try:
        app.run()
    finally:
        summary = app.summary or app.finish()
        if summary is not None:
            Console(markup=False, highlight=False).print(summary_line(summary))
