"""Images from packs (heightmaps, heightfield colliders): read through the content registry as
bytes and decoded by Panda3D's PNMImage from memory, after its header has been checked against
the pixel budget (a small file can declare a huge image; the header says so before decoding)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from panda3d.core import PNMImage, PNMImageHeader, StringStream

from engine.core.errors import DataError
from engine.packs.sources import budget_hint

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry


class ImageFileError(Exception):
    """An image asset that cannot be read: the message says which and why."""


def read_image(content: "ContentRegistry", asset_id: str, max_pixels: int | None = None) -> PNMImage:
    """The decoded image of an asset; raises ImageFileError naming the file and the reason."""
    try:
        data = content.read(asset_id)
    except DataError as exc:
        raise ImageFileError(str(exc)) from None
    hint = asset_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1]  # the name tells PNMImage the format when the bytes do not
    header = PNMImageHeader()
    if not header.readHeader(StringStream(data), hint):
        raise ImageFileError(f"{hint} is not an image Panda3D can read")
    limit = content.budgets.pixels if max_pixels is None else max_pixels
    pixels = header.getXSize() * header.getYSize()
    if pixels > limit:
        raise ImageFileError(f"{hint} is {header.getXSize()}x{header.getYSize()} pixels, more than the "
                             f"{limit}-pixel budget ({budget_hint('pixels')})")
    image = PNMImage()
    if not image.read(StringStream(data), hint):
        raise ImageFileError(f"{hint} is not an image Panda3D can read")
    return image
