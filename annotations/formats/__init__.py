"""Training data out and in: Prodigy-style JSONL, spaCy DocBin, CoNLL IOB2, Hugging Face, brat.

Export: :func:`run_export` writes a :class:`Selection` of (document, annotator) records in
one of :data:`FORMATS`; :func:`iter_items` is the underlying stream. Each format's layout
is described in its module (``jsonl``, ``spacy_docbin``, ``conll``, ``hf``, ``brat``).

Import: importing this package registers the readers with :mod:`annotations.importer`
(``EXTRA_READERS`` by suffix and format name, ``SNIFFERS`` for content detection,
``EXTRA_SUFFIXES`` for folder walks), so ``annotate import`` reads every format here.
Importing it is cheap: spaCy is loaded only when a DocBin is read or written.
"""

from __future__ import annotations

from .. import importer as _importer
from .brat import read_brat, sniff_brat
from .conll import read_conll, sniff_conll
from .export import (
    EXPORT_STATUSES,
    MISALIGNED,
    ExportItem,
    ExportSpan,
    ExportStats,
    MisalignedSpan,
    Selection,
    count_documents,
    iter_items,
)
from .hf import read_hf, sniff_hf
from .output import FORMATS, SUGGESTION_FORMATS, ExportError, guess_format, run_export
from .spacy_docbin import read_docbin

__all__ = [
    "EXPORT_STATUSES",
    "FORMATS",
    "IMPORT_FORMATS",
    "MISALIGNED",
    "MisalignedSpan",
    "SUGGESTION_FORMATS",
    "ExportError",
    "ExportItem",
    "ExportSpan",
    "ExportStats",
    "Selection",
    "count_documents",
    "guess_format",
    "iter_items",
    "run_export",
]

#: Format names and suffixes ``annotate import`` understands through this package.
IMPORT_FORMATS = {
    "conll": read_conll, "iob": read_conll, "iob1": read_conll, "iob2": read_conll,
    "bio": read_conll, "bioes": read_conll,
    "brat": read_brat, "ann": read_brat,
    "hf": read_hf,
    "spacy": read_docbin,
    "prodigy": _importer.read_jsonl,
}

_importer.EXTRA_READERS.update(IMPORT_FORMATS)
_importer.EXTRA_SUFFIXES.update({".conll", ".iob", ".iob1", ".iob2", ".bio", ".bioes", ".spacy"})
for _sniff in (sniff_brat, sniff_hf, sniff_conll):
    if _sniff not in _importer.SNIFFERS:
        _importer.SNIFFERS.append(_sniff)
