"""``annotate suggest`` (run recognisers) and ``annotate evaluate`` (score against gold)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from annotations import EVERYONE, Store, inert
from annotations.evaluate import WHAT, EvalReport, evaluate_store, read_gold
from annotations.importer import ImportFailure
from annotations.label_map import LabelMapError, labels_off_the_corpus, parse_mapping, save_label_map
from annotations.recognisers import (
    RecogniserError,
    build_recognisers,
    recogniser_info,
    recogniser_names,
    run_recognisers,
)
from annotations.recognisers.patterns import Pattern, PatternError, read_patterns, save_patterns

from .cli_common import (
    CONTEXT_SETTINGS,
    annotator_option,
    console,
    db_option,
    err_console,
    get_store,
    plain,
    store_errors,
    whose_work,
)


@contextlib.contextmanager
def doc_progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar over documents on stderr (only on a terminal)."""
    if not err_console.is_terminal:
        yield lambda done, total: None
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _read_pattern_files(files: tuple[Path, ...]) -> list[tuple[Path, list[Pattern]]]:
    out = []
    for path in files:
        try:
            out.append((path, read_patterns(path)))
        except PatternError as exc:
            raise click.ClickException(inert(str(exc))) from None
    return out


def _recogniser_list() -> None:
    table = Table("recogniser", "priority", "default", "description")
    for name in recogniser_names():
        info = recogniser_info(name)
        table.add_row(plain(name), str(info.priority), "yes" if info.default else "no", plain(info.description))
    console.print(table)


@click.command("suggest", context_settings=CONTEXT_SETTINGS)
@db_option
@annotator_option
@click.option("--recogniser", "--recognizer", "names", multiple=True, metavar="NAME",
              help="Run only this recogniser (repeatable; default: every one that can run here). "
                   "See --list.")
@click.option("--patterns", "pattern_files", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="spaCy EntityRuler-style JSONL patterns to match in this run (repeatable).")
@click.option("--gazetteer", "gazetteer_files", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Your own names, one LABEL<TAB>name a line (or JSON lines), found in all their "
                   "word forms by the gazetteer recogniser (repeatable).")
@click.option("--keep-patterns", is_flag=True,
              help="Also keep the --patterns in the database, for later runs and the app's refreshes "
                   "(replacing patterns kept earlier from a file of the same name).")
@click.option("--status", type=click.Choice(["todo", "any"]), default="todo", show_default=True,
              help="Documents to visit: those you have not marked done or skipped, or all.")
@click.option("--map", "mappings", multiple=True, metavar="FROM=TO",
              help="Map a recogniser's label to one of yours (repeatable; kept in the database for later"
                   " runs and the app): --map PER=Person. FROM= drops that label.")
