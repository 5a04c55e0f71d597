"""annotate's library: the store, corpus import, formats and recognisers.

This package never imports Textual; the TUI in ``tui/`` talks to it only through the names
exported here.
"""

from __future__ import annotations

__version__ = "0.1.0"


def _sqlite_utils_without_pandas() -> None:
    """Import sqlite-utils without the pandas it imports whenever pandas is installed (another
    package's dependency, e.g. ``datasets``): only to map pandas' own types, which the store
    never passes, and it costs every process about 65 MB and a third of a second."""
    import sys

    if "sqlite_utils" in sys.modules or "pandas" in sys.modules:
        return
    sys.modules["pandas"] = None  # type: ignore[assignment]  # import_module("pandas") now fails
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["pandas"]  # a later ``import pandas`` works as ever


_sqlite_utils_without_pandas()

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
