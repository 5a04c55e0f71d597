"""Hostile names in the app (issue 16 item 2): labels, annotator, titles and the database path
are data, never markup. Every screen and widget is shown with names that are Textual markup
(``[reverse]``, ``[link=file:///etc/passwd]``, ``[@click=app.quit]``) and must show them as typed.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from annotations import Store

from tui_helpers import loaded, make_app, sync, until

LABELS = ["[reverse]INJ", "[link=file:///etc/passwd]X", "[@click=app.quit]Q"]
ANNOTATOR = "[bold]ann"  # no "/": the palette export names its file after the annotator
TITLE = "[red]Заголовок[/red] [link=https://x]Бишкек[/link]"
TEXT = TITLE + "\nСадыр Жапаров Бишкекке келди, Ош шаарына барды."


def screen_text(app) -> str:
    """What the terminal shows, as text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(parts)).replace("\xa0", " ")


@sync
async def test_item2_hostile_names_render_as_typed_everywhere(tmp_path: Path) -> None:
    folder = tmp_path / "[blink]data"
    folder.mkdir()
    db = folder / "[reverse]news.db"
    store = Store(db, ANNOTATOR)
    for i, name in enumerate(LABELS, 4):
        store.add_label(name, key=str(i), description=f"[italic]about {name}" if i == 4 else "")
    (tmp_path / "doc.txt").write_text(TEXT, encoding="utf-8")
    from annotations import import_paths

    assert import_paths(store, [tmp_path / "doc.txt"]).ok
    doc_id = store.document_ids()[0]
    start = TEXT.index("Садыр")
    store.add_span(doc_id, start, start + len("Садыр Жапаров"), LABELS[0])
    b = TEXT.index("Бишкекке")
    store.add_suggestions(doc_id, [(b, b + len("Бишкекке"), LABELS[1], 0.5)], "[b]patterns[/b]")
    app = make_app(store)
    notes: list[str] = []
    real_notify = app.notify
    app.notify = lambda message, *a, **k: (notes.append(str(message)), real_notify(message, *a, **k))[1]  # type: ignore[method-assign]
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot, doc_id)
        shown = screen_text(app)
        assert "[red]Заголовок[/red]" in shown  # the title bar and the document list
        assert LABELS[0] in shown  # the span's label in the reader, the label bar
        # The command palette: every label's entry and its help line.
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        for ch in "Label":
            await pilot.press(ch)
        await pilot.pause(0.5)
        shown = screen_text(app)
        assert "Label: [reverse]INJ (key 4)" in shown
        assert "[italic]about [reverse]INJ" in shown
        assert "the label [link=file:///etc/passwd]X." in shown
        for _ in "Label":
            await pilot.press("backspace")
        for ch in "Export":
            await pilot.press(ch)
        await pilot.pause(0.5)
        shown = screen_text(app)
        assert "[reverse]news.[bold]ann.jsonl" in shown
        await pilot.press("escape")
        await pilot.pause(0.2)
        # Label the next word with the [@click=app.quit] label: the app must not quit.
        await pilot.press("?")
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause(0.2)
        await pilot.press("/")
        for ch in "[link":
            await pilot.press(ch)
        await pilot.pause(0.5)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.is_running
        # Label a word with the [@click=app.quit] label, then export through the palette: the
        # label shows as typed, the app does not quit, the notification names the path as it is.
        await pilot.press("escape")
        await pilot.press("right", "right", "6")
        await pilot.pause(0.3)
        assert app.is_running
        assert LABELS[2] in screen_text(app)
        assert any(sp.label == LABELS[2] for sp in store.spans(doc_id))
        store.set_status(doc_id, "done")
        await pilot.press("ctrl+p")
        for ch in "as jsonl":
            await pilot.press(ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: (folder / "[reverse]news.[bold]ann.jsonl").exists())
        await pilot.pause(0.3)
        assert any("[reverse]news.[bold]ann.jsonl" in n for n in notes), notes
        await pilot.press("q")
    store.close()
