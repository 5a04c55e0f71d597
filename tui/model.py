"""The app's model loop: retrain the CRF as documents are marked done, suggest, rank.

:class:`ModelController` belongs to the app and runs one thread worker at a time (group
``model``) that works through what was asked of it, most urgent first:

1. **load** (at start-up): the state of the annotator's saved model
   (``<db>.models/<annotator>/``, see :mod:`annotations.recognisers.crf`) for the status bar;
2. **retrain** (after ``d`` and from the palette); the child saves the new model;
3. **refresh**: the model's suggestions for the open document — right after a retrain,
   and after each decision (the propagation lexicon, one of its features, just grew);
4. **rank** (when the list is ordered by uncertainty or predicted entities);
5. **corpus**: propagation and the model over the other todo documents, stored batch by
   batch, resumed where it stopped if something more urgent came first;
6. **warm** (after loading): start the child, which takes up the saved model (so it
   suggests and ranks before the first retrain) and reads the labelled documents and
   computes their features, so the session's first retrain is as fast as the later ones.

Everything runs in a :class:`TrainingProcess` child, the propagation lexicon the model
uses as a feature included, and this process never even opens a model (only its state):
python-crfsuite holds the GIL while it trains, loads and tags, so in a thread of this
process it would stall the event loop (a key press waits for the GIL); the worker thread
only waits on a pipe. A retrain or
refresh asked for during a ranking or a corpus pass stops them at their next batch (they
go on afterwards), and requests that arrive while the worker is busy are coalesced (ten
``d`` presses during a retrain give one more retrain, not ten). Results come back as the
typed messages below; the app's handlers update the widgets. Nothing here ever waits on
the event loop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from multiprocessing import resource_tracker
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from annotations import Store
from annotations.recognisers.crf import (
    MIN_SCORE,
    ORDERS,
    load_state,
    rank_job,
    refresh_job,
    retrain_job,
    suggest_corpus_job,
    todo_ids,
    warm_job,
)

from .messages import SuggestionsRefreshed

# ``annotations.model`` (python-crfsuite, the training code) is imported on first use, in
# the worker thread, so the app starts as fast without it.
if TYPE_CHECKING:  # pragma: no cover
    from annotations.model import ModelState, TrainingProcess
    from annotations.recognisers import RunReport

    from .app import AnnotateApp

__all__ = [
    "ORDERS",
    "CorpusSuggested",
    "DocumentsRanked",
    "ModelController",
    "ModelFailed",
    "ModelLoaded",
    "ModelRetrained",
    "ModelTraining",
]

#: ``factory(db_path, annotator) -> TrainingProcess`` (tests pass their own).
TrainerFactory = Callable[[Path, str], "TrainingProcess"]


class ModelLoaded(Message):
    """A model saved earlier was loaded at start-up."""

    def __init__(self, state: ModelState) -> None:
        super().__init__()
        self.state = state


class ModelTraining(Message):
    """A retrain started in the child process (``reason``: ``done`` or ``palette``)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ModelRetrained(Message):
    """A retrain finished: the new model's state and the seconds it took, as seen here."""

    def __init__(self, state: ModelState, seconds: float, reason: str) -> None:
        super().__init__()
        self.state = state
        self.seconds = seconds
        self.reason = reason


class ModelFailed(Message):
    """A step of the loop failed (``stage``: load, retrain, rank, corpus); ``error`` says why."""

    def __init__(self, stage: str, error: str) -> None:
        super().__init__()
        self.stage = stage
        self.error = error


class DocumentsRanked(Message):
    """The documents in ``by`` order (``order``: every document id), or ``None`` with a
    ``notice`` when there is no model to rank with yet."""

    def __init__(self, by: str, order: list[int] | None, figures: dict[int, tuple[float, int]],
                 notice: str | None = None) -> None:
        super().__init__()
        self.by = by
        self.order = order
        self.figures = figures
        self.notice = notice


class CorpusSuggested(Message):
    """The background pass over the other todo documents finished (or was cancelled)."""

    def __init__(self, report: RunReport) -> None:
        super().__init__()
        self.report = report


