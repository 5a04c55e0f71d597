"""Import hygiene, checked in fresh interpreters: the library never pulls in Textual, and
commands that don't tokenise never pay for spaCy (about 0.7 s to import)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ("textual", "spacy")


def loaded_after(code: str, cwd: Path) -> dict[str, bool]:
    """Run ``code`` in a new interpreter; which of :data:`HEAVY` ended up in ``sys.modules``."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json as _json, sys as _sys
        print(_json.dumps({{name: name in _sys.modules for name in {HEAVY!r}}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_library_loads_neither_textual_nor_spacy(tmp_path: Path) -> None:
    assert loaded_after("import annotations", tmp_path) == {"textual": False, "spacy": False}


def test_using_the_store_does_not_load_textual(tmp_path: Path) -> None:
    loaded = loaded_after(
        """
        from annotations import open_store, import_seeds
        store = open_store("x.db", "alice")
        import_seeds(store)
        doc = store.document(store.first_unfinished())
        store.add_span(doc.id, 0, 4, "PER", snap=True)
        store.undo()
        store.documents(search="Жапаров"); store.stats()
        """,
        tmp_path,
    )
    assert loaded["textual"] is False
    assert loaded["spacy"] is True  # opening a document tokenises it: the probe would notice a fake


def test_no_library_module_imports_textual(tmp_path: Path) -> None:
    """Every module under ``annotations`` (formats, recognisers... included)."""
    loaded = loaded_after(
        """
        import importlib, pkgutil, annotations
        for info in pkgutil.walk_packages(annotations.__path__, "annotations."):
            importlib.import_module(info.name)
        """,
        tmp_path,
    )
    assert loaded["textual"] is False


def test_quick_commands_load_neither_spacy_nor_textual(tmp_path: Path) -> None:
    """Commands run one after another in one interpreter; heavy modules are checked after each
    (once loaded they stay loaded, so the first command that loads one is the one reported)."""
    (tmp_path / "a.txt").write_text("Садыр Жапаров Бишкекте.", encoding="utf-8")
    commands = [["--version"], ["-h"], ["import", "a.txt"], ["docs"], ["docs", "--search", "жапар"],
                ["stats", "--json"], ["labels"], ["labels", "add", "EVENT"]]
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(
            f"""
            import contextlib, io, json, sys
            from tui.cli import main
            seen = []
            for args in {commands!r}:
                with contextlib.redirect_stdout(io.StringIO()):
                    try:
                        main(args, prog_name="annotate")
                    except SystemExit as exc:
                        assert not exc.code, (args, exc.code)
                seen.append([args, [m for m in {HEAVY!r} if m in sys.modules]])
            print(json.dumps(seen))
            """
        )],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert [args for args, _ in seen] == commands
    assert [(args, heavy) for args, heavy in seen if heavy] == []
