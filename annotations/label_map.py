"""The project's recogniser label map: a recogniser's label -> a label of this database.

Recognisers come with their own label names (Natasha's ``PER``/``LOC``/``ORG``); a project
may use others (FactRuEval's ``Person``/``Location``/``Org``). The map, kept in the
database (table ``label_map``, migration ``m005_label_map``), is applied to every
suggestion as it is emitted (:func:`map_suggestions`, called by the recognisers' runner),
before suggestions with labels outside the label set are left out. A label mapped to
nothing (``MISC=``) is dropped on purpose. ``annotate suggest --map PER=Person`` adds to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence, TypeVar


if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = [
    "LabelMapError", "labels_off_the_corpus", "load_label_map", "map_suggestions", "parse_mapping", "save_label_map",
]

S = TypeVar("S")


class LabelMapError(ValueError):
    """A mapping that cannot be kept (bad syntax, or a target that is not a label)."""


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``["PER=Person", "MISC="]`` -> ``{"PER": "Person", "MISC": ""}``."""
    out: dict[str, str] = {}
    for item in items:
        source, sep, target = item.partition("=")
        if not sep or not source.strip():
            raise LabelMapError(f"{item!r} is not FROM=TO (e.g. PER=Person; MISC= drops MISC)")
        out[source.strip()] = target.strip()
    return out


def load_label_map(store: "Store") -> dict[str, str]:
    """The project's map (empty if none was kept)."""
    return store.backend.label_map()


def save_label_map(store: "Store", mapping: Mapping[str, str]) -> None:
    """Add ``mapping`` to the project's map (one transaction); targets must be labels."""
    known = {lab.name for lab in store.labels()}
    for source, target in mapping.items():
        if target and target not in known:
            raise LabelMapError(
                f"cannot map {source} to {target}: {target} is not a label here"
                f" (the labels are {', '.join(sorted(known))}; add it with: annotate labels add {target})"
            )
    with store.transaction():
        store.backend.merge_label_map(dict(mapping))


def map_suggestions(
    found: dict[str, Sequence[S]],
    mapping: Mapping[str, str],
    labels: set[str],
    unmapped: dict[str, dict[str, int]],
) -> dict[str, list[S]]:
    """Each origin's suggestions with ``mapping`` applied; those whose label is still not in
    ``labels`` are counted into ``unmapped[origin][label]`` (and left for the runner to drop)."""
    out: dict[str, list[S]] = {}
    for origin, sugs in found.items():
        kept: list[S] = []
        for sug in sugs:
            label = sug.label  # type: ignore[attr-defined]
            if label in mapping:
                target = mapping[label]
                if not target:
                    continue
                sug = sug._replace(label=target)  # type: ignore[attr-defined]
                label = target
            if label not in labels:
                per = unmapped.setdefault(origin, {})
                per[label] = per.get(label, 0) + 1
            kept.append(sug)
        out[origin] = kept
    return out


def labels_off_the_corpus(store: "Store", origins: Iterable[str]) -> dict[str, dict[str, int]]:
    """Recognisers whose pending suggestions (of ``store.annotator``) are all in labels no
    accepted span uses, while accepted spans use others: ``{origin: {label: count}}``.

    A project that brought its own label names (FactRuEval's ``Person``/``Location``/``Org``)
    still has the default ``PER``/``LOC``/``ORG``, so Natasha's suggestions land there without
    any being "unmapped": this tells them apart. A label the project's map points at was
    chosen on purpose and never counts; nor does anything when no span is accepted yet.
    """
    used = store.backend.labels_in_use()
    if not used:
        return {}
    chosen = set(load_label_map(store).values())
    out: dict[str, dict[str, int]] = {}
    for origin in origins:
        rows = store.backend.pending_by_label(origin, store.annotator)
        if rows and not any(label in used or label in chosen for label, _ in rows):
            out[origin] = {label: n for label, n in rows}
    return out
