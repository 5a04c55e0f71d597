"""The app as a whole: first start, restoring the cursor, annotators, keymaps, suggestions, export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tui_helpers import SAMPLE, accepted, loaded, make_app, offset_of, sync, until

from annotations import Store
from tui.app import AnnotateApp, summary_line
from tui.cli import main
from tui.keymap import KeymapError, load_keymap, parse_keymap

SIZE = (100, 30)


@sync
async def test_an_empty_database_is_filled_with_the_seeds_and_says_so(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, 1)
        assert store.count_documents() == 5
        assert any("seed" in n.message for n in app._notifications)
        assert reader.model is not None and reader.model.word_text(reader.cursor) == "date"  # first token
        assert reader.cursor_range == (store.tokens(1).starts[1], store.tokens(1).ends[1])


@sync
async def test_reopening_restores_the_document_and_the_cursor(seeded_store: Store, db_path: Path) -> None:
    async with make_app(seeded_store).run_test(size=SIZE) as pilot:
        await loaded(pilot, 1)
        await pilot.press("right_square_bracket")
        await loaded(pilot, 2)
        await pilot.press("n", "n", "n")
        await pilot.press("q")
    saved = seeded_store.cursor()
    assert saved is not None and saved[0] == 2 and saved[1] > 0
    with Store(db_path, "alice") as again:
        async with make_app(again).run_test(size=SIZE) as pilot:
            reader = await loaded(pilot)
            assert reader.position == saved


@sync
async def test_opens_on_the_first_unfinished_document(seeded_store: Store) -> None:
    seeded_store.set_status(1, "done")
    seeded_store.set_status(2, "skipped")
    async with make_app(seeded_store).run_test(size=SIZE) as pilot:
        await loaded(pilot, 3)


@sync
async def test_two_annotators_on_one_file_each_see_their_own_spans(seeded_store: Store, db_path: Path) -> None:
    name = offset_of(seeded_store, 1, "Садыр Жапаров")
    seeded_store.add_span(1, name, name + len("Садыр Жапаров"), "PER")
    with Store(db_path, "bob") as bob:
        async with make_app(bob).run_test(size=SIZE) as pilot:
            reader = await loaded(pilot, 1)
            assert reader.model is not None and len(reader.model.spans) == 0
            await pilot.press("n", "n", "n", "n", "shift+right", "2")
            await until(pilot, lambda: bool(accepted(bob, 1)))
        assert accepted(bob, 1) == [(name, name + len("Садыр Жапаров"), "LOC")]
    assert accepted(seeded_store, 1) == [(name, name + len("Садыр Жапаров"), "PER")]


@sync
async def test_a_label_runs_the_recogniser_and_shows_its_suggestions(seeded_store: Store) -> None:
    pytest.importorskip("annotations.recognisers")
    store = seeded_store
    async with AnnotateApp(store, suggest=True).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, 1)
        await pilot.press("n", "n", "n", "n", "shift+right", "1")
        await until(pilot, lambda: reader.model is not None and reader.model.spans.pending > 0, timeout=30)
    pending = store.spans(1, states=("pending",))
    text = store.text(1)
    assert pending and all(text[s.start : s.end].startswith("Садыр Жапаров") for s in pending)


@sync
async def test_a_remapped_key_replaces_the_default(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store, keymap={"reader.next_word": "w", "app.quit": "ctrl+x"}).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        await pilot.press("l")
        assert reader.cursor_range == (0, 5)
        await pilot.press("w")
        assert reader.cursor_range == (6, 13)
        await pilot.press("q")  # no longer quits
        await pilot.pause()
        assert pilot.app.is_running
        await pilot.press("ctrl+x")
    assert store.cursor() == (doc, 6)


def test_keymap_files(tmp_path: Path) -> None:
    good = tmp_path / "keys.toml"
    with pytest.raises(KeymapError, match="f: unknown binding id 'nope'"):
        parse_keymap({"keys": {"nope": "x"}}, "f")
    good.write_text('"reader.next_word" = ["right", "w"]\n"app.done" = "ctrl+d"\n', encoding="utf-8")
    assert load_keymap(good) == {"reader.next_word": "right,w", "app.done": "ctrl+d"}
    sectioned = tmp_path / "sectioned.toml"
    sectioned.write_text('[keys]\n"app.quit" = "ctrl+q"\n', encoding="utf-8")
    assert load_keymap(sectioned) == {"app.quit": "ctrl+q"}
    bad = tmp_path / "bad.toml"
    for body, message in [
        ('"reader.nope" = "x"', "unknown binding id 'reader.nope'"),
        ('"app.quit" = 3', "needs keys"),
        ('"app.quit" = "a,,b"', "needs keys"),
        ("this is not toml", "not valid TOML"),
    ]:
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(KeymapError, match=message) as info:
            load_keymap(bad)
        assert str(bad) in str(info.value)
    with pytest.raises(KeymapError, match="no such keymap file"):
        load_keymap(tmp_path / "missing.toml")


def test_missing_default_keymap_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_keymap() == {}
    (tmp_path / "annotate").mkdir()
    (tmp_path / "annotate" / "keys.toml").write_text('"app.help" = "f1"\n', encoding="utf-8")
    assert load_keymap() == {"app.help": "f1"}


def test_open_refuses_a_bad_keymap_without_a_traceback(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text('"reader.nope" = "x"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["open", "--db", str(tmp_path / "a.db"), "--keys", str(keys)])
    assert result.exit_code != 0
    assert "unknown binding id 'reader.nope'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "a.db").exists()


def test_summary_line() -> None:
    line = summary_line({"documents_done": 1, "spans_added": 12, "minutes": 3.0, "entities_per_minute": 4.0})
    assert line == "Session: 1 document done, 12 spans added in 3.0 minutes (4.0 entities/minute)."


@sync
async def test_documents_show_markup_and_escapes_literally(store: Store, add_doc: Callable[..., int]) -> None:
    text = "[bold]Жирный[/bold] \x1b[31mкызыл\x1b[0m \x1b]52;c;SGVsbG8=\x07 [link=x]y[/link]"
    doc = add_doc(text)
    async with make_app(store).run_test(size=SIZE) as pilot:
        reader = await loaded(pilot, doc)
        line = reader.render_line(0)
        drawn = line.text
        assert "[bold]Жирный[/bold]" in drawn and "␛[31mкызыл␛[0m" in drawn and "␛]52;c;SGVsbG8=␇" in drawn
        assert all("\x1b" not in seg.text and "\x07" not in seg.text for seg in line)
        assert pilot.app.query_one("#title").render_line(0).text.count("\x1b") == 0  # type: ignore[attr-defined]


@sync
async def test_palette_export_writes_the_done_documents(seeded_store: Store, db_path: Path) -> None:
    pytest.importorskip("annotations.formats")
    store = seeded_store
    name = offset_of(store, 1, "Садыр Жапаров")
    store.add_span(1, name, name + len("Садыр Жапаров"), "PER")
    store.set_status(1, "done")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        target = app.export_path("jsonl")
        await pilot.press("ctrl+p", *"Export done documents as jsonl")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: any("Exported" in n.message for n in app._notifications), timeout=30)
    assert target.parent == db_path.parent
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 1
    [span] = records[0]["spans"]
    assert (span["start"], span["end"], span["label"]) == (name, name + len("Садыр Жапаров"), "PER")


@sync
async def test_palette_labels_with_any_label(store: Store, add_doc: Callable[..., int]) -> None:
    doc = add_doc(SAMPLE)
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, doc)
        await pilot.press("l", "ctrl+p", *"Label: ORG")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: bool(accepted(store, doc)))
    assert accepted(store, doc) == [(6, 13, "ORG")]


@sync
async def test_the_document_list_loads_a_page_at_a_time(
    store: Store, write_jsonl: Callable[..., Path]
) -> None:
    from annotations import import_paths

    import_paths(store, [write_jsonl({"text": f"Документ {i} жөнүндө кабар."} for i in range(250))])
    async with make_app(store).run_test(size=SIZE) as pilot:
        await loaded(pilot, 1)
        table = pilot.app.doclist.table  # type: ignore[attr-defined]
        assert table.row_count == table.PAGE
        await pilot.press("ctrl+l", "end")
        await until(pilot, lambda: table.row_count == 2 * table.PAGE)
        await pilot.press("end")
        await until(pilot, lambda: table.row_count == 250)
        await pilot.press("end", "enter")
        await loaded(pilot, 250)
