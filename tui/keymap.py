"""Key bindings: the app's defaults (each with an id) and the user's remapping file.

A keymap file is TOML mapping binding ids to keys (several keys separated by commas)::

    # ~/.config/annotate/keys.toml
    "reader.next_word" = "right,w"
    "app.quit" = "ctrl+q"

It may also put the entries under a ``[keys]`` table. The app applies it with
:meth:`textual.app.App.set_keymap`, and the help screen shows the keys in effect.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.binding import Binding, BindingType

from .doclist import DocList, DocTable
from .reader import Reader

__all__ = [
    "APP_BINDINGS",
    "BindingRow",
    "KeymapError",
    "all_bindings",
    "binding_rows",
    "default_keymap_path",
    "load_keymap",
]

#: The app's own bindings (documents, history, screens). The reader's and the document
#: list's are on their widgets.
APP_BINDINGS: list[BindingType] = [
    Binding("right_square_bracket", "next_document(1)", "Next doc", id="app.next_document",
            tooltip="Open the next document in import order."),
    Binding("left_square_bracket", "next_document(-1)", "Previous doc", id="app.previous_document",
            show=False, tooltip="Open the previous document in import order."),
    Binding("d", "mark('done')", "Done", id="app.done",
            tooltip="Mark this document done and open the next unfinished one."),
    Binding("s", "mark('skipped')", "Skip", id="app.skip", show=False,
            tooltip="Mark this document skipped and open the next unfinished one."),
    Binding("u,ctrl+z", "undo", "Undo", id="app.undo",
            tooltip="Undo your last action (in any document), even after a restart."),
    Binding("ctrl+r,ctrl+y", "redo", "Redo", id="app.redo", show=False,
            tooltip="Redo the last undone action."),
    Binding("slash", "search", "Search", id="app.search", show=False,
            tooltip="Search the documents' titles and text."),
    Binding("ctrl+b", "toggle_list", "List", id="app.toggle_list", show=False,
            tooltip="Collapse or expand the document list."),
    Binding("ctrl+l", "focus_list", "Focus list", id="app.focus_list", show=False,
            tooltip="Move the focus to the document list."),
    Binding("g", "stats", "Stats", id="app.stats", show=False,
            tooltip="Show the statistics screen: charts of the corpus, everyone's work and the model."),
    Binding("question_mark", "help", "Help", id="app.help",
            tooltip="Show every key binding."),
    Binding("ctrl+p", "command_palette", "Palette", id="app.palette", show=False,
            tooltip="Open the command palette: jump to a document, mark done, label, export."),
    Binding("q", "quit", "Quit", id="app.quit",
            tooltip="Save and quit, printing a summary of this session."),
]


class KeymapError(Exception):
    """A keymap file that cannot be used; the message names the file and the problem."""


def all_bindings() -> list[tuple[str, list[Binding]]]:
    """Every binding the app defines, by where it applies."""
    return [
        ("Reader", list(Binding.make_bindings(Reader.BINDINGS))),
        ("Documents", list(Binding.make_bindings(APP_BINDINGS))),
        ("Document list", list(Binding.make_bindings([*DocList.BINDINGS, *DocTable.BINDINGS]))),
    ]


def known_ids() -> set[str]:
    return {b.id for _, bindings in all_bindings() for b in bindings if b.id}


def default_keymap_path() -> Path:
    """``$XDG_CONFIG_HOME/annotate/keys.toml`` (``~/.config`` when the variable is unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "annotate" / "keys.toml"


def parse_keymap(data: Mapping[str, Any], source: str) -> dict[str, str]:
    """Check a parsed keymap: known ids, keys given as a string or a list of strings."""
    if "keys" in data and isinstance(data["keys"], dict):
        data = data["keys"]
    ids = known_ids()
    keymap: dict[str, str] = {}
    for binding_id, keys in data.items():
        if binding_id not in ids:
            raise KeymapError(
                f"{source}: unknown binding id {binding_id!r} (see the help screen, `?`, for the ids)"
            )
        if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
            keys = ",".join(keys)
        if not isinstance(keys, str) or not keys.strip() or any(not k.strip() for k in keys.split(",")):
            raise KeymapError(f"{source}: {binding_id!r} needs keys like \"ctrl+s\" or \"right,l\"")
        keymap[binding_id] = ",".join(k.strip() for k in keys.split(","))
    return keymap


def load_keymap(path: Path | None = None, *, required: bool = False) -> dict[str, str]:
    """Read a keymap file (the default location if ``path`` is ``None``; a missing default is empty)."""
    target = path or default_keymap_path()
    if not target.exists():
        if required or path is not None:
            raise KeymapError(f"{target}: no such keymap file")
        return {}
    try:
        data = tomllib.loads(target.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise KeymapError(f"{target}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeymapError(f"{target}: cannot read it: {exc}") from None
    return parse_keymap(data, str(target))


@dataclass(frozen=True, slots=True)
class BindingRow:
    """One line of the help screen."""

    section: str
    keys: tuple[str, ...]
    description: str
    tooltip: str
    id: str


def binding_rows(keymap: Mapping[str, str], extra: Iterable[tuple[str, list[Binding]]] = ()) -> list[BindingRow]:
    """Every binding with the keys in effect (``keymap`` overrides the defaults), grouped by id."""
    rows: list[BindingRow] = []
    for section, bindings in [*all_bindings(), *extra]:
        order: list[str] = []
        keys: dict[str, list[str]] = {}
        first: dict[str, Binding] = {}
        for b in bindings:
            ident = b.id or f"{section}:{b.action}"
            if ident not in first:
                order.append(ident)
                first[ident] = b
                keys[ident] = []
            keys[ident].append(b.key)
        for ident in order:
            b = first[ident]
            effective = keymap.get(b.id, "").split(",") if b.id and b.id in keymap else keys[ident]
            rows.append(BindingRow(section, tuple(effective), b.description, b.tooltip, b.id or ""))
    return rows
