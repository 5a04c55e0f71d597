"""``annotate assign``, ``agree``, ``review`` and ``merge``: working as a team (``annotations.team``)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich import box
from rich.table import Column, Table

from annotations import LANGUAGES, StoreError, inert

from .cli_common import (
    CONTEXT_SETTINGS,
    DatabaseLocation,
    annotator_option,
    console,
    db_option,
    err_console,
    file_progress,
    get_store,
    plain,
    store_errors,
)

__all__ = ["agree_command", "assign_command", "merge_command", "review_command"]


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    from annotations.team import parse_annotators

    try:
        return parse_annotators(value)
    except StoreError as exc:
        raise click.BadParameter(inert(str(exc)), param_hint="--annotators") from None


# -- assign ----------------------------------------------------------------------------------


@click.command("assign", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--annotators", required=True, metavar="A,B,...", help="Who shares the work (comma-separated).")
@click.option("--overlap", default="1", show_default=True, metavar="N|all",
              help="How many of them annotate each document (all: every one of them).")
@click.option("--only", type=click.Choice(["any", "todo"]), default="any", show_default=True,
              help="todo: leave out documents somebody already marked done or skipped.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Only documents in this language.")
@click.option("--search", default=None, metavar="TEXT", help="Only documents matching this full-text search.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def assign_command(db_path: Path | None, annotators: str, overlap: str, only: str, lang: str | None,
                   search: str | None, as_json: bool) -> None:
    """Share the documents out: each goes to --overlap of the annotators, balanced.

    The same documents go to the same people when run again; run it again with another
    annotator added and only unassigned or under-covered documents are given out. In the
    app, an annotator with assignments works through their own queue.

    Example:

        annotate assign --db news.db --annotators aida,bek,chyngyz --overlap 2 --only todo
    """
    from annotations.team import assign

    names = _names(annotators) or []
    store = get_store(db_path)
    with store, store_errors():
        report = assign(store, names, overlap if overlap == "all" else _int(overlap), only=only, lang=lang,
                        search=search)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(plain(
        f"{report.documents} document(s) selected, overlap {report.overlap}: {report.new} new assignment(s);"
        f" {report.covered} document(s) were already covered."))
    table = Table("annotator", "new", "assigned in all", title=None)
    for name in report.annotators:
        table.add_row(plain(name), str(report.added[name]), str(report.total[name]))
    console.print(table)


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use a number or all", param_hint="--overlap") from None


# -- agree -----------------------------------------------------------------------------------


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


@click.command("agree", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--annotators", default=None, metavar="A,B,...",
              help="Whose agreement (default: everyone with done documents, reviewers aside).")
@click.option("--label", "labels", multiple=True, metavar="L", help="Only spans with this label (repeatable).")
@click.option("--reviewer", default=None, metavar="NAME",
              help="Also score each annotator against this reviewer's layer (default: the one reviewer, if any).")
@click.option("--lowest", type=click.IntRange(0), default=10, show_default=True,
              help="How many of the lowest-agreement documents to list.")
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
def agree_command(db_path: Path | None, annotators: str | None, labels: tuple[str, ...], reviewer: str | None,
                  lowest: int, as_json: bool) -> None:
    """Inter-annotator agreement on the documents two or more annotators marked done.

    Pairwise span precision/recall/F1 (exact and overlapping, per label; the first of the
    pair is the reference), token-level Cohen's kappa per pair and Krippendorff's alpha
    (nominal) over all of them on BIO tags, a label confusion table, and the documents
    with the lowest agreement: what to review first.

    Example:

        annotate agree --db news.db --annotators aida,bek,chyngyz --json
    """
    from annotations.team.agree import agree

    store = get_store(db_path)
    with store, store_errors():
        report = agree(store, _names(annotators), labels=labels, reviewer=reviewer)
    if as_json:
        click.echo(json.dumps(report.to_dict(lowest), ensure_ascii=False, indent=2))
        return
    console.print(plain(
        f"Agreement of {', '.join(report.annotators) or 'nobody'} on {report.documents} document(s)"
        f" done by two or more of them ({report.tokens:,} tokens)."))
    if not report.documents:
        err_console.print("Notice: no document was marked done by two or more of these annotators.")
        return
    # Names and numbers in full at 80 columns (the headers wrap instead): a cut one says nothing.
    widest = max((len(f"{p.a} / {p.b}") for p in report.pairs), default=4)
    pairs = Table(Column("pair", no_wrap=True, min_width=min(widest, 40)),
                  *(Column(h, no_wrap=True, min_width=5) for h in ("docs", "kappa")),
                  *(Column(h, min_width=5) for h in ("exact P", "exact R", "exact F1", "ovlp P", "ovlp R",
                                                     "ovlp F1")),
                  title="Pairs (first = reference; exact spans, and overlapping: ovlp)", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for p in report.pairs:
        e, o = p.overall.exact, p.overall.overlap
        pairs.add_row(plain(f"{p.a} / {p.b}"), str(p.documents), _f(p.kappa), _f(e.precision), _f(e.recall),
                      _f(e.f1), _f(o.precision), _f(o.recall), _f(o.f1))
    console.print(pairs)
    per = Table("pair", "label", "spans", "exact F1", "overlap F1", title="Per label", title_justify="left")
    for p in report.pairs:
        for name, score in sorted(p.labels.items()):
            per.add_row(plain(f"{p.a} / {p.b}"), plain(name), f"{score.gold} / {score.predicted}",
                        _f(score.exact.f1), _f(score.overlap.f1))
    console.print(per)
    console.print(plain(f"Krippendorff's alpha (nominal, BIO tags, all annotators): {_f(report.alpha)}"))
    if report.confusion:
        names = sorted(report.confusion)
        conf = Table("label", title="Same span, labels (symmetric)", title_justify="left")
        for n in names:
            conf.add_column(plain(n))
        for a in names:
            conf.add_row(plain(a), *[str(report.confusion[a].get(b, 0)) for b in names])
        console.print(conf)
    if lowest:
        docs = Table("doc", "title", "F1", "differing spans", "annotators", title="Lowest agreement first",
                     title_justify="left")
        for d in report.documents_by_agreement[:lowest]:
            docs.add_row(str(d.doc_id), plain(d.title[:40]), _f(d.f1), str(d.disagreements),
                         plain(", ".join(d.annotators)))
        console.print(docs)
    if report.reviewer and report.versus_reviewer:
        rev = Table("annotator", "docs", "kappa", "exact P", "exact R", "exact F1", "overlap F1",
                    title=f"Against the reviewer {inert(report.reviewer)}", title_justify="left")
        for p in report.versus_reviewer:
            e = p.overall.exact
            rev.add_row(plain(p.b), str(p.documents), _f(p.kappa), _f(e.precision), _f(e.recall), _f(e.f1),
                        _f(p.overall.overlap.f1))
        console.print(rev)


# -- review ----------------------------------------------------------------------------------


@click.command("review", context_settings=CONTEXT_SETTINGS)
@db_option
@annotator_option
@click.option("--annotators", default=None, metavar="A,B,...",
              help="Whose work to adjudicate (default: everyone with done documents, reviewers aside).")
@click.option("--as", "reviewer", default=None, metavar="REVIEWER",
              help="Whose layer the decisions go to (default: --annotator, else $USER).")
@click.option("--keys", "keys_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="ANNOTATE_KEYS", help="Keymap file, as for `annotate open`.")
def review_command(db_path: Path | None, annotator: str | None, annotators: str | None, reviewer: str | None,
                   keys_path: Path | None) -> None:
    """Adjudicate: walk the documents by lowest agreement and decide every conflict.

    Spans all annotators agree on are already in the reviewer's layer; for each conflict
    take one annotator's version (a, b, c...), all of one annotator in the document
    (shift: A, B, C...), or label by hand with the usual keys; tab goes to the next
    conflict, d marks the document reviewed. `annotate export --annotator REVIEWER` is
    then the adjudicated gold.

    Example:

        annotate review --db news.db --annotators aida,bek --as lead
    """
    from annotations.team.agree import done_annotators, reviewers

    from .keymap import KeymapError, load_keymap

    try:
        keymap = load_keymap(keys_path)
    except KeymapError as exc:
        raise click.ClickException(inert(str(exc))) from None
    store = get_store(db_path, reviewer or annotator)
    names = _names(annotators)
    if names is None:
        found = set(reviewers(store)) | {store.annotator}
        names = [a for a in done_annotators(store) if a not in found]
    names = [a for a in names if a != store.annotator]
    if len(names) < 2:
        store.close()
        raise click.ClickException("review needs two or more annotators (other than the reviewer) to compare")
    from .review import MAX_ANNOTATORS, run_review

    if len(names) > MAX_ANNOTATORS:
        store.close()
        raise click.ClickException(f"review compares at most {MAX_ANNOTATORS} annotators at once")
    run_review(store, names, keymap)


# -- merge -----------------------------------------------------------------------------------


def _shown(source: Path | str) -> str:
    """A source as printed: a PostgreSQL URL without its password."""
    from annotations.store import is_postgres_url

    if is_postgres_url(source):
        from annotations.store.postgres_backend import redact

        return redact(str(source))
    return str(source)


@click.command("merge", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per source.")
@click.argument("sources", nargs=-1, required=True, type=DatabaseLocation(dir_okay=False, path_type=Path))
def merge_command(db_path: Path | None, as_json: bool, sources: tuple[Path | str, ...]) -> None:
    """Bring in the work of other databases (annotated elsewhere, e.g. on a laptop).

    Documents are matched by their text; labels, spans, statuses, assignments and each
    annotator's event log (so undo still works) come along. Merging twice changes nothing.
    A source that conflicts (a label with another key or colour, an annotator's different
    spans on a document) is refused whole, with every conflict listed.

    Example:

        annotate merge --db shared.db laptop-aida.db laptop-bek.db
    """
    from annotations.team.merge import MergeConflict, merge_database

    store = get_store(db_path)
    refused = 0
    with store, file_progress("Merging") as update:
        for i, source in enumerate(sources):
            update(i, len(sources), _shown(source))
            try:
                report = merge_database(store, source)
            except MergeConflict as exc:
                refused += 1
                err_console.print(plain(f"Refused {exc.source}: {len(exc.problems)} conflict(s), nothing merged:"))
                for problem in exc.problems[:50]:
                    err_console.print(plain(f"  - {problem}"))
                if len(exc.problems) > 50:
                    err_console.print(f"  ... and {len(exc.problems) - 50} more.")
                if as_json:
                    click.echo(json.dumps({"source": exc.source, "refused": True, "problems": exc.problems},
                                          ensure_ascii=False))
                continue
            except StoreError as exc:
                refused += 1
                err_console.print(plain(f"Refused: {exc}"))
                continue
            if as_json:
                click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
            elif report.changed:
                console.print(plain(
                    f"Merged {report.source}: {report.documents} new document(s), {report.spans} span(s),"
                    + (f" {report.updated} layer(s) brought up to its later state," if report.updated else "")
                    + f" {report.statuses} status(es), {report.assignments} assignment(s), {report.events} event(s)"
                    + (f"; new labels {', '.join(report.labels)}" if report.labels else "") + "."))
            else:
                console.print(plain(f"{report.source}: nothing new (already merged)."))
        update(len(sources), len(sources), "")
    if refused:
        raise click.ClickException(f"{refused} of {len(sources)} source(s) refused; see above.")