@click.option("--list", "list_only", is_flag=True, help="List the recognisers and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def suggest_command(
    db_path: Path | None,
    annotator: str | None,
    names: tuple[str, ...],
    pattern_files: tuple[Path, ...],
    gazetteer_files: tuple[Path, ...],
    keep_patterns: bool,
    status: str,
    list_only: bool,
    as_json: bool,
    mappings: tuple[str, ...] = (),
) -> None:
    """Suggest entities: run recognisers over the documents and store pending suggestions.

    Recognisers: "propagation" finds the entities you labelled again, in all their Kyrgyz
    and Russian word forms, and "translit" the same spelt in the other script (Cyrillic ↔
    Latin); "gazetteer" finds country, region and city names (CLDR, iso-codes) and the
    names of your --gazetteer files; "natasha-ky" finds in Kyrgyz documents the names
    Natasha finds in Russian ones; "patterns" matches pattern files; "natasha" tags Russian
    documents; "crf" (only when named) is the model
    that learns from your labelled documents: it is trained first when there is no saved
    model or you labelled documents since, and its suggestions are scored by the model's
    probability. A rerun replaces a recogniser's earlier suggestions; your accepted spans
    and rejected suggestions are never touched.

    Suggestions are for everyone: every annotator sees them until they decide, and
    propagation learns from everyone's accepted spans. --annotator NAME keeps them to one
    annotator (and is needed for crf, which is always one annotator's model).

    Example:

        annotate suggest --db news.db --recogniser propagation --patterns orgs.jsonl

        annotate suggest --db news.db --annotator aida --recogniser propagation --recogniser crf

        annotate suggest --db news.db --gazetteer my-names.tsv

        annotate suggest --db factrueval.db --recogniser natasha --map PER=Person --map LOC=Location
    """
    if list_only:
        _recogniser_list()
        return
    loaded = _read_pattern_files(pattern_files)
    wanted = list(names)
    if loaded and wanted and "patterns" not in wanted:
        wanted.append("patterns")
    extra = [p for _, pats in loaded for p in pats]
    if gazetteer_files and wanted and "gazetteer" not in wanted:
        wanted.append("gazetteer")
    options: dict[str, dict[str, Any]] = {"patterns": {"patterns": [] if keep_patterns else extra}}
    if gazetteer_files:
        options["gazetteer"] = {"files": list(gazetteer_files)}
    try:
        recognisers, skipped = build_recognisers(wanted or None, options)
    except (RecogniserError, ImportFailure) as exc:
        raise click.ClickException(inert(str(exc))) from None
    try:
        mapping = parse_mapping(mappings)
    except LabelMapError as exc:
        raise click.ClickException(inert(str(exc))) from None
    who = annotator or _root_annotator()
    if who is None and any(r.name == "crf" for r in recognisers):
        raise click.ClickException(
            "the crf model learns from one annotator's labelled documents: name them with --annotator NAME"
        )
    store = get_store(db_path, who or EVERYONE)
    with store, store_errors():
        if mapping:
            try:
                save_label_map(store, mapping)
            except LabelMapError as exc:
                raise click.ClickException(inert(str(exc))) from None
        if keep_patterns:
            for path, pats in loaded:
                save_patterns(store, pats, path.name)
        _ready_crf(store, recognisers)
        known = {lab.name for lab in store.labels()}
        unknown = sorted({p.label for _, pats in loaded for p in pats} - known)
        with doc_progress("Suggesting") as update:
            try:
                report = run_recognisers(store, recognisers, status=status, progress=update)
            except RecogniserError as exc:
                raise click.ClickException(inert(str(exc))) from None
        notes = explain_run(store, recognisers, report, status)
        off_corpus = labels_off_the_corpus(store, report.suggestions)
        used = sorted(store.backend.labels_in_use()) if off_corpus else []
        annotator_name = store.annotator
    report.skipped.update(skipped)
    if as_json:
        data = {**report.to_dict(), "annotator": annotator_name, "notes": [n.strip() for n in notes],
                "labels_off_the_corpus": off_corpus}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        notes = []
    else:
        per = ", ".join(f"{name} {n}" for name, n in report.suggestions.items()) or "no recogniser ran"
        console.print(plain(
            f"Suggested {report.total} new span(s) in {report.documents} document(s)"
            f" in {report.seconds:.2f} s ({report.docs_per_second:.0f} documents/s): {per}."
        ))
    for name, reason in report.skipped.items():
        err_console.print(plain(f"Skipped {name}: {reason}"))
    for note in notes:
        err_console.print(plain(note))
    for name, missing in report.unmapped.items():
        found = ", ".join(f"{label} ({n})" for label, n in sorted(missing.items()))
        hint = " ".join(f"--map {label}=YOURS" for label in sorted(missing))
        if not report.suggestions.get(name):
            err_console.print(plain(
                f"{name} suggested nothing usable: none of its labels are in the label set ({found});"
                f" map them to yours with {hint}"
            ))
        else:
            err_console.print(plain(
                f"Warning: {name}'s labels {found} are not in the label set; those suggestions were"
                f" left out (map them with {hint})"
            ))
    for name, labels in off_corpus.items():
        found = ", ".join(f"{label} ({n})" for label, n in labels.items())
        hint = " ".join(f"--map {label}=YOURS" for label in labels)
        err_console.print(plain(
            f"Warning: {name}'s suggestions are all in labels no accepted span uses ({found}), while your"
            f" accepted spans use {', '.join(used)}; if they name the same entities, map them: {hint}"
        ))
    for label in unknown:
        err_console.print(plain(
            f"Warning: patterns use the label {label}, which is not in the label set; "
            f"add it with: annotate labels add {label}"
        ))


def _root_annotator() -> str | None:
    """``--annotator`` given before the command (``annotate --annotator aida suggest``)."""
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().params.get("annotator") if ctx is not None else None


_LANGUAGE_NAMES = {"ky": "Kyrgyz", "ru": "Russian", "xx": "other-language"}


def _visited_languages(store: Store, status: str) -> dict[str, int]:
    """Documents per language that a run with ``status`` visits."""
    return store.backend.documents_by_language(todo_for=store.annotator if status == "todo" else None)


