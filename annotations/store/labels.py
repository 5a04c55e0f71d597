"""The label set: listing, adding, editing and removing labels."""

from __future__ import annotations

from typing import Iterable

from ..db import StoreError
from ..labels import DEFAULT_LABELS, PALETTE, label_repr, valid_colour, valid_label_name
from ..models import Label


class LabelsMixin:
    """Labels of a :class:`~annotations.store.Store`."""

    def _ensure_default_labels(self) -> None:
        if self.read_only or self._b.has_labels():
            return
        with self._write():
            if self._b.has_labels():
                return
            for pos, (name, key, colour, desc) in enumerate(DEFAULT_LABELS):
                self._b.insert_label(name, key, colour, desc, pos)

    def labels(self) -> list[Label]:
        """The label set in key order."""
        return [Label(*r) for r in self._b.labels()]

    def label(self, name: str) -> Label | None:
        row = self._b.label(name)
        return Label(*row) if row else None

    def _free_key(self, used: set[str]) -> str | None:
        for k in "123456789":
            if k not in used:
                return k
        return None

    def add_label(
        self,
        name: str,
        key: str | None = None,
        colour: str | None = None,
        description: str = "",
    ) -> Label:
        """Add a label; without ``key``/``colour`` it gets the next free key and palette colour."""
        if not valid_label_name(name):
            raise StoreError(f"invalid label name {label_repr(name)}: use 1-40 visible characters, no spaces")
        if colour is not None and not valid_colour(colour):
            raise StoreError(f"invalid colour {colour!r}: use #rrggbb")
        with self._write():
            existing = self.labels()
            if any(lab.name == name for lab in existing):
                raise StoreError(f"label {name!r} already exists")
            used = {lab.key: lab.name for lab in existing if lab.key}
            if key is not None and key in used:
                raise StoreError(f"key {key!r} is already used by {used[key]!r}")
            if key is not None and (len(key) != 1 or not key.isprintable() or key.isspace()):
                raise StoreError(f"invalid key {key!r}: use one printable character")
            key = key if key is not None else self._free_key(used)
            colour = colour or PALETTE[len(existing) % len(PALETTE)]
            pos = max((lab.position for lab in existing), default=-1) + 1
            self._b.insert_label(name, key, colour, description, pos)
            self._log("labels", [], None)
        return Label(name, key, colour, description, pos)

    def ensure_labels(self, names: Iterable[str]) -> list[str]:
        """Add any of ``names`` not yet in the label set; returns the ones added."""
        have = {lab.name for lab in self.labels()}
        added = []
        for name in dict.fromkeys(names):
            if name not in have:
                self.add_label(name)
                added.append(name)
        return added

    def edit_label(
        self,
        name: str,
        *,
        new_name: str | None = None,
        key: str | None = None,
        colour: str | None = None,
        description: str | None = None,
    ) -> Label:
        """Rename a label (spans follow) or change its key, colour or description."""
        with self._write():
            lab = self.label(name)
            if lab is None:
                raise StoreError(f"no label {name!r}")
            if new_name is not None and new_name != name:
                if not valid_label_name(new_name):
                    raise StoreError(f"invalid label name {label_repr(new_name)}")
                if self.label(new_name):
                    raise StoreError(f"label {new_name!r} already exists")
            if colour is not None and not valid_colour(colour):
                raise StoreError(f"invalid colour {colour!r}: use #rrggbb")
            if key is not None:
                if len(key) != 1 or not key.isprintable() or key.isspace():
                    raise StoreError(f"invalid key {key!r}: use one printable character")
                clash = self._b.label_with_key(key, name)
                if clash:
                    raise StoreError(f"key {key!r} is already used by {clash!r}")
            updates = {
                "name": new_name, "key": key, "colour": colour, "description": description,
            }
            updates = {k: v for k, v in updates.items() if v is not None}
            if updates:
                self._b.update_label(name, updates)
                self._log("labels", [], None)
        result = self.label(new_name or name)
        assert result is not None
        return result

    def remove_label(self, name: str, *, force: bool = False) -> int:
        """Remove a label. Refused while spans use it unless ``force`` (which deletes them)."""
        with self._write():
            if self.label(name) is None:
                raise StoreError(f"no label {name!r}")
            used = self._b.count_spans_labelled(name)
            if used and not force:
                raise StoreError(
                    f"label {name!r} is used by {used} span(s); use --force to delete them too"
                )
            self._b.delete_label(name)
            self._log("labels", [], None)
        return used
