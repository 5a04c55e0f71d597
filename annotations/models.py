"""Plain data objects the store hands out. They hold values, never database handles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .tokenize import Tokens

__all__ = [
    "Label",
    "Span",
    "DocumentSummary",
    "Document",
    "SpanState",
    "Status",
    "STATUSES",
    "SPAN_STATES",
]

SpanState = Literal["accepted", "pending", "rejected"]
Status = Literal["todo", "done", "skipped"]
STATUSES: tuple[str, ...] = ("todo", "done", "skipped")
SPAN_STATES: tuple[str, ...] = ("accepted", "pending", "rejected")


@dataclass(frozen=True, slots=True)
class Label:
    """An entity label: its name, the key that gives it, its colour and what it means."""

    name: str
    key: str | None
    colour: str
    description: str = ""
    position: int = 0


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled character range of a document (code points, ``end`` exclusive)."""

    id: int
    doc_id: int
    start: int
    end: int
    label: str
    annotator: str
    origin: str
    state: SpanState
    score: float | None = None
    created: str = ""
    updated: str = ""

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """One row of the document list: enough to show it without loading its text."""

    id: int
    title: str
    lang: str
    source: str
    line: int | None
    status: Status
    entities: int
    suggestions: int = 0


@dataclass(slots=True)
class Document:
    """A document with its tokens and one annotator's spans."""

    id: int
    text: str
    title: str
    lang: str
    source: str
    line: int | None
    hash: str
    meta: dict[str, Any]
    status: Status
    tokens: Tokens
    spans: list[Span] = field(default_factory=list)

    @property
    def accepted(self) -> list[Span]:
        return [s for s in self.spans if s.state == "accepted"]

    @property
    def pending(self) -> list[Span]:
        return [s for s in self.spans if s.state == "pending"]
