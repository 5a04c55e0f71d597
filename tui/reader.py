"""The document reader: a Line-API widget that draws only the visible lines.

The text is wrapped by :mod:`tui.layout` (cached per width, re-wrapped per paragraph when a
span changes) and drawn line by line from :class:`rich.segment.Segment` runs, never from
markup, so a document holding ``[bold]`` or escape sequences shows them literally. A cursor
and a selection move over words (non-whitespace tokens). Decisions (label, accept, reject,
delete) are posted as messages; the app commits them to the store and then hands the
resulting changes back through :meth:`Reader.apply_changes`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from time import monotonic
from typing import Any, ClassVar, Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.signal import Signal
from textual.strip import Strip

from annotations import Label, Span, inert

from .colours import LabelStyle, label_styles
from .docmodel import DocModel, chip_text
from .layout import Chip, DocumentLayout, Line

__all__ = ["Reader"]

SpanCommand = Literal["accept", "reject", "delete"]

#: Blank cells left and right of the text.
MARGIN = 1

#: Blank lines the reader can scroll past the end of the document.
END_SLACK = 8

#: Paragraphs whose drawn lines are kept (the cache is emptied when it holds more).
STRIP_CACHE_PARAGRAPHS = 400


class Reader(ScrollView, can_focus=True):
    """A document with its entities, a word cursor and a selection.

    | Key(s) | Description |
    | :- | :- |
    | right, l | Next word. |
    | left, h | Previous word. |
    | down, j | Word on the visual line below. |
    | up, k | Word on the visual line above. |
    | pagedown, pageup | A screen down / up. |
    | home, end | First / last word of the document. |
    | shift+right, shift+left | Extend / shrink the selection by one word. |
    | n, N | Next / previous candidate (capitalised word not in an entity). |
    | tab, shift+tab | Next / previous entity or suggestion. |
    | 1-9 | Give the selection, span or word under the cursor that label. |
    | enter | Accept the suggestion under the cursor. |
    | x | Reject the suggestion under the cursor. |
    | A | Accept every suggestion in the document. |
    | backspace, delete | Remove the span under the cursor. |
    | escape | Clear the selection (else the search highlights, else the list's filter). |
    | / | Find text in this document. |
    | >, < | Next / previous match of the last find. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,l", "move(1)", "Next word", id="reader.next_word", show=False,
                tooltip="Move the cursor to the next word."),
        Binding("left,h", "move(-1)", "Previous word", id="reader.previous_word", show=False,
                tooltip="Move the cursor to the previous word."),
        Binding("down,j", "vertical(1)", "Line down", id="reader.line_down", show=False,
                tooltip="Move the cursor to the word below (visual lines)."),
        Binding("up,k", "vertical(-1)", "Line up", id="reader.line_up", show=False,
                tooltip="Move the cursor to the word above (visual lines)."),
        Binding("pagedown", "page(1)", "Page down", id="reader.page_down", show=False,
                tooltip="Move the cursor and the view a screen down."),
        Binding("pageup", "page(-1)", "Page up", id="reader.page_up", show=False,
                tooltip="Move the cursor and the view a screen up."),
        Binding("home", "edge(0)", "First word", id="reader.first_word", show=False,
                tooltip="Move the cursor to the first word of the document."),
        Binding("end", "edge(1)", "Last word", id="reader.last_word", show=False,
                tooltip="Move the cursor to the last word of the document."),
        Binding("shift+right", "extend(1)", "Extend selection", id="reader.extend", show=False,
                tooltip="Extend the selection by one word (starts one at the cursor)."),
        Binding("shift+left", "extend(-1)", "Shrink selection", id="reader.shrink", show=False,
                tooltip="Shrink the selection by one word (or extend it leftwards)."),
        Binding("n", "candidate(1)", "Next candidate", id="reader.next_candidate",
                tooltip="Jump to the next capitalised or all-caps word not in an entity."),
        Binding("N", "candidate(-1)", "Previous candidate", id="reader.previous_candidate",
                show=False, tooltip="Jump to the previous candidate word."),
        Binding("tab", "entity(1)", "Next entity", id="reader.next_entity", show=False,
                tooltip="Jump to the next entity or suggestion."),
        Binding("shift+tab", "entity(-1)", "Previous entity", id="reader.previous_entity",
                show=False, tooltip="Jump to the previous entity or suggestion."),
        *[
            Binding(str(k), f"label('{k}')", f"Label {k}", id=f"reader.label_{k}", show=False,
                    tooltip=f"Label the selection (else the span or word under the cursor) with label {k}.")
            for k in range(1, 10)
        ],
        Binding("enter", "span('accept')", "Accept", id="reader.accept", show=False,
                tooltip="Accept the suggestion under the cursor."),
        Binding("x", "span('reject')", "Reject", id="reader.reject", show=False,
                tooltip="Reject the suggestion under the cursor."),
        Binding("A", "accept_all", "Accept all", id="reader.accept_all", show=False,
                tooltip="Accept every pending suggestion in this document."),
        Binding("backspace,delete", "span('delete')", "Remove span", id="reader.delete", show=False,
                tooltip="Remove the span (or suggestion) under the cursor."),
        Binding("escape", "clear_selection", "Clear selection", id="reader.clear_selection",
                show=False, tooltip="Clear the selection, else the search highlights, else the list's filter."),
        Binding("slash", "find", "Find", id="reader.find", show=False,
                tooltip="Find text in this document: the cursor jumps to the next match, every match is highlighted."),
        Binding("greater_than_sign", "next_match(1)", "Next match", id="reader.next_match", show=False,
                tooltip="Jump to the next match of the last find (wrapping round)."),
        Binding("less_than_sign", "next_match(-1)", "Previous match", id="reader.previous_match", show=False,
                tooltip="Jump to the previous match of the last find (wrapping round)."),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "reader--cursor", "reader--selection", "reader--empty", "reader--match",
    }

    DEFAULT_CSS = """
    Reader {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 0;
        background: $surface;
        & > .reader--cursor { text-style: bold reverse; }
        & > .reader--selection { background: $accent; color: $text; text-style: bold; }
        & > .reader--empty { color: $text-muted; text-style: italic; }
        & > .reader--match { background: $warning 45%; text-style: underline; }
    }
    """

    cursor: var[int] = var(0, init=False)
    """Index of the word under the cursor (in :attr:`DocModel.word_starts`)."""

    anchor: var[int | None] = var(None, init=False)
    """Word where the selection started, or ``None`` when nothing is selected."""

    class LabelRequested(Message):
        """Give ``start``..``end`` the label on ``key`` (or named ``name``); ``span`` is the span to relabel."""

        def __init__(
            self, doc_id: int, key: str | None, start: int, end: int, span: Span | None, name: str | None = None
        ) -> None:
            super().__init__()
            self.doc_id = doc_id
            self.key = key
            self.name = name
            self.start = start
            self.end = end
            self.span = span

    class SpanRequested(Message):
        """Accept, reject or delete ``span``."""

        def __init__(self, doc_id: int, command: SpanCommand, span: Span) -> None:
            super().__init__()
            self.doc_id = doc_id
            self.command = command
            self.span = span

    class FindRequested(Message):
        """The user asked to find text in the document (the app shows the find box)."""

    class NothingToClear(Message):
        """Escape with no selection and no search highlights (the app clears the list's filter)."""

    class AcceptAllRequested(Message):
        """Accept every pending suggestion of the document."""

        def __init__(self, doc_id: int) -> None:
            super().__init__()
            self.doc_id = doc_id

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model: DocModel | None = None
        self.empty_message = ""
        #: Where decisions and requests go (set by the app): called at once, in the key's own
        #: turn, so a key that follows (``d``, ``]``, a letter typed after ``/``) never runs
        #: before it. ``None``: they are posted as messages (the review screen handles them so).
        self.requests_to: Callable[[Message], None] | None = None
        self._labels: list[Label] = []
        self._styles: dict[str, LabelStyle] = {}
        self._layouts: dict[int, DocumentLayout] = {}
        self._goal_x: int | None = None
        self._base: tuple[Style, Style, Style, Style] | None = None
        self._match_style = Style()
        #: The last find: its text and the offsets of its matches (highlighted while shown).
        self.find_text = ""
        self.found: list[tuple[int, int]] = []
        self._match_starts: list[int] = []
        #: The match the cursor was last taken to (an index into :attr:`found`) and its word:
        #: ``>``/``<`` step from it while the cursor is still there, as the cursor alone cannot
        #: tell apart a match inside its word from the matches after it.
        self._match_at: tuple[int, int] | None = None
        #: Drawn lines without cursor or selection, by paragraph then (start, end), so lines
        #: that only moved (a paragraph above grew) are not drawn again.
        self._strips: dict[int, dict[tuple[int, int], Strip]] = {}
        self._page = (0, 0)
        self._warm_pending = False
        #: Published with the selected text (``None``: nothing selected) when the selection
        #: changes; subscribers run at once, so they redraw in the same frame as the reader.
        self.selection_signal: Signal[str | None] = Signal(self, "selection")
        #: The last :meth:`suggestion_note` published (it is published with the selection).
        self._note: str | None = None
        #: Published with ``(page, pages)``, the screenful the view is on and how many the
        #: document fills, when that changes.
        self.scroll_signal: Signal[tuple[int, int]] = Signal(self, "scroll")
        #: ``time.monotonic()`` of the last cursor or selection change.
        self.moved_at = 0.0

    # -- setup ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def _restyle(self) -> None:
        _, _, background, foreground = self.colors
        self._styles = label_styles(self._labels, background, foreground)
        self._base = None
        self._strips.clear()
        self.refresh()

    @property
    def base_styles(self) -> tuple[Style, Style, Style, Style]:
        """(text, cursor, selection, empty-message) styles, computed once per theme."""
        if self._base is None:
            self._base = (
                self.rich_style,
                self.get_component_rich_style("reader--cursor", partial=True),
                self.get_component_rich_style("reader--selection", partial=True),
                self.get_component_rich_style("reader--empty", partial=True),
            )
            self._match_style = self.get_component_rich_style("reader--match", partial=True)
        return self._base

    def set_labels(self, labels: Sequence[Label]) -> None:
        """Use this label set (colours and chip names)."""
        self._labels = list(labels)
        if self.model is not None:
            self.model.set_labels(labels)
        if self.is_mounted:
            self._restyle()

    @property
    def wrap_width(self) -> int:
        """Cells available for text (the width the layout wraps to; the reader has no scrollbar)."""
        return max(self.size.width - 2 * MARGIN, 10)

    @property
    def layout_now(self) -> DocumentLayout | None:
        """The layout at the current width (computed on first use)."""
        model = self.model
        if model is None:
            return None
        width = self.wrap_width
        layout = self._layouts.get(width)
        if layout is None:
            layout = DocumentLayout(model.text, width, model.chips)
            self._layouts[width] = layout
        return layout

    @property
    def doc_id(self) -> int | None:
        return self.model.doc_id if self.model is not None else None

    def show(self, model: DocModel | None, offset: int | None = None, layout: DocumentLayout | None = None) -> None:
        """Show a document with the cursor on the word at ``offset`` (first word if ``None``)."""
        if model is not self.model:
            self.found, self._match_starts = [], []
        self.model = model
        self._layouts = {layout.width: layout} if layout is not None else {}
        self._strips.clear()
        self._goal_x = None
        self.set_reactive(Reader.anchor, None)
        if model is not None:
            model.set_labels(self._labels)
            word = model.word_at(offset) if offset is not None else (0 if len(model) else None)
            self.set_reactive(Reader.cursor, word or 0)
        else:
            self.set_reactive(Reader.cursor, 0)
        self._update_virtual_size()
        self.scroll_to(y=0, animate=False, force=True)
        self._scroll_to_cursor(centre=True)
        self.refresh()
        self._moved(True)
        self._page = self.page
        self.scroll_signal.publish(self._page)
        self._schedule_warm()

    def _update_virtual_size(self, *, only_if_needed: bool = False) -> None:
        """Scrollable size: the document's lines plus :data:`END_SLACK` blank lines.

        The slack lets a label add or remove a line without changing the size, which
        would make Textual lay out and repaint the whole widget and its scrollbar.
        """
        layout = self.layout_now
        height = layout.height if layout is not None else 1
        current = self.virtual_size.height
        if only_if_needed and height <= current <= height + 2 * END_SLACK:
            return
        self.virtual_size = Size(self.wrap_width, height + END_SLACK)

    @property
    def page(self) -> tuple[int, int]:
        """``(page, pages)``: the screenful the view is on (by its bottom line) and how many the text fills."""
        layout = self.layout_now
        height = max(self.scrollable_content_region.height, 1)
        if layout is None or layout.height == 0:
            return (1, 1)
        pages = -(-layout.height // height)
        bottom = min(round(self.scroll_offset.y) + height, layout.height)
        return (min(max(-(-bottom // height), 1), pages), pages)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._publish_page()
        self._schedule_warm()

    def _publish_page(self) -> None:
        page = self.page
        if page != self._page:
            self._page = page
            self.scroll_signal.publish(page)

    def _schedule_warm(self) -> None:
        if not self._warm_pending:
            self._warm_pending = True
            self.call_after_refresh(self._warm)

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        if self.model is None:
            return
        self._update_virtual_size()
        self._scroll_to_cursor()
        self.refresh()
        self._publish_page()

    # -- geometry helpers ------------------------------------------------------------------

    @property
    def has_words(self) -> bool:
        return self.model is not None and len(self.model) > 0

    @property
    def cursor_range(self) -> tuple[int, int] | None:
        """Offsets of the word under the cursor."""
        if not self.has_words:
            return None
        assert self.model is not None
        return self.model.word_range(self.cursor)

    @property
    def cursor_extent(self) -> tuple[int, int] | None:
        """What the cursor is drawn over: the whole span under it (the span a label, accept or
        delete acts on), else its word; while selecting, its word."""
        rng = self.cursor_range
        if rng is None or self.anchor is not None:
            return rng
        assert self.model is not None
        span = self.model.span_at(*rng)
        return (span.start, span.end) if span is not None else rng

    @property
    def selection(self) -> tuple[int, int] | None:
        """Offsets of the selection (whole words), or ``None``."""
        if self.anchor is None or not self.has_words:
            return None
        assert self.model is not None
        lo, hi = min(self.anchor, self.cursor), max(self.anchor, self.cursor)
        return self.model.word_starts[lo], self.model.word_ends[hi]

    @property
    def selection_text(self) -> str | None:
        sel = self.selection
        if sel is None or self.model is None:
            return None
        return self.model.raw[sel[0] : sel[1]]

    def suggestion_note(self) -> str | None:
        """``PER? translit 0.72``: label, origin and score of the pending suggestion under the
        cursor (or the one the selection covers exactly), else ``None``."""
        if self.model is None:
            return None
        sel = self.selection
        rng = sel if sel is not None else self.cursor_range
        if rng is None:
            return None
        span = self.model.pending_at(*rng)
        if span is None or (sel is not None and (span.start, span.end) != tuple(sel)):
            return None
        score = f" {span.score:.2f}" if span.score is not None else ""
        return f"{span.label}? {span.origin}{score}"

    def _refresh_offsets(self, start: int, end: int) -> None:
        layout = self.layout_now
        if layout is None:
            return
        y0 = layout.y_of(start)
        y1 = layout.y_of(max(start, end - 1))
        self.refresh_lines(y0, y1 - y0 + 1)

    def _scroll_to_cursor(self, centre: bool = False) -> None:
        rng = self.cursor_range
        layout = self.layout_now
        if rng is None or layout is None:
            return
        y = layout.y_of(rng[0])
        height = max(self.scrollable_content_region.height, 1)
        top = round(self.scroll_offset.y)
        margin = min(2, height // 4)
        if centre and not (top <= y < top + height):
            self.scroll_to(y=max(y - height // 3, 0), animate=False, force=True)
        elif y < top + margin:
            self.scroll_to(y=max(y - margin, 0), animate=False, force=True)
        elif y >= top + height - margin:
            self.scroll_to(y=y - height + margin + 1, animate=False, force=True)

    @property
    def position(self) -> tuple[int, int] | None:
        """``(doc_id, offset of the word under the cursor)``, to save and restore."""
        if self.model is None:
            return None
        rng = self.cursor_range
        return self.model.doc_id, rng[0] if rng else 0

    def _moved(self, selection_changed: bool) -> None:
        self.moved_at = monotonic()
        note = self.suggestion_note()
        if selection_changed or note != self._note:
            self._note = note
            self.selection_signal.publish(self.selection_text)

    def _set_cursor(self, word: int, *, select: bool = False, keep_goal: bool = False) -> None:
        """Move the cursor (and, with ``select``, the selection's moving end); redraw what changed."""
        if not self.has_words:
            return
        assert self.model is not None
        old_cursor = self.cursor_extent
        old_sel = self.selection
        word = max(0, min(word, len(self.model) - 1))
        if select and self.anchor is None:
            self.set_reactive(Reader.anchor, self.cursor)
        elif not select:
            self.set_reactive(Reader.anchor, None)
        self.set_reactive(Reader.cursor, word)
        if not keep_goal:
            self._goal_x = None
        new_sel = self.selection
        for rng in (old_cursor, self.cursor_extent, old_sel, new_sel):
            if rng is not None:
                self._refresh_offsets(*rng)
        self._scroll_to_cursor()
        self._moved(old_sel != new_sel)

    def clear_selection(self) -> None:
        """Drop the selection (the cursor stays)."""
        old = self.selection
        self.set_reactive(Reader.anchor, None)
        if old is not None:
            self._refresh_offsets(*old)
            extent = self.cursor_extent
            if extent is not None:
                self._refresh_offsets(*extent)
            self._moved(True)

    def move_to_offset(self, offset: int) -> None:
        """Put the cursor on the word at ``offset`` (clearing the selection)."""
        if self.model is not None:
            word = self.model.word_at(offset)
            if word is not None:
                self._set_cursor(word)

    # -- actions: movement -----------------------------------------------------------------

    def action_move(self, step: int) -> None:
        self._set_cursor(self.cursor + step)

    def action_edge(self, end: int) -> None:
        if self.model is not None:
            self._set_cursor(len(self.model) - 1 if end else 0)

    def action_extend(self, step: int) -> None:
        self._set_cursor(self.cursor + step, select=True)

    def action_clear_selection(self) -> None:
        if self.selection is not None:
            self.clear_selection()
        elif self.found:
            self.set_matches([])
        else:
            self._request(self.NothingToClear())

    # -- finding text ------------------------------------------------------------------------

    def action_find(self) -> None:
        if self.model is not None:
            self._request(self.FindRequested())

    def set_matches(self, matches: Sequence[tuple[int, int]]) -> None:
        """Highlight these ranges (``[]`` clears the highlights)."""
        self.found = list(matches)
        self._match_starts = [a for a, _ in self.found]
        self._match_at = None
        self._strips.clear()
        self.refresh()

    def find(self, query: str, step: int = 1) -> int:
        """Highlight every match of ``query`` (case-insensitive) and jump to the next one after the
        cursor (``step`` -1: before it), wrapping round; returns how many there are."""
        self.find_text = query
        if self.model is None or not query:
            self.set_matches([])
            return 0
        pattern = re.compile(re.escape(query), re.IGNORECASE)
        self.set_matches([(m.start(), m.end()) for m in pattern.finditer(self.model.raw)])
        self.action_next_match(step, from_cursor=True)
        return len(self.found)

    def action_next_match(self, step: int, from_cursor: bool = False) -> None:
        if self.model is None:
            return
        if not self.found:
            if self.find_text:
                self.find(self.find_text, step)
                if not self.found:
                    self.notify(f"No match for «{inert(self.find_text)}» in this document.", timeout=2, markup=False)
            else:
                self.notify("Nothing to find yet: press / first.", timeout=2)
            return
        rng = self.cursor_range
        here = rng[0] if rng else 0
        n = len(self.found)
        if not from_cursor and self._match_at is not None and self._match_at[1] == self.cursor:
            i = (self._match_at[0] + step) % n  # from the match last gone to (it may start mid-word)
        elif step > 0:
            i = bisect_left(self._match_starts, here) if from_cursor else bisect_right(self._match_starts, here)
            i = i % n
        else:
            i = (bisect_left(self._match_starts, here) - 1) % n
        start = self.found[i][0]
        word = self.model.word_at(start)
        if word is not None:
            self._set_cursor(word)
            self._scroll_to_cursor(centre=True)
        self._match_at = (i, self.cursor)
        self.notify(f"Match {i + 1} of {len(self.found)}: «{inert(self.find_text)}»", timeout=1.5, markup=False)

    def _word_on_line(self, y: int, x: int) -> int | None:
        """The word drawn at (or nearest before) column ``x`` of visual line ``y``; ``None`` if it has none."""
        layout = self.layout_now
        model = self.model
        assert layout is not None and model is not None
        line = layout.line(y)
        j0 = bisect_left(model.word_starts, line.start)
        j1 = bisect_left(model.word_starts, line.end)
        if j0 == j1:
            return None
        offset = layout.offset_at(y, x)
        here = model.word_index_at(offset)
        if here is not None and j0 <= here < j1:
            return here
        k = bisect_right(model.word_starts, offset) - 1
        return max(j0, min(k, j1 - 1))

    def _vertical_target(self, lines: int) -> int | None:
        layout = self.layout_now
        rng = self.cursor_range
        if layout is None or rng is None:
            return None
        y, x = layout.x_of(rng[0])
        goal = self._goal_x if self._goal_x is not None else x
        self._goal_x = goal
        step = 1 if lines > 0 else -1
        target = max(0, min(y + lines, layout.height - 1))
        # The first line with words from the target onwards; else the nearest one back
        # towards the cursor (a page down near the end stops on the last line of text).
        for ty in (*range(target, layout.height if step > 0 else -1, step), *range(target - step, y, -step)):
            if ty == y:
                break
            word = self._word_on_line(ty, goal)
            if word is not None:
                return word
        return None

    def action_vertical(self, lines: int) -> None:
        target = self._vertical_target(lines)
        if target is not None:
            self._set_cursor(target, keep_goal=True)

    def action_page(self, direction: int) -> None:
        layout = self.layout_now
        if layout is None:
            return
        height = max(self.scrollable_content_region.height - 1, 1)
        target = self._vertical_target(direction * height)
        top = round(self.scroll_offset.y)
        self.scroll_to(y=max(0, min(top + direction * height, self.max_scroll_y)), animate=False, force=True)
        if target is not None:
            self._set_cursor(target, keep_goal=True)

    def action_candidate(self, step: int) -> None:
        if not self.has_words:
            return
        assert self.model is not None
        word = self.model.next_candidate(self.cursor, step)
        if word is None:
            self.notify("No more candidates in this direction.", timeout=2)
        else:
            self._set_cursor(word)

    def action_entity(self, step: int) -> None:
        if not self.has_words:
            return
        assert self.model is not None
        word = self.model.next_span(self.cursor, step)
        if word is None:
            self.notify("No more entities or suggestions in this direction.", timeout=2)
        else:
            self._set_cursor(word)

    # -- actions: decisions (handed to the app, which commits them) --------------------------

    def _request(self, message: Message) -> None:
        """Hand ``message`` to :attr:`requests_to` now, else post it."""
        if self.requests_to is not None:
            self.requests_to(message)
        else:
            self.post_message(message)

    def action_label(self, key: str) -> None:
        self.request_label(key=key)

    def request_label(self, key: str | None = None, name: str | None = None) -> None:
        """Ask for a label (by key or name) on the selection, else the span or word under the cursor."""
        rng = self.cursor_range
        if rng is None or self.model is None:
            return
        doc_id = self.model.doc_id
        sel = self.selection
        if sel is not None:
            self._request(self.LabelRequested(doc_id, key, sel[0], sel[1], None, name))
            return
        span = self.model.span_at(*rng)
        if span is not None:
            self._request(self.LabelRequested(doc_id, key, span.start, span.end, span, name))
        else:
            self._request(self.LabelRequested(doc_id, key, rng[0], rng[1], None, name))

    def action_span(self, command: SpanCommand) -> None:
        rng = self.cursor_range
        if rng is None or self.model is None:
            return
        if command == "delete":
            span = self.model.span_at(*rng)
            missing = "There is no span under the cursor."
        else:
            span = self.model.pending_at(*rng)
            missing = "There is no suggestion under the cursor."
        if span is None:
            self.notify(missing, timeout=2)
            return
        self._request(self.SpanRequested(self.model.doc_id, command, span))

    def action_accept_all(self) -> None:
        if self.model is None:
            return
        if not self.model.spans.pending:
            self.notify("This document has no pending suggestions.", timeout=2)
            return
        self._request(self.AcceptAllRequested(self.model.doc_id))

    # -- applying committed changes ------------------------------------------------------------

    def apply_changes(self, changes: Sequence[dict[str, Any]], fetch: Callable[[int], Span | None]) -> int | None:
        """Show the store's committed ``changes``; re-wrap only the paragraphs they touch.

        Returns the offset of the first span the changes touched (to put the cursor on).
        """
        if self.model is None:
            return None
        changed = self.model.apply(changes, fetch)
        self._redraw_ranges(changed.ranges)
        return changed.focus

    def reload_spans(self, spans: Sequence[Span]) -> None:
        """Replace the document's spans with ``spans`` (read again from the store)."""
        if self.model is not None:
            self._redraw_ranges(self.model.reload(spans).ranges)

    def _redraw_ranges(self, ranges: Sequence[tuple[int, int]]) -> None:
        layout = self.layout_now
        if layout is None or not ranges:
            return
        width = layout.width
        self._layouts = {width: layout}  # other widths are stale now
        paragraphs: set[int] = set()
        for start, end in ranges:
            paragraphs.update(range(layout.paragraph_of(start), layout.paragraph_of(end) + 1))
        change = layout.relayout(paragraphs, ranges)
        for p in change.paragraphs:
            self._strips.pop(p, None)
        top = round(self.scroll_offset.y)
        bottom = top + self.scrollable_content_region.height
        for y in change.lines:
            if top <= y < bottom:
                self.refresh_lines(y)
        if change.moved_from is not None:
            self._update_virtual_size(only_if_needed=True)
            start_y = max(change.moved_from, top)
            if start_y < bottom:
                self.refresh_lines(start_y, bottom - start_y)
        self._scroll_to_cursor()

    # -- mouse ---------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        layout = self.layout_now
        offset = event.get_content_offset(self)
        if layout is None or offset is None:
            return
        y = offset.y + round(self.scroll_offset.y)
        if not 0 <= y < layout.height:
            return
        word = self._word_on_line(y, max(offset.x - MARGIN, 0))
        if word is not None:
            self.focus()
            self._set_cursor(word)

    # -- drawing -------------------------------------------------------------------------------

    def _plain_box(self) -> bool:
        """No border, outline, padding, tint, hatch or opacity: lines need no styling after :meth:`render_line`."""
        styles = self.styles
        return (
            not any(edge for edge, _ in styles.border) and not any(edge for edge, _ in styles.outline)
            and not any(styles.padding) and not styles.tint.a and self.opacity == 1.0
            and styles.text_opacity == 1.0 and not (styles.has_rule("hatch") and styles.hatch != "none")
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines of ``crop``, straight from :meth:`render_line` (its strips are cached by paragraph).

        Textual's general path restyles every line for borders and padding the reader does not
        have, which took as long as drawing the text on a page down; any other box falls back to it.
        """
        if not self._plain_box():
            return super().render_lines(crop)
        filters = self.get_line_filters()
        _, background = self.background_colors
        strips: list[Strip] = []
        marks = (self.cursor_extent, self.selection)
        for y in crop.line_range:
            strip = self.render_line(y, marks)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        x1, x2 = crop.column_span
        if (x1, x2) != (0, self.size.width):
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def render_line(self, y: int, marks: tuple[tuple[int, int] | None, tuple[int, int] | None] | None = None) -> Strip:
        """Line ``y`` of the view; ``marks`` are the cursor's extent and the selection, if known."""
        # Called for every line of every frame that redraws the reader: read each piece of
        # widget state once here and hand it down.
        width = self.size.width
        base, _, _, empty_style = self.base_styles
        model = self.model
        layout = self._layouts.get(width - 2 * MARGIN) if model is not None else None
        if layout is None:
            layout = self.layout_now
        if layout is None or model is None:
            if y == 0 and self.empty_message:
                segments = [Segment(" " * MARGIN, base), Segment(inert(self.empty_message), base + empty_style)]
                return Strip(segments).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        vy = y + round(self.scroll_y)
        if vy >= layout.height:
            return Strip.blank(width, base)
        cursor, sel = marks if marks is not None else (self.cursor_extent, self.selection)
        return self._strip(model, layout, vy, width, cursor, sel)

    def _strip(
        self,
        model: DocModel,
        layout: DocumentLayout,
        vy: int,
        width: int,
        cursor: tuple[int, int] | None,
        sel: tuple[int, int] | None,
    ) -> Strip:
        """Visual line ``vy`` drawn ``width`` cells wide (from the cache unless the cursor or selection is on it)."""
        base, cursor_style, sel_style, _ = self.base_styles
        line = layout.line(vy)
        plain = not any(rng is not None and rng[0] <= line.end and line.start < rng[1] for rng in (cursor, sel))
        cache = self._strips.setdefault(line.paragraph, {}) if plain else None
        key = (line.start, line.end)
        if cache is not None:
            cached = cache.get(key)
            if cached is not None and cached.cell_length == width:
                return cached
        segments, cells = self._line_segments(model, layout, line, base, (cursor, cursor_style), (sel, sel_style))
        cells += MARGIN
        if cells <= width:
            segments.append(Segment(" " * (width - cells), base))
            strip = Strip(segments, width)
        else:
            strip = Strip(segments, cells).crop(0, width)  # spaces at the end of a line run over
        if cache is not None:
            if len(self._strips) > STRIP_CACHE_PARAGRAPHS:
                self._strips.clear()
            cache[key] = strip
        return strip

    def _warm(self) -> None:
        """Draw the screens above and below the view into the line cache (after a frame, so a
        page key finds its lines drawn)."""
        self._warm_pending = False
        model = self.model
        layout = self._layouts.get(self.size.width - 2 * MARGIN) if model is not None else None
        if layout is None or model is None:
            return
        height = self.scrollable_content_region.height
        top = round(self.scroll_y)
        cursor, sel = self.cursor_extent, self.selection
        for vy in (*range(top + height, min(top + 2 * height, layout.height)), *range(max(top - height, 0), top)):
            self._strip(model, layout, vy, self.size.width, cursor, sel)

    def _matches_on(self, a: int, b: int) -> list[tuple[int, int]]:
        """The find matches overlapping ``a``..``b``."""
        if not self.found:
            return []
        i = max(bisect_left(self._match_starts, a) - 1, 0)
        out = []
        for m0, m1 in self.found[i:]:
            if m0 >= b:
                break
            if m1 > a:
                out.append((m0, m1))
        return out

    def _line_segments(
        self,
        model: DocModel,
        layout: DocumentLayout,
        line: Line,
        base: Style,
        cursor_at: tuple[tuple[int, int] | None, Style],
        sel_at: tuple[tuple[int, int] | None, Style],
    ) -> tuple[list[Segment], int]:
        """The segments of a visual line (left margin included) and their width in cells."""
        cursor, cursor_style = cursor_at
        sel, sel_style = sel_at
        a, b = line.start, line.end
        text = model.text
        spans = model.spans.overlapping(a, b) if b > a else []
        chips = layout.chips_on(line)
        cuts = {a, b}
        for s in spans:
            if a < s.start < b:
                cuts.add(s.start)
            if a < s.end < b:
                cuts.add(s.end)
        chips_at: dict[int, list[Chip]] = {}
        for c in chips:
            cuts.add(c.offset)
            chips_at.setdefault(c.offset, []).append(c)
        for rng in (cursor, sel):
            if rng is not None:
                for o in rng:
                    if a < o < b:
                        cuts.add(o)
        found = self._matches_on(a, b)
        for m0, m1 in found:
            if a < m0 < b:
                cuts.add(m0)
            if a < m1 < b:
                cuts.add(m1)
        match_style = self._match_style
        styles = self._styles
        fallback = styles.get("")
        segments: list[Segment] = [Segment(" " * MARGIN, base)]
        cells = 0
        points = sorted(cuts)
        last = len(points) - 1
        for i, x in enumerate(points):
            for chip in chips_at.get(x, ()):
                span = model.spans.get(chip.key)
                if span is None:
                    continue
                ls = styles.get(span.label, fallback)
                chip_style = (ls.chip if span.state == "accepted" else ls.pending_chip) if ls else base
                segments.append(Segment(chip_text(span.label, span.state), base + chip_style))
                cells += chip.width
            if i == last:
                break
            y = points[i + 1]
            style = base
            covering = None
            for s in spans:
                if s.start <= x < s.end and (covering is None or s.state == "accepted"):
                    covering = s
            if covering is not None:
                ls = styles.get(covering.label, fallback)
                if ls is not None:
                    style = style + (ls.span if covering.state == "accepted" else ls.pending)
            if found and any(m0 <= x < m1 for m0, m1 in found):
                style = style + match_style
            if sel is not None and sel[0] <= x < sel[1]:
                style = style + sel_style
            if cursor is not None and cursor[0] <= x < cursor[1]:
                style = style + cursor_style
            piece = text[x:y]
            segments.append(Segment(piece, style))
            cells += cell_len(piece)
        return segments, cells
