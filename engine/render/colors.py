"""Colour spaces: people pick colours in sRGB, the renderer lights in linear light."""
from __future__ import annotations

from typing import Sequence


def srgb_to_linear(color: Sequence[float]) -> tuple[float, ...]:
    """An sRGB colour (as colour pickers and world files give it) in linear light; alpha unchanged."""
    r, g, b = float(color[0]), float(color[1]), float(color[2])
    return (r / 12.92 if r <= 0.04045 else ((r + 0.055) / 1.055) ** 2.4,
            g / 12.92 if g <= 0.04045 else ((g + 0.055) / 1.055) ** 2.4,
            b / 12.92 if b <= 0.04045 else ((b + 0.055) / 1.055) ** 2.4, *map(float, color[3:]))
