"""Reading heightmap images into arrays of heights in [0, 1], and sampling them down to a grid.

Images are read through the content registry and decoded by Panda3D's PNMImage (the runtime's
own image reader, from memory, within the pixel budget); the pixels come out through a Texture's
RAM image in one copy, not one Python call per pixel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from panda3d.core import PNMImage, Texture

from engine.packs.images import ImageFileError, read_image

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry


class HeightmapError(Exception):
    """An image that cannot become a heightmap; the message says why."""


@dataclass(frozen=True)
class Heightmap:
    """Heights in [0, 1] (row 0 is the image's top row), and a note when the image was not plain grey."""

    heights: np.ndarray
    note: str = ""


def read_heightmap(content: "ContentRegistry", asset_id: str) -> Heightmap:
    """Read a grey image asset (8- or 16-bit); a colour image is read by its brightness, with a note."""
    try:
        image = read_image(content, asset_id)
    except ImageFileError as exc:
        raise HeightmapError(str(exc)) from None
    return heightmap_from_image(image)


def heightmap_from_image(image: PNMImage) -> Heightmap:
    """The heights of a decoded image."""
    width, rows = image.getXSize(), image.getYSize()
    if width < 2 or rows < 2:
        raise HeightmapError(f"the image is {width}x{rows} pixels; a heightmap needs at least 2x2")
    note = ""
    if not image.isGrayscale():
        note = "a colour image; its brightness is used as height"
        image.makeGrayscale()
    if image.hasAlpha():
        image.removeAlpha()
    texture = Texture("heightmap")
    texture.load(image)
    if (texture.getXSize(), texture.getYSize(), texture.getNumComponents()) != (width, rows, 1):
        raw = np.array([[image.getGrayVal(x, y) for x in range(width)] for y in range(rows)], np.float32)
    else:
        dtype = np.uint16 if texture.getComponentWidth() == 2 else np.uint8
        raw = np.frombuffer(bytes(texture.getRamImage()), dtype).reshape(rows, width)[::-1].astype(np.float32)
    heights = raw * np.float32(1.0 / image.getMaxval())
    return Heightmap(np.ascontiguousarray(heights, np.float32), note)


def sample_grid(heights: np.ndarray, max_points: int) -> np.ndarray:
    """The heights with at most ``max_points`` rows and columns (nearest samples, corners kept)."""
    rows, width = heights.shape
    if rows <= max_points and width <= max_points:
        return heights
    row_index = np.round(np.linspace(0, rows - 1, min(rows, max_points))).astype(np.intp)
    col_index = np.round(np.linspace(0, width - 1, min(width, max_points))).astype(np.intp)
    return np.ascontiguousarray(heights[np.ix_(row_index, col_index)])
