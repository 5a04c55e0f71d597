"""The document list: a lazily paged table of documents, a status filter and full-text search.

The table never holds the whole corpus: it asks for one page of rows at a time
(``fetch(after=..., limit=...)``, i.e. :meth:`annotations.Store.documents`) and asks for the
next page when the cursor or the scroll position nears the end of what it has. In import
order pages follow the ids; in a model's order (least confident first, most predicted
entities first) :class:`RankedFetch` pages through the ranking the app was given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import ColumnKey

from annotations import DocumentSummary, inert

from .focus import focus_now

__all__ = ["FILTERS", "ORDER_NAMES", "DocList", "DocTable", "RankedFetch"]

Fetch = Callable[..., Sequence[DocumentSummary]]

#: Status filters in the order ``f`` cycles through them (``None`` is every document).
FILTERS: tuple[str | None, ...] = (None, "todo", "done", "skipped")

#: How the list header names each order.
ORDER_NAMES = {"import": "import order", "uncertainty": "least confident first",
               "entities": "most entities first"}

_STATUS_TEXT = {"todo": ("todo", ""), "done": ("done", "bold"), "skipped": ("skip", "dim")}


def status_cell(status: str) -> Text:
    text, style = _STATUS_TEXT.get(status, (status[:4], ""))
    return Text(text, style=style)


def title_cell(title: str) -> Text:
    return Text(inert(title) or "(untitled)", no_wrap=True, overflow="ellipsis")


class RankedFetch:
    """Pages of documents in a given order of ids (filters still apply), for :class:`DocTable`.

    ``after`` is the id of the last row shown, as in import order; each page is read with
    :meth:`annotations.Store.documents` restricted to the next ids of the ranking.
    """

    def __init__(self, fetch: Fetch, order: Sequence[int]) -> None:
        self._fetch = fetch
        self.order = list(order)
        self._position = {doc_id: i for i, doc_id in enumerate(self.order)}

    def position(self, doc_id: int) -> int | None:
        return self._position.get(doc_id)

    def __call__(self, *, after: int | None = None, limit: int = 100, **filters: object) -> list[DocumentSummary]:
        pos = 0 if after is None else self._position.get(after, len(self.order) - 1) + 1
        out: list[DocumentSummary] = []
        chunk = max(limit, 1) * 4
        while len(out) < limit and pos < len(self.order):
            ids = self.order[pos:pos + chunk]
            rows = {d.id: d for d in self._fetch(ids=ids, limit=len(ids), **filters)}
            for doc_id in ids:
                pos += 1
                if doc_id in rows:
                    out.append(rows[doc_id])
                    if len(out) == limit:
                        break
        return out


class DocTable(DataTable[Text]):
    """Documents, one page of rows loaded at a time.

    | Key(s) | Description |
    | :- | :- |
    | home, end | First / last loaded document (end loads the next page). |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First", id="doclist.first", show=False,
                tooltip="Go to the first document of the list."),
        Binding("end", "scroll_bottom", "Last", id="doclist.last", show=False,
                tooltip="Go to the last loaded document (the next page loads as you get there)."),
    ]

    PAGE: ClassVar[int] = 100
    """Rows fetched per page."""

    AHEAD: ClassVar[int] = 20
    """Load the next page when the cursor or the view is this close to the last row."""

    TITLE_WIDTH: ClassVar[int] = 14
    """Cells of the title column before the table knows its width (then it fills the list)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_header=True)
        self._fetch: Fetch | None = None
        self._filters: dict[str, object] = {}
        self._last_id: int | None = None
        self._loading = False
        self.exhausted = True
        #: Rows come in id order (import order); False in a model's order.
        self.by_id = True

    def on_mount(self) -> None:
        self.add_column("St", width=4, key="status")
        self.add_column("La", width=2, key="lang")
        self.add_column(Text("#", justify="right"), width=3, key="entities")
        self.add_column("Title", width=self.TITLE_WIDTH, key="title")

    def on_resize(self) -> None:
        """Give the title column whatever the other columns leave."""
        other = sum(c.get_render_width(self) for key, c in self.columns.items() if key.value != "title")
        width = max(6, self.scrollable_content_region.width - other - 2 * self.cell_padding - 1)
        column = self.columns.get(ColumnKey("title"))
        if column is not None and column.width != width:
            column.width = width
            column.auto_width = False
            self._require_update_dimensions = True
            self.refresh()

    def reset(self, fetch: Fetch, **filters: object) -> None:
        """Show the first page of documents matching ``filters`` (status, search)."""
        self._fetch = fetch
        self.by_id = not isinstance(fetch, RankedFetch)
        self._filters = {k: v for k, v in filters.items() if v}
        self._last_id = None
        self.exhausted = False
        self.clear()
        self.load_more()

    def load_more(self) -> int:
        """Append the next page; returns how many rows it added."""
        if self.exhausted or self._fetch is None or self._loading:
            return 0
        self._loading = True
        try:
            page = self._fetch(after=self._last_id, limit=self.PAGE, **self._filters)
            if page:
                self._last_id = page[-1].id
            if len(page) < self.PAGE:
                self.exhausted = True
            for doc in page:
                self.add_row(*self._cells(doc), key=str(doc.id))
        finally:
            self._loading = False
        return len(page)

    @staticmethod
    def _cells(doc: DocumentSummary) -> tuple[Text, Text, Text, Text]:
        return (
            status_cell(doc.status),
            Text(inert(doc.lang)),
            Text(str(doc.entities), justify="right"),
            title_cell(doc.title),
        )

    def has_doc(self, doc_id: int) -> bool:
        return str(doc_id) in self.rows

    def update_doc(self, doc_id: int, status: str, entities: int) -> None:
        """Show a document's new status and entity count (if its row is loaded)."""
        key = str(doc_id)
        if key in self.rows:
            self.update_cell(key, "status", status_cell(status))
            self.update_cell(key, "entities", Text(str(entities), justify="right"))

    def highlight_doc(self, doc_id: int, *, max_pages: int = 5) -> None:
        """Move the table's cursor to a document, loading a few more pages if it is near."""
        key = str(doc_id)
        pages = 0
        while key not in self.rows and not self.exhausted and pages < max_pages:
            if self.by_id and self._last_id is not None and doc_id < self._last_id:
                break
            self.load_more()
            pages += 1
        if key in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.row_count - self.AHEAD:
            self.load_more()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y - self.AHEAD:
            self.load_more()


