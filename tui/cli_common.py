"""Shared pieces of the command line: options, the console, error handling, progress."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from annotations import Store, StoreError, default_annotator, default_db_path, inert, open_store

F = TypeVar("F", bound=Callable[..., Any])

#: Console output never interprets markup in data: titles, labels and paths are plain text.
console = Console(markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="ANNOTATE_DB",
        show_envvar=True,
        help="Database file (default: $ANNOTATE_DB, else ./annotations.db).",
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
    try:
        return open_store(path, annotator or default_annotator())
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # sqlite3.DatabaseError and friends: not a usable database
        raise click.ClickException(f"cannot open database {inert(str(path))}: {inert(str(exc))}") from None


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Report :class:`StoreError` as a click error (no traceback)."""
    try:
        yield
    except StoreError as exc:
        raise click.ClickException(inert(str(exc))) from None


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
