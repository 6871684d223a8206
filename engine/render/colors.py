"""Colour spaces: people pick colours in sRGB, the renderer lights in linear light."""
from __future__ import annotations

from typing import Sequence


def srgb_to_linear(color: Sequence[float]) -> tuple[float, ...]:
    """An sRGB colour (as colour pickers and world files give it) in linear light; alpha unchanged."""
    linear = tuple(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in map(float, color[:3]))
    return linear + tuple(float(a) for a in color[3:])