class DocList(Vertical):
    """The documents of the corpus: status filter, search box and table.

    | Key(s) | Description |
    | :- | :- |
    | f | Cycle the status filter: all, todo, done, skipped. |
    | enter | Open the highlighted document. |
    | escape | Clear the filter and search, else back to the reader. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "cycle_filter", "Filter", id="doclist.filter",
                tooltip="Show all documents, or only todo, done or skipped ones."),
        Binding("escape", "leave", "Back to reader", id="doclist.leave", show=False,
                tooltip="Clear the list's filter and search; if there are none, go back to the reader."),
    ]

    status_filter: reactive[str | None] = reactive(None, init=False)
    """Only documents with this status (``None``: all)."""

    search: reactive[str] = reactive("", init=False)
    """Full-text query over titles and texts ("" shows every document)."""

    class Opened(Message):
        """The user chose a document in the list."""

        def __init__(self, doc_id: int) -> None:
            super().__init__()
            self.doc_id = doc_id

    class Left(Message):
        """The user left the list (escape)."""

    def __init__(self, fetch: Fetch, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._fetch = fetch
        self._ranked: RankedFetch | None = None
        #: The list's order: ``import``, or the model's (``uncertainty``, ``entities``).
        self.order = "import"
        #: Only these documents (the annotator's assigned ones, "mine"); ``None``: all.
        self._mine: list[int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="doclist-header")
        yield Input(placeholder="search titles and text…", id="doclist-search")
        yield DocTable(id="doclist-table")

    @property
    def table(self) -> DocTable:
        return self.query_one(DocTable)

    @property
    def search_box(self) -> Input:
        return self.query_one("#doclist-search", Input)

    def on_mount(self) -> None:
        self.search_box.display = False
        self._show_header()

    def reload(self) -> None:
        """Fetch the first page again with the current filter and search."""
        self.table.reset(self._source(), status=self.status_filter, search=self.search)
        self._show_header()

    def _source(self) -> Fetch:
        if self._mine is None:
            return self._ranked or self._fetch
        mine = set(self._mine)
        order = [i for i in self._ranked.order if i in mine] if self._ranked is not None else self._mine
        return RankedFetch(self._fetch, order)

    @property
    def mine_only(self) -> bool:
        """Whether the list shows only the annotator's assigned documents."""
        return self._mine is not None

    def set_mine(self, ids: Sequence[int] | None, *, reload: bool = True) -> None:
        """Show only ``ids`` (the annotator's assigned documents), or every document (``None``)."""
        self._mine = list(ids) if ids is not None else None
        if reload:
            self.reload()

    def set_order(self, order: str, ranking: Sequence[int] | None = None) -> None:
        """Show the documents in ``ranking`` (every id, in order), or in import order."""
        self.order = order if ranking is not None else "import"
        self._ranked = RankedFetch(self._fetch, ranking) if ranking is not None else None
        self.reload()

    @property
    def ranking(self) -> list[int] | None:
        """The ids in the list's order (``None`` in import order)."""
        return self._ranked.order if self._ranked is not None else None

    def position(self, doc_id: int) -> int | None:
        """Where ``doc_id`` is in the list's model order (``None`` in import order)."""
        return self._ranked.position(doc_id) if self._ranked is not None else None

    @property
    def filtered(self) -> bool:
        """Whether a status filter or a search hides some documents."""
        return bool(self.status_filter or self.search)

    def clear_filters(self) -> bool:
        """Show every document again; returns whether there was a filter to clear."""
        if not self.filtered:
            return False
        self.set_reactive(DocList.status_filter, None)
        self.set_reactive(DocList.search, "")
        self.reload()
        return True

    def _show_header(self) -> None:
        header = Text(no_wrap=True, overflow="ellipsis")
        if self.filtered:  # the filter first: at 80 columns the list is 28 wide
            shown = " · ".join(part for part in (
                self.status_filter or "",
                "«" + inert(self.search) + "»" if self.search else "",
            ) if part)
            header.append(f"filtered: {shown}", style="bold reverse")
        else:
            header.append("Documents", style="bold")
            if self._mine is None:
                header.append(" · all")
        if self._mine is not None:
            header.append(" · mine")
        if self.order != "import":
            header.append(f" · {ORDER_NAMES.get(self.order, self.order)}")
        if self.filtered:
            header.append(" (esc clears)", style="dim")
        self.query_one("#doclist-header", Static).update(header)

    def watch_status_filter(self) -> None:
        self.reload()

    def watch_search(self) -> None:
        self.reload()

    def action_cycle_filter(self) -> None:
        i = FILTERS.index(self.status_filter)
        self.status_filter = FILTERS[(i + 1) % len(FILTERS)]

    def action_leave(self) -> None:
        box = self.search_box
        if box.has_focus or not self.clear_filters():
            box.display = False
            self.post_message(self.Left())
        else:
            box.display = False

    def start_search(self) -> None:
        """Show the search box with the current query and focus it."""
        box = self.search_box
        box.display = True
        box.value = self.search
        focus_now(box)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search = event.value.strip()
        self.search_box.display = bool(self.search)
        focus_now(self.table)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Opened(int(event.row_key.value)))
