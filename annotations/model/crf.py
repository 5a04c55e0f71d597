"""The in-loop model: a linear-chain CRF (python-crfsuite) trained on accepted spans.

- :meth:`CRFModel.train` reads the labelled documents of a store, holds out a share of them
  to measure precision/recall/F1, and (by default) refits on all of them, so the model the
  loop uses has seen every label and the F1 it reports is from text it had not seen.
- :meth:`CRFModel.predict` gives ``(start, end, label, score)`` spans; ``score`` is the
  *smallest* marginal probability of the span's tags (B-X on its first token, I-X on the
  rest), a lower bound on the chance that every token of the span is tagged as the span
  says. It is always in (0, 1].
- :meth:`CRFModel.document_uncertainty` gives, for ordering documents, ``uncertainty`` =
  1 − the mean over the document's tokens of their largest tag marginal (so per token,
  and long documents are not penalised for being long), the least-confident sentence
  (1 − probability of its best tag sequence) and the number of predicted entities.

A model is the crfsuite file plus a JSON description (:class:`ModelState`); it saves to a
directory (``model.crfsuite`` + ``model.json``) or to one bytes blob. A model may be shared
between threads: each thread gets its own crfsuite tagger.
"""

from __future__ import annotations

import json
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import pycrfsuite

from ..models import Document
from ..store import Store, now
from ..tokenize import Tokens
from .data import (
    LabelledDocument,
    Sentence,
    labelled_documents,
    sentences,
    spans_from_tags,
    split_documents,
)
from .evaluate import Scores, score_spans
from .features import FEATURE_VERSION, FeatureExtractor, Lexicon
from .trainset import FeatureCache, training_sequences

__all__ = [
    "CRFModel",
    "DocumentUncertainty",
    "ModelError",
    "ModelState",
    "Prediction",
    "Progress",
    "TrainReport",
    "default_params",
]

#: ``progress(stage, done, total)``; stages: ``features``, ``training``, ``evaluating``, ``refit``.
Progress = Callable[[str, int, int], None]

MODEL_FILE = "model.crfsuite"
META_FILE = "model.json"
_MAGIC = b"ANNCRF1\n"


class ModelError(Exception):
    """A model that cannot be trained, saved or loaded (no data, bad file, old version)."""


class Prediction(NamedTuple):
    """A predicted entity: code-point offsets (end exclusive), label and marginal score."""

    start: int
    end: int
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class DocumentUncertainty:
    """How unsure the model is about a document, for uncertainty-first ordering."""

    uncertainty: float
    least_confident: float
    entities: int
    tokens: int


@dataclass(frozen=True, slots=True)
class ModelState:
    """What a model learned from and how well it did: the state a UI shows."""

    kind: str
    annotator: str | None
    documents: int
    doc_ids: tuple[int, ...]
    sentences: int
    tokens: int
    labels: tuple[str, ...]
    trained_at: str
    seconds: float
    held_out: dict[str, Any] | None = None
    held_out_documents: int = 0
    lexicon: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    feature_version: int = FEATURE_VERSION
    total_tokens: int = 0
    iterations: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def f1(self) -> float | None:
        """Held-out overall F1, if there was a held-out part."""
        return self.held_out["overall"]["f1"] if self.held_out else None

    def summary(self) -> str:
        """One line for a status bar: documents, held-out F1 and time of training."""
        f1 = f"F1 {self.f1:.2f}" if self.f1 is not None else "F1 –"
        return f"{self.kind.upper()} · {self.documents} docs · {f1} · {self.trained_at[11:16]} UTC"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["doc_ids"] = list(self.doc_ids)
        d["labels"] = list(self.labels)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelState:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in d.items() if k in known}
        values["doc_ids"] = tuple(values.get("doc_ids", ()))
        values["labels"] = tuple(values.get("labels", ()))
        return cls(**values)


@dataclass(slots=True)
class TrainReport:
    """What :meth:`CRFModel.train` did: the split, held-out scores and timings (seconds)."""

    train_documents: int
    held_out_documents: int
    held_out: Scores | None
    misaligned: int
    timings: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_documents": self.train_documents,
            "held_out_documents": self.held_out_documents,
            "held_out": self.held_out.to_dict() if self.held_out else None,
            "misaligned_spans": self.misaligned,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


def default_params(tokens: int) -> dict[str, Any]:
    """L-BFGS settings for a one-off training (``annotate train``): up to 50 iterations.

    The loop (:mod:`.loop`) chooses fewer to stay within its time budget. The L1 term
    (``c1``) keeps the model small; ``c2`` smooths the weights of rare features.
    """
    return {
        "c1": 0.05,
        "c2": 0.01,
        "max_iterations": 50,
        "feature.possible_transitions": True,
    }


