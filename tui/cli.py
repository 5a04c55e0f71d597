"""The ``annotate`` command line: thin click commands over the ``annotations`` library.

Heavy imports (Textual, spaCy) happen inside the commands that need them, so
``annotate --version``, ``docs`` and ``stats`` start fast.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from annotations import (
    EVERYONE,
    IMPORT_MODES,
    LANGUAGES,
    STATUSES,
    DocumentSummary,
    Store,
    StoreError,
    __version__,
    import_paths,
    inert,
)
from annotations.importer import ON_CONFLICT, ImportReport

from .cli_common import (
    CONTEXT_SETTINGS,
    annotator_option,
    check_label_key,
    console,
    cut,
    database_failure,
    db_option,
    err_console,
    file_progress,
    get_store,
    plain,
    store_errors,
    whose_work,
)
from .cli_common import table as make_table


class LazyGroup(click.Group):
    """A group whose extra commands live in their own modules, imported on demand."""

    lazy: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        from importlib.util import find_spec

        present = [n for n, target in self.lazy.items() if find_spec(target.split(":")[0])]
        return sorted({*super().list_commands(ctx), *present})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name in self.list_commands(ctx):
            module_name, attr = self.lazy[name].split(":")
            import importlib

            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, name)


class MainGroup(LazyGroup):
    lazy = {
        "open": "tui.cli_open:open_command",
        "export": "tui.cli_export:export_command",
        "mark": "tui.cli_mark:mark_command",
        "suggest": "tui.cli_suggest:suggest_command",
        "evaluate": "tui.cli_suggest:evaluate_command",
        "train": "tui.cli_train:train_command",
        "serve": "tui.cli_serve:serve_command",
        "assign": "tui.cli_team:assign_command",
        "agree": "tui.cli_team:agree_command",
        "review": "tui.cli_team:review_command",
        "merge": "tui.cli_team:merge_command",
        "copy": "tui.cli_copy:copy_command",
    }

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a refusal of the store or an SQLite error ends it with one line, no traceback."""
        try:
            return super().invoke(ctx)
        except StoreError as exc:
            raise click.ClickException(inert(str(exc))) from None
        except sqlite3.DatabaseError as exc:
            raise click.ClickException(database_failure(exc)) from None
        except Exception as exc:
            if type(exc).__module__.split(".")[0] != "psycopg":
                raise
            # A PostgreSQL failure the store did not word itself (e.g. the server went away).
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise click.ClickException(f"database: PostgreSQL failed: {inert(first)}") from None