def explain_run(store: Store, recognisers: list[Any], report: Any, status: str) -> list[str]:
    """What each recogniser did, on which languages, why it found nothing, and what next."""
    everyone = store.annotator == EVERYONE
    whose = "everyone's" if everyone else f"{inert(store.annotator)}'s"
    notes = [
        "These suggestions are for everyone: every annotator sees them until they decide"
        " (--annotator NAME keeps them to one)."
        if everyone else f"These suggestions are for {inert(store.annotator)} only."
    ]
    langs = _visited_languages(store, status)
    accepted = store.backend.count_accepted(None if everyone else store.annotator)
    for rec in recognisers:
        handled = getattr(rec, "languages", None)
        on = {k: n for k, n in langs.items() if handled is None or k in handled}
        where = ", ".join(f"{n} {_LANGUAGE_NAMES.get(k, k)}" for k, n in on.items()) or "no"
        line = f"  {rec.name}: {report.suggestions.get(rec.name, 0)} new, ran on {where} document(s)"
        left = {k: n for k, n in langs.items() if k not in on}
        if left:
            line += " (not on " + ", ".join(f"{n} {_LANGUAGE_NAMES.get(k, k)}" for k, n in left.items()) + ")"
        if rec.name == "propagation" and not accepted:
            line += f"; nothing labelled yet ({whose} accepted spans are what it finds again)"
        elif rec.name == "patterns" and not getattr(rec, "patterns", None):
            line += "; no patterns (give --patterns FILE)"
        notes.append(line)
    if report.total == 0:
        labelled = any(r.name in ("propagation", "crf") for r in recognisers)
        notes.append(
            "Nothing new was suggested. Next: open the app (annotate"
            + ("" if everyone else f" --annotator {inert(store.annotator)}")
            + ") and label a few entities (put the cursor on a name and press "
            + (", ".join(f"{lab.key} for {inert(lab.name)}" for lab in store.labels() if lab.key)[:80]
               or "a label's key")
            + "), then run"
            " annotate suggest again" + (" so propagation finds them everywhere" if labelled else "")
            + "; or give spaCy-style patterns with --patterns FILE."
        )
    return notes


def _ready_crf(store: Store, recognisers: list[Any]) -> None:
    """Give a ``crf`` recogniser its model, training (and saving) one first if needed."""
    crf = [r for r in recognisers if r.name == "crf"]
    if not crf:
        return
    from annotations.model import ModelError
    from annotations.recognisers.crf import ensure_model, model_dir

    try:
        model, why = ensure_model(store)
    except ModelError as exc:
        raise click.ClickException(inert(str(exc))) from None
    if why is not None:
        err_console.print(plain(
            f"Trained the model on {model.state.documents} labelled document(s) ({why});"
            f" saved in {model_dir(store.path, store.annotator)}."
        ))
    for rec in crf:
        rec.model = model


# -- evaluate ------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def _eval_table(report: EvalReport) -> Table:
    table = Table("label", "gold", "pred", "P", "R", "F1", "P ovl", "R ovl", "F1 ovl",
                  title=f"{report.what} vs gold: exact spans, then overlapping spans (ovl)",
                  title_justify="left")
    rows = [*sorted(report.labels.values(), key=lambda s: s.label), report.overall]
    for s in rows:
        table.add_row(
            plain(s.label), str(s.gold), str(s.predicted),
            _fmt(s.exact.precision), _fmt(s.exact.recall), _fmt(s.exact.f1),
            _fmt(s.overlap.precision), _fmt(s.overlap.recall), _fmt(s.overlap.f1),
        )
    return table


@click.command("evaluate", context_settings=CONTEXT_SETTINGS)
@db_option
@annotator_option
@click.argument("gold", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--what", type=click.Choice(WHAT), default="annotations", show_default=True,
              help="Score an annotator's accepted spans, or the pending suggestions.")
@click.option("--origin", "origins", multiple=True, metavar="NAME",
              help="With --what suggestions: only suggestions from this recogniser (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def evaluate_command(
    db_path: Path | None,
    annotator: str | None,
    gold: Path,
    what: str,
    origins: tuple[str, ...],
    as_json: bool,
) -> None:
    """Score annotations or suggestions against a gold JSONL file.

    GOLD holds one record per line with "text" and "spans" ([{"start", "end", "label"}]).
    Documents are matched by text. Prints precision, recall and F1 per label and overall,
    for exact span matches and for overlapping spans of the same label.

    Example:

        annotate evaluate --db news.db benchmarks/gold/gold.jsonl --what suggestions
    """
    try:
        gold_docs = read_gold(gold)
    except ImportFailure as exc:
        raise click.ClickException(inert(str(exc))) from None
    who = annotator or _root_annotator()
    if who is None and what == "suggestions":
        who = EVERYONE  # nobody named: the suggestions for everyone
    store = get_store(db_path, who)
    with store, store_errors():
        report = evaluate_store(store, gold_docs, what=what, annotator=store.annotator,
                                origins=origins)
        if as_json:
            pass  # the report names its annotator
        elif what == "annotations":
            whose_work(store, "accepted spans")
        elif store.annotator == EVERYONE:
            err_console.print("Scoring the suggestions for everyone (--annotator NAME adds one annotator's own).")
        else:
            err_console.print(plain(f"Scoring the suggestions {store.annotator} sees (their own and everyone's)."))
        if not as_json and what == "suggestions" and report.documents and report.overall.predicted == 0:
            err_console.print("Warning: there are no pending suggestions in the scored documents; run annotate suggest first.")
    if report.documents == 0:
        raise click.ClickException(
            f"none of the {len(gold_docs)} gold document(s) are in the database; import their texts first"
        )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(_eval_table(report))
    console.print(plain(
        f"Documents: {report.documents} scored"
        + (f", {report.missing} gold document(s) not in the database." if report.missing else ".")
    ))
