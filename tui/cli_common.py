"""Shared pieces of the command line: options, the console, error handling, progress."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from annotations import Store, StoreError, default_annotator, default_db_path, inert, open_store
from annotations.store import is_postgres_url

F = TypeVar("F", bound=Callable[..., Any])

#: Console output never interprets markup in data: titles, labels and paths are plain text.
#: Lines are never wrapped by us (``soft_wrap``): a terminal wraps them itself, and piped
#: output keeps each message on one line. Tables fit the width and cut long cells instead.
console = Console(markup=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


#: The database the running command opened (for messages about errors SQLite raises later).
OPENED: list[Path] = []


def database_failure(exc: sqlite3.DatabaseError, path: Path | None = None) -> str:
    """A one-line message for an error SQLite raised while a command ran: what happened and to which file."""
    where = inert(str(path or (OPENED[0] if OPENED else "")))
    text = str(exc)
    low = text.lower()
    if "disk is full" in low or "disk full" in low:
        what = "the disk is full; the interrupted change was rolled back"
    elif "not a database" in low:
        what = "it is not an annotate (SQLite) database"
    elif "malformed" in low or "corrupt" in low:
        what = "the file is damaged; try `sqlite3 FILE .recover` into a new file"
    elif "readonly" in low or "read-only" in low:
        what = "the file is read-only"
    else:
        what = "SQLite failed"
    return f"{'cannot open database' if path else 'database'} {where}: {what} (SQLite: {inert(text)})"


class DatabaseLocation(click.Path):
    """A database file (a :class:`~pathlib.Path`), or a ``postgresql://`` URL kept as text."""

    name = "database"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and is_postgres_url(value):
            return value
        return super().convert(value, param, ctx)


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=DatabaseLocation(dir_okay=False, path_type=Path),
        default=None,
        envvar="ANNOTATE_DB",
        show_envvar=True,
        help="Database file, or postgresql://USER@HOST:PORT/DBNAME (default: $ANNOTATE_DB, else ./annotations.db).",
    )(func)


def annotator_option(func: F) -> F:
    return click.option(
        "--annotator",
        default=None,
        metavar="NAME",
        help="Who is annotating (default: $USER).",
    )(func)


def get_store(db_path: Path | None, annotator: str | None = None) -> Store:
    """Open the store, turning failures into a clean click error.

    ``--db``/``--annotator`` given before the command (``annotate --db X docs``) count too.
    """
    root = click.get_current_context(silent=True)
    params = root.find_root().params if root is not None else {}
    path = db_path or params.get("db_path") or default_db_path()
    annotator = annotator or params.get("annotator")
    OPENED[:] = [path]
    try:
        return open_store(path, annotator or default_annotator())
    except StoreError as exc:
        raise click.ClickException(inert(str(exc))) from None
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(database_failure(exc, path)) from None
    except Exception as exc:  # psycopg's errors and friends: not a usable database
        raise click.ClickException(f"cannot open database {inert(str(path))}: {inert(str(exc))}") from None


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Report :class:`StoreError` as a click error (no traceback)."""
    try:
        yield
    except StoreError as exc:
        raise click.ClickException(inert(str(exc))) from None


def table(*headers: str, free: tuple[str, ...] = ("title", "source"), max_width: int = 60,
          **kwargs: Any) -> Table:
    """A table for the terminal or a pipe: the ``free`` text columns (fill them with
    :func:`cut`) give way to the width, one line per row; every other column (ids, dates,
    numbers) is kept whole."""
    out = Table(**kwargs)
    for header in headers:
        if header in free:
            out.add_column(header, max_width=max_width)
        else:
            out.add_column(header, no_wrap=True)
    return out


def cut(value: object) -> Text:
    """A free-text cell (a title, a path): plain text on one line, cut with an ellipsis."""
    return Text(inert(str(value)), no_wrap=True, overflow="ellipsis")


def work_of(store: Store) -> dict[str, tuple[int, int]]:
    """``{annotator: (documents finished, accepted spans)}`` for everyone with any work."""
    out: dict[str, list[int]] = {}
    for name, n in store.backend.finished_by_annotator().items():
        out.setdefault(name, [0, 0])[0] = n
    for name, n in store.backend.accepted_by_annotator().items():
        out.setdefault(name, [0, 0])[1] = n
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def whose_work(store: Store, what: str = "status and entities") -> None:
    """Say on stderr whose work a command shows, and warn when that annotator has none."""
    who = store.annotator
    work = work_of(store)
    err_console.print(plain(f"Showing {who}'s {what} (--annotator NAME for someone else's)."))
    if who in work or not work:  # their own work, or nobody's yet (a new database)
        return
    others = ", ".join(f"{inert(k)} ({d} finished, {n} accepted)" for k, (d, n) in work.items())
    err_console.print(plain(
        f"Warning: {who} has no finished documents or accepted spans in this database;"
        f" annotators with work: {others}."
    ))


def plain(value: object) -> Text:
    """A table cell or line made of data: never markup, never control sequences."""
    return Text(inert(str(value)))


@contextlib.contextmanager
def file_progress(description: str, enabled: bool | None = None) -> Iterator[Callable[[int, int, str], None]]:
    """A rich progress bar on stderr (only on a terminal); yields ``update(done, total, name)``."""
    show = err_console.is_terminal if enabled is None else enabled
    if not show:
        yield lambda done, total, name: None
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[name]}", markup=False),
        console=err_console,
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=None, name="")

        def update(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, total=total, name=inert(name))

        yield update


def is_tty_stdout() -> bool:
    return sys.stdout.isatty()


def check_label_key(store: Store, key: str | None, *, label: str | None = None) -> None:
    """Refuse a label key the app already uses (after the user's keymap), naming the free keys.

    The keymap is ``$ANNOTATE_KEYS`` if set, else the default file (as ``annotate open`` reads).
    """
    if key is None:
        return
    import os

    from .keymap import KeymapError, free_label_keys, label_clash, load_keymap

    path = os.environ.get("ANNOTATE_KEYS")
    try:
        keymap = load_keymap(Path(path) if path else None)
    except KeymapError as exc:
        raise click.ClickException(inert(str(exc))) from None
    clash = label_clash(key, keymap)
    if clash is not None:
        used = [lab.key for lab in store.labels() if lab.key and lab.name != label]
        free = " ".join(free_label_keys(keymap, used)) or "none"
        raise click.ClickException(
            f"key {inert(key)!r} is already the app's key for {clash!r}: a label on it could never be"
            f" used. Free keys: {free}"
        )
