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
    """Fill ``store`` from the seeds, in file-name order."""
    paths = sorted(seeds_dir().glob("*.txt"))
    if store.backend.name == "sqlite":
        return import_paths(store, paths, mode="text")
    # The importer runs on SQLite only so far (issue 14): plain texts go in through the
    # store's bulk API, as the importer would add them (decoded, titled, language detected).
    from .store import NewDocument
    from .text import decode

    done = store.add_documents([NewDocument(decode(p.read_bytes()), source=p.name) for p in paths])
    report = ImportReport(files=len(paths))
    report.added = sum(1 for _, added in done if added)
    report.duplicates = len(done) - report.added
    report.doc_ids = [doc_id for doc_id, added in done if added]
    return report
