"""Rich styles for label colours, legible on light and dark themes alike.

Accepted spans get the label colour as background with black or white text (whichever
contrasts more), so they read the same under every theme. Suggestions get a tint of the
label colour over the reader's own background, underlined, in the theme's text colour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color, ColorParseError

from annotations import Label

__all__ = ["FALLBACK_COLOUR", "LabelStyle", "contrast_text", "label_styles"]

FALLBACK_COLOUR = "#888888"


def contrast_text(colour: Color) -> Color:
    """Black or white, whichever reads better on ``colour``."""
    return Color(0, 0, 0) if colour.brightness > 0.55 else Color(255, 255, 255)


def _rich(colour: Color) -> RichColor:
    return colour.rich_color


@dataclass(frozen=True, slots=True)
class LabelStyle:
    """How one label is drawn: accepted text and chip, suggested text and chip, and a key badge."""

    span: Style
    chip: Style
    pending: Style
    pending_chip: Style
    key: Style


def _one(colour_hex: str, background: Color, foreground: Color) -> LabelStyle:
    try:
        colour = Color.parse(colour_hex)
    except ColorParseError:
        colour = Color.parse(FALLBACK_COLOUR)
    chip_bg = colour.darken(0.25)
    tint = background.blend(colour, 0.35)
    return LabelStyle(
        span=Style(color=_rich(contrast_text(colour)), bgcolor=_rich(colour)),
        chip=Style(color=_rich(contrast_text(chip_bg)), bgcolor=_rich(chip_bg), bold=True),
        pending=Style(color=_rich(foreground), bgcolor=_rich(tint), underline=True),
        pending_chip=Style(color=_rich(foreground), bgcolor=_rich(tint), italic=True),
        key=Style(color=_rich(contrast_text(colour)), bgcolor=_rich(colour), bold=True),
    )


def label_styles(labels: Iterable[Label], background: Color, foreground: Color) -> dict[str, LabelStyle]:
    """Styles for every label (plus ``""`` for a label the set no longer has)."""
    styles = {lab.name: _one(lab.colour, background, foreground) for lab in labels}
    styles[""] = _one(FALLBACK_COLOUR, background, foreground)
    return styles
