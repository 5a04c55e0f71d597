"""A lost database server, seen from the app: say so, retry off the event loop, say when it is back.

Only a PostgreSQL store can lose its server (:class:`annotations.ConnectionLost`: the server
stopped or restarted, the network cut). The action that met the loss was not saved (its
transaction never committed); the app keeps it as the *unsaved action* and shows it as not
saved (the status bar reads ``✗ not saved · lost the server``, the reader still shows the
selection and no new span). While the server is away, nothing on the event loop touches the
store: actions are refused at once (a key never waits on a dead socket), moving in the open
document still works. :func:`probe` runs in a thread worker and opens a new connection
(:meth:`Store.reopen`) every :data:`FIRST_DELAY` … :data:`MAX_DELAY` seconds (doubling);
when one succeeds the app adopts it (:meth:`Store.adopt`: no connect on the event loop) and
asks the log whether the unsaved action was committed after all
(:meth:`Store.session_last_event`: each action logs one event in its own transaction, so no
event of this session after the last one the app saw proves it was not). Not committed: it
is made again, once, automatically; committed: the screen is brought up to date.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from textual.message import Message
from textual.worker import get_current_worker

from annotations import ConnectionLost, Store

__all__ = ["FIRST_DELAY", "MAX_DELAY", "ServerAway", "ServerBack", "Unsaved", "needs_server", "probe"]

#: Seconds before the first reconnection attempt; doubled after each failure up to :data:`MAX_DELAY`.
FIRST_DELAY = 0.5
MAX_DELAY = 8.0


@dataclass(slots=True)
class Unsaved:
    """The action that met the lost server: what it was, how to make it again, and the
    newest event the app had seen committed before it."""

    what: str
    #: Makes the action again (``None``: the user is asked to).
    again: Callable[[], None] | None
    #: :attr:`Store.last_logged` before the action: an event of this session past it is the
    #: action, committed after all.
    seen_event: int


class ServerAway(Message):
    """A reconnection attempt failed; the next one is in ``retry_in`` seconds."""

    def __init__(self, attempt: int, retry_in: float, error: str) -> None:
        super().__init__()
        self.attempt = attempt
        self.retry_in = retry_in
        self.error = error


class ServerBack(Message):
    """A new connection to the server is open (``store``, to be adopted on the event loop)."""

    def __init__(self, store: Store, attempt: int) -> None:
        super().__init__()
        self.store = store
        self.attempt = attempt


def probe(post: Callable[[Message], Any], store: Store, *, first_delay: float = FIRST_DELAY,
          max_delay: float = MAX_DELAY) -> None:
    """In a thread worker: open a new connection to ``store``'s database until one succeeds
    (backing off), posting :class:`ServerAway` after each failure and :class:`ServerBack` once
    one is open. Returns when the worker is cancelled (the app closes)."""
    worker = get_current_worker()
    delay, attempt = first_delay, 0
    while True:
        if worker.cancelled_event.wait(delay):
            return
        attempt += 1
        try:
            fresh = store.reopen()
        except Exception as exc:  # noqa: BLE001 - any failure to connect: try again later
            delay = min(delay * 2, max_delay)
            post(ServerAway(attempt, delay, str(exc)))
            continue
        if worker.is_cancelled:
            fresh.close()
            return
        post(ServerBack(fresh, attempt))
        return


F = TypeVar("F", bound=Callable[..., Any])


def needs_server(method: F) -> F:
    """An app method that uses the store: refused at once (said so) while the server is away,
    and a :class:`ConnectionLost` it meets starts the reconnection instead of a traceback."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        app = self.app
        if app.server_lost is not None:
            app.refuse_offline()
            return None
        try:
            return method(self, *args, **kwargs)
        except ConnectionLost as exc:
            app.server_gone(exc)
            return None

    return wrapper  # type: ignore[return-value]
