"""``annotate train``: train a model on the accepted spans and say how good it is."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from annotations import inert
from annotations.model import (
    CRFModel,
    LabelledDocument,
    ModelError,
    Scores,
    labelled_documents,
    learning_curve,
    split_documents,
)
from annotations.model.curve import CurvePoint, curve_sizes, curve_table

from .cli_common import (
    CONTEXT_SETTINGS,
    console,
    db_option,
    err_console,
    get_store,
    plain,
)

#: ``update(description, done, total)``.
Update = Callable[[str, int, int], None]


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Update]:
    """A rich progress bar on stderr (only on a terminal and without ``--json``)."""
    if not enabled:
        yield lambda description, done, total: None
        return
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    with bar:
        task = bar.add_task("Reading", total=None)

        def update(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=total or None)

        yield update


def _scores_table(scores: Scores, title: str) -> Table:
    table = Table("label", "precision", "recall", "F1", "support", title=title, title_justify="left")
    for name, s in scores.labels.items():
        table.add_row(plain(name), f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support))
    o = scores.overall
    table.add_row("overall", f"{o.precision:.3f}", f"{o.recall:.3f}", f"{o.f1:.3f}", str(o.support),
                  style="bold")
    return table


def _check_output(output: Path | None) -> None:
    if output is not None and output.exists() and not output.is_dir():
        raise click.ClickException(f"{inert(str(output))}: exists and is not a directory")


@click.command("train", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--annotator", default=None, metavar="NAME",
              help="Train on this annotator's labels only (default: every annotator's).")
@click.option("--model", "kind", type=click.Choice(["crf", "spacy"]), default="crf", show_default=True,
              help="crf: the fast model the annotation loop uses; spacy: a spaCy pipeline for production.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to write the trained model to (default: evaluate only, write nothing).")
@click.option("--eval-split", type=click.FloatRange(0, 1, max_open=True), default=0.2, show_default=True,
              help="Share of the labelled documents held out to measure precision/recall/F1.")
@click.option("--curve/--no-curve", default=None,
              help="Draw the learning curve (default: on for crf, off for spacy, which trains once per point).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the held-out split.")
@click.option("--iterations", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="crf: L-BFGS iterations at most.")
@click.option("--max-steps", type=click.IntRange(1), default=400, show_default=True,
              help="spacy: training steps (optimizer updates).")
@click.option("--lang", type=click.Choice(["ky", "ru", "xx"]), default=None,
              help="spacy: the pipeline's language (default: the documents' own if they share one, else xx).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def train_command(
    ctx: click.Context,
    db_path: Path | None,
    annotator: str | None,
    kind: str,
    output: Path | None,
    eval_split: float,
    curve: bool | None,
    seed: int,
    iterations: int,
    max_steps: int,
    as_json: bool,
    lang: str | None = None,
) -> None:
    """Train an entity recogniser on the accepted spans and report how good it is.

    A labelled document is one marked done, or holding accepted spans (skipped ones are
    left out). A share of them (--eval-split) is held out: the model trained on the rest
    is scored on it (exact spans, per label), and the learning curve shows F1 against the
    number of labelled documents. The model written with -o is then trained on all of
    them: crf writes the model the annotation loop uses; spacy writes a pipeline that
    spacy.load(DIR) opens.

    Example:

        annotate train --db news.db --model spacy -o ner-model
    """
    _check_output(output)
    db_path = db_path or ctx.find_root().params.get("db_path")  # `annotate --db X train`
    show_curve = (kind == "crf") if curve is None else curve
    store = get_store(db_path)
    started = time.perf_counter()
    result: dict[str, Any] = {"model": kind, "annotator": annotator}
    with store, _progress(err_console.is_terminal and not as_json) as update:
        docs = labelled_documents(store, annotator)
        if not docs:
            who = f" by {annotator}" if annotator else ""
            raise click.ClickException(
                f"no labelled documents to train on{who}: mark documents done or accept spans first"
            )
        if not as_json:
            err_console.print(plain(
                f"Training on {annotator}'s labelled documents." if annotator else
                "Training on every annotator's labelled documents (--annotator NAME for one's only)."
            ))
        train, held = split_documents(docs, eval_split, seed)
        result.update(
            documents=len({d.doc_id for d in docs}),
            train_documents=len({d.doc_id for d in train}),
            held_out_documents=len({d.doc_id for d in held}),
        )
        try:
            if kind == "crf":
                scores, points = _train_crf(docs, train, held, output, iterations, show_curve, update, result)
            else:
                scores, points = _train_spacy(docs, train, held, output, max_steps, seed, show_curve, update,
                                              result, lang=lang, quiet=as_json)
        except ModelError as exc:
            raise click.ClickException(str(exc)) from None
    result["held_out"] = scores.to_dict() if scores else None
    result["curve"] = [p.to_dict() for p in points]
    result["output"] = str(output) if output else None
    result["seconds"] = round(time.perf_counter() - started, 3)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_result(result, scores, points, output)


def _train_crf(
    docs: list[LabelledDocument], train: list[LabelledDocument], held: list[LabelledDocument],
    output: Path | None, iterations: int, show_curve: bool, update: Update, result: dict[str, Any],
) -> tuple[Scores | None, list[CurvePoint]]:
    """Fit on the training part, score the held-out part, draw the curve, refit on all, save."""
    names = {"features": "Features", "training": "Training", "evaluating": "Evaluating",
             "refit": "Training on all documents"}

    def progress(stage: str, done: int, total: int) -> None:
        update(names.get(stage, stage), done, total)

    params = {"max_iterations": iterations}
    model = CRFModel.fit(train, params=params, progress=progress)
    scores = model.evaluate(held, progress=progress) if held else None
    points: list[CurvePoint] = []
    if show_curve and held:
        points = learning_curve(
            train, held, params=params,
            progress=lambda step, total: update("Learning curve", step, total),
        )
    if output is not None:
        if held:
            model = CRFModel.fit(docs, params=params, progress=progress, stage="refit")
        if scores is not None:
            model.state = replace(
                model.state, held_out=scores.to_dict(), held_out_documents=len({d.doc_id for d in held})
            )
        model.save(output)
    result["state"] = model.state.to_dict()
    return scores, points


def _train_spacy(
    docs: list[LabelledDocument], train: list[LabelledDocument], held: list[LabelledDocument],
    output: Path | None, max_steps: int, seed: int, show_curve: bool, update: Update,
    result: dict[str, Any], lang: str | None = None, quiet: bool = False,
) -> tuple[Scores | None, list[CurvePoint]]:
    """Train and score a spaCy pipeline; with -o, train again on everything and write it.

    spaCy's evaluations (epoch, step, loss, F1) are printed on stderr as they come, and the
    progress bar shows the latest; the pipeline's language and why it was chosen first.
    """
    import tempfile

    from annotations.model import train_spacy
    from annotations.model.spacy_train import Evaluation, choose_lang

    last: dict[str, Evaluation] = {}

    def steps(label: str) -> Callable[[int, int], None]:
        def step(done: int, total: int) -> None:
            ev = last.get(label)
            update(label + (f" · epoch {ev.epoch} · loss {ev.loss:.1f} · F1 {ev.score:.3f}" if ev else ""),
                   done, total)
        return step

    def evaluated(label: str, on: str) -> Callable[[Evaluation], None]:
        def show(ev: Evaluation) -> None:
            last[label] = ev
            if not quiet:
                err_console.print(plain(
                    f"{label}: step {ev.step:>{len(str(max_steps))}}/{max_steps}  epoch {ev.epoch:>3}"
                    f"  loss {ev.loss:10.2f}  F1 on {on} {ev.score:.3f}"
                ))
        return show

    lang, why = (lang, "chosen with --lang") if lang else choose_lang(docs)
    result["lang"], result["lang_reason"] = lang, why
    if not quiet:
        err_console.print(plain(f"Pipeline language: {lang} ({why})."))
    freq = max(10, max_steps // 8)
    scores = None
    with tempfile.TemporaryDirectory(prefix="annotate-spacy-") as tmp:
        if held or output is None:
            label = "Training spaCy"
            first = train_spacy(train, held, Path(tmp) / "model", max_steps=max_steps, seed=seed, lang=lang,
                                eval_frequency=freq, progress=steps(label),
                                evaluated=evaluated(label, "held-out" if held else "training"))
            scores = first.held_out
            result["lang"], result["labels"] = first.lang, list(first.labels)
    points = _spacy_curve(train, held, max_steps, seed, update, lang) if show_curve and held else []
    if output is not None:
        label = "Training spaCy on all documents"
        final = train_spacy(docs, [], output, max_steps=max_steps, seed=seed, lang=lang, eval_frequency=freq,
                            progress=steps(label), evaluated=evaluated(label, "training"))
        result["lang"], result["labels"] = final.lang, list(final.labels)
        if scores is not None:
            _record_scores(output, scores)
    return scores, points


def _record_scores(output: Path, scores: Scores) -> None:
    """Keep the held-out scores in the pipeline's meta.json (spaCy's place for them)."""
    meta_path = output / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.setdefault("performance", {})["annotate_held_out"] = scores.to_dict()
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")


def _spacy_curve(
    train: list[LabelledDocument], held: list[LabelledDocument], max_steps: int, seed: int, update: Update,
    lang: str | None = None,
) -> list[CurvePoint]:
    """The learning curve with a spaCy pipeline at every size (slow: one training per point)."""
    import tempfile

    from annotations.model import train_spacy

    order = list(dict.fromkeys(d.doc_id for d in train))
    sizes = curve_sizes(len(order))
    points = []
    for step, k in enumerate(sizes, 1):
        update(f"Learning curve ({k} documents)", step - 1, len(sizes))
        keep = set(order[:k])
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="annotate-curve-") as tmp:
            res = train_spacy([d for d in train if d.doc_id in keep], held, Path(tmp) / "m",
                              max_steps=max_steps, seed=seed, lang=lang)
        assert res.held_out is not None
        points.append(CurvePoint(k, res.held_out, time.perf_counter() - t0))
    return points


def _print_result(result: dict[str, Any], scores: Scores | None, points: list[CurvePoint], output: Path | None) -> None:
    console.print(
        f"{result['model']}: {result['documents']} labelled document(s):"
        f" {result['train_documents']} to train on, {result['held_out_documents']} held out."
    )
    if scores is not None:
        console.print(_scores_table(scores, "Held-out precision / recall / F1 (exact spans)"))
    else:
        console.print("Too few documents to hold any out: precision/recall/F1 not measured.")
    if points:
        console.print(curve_table(points))
    if output is not None:
        console.print(plain(f"Model written to {output} (trained on all {result['documents']} document(s))."))
    else:
        console.print("Nothing written: pass -o DIR to save the model.")
    console.print(f"Took {result['seconds']:.1f} s.")
