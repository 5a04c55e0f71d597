"""The model in the loop: a CRF that learns from accepted spans, and ``annotate train``.

Public surface (each module's docstring says more):

- :class:`CRFModel` — ``CRFModel.train(store, annotator=None, lexicon=None) -> (model, report)``,
  ``model.predict(text, tokens, lang) -> [Prediction(start, end, label, score)]``,
  ``model.document_uncertainty(text, tokens, lang)``, ``model.rank(store, by=...)``,
  ``model.save(dir)`` / ``CRFModel.load(dir)``, ``to_bytes()`` / ``from_bytes()``,
  ``model.state`` (:class:`ModelState`: documents learned from, trained-at, held-out F1).
- :class:`ModelLoop` — retrains within a time budget with a warm feature cache and a
  progressive held-out score; :class:`TrainingProcess` runs it in a child process (the
  app's retrain worker: crfsuite holds the GIL while it trains).
- :func:`labelled_documents`, :func:`split_documents`: training data from a store.
- :func:`learning_curve`: held-out F1 against the number of labelled documents.
- :func:`train_spacy`: a spaCy NER pipeline trained with spaCy's own config and loop.
"""

from __future__ import annotations

from .crf import (
    CRFModel,
    DocumentUncertainty,
    ModelError,
    ModelState,
    Prediction,
    TrainReport,
)
from .curve import CurvePoint, curve_sizes, learning_curve
from .data import (
    LabelledDocument,
    Sentence,
    labelled_documents,
    sentences,
    split_documents,
)
from .evaluate import LabelScores, Scores, score_spans
from .features import FeatureExtractor, Lexicon, sentence_features
from .loop import CostModel, ModelLoop
from .process import TrainingProcess
from .spacy_train import train_spacy

__all__ = [
    "CRFModel",
    "CostModel",
    "CurvePoint",
    "DocumentUncertainty",
    "FeatureExtractor",
    "LabelScores",
    "LabelledDocument",
    "Lexicon",
    "ModelError",
    "ModelLoop",
    "ModelState",
    "Prediction",
    "Scores",
    "Sentence",
    "TrainReport",
    "TrainingProcess",
    "curve_sizes",
    "labelled_documents",
    "learning_curve",
    "score_spans",
    "sentence_features",
    "sentences",
    "split_documents",
    "train_spacy",
]