@click.group(cls=MainGroup, invoke_without_command=True, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="annotate")
@db_option
@annotator_option
@click.pass_context
def main(ctx: click.Context, db_path: Path | None, annotator: str | None) -> None:
    """Keyboard-first named-entity annotation in the terminal.

    With no command, opens the annotator app on the database (a new database is
    first filled with the bundled Kyrgyz and Russian news seeds).

    Example:

        annotate --db news.db --annotator aida
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(main.get_command(ctx, "open"), db_path=db_path, annotator=annotator)


# -- import --------------------------------------------------------------------------------


def print_report(report: ImportReport) -> None:
    """What an import added, skipped and refused, in words a person reads."""
    if report.files or not report.errors:  # nothing read at all: the errors below say why
        console.print(
            f"Imported {report.added} new document(s) from {report.files} file(s);"
            f" {report.duplicates} duplicate(s) already in the database."
        )
    if report.spans or report.suggestions:
        console.print(f"Spans: {report.spans} accepted, {report.suggestions} suggestion(s).")
    if report.annotated:
        by = ", ".join(f"{n} {status}" for status, n in sorted(report.annotated.items()))
        console.print(
            f"Annotated examples: {sum(report.annotated.values())} ({by}), {report.negatives} of them"
            " without entities (negative examples)."
        )
    if report.labels_added:
        console.print(plain("New labels added: " + ", ".join(report.labels_added)))
    if report.misaligned:
        err_console.print(
            f"Warning: {report.misaligned} span(s) do not fall on token boundaries; kept as given."
        )
    if report.text_mismatch:
        err_console.print(
            f"Warning: {report.text_mismatch} span(s) carry a \"text\" that differs from the"
            " document at their offsets; the offsets were used."
        )
    if report.conflicts:
        err_console.print(
            f"Warning: {len(report.conflicts)} text(s) already annotated differently by the same annotator"
            " (conflicting duplicates; see --on-conflict):"
        )
        for conflict in report.conflicts[:5]:
            err_console.print(plain(f"  {conflict}"))
        if len(report.conflicts) > 5:
            err_console.print(f"  ... and {len(report.conflicts) - 5} more.")
    for where, why in report.skipped:
        err_console.print(plain(f"Skipped {where}: {why}"))
    for note in report.notices:
        err_console.print(plain(f"Notice: {note}"))
    for warning in report.warnings[:20]:
        err_console.print(plain(f"Warning: {warning}"))
    if len(report.warnings) > 20:
        err_console.print(f"... and {len(report.warnings) - 20} more warning(s).")
    for error in report.errors:
        err_console.print(plain(f"Error: {error}"))


@main.command("import", context_settings=CONTEXT_SETTINGS)
@db_option
@annotator_option
@click.option(
    "--as", "mode", type=click.Choice(IMPORT_MODES), default="accepted", show_default=True,
    help="Spans in the input become accepted annotations, pending suggestions, or are ignored (text).",
)
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of every document (default: detected per document).")
@click.option("--format", "fmt", default=None, metavar="FORMAT",
              help="Input format: txt, jsonl (plain or Prodigy), conll (IOB1/IOB2/BIOES), hf, brat,"
                   " spacy (default: from the file extension and content).")
@click.option("--on-conflict", type=click.Choice(ON_CONFLICT), default="keep", show_default=True,
              help="A text already annotated differently by the same annotator: keep the first version,"
                   " replace it, keep the later as another version (NAME#2), or refuse the file (error)."
                   " Conflicts are always reported.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--fix-mojibake", is_flag=True,
              help="Repair text decoded with the wrong code page (e.g. \"Ðîññèÿ\" for \"Россия\");"
                   " each changed line is recorded in the document's meta (mojibake_repaired)."
                   " Without it, such text is kept as it is and warned about.")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
def import_command(
    db_path: Path | None,
    annotator: str | None,
    mode: str,
    lang: str | None,
    fmt: str | None,
    as_json: bool,
    sources: tuple[Path, ...],
    fix_mojibake: bool = False,
    on_conflict: str = "keep",
) -> None:
    """Import documents from .txt files, .jsonl files or folders of them.

    A .txt file is one document; a .jsonl file holds one record per line with "text",
    optional "meta" and optional "spans" ([{"start", "end", "label"}], code-point
    offsets, end exclusive). Each file is imported whole or not at all; the same text
    is never added twice. Also read: Prodigy db-out JSONL, CoNLL/IOB (.conll, .iob),
    Hugging Face token-classification JSONL (+ labels.json), brat .txt+.ann pairs and
    spaCy .spacy files.

    An annotated example (tags, an .ann, a Doc's entities, a JSONL "spans" key or Prodigy
    "answer") imported --as accepted is a decision, zero entities included: accept (or no
    answer) -> done, reject and ignore -> skipped. It is the annotation of --annotator if
    given, else of the record's own annotator (Prodigy _annotator_id, our exports'), else
    of the importing user.

    Example:

        annotate import --db news.db corpus/ extra.jsonl

        annotate import --db news.db --fix-mojibake scraped/

        annotate import --db news.db --annotator kaznerd --on-conflict version train.conll
    """
    _load_format_readers()
    root = click.get_current_context().find_root().params
    for_annotator = annotator or root.get("annotator")
    store = get_store(db_path, annotator)
    with store, file_progress("Importing") as update:
        report = import_paths(
            store, sources, mode=mode, lang=lang, fmt=fmt, progress=update,
            annotator=for_annotator, on_conflict=on_conflict, fix_mojibake=fix_mojibake,
        )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
    _exit_for_errors(report)


MISSING = "no such file or folder"


def _exit_for_errors(report: ImportReport) -> None:
    """Exit non-zero after errors; "refused" counts only files that were read and refused."""
    refused = [e for e in report.errors if e.message != MISSING]
    if refused:
        raise click.ClickException(f"{len(refused)} file(s) refused; nothing from them was written.")
    if report.errors:  # only sources that do not exist, each already named above
        raise click.exceptions.Exit(1)


def _load_format_readers() -> None:
    """Let the formats module register its readers (CoNLL, brat, spaCy) if it is present."""
    try:
        import annotations.formats  # noqa: F401
    except ImportError:
        pass


# -- docs ----------------------------------------------------------------------------------


@main.command("docs", context_settings=CONTEXT_SETTINGS)
@db_option
@annotator_option
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Only this language.")
@click.option("--search", default=None, metavar="TEXT", help="Full-text search over titles and text.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@click.option("--order", type=click.Choice(["import", "uncertainty", "entities"]), default="import",
              show_default=True,
              help="import order, the model's least confident documents first, or the most predicted "
                   "entities first (uses the model the app saves; tags every matching document).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def docs_command(
    db_path: Path | None,
    annotator: str | None,
    status: str | None,
    lang: str | None,
    search: str | None,
    limit: int,
    offset: int,
    as_json: bool,
    order: str = "import",
) -> None:
    """List documents with their status and number of entities.

    Example:

        annotate docs --status todo --search "Жапаров"

        annotate docs --status todo --order uncertainty --limit 10
    """
    store = get_store(db_path, annotator)
    figures: dict[int, tuple[float, int]] | None = None
    with store, store_errors():
        if order != "import":
            rows, figures = _model_order(store, order, status, lang, search, limit, offset)
        else:
            rows = store.documents(status=status, lang=lang, search=search, limit=limit, offset=offset)
        if not as_json:
            whose_work(store)
    if as_json:
        for d in rows:
            record = {
                "id": d.id, "title": d.title, "lang": d.lang, "source": d.source, "line": d.line,
                "status": d.status, "entities": d.entities, "suggestions": d.suggestions,
            }
            if figures is not None:
                record["uncertainty"], record["predicted_entities"] = figures[d.id]
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    columns = ["id", "title", "lang", "status", "entities", "source"]
    if figures is not None:
        columns += ["uncertainty", "predicted"]
    table = make_table(*columns)
    source_column = table.columns[columns.index("source")]
    source_column.max_width, source_column.no_wrap = 18, True  # the title gets the room first
    for d in rows:
        source = d.source + (f":{d.line}" if d.line else "")
        cells = [str(d.id), cut(d.title), d.lang, d.status, str(d.entities), cut(source)]
        if figures is not None:
            cells += [f"{figures[d.id][0]:.3f}", str(figures[d.id][1])]
        table.add_row(*cells)
    console.print(table)


def _model_order(
    store: Store, order: str, status: str | None, lang: str | None, search: str | None, limit: int, offset: int
) -> tuple[list[DocumentSummary], dict[int, tuple[float, int]] | None]:
    """One page of the matching documents in the model's order, with its figures per
    document; import order (and a notice) when there is no model yet."""
    from annotations.model import ModelError
    from annotations.recognisers.crf import load_model, propagation_lexicon, rank_documents

    try:
        model = load_model(store.path, store.annotator)
    except ModelError as exc:
        raise click.ClickException(inert(str(exc))) from None
    if model is None:
        err_console.print(
            f"Notice: no model trained yet for {inert(store.annotator)}, so the documents are in import"
            " order. Mark documents done in the app (it retrains as you go) or run"
            " `annotate suggest --recogniser crf`."
        )
        return store.documents(status=status, lang=lang, search=search, limit=limit, offset=offset), None
    docs = list(store.iter_documents(status=status, lang=lang, search=search))
    ranked = rank_documents(store, model, order, [d.id for d in docs], lexicon=propagation_lexicon(store))
    by_id = {d.id: d for d in docs}
    page = ranked[offset:offset + limit]
    return [by_id[i] for i, _ in page], {i: (round(u.uncertainty, 4), u.entities) for i, u in page}


# -- stats ---------------------------------------------------------------------------------


def _counts_table(title: str, counts: dict[str, int], key: str) -> Table:
    table = make_table(key, "count", free=(key,), max_width=40, title=title, title_justify="left")
    for name, n in counts.items():
        table.add_row(cut(name), str(n))
    return table


@main.command("stats", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables (with the charts' numbers).")
@click.option("--plot", is_flag=True, help="Draw the dashboard's charts in the terminal (plotext).")
def stats_command(db_path: Path | None, as_json: bool, plot: bool = False) -> None:
    """Documents by status and language, spans by label and origin, per annotator.

    --plot draws the charts of the app's statistics screen (key g); --json gives the
    numbers behind them under "charts".

    Example:

        annotate stats --db news.db --json

        annotate stats --db news.db --plot
    """
    from annotations.dashboard import chart_data

    store = get_store(db_path)
    with store:
        stats = store.stats()
        charts = chart_data(store, stats) if as_json or plot else None
    if as_json:
        click.echo(json.dumps({**stats, "charts": charts}, ensure_ascii=False, indent=2))
        return
    if plot:
        from .charts import plot_text

        width = max(40, min(console.width, 120)) if console.is_terminal else 100
        click.echo(plot_text(charts or {}, width=width, colour=console.is_terminal))
        return
    docs = stats["documents"]
    console.print(f"Documents: {docs['total']}")
    console.print(_counts_table("Documents by language", docs["by_language"], "language"))
    console.print(_counts_table("Spans by label (accepted)", stats["spans"]["by_label"], "label"))
    console.print(_counts_table("Spans by origin (accepted)", stats["spans"]["by_origin"], "origin"))
    console.print(_counts_table("Spans by state", stats["spans"]["by_state"], "state"))
    per = make_table("annotator", "todo", "done", "skipped", "accepted", "pending", "rejected", "sessions",
                     free=("annotator",), max_width=24, title="Per annotator", title_justify="left")
    for name, a in stats["annotators"].items():
        per.add_row(
            cut(name), *(str(a["documents"][s]) for s in ("todo", "done", "skipped")),
            *(str(a["spans"].get(s, 0)) for s in ("accepted", "pending", "rejected")),
            str(len(a["sessions"])),
        )
    if EVERYONE in stats["annotators"]:
        per.caption, per.caption_justify = f"{EVERYONE}: the suggestions for everyone (annotate suggest)", "left"
    console.print(per)
    sessions = make_table("annotator", "session", "started (UTC)", "minutes", "done", "added",
                          "per min", free=("annotator",), max_width=24, title="Tagging sessions",
                          title_justify="left", caption_justify="left",
                          caption="done: documents marked done; added: entities added; per min: entities a minute")
    for name, a in stats["annotators"].items():
        for s in a["sessions"]:
            sessions.add_row(
                cut(name), str(s["id"]), s["started"][:19].replace("T", " "), f"{s['minutes']:.1f}",
                str(s["documents_done"]), str(s["spans_added"]), f"{s['entities_per_minute']:.1f}",
            )
    if sessions.row_count:
        console.print(sessions)


# -- labels --------------------------------------------------------------------------------


@main.group("labels", invoke_without_command=True, context_settings=CONTEXT_SETTINGS)
@db_option
@click.pass_context
def labels_group(ctx: click.Context, db_path: Path | None) -> None:
    """List the label set, or add, edit and remove labels.

    Example:

        annotate labels --db news.db
    """
    ctx.ensure_object(dict)
    ctx.obj["db_path"] = db_path
    if ctx.invoked_subcommand is None:
        store = get_store(db_path)
        with store:
            labels = store.labels()
        table = Table("key", "label", "colour", "description")
        for lab in labels:
            table.add_row(lab.key or "", plain(lab.name), Text(f"■ {lab.colour}", style=lab.colour), plain(lab.description))
        console.print(table)


def _labels_db(ctx: click.Context, db_path: Path | None) -> Path | None:
    return db_path or (ctx.obj or {}).get("db_path")


@labels_group.command("add", context_settings=CONTEXT_SETTINGS)
@db_option
@click.argument("name")
@click.option("--key", default=None, help="Key that gives this label (default: next free digit).")
@click.option("--colour", "--color", "colour", default=None, help="Colour as #rrggbb.")
@click.option("--description", default="", help="What the label means.")
@click.pass_context
def labels_add(ctx: click.Context, db_path: Path | None, name: str, key: str | None,
               colour: str | None, description: str) -> None:
    """Add a label.

    Example:

        annotate labels add EVENT --key 4 --colour "#c678dd"
    """
    store = get_store(_labels_db(ctx, db_path))
    with store, store_errors():
        check_label_key(store, key)
        lab = store.add_label(name, key=key, colour=colour, description=description)
    console.print(plain(f"Added label {lab.name} (key {lab.key or '-'}, {lab.colour})."))


@labels_group.command("edit", context_settings=CONTEXT_SETTINGS)
@db_option
@click.argument("name")
@click.option("--name", "new_name", default=None, help="Rename the label (its spans follow).")
@click.option("--key", default=None)
@click.option("--colour", "--color", "colour", default=None)
@click.option("--description", default=None)
@click.pass_context
def labels_edit(ctx: click.Context, db_path: Path | None, name: str, new_name: str | None,
                key: str | None, colour: str | None, description: str | None) -> None:
    """Change a label's name, key, colour or description.

    Example:

        annotate labels edit ORG --colour "#e5c07b" --description "Organisation"
    """
    store = get_store(_labels_db(ctx, db_path))
    with store, store_errors():
        check_label_key(store, key, label=name)
        lab = store.edit_label(name, new_name=new_name, key=key, colour=colour, description=description)
    console.print(plain(f"Label {lab.name}: key {lab.key or '-'}, colour {lab.colour}."))


@labels_group.command("remove", context_settings=CONTEXT_SETTINGS)
@db_option
@click.argument("name")
@click.option("--force", is_flag=True, help="Also delete the spans that use the label.")
@click.pass_context
def labels_remove(ctx: click.Context, db_path: Path | None, name: str, force: bool) -> None:
    """Remove a label (refused while spans use it, unless --force).

    Example:

        annotate labels remove EVENT
    """
    store = get_store(_labels_db(ctx, db_path))
    with store, store_errors():
        n = store.remove_label(name, force=force)
    console.print(plain(f"Removed label {name}" + (f" and {n} span(s)." if n else ".")))