class _Trainer(pycrfsuite.Trainer):
    """A crfsuite trainer that reports iterations to a callback and prints nothing."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        super().__init__(algorithm="lbfgs", verbose=True)
        self._total = total
        self._progress = progress
        self.featgen_end: float | None = None
        self.iterations_run = 0

    def on_start(self, log: str) -> None:
        pass

    def on_featgen_progress(self, log: str, percent: float) -> None:
        pass

    def on_featgen_end(self, log: str) -> None:
        self.featgen_end = time.perf_counter()

    def on_prepared(self, log: str) -> None:
        pass

    def on_prepare_error(self, log: str) -> None:
        pass

    def on_iteration(self, log: str, info: dict[str, Any]) -> None:
        self.iterations_run += 1
        if self._progress:
            self._progress("training", min(int(info.get("num", 0)), self._total), self._total)

    def on_optimization_end(self, log: str) -> None:
        pass

    def on_end(self, log: str) -> None:
        pass


def _lexicon_to_json(lexicon: Lexicon | None) -> Any:
    """A lexicon as JSON if it is data (set or mapping of strings); callables are not saved."""
    if isinstance(lexicon, Mapping):
        return {"mapping": {str(k): str(v) for k, v in lexicon.items()}}
    if isinstance(lexicon, Collection) and not isinstance(lexicon, (str, bytes)):
        return {"set": sorted(str(w) for w in lexicon)}
    return None


def _lexicon_from_json(data: Any) -> Lexicon | None:
    if isinstance(data, dict) and isinstance(data.get("mapping"), dict):
        return dict(data["mapping"])
    if isinstance(data, dict) and isinstance(data.get("set"), list):
        return frozenset(data["set"])
    return None


class CRFModel:
    """A trained CRF with its state; predicts scored spans and document uncertainty."""

    kind = "crf"

    def __init__(self, model: bytes, state: ModelState, lexicon: Lexicon | None = None) -> None:
        self._bytes = model
        self.state = state
        self.lexicon = lexicon
        self._local = threading.local()
        self.labels: tuple[str, ...] = state.labels
        self._tagger()  # fail now, not on first use, if the bytes are not a model

    # -- training ------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        store: Store,
        annotator: str | None = None,
        lexicon: Lexicon | None = None,
        *,
        eval_split: float = 0.2,
        seed: int = 0,
        refit: bool = True,
        params: Mapping[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> tuple[CRFModel, TrainReport]:
        """Train on the labelled documents of ``store`` (one annotator, or all).

        A share ``eval_split`` of the documents is held out and scored; with ``refit`` the
        returned model is then trained again on every document (its state keeps the
        held-out scores). Raises :class:`ModelError` if nothing is labelled.
        """
        docs = labelled_documents(store, annotator)
        if not docs:
            who = f" by {annotator}" if annotator else ""
            raise ModelError(f"no labelled documents to train on{who}: mark documents done or accept spans first")
        return cls.train_documents(
            docs, lexicon, annotator=annotator, eval_split=eval_split, seed=seed, refit=refit,
            params=params, progress=progress,
        )

    @classmethod
    def train_documents(
        cls,
        docs: Sequence[LabelledDocument],
        lexicon: Lexicon | None = None,
        *,
        annotator: str | None = None,
        eval_split: float = 0.2,
        seed: int = 0,
        refit: bool = True,
        params: Mapping[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> tuple[CRFModel, TrainReport]:
        """:meth:`train` on documents already read from a store."""
        train, held = split_documents(docs, eval_split, seed)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        model = cls.fit(train, lexicon, annotator=annotator, params=params, progress=progress)
        timings["train"] = time.perf_counter() - t0
        scores = None
        if held:
            t0 = time.perf_counter()
            scores = model.evaluate(held, progress=progress)
            timings["evaluate"] = time.perf_counter() - t0
            if refit:
                t0 = time.perf_counter()
                model = cls.fit(docs, lexicon, annotator=annotator, params=params, progress=progress,
                                stage="refit")
                timings["refit"] = time.perf_counter() - t0
        if scores is not None:
            model.state = replace(
                model.state, held_out=scores.to_dict(), held_out_documents=len({d.doc_id for d in held})
            )
        report = TrainReport(
            train_documents=len({d.doc_id for d in train}),
            held_out_documents=len({d.doc_id for d in held}),
            held_out=scores,
            misaligned=sum(d.misaligned for d in docs),
            timings=timings,
        )
        return model, report

    @classmethod
    def fit(
        cls,
        docs: Sequence[LabelledDocument],
        lexicon: Lexicon | None = None,
        *,
        annotator: str | None = None,
        params: Mapping[str, Any] | None = None,
        progress: Progress | None = None,
        stage: str = "training",
        cache: FeatureCache | None = None,
        max_tokens: int | None = None,
    ) -> CRFModel:
        """Train on all of ``docs`` (no held-out part).

        ``cache`` keeps the documents' features between calls (the loop passes one);
        ``max_tokens`` trains on a stable sample of the sentences when there are more.
        The state records where the time went (``timings``, seconds).
        """
        started = time.perf_counter()
        tick = (lambda done, total: progress("features", done, total)) if progress else None
        data = training_sequences(docs, lexicon, cache=cache, max_tokens=max_tokens, progress=tick)
        if not data.tokens:
            raise ModelError("no labelled documents to train on: the labelled documents hold no words")
        t_features = time.perf_counter()
        settings = dict(default_params(data.tokens))
        settings.update(params or {})
        iterations = int(settings["max_iterations"])
        report = (lambda s, d, t: progress(stage, d, t)) if progress else None
        trainer = _Trainer(iterations, report)
        for xseq, yseq in data.sequences:
            trainer.append(xseq, yseq)
        trainer.set_params(settings)
        t_append = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="annotate-crf-") as tmp:
            path = Path(tmp) / MODEL_FILE
            trainer.train(str(path))
            blob = path.read_bytes()
        done = time.perf_counter()
        if progress:
            progress(stage, iterations, iterations)
        featgen_end = trainer.featgen_end or t_append
        timings = {
            "features": t_features - started,
            "append": t_append - t_features,
            "featgen": featgen_end - t_append,
            "iterations": done - featgen_end,
        }
        labels = sorted({t[2:] for _, tags in data.sequences for t in tags if t != "O"})
        state = ModelState(
            kind=cls.kind,
            annotator=annotator,
            documents=len({d.doc_id for d in docs}),
            doc_ids=tuple(sorted({d.doc_id for d in docs})),
            sentences=data.sentences,
            tokens=data.tokens,
            labels=tuple(labels),
            trained_at=now(),
            seconds=round(done - started, 4),
            lexicon=lexicon is not None,
            params=settings,
            total_tokens=data.total_tokens,
            iterations=trainer.iterations_run,
            timings={k: round(v, 4) for k, v in timings.items()},
        )
        return cls(blob, state, lexicon)

    # -- tagging -------------------------------------------------------------------------

    def _tagger(self) -> pycrfsuite.Tagger:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            tagger = pycrfsuite.Tagger()
            try:
                tagger.open_inmemory(self._bytes)
            except (ValueError, OSError) as exc:
                raise ModelError(f"not a CRF model: {exc}") from None
            self._local.tagger = tagger
        return tagger

    def _extractor(self, lexicon: Lexicon | None) -> FeatureExtractor:
        """A fresh extractor per call: a lexicon that grew since the last call is seen whole."""
        return FeatureExtractor(self.lexicon if lexicon is None else lexicon)

    def _tag(
        self, sents: Iterable[Sentence], lang: str, lexicon: Lexicon | None
    ) -> tuple[list[Prediction], DocumentUncertainty]:
        tagger = self._tagger()
        extract = self._extractor(lexicon)
        labels = tagger.labels()
        out: list[Prediction] = []
        sum_max = 0.0
        n_tok = 0
        worst = 0.0
        for sent in sents:
            tagger.set(extract(sent.words, lang, encoded=True))
            tags = tagger.tag()
            worst = max(worst, 1.0 - tagger.probability(tags))
            marg = []
            for i, tag in enumerate(tags):
                row = [tagger.marginal(lab, i) for lab in labels]
                sum_max += max(row)
                marg.append(row[labels.index(tag)])
            n_tok += len(tags)
            for first, last, label in spans_from_tags(tags):
                score = min(marg[first:last + 1])
                out.append(Prediction(
                    sent.starts[first], sent.ends[last], label, min(1.0, max(score, 1e-9))
                ))
        uncertainty = 1.0 - sum_max / n_tok if n_tok else 0.0
        return out, DocumentUncertainty(max(0.0, uncertainty), max(0.0, worst), len(out), n_tok)

    def analyse(
        self, text: str, tokens: Tokens, lang: str, lexicon: Lexicon | None = None
    ) -> tuple[list[Prediction], DocumentUncertainty]:
        """Predictions and uncertainty of one document in one pass."""
        return self._tag(sentences(text, tokens), lang, lexicon)

    def predict(
        self, text: str, tokens: Tokens, lang: str, lexicon: Lexicon | None = None
    ) -> list[Prediction]:
        """Scored entity spans of a document (``lexicon`` overrides the one it trained with)."""
        return self.analyse(text, tokens, lang, lexicon)[0]

    def document_uncertainty(
        self, text: str, tokens: Tokens, lang: str, lexicon: Lexicon | None = None
    ) -> DocumentUncertainty:
        """How unsure the model is about a document (see the module docstring)."""
        return self.analyse(text, tokens, lang, lexicon)[1]

    def predict_document(
        self, doc: Document | LabelledDocument, lexicon: Lexicon | None = None
    ) -> list[Prediction]:
        """:meth:`predict` for a store :class:`Document` or a :class:`LabelledDocument`."""
        return self.predict(doc.text, doc.tokens, doc.lang, lexicon)

    def rank(
        self,
        store: Store,
        doc_ids: Iterable[int] | None = None,
        *,
        by: str = "uncertainty",
        lexicon: Lexicon | None = None,
    ) -> list[tuple[int, DocumentUncertainty]]:
        """Documents most worth labelling first: ``by="uncertainty"`` (least confident
        first) or ``by="entities"`` (most predicted entities first). Ties keep id order."""
        if by not in ("uncertainty", "entities"):
            raise ValueError(f"unknown order {by!r}: use 'uncertainty' or 'entities'")
        ids = list(doc_ids) if doc_ids is not None else store.document_ids()
        scored = []
        for doc_id in ids:
            text = store.text(doc_id)
            lang = store.backend.document_lang(doc_id)
            scored.append((doc_id, self.document_uncertainty(text, store.tokens(doc_id), lang, lexicon)))
        key = (lambda p: -p[1].uncertainty) if by == "uncertainty" else (lambda p: -p[1].entities)
        return sorted(scored, key=key)

    def evaluate(
        self,
        docs: Sequence[LabelledDocument],
        lexicon: Lexicon | None = None,
        progress: Progress | None = None,
    ) -> Scores:
        """Exact-span precision/recall/F1 per label of this model on labelled documents."""
        gold, pred = [], []
        for k, doc in enumerate(docs, 1):
            key = (doc.doc_id, doc.annotator)
            gold += [(key, s, e, lab) for s, e, lab in doc.token_spans()]
            pred += [(key, p.start, p.end, p.label) for p in self.predict_document(doc, lexicon)]
            if progress:
                progress("evaluating", k, len(docs))
        return score_spans(gold, pred, documents=len(docs))

    # -- saving --------------------------------------------------------------------------

    def _meta(self, lexicon: bool = True) -> dict[str, Any]:
        return {
            "format": 1,
            "state": self.state.to_dict(),
            "lexicon": _lexicon_to_json(self.lexicon) if lexicon else None,
        }

    def save(self, path: str | Path) -> Path:
        """Write ``model.crfsuite`` and ``model.json`` into directory ``path`` (created)."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (MODEL_FILE + ".tmp")
        tmp.write_bytes(self._bytes)
        (folder / (META_FILE + ".tmp")).write_text(
            json.dumps(self._meta(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        tmp.replace(folder / MODEL_FILE)
        (folder / (META_FILE + ".tmp")).replace(folder / META_FILE)
        return folder

    @classmethod
    def load(cls, path: str | Path) -> CRFModel:
        """Read a model directory written by :meth:`save`."""
        folder = Path(path)
        try:
            blob = (folder / MODEL_FILE).read_bytes()
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelError(f"{folder}: not a CRF model directory (missing {Path(exc.filename).name})") from None
        except (OSError, ValueError) as exc:
            raise ModelError(f"{folder}: cannot read model: {exc}") from None
        return cls._from_meta(blob, meta, str(folder))

    @classmethod
    def _from_meta(cls, blob: bytes, meta: Any, where: str) -> CRFModel:
        if not isinstance(meta, dict) or not isinstance(meta.get("state"), dict):
            raise ModelError(f"{where}: model description is not valid")
        state = ModelState.from_dict(meta["state"])
        if state.kind != cls.kind:
            raise ModelError(f"{where}: a {state.kind!r} model, not a CRF")
        if state.feature_version != FEATURE_VERSION:
            raise ModelError(
                f"{where}: trained with feature set {state.feature_version}, this version uses"
                f" {FEATURE_VERSION}; retrain it"
            )
        return cls(blob, state, _lexicon_from_json(meta.get("lexicon")))

    def to_bytes(self, *, lexicon: bool = True) -> bytes:
        """The model and its description as one blob (for a database column or a message).

        ``lexicon=False`` leaves the lexicon out (the receiver has it already).
        """
        meta = json.dumps(self._meta(lexicon), ensure_ascii=False).encode("utf-8")
        return _MAGIC + struct.pack("<Q", len(meta)) + meta + self._bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> CRFModel:
        """The model :meth:`to_bytes` wrote."""
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 8:
            raise ModelError("not a saved CRF model")
        (n,) = struct.unpack_from("<Q", data, len(_MAGIC))
        start = len(_MAGIC) + 8
        try:
            meta = json.loads(data[start:start + n].decode("utf-8"))
        except ValueError as exc:
            raise ModelError(f"saved CRF model has a bad description: {exc}") from None
        return cls._from_meta(data[start + n:], meta, "saved model")
