"""The reader's view of one document: words to move over, spans to draw, changes to apply. Pure Python.

:class:`DocModel` holds a :class:`annotations.Document`'s text (made inert for display),
the indices of its non-whitespace tokens (the cursor moves over those only) and a
:class:`SpanIndex` of the annotator's accepted and pending spans. It applies the change
records of the store's event log (``{"op": "insert" | "delete" | "update" | "status", ...}``)
so an action updates only what it changed.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

from rich.cells import cell_len

from annotations import Document, Label, Span, inert

from .layout import Chip

__all__ = ["DocModel", "SpanIndex", "chip_text", "is_candidate"]

SHOWN_STATES = ("accepted", "pending")


def chip_text(label: str, state: str) -> str:
    """What a span's chip says: `` PER `` for an accepted span, `` PER? `` for a suggestion."""
    return f" {inert(label)}{'?' if state == 'pending' else ''} "


def is_candidate(word: str) -> bool:
    """A capitalised or all-caps word (a likely name): ``Жапаров``, ``ЕАЭБ``, ``«Газпром»``."""
    for ch in word:
        if ch.isalpha():
            return ch.isupper()
    return False


class SpanIndex:
    """Spans sorted by offset, for drawing a line and finding the span under the cursor."""

    def __init__(self, spans: Iterable[Span] = ()) -> None:
        self._by_id: dict[int, Span] = {}
        self._keys: list[tuple[int, int, int]] = []
        self._max_len = 0
        self.accepted = 0
        self.pending = 0
        for span in spans:
            self.add(span)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Span]:
        for _, _, sid in self._keys:
            yield self._by_id[sid]

    def __contains__(self, span_id: object) -> bool:
        return span_id in self._by_id

    def get(self, span_id: int) -> Span | None:
        return self._by_id.get(span_id)

    def _count(self, span: Span, step: int) -> None:
        if span.state == "accepted":
            self.accepted += step
        elif span.state == "pending":
            self.pending += step

    def add(self, span: Span) -> None:
        """Add (or replace) a span."""
        if span.id in self._by_id:
            self.remove(span.id)
        self._by_id[span.id] = span
        insort(self._keys, (span.start, span.end, span.id))
        self._max_len = max(self._max_len, span.end - span.start)
        self._count(span, 1)

    def remove(self, span_id: int) -> Span | None:
        """Remove a span; returns it (or ``None`` if it was not here)."""
        span = self._by_id.pop(span_id, None)
        if span is not None:
            i = bisect_left(self._keys, (span.start, span.end, span.id))
            del self._keys[i]
            self._count(span, -1)
        return span

    def overlapping(self, start: int, end: int) -> list[Span]:
        """Spans with any character in ``start``..``end``."""
        keys = self._keys
        i = bisect_left(keys, (start - self._max_len,))
        out = []
        n = len(keys)
        while i < n:
            s, e, sid = keys[i]
            if s >= end:
                break
            if e > start:
                out.append(self._by_id[sid])
            i += 1
        return out

    def ending_in(self, start: int, end: int) -> list[Span]:
        """Spans whose end offset lies in ``start``..``end`` (inclusive), by end."""
        keys = self._keys
        i = bisect_left(keys, (start - self._max_len,))
        out = []
        n = len(keys)
        while i < n:
            s, e, sid = keys[i]
            if s > end:
                break
            if start <= e <= end:
                out.append(self._by_id[sid])
            i += 1
        out.sort(key=lambda sp: (sp.end, sp.start, sp.id))
        return out

    def after(self, offset: int) -> Span | None:
        """The first span starting after ``offset``."""
        i = bisect_right(self._keys, (offset, 1 << 62, 1 << 62))
        return self._by_id[self._keys[i][2]] if i < len(self._keys) else None

    def before(self, offset: int) -> Span | None:
        """The last span starting before ``offset``."""
        i = bisect_left(self._keys, (offset,)) - 1
        return self._by_id[self._keys[i][2]] if i >= 0 else None


@dataclass(frozen=True, slots=True)
class Changed:
    """What applying some changes did to the document on screen."""

    ranges: tuple[tuple[int, int], ...]
    status: str | None = None
    focus: int | None = None


