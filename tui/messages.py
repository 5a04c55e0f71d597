"""Typed messages that thread workers post back to the app (which updates the widgets)."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from annotations import ImportReport

from .docmodel import DocModel
from .layout import DocumentLayout

__all__ = [
    "DocumentLoaded",
    "ExportFinished",
    "LoadFailed",
    "SeedsImported",
    "SuggestionsRefreshed",
]


class DocumentLoaded(Message):
    """A document was read, tokenised and wrapped off the event loop (request ``serial``)."""

    def __init__(self, serial: int, model: DocModel, layout: DocumentLayout, offset: int | None) -> None:
        super().__init__()
        self.serial = serial
        self.model = model
        self.layout = layout
        self.offset = offset


class LoadFailed(Message):
    """A document could not be opened."""

    def __init__(self, serial: int, doc_id: int, error: str) -> None:
        super().__init__()
        self.serial = serial
        self.doc_id = doc_id
        self.error = error


class SeedsImported(Message):
    """The empty database was filled from the bundled seeds (``report``), or that failed (``error``)."""

    def __init__(self, report: ImportReport | None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class ExportFinished(Message):
    """An export written from the command palette: where, how many records, or what went wrong."""

    def __init__(self, path: Path, fmt: str, records: int = 0, spans: int = 0, error: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.fmt = fmt
        self.records = records
        self.spans = spans
        self.error = error


class SuggestionsRefreshed(Message):
    """The recogniser recomputed a document's suggestions (``added`` new ones, or ``error``)."""

    def __init__(self, doc_id: int, added: int, error: str | None = None) -> None:
        super().__init__()
        self.doc_id = doc_id
        self.added = added
        self.error = error
