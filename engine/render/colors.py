"""Colour spaces: people pick colours in sRGB, the renderer lights in linear light."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def srgb_to_linear(color: Sequence[float]) -> tuple[float, ...]:
    """An sRGB colour (as colour pickers and world files give it) in linear light; alpha unchanged."""
    rgb = np.asarray(color[:3], dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return tuple(float(c) for c in linear) + tuple(float(a) for a in color[3:])
