"""Screenshot of a document full of bidi controls, OSC 8 links and emoji sequences: it renders literally.

``tests/test_tui_snapshots.py`` already shows Rich markup, colours, screen clears and OSC 52
rendering as text. This one adds what it leaves out: bidi overrides and isolates (which
would reverse the line on screen), OSC 8 hyperlinks (which would hide a URL behind a word),
C1 controls, NUL and lone CR, beside ZWJ emoji, skin tones and a Kyrgyz-Russian word, with
an accepted span right after a right-to-left override to show the highlight lands on its
own characters. Regenerate with ``--snapshot-update`` and look at the SVG before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from tui_helpers import loaded, make_app

from annotations import Store

HOSTILE_TEXT = (
    "Садыр \u202eвораПаЖ\u202c Жапаров келди; \u2066Ош\u2069 \u2067Нарын\u2069 \u200fТалас\u200e\n"
    "\x1b]8;;https://evil.example/\x1b\\Бишкек\x1b]8;;\x1b\\ шилтеме, \x9b31mC1\x9b0m, NUL\x00, CR\rжок\n"
    "👩\u200d💻 Айгүл, 👍🏽 👋🏿 🇰🇬, zero\u200bwidth, Москвага, Правительствосунун [bold]x[/]"
)


async def shown(pilot: Pilot[Any]) -> None:
    """Wait until the reader shows the document and the app is idle."""
    await loaded(pilot)
    await pilot.pause(0.1)


def test_bidi_and_osc8_render_literally(snap_compare: Any, store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(HOSTILE_TEXT)
    start = HOSTILE_TEXT.index("Жапаров")
    store.add_span(doc, start, start + len("Жапаров"), "PER")
    assert snap_compare(make_app(store), terminal_size=(100, 20), run_before=shown)
