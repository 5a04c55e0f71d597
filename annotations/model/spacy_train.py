"""``annotate train --model spacy``: a spaCy NER pipeline for production, trained on the CPU.

Built the way spaCy builds one: ``init_config`` (NER, CPU, efficiency) on a blank
pipeline of the corpus language, the labelled documents as ``DocBin`` files made from the
store's own tokens (they are spaCy's blank tokenizer's, so every span lines up), and
spaCy's training loop (``spacy.training.loop.train``) with a step limit. The directory
written is a normal pipeline: ``spacy.load(DIR)("…")`` tags text.

Language: one pipeline has one tokenizer. Documents all in one language get that language's
(``ky``, ``ru``); a mix (Kyrgyz and Russian news) gets ``xx``, spaCy's multi-language one,
rather than the tokenizer of the larger part (:func:`choose_lang` says which and why).
spaCy is imported only when this runs.
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..tokenize import SPACY_LANGS
from .crf import ModelError
from .data import LabelledDocument
from .evaluate import Scores, score_spans

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

__all__ = ["SpacyResult", "Evaluation", "choose_lang", "spacy_lang", "train_spacy"]

#: ``progress(step, max_steps)`` during training.
StepProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One of spaCy's evaluations during training: where it was and how it scored."""

    epoch: int
    step: int
    loss: float
    score: float


#: ``evaluated(Evaluation)`` at each of spaCy's evaluation steps.
EvalProgress = Callable[[Evaluation], None]

_CALLBACK = "annotate.train_progress.v1"
_LOGGER = "annotate.train_logger.v1"
_local = threading.local()
_registered = False
_register_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class SpacyResult:
    """What :func:`train_spacy` wrote and how well it did on the held-out documents."""

    path: Path
    lang: str
    labels: tuple[str, ...]
    steps: int
    seconds: float
    train_documents: int
    held_out: Scores | None
    skipped: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "lang": self.lang, "labels": list(self.labels),
            "steps": self.steps, "seconds": round(self.seconds, 3),
            "train_documents": self.train_documents, "skipped_documents": self.skipped,
            "held_out": self.held_out.to_dict() if self.held_out else None,
        }


def choose_lang(docs: Sequence[LabelledDocument]) -> tuple[str, str]:
    """The spaCy language code for a pipeline over ``docs``, and why it was chosen."""
    counts = Counter(SPACY_LANGS.get(d.lang, "xx") for d in {d.doc_id: d for d in docs}.values())
    if not counts:
        return "xx", "no documents: xx (multi-language)"
    if len(counts) == 1:
        ((lang, n),) = counts.items()
        return lang, f"all {n} document(s) are {lang}"
    mix = ", ".join(f"{k} ({n})" for k, n in counts.most_common())
    return "xx", (f"the documents mix languages ({mix}) and a pipeline has one tokenizer:"
                  " xx, spaCy's multi-language one, serves them all")


def spacy_lang(docs: Sequence[LabelledDocument]) -> str:
    """The spaCy language code for a pipeline over ``docs`` (see :func:`choose_lang`)."""
    return choose_lang(docs)[0]


def _register_progress() -> None:
    """Register the ``before_update`` callback that reports steps (once per process)."""
    global _registered
    with _register_lock:
        if _registered:
            return
        import spacy

        @spacy.registry.callbacks(_CALLBACK)
        def _make() -> Callable[[Any, dict[str, Any]], None]:
            def before_update(nlp: Any, args: dict[str, Any]) -> None:
                report = getattr(_local, "progress", None)
                if report is not None:
                    report(int(args.get("step", 0)))

            return before_update

        @spacy.registry.loggers(_LOGGER)
        def _make_logger() -> Callable[..., Any]:
            def setup(nlp: Any, stdout: Any = None, stderr: Any = None) -> tuple[Callable, Callable]:
                def log_step(info: dict[str, Any] | None) -> None:
                    report = getattr(_local, "evaluated", None)
                    if info is None or report is None:
                        return
                    losses = info.get("losses") or {}
                    report(Evaluation(int(info.get("epoch", 0)), int(info.get("step", 0)),
                                      float(sum(losses.values())), float(info.get("score") or 0.0)))

                return log_step, lambda: None

            return setup

        _registered = True


