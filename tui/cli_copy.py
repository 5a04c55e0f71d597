"""``annotate copy SOURCE TARGET``: a whole database to another backend (SQLite ⇄ PostgreSQL), verified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from annotations import StoreError, inert
from annotations.store import connect_backend, is_postgres_url
from annotations.store.copy import copy_database

from .cli_common import CONTEXT_SETTINGS, console, err_console


def _location(value: str) -> str | Path:
    return value if is_postgres_url(value) else Path(value)


@click.command("copy", context_settings=CONTEXT_SETTINGS)
@click.argument("source")
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def copy_command(source: str, target: str, as_json: bool) -> None:
    """Copy the whole database SOURCE into the new, empty database TARGET.

    Either may be a SQLite file or postgresql://USER@HOST:PORT/DBNAME. Everything is copied
    with its ids (documents, labels, spans, statuses, the event log with undo/redo, sessions,
    cursors, assignments, reviewers, import records, the label map, patterns, token caches),
    in one transaction, and verified before it commits: row counts and a digest of every
    table must equal the source's, or nothing is written.

    Example:

        annotate copy news.db postgresql://aida@db.example:5432/news
    """
    if not is_postgres_url(source) and not Path(source).exists():
        raise click.ClickException(f"no database {inert(source)}")
    try:
        src = connect_backend(_location(source))
    except StoreError as exc:
        raise click.ClickException(inert(str(exc))) from None
    try:
        dst = connect_backend(_location(target))
    except StoreError as exc:
        src.close()
        raise click.ClickException(inert(str(exc))) from None
    try:
        def progress(table: str, n: int) -> None:
            if not as_json:
                err_console.print(f"  {table}: {n} row(s)")

        report = copy_database(src, dst, progress)
    except StoreError as exc:
        raise click.ClickException(inert(str(exc))) from None
    finally:
        src.close()
        dst.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    counts: dict[str, Any] = report.rows
    console.print(
        f"Copied {inert(report.source)} to {inert(report.target)}: {counts['documents']} document(s),"
        f" {counts['spans']} span(s), {counts['events']} event(s), {sum(counts.values())} row(s) in"
        f" {len(counts)} tables; verified (row counts and table digests equal)."
    )
