"""Making untrusted strings safe for the Textual APIs that parse markup.

Most of the app shows data through :class:`rich.text.Text` or :class:`textual.content.Content`
built from plain text, which never parse markup. A few Textual APIs take a ``str`` and parse it
as markup: a command palette hit's ``help=``, ``notify()`` (unless ``markup=False``), ``Static``
and ``Label`` given a ``str``, border titles. Every string with data in it (label names and
descriptions, titles, annotator names, paths, error messages) goes through :func:`safe` first.
"""

from __future__ import annotations

from annotations import inert

__all__ = ["safe"]


def safe(value: object) -> str:
    """``value`` as markup that shows exactly as typed: control characters made inert
    (:func:`annotations.inert`) and every ``[`` escaped, so no tag, link or action is parsed."""
    return inert(str(value)).replace("[", "\\[")
