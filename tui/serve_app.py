"""The app as one browser tab runs it under ``annotate serve`` (``python -m tui.serve_app``).

textual-serve starts this module once per tab, with the tab's annotator (from the page's
``?annotator=`` parameter) in ``$ANNOTATE_SERVE_ANNOTATOR``. Without one, the app asks
(:class:`~tui.name_screen.NameScreen`) before anything is opened or counted: a tab never
works under a shared default name.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from multiprocessing import resource_tracker

from textual import events

from annotations import Store, open_store

from .app import AnnotateApp
from .model import ModelController
from .name_screen import NameScreen, check_name
from .statusbar import StatusBar

__all__ = ["ANNOTATOR_ENV", "SERVER_ENV", "ServedApp", "main"]

#: Where ``annotate serve`` puts the tab's annotator for this process.
ANNOTATOR_ENV = "ANNOTATE_SERVE_ANNOTATOR"
#: Where it puts its own process id.
SERVER_ENV = "ANNOTATE_SERVE_PID"
#: Seconds between checks that the server is still there.
SERVER_CHECK = 2.0


class ServedApp(AnnotateApp):
    """:class:`AnnotateApp` that asks who is annotating when it was not told."""

    def __init__(
        self, store: Store, *, ask_name: bool, model: bool = True, server_pid: int | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(store, model=model and not ask_name, **kwargs)  # type: ignore[arg-type]
        #: Whether the name prompt is (still) to be answered.
        self.ask_name = ask_name
        self._model_wanted = model
        #: The ``annotate serve`` process: if it dies without telling us, the tab's app ends too.
        self.server_pid = server_pid
        if ask_name:
            self.status_bar.set_reactive(StatusBar.annotator, "")

    def on_mount(self, event: events.Mount) -> None:
        if self.server_pid is not None:
            self.set_interval(SERVER_CHECK, self._check_server)
        if self.ask_name:
            event.prevent_default()  # AnnotateApp.on_mount runs once the name is known
            known = self.store.backend.session_annotators(50)
            self.push_screen(NameScreen(known), self._named)

    def _check_server(self) -> None:
        """End the session and quit once the server is gone (killed without a chance to say so)."""
        try:
            os.kill(self.server_pid or 0, 0)
        except ProcessLookupError:
            self.finish()
            self.exit()
        except OSError:
            pass

    def _named(self, name: str | None) -> None:
        if not name:
            self.exit()
            return
        self.store.set_annotator(name)
        self.ask_name = False
        self.status_bar.annotator = name
        if self._model_wanted:
            self.model_loop = ModelController(self)
        AnnotateApp.on_mount(self)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tui.serve_app", description=__doc__)
    # A PostgreSQL URL comes through $ANNOTATE_DB (never on the command line, where ps shows it).
    parser.add_argument("--db", default=os.environ.get("ANNOTATE_DB"))
    args = parser.parse_args(argv)
    if not args.db:
        parser.error("--db (or $ANNOTATE_DB) is required")
    name = (os.environ.get(ANNOTATOR_ENV) or "").strip()
    given = bool(name) and check_name(name) is None
    store = open_store(args.db, name if given else "(not named yet)")
    # The model's training child is spawned later, once Textual has replaced sys.stderr; the
    # resource tracker it needs must start while stderr is still the real one (see tui.model).
    with contextlib.suppress(Exception):
        resource_tracker.ensure_running()
    pid = os.environ.get(SERVER_ENV, "")
    ServedApp(store, ask_name=not given, server_pid=int(pid) if pid.isdigit() else None).run()


if __name__ == "__main__":
    main()
