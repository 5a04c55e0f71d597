"""The annotator's own queue: the documents ``annotate assign`` gave them.

When the app's annotator has assignments, the document list shows theirs ("mine") by
default, progress counts theirs, ``d`` goes to their next unfinished one and ``]``/``[`` to
their next / previous one. Without
assignments nothing here changes what the app does. Library side: :mod:`annotations.team.assign`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from textual.binding import Binding

from annotations import Store
from annotations.team import assigned_ids, next_assigned, queue_progress

__all__ = ["MINE_BINDING", "Queue"]

#: The app's key for "mine" / all documents; active only when the annotator has assignments.
MINE_BINDING = Binding("m", "toggle_mine", "Mine/all", id="app.toggle_mine", show=False,
                       tooltip="Show only the documents assigned to you, or all of them.")


class Queue:
    """The store's annotator's assigned documents (read once, when the app starts)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: Assigned document ids in import order (empty: no assignments, the app as ever).
        self.ids: list[int] = assigned_ids(store)
        self._set = frozenset(self.ids)

    @property
    def assigned(self) -> bool:
        return bool(self.ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._set

    def progress(self) -> tuple[int, int]:
        """(done, assigned) for the annotator."""
        p = queue_progress(self.store)
        return p["done"], p["total"]

    def first(self) -> int | None:
        """The first assigned document still to do (else the first assigned one)."""
        return next_assigned(self.store) or (self.ids[0] if self.ids else None)

    def neighbour(self, doc_id: int, step: int) -> int | None:
        """The next (``step`` 1) or previous (-1) assigned document in import order, from
        ``doc_id`` (assigned or not); ``None`` past either end."""
        if step > 0:
            at = bisect_right(self.ids, doc_id)
            return self.ids[at] if at < len(self.ids) else None
        at = bisect_left(self.ids, doc_id)
        return self.ids[at - 1] if at > 0 else None

    def next_unfinished(self, doc_id: int, ranking: Sequence[int] | None = None) -> int | None:
        """The next assigned todo document after ``doc_id``, in ``ranking``'s order if given."""
        if ranking:
            order = [d for d in ranking if d in self._set]
            at = order.index(doc_id) + 1 if doc_id in self._set else 0
            for candidate in order[at:] + order[:at]:
                if candidate != doc_id and self.store.status(candidate) == "todo":
                    return candidate
            return None
        found = next_assigned(self.store, after=doc_id)
        return None if found == doc_id else found
