"""Default label set and colour palette."""

from __future__ import annotations

import re

__all__ = ["DEFAULT_LABELS", "PALETTE", "label_repr", "valid_colour", "valid_label_name"]

#: name, key, colour, description
DEFAULT_LABELS: tuple[tuple[str, str, str, str], ...] = (
    ("PER", "1", "#e06c75", "Person: a named individual"),
    ("LOC", "2", "#61afef", "Location: country, city, region, geographic place"),
    ("ORG", "3", "#98c379", "Organisation: company, agency, institution, party"),
)

#: Colours given to new labels in turn; distinct on dark and light backgrounds.
PALETTE: tuple[str, ...] = (
    "#e06c75", "#61afef", "#98c379", "#c678dd", "#e5c07b",
    "#56b6c2", "#d19a66", "#ff79c6", "#8be9fd", "#b5bd68",
)

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,40}$")


def valid_colour(colour: str) -> bool:
    """A label colour is ``#rrggbb``."""
    return bool(_COLOUR.match(colour))


def valid_label_name(name: str) -> bool:
    """A label name is 1–40 visible characters without spaces (so it survives CoNLL and brat).

    Invisible characters (zero-width spaces, bidi overrides, other format characters) are
    refused too, so no label can pass for another on screen.
    """
    return bool(_NAME.match(name)) and name.isprintable()


def label_repr(name: str, limit: int = 40) -> str:
    """``repr(name)`` for an error message, cut to ``limit`` characters with the full length said,
    so a 10,000-character "label" does not fill the screen."""
    if len(name) <= limit:
        return repr(name)
    return f"{name[:limit]!r}… ({len(name):,} characters)"
