"""Retraining in a child process, so a running retrain never delays a key press.

python-crfsuite holds Python's global interpreter lock for the whole of an L-BFGS
iteration (tens of milliseconds for 100 documents, hundreds for 1,000): in a thread of
the app's process it would stall the event loop that long, again and again. A child
process trains on the other core instead; the app's side only waits on a pipe (which
releases the lock), so call :meth:`TrainingProcess.retrain` from a thread worker.

The child keeps a :class:`~.loop.ModelLoop` between retrains (warm feature cache,
progressive held-out score) and reads the database through its own connection. It also
ranks documents by uncertainty with its latest model (:meth:`TrainingProcess.rank`),
which is as much CPU as a retrain for a large corpus, and runs any other module-level
function on the child's store and model (:meth:`TrainingProcess.call`: the app's corpus
suggestion pass), which may stop early when the parent asks (:meth:`TrainingProcess.cancel`).
A model trained earlier (saved on disk) can be handed to the child (:meth:`TrainingProcess.adopt`)
so it ranks and suggests before its first retrain. It is
started with ``spawn`` (never ``fork``: the app has threads) and exits with its parent.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from .crf import CRFModel, DocumentUncertainty, ModelError, Progress, TrainReport
from .features import Lexicon

if TYPE_CHECKING:  # pragma: no cover
    from ..store import Store
    from .loop import ModelLoop

__all__ = ["ChildContext", "TrainingProcess"]


@dataclass
class ChildContext:
    """What a function run by :meth:`TrainingProcess.call` gets in the child: its store,
    the loop (``loop.model`` is the latest model, or ``None``), the cancel flag and
    ``memo``, a dict kept between calls (for state worth keeping warm, e.g. a lexicon)."""

    store: Store
    loop: ModelLoop
    cancel: Any  # a multiprocessing Event: ``is_set()`` once the parent asked to stop
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return bool(self.cancel.is_set())


def _serve(
    conn: Connection, db_path: str, annotator: str | None, params: dict[str, Any], cancel: Any = None
) -> None:
    """The child's loop: one request in, progress messages and one answer out."""
    from ..store import Store
    from .loop import ModelLoop

    loop = ModelLoop(annotator, params=params)
    store: Store | None = None
    memo: dict[str, Any] = {}
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            break
        if request[0] == "stop":
            break
        try:
            if store is None:
                store = Store(db_path, annotator or "model")
            if request[0] == "adopt":
                loop.adopt(CRFModel.from_bytes(request[1]))
                conn.send(("done", None))
                continue
            if request[0] == "call":
                _, fn, args = request
                conn.send(("done", fn(ChildContext(store, loop, cancel, memo), *args)))
                continue
            if request[0] == "rank":
                _, doc_ids, by, lexicon = request
                if loop.model is None:
                    raise ModelError("no model yet: retrain first")
                conn.send(("done", loop.model.rank(store, doc_ids, by=by, lexicon=lexicon)))
                continue
            _, lexicon, want_progress = request

            def progress(stage: str, done: int, total: int) -> None:
                conn.send(("progress", (stage, done, total)))

            model, report = loop.retrain(store, lexicon, progress if want_progress else None)
            conn.send(("done", (model.to_bytes(lexicon=False), report)))
        except (ModelError, ValueError) as exc:
            conn.send(("error", str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, the child lives on
            conn.send(("error", f"{request[0]} failed: {type(exc).__name__}: {exc}"))
    if store is not None:
        store.close()
    conn.close()


class TrainingProcess:
    """A long-lived child process that retrains the CRF on request.

    Example (in a thread worker)::

        trainer = TrainingProcess(store.location, annotator="aida")
        model, report = trainer.retrain(lexicon)
        ...
        trainer.close()
    """

    def __init__(
        self,
        db_path: str | Path,
        annotator: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._cancel = ctx.Event()
        self._proc = ctx.Process(
            target=_serve, args=(child, str(db_path), annotator, dict(params or {}), self._cancel),
            name="annotate-retrain", daemon=True,
        )
        self._proc.start()
        child.close()
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        """The child's process id (it is not this process: the GIL is not shared)."""
        return self._proc.pid

    def cancel(self) -> None:
        """Ask the running :meth:`call` to stop early (safe from any thread, lock-free).

        The flag is cleared before each new request is sent, so it only ever stops the
        request running now. Retrains are short and are not stopped.
        """
        self._cancel.set()

    def adopt(self, model: CRFModel, *, timeout: float | None = None) -> None:
        """Give the child a model trained earlier (it ranks and suggests with it, and the
        next retrain scores the documents labelled since as held out)."""
        self._request(("adopt", model.to_bytes(lexicon=False)), None, timeout)

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Run ``fn(context, *args)`` in the child (:class:`ChildContext`) and return its result.

        ``fn`` must be a module-level function and ``args`` and the result picklable. A
        :class:`~.crf.ModelError` or ``ValueError`` it raises comes back as a
        :class:`~.crf.ModelError`.
        """
        return self._request(("call", fn, args), None, timeout)

    def retrain(
        self,
        lexicon: Lexicon | None = None,
        *,
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> tuple[CRFModel, TrainReport]:
        """Retrain on the database's labelled documents; blocks until the model is back.

        ``lexicon`` must be picklable (a set, a dict, a module-level function). The model
        returned predicts with the very ``lexicon`` object given here. Raises
        :class:`~.crf.ModelError` for no data, a dead child or a ``timeout`` (seconds).
        """
        blob, report = self._request(("retrain", lexicon, progress is not None), progress, timeout)
        model = CRFModel.from_bytes(blob)
        model.lexicon = lexicon
        return model, report

    def rank(
        self,
        doc_ids: Iterable[int] | None = None,
        *,
        by: str = "uncertainty",
        lexicon: Lexicon | None = None,
        timeout: float | None = None,
    ) -> list[tuple[int, DocumentUncertainty]]:
        """:meth:`CRFModel.rank` with the child's latest model, computed in the child
        (tagging 10,000 documents is minutes of CPU the app's process should not spend)."""
        ids = list(doc_ids) if doc_ids is not None else None
        return self._request(("rank", ids, by, lexicon), None, timeout)

    def _request(self, request: tuple[Any, ...], progress: Progress | None, timeout: float | None) -> Any:
        with self._lock:
            self._cancel.clear()
            try:
                self._conn.send(request)
            except (OSError, ValueError) as exc:
                raise ModelError(f"the training process is not running: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - pickling errors come in several types
                raise ModelError(f"the lexicon cannot be sent to the training process: {exc}") from None
            while True:
                if timeout is not None and not self._conn.poll(timeout):
                    self._proc.terminate()
                    raise ModelError(f"{request[0]} took longer than {timeout} s; the training process was stopped")
                try:
                    kind, payload = self._conn.recv()
                except (EOFError, OSError):
                    raise ModelError("the training process exited") from None
                if kind == "progress":
                    if progress:
                        progress(*payload)
                    continue
                if kind == "error":
                    raise ModelError(payload)
                return payload

    def close(self, timeout: float = 2.0) -> None:
        """Stop the child (it finishes nothing half-way: retrains write no files)."""
        try:
            self._conn.send(("stop",))
        except (OSError, ValueError):
            pass
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout)
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
