"""annotate's library: the store, corpus import, formats and recognisers.

This package never imports Textual; the TUI in ``tui/`` talks to it only through the names
exported here.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .importer import IMPORT_MODES, ImportFailure, ImportReport, Record, RecordSpan, import_paths
from .models import STATUSES, Document, DocumentSummary, Label, Span
from .seeds import import_seeds, seeds_dir
from .store import (
    EVERYONE,
    ActionResult,
    ConnectionLost,
    Store,
    StoreError,
    default_annotator,
    default_db_path,
    open_store,
    snap_to_tokens,
)
from .text import LANGUAGES, detect_language, inert, title_of
from .tokenize import Tokens

__all__ = [
    "__version__",
    "ActionResult",
    "ConnectionLost",
    "Document",
    "DocumentSummary",
    "EVERYONE",
    "IMPORT_MODES",
    "ImportFailure",
    "ImportReport",
    "LANGUAGES",
    "Label",
    "Record",
    "RecordSpan",
    "STATUSES",
    "Span",
    "Store",
    "StoreError",
    "Tokens",
    "default_annotator",
    "default_db_path",
    "detect_language",
    "import_paths",
    "import_seeds",
    "inert",
    "open_store",
    "seeds_dir",
    "snap_to_tokens",
    "title_of",
]
