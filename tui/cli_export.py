"""``annotate export``: training data out, as Prodigy JSONL, spaCy DocBin, CoNLL, Hugging Face or brat."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from annotations.store import is_postgres_url
from annotations import default_db_path
from annotations.formats import (
    EXPORT_STATUSES,
    FORMATS,
    MISALIGNED,
    ExportError,
    ExportStats,
    Selection,
    guess_format,
    run_export,
)

from .cli_common import CONTEXT_SETTINGS, db_option, err_console, get_store, plain, store_errors

__all__ = ["export_command", "export_progress"]


@contextlib.contextmanager
def export_progress(
    console: Console | None = None, enabled: bool | None = None
) -> Iterator[Callable[[int, int], None] | None]:
    """A documents-done progress bar on stderr, shown only when stderr is a terminal.

    Yields ``update(done, total)``, or None when no bar is shown (so the export does not
    count its documents for nothing).
    """
    console = console or err_console
    show = console.is_terminal if enabled is None else enabled
    if not show:
        yield None
        return
    progress = Progress(
        TextColumn("Exporting"), BarColumn(), MofNCompleteColumn(), TextColumn("documents"),
        TimeRemainingColumn(), console=console, transient=True,
    )
    with progress:
        task = progress.add_task("export", total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _binary_stdout() -> BinaryIO:
    """stdout as bytes: records are UTF-8 whatever the terminal's locale says."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        raise click.ClickException("stdout does not take bytes here; give -o FILE")
    return buffer


def _summary(stats: ExportStats, fmt: str, output: Path | None, misaligned: str = "expand") -> None:
    where = "stdout" if output is None else str(output)
    line = (
        f"Exported {stats.records} record(s) of {stats.documents} document(s) as {fmt} to {where}:"
        f" {stats.spans} span(s)"
    )
    if stats.suggestions:
        line += f", {stats.suggestions} suggestion(s)"
    if stats.negatives:
        line += f"; {stats.negatives} record(s) without entities (negative examples)"
    err_console.print(plain(line + "."))
    for note in stats.notes:
        err_console.print(plain(note))
    if stats.files and fmt in ("spacy", "hf"):
        err_console.print(plain("Files: " + ", ".join(stats.files)))
    done = {"expand": "widened to the tokens they touch", "drop": "left out", "error": ""}[misaligned]
    err_console.print(f"{stats.misaligned} span(s) were off token boundaries" + (f": {done}." if stats.misaligned else "."))
    if stats.unwritten:
        err_console.print(
            f"{stats.unwritten} span(s) could not be written on tokens (only whitespace, no token, or"
            " overlapping the span before once widened); they were left out."
        )


@click.command("export", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output file; a folder for brat, and for spacy a folder (no suffix) gets shards of"
                   " 10,000 Docs. Default: stdout (jsonl and conll only).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the -o suffix: .spacy, .conll/.iob; else jsonl).")
@click.option("--status", "statuses", type=click.Choice(EXPORT_STATUSES), multiple=True,
              help="Records with this status (repeatable; default done): done, skipped, todo, all (the three),"
                   " any (done + skipped + todo records holding a span). Skipped records are written with"
                   " answer ignore (or reject, if imported so), todo with ignore.")
@click.option("--misaligned", type=click.Choice(MISALIGNED), default="expand", show_default=True,
              help="Spans off token boundaries: expand to the tokens they touch, drop them, or stop with an"
                   " error. The same in every format; the count is reported.")
@click.option("--annotator", default=None, metavar="NAME",
              help="Only this annotator's records (default: every annotator, one record each).")
@click.option("--label", "labels", multiple=True, metavar="LABEL",
              help="Only spans with this label (repeatable); documents are still written.")
@click.option("--include-suggestions", is_flag=True,
              help="Also write pending suggestions, apart from accepted spans, with source and score"
                   " (jsonl: a \"suggestions\" key; spacy: doc.spans[\"suggestions\"]).")
@click.option("--force", is_flag=True,
              help="Replace a non-empty -o folder that an earlier export did not write (brat, sharded spacy).")
def export_command(
    db_path: Path | None,
    output: Path | None,
    fmt: str | None,
    statuses: tuple[str, ...],
    misaligned: str,
    annotator: str | None,
    labels: tuple[str, ...],
    include_suggestions: bool,
    force: bool = False,
) -> None:
    """Export annotations as training data.

    One record per document and annotator, in document order, streamed with flat memory.
    Every example is written, those without entities too (negatives). Formats: jsonl
    (Prodigy db-out layout), spacy (DocBin with doc.ents), conll (IOB2, token<TAB>tag,
    -DOCSTART- -X- O O between documents), hf (token-classification JSON lines + NAME.labels.json
    beside them) and brat (.txt + .ann per document and annotation.conf, in a folder). A
    summary, with the count of spans off token boundaries, goes to stderr.

    Example:

        annotate export --db news.db -o train.spacy --label PER --label LOC

        annotate export --db news.db --status done --status skipped --include-suggestions > all.jsonl
    """
    root = click.get_current_context().find_root().params  # annotate --db X export counts too
    path = db_path or root.get("db_path") or default_db_path()
    annotator = annotator or root.get("annotator")
    if not is_postgres_url(path) and not Path(path).exists():
        raise click.ClickException(f"no database at {plain(str(path))}")
    fmt = fmt or guess_format(output)
    status = tuple(dict.fromkeys(statuses)) or ("done",)
    sel = Selection(status=status, annotator=annotator, labels=tuple(dict.fromkeys(labels)),
                    include_suggestions=include_suggestions, misaligned=misaligned)
    store = get_store(path)
    stdout = _binary_stdout() if output is None else None
    try:
        with store, store_errors(), export_progress() as update:
            stats = run_export(store, fmt, sel, output, stdout=stdout, progress=update, force=force)
        if stdout is not None:
            stdout.flush()
    except ExportError as exc:
        raise click.ClickException(str(plain(str(exc)))) from None
    except BrokenPipeError:
        # The reader went away (``annotate export | head``): stop quietly.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        raise click.ClickException(f"cannot write {plain(str(output or 'stdout'))}: {exc.strerror or exc}") from None
    _summary(stats, fmt, output, misaligned)
    if stats.records == 0:
        hint = " (try --status all)" if status == ("done",) else ""
        err_console.print(f"Nothing matched the selection{hint}.")
