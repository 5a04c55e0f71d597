"""The ``crf`` recogniser: the in-loop CRF's predictions as scored suggestions.

Where the model lives: next to the database, one directory per annotator —
``<db>.models/<annotator>/model.crfsuite`` + ``model.json`` (:func:`model_dir`; the
annotator's name is percent-encoded so any name is one safe directory). The app's model
loop saves every retrained model there, ``annotate suggest --recogniser crf`` trains and
saves one when there is none or when the labelled documents changed since, and the
recogniser loads the latest one in :meth:`CRFRecogniser.prepare`. Files rather than a
table: a model is a few hundred kilobytes rewritten on every retrain, which the event log
and WAL of the database should not carry, and ``annotate train -o DIR`` writes the same
directory format. A database in memory has no model directory (the model is kept in memory).

The lexicon feature is the propagation lexicon (:mod:`.propagation`: the entities this
annotator accepted), turned into a mapping from the lower-case words of those entities
and their stems (the CRF's :func:`~annotations.model.features.lexicon_keys`) to their
label (:func:`lexicon_mapping`); the recogniser reads it afresh in ``prepare``, so a
person's newest labels count even before the next retrain.

Suggestions carry the model's marginal probability (the smallest of the span's tag
marginals) as their score; those under ``min_score`` are not suggested. The default,
:data:`MIN_SCORE` = 0.6, was chosen on the gold benchmark (``benchmarks/bench_model_loop.py``,
after three labelled documents: 0.5 gives combined P/R 0.905/0.744, 0.6 gives 0.923/0.738,
0.7 gives 0.933/0.725): recall barely moves above it, precision drops below it.

Combining with the other recognisers (also measured there): the model has the lowest
priority (5: propagation 30, patterns 20, Natasha 10), so where its span overlaps another
recogniser's, the other one's stays; and it does not *widen* (``register(..., widens=False)``,
see :func:`~.base.widens_others`): its longer span ("Вечером Жапаров") does not displace
a propagation span inside it ("Жапаров"). Ranked above Natasha (15) and widening, the
combined P/R after three documents was 0.908/0.699 (threshold 0.7); at 5 and not widening,
0.933/0.725.

:func:`retrain_job`, :func:`refresh_job`, :func:`suggest_corpus_job`, :func:`rank_job`
and :func:`warm_job` run in the training child process
(:meth:`annotations.model.TrainingProcess.call`): training, loading and tagging never take
the GIL from the app's event loop.
"""

from __future__ import annotations

import urllib.parse
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import BaseRecogniser, RecogniserError, Suggestion, TextDoc, register
from .propagation import Lexicon as PropagationLexicon
from .propagation import CrossScript, LexiconState, Propagation

# ``annotations.model`` (python-crfsuite and the training code) is imported where it is
# used, so registering this recogniser costs nothing to runs that do not use it.
if TYPE_CHECKING:  # pragma: no cover
    from ..model import CRFModel, DocumentUncertainty, ModelState, TrainReport
    from ..model.process import ChildContext
    from ..store import Store
    from .runner import RunReport

__all__ = [
    "MIN_SCORE",
    "ORDERS",
    "CRFRecogniser",
    "ensure_model",
    "labelled_ids",
    "lexicon_mapping",
    "load_model",
    "load_state",
    "model_dir",
    "propagation_lexicon",
    "rank_documents",
    "rank_job",
    "refresh_job",
    "retrain_job",
    "save_model",
    "suggest_corpus_job",
    "todo_ids",
    "train_model",
    "warm_job",
]

#: Suggestions with a lower marginal probability are dropped (see the module docstring).
MIN_SCORE = 0.6

#: Document orders: import order, least confident first, most predicted entities first.
ORDERS = ("import", "uncertainty", "entities")

#: Documents per write transaction in a background corpus pass (a cancel waits for one batch).
CORPUS_BATCH = 50


# -- where models live ---------------------------------------------------------------------


def model_dir(db_path: str | Path, annotator: str) -> Path | None:
    """``<db>.models/<annotator>/`` (``None`` for a database in memory)."""
    path = Path(db_path)
    if str(db_path) == ":memory:":
        return None
    name = urllib.parse.quote(annotator, safe="")
    if name.startswith("."):  # never "." or "..": a name is always a child directory
        name = "%2E" + name[1:]
    return path.with_name(path.name + ".models") / name


