"""Documents opened ahead of time: read, tokenised and wrapped off the event loop.

After a document is shown the app asks for the documents a person is likely to open next
(the next and previous in import order, the next unfinished one that ``d`` and ``s`` go to).
A thread worker with its own connection prepares each (:func:`prepare`: the store's tokens,
a :class:`~tui.docmodel.DocModel` and its :class:`~tui.layout.DocumentLayout` at the reader's
width) and posts :class:`DocumentPrepared`; when the key comes, the app shows the prepared
document at once and only re-reads its spans and status (one indexed query each), so a
change made since it was prepared still shows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import Worker, get_current_worker

from annotations import Label, Store

from .docmodel import DocModel
from .layout import DocumentLayout

if TYPE_CHECKING:  # pragma: no cover
    from textual.app import App

__all__ = ["DocumentPrepared", "Prefetcher", "Prepared", "prepare"]

#: Prepared documents kept (least recently prepared or used dropped first).
CACHE_SIZE = 8


@dataclass(slots=True)
class Prepared:
    """A document ready to show: its model and its layout at ``layout.width``."""

    model: DocModel
    layout: DocumentLayout

    @property
    def doc_id(self) -> int:
        return self.model.doc_id


def prepare(store: Store, doc_id: int, width: int, labels: Sequence[Label]) -> Prepared:
    """Read (tokenising on first use), model and wrap one document; any thread, its own ``store``."""
    model = DocModel(store.document(doc_id), labels)
    return Prepared(model, DocumentLayout(model.text, width, model.chips))


class DocumentPrepared(Message):
    """A document was prepared ahead of time in a worker."""

    def __init__(self, prepared: Prepared) -> None:
        super().__init__()
        self.prepared = prepared


class Prefetcher:
    """Prepared documents by id, and the worker that prepares the ones asked for."""

    def __init__(self, app: App[object], store: Store, size: int = CACHE_SIZE) -> None:
        self.app = app
        self.store = store
        self.size = size
        self._cache: OrderedDict[int, Prepared] = OrderedDict()
        self._worker: Worker[None] | None = None

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._cache

    @property
    def busy(self) -> bool:
        """Whether the worker is still preparing documents."""
        return self._worker is not None and not self._worker.is_finished

    def put(self, prepared: Prepared) -> None:
        """Keep a prepared document (the newest is dropped last)."""
        self._cache[prepared.doc_id] = prepared
        self._cache.move_to_end(prepared.doc_id)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)

    def take(self, doc_id: int, width: int) -> Prepared | None:
        """The prepared document (removed from the cache) if it was wrapped at ``width``."""
        prepared = self._cache.pop(doc_id, None)
        if prepared is None or prepared.layout.width != max(width, 1):
            return None
        return prepared

    def clear(self) -> None:
        """Forget every prepared document (the width or the label set changed)."""
        self._cache.clear()

    def want(self, doc_ids: Sequence[int | None], width: int, labels: Sequence[Label]) -> None:
        """Prepare these documents (those not prepared at ``width`` yet) in a thread worker."""
        width = max(width, 1)
        todo = [d for d in dict.fromkeys(doc_ids) if d is not None
                and not (d in self._cache and self._cache[d].layout.width == width)]
        if not todo:
            return
        self._worker = self.app.run_worker(
            lambda: self._prepare(todo, width, list(labels)),
            group="prefetch", exclusive=True, thread=True, exit_on_error=False,
        )

    def _prepare(self, doc_ids: list[int], width: int, labels: list[Label]) -> None:
        worker = get_current_worker()
        with self.store.reopen() as store:
            for doc_id in doc_ids:
                if worker.is_cancelled:
                    return
                try:
                    prepared = prepare(store, doc_id, width, labels)
                except Exception:  # noqa: BLE001 - opening it for real shows the error
                    continue
                self.app.post_message(DocumentPrepared(prepared))
