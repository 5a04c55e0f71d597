"""The bundled seed corpus: the documents a new database starts with."""

from __future__ import annotations

from pathlib import Path

from .importer import ImportReport, import_paths
from .store import Store

__all__ = ["seeds_dir", "import_seeds"]


def seeds_dir() -> Path:
    """Where the seed articles are: inside the installed package, or the repo's ``seeds/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_seeds", here.parent / "seeds"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the bundled seeds/ folder is missing from this installation")


def import_seeds(store: Store) -> ImportReport:
    """Fill ``store`` from the seeds, in file-name order (on either backend)."""
    return import_paths(store, sorted(seeds_dir().glob("*.txt")), mode="text")