def save_model(model: CRFModel, db_path: str | Path, annotator: str) -> Path | None:
    """Write ``model`` where :func:`load_model` finds it (files replaced atomically)."""
    folder = model_dir(db_path, annotator)
    if folder is None:
        return None
    saved = model.save(folder)
    try:  # the dashboard's learning curve; a model saved without its line still works
        from ..training_log import record_training

        record_training(folder, model.state.to_dict())
    except OSError:
        pass
    return saved


def load_model(db_path: str | Path, annotator: str) -> CRFModel | None:
    """The annotator's latest saved model, or ``None`` if there is none.

    Raises :class:`~annotations.model.ModelError` for a directory that holds a broken or
    outdated model (the message says to retrain).
    """
    from ..model import CRFModel

    folder = model_dir(db_path, annotator)
    if folder is None or not (folder / "model.json").exists():
        return None
    return CRFModel.load(folder)


def load_state(db_path: str | Path, annotator: str) -> ModelState | None:
    """What the annotator's saved model learned from (its ``model.json`` alone: no model is
    opened, so this is cheap in any thread), or ``None`` if there is none or it is unreadable."""
    import json

    from ..model import ModelState

    folder = model_dir(db_path, annotator)
    try:
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8")) if folder else None
        return ModelState.from_dict(meta["state"]) if isinstance(meta, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


# -- the lexicon feature -----------------------------------------------------------------


def lexicon_mapping(lexicon: PropagationLexicon) -> dict[str, str]:
    """The propagation lexicon as the CRF's lexicon: entity word (lower case, stem) -> label.

    Every word of every labelled form counts, and the base forms propagation matches by
    (Kyrgyz stems, Russian lemmas); a word that belongs to entities of several labels
    takes the label it was given most often. One-letter words are left out.
    """
    from ..model.features import lexicon_keys

    votes: dict[str, Counter[str]] = {}
    for key, entry in lexicon.entries.items():
        if not entry.labels:
            continue
        lang = key[1] if key[0] == "~" else key[0]
        words: set[str] = {w for surface in entry.surfaces for w in surface}
        for forms in entry.forms:
            words |= forms
        for word in words:
            if len(word) < 2:
                continue
            for k in set(lexicon_keys(word, lang)[1:]):
                votes.setdefault(k, Counter()).update(entry.labels)
    return {k: max(c.items(), key=lambda kv: (kv[1], kv[0]))[0] for k, c in votes.items()}


def propagation_lexicon(store: Store, state: LexiconState | None = None) -> dict[str, str]:
    """:func:`lexicon_mapping` of the annotator's accepted spans in ``store``.

    Uses the runner's shared lexicon (kept in step incrementally) unless ``state`` is given.
    """
    if state is None:
        from .runner import _shared_state

        state = _shared_state(store)
    with state.lock:
        state.sync(store)
        return lexicon_mapping(state.lexicon)


# -- training --------------------------------------------------------------------------------


def labelled_ids(store: Store, annotator: str | None = None) -> list[int]:
    """Documents the annotator labelled: marked done or holding accepted spans, not skipped
    (the documents :func:`annotations.model.labelled_documents` trains on)."""
    who = annotator or store.annotator
    return store.backend.labelled_ids(who)


def train_model(
    store: Store, lexicon: Mapping[str, str] | None = None, progress: Any = None
) -> tuple[CRFModel, TrainReport]:
    """Train the loop's model on the annotator's labelled documents and save it.

    The same training as the app's retrain (:class:`annotations.model.ModelLoop`, within
    its time budget), with the propagation lexicon unless ``lexicon`` is given. Raises
    :class:`~annotations.model.ModelError` when nothing is labelled.
    """
    from ..model import ModelLoop

    if lexicon is None:
        lexicon = propagation_lexicon(store, LexiconState(store.annotator))
    model, report = ModelLoop(store.annotator).retrain(store, lexicon, progress)
    save_model(model, store.path, store.annotator)
    return model, report


def ensure_model(store: Store) -> tuple[CRFModel, str | None]:
    """The annotator's saved model, trained (and saved) first if there is none or if the
    labelled documents changed since it was trained.

    Returns the model and why it was trained (``None`` if the saved one was current).
    Raises :class:`~annotations.model.ModelError` when nothing is labelled.
    """
    from ..model import ModelError

    try:
        model = load_model(store.path, store.annotator)
    except ModelError as exc:
        why = f"the saved model could not be used ({exc})"
        model = None
    else:
        why = "no model was trained yet"
    if model is not None:
        if list(model.state.doc_ids) == labelled_ids(store):
            return model, None
        why = "documents were labelled since the saved model was trained"
    model, _ = train_model(store)
    return model, why


# -- the recogniser --------------------------------------------------------------------------


class CRFRecogniser(BaseRecogniser):
    """Entities the in-loop CRF predicts, scored by its marginal probability."""

    name = "crf"
    priority = 5

    def __init__(
        self,
        model: CRFModel | None = None,
        *,
        lexicon: Mapping[str, str] | None = None,
        min_score: float = MIN_SCORE,
        state: LexiconState | None = None,
    ) -> None:
        self.model = model
        self.lexicon = lexicon
        self.min_score = min_score
        self._state = state
        self._fixed_lexicon = lexicon is not None

    def prepare(self, store: Store) -> None:
        """Load the latest saved model (unless one was given) and read the lexicon afresh."""
        from ..model import ModelError

        if self.model is None:
            try:
                self.model = load_model(store.path, store.annotator)
            except ModelError as exc:
                raise RecogniserError(str(exc)) from None
            if self.model is None:
                raise RecogniserError(
                    f"no trained model for annotator {store.annotator!r}: mark documents done in the"
                    " app (it retrains as you go) or run `annotate suggest --recogniser crf`"
                )
        if not self._fixed_lexicon:
            self.lexicon = propagation_lexicon(store, self._state)

    def suggest(self, doc: TextDoc) -> list[Suggestion]:
        if self.model is None:
            raise RecogniserError("prepare(store) first: no model")
        lexicon = self.lexicon if self.lexicon is not None else {}
        return [
            Suggestion(p.start, p.end, p.label, round(p.score, 4))
            for p in self.model.predict(doc.text, doc.tokens, doc.lang, lexicon)
            if p.score >= self.min_score
        ]


register(
    "crf",
    CRFRecogniser,
    description="The model that learns from your labels (a CRF, retrained as you mark documents "
                "done); run by name: trains first if needed.",
    priority=CRFRecogniser.priority,
    default=False,
    widens=False,
)


# -- ordering --------------------------------------------------------------------------------


def _todo_ids(store: Store) -> list[int]:
    return store.backend.todo_ids(store.annotator)


def rank_documents(
    store: Store,
    model: CRFModel,
    by: str,
    doc_ids: Sequence[int] | None = None,
    *,
    lexicon: Mapping[str, str] | None = None,
    cancelled: Any = None,
) -> list[tuple[int, DocumentUncertainty]]:
    """Documents in the order ``by`` (``uncertainty``: least confident first; ``entities``:
    most predicted entities first; ties in import order), with the model's figures.

    ``doc_ids`` defaults to the annotator's todo documents. ``cancelled()`` is checked
    between documents; when it turns true, :class:`~annotations.model.ModelError` is raised.
    """
    from ..model import ModelError

    if by not in ("uncertainty", "entities"):
        raise ValueError(f"unknown order {by!r}: use one of {', '.join(ORDERS)}")
    ids = list(doc_ids) if doc_ids is not None else _todo_ids(store)
    scored: list[tuple[int, DocumentUncertainty]] = []
    for doc_id in ids:
        if cancelled is not None and cancelled():
            raise ModelError("ranking cancelled")
        doc = store.document(doc_id)
        scored.append((doc_id, model.document_uncertainty(doc.text, doc.tokens, doc.lang, lexicon)))
    if by == "uncertainty":
        return sorted(scored, key=lambda p: (-p[1].uncertainty, p[0]))
    return sorted(scored, key=lambda p: (-p[1].entities, p[0]))


# -- jobs for the training child process -----------------------------------------------------
#
# Each job reads the propagation lexicon in the child (``lexicon=None``) from a lexicon
# state it keeps between calls (``ctx.memo``, caught up incrementally from the event log),
# so building it (pymorphy3 for Russian included) costs the app's process nothing.


def _child_lexicon(ctx: ChildContext) -> dict[str, str]:
    state = ctx.memo.get("lexicon_state")
    if state is None or state.annotator != ctx.store.annotator:
        state = ctx.memo["lexicon_state"] = LexiconState(ctx.store.annotator)
    return propagation_lexicon(ctx.store, state)


def warm_job(ctx: ChildContext) -> int:
    """In the child, at the app's start: take up the saved model (so it can suggest and rank
    before the first retrain), read the labelled documents and compute their features and
    the lexicon now, so the session's first retrain is as fast as the later ones (it stops
    early when cancelled). Returns how many documents it read."""
    from ..model import labelled_documents
    from ..model.features import FeatureExtractor

    if ctx.loop.model is None:
        saved = load_model(ctx.store.path, ctx.store.annotator)
        if saved is not None:
            ctx.loop.adopt(saved)
    docs = labelled_documents(ctx.store, ctx.loop.annotator)
    extract = FeatureExtractor(None)
    for doc in docs:
        if ctx.cancelled:
            break
        for sentence in ctx.loop.cache.get(doc):
            sentence.features(extract)
    if not ctx.cancelled:
        _child_lexicon(ctx)
    return len(docs)


def retrain_job(ctx: ChildContext) -> tuple[ModelState, TrainReport]:
    """In the child: retrain the loop's model with the propagation lexicon and save it where
    :func:`load_model` finds it; returns its state and the report (the app's process never
    opens the model: everything that tags runs here)."""
    model, report = ctx.loop.retrain(ctx.store, _child_lexicon(ctx))
    save_model(model, ctx.store.path, ctx.store.annotator)
    return model.state, report


def rank_job(
    ctx: ChildContext, by: str, lexicon: Mapping[str, str] | None = None
) -> list[tuple[int, float, int]]:
    """In the child: the todo documents ranked ``by`` with its latest model.

    Returns ``(doc_id, uncertainty, predicted entities)`` in order.
    """
    from ..model import ModelError

    model = ctx.loop.model
    if model is None:
        raise ModelError("no model yet: retrain first")
    lexicon = _child_lexicon(ctx) if lexicon is None else lexicon
    ranked = rank_documents(ctx.store, model, by, lexicon=lexicon, cancelled=lambda: ctx.cancelled)
    return [(doc_id, round(u.uncertainty, 6), u.entities) for doc_id, u in ranked]


def suggest_corpus_job(
    ctx: ChildContext,
    lexicon: Mapping[str, str] | None,
    doc_ids: Sequence[int],
    min_score: float = MIN_SCORE,
) -> RunReport:
    """In the child: propagation and the latest model over ``doc_ids``, in id order, stored
    batch by batch until done or cancelled (``report.documents`` were finished: a later
    call resumes with the rest)."""
    from ..model import ModelError
    from .runner import run_recognisers

    model = ctx.loop.model
    if model is None:
        raise ModelError("no model yet: retrain first")
    lexicon = _child_lexicon(ctx) if lexicon is None else lexicon
    state = ctx.memo.get("lexicon_state")
    recs = [Propagation(state), CrossScript(state), CRFRecogniser(model, lexicon=lexicon, min_score=min_score)]
    return run_recognisers(ctx.store, recs, status=None, doc_ids=sorted(doc_ids), cancel=ctx.cancel,
                           batch=CORPUS_BATCH)


def refresh_job(
    ctx: ChildContext, doc_id: int, lexicon: Mapping[str, str] | None = None, min_score: float = MIN_SCORE
) -> int:
    """In the child: the latest model's suggestions for one document (the open one, after
    a retrain or a decision); returns how many are new."""
    from ..model import ModelError
    from .runner import run_recognisers

    model = ctx.loop.model
    if model is None:
        raise ModelError("no model yet: retrain first")
    lexicon = _child_lexicon(ctx) if lexicon is None else lexicon
    rec = CRFRecogniser(model, lexicon=lexicon, min_score=min_score)
    return run_recognisers(ctx.store, [rec], status=None, doc_ids=[doc_id]).total


def todo_ids(store: Store, exclude: Sequence[int] = ()) -> list[int]:
    """The annotator's todo documents in import order, but ``exclude``."""
    skip = set(exclude)
    return [d for d in _todo_ids(store) if d not in skip]
