"""Suggestion sources ("recognisers") and running them over a store.

- :mod:`.base`: the interface (:class:`Recogniser`, :class:`Suggestion`, :class:`TextDoc`)
  and the registry by name.
- :mod:`.propagation`: entities you labelled, found again in all their word forms
  (Kyrgyz suffixes in :mod:`.inflection_ky`, Russian lemmas in :mod:`.inflection_ru`).
- :mod:`.patterns`: spaCy EntityRuler-style pattern files, run with spaCy's matchers.
- :mod:`.natasha_ner`: Natasha's Russian NER (optional extra ``annotate[ru]``), cleaned;
  and ``natasha-ky``: the names it finds in Russian documents, found in Kyrgyz ones.
- :mod:`.gazetteer`: CLDR (Babel) and iso-codes (pycountry) place and organisation names
  and a user's gazetteer files, matched with propagation's word forms.
- :mod:`.scripts`: Cyrillic ↔ Latin spellings for ``translit`` (cross-script propagation,
  :class:`.propagation.CrossScript`).
- :mod:`.crf`: the in-loop CRF's predictions, scored by its marginal probability (run by
  name; its model is saved next to the database, ``<db>.models/<annotator>/``).
- :mod:`.runner`: :func:`run_recognisers` (corpus), :func:`refresh_document` (one
  document after an edit, fast), :func:`refresh_corpus` (background).
"""

from __future__ import annotations

from .base import (
    BaseRecogniser,
    Recogniser,
    RecogniserError,
    RecogniserInfo,
    Suggestion,
    TextDoc,
    create,
    priority_of,
    recogniser_info,
    recogniser_names,
    register,
)
from .runner import (
    RefreshResult,
    RunReport,
    build_recognisers,
    refresh_corpus,
    refresh_document,
    run_recognisers,
    suggest_for,
    warm_up,
)

__all__ = [
    "BaseRecogniser",
    "Recogniser",
    "RecogniserError",
    "RecogniserInfo",
    "RefreshResult",
    "RunReport",
    "Suggestion",
    "TextDoc",
    "build_recognisers",
    "create",
    "priority_of",
    "recogniser_info",
    "recogniser_names",
    "refresh_corpus",
    "refresh_document",
    "register",
    "run_recognisers",
    "suggest_for",
    "warm_up",
]
