"""Command palette entries: jump to a document by title, mark it, label with any label, export,
and (when the model is on) retrain it, show its state and order the list by it.

Titles and label names are data: hits are built as :class:`textual.content.Content` from
plain text (never markup) and the fuzzy-match highlight is applied by offsets; ``help=``,
which Textual parses as markup, goes through :func:`tui.safe.safe`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content

from annotations import inert

from .doclist import FILTERS
from .safe import safe
from .keymap import effective_keys, label_keys_in_effect

if TYPE_CHECKING:  # pragma: no cover
    from .app import AnnotateApp

__all__ = ["AnnotateCommands", "export_formats", "highlight"]

#: How many documents a palette search looks at (the full-text index picks them).
DOCUMENT_HITS = 20


def highlight(matcher: Matcher, text: str) -> Content:
    """``text`` as plain content with the letters matching the query highlighted."""
    content = Content(text)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def export_formats() -> tuple[str, ...]:
    """The export formats the library offers (none if ``annotations.formats`` is missing)."""
    try:
        from annotations.formats import FORMATS
    except ImportError:  # pragma: no cover - the formats package is part of the library
        return ()
    return tuple(FORMATS)


Command = tuple[str, Callable[[], object], str]


class AnnotateCommands(Provider):
    """The app's commands and its documents (found by title through the full-text index)."""

    @property
    def annotate_app(self) -> AnnotateApp:
        return cast("AnnotateApp", self.app)

    def keys(self, keys: tuple[str, ...]) -> str:
        """`` (key d)``: the keys as the footer shows them ("" for none)."""
        shown = [self.app.get_key_display(Binding(k, "")) for k in keys if k]
        if not shown:
            return ""
        return f" (key{'s' if len(shown) > 1 else ''} {' '.join(inert(k) for k in shown)})"

    def commands(self) -> list[Command]:
        app = self.annotate_app
        bound = effective_keys(app.keymap)

        def key(ident: str) -> str:
            return self.keys(bound.get(ident, ()))

        cmds: list[Command] = [
            ("Mark document done" + key("app.done"), partial(app.action_mark, "done"),
             "Mark this document done and open the next unfinished one."),
            ("Mark document skipped" + key("app.skip"), partial(app.action_mark, "skipped"),
             "Mark this document skipped and open the next unfinished one."),
            ("Mark document todo", partial(app.set_status_only, "todo"),
             "Put this document back on the todo list."),
            ("Accept all suggestions" + key("reader.accept_all"), app.reader.action_accept_all,
             "Accept every pending suggestion in this document."),
        ]
        for label in app.labels:
            key_text = self.keys(label_keys_in_effect(label.key, app.keymap)) if label.key else ""
            cmds.append((
                f"Label: {inert(label.name)}{key_text}",
                partial(app.label_with, label.name),
                safe(label.description) or f"Give the selection or the word under the cursor the label {safe(label.name)}.",
            ))
        for status in FILTERS:
            cmds.append((
                f"Show documents: {status or 'all'}",
                partial(app.filter_documents, status),
                "Filter the document list by status.",
            ))
        if app.model_loop is not None:
            cmds.append(("Retrain model", app.retrain_model,
                         "Train the model on your labelled documents now (in the background)."))
            cmds.append(("Show model state", app.show_model_state,
                         "Documents the model learned from, its last retrain and held-out F1."))
            for order, what in (("import", "import order"),
                                ("uncertainty", "the model's least confident documents first"),
                                ("entities", "the most predicted entities first")):
                cmds.append((f"Order documents: {order}", partial(app.order_documents, order),
                             f"List the documents in {what}; d opens the next one in this order."))
        cmds.append(("Collapse or expand the document list" + key("app.toggle_list"), app.action_toggle_list,
                     "Hide the list and give the reader the whole width, or show it again."))
        cmds.append(("Show keys" + key("app.help"), app.action_help, "Every key binding and the labels' keys."))
        cmds.append(("Show statistics" + key("app.stats"), app.action_stats,
                     "Charts: spans per label, documents done per day, entities per minute, learning curve."))
        for fmt in export_formats():
            cmds.append((
                f"Export done documents as {fmt}",
                partial(app.export, fmt),
                f"Write your done documents to {safe(app.export_path(fmt))}.",
            ))
        return cmds

    async def discover(self) -> Hits:
        for name, callback, help_text in self.commands():
            yield DiscoveryHit(Content(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, highlight(matcher, name), callback, text=name, help=help_text)
        app = self.annotate_app
        for doc in app.list_documents(search=query, limit=DOCUMENT_HITS):
            title = inert(doc.title) or "(untitled)"
            score = matcher.match(title)
            text = f"Open: {title}"
            yield Hit(
                max(score, 0.2),
                Content("Open: ") + highlight(matcher, title),
                partial(app.open_document, doc.id),
                text=text,
                help=f"#{doc.id} · {safe(doc.lang)} · {doc.status} · {doc.entities} entities",
            )