class DocModel:
    """One document as the reader shows it, for one annotator."""

    def __init__(self, document: Document, labels: Sequence[Label]) -> None:
        self.doc_id = document.id
        self.title = document.title
        self.lang = document.lang
        self.status = document.status
        self.raw = document.text
        #: The text as drawn: one code point per code point, control characters made visible.
        self.text = inert(document.text, keep_newlines=True)
        self.tokens = document.tokens
        starts, ends = document.tokens.starts, document.tokens.ends
        raw = self.raw
        # A token is a word unless it is all whitespace; its first character decides almost
        # always (no slice per token: a 50 MB document has millions of them).
        keep = [e > s and (not raw[s].isspace() or not raw[s:e].isspace()) for s, e in zip(starts, ends)]
        ws = array("l", compress(starts, keep))
        we = array("l", compress(ends, keep))
        #: Start and end offsets of the words (non-whitespace tokens), the cursor's stops.
        self.word_starts = ws
        self.word_ends = we
        self.spans = SpanIndex(s for s in document.spans if s.state in SHOWN_STATES)
        self.set_labels(labels)

    # -- labels and chips --------------------------------------------------------------

    def set_labels(self, labels: Sequence[Label]) -> None:
        self.labels = {lab.name: lab for lab in labels}

    def chip_width(self, span: Span) -> int:
        return cell_len(chip_text(span.label, span.state))

    def chips(self, p0: int, p1: int) -> list[Chip]:
        """The chips of the paragraph ``p0``..``p1``: one after each span ending in it."""
        return [
            Chip(s.end, self.chip_width(s), s.id)
            for s in self.spans.ending_in(p0, p1)
        ]

    # -- words -------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of words."""
        return len(self.word_starts)

    def word_range(self, i: int) -> tuple[int, int]:
        return self.word_starts[i], self.word_ends[i]

    def word_text(self, i: int) -> str:
        return self.raw[self.word_starts[i] : self.word_ends[i]]

    def word_at(self, offset: int) -> int | None:
        """The word holding ``offset``, else the next word, else the last; ``None`` if there are none."""
        n = len(self.word_starts)
        if n == 0:
            return None
        i = bisect_right(self.word_starts, offset) - 1
        if i >= 0 and self.word_ends[i] > offset:
            return i
        return min(i + 1, n - 1)

    def word_index_at(self, offset: int) -> int | None:
        """The word whose characters include ``offset``, or ``None`` (whitespace)."""
        i = bisect_right(self.word_starts, offset) - 1
        if i >= 0 and self.word_ends[i] > offset:
            return i
        return None

    # -- spans -------------------------------------------------------------------------

    def span_at(self, start: int, end: int) -> Span | None:
        """The span over ``start``..``end``: an accepted one first, else a suggestion."""
        found = self.spans.overlapping(start, end)
        for span in found:
            if span.state == "accepted":
                return span
        return found[0] if found else None

    def pending_at(self, start: int, end: int) -> Span | None:
        for span in self.spans.overlapping(start, end):
            if span.state == "pending":
                return span
        return None

    def in_accepted(self, start: int, end: int) -> bool:
        return any(s.state == "accepted" for s in self.spans.overlapping(start, end))

    # -- navigation ----------------------------------------------------------------------

    def next_candidate(self, i: int, step: int) -> int | None:
        """The next (``step`` 1) or previous (-1) capitalised word not inside an accepted span."""
        n = len(self.word_starts)
        j = i + step
        while 0 <= j < n:
            s, e = self.word_starts[j], self.word_ends[j]
            if is_candidate(self.raw[s:e]) and not self.in_accepted(s, e):
                return j
            j += step
        return None

    def next_span(self, i: int, step: int) -> int | None:
        """The word starting the next (or previous) entity or suggestion, from word ``i``."""
        s, e = self.word_range(i)
        if step > 0:
            here = self.span_at(s, e)
            span = self.spans.after(here.end - 1 if here else s)
        else:
            here = self.span_at(s, e)
            span = self.spans.before(here.start if here else s)
        if span is None:
            return None
        return self.word_at(span.start)

    # -- applying the store's changes ----------------------------------------------------

    def apply(
        self, changes: Sequence[dict[str, Any]], fetch: Callable[[int], Span | None]
    ) -> Changed:
        """Apply the change records of one event; returns the offset ranges to redraw."""
        ranges: list[tuple[int, int]] = []
        status = None
        focus = None
        for ch in changes:
            op = ch["op"]
            if op == "status":
                if ch["doc_id"] == self.doc_id:
                    status = ch["after"] or "todo"
                    self.status = status
                continue
            if op in ("insert", "delete"):
                row = ch["span"]
                if row["doc_id"] != self.doc_id:
                    continue
                old = self.spans.remove(row["id"])
                if old is not None:
                    ranges.append((old.start, old.end))
                if op == "insert" and row["state"] in SHOWN_STATES:
                    span = Span(**row)
                    self.spans.add(span)
                    ranges.append((span.start, span.end))
                if focus is None:
                    focus = row["start"]
            elif op == "update":
                old = self.spans.remove(ch["id"])
                if old is not None:
                    ranges.append((old.start, old.end))
                span = fetch(ch["id"])
                if span is None or span.doc_id != self.doc_id:
                    continue
                if span.state in SHOWN_STATES:
                    self.spans.add(span)
                ranges.append((span.start, span.end))
                if focus is None:
                    focus = span.start
        return Changed(tuple(ranges), status, focus)

    def reload(self, spans: Iterable[Span]) -> Changed:
        """Replace all spans (e.g. after a recogniser added suggestions); returns what differs."""
        new = {s.id: s for s in spans if s.state in SHOWN_STATES}
        ranges: list[tuple[int, int]] = []
        for sid in [s.id for s in self.spans if s.id not in new]:
            old = self.spans.remove(sid)
            if old is not None:
                ranges.append((old.start, old.end))
        for span in new.values():
            old = self.spans.get(span.id)
            if old != span:
                if old is not None:
                    ranges.append((old.start, old.end))
                self.spans.add(span)
                ranges.append((span.start, span.end))
        return Changed(tuple(ranges))
