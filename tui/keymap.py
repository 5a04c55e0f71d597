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

from annotations import Label

from .doclist import DocList, DocTable
from .reader import Reader

__all__ = [
    "APP_BINDINGS",
    "LABEL_KEY_CHOICES",
    "BindingRow",
    "KeymapError",
    "all_bindings",
    "binding_rows",
    "check_label_keys",
    "default_keymap_path",
    "effective_keys",
    "free_label_keys",
    "key_name",
    "label_clash",
    "label_keys_in_effect",
    "load_keymap",
    "reserved_keys",
]

#: Keys a label may have, in the order free ones are offered.
LABEL_KEY_CHOICES = "1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Binding ids ``reader.label_1`` … ``reader.label_9``: the label whose key is that digit.
LABEL_BINDING_PREFIX = "reader.label_"

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
    Binding("ctrl+f", "search", "Search", id="app.search", show=False,
            tooltip="Search the documents' titles and text (the list); / finds in the open document."),
    Binding("ctrl+b", "toggle_list", "List", id="app.toggle_list",
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


def _textual_bindings() -> list[Binding]:
    """Textual's own app and screen bindings that apply while the reader has the focus."""
    from textual.app import App
    from textual.screen import Screen

    return [*Binding.make_bindings(App.BINDINGS), *Binding.make_bindings(Screen.BINDINGS)]


def known_ids() -> set[str]:
    return {b.id for _, bindings in all_bindings() for b in bindings if b.id}


def remappable_ids() -> set[str]:
    """Every binding id a keymap file may name: the app's, the queue's ``m`` and the review
    screen's (those two are in the help screen only where they apply)."""
    from .queue import MINE_BINDING
    from .review_keys import REVIEW_BINDINGS

    extra = Binding.make_bindings([MINE_BINDING, *REVIEW_BINDINGS])
    return known_ids() | {b.id for b in extra if b.id}


def default_keymap_path() -> Path:
    """``$XDG_CONFIG_HOME/annotate/keys.toml`` (``~/.config`` when the variable is unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "annotate" / "keys.toml"


def parse_keymap(data: Mapping[str, Any], source: str) -> dict[str, str]:
    """Check a parsed keymap: known ids, keys given as a string or a list of strings."""
    if "keys" in data and isinstance(data["keys"], dict):
        data = data["keys"]
    ids = remappable_ids()
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


def key_name(character: str) -> str:
    """Textual's name for the key that types ``character`` (``/`` → ``slash``, ``Q`` → ``Q``)."""
    try:
        from textual.keys import _character_to_key
    except ImportError:  # pragma: no cover - older or newer Textual
        return character
    return _character_to_key(character)


def effective_keys(keymap: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Binding id → the keys that trigger it, ``keymap`` applied to the defaults."""
    out: dict[str, list[str]] = {}
    for _, bindings in all_bindings():
        for b in bindings:
            if b.id:
                out.setdefault(b.id, []).append(b.key)
    return {ident: tuple(keymap[ident].split(",")) if ident in keymap else tuple(keys) for ident, keys in out.items()}


def reserved_keys(keymap: Mapping[str, str]) -> dict[str, str]:
    """Key name → binding id, for every key that acts while the reader has the focus (its own
    bindings other than labels, the app's, Textual's), ``keymap`` applied."""
    reader_and_app = {b.id for b in Binding.make_bindings([*Reader.BINDINGS, *APP_BINDINGS]) if b.id}
    reserved: dict[str, str] = {}
    for ident, keys in effective_keys(keymap).items():
        if ident in reader_and_app and not ident.startswith(LABEL_BINDING_PREFIX):
            for key in keys:
                reserved.setdefault(key, ident)
    for b in _textual_bindings():
        reserved.setdefault(b.key, f"textual.{b.action}")
    return reserved


def label_keys_in_effect(label_key: str, keymap: Mapping[str, str]) -> tuple[str, ...]:
    """The keys that give the label whose key is ``label_key``: a digit 1-9 through its binding
    ``reader.label_N`` (which a keymap may move), any other key directly."""
    ident = LABEL_BINDING_PREFIX + label_key
    if len(label_key) == 1 and label_key in "123456789":
        return effective_keys(keymap).get(ident, (label_key,))
    return (label_key,)


def label_clash(label_key: str, keymap: Mapping[str, str]) -> str | None:
    """The binding id already on the key(s) of a label with ``label_key``, or ``None``."""
    reserved = reserved_keys(keymap)
    for key in label_keys_in_effect(label_key, keymap):
        if key in reserved:
            return reserved[key]
        if len(key) == 1 and key_name(key) in reserved:
            return reserved[key_name(key)]
    return None


def free_label_keys(keymap: Mapping[str, str], used: Iterable[str] = ()) -> list[str]:
    """Label keys not used by a label in ``used`` and not bound to anything else."""
    taken = set(used)
    return [k for k in LABEL_KEY_CHOICES if k not in taken and label_clash(k, keymap) is None]


def check_label_keys(labels: Iterable[tuple[str, str | None]], keymap: Mapping[str, str], source: str) -> None:
    """Refuse a keymap that puts another action on a label's key (``labels``: name, key).

    A label whose key the app's defaults already use (stored before keys were checked) is not
    the keymap's fault: the app says so when it opens.
    """
    labels = list(labels)
    for name, key in labels:
        if not key:
            continue
        clash = label_clash(key, keymap)
        if clash is not None and label_clash(key, {}) is None:
            free = free_label_keys(keymap, [k for _, k in labels if k])
            keys = ", ".join(label_keys_in_effect(key, keymap))
            raise KeymapError(
                f"{source}: {clash!r} is on key {keys}, which gives the label {name}; give it"
                f" other keys, or the label another key (annotate labels edit {name} --key K;"
                f" free keys: {' '.join(free) or 'none'})"
            )


@dataclass(frozen=True, slots=True)
class BindingRow:
    """One line of the help screen."""

    section: str
    keys: tuple[str, ...]
    description: str
    tooltip: str
    id: str


def binding_rows(
    keymap: Mapping[str, str],
    extra: Iterable[tuple[str, list[Binding]]] = (),
    labels: Iterable[Label] = (),
) -> list[BindingRow]:
    """Every binding with the keys in effect (``keymap`` overrides the defaults), grouped by id.

    The label bindings are named after their labels (``1 PER``); those without a label are left
    out, and labels on keys other than 1-9 get a row of their own.
    """
    by_key = {lab.key: lab for lab in labels if lab.key}
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
            if b.id and b.id.startswith(LABEL_BINDING_PREFIX):
                label = by_key.get(b.id[len(LABEL_BINDING_PREFIX):])
                if label is None:
                    continue
                rows.append(_label_row(section, tuple(effective), label, b.id))
                continue
            rows.append(BindingRow(section, tuple(effective), b.description, b.tooltip, b.id or ""))
        if section == "Reader":
            for key, label in by_key.items():
                if not (len(key) == 1 and key in "123456789"):
                    rows.append(_label_row(section, (key,), label, ""))
    return rows


def _label_row(section: str, keys: tuple[str, ...], label: Label, ident: str) -> BindingRow:
    what = f" ({label.description})" if label.description else ""
    return BindingRow(
        section, keys, f"{label.key} {label.name}",
        f"{label.key} {label.name}{what}: give the selection (else the span or word under the cursor)"
        f" the label {label.name}.",
        ident,
    )
