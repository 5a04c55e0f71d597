"""Focus moved at once, in the current key's turn.

``Widget.focus()`` moves the focus in a callback after the messages already queued, so keys
typed right behind the key that opened a box (``/`` then ``Бишкек``, over SSH often in one
packet) would still go to the widget focused before: an ``s`` there skipped the document.
"""

from __future__ import annotations

from textual.dom import NoScreen
from textual.widget import Widget

__all__ = ["focus_now"]


def focus_now(widget: Widget) -> None:
    """Give ``widget`` the focus now (deferred, as ``focus()`` does, while it has no screen)."""
    try:
        screen = widget.screen
    except NoScreen:
        widget.focus()
        return
    screen.set_focus(widget)