def _doc(nlp: Language, item: LabelledDocument) -> Any:
    """A spaCy Doc with the store's tokens and the document's spans as entities (or None)."""
    from spacy.tokens import Doc

    words = item.tokens.words(item.text)
    doc = Doc(nlp.vocab, words=words, spaces=item.tokens.spaces(item.text))
    if doc.text != item.text:
        return None
    ents = []
    for start, end, label in sorted(item.spans):
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None and not any(span.start < e.end and e.start < span.end for e in ents):
            ents.append(span)
    doc.ents = ents
    return doc


def _predict(nlp: Language, item: LabelledDocument) -> list[tuple[int, int, str]]:
    from spacy.tokens import Doc

    doc = Doc(nlp.vocab, words=item.tokens.words(item.text), spaces=item.tokens.spaces(item.text))
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def train_spacy(
    train: Sequence[LabelledDocument],
    held_out: Sequence[LabelledDocument],
    output: str | Path,
    *,
    max_steps: int = 400,
    eval_frequency: int = 100,
    seed: int = 0,
    lang: str | None = None,
    progress: StepProgress | None = None,
    evaluated: EvalProgress | None = None,
) -> SpacyResult:
    """Train a spaCy NER pipeline on ``train``, score it on ``held_out``, write it to ``output``.

    ``max_steps`` bounds the optimizer updates (spaCy's own default is 20,000; a few
    hundred fit a small corpus in well under a minute on a laptop CPU). ``evaluated`` is
    called at each of spaCy's evaluations (epoch, step, loss, score: NER F-score on
    ``held_out``, or on ``train`` when nothing is held out).
    """
    if not train:
        raise ModelError("no labelled documents to train on")
    import spacy
    from spacy.cli.init_config import init_config
    from spacy.tokens import DocBin
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_loop

    started = time.perf_counter()
    code = lang or spacy_lang(train)
    blank = spacy.blank(code)
    skipped = 0
    bins: dict[str, DocBin] = {"train": DocBin(), "dev": DocBin()}
    for name, items in (("train", train), ("dev", held_out or train)):
        for item in items:
            doc = _doc(blank, item)
            if doc is None:
                skipped += 1
                continue
            bins[name].add(doc)
    if not len(bins["train"]):
        raise ModelError("no labelled documents to train on (none could be aligned with spaCy's tokens)")
    _register_progress()
    config = init_config(lang=code, pipeline=["ner"], optimize="efficiency", gpu=False, silent=True)
    with tempfile.TemporaryDirectory(prefix="annotate-spacy-") as tmp:
        paths = {name: Path(tmp) / f"{name}.spacy" for name in bins}
        for name, db in bins.items():
            db.to_disk(paths[name])
        config["paths"]["train"] = str(paths["train"])
        config["paths"]["dev"] = str(paths["dev"])
        training = config["training"]
        training["max_steps"] = max_steps
        training["max_epochs"] = 0
        training["eval_frequency"] = max(1, min(eval_frequency, max_steps))
        training["patience"] = 0
        training["seed"] = seed
        training["before_update"] = {"@callbacks": _CALLBACK}
        training["logger"] = {"@loggers": _LOGGER}
        config["system"]["seed"] = seed
        nlp = init_nlp(config, use_gpu=-1)
        _local.progress = (lambda step: progress(min(step + 1, max_steps), max_steps)) if progress else None
        _local.evaluated = evaluated
        try:
            nlp, _ = train_loop(nlp, None, use_gpu=-1, stdout=io.StringIO(), stderr=io.StringIO())
        finally:
            _local.progress = None
            _local.evaluated = None
    labels = tuple(sorted(nlp.get_pipe("ner").labels))
    scores = None
    if held_out:
        gold, pred = [], []
        for item in held_out:
            key = (item.doc_id, item.annotator)
            gold += [(key, *s) for s in item.token_spans()]
            pred += [(key, *s) for s in _predict(nlp, item)]
        scores = score_spans(gold, pred, documents=len(held_out))
    nlp.meta["name"] = "annotate_ner"
    nlp.meta["description"] = "NER trained by `annotate train --model spacy` on accepted spans."
    if scores is not None:
        nlp.meta.setdefault("performance", {})["annotate_held_out"] = scores.to_dict()
    out = Path(output)
    nlp.to_disk(out)
    return SpacyResult(
        path=out, lang=code, labels=labels, steps=max_steps, seconds=time.perf_counter() - started,
        train_documents=len({d.doc_id for d in train}), held_out=scores, skipped=skipped,
    )
