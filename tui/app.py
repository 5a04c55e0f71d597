"""The annotator app: composition and routing between the widgets and the store.

The store is injected (``AnnotateApp(store)``) and lives on the event-loop thread, where it
does the short, indexed work of one key press. Every decision is committed to the store
first (one transaction per action) and only then shown, from the change records the store
logged, so what the screen shows is already on disk. Opening a document (tokenising and
wrapping it), importing the seeds, exporting and refreshing suggestions run in thread
workers with their own connection (``store.reopen()``) and post typed messages back.
The in-loop model (retraining in a child process when a document is marked done, its
suggestions, the model's document order) is :class:`tui.model.ModelController`'s.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Console
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input
from textual.worker import get_current_worker

from annotations import ConnectionLost, Label, Store, StoreError, import_seeds, inert

from .doclist import DocList
from .findbar import FindBar
from .focus import focus_now
from .docmodel import DocModel
from .editor import Editor, Outcome
from .help import HelpScreen
from .keymap import APP_BINDINGS, binding_rows, label_clash
from .layout import DocumentLayout
from .messages import (
    DocumentLoaded,
    ExportFinished,
    LoadFailed,
    SeedsImported,
    SuggestionsRefreshed,
)
from .model import (
    CorpusSuggested,
    DocumentsRanked,
    ModelController,
    ModelFailed,
    ModelLoaded,
    ModelRetrained,
    ModelTraining,
)
from .palette import AnnotateCommands
from .prefetch import DocumentPrepared, Prefetcher, Prepared
from .queue import MINE_BINDING, Queue
from .reader import Reader
from .server import FIRST_DELAY, MAX_DELAY, ServerAway, ServerBack, Unsaved, needs_server, probe
from .statusbar import StatusBar
from .titlebar import DocTitle

__all__ = ["AnnotateApp", "run_app", "summary_line"]

#: Seconds without cursor movement after which the cursor position is saved.
CURSOR_SAVE_DELAY = 0.5

#: App actions that act on the open document or the list (off while the statistics are shown).
_DOCUMENT_ACTIONS = frozenset({"next_document", "mark", "undo", "redo", "search", "toggle_list", "focus_list"})

#: Terminals narrower than this start with the document list hidden (``ctrl+b`` shows it).
NARROW = 100

#: Seconds after a document is shown before the list highlights it.
LIST_FOLLOW_DELAY = 0.08


def _recogniser_refresh() -> Callable[[Store, int], Any] | None:
    """``annotations.recognisers.refresh_document`` if the library has it."""
    try:
        module = importlib.import_module("annotations.recognisers")
    except ImportError:
        return None
    return getattr(module, "refresh_document", None)


class AnnotateApp(App[None]):
    """Tag named entities in a corpus with the keyboard; every action saved at once.

    | Key(s) | Description |
    | :- | :- |
    | ], [ | Next / previous document. |
    | d | Mark done, open the next unfinished document. |
    | s | Mark skipped, open the next unfinished document. |
    | u, ctrl+z | Undo (any action, any document). |
    | ctrl+r, ctrl+y | Redo. |
    | ctrl+f | Search the documents (the list). |
    | ctrl+b | Collapse / expand the document list. |
    | ctrl+l | Focus the document list. |
    | g | Statistics: the dashboard's charts. |
    | m | Only your assigned documents, or all (with assignments). |
    | ? | Help: every key. |
    | ctrl+p | Command palette. |
    | q | Quit (prints the session summary). |
    """

    CSS_PATH = "app.tcss"
    TITLE = "annotate"
    #: Below 100 columns the screen is ``-narrow``: the list is narrower and starts hidden.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (NARROW, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [*APP_BINDINGS, MINE_BINDING]
    COMMANDS = App.COMMANDS | {AnnotateCommands}

    def __init__(
        self,
        store: Store,
        *,
        keymap: dict[str, str] | None = None,
        suggest: bool = True,
        seed_if_empty: bool = True,
        model: bool | None = None,
        order: str = "import",
    ) -> None:
        super().__init__()
        self.store = store
        self.editor = Editor(store)
        self.keymap = dict(keymap or {})
        self.suggest = suggest
        self.seed_if_empty = seed_if_empty
        #: The in-loop model (``model`` defaults to ``suggest``): retrains on ``d`` and from
        #: the palette, suggests, orders the list. ``None`` when turned off.
        self.model_loop: ModelController | None = (
            ModelController(self, order=order) if (suggest if model is None else model) else None
        )
        self.labels: list[Label] = []
        #: The session summary, set when the app quits.
        self.summary: dict[str, Any] | None = None
        self._serial = 0
        self._cursor_saved: tuple[int, int] | None = None
        self._last_move = 0.0
        #: List rows to update once the keys pause: doc id → (status, accepted spans).
        self._row_stale: dict[int, tuple[str, int]] = {}
        self._list_timer: Timer | None = None
        #: Keys pressed while a document opens, replayed once it is shown (``None``: not holding).
        self._held: list[events.Key] | None = []
        #: The document being read in a worker (``None``: none), and what the reader showed
        #: before it started opening, with its cursor offset (shown again if opening fails).
        self._loading: int | None = None
        self._before_open: tuple[Prepared, int | None] | None = None
        #: The likely next documents, prepared off the event loop.
        self.prefetch = Prefetcher(self, store)
        #: Label keys the reader's bindings do not cover (not 1-9): key → label name.
        self._label_keys: dict[str, str] = {}
        #: (document, spans accepted) of the last accept-all, until its suggestions are refreshed.
        self._accepted_all: tuple[int, int] | None = None
        # The widgets are kept (not queried) so every handler reaches them whichever
        # screen is on top, and so the cursor can still be saved while the app closes.
        self.doclist = DocList(self.list_documents, id="doclist")
        self.title_bar = DocTitle(id="title")
        self.reader = Reader(id="reader")
        self.status_bar = StatusBar(self.store.annotator, id="status")
        self.find_bar = FindBar(id="find")
        #: The annotator's assigned documents (``annotate assign``); empty: every document.
        self.queue = Queue(store)
        #: Why the database server is away (``None``: connected); see :mod:`tui.server`.
        self.server_lost: str | None = None
        #: The action that met the lost server, made again once it is back (if not committed).
        self.unsaved: Unsaved | None = None
        #: Whether the list asked for documents while the server was away (read again once back).
        self._list_refused = False

    # -- composition ---------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        """The main screen, ``#main`` (app.tcss lays it out; other screens keep their own layout)."""
        return Screen(id="main")

    def compose(self) -> ComposeResult:
        # Flat on purpose: the screen's grid places these without container widgets, so a
        # key press repaints fewer layers (see app.tcss).
        yield self.doclist
        yield self.title_bar
        yield self.reader
        yield self.status_bar
        yield self.find_bar
        yield Footer(id="footer", compact=True)

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        self.store.start_session()
        self.labels = self.store.labels()
        self._set_label_keys()
        self.reader.set_labels(self.labels)
        self.reader.requests_to = self._reader_request
        self.find_bar.done = self._find_done
        self.find_bar.redirect = self._reader_key
        self.reader.selection_signal.subscribe(self, self._show_selection)
        self.reader.scroll_signal.subscribe(self, self._show_page)
        self.status_bar.set_labels(self.labels)
        self.reader.focus()
        self.set_interval(CURSOR_SAVE_DELAY / 2, self._when_idle)
        self._toasts = 0
        self.set_interval(0.25, self._repaint_after_toast)
        if self.queue.assigned:
            self.doclist.set_mine(self.queue.ids, reload=False)
        if self.model_loop is not None:
            self.model_loop.start()
        if self.seed_if_empty and self.store.count_documents() == 0:
            self.reader.empty_message = "Importing the bundled seed documents…"
            self._import_seeds()
        else:
            self.call_after_refresh(self._start)

    @needs_server
    def _start(self) -> None:
        """Fill the list and open the saved cursor, else the first unfinished document."""
        self.doclist.reload()
        self._update_progress()
        saved = self.store.cursor()
        if saved is not None:
            self.open_document(*saved)
            return
        first = (self.queue.first() if self.queue.assigned else self.store.first_unfinished()) \
            or self.store.neighbour(0, 1)
        if first is None:
            self.reader.empty_message = "No documents. Import some with `annotate import FILE`."
            self.reader.refresh()
            self.call_later(self._release_keys)
        else:
            self.open_document(first)

    # -- workers -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="seeds", exit_on_error=False)
    def _import_seeds(self) -> None:
        try:
            with self.store.reopen() as store:
                report = import_seeds(store)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.post_message(SeedsImported(None, str(exc)))
        else:
            self.post_message(SeedsImported(report))

    def on_seeds_imported(self, message: SeedsImported) -> None:
        if message.error is not None or message.report is None:
            self.notify("Could not import the seeds: " + inert(message.error or ""), severity="error",
                        markup=False)
        else:
            self.notify(
                f"The database was empty: imported {message.report.added} bundled seed documents.",
                title="Seeds imported", markup=False, timeout=10,
            )
        self.reader.empty_message = ""
        self._start()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, serial: int, doc_id: int, offset: int | None, width: int, labels: list[Label]) -> None:
        try:
            with self.store.reopen() as store:
                document = store.document(doc_id)
            model = DocModel(document, labels)
            layout = DocumentLayout(model.text, width, model.chips)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.post_message(LoadFailed(serial, doc_id, str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(DocumentLoaded(serial, model, layout, offset))

    @needs_server
    def open_document(self, doc_id: int, offset: int | None = None) -> None:
        """Open a document, cursor on the word at ``offset``: at once if it was prepared ahead,
        else read and wrapped in a worker (keys pressed meanwhile are held, then replayed)."""
        self._save_cursor()
        self._serial += 1
        reader = self.reader
        current = reader.model
        if current is not None and current.doc_id != doc_id and reader.layout_now is not None:
            self.prefetch.put(Prepared(current, reader.layout_now))
        prepared = self.prefetch.take(doc_id, reader.wrap_width)
        if prepared is not None:
            prepared.model.status = self.store.status(doc_id)
            self._show_document(prepared, offset, spans_stale=True)
            return
        self._opening(doc_id)
        self._load(self._serial, doc_id, offset, reader.wrap_width, list(self.labels))

    def _opening(self, doc_id: int) -> None:
        """Show at once that another document is opening; hold keys until it is shown."""
        if self._held is None:
            self._held = []
        reader = self.reader
        self._loading = doc_id
        if reader.model is not None and reader.layout_now is not None:
            position = reader.position
            self._before_open = (Prepared(reader.model, reader.layout_now), position[1] if position else None)
        found = self.store.documents(ids=[doc_id], limit=1)
        title = found[0].title if found else f"document {doc_id}"
        if found:
            doc = found[0]
            self.title_bar.show(doc.title, doc.lang, doc.status, doc.entities, doc.suggestions)
        self.title_bar.page = None
        reader.empty_message = f"Opening «{inert(title)}»…"
        reader.show(None)

    def on_document_loaded(self, message: DocumentLoaded) -> None:
        if message.serial != self._serial:
            return
        self._show_document(Prepared(message.model, message.layout), message.offset)

    def _show_document(self, prepared: Prepared, offset: int | None, *, spans_stale: bool = False) -> None:
        """Show a read and wrapped document; then prepare its likely successors."""
        model = prepared.model
        self._before_open = None
        self._loading = None
        self.reader.empty_message = ""
        self.reader.show(model, offset, prepared.layout)
        if spans_stale:  # prepared a while ago: a suggestion run may have changed its spans
            self.reader.reload_spans(self.store.spans(model.doc_id))
        self._show_meta()
        # The list follows a moment later: redrawing the table would slow this frame.
        if self._list_timer is not None:
            self._list_timer.stop()
        self._list_timer = self.set_timer(LIST_FOLLOW_DELAY, self._follow_in_list)
        self._save_cursor()
        self.call_later(self._release_keys)
        self.prefetch.want(
            [self._neighbour(model.doc_id, 1), self._next_unfinished(model.doc_id),
             self._neighbour(model.doc_id, -1)],
            self.reader.wrap_width, self.labels,
        )

    def _follow_in_list(self) -> None:
        """Update the list's stale rows and highlight the open document there."""
        self._list_timer = None
        if not self.doclist.is_mounted or not self.doclist.children:  # the app is closing
            return
        self._update_row()
        if self.reader.doc_id is not None:
            self.doclist.table.highlight_doc(self.reader.doc_id)

    def on_document_prepared(self, message: DocumentPrepared) -> None:
        if message.prepared.doc_id != self.reader.doc_id:
            self.prefetch.put(message.prepared)

    def on_load_failed(self, message: LoadFailed) -> None:
        if message.serial != self._serial:
            return
        self.notify(f"Cannot open document {message.doc_id}: {inert(message.error)}",
                    severity="error", markup=False)
        before, self._before_open = self._before_open, None
        self._loading = None
        if before is not None:
            self._show_document(*before)
        else:
            self.reader.empty_message = f"Cannot open document {message.doc_id}."
            self.reader.refresh()
            self.call_later(self._release_keys)

    # -- keys pressed while a document opens; label keys other than 1-9 ----------------------------

    def _set_label_keys(self) -> None:
        """Label keys other than the digits the reader binds; a label on a key the app uses is named."""
        self._label_keys = {}
        for label in self.labels:
            if not label.key:
                continue
            clash = label_clash(label.key, self.keymap)
            if clash is not None:
                self.notify(
                    f"Label {inert(label.name)} cannot be used: its key {inert(label.key)} is also {clash}."
                    f" Give it another: annotate labels edit {inert(label.name)} --key K",
                    severity="warning", markup=False, timeout=15,
                )
            elif not (len(label.key) == 1 and label.key in "123456789"):
                self._label_keys[label.key] = label.name

    async def on_event(self, event: events.Event) -> None:
        """A key for the reader does all its work in this turn of the app's queue.

        Textual posts a key to the focused widget's queue and runs its binding when it has
        bubbled back here, so keys arriving together (a held key, keys pasted or sent in one
        SSH packet) are all forwarded before the first one's action runs: the letters after
        ``/`` went to the reader (an ``s`` skipped the document), not to the find box the ``/``
        opened. The reader has no key handlers of its own, only bindings, which run here now.
        """
        try:
            if (isinstance(event, events.Key) and not event.is_forwarded and self.focused is self.reader
                    and self.screen.id == "main"):
                self.app_focus = True
                if not await self._check_bindings(event.key, priority=True):
                    await self._reader_key(event)
                return
            await super().on_event(event)
        except ConnectionLost as exc:  # a store call not guarded by its handler: no traceback
            self.server_gone(exc)

    # -- a lost database server (see tui/server.py) --------------------------------------------------

    def server_gone(self, exc: BaseException, unsaved: Unsaved | None = None) -> None:
        """The server went away: say so, show the action that met it as not saved, retry."""
        if unsaved is not None and self.unsaved is None:
            self.unsaved = unsaved
        first = self.server_lost is None
        self.server_lost = str(exc)
        self._show_unsaved("lost the server, retrying")
        if first:
            what = f" «{self.unsaved.what}» was not saved: it is saved again once the server is back." \
                if self.unsaved is not None else ""
            self.notify(
                inert(str(exc)) + "." + inert(what) + " Retrying in the background; keys keep working.",
                title="Lost the database server", severity="error", timeout=10, markup=False,
            )
            self._reconnect()

    def _show_unsaved(self, state: str) -> None:
        unsaved = self.unsaved
        self.status_bar.saved = (f"not saved: {unsaved.what}" if unsaved is not None else "not connected") \
            + " · " + state

    def list_documents(self, **query: Any) -> list[Any]:
        """:meth:`Store.documents` for the list and the palette: none while the server is away
        (the list is read again once it is back)."""
        if self.server_lost is None:
            try:
                return self.store.documents(**query)
            except ConnectionLost as exc:
                self.server_gone(exc)
        self._list_refused = True
        return []

    def refuse_offline(self, what: str | None = None) -> None:
        """An action while the server is away: refused at once, and said so."""
        self.notify(
            ("Not saved: " + inert(what) + ". " if what else "")
            + "The database server is away (retrying in the background): do it again once it is back.",
            severity="warning", timeout=4, markup=False,
        )

    #: Seconds before the first reconnection attempt, and the most between two (doubling).
    RECONNECT_DELAYS: ClassVar[tuple[float, float]] = (FIRST_DELAY, MAX_DELAY)

    @work(thread=True, exclusive=True, group="reconnect", exit_on_error=False)
    def _reconnect(self) -> None:
        first, most = self.RECONNECT_DELAYS
        probe(self.post_message, self.store, first_delay=first, max_delay=most)

    def on_server_away(self, message: ServerAway) -> None:
        if self.server_lost is not None:
            self._show_unsaved(f"retry {message.attempt + 1} in {message.retry_in:g} s")

    def on_server_back(self, message: ServerBack) -> None:
        """Carry on over the new connection; the unsaved action: made again, or shown as it was saved."""
        if self.server_lost is None:  # pragma: no cover - only one probe runs at a time
            message.store.close()
            return
        self.store.adopt(message.store)
        self.server_lost = None
        unsaved, self.unsaved = self.unsaved, None
        try:
            last = self.store.session_last_event()
        except ConnectionLost as exc:  # gone again already
            self.unsaved = unsaved
            self.server_gone(exc)
            return
        committed = unsaved is not None and last > unsaved.seen_event
        self.status_bar.saved = "saved"
        if unsaved is None:
            note = "Nothing was lost."
        elif committed:
            # The commit reached the server before the connection broke: show what it saved.
            note = f"«{unsaved.what}» had been saved after all."
        elif unsaved.again is None:
            note = f"«{unsaved.what}» was not saved: make it again."
        else:
            note = f"Saving «{unsaved.what}» now, which had not been saved."
        self.notify(inert(f"Connected to {self.store.url} again. {note}"), title="Server back",
                    timeout=6, markup=False)
        if unsaved is not None and not committed and unsaved.again is not None:
            unsaved.again()
        else:
            self.reload_current_spans()
        if self.server_lost is None:
            self._update_progress()
            self._save_cursor()
        if self.server_lost is None and self._list_refused:
            self._list_refused = False
            self.doclist.reload()

    async def _reader_key(self, event: events.Key) -> None:
        """Hold the key while a document opens, else run its label key or binding now."""
        if self._held is not None:
            self._held.append(event)
        elif not self._label_key(event):
            await App._on_key(self, event)

    def on_key(self, event: events.Key) -> None:
        """Hold keys for the main screen while a document opens (they would act on no document);
        give labels on keys other than 1-9."""
        if self.screen.id != "main" or isinstance(self.focused, Input):
            return
        if self._held is not None:
            self._held.append(event)
            event.prevent_default()
        elif self._label_key(event):
            event.prevent_default()

    def _label_key(self, event: events.Key) -> bool:
        name = self._label_keys.get(event.character or "")
        if name is None or self.focused is not self.reader:
            return False
        self.reader.request_label(name=name)
        return True

    async def _release_keys(self) -> None:
        """Replay the held keys in order; stop holding again if one of them opens another document."""
        if self._held is None or self._loading is not None:
            return
        held, self._held = self._held, None
        while held:
            event = held.pop(0)
            if not self._label_key(event):
                await App._on_key(self, event)
            if self._held is not None:  # that key started opening a document
                self._held[:0] = held
                return

    # -- showing state ---------------------------------------------------------------------------

    def _show_meta(self, *, list_now: bool = False) -> None:
        """Title bar now; the document's row in the list now or once the keys pause.

        Redrawing the table costs a few milliseconds, so after an action it waits for the
        next pause (:meth:`_when_idle`) rather than slow the frame that shows the action.
        """
        model = self.reader.model
        if model is None:
            return
        spans = model.spans
        self.title_bar.show(model.title, model.lang, model.status, spans.accepted, spans.pending)
        self._row_stale[model.doc_id] = (model.status, spans.accepted)
        if list_now:
            self._update_row()

    def _update_row(self) -> None:
        stale, self._row_stale = self._row_stale, {}
        for doc_id, (status, entities) in stale.items():
            self.doclist.table.update_doc(doc_id, status, entities)

    @needs_server
    def _update_progress(self) -> None:
        if self.queue.assigned:
            self.status_bar.progress = self.queue.progress()
            return
        progress = self.store.progress()
        self.status_bar.progress = (progress["done"], progress["total"])

    def _show_outcome(self, outcome: Outcome, *, move_cursor: bool = False) -> None:
        """Show a committed action: update the open document, or open the one it touched."""
        reader = self.reader
        if outcome.doc_id is not None and outcome.doc_id != reader.doc_id:
            self.open_document(outcome.doc_id, outcome.focus)
        elif outcome.action == "reload" and reader.doc_id is not None:
            reader.reload_spans(self.store.spans(reader.doc_id))
        else:
            reader.apply_changes(outcome.changes, self.editor.fetch_span)
            if move_cursor and outcome.focus is not None:
                reader.move_to_offset(outcome.focus)
        if outcome.status_changed:
            self._update_progress()
        self._show_meta()
        self._last_move = time.monotonic()
        self.status_bar.saved = "saved"

    def _commit(self, action: Callable[[], Outcome | None], what: str = "the last action",
                again: Callable[[], None] | None = None) -> Outcome | None:
        """Run one store action; a refusal is shown, never raised. ``what`` names the action
        and ``again`` makes it again (once the server is back, if it was lost meanwhile)."""
        if self.server_lost is not None:
            self.refuse_offline(what)
            return None
        seen = self.store.last_logged
        try:
            outcome = action()
        except ConnectionLost as exc:
            self.server_gone(exc, Unsaved(what, again, seen))
            return None
        except StoreError as exc:
            self.notify(inert(str(exc)), severity="warning", markup=False)
            return None
        except Exception as exc:  # noqa: BLE001 - e.g. sqlite3.OperationalError: keep the app alive
            self.status_bar.saved = "not saved"
            self.notify("Not saved: " + inert(str(exc)), severity="error", markup=False)
            return None
        return outcome

    # -- reader decisions --------------------------------------------------------------------------

    def _reader_request(self, message: Message) -> None:
        """The reader's decisions and requests, handled in the turn of the key that made them:
        posted as messages they would run after the keys already queued behind it, and a ``d``
        or ``]`` there would open another document first (the label was then dropped)."""
        if isinstance(message, Reader.LabelRequested):
            self._label(message)
        elif isinstance(message, Reader.SpanRequested):
            self._span_command(message)
        elif isinstance(message, Reader.AcceptAllRequested):
            self._accept_all(message)
        elif isinstance(message, Reader.FindRequested):
            self._open_find()
        elif isinstance(message, Reader.NothingToClear):
            self._clear_list_filter()
        else:  # pragma: no cover - every request the reader makes is above
            self.post_message(message)

    def _label_named(self, key: str | None, name: str | None) -> Label | None:
        for label in self.labels:
            if (name is not None and label.name == name) or (name is None and label.key == key):
                return label
        return None

    @on(Reader.LabelRequested)
    def _label(self, message: Reader.LabelRequested) -> None:
        if message.doc_id != self.reader.doc_id:
            return
        label = self._label_named(message.key, message.name)
        if label is None:
            self.notify(f"No label on key {inert(message.key or '')}.", severity="warning", markup=False)
            return
        span = message.span
        if span is not None and span.state == "accepted" and span.label == label.name:
            self.reader.clear_selection()
            return
        where = (span.start, span.end) if span is not None else (message.start, message.end)
        what = f"{label.name} on «{self._quote(*where)}»"
        again = lambda: self._label(message)  # noqa: E731
        if span is not None:
            outcome = self._commit(lambda: self.editor.relabel(span.id, label.name), what, again)
        else:
            outcome = self._commit(
                lambda: self.editor.label(message.doc_id, message.start, message.end, label.name), what, again
            )
        if outcome is not None:
            self._decided(outcome)

    def _quote(self, start: int, end: int) -> str:
        """The open document's text from ``start`` to ``end``, on one line, cut to 30 characters."""
        model = self.reader.model
        text = " ".join(model.text[start:end].split()) if model is not None else ""
        return text if len(text) <= 30 else text[:29] + "…"

    @on(Reader.SpanRequested)
    def _span_command(self, message: Reader.SpanRequested) -> None:
        if message.doc_id != self.reader.doc_id:
            return
        action = {"accept": self.editor.accept, "reject": self.editor.reject, "delete": self.editor.delete}
        span = message.span
        outcome = self._commit(lambda: action[message.command](span.id),
                               f"{message.command} {span.label} «{self._quote(span.start, span.end)}»",
                               lambda: self._span_command(message))
        if outcome is not None:
            if message.command == "accept":
                self._decided(outcome)
            else:
                self._show_outcome(outcome)
                self._save_cursor()
                if message.command == "delete" and outcome.doc_id is not None:
                    # What propagation found from the removed span goes with it.
                    self._after_decision(outcome.doc_id)

    @on(Reader.AcceptAllRequested)
    def _accept_all(self, message: Reader.AcceptAllRequested) -> None:
        if message.doc_id == self.reader.doc_id:
            outcome = self._commit(lambda: self.editor.accept_all(message.doc_id), "accept all",
                                   lambda: self._accept_all(message))
            if outcome is not None:
                accepted = sum(1 for ch in outcome.changes
                               if ch["op"] == "update" and ch["after"].get("state") == "accepted")
                self._accepted_all = (message.doc_id, accepted)
                self._decided(outcome)

    def _decided(self, outcome: Outcome) -> None:
        """A label or accept was committed: show it, clear the selection, save the cursor."""
        self._show_outcome(outcome)
        self.reader.clear_selection()
        self._save_cursor()
        if outcome.doc_id is not None:
            self._after_decision(outcome.doc_id)

    def _after_decision(self, doc_id: int) -> None:
        """Hook run after every label/accept decision: refresh the document's suggestions.

        When the library has ``annotations.recognisers.refresh_document(store, doc_id)``,
        it runs in a worker; the reader then reloads the document's spans from the store.
        """
        if self.suggest and _recogniser_refresh() is not None:
            self._refresh_suggestions(doc_id)
        if self.model_loop is not None:
            # The model's suggestions too, in its child process (its lexicon feature grew).
            self.model_loop.request_refresh(doc_id)

    @work(thread=True, exclusive=True, group="suggest", exit_on_error=False)
    def _refresh_suggestions(self, doc_id: int) -> None:
        refresh = _recogniser_refresh()
        if refresh is None:  # pragma: no cover - checked by the caller
            return
        try:
            with self.store.reopen() as store:
                added = refresh(store, doc_id)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.post_message(SuggestionsRefreshed(doc_id, 0, str(exc)))
            return
        self.post_message(SuggestionsRefreshed(doc_id, added if isinstance(added, int) else 0))

    def on_suggestions_refreshed(self, message: SuggestionsRefreshed) -> None:
        accepted_all, self._accepted_all = self._accepted_all, None
        if message.error is not None:
            self.notify("Suggestions failed: " + inert(message.error), severity="warning", markup=False)
        elif message.doc_id == self.reader.doc_id:
            self.reload_current_spans()
            model = self.reader.model
            if accepted_all is not None and accepted_all[0] == message.doc_id and model is not None:
                self._after_accept_all(accepted_all[1], model.spans.pending)

    def _after_accept_all(self, accepted: int, pending: int) -> None:
        """Say what an accept-all left: propagation suggests from the spans it accepted."""
        if pending:
            self.notify(
                f"Accepted {accepted}. From them propagation found {pending} new suggestion"
                f"{'' if pending == 1 else 's'} here (e.g. other case endings): press A to accept"
                f" {'it' if pending == 1 else 'them'} too, or tab to review.",
                title="Accept all", timeout=8, markup=False,
            )

    @needs_server
    def reload_current_spans(self) -> None:
        """Read the open document's spans from the store again and redraw what differs."""
        doc_id = self.reader.doc_id
        if doc_id is not None:
            self.reader.reload_spans(self.store.spans(doc_id))
            self._show_meta()

    # -- finding text in the document; escape clears the list's filter --------------------------------

    @on(Reader.FindRequested)
    def _open_find(self) -> None:
        self.find_bar.open(self.reader.find_text)

    @on(Input.Submitted, "#find")
    def _find(self, event: Input.Submitted) -> None:
        event.stop()
        self._find_done(event.value)

    def _find_done(self, text: str | None) -> None:
        """Enter (``text``) or escape (``None``) in the find box: close it, find, back to the reader."""
        self.find_bar.close()
        focus_now(self.reader)
        if text is None:
            return
        text = text.strip()
        if self.reader.find(text) == 0 and text:
            self.notify(f"No match for «{inert(text)}» in this document.", timeout=2, markup=False)

    @on(FindBar.Closed)
    def _find_closed(self) -> None:
        focus_now(self.reader)

    @on(Reader.NothingToClear)
    def _clear_list_filter(self) -> None:
        if self.doclist.clear_filters():
            self.notify("List filter cleared: every document is listed.", timeout=2, markup=False)

    def label_with(self, name: str) -> None:
        """Give the selection (or the span or word under the cursor) the label ``name``."""
        self.reader.request_label(name=name)

    # -- cursor persistence --------------------------------------------------------------------------

    def _show_selection(self, selection: str | None) -> None:
        self.status_bar.suggestion = self.reader.suggestion_note()
        self.status_bar.selection = selection

    def _show_page(self, page: tuple[int, int]) -> None:
        self.title_bar.page = page

    def _save_cursor(self) -> None:
        """Save the cursor now (on every action, on document change and on quit)."""
        cursor = self.reader.position
        if self.server_lost is not None:
            return  # saved once the server is back (it is still not the saved one)
        if cursor is not None and cursor != self._cursor_saved:
            try:
                self.store.save_cursor(*cursor)
            except ConnectionLost as exc:
                self.server_gone(exc)
                return
            except Exception as exc:  # noqa: BLE001 - keep working; the next save may succeed
                self.status_bar.saved = "cursor not saved"
                self.log.warning(f"cursor not saved: {exc}")
                return
            self._cursor_saved = cursor

    def _when_idle(self) -> None:
        """Every quarter second: once the keys have paused, save the cursor and update the list row."""
        if time.monotonic() - max(self._last_move, self.reader.moved_at) >= CURSOR_SAVE_DELAY:
            self._save_cursor()
            self._update_row()

    # -- app actions -----------------------------------------------------------------------------------

    @needs_server
    def action_next_document(self, step: int) -> None:
        doc_id = self.reader.doc_id
        if doc_id is None:
            return
        target = self._neighbour(doc_id, step)
        if target is None:
            self.notify("This is the " + ("last" if step > 0 else "first") + " document"
                        + (" assigned to you." if self.doclist.mine_only else "."), timeout=2)
        else:
            self.open_document(target)

    def action_mark(self, status: str) -> None:
        """Set the open document's status and go to the next unfinished one."""
        doc_id = self.reader.doc_id
        if doc_id is None:
            return
        outcome = self._commit(lambda: self.editor.set_status(doc_id, status), f"marked {status}",
                               lambda: self.action_mark(status))
        if outcome is not None:
            self._after_mark(doc_id, status, outcome)

    @needs_server
    def _after_mark(self, doc_id: int, status: str, outcome: Outcome) -> None:
        self._show_outcome(outcome)
        self._save_cursor()
        if status == "done" and self.model_loop is not None:
            self.model_loop.request_retrain("done")
        target = self._next_unfinished(doc_id)
        if target is None or target == doc_id:
            mine = self.queue.assigned and self.doclist.mine_only
            self.notify("Every document " + ("assigned to you " if mine else "") + "is done or skipped.",
                        title="All done")
        else:
            self.open_document(target)

    def _neighbour(self, doc_id: int, step: int) -> int | None:
        """The next / previous document in import order: of the annotator's queue while the list shows it."""
        if self.queue.assigned and self.doclist.mine_only:
            return self.queue.neighbour(doc_id, step)
        return self.store.neighbour(doc_id, step)

    def _next_unfinished(self, doc_id: int) -> int | None:
        """The next todo document in the list's order (import order unless the model's)."""
        ranking = self.doclist.ranking
        if self.queue.assigned and self.doclist.mine_only:
            return self.queue.next_unfinished(doc_id, ranking)
        if ranking:
            at = self.doclist.position(doc_id)
            start = 0 if at is None else at + 1
            for candidate in ranking[start:] + ranking[:start]:
                if candidate != doc_id and self.store.status(candidate) == "todo":
                    return candidate
        return self.store.first_unfinished(after=doc_id)

    def set_status_only(self, status: str) -> None:
        """Set the open document's status and stay on it."""
        doc_id = self.reader.doc_id
        if doc_id is not None:
            outcome = self._commit(lambda: self.editor.set_status(doc_id, status), f"marked {status}",
                                   lambda: self.set_status_only(status))
            if outcome is not None:
                self._show_outcome(outcome)

    def _history(self, step: Callable[[], Outcome | None], what: str) -> None:
        if self.server_lost is not None:
            self.refuse_offline(what)
            return
        lost = self.unsaved
        outcome = self._commit(step, what, lambda: self._history(step, what))
        if outcome is None:
            if self.server_lost is None and self.unsaved is lost:  # not a lost server: a refusal
                self.notify(f"Nothing to {what}.", timeout=2)
            return
        # One span: the cursor goes to it. Many (an accept-all): the view stays where it was.
        spans = sum(1 for ch in outcome.changes if ch["op"] != "status")
        self._show_outcome(outcome, move_cursor=spans == 1)
        self._save_cursor()
        if spans and outcome.doc_id is not None:
            # The suggestions follow the spans undone or redone (propagation's from a removed
            # label go, those from a restored one come back).
            self._after_decision(outcome.doc_id)

    def action_undo(self) -> None:
        self._history(self.editor.undo, "undo")

    def action_redo(self) -> None:
        self._history(self.editor.redo, "redo")

    def _repaint_after_toast(self) -> None:
        """Repaint the screen once a notification has gone: the reader draws its lines ahead
        (off Textual's per-line restyling), and without this the area under an expired toast
        kept the toast's last frame until something else redrew it."""
        if not self.is_running or not self._screen_stack:
            return  # starting or shutting down: no screen to repaint
        toasts = len(self.screen.query("Toast"))
        if toasts < self._toasts:
            self.screen.refresh(layout=True)
        self._toasts = toasts

    @property
    def list_shown(self) -> bool:
        """Whether the document list is expanded (by default: on a wide screen, not on a narrow one)."""
        screen = self.reader.screen
        if screen.has_class("-narrow"):
            return screen.has_class("-list-expanded")
        return not screen.has_class("-list-collapsed")

    def show_list(self, shown: bool = True) -> None:
        """Expand or collapse the document list (the reader takes the whole width)."""
        self.reader.screen.set_class(not shown, "-list-collapsed")
        self.reader.screen.set_class(shown, "-list-expanded")
        if not shown and self.focused is not None and self.doclist in self.focused.ancestors_with_self:
            focus_now(self.reader)

    def action_search(self) -> None:
        self.show_list()
        self.doclist.start_search()

    def action_toggle_mine(self) -> None:
        """Show only the documents assigned to the annotator ("mine"), or all of them."""
        self.show_list()
        self.doclist.set_mine(None if self.doclist.mine_only else self.queue.ids)

    def action_toggle_list(self) -> None:
        self.show_list(not self.list_shown)

    def action_focus_list(self) -> None:
        self.show_list()
        focus_now(self.doclist.table)

    def filter_documents(self, status: str | None) -> None:
        self.show_list()
        self.doclist.status_filter = status

    def action_help(self) -> None:
        extra = [("Textual", [b for b in Binding.make_bindings(App.BINDINGS) if not b.system])]
        if self.queue.assigned:
            extra.insert(0, ("Your queue", [MINE_BINDING]))
        self.push_screen(HelpScreen(binding_rows(self.keymap, extra, self.labels)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The document keys do nothing on the statistics screen and the served app's name
        prompt (they would act unseen, or before anyone is named)."""
        if action in _DOCUMENT_ACTIONS and self.screen.id in ("stats", "name"):
            return False
        if action == "toggle_mine":
            return self.queue.assigned
        return super().check_action(action, parameters)

    def action_stats(self) -> None:
        """Open the statistics screen (charts over the whole database)."""
        from .stats_screen import StatsScreen

        self.push_screen(StatsScreen(self.store))

    def on_doc_list_opened(self, message: DocList.Opened) -> None:
        self.open_document(message.doc_id)
        focus_now(self.reader)

    def on_doc_list_left(self, message: DocList.Left) -> None:
        focus_now(self.reader)

    def set_keymap(self, keymap: dict[str, str]) -> None:  # type: ignore[override]
        self.keymap = dict(keymap)
        super().set_keymap(keymap)

    # -- the model in the loop ----------------------------------------------------------------------------

    def retrain_model(self) -> None:
        """Retrain the model now, in the background (the palette's "Retrain model")."""
        if self.model_loop is None:
            self.notify("The model is off in this session.", severity="warning", markup=False)
            return
        self.model_loop.request_retrain("palette")

    def order_documents(self, by: str) -> None:
        """Order the document list by import, model uncertainty or predicted entities."""
        if self.model_loop is None:
            self.notify("The model is off in this session: the list stays in import order.",
                        severity="warning", markup=False)
            return
        self.model_loop.request_order(by)
        if by == "import":
            self.doclist.set_order("import")
            self.doclist.table.highlight_doc(self.reader.doc_id or 0)
        else:
            self.notify(f"Ordering the documents: {by} (the model ranks them in the background)…",
                        timeout=2, markup=False)

    def show_model_state(self) -> None:
        """Say what the model learned from and how well it does (a notification)."""
        loop = self.model_loop
        st = loop.state if loop is not None else None
        if st is None:
            self.notify("No model yet: mark a document done (d) or run Retrain model.", title="Model",
                        markup=False)
            return
        lines = [
            (f"Learned from {st.documents} labelled document(s): {st.sentences} sentences,"
             f" {st.tokens} tokens; labels {', '.join(st.labels) or '–'}."),
            f"Last retrain {st.trained_at} ({st.seconds:.2f} s, {st.iterations} iterations).",
        ]
        if st.held_out:
            o = st.held_out["overall"]
            lines.append(
                f"Held out ({st.held_out_documents} document(s) labelled after the model that"
                f" tagged them): P {o['precision']:.2f} R {o['recall']:.2f} F1 {o['f1']:.2f}."
            )
        else:
            lines.append("Held-out F1: not measured yet (it scores documents labelled after a retrain).")
        self.notify(inert("\n".join(lines), keep_newlines=True), title="Model", timeout=10, markup=False)

    def _show_model(self) -> None:
        if self.model_loop is not None:
            self.status_bar.model = self.model_loop.status_text()

    def on_model_loaded(self, message: ModelLoaded) -> None:
        self._show_model()

    def on_model_training(self, message: ModelTraining) -> None:
        self._show_model()

    def on_model_retrained(self, message: ModelRetrained) -> None:
        self._show_model()

    def on_model_failed(self, message: ModelFailed) -> None:
        self._show_model()
        what = {"retrain": "Retraining", "rank": "Ordering the documents", "corpus": "Suggesting",
                "refresh": "Suggesting", "load": "Loading the model",
                "warm": "Starting the model"}.get(message.stage, message.stage)
        self.notify(f"{what} failed: {inert(message.error)}", severity="warning", markup=False)

    def on_documents_ranked(self, message: DocumentsRanked) -> None:
        if message.notice:
            self.notify(inert(message.notice), title="Document order", markup=False)
        loop = self.model_loop
        if message.order is None or loop is None or loop.order != message.by:
            return
        self.doclist.set_order(message.by, message.order)
        if self.reader.doc_id is not None:
            self.doclist.table.highlight_doc(self.reader.doc_id)

    def on_corpus_suggested(self, message: CorpusSuggested) -> None:
        self.reload_current_spans()

    # -- export -------------------------------------------------------------------------------------------

    def export_path(self, fmt: str) -> Path:
        """Where the palette's export writes: next to the database, named for the annotator."""
        suffix = {"jsonl": ".jsonl", "spacy": ".spacy", "conll": ".conll", "hf": ".hf.jsonl", "brat": ".brat"}
        stem = f"{self.store.path.stem}.{self.store.annotator}"
        return self.store.path.parent / f"{stem}{suffix.get(fmt, '.' + fmt)}"

    def export(self, fmt: str) -> None:
        self.notify(f"Exporting done documents as {fmt}…", timeout=2, markup=False)
        self._export(fmt, self.export_path(fmt))

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, fmt: str, path: Path) -> None:
        try:
            from annotations.formats import Selection, run_export

            with self.store.reopen() as store:
                stats = run_export(store, fmt, Selection(status="done", annotator=store.annotator), path)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.post_message(ExportFinished(path, fmt, error=str(exc)))
            return
        self.post_message(ExportFinished(path, fmt, stats.records, stats.spans))

    def on_export_finished(self, message: ExportFinished) -> None:
        if message.error is not None:
            self.notify(f"Export failed: {inert(message.error)}", severity="error", markup=False)
        else:
            self.notify(
                f"Exported {message.records} document(s), {message.spans} span(s) to {inert(str(message.path))}",
                title="Export done", markup=False,
            )

    # -- quitting -------------------------------------------------------------------------------------------

    def finish(self) -> dict[str, Any] | None:
        """Save the cursor and end the session (once); returns the session summary."""
        self._save_cursor()
        if self.server_lost is not None:  # the session's end cannot be saved: it stays open
            return self.summary
        try:
            summary = self.store.end_session()
        except ConnectionLost as exc:
            self.server_lost = str(exc)
            return self.summary
        if summary is not None:
            self.summary = summary
        return self.summary

    async def action_quit(self) -> None:
        self.finish()
        self.exit()

    def on_unmount(self) -> None:
        if self._list_timer is not None:
            self._list_timer.stop()
        self.finish()
        if self.model_loop is not None:
            self.model_loop.close()


def summary_line(summary: dict[str, Any]) -> str:
    """``Session: 1 document done, 4 spans added in 3.5 minutes (1.1 entities/minute).``"""
    done = summary["documents_done"]
    spans = summary["spans_added"]
    return (
        f"Session: {done} document{'' if done == 1 else 's'} done, {spans} span{'' if spans == 1 else 's'}"
        f" added in {summary['minutes']:.1f} minutes ({summary['entities_per_minute']:.1f} entities/minute)."
    )


def run_app(store: Store, keymap: dict[str, str] | None = None, order: str = "import") -> None:
    """Run the app on ``store`` (documents listed in ``order``); on quit print the session summary."""
    app = AnnotateApp(store, keymap=keymap, order=order)
    try:
        app.run()
    finally:
        summary = app.summary or app.finish()
        if summary is not None:
            Console(markup=False, highlight=False).print(summary_line(summary))
        elif app.server_lost is not None:
            unsaved = f" «{app.unsaved.what}» was not saved." if app.unsaved is not None else ""
            Console(markup=False, highlight=False, stderr=True).print(
                f"annotate: {app.server_lost}.{unsaved} Everything before it is saved.")