def _default_trainer(db_path: Path, annotator: str) -> TrainingProcess:
    from annotations.model import TrainingProcess

    return TrainingProcess(db_path, annotator)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker now, before the app runs.

    A spawned child needs it, and it starts by passing ``sys.stderr.fileno()`` to its own
    process — which fails once Textual has replaced ``sys.stderr`` with its print capture
    (whose ``fileno()`` is -1). Started here, while stderr is still the real one, it is
    running already when the first retrain spawns the training child.
    """
    with contextlib.suppress(Exception):  # if it persists, the first retrain reports it
        resource_tracker.ensure_running()


class ModelController:
    """Retrains, suggests with and ranks by the in-loop model for one app (see the module)."""

    def __init__(
        self,
        app: AnnotateApp,
        *,
        order: str = "import",
        min_score: float = MIN_SCORE,
        trainer_factory: TrainerFactory = _default_trainer,
    ) -> None:
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}: use one of {', '.join(ORDERS)}")
        self.app = app
        self.db_path = app.store.path  # beside which the models live
        #: What another connection (the worker thread, the training child) opens: the file, or the
        #: PostgreSQL URL (``store.path`` names no database there).
        self.db_location = app.store.location
        self.annotator = app.store.annotator
        self.min_score = min_score
        self.trainer_factory = trainer_factory
        #: The latest model's state (set by the worker thread; read anywhere). The model
        #: itself lives in the child process (and on disk).
        self.state: ModelState | None = None
        #: The order the document list should follow (``import`` needs no model).
        self.order = order
        #: True while a retrain runs in the child.
        self.training = False
        #: Retrains finished in this session.
        self.retrains = 0
        #: What the last background pass over the corpus did.
        self.last_corpus: RunReport | None = None
        self.trainer: TrainingProcess | None = None
        self._lock = threading.Lock()
        self._want: dict[str, Any] = {}
        self._running = False
        self._current: str | None = None
        self._closed = False
        _start_resource_tracker()

    # -- asked on the event loop -----------------------------------------------------------

    def start(self) -> None:
        """Load the saved model (and rank, if an order was asked for) in the background."""
        self._ask("load", True)
        if self.order != "import":
            self._ask("rank", self.order)

    def request_retrain(self, reason: str = "palette") -> None:
        """Retrain soon: now if idle, else right after the retrain running (coalesced)."""
        self._ask("retrain", reason)

    def request_refresh(self, doc_id: int) -> None:
        """Refresh the model's suggestions for ``doc_id`` (once there is a model)."""
        if self.state is not None:
            self._ask("refresh", doc_id)

    def request_order(self, by: str) -> None:
        """Order the document list ``by`` (``import`` at once; the others are ranked in the child)."""
        if by not in ORDERS:
            raise ValueError(f"unknown order {by!r}: use one of {', '.join(ORDERS)}")
        self.order = by
        with self._lock:
            self._want.pop("rank", None)
        if by != "import":
            self._ask("rank", by)

    @property
    def busy(self) -> bool:
        """Whether the worker has something under way."""
        return self._running

    def status_text(self) -> str:
        """What the status bar shows: the model's summary, or that it is training."""
        if self.training:
            return "CRF training…" if self.state is None else f"training… · {self.state.summary()}"
        return self.state.summary() if self.state is not None else ""

    def close(self) -> None:
        """Stop the loop and the child (the worker thread ends with it). Call on unmount."""
        with self._lock:
            self._closed = True
            self._want.clear()
        trainer = self.trainer
        if trainer is not None:
            trainer.cancel()
            trainer.close(timeout=0.5)

    def _ask(self, job: str, value: Any) -> None:
        with self._lock:
            if self._closed:
                return
            self._want[job] = value
            if job in ("retrain", "refresh") and self._current in ("rank", "corpus", "warm") \
                    and self.trainer is not None:
                self.trainer.cancel()  # the urgent job goes first; they go on after it
            if self._running:
                return
            self._running = True
        self.app.run_worker(self._work, thread=True, group="model", name="model loop", exit_on_error=False)

    # -- the worker thread -----------------------------------------------------------------

    def _next(self) -> tuple[str, Any] | None:
        with self._lock:
            if not self._closed:
                for job in ("load", "retrain", "refresh", "rank", "corpus", "warm"):
                    if job in self._want:
                        self._current = job
                        return job, self._want.pop(job)
            self._running = False
            self._current = None
            return None

    def _again(self, job: str, value: Any) -> None:
        """Put a stopped job back (unless a newer request of its kind replaced it)."""
        with self._lock:
            self._want.setdefault(job, value)

    def _post(self, message: Message) -> None:
        if not self._closed:
            self.app.post_message(message)

    def _work(self) -> None:
        from annotations.model import ModelError

        try:
            with Store(self.db_location, self.annotator) as store:
                while (job := self._next()) is not None:
                    name, value = job
                    try:
                        getattr(self, "_do_" + name)(store, value)
                    except ModelError as exc:
                        if not self._closed:
                            self._post(ModelFailed(name, str(exc)))
                    except Exception as exc:  # noqa: BLE001 - reported, the loop goes on
                        if not self._closed:
                            self._post(ModelFailed(name, f"{type(exc).__name__}: {exc}"))
                    finally:
                        self.training = False
        finally:
            with self._lock:
                self._running = False
                self._current = None

    def _trainer(self) -> TrainingProcess:
        """The child process, started on first use (and again if it died)."""
        if self.trainer is None or not self.trainer.alive:
            trainer = self.trainer_factory(self.db_location, self.annotator)
            self.trainer = trainer
            if self._closed:  # the app closed while it started: stop it, do nothing
                trainer.close(timeout=0.5)
                raise RuntimeError("the app is closing")
            if self.state is not None:
                trainer.call(warm_job)  # takes up the saved model
        return self.trainer

    def _do_load(self, store: Store, _value: Any) -> None:
        state = load_state(self.db_path, self.annotator)
        if state is not None and self.state is None:
            self.state = state
            self._post(ModelLoaded(state))
        self._again("warm", True)

    def _do_warm(self, store: Store, _value: Any) -> None:
        fresh = self.trainer is None or not self.trainer.alive
        trainer = self._trainer()
        if not fresh or self.state is None:  # a fresh child with a saved model has warmed up
            trainer.call(warm_job)

    def _do_retrain(self, store: Store, reason: str) -> None:
        self.training = True
        self._post(ModelTraining(reason))
        started = time.perf_counter()
        state, _report = self._trainer().call(retrain_job)
        self.state = state
        self.training = False
        self.retrains += 1
        self._post(ModelRetrained(state, time.perf_counter() - started, reason))
        doc_id = self.app.reader.doc_id
        with self._lock:
            if doc_id is not None:
                self._want["refresh"] = doc_id  # next: the open document, at once
            if self.order != "import":
                self._want.setdefault("rank", self.order)
            self._want["corpus"] = todo_ids(store, [doc_id] if doc_id is not None else [])

    def _do_refresh(self, store: Store, doc_id: int) -> None:
        if self.state is None:
            return
        added = self._trainer().call(refresh_job, doc_id, None, self.min_score)
        self._post(SuggestionsRefreshed(doc_id, added))

    def _do_rank(self, store: Store, by: str) -> None:
        if self.state is None:
            self._post(DocumentsRanked(
                by, None, {},
                notice=f"No model yet, so the list stays in import order; it is ordered by {by}"
                       " after the first retrain (mark a document done, or Retrain model).",
            ))
            return
        from annotations.model import ModelError

        try:
            ranked = self._trainer().call(rank_job, by)
        except ModelError as exc:
            if "cancelled" not in str(exc):
                raise
            self._again("rank", by)
            return
        if by != self.order:  # the order changed while this ranking ran
            return
        first = [doc_id for doc_id, _, _ in ranked]
        seen = set(first)
        order = first + [d for d in store.document_ids() if d not in seen]
        self._post(DocumentsRanked(by, order, {d: (u, n) for d, u, n in ranked}))

    def _do_corpus(self, store: Store, doc_ids: list[int]) -> None:
        if self.state is None or not doc_ids:
            return
        report = self._trainer().call(suggest_corpus_job, None, doc_ids, self.min_score)
        self.last_corpus = report
        if report.cancelled:
            self._again("corpus", sorted(doc_ids)[report.documents:])
        self._post(CorpusSuggested(report))
