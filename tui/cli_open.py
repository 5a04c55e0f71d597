"""``annotate open``: start the annotator app (Textual is imported only here)."""

from __future__ import annotations

from pathlib import Path

import click

from .cli_common import CONTEXT_SETTINGS, annotator_option, db_option, get_store


@click.command("open", context_settings=CONTEXT_SETTINGS)
@db_option
@annotator_option
def open_command(db_path: Path | None, annotator: str | None) -> None:
    """Open the annotator app (a new database is first filled with the bundled seeds).

    Example:

        annotate open --db news.db --annotator aida
    """
    from .app import run_app

    store = get_store(db_path, annotator)
    run_app(store)
