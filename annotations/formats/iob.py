"""Token tags: spans to IOB2 tags for export, and IOB1 / IOB2 / BIOES / BILOU tags back to spans.

Reading is lenient the way real files need: an entity that starts with ``I-`` (IOB1, or a
broken IOB2 file) is read as if it started with ``B-``, and each such start is reported so
the importer can warn and count. ``E-``/``L-`` without an open entity of the same label is
read as a one-token entity, also reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..labels import label_repr, valid_label_name

__all__ = ["TagError", "TagReader", "tag_names", "parse_tag", "is_tag"]

#: Prefixes we read: B(egin) I(nside) E(nd) S(ingle) and BILOU's L(ast) U(nit).
PREFIXES = frozenset("BIESLU")


class TagError(ValueError):
    """A tag that is neither ``O`` nor ``<prefix>-<label>`` with a valid label."""


def parse_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER"`` -> ``("B", "PER")``, ``"O"`` -> ``("O", None)``; raises :class:`TagError`."""
    if tag == "O":
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in PREFIXES:
        raise TagError(f"tag {tag!r} is not O or B-/I-/E-/S-/L-/U- followed by a label")
    if not valid_label_name(label):
        raise TagError(f"tag {label_repr(tag)} has an invalid label {label_repr(label)}")
    return prefix, label


def is_tag(text: str) -> bool:
    """Whether ``text`` reads as a tag (used to tell token lines from ``#`` comments)."""
    try:
        parse_tag(text)
    except TagError:
        return False
    return True


def tag_names(labels: list[str]) -> list[str]:
    """The IOB2 tag set of ``labels``: ``O`` then ``B-x``, ``I-x`` for each label in order."""
    names = ["O"]
    for label in labels:
        names += [f"B-{label}", f"I-{label}"]
    return names


@dataclass(slots=True)
class _Open:
    start: int
    label: str


class TagReader:
    """Turns a stream of tags (one sentence or document at a time) into token-index spans.

    Feed tags with :meth:`add` and call :meth:`close` at every sentence or document end.
    ``spans`` collects ``(first_token, last_token, label)``; ``loose_starts`` collects the
    token indices of entities that began with ``I-`` or ``E-``/``L-`` (read as ``B-``).
    """

    def __init__(self) -> None:
        self.spans: list[tuple[int, int, str]] = []
        self.loose_starts: list[int] = []
        self._open: _Open | None = None
        self._last = -1

    def add(self, index: int, tag: str) -> None:
        """Tag of token ``index`` (indices increase); raises :class:`TagError` on a bad tag."""
        prefix, label = parse_tag(tag)
        cur = self._open
        if prefix == "O":
            self.close()
        elif prefix in ("B", "S", "U"):
            self.close()
            self._open = _Open(index, label or "")
            if prefix in ("S", "U"):
                self.close(index)
        elif prefix == "I":
            if cur is None or cur.label != label:
                self.close()
                self.loose_starts.append(index)
                self._open = _Open(index, label or "")
        else:  # E or L: the last token of an entity
            if cur is None or cur.label != label:
                self.close()
                self.loose_starts.append(index)
                self._open = _Open(index, label or "")
            self.close(index)
        self._last = index

    def close(self, last: int | None = None) -> None:
        """End the open entity (at ``last``, default the previous token)."""
        if self._open is not None:
            end = self._last if last is None else last
            self.spans.append((self._open.start, end, self._open.label))
            self._open = None


def spans_to_tags(
    n_tokens: int, token_spans: list[tuple[int, int, str]]
) -> list[str]:
    """IOB2 tags for ``n_tokens`` tokens from non-overlapping ``(first, last, label)`` spans."""
    tags = ["O"] * n_tokens
    for first, last, label in token_spans:
        if first > last:
            continue
        tags[first] = f"B-{label}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{label}"
    return tags
