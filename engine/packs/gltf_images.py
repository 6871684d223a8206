"""A model's images, decoded by Storm before conversion: "a missing texture drops the texture,
not the model".

Every image a texture uses is found (a file beside the model in the same pack, a ``data:`` URI or
a buffer view), its header checked against the pixel budget before anything is decoded, and then
decoded from memory. An image that is missing, not an image, damaged or too large is left out
with one warning naming the image and its textures; those textures lose their ``source`` (the
converter then loads the material without them). The decoded images are handed to the converter
(``gltf_files``), which would otherwise decode each one again, with no budget, and fail the
whole model on a bad one.
"""
from __future__ import annotations

import base64
import binascii
import posixpath
import struct
import urllib.parse
from typing import Any, Callable

from panda3d.core import PNMImage, PNMImageHeader, StringStream

from engine.core.errors import DataError, printable
from engine.packs.gltf_checks import ModelError
from engine.packs.sources import budget_hint

MODEL_PIXEL_FACTOR = 4  # all images of one model together: at most this many times the 'pixels' budget
DEFLATE_RATIO = 1100  # no PNG (deflate), JPEG or RLE image packs more than this many bytes of pixels into one
_MIME_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/bmp": ".bmp", "image/tga": ".tga",
                "image/x-tga": ".tga", "image/tiff": ".tif"}

ReadCompanion = Callable[[str, str], bytes]  # (uri, place) -> bytes; raises ModelError or DataError


def decode_images(doc: dict[str, Any], buffers: list[bytes], read: ReadCompanion, where: str,
                  pixel_budget: int) -> tuple[dict[int, PNMImage], list[str]]:
    """Decode the images the textures use; returns them by image index, and the warnings for those
    left out (whose textures lose their source, in ``doc``)."""
    users: dict[int, list[int]] = {}
    for texture_index, texture in enumerate(doc.get("textures", [])):
        if "source" in texture:
            users.setdefault(texture["source"], []).append(texture_index)
    decoded: dict[int, PNMImage] = {}
    warnings: list[str] = []
    total = 0
    for image_index in sorted(users):
        place = f"images[{image_index}]"
        try:
            data, hint = _image_bytes(doc["images"][image_index], doc, buffers, read, where, place)
            decoded[image_index], pixels = _decode(data, hint, f"{printable(where)}: {place}", pixel_budget,
                                                   MODEL_PIXEL_FACTOR * pixel_budget - total)
            total += pixels
        except (ModelError, DataError) as exc:
            for texture_index in users[image_index]:
                doc["textures"][texture_index].pop("source", None)
            shown = ", ".join(f"textures[{t}]" for t in users[image_index][:4])
            warnings.append(f"{exc}; the model loads without {shown}")
    return decoded, warnings


def _decode(data: bytes, hint: str, place: str, budget: int, left: int) -> tuple[PNMImage, int]:
    """One image and its pixel count, every check made before decoding starts; ``left``: the
    pixels the model's earlier images left of its share."""
    if not _png_chunks_fit(data):  # libpng would read a chunk length of 2 GB a few bytes at a time
        raise ModelError(f"{place}: expected a whole image, got a PNG whose chunks run past its end (cut short or "
                         "damaged)")
    header = PNMImageHeader()
    hint = hint if hint.lower().endswith(".tga") else ""  # the other formats say what they are in their first bytes
    if not header.readHeader(StringStream(data), hint, None, False):
        raise ModelError(f"{place}: expected an image Panda3D can read (PNG, JPEG, ...), got {len(data)} bytes of "
                         "something else")
    width, height, channels = header.getXSize(), header.getYSize(), header.getNumChannels()
    pixels = width * height
    if pixels > budget:
        raise ModelError(f"{place}: expected an image within budget, got one of {width}x{height} pixels, more than "
                         f"the {budget}-pixel budget ({budget_hint('pixels')})")
    if pixels > left:
        raise ModelError(f"{place}: expected an image within budget, got one that takes the model's images past "
                         f"{MODEL_PIXEL_FACTOR} times the {budget}-pixel budget ({budget_hint('pixels')})")
    if pixels < 1 or not 1 <= channels <= 4 or len(data) < pixels * channels // DEFLATE_RATIO:
        raise ModelError(f"{place}: expected a whole image, got {len(data)} bytes that cannot hold the "
                         f"{width}x{height} pixels its header declares (cut short or damaged)")
    picture = PNMImage()
    if not picture.read(StringStream(data), hint, None, False):
        raise ModelError(f"{place}: expected a whole image, got one that does not decode (cut short or damaged)")
    return picture, pixels


def _png_chunks_fit(data: bytes) -> bool:
    """Whether every chunk of a PNG lies inside the file, up to IEND; True for other formats."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return True
    at = 8
    while at + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        at += 12 + length
        if kind == b"IEND":
            return at <= len(data)
    return False


def _image_bytes(image: dict[str, Any], doc: dict[str, Any], buffers: list[bytes], read: ReadCompanion, where: str,
                 place: str) -> tuple[bytes, str]:
    """The bytes of one image and a file name that tells Panda3D its type."""
    uri = image.get("uri")
    mime = image.get("mimeType", "")
    if isinstance(uri, str) and uri.startswith("data:"):
        info, _, payload = uri[5:].partition(",")
        mime = info.split(";", 1)[0] or mime
        try:
            data = base64.b64decode(payload, validate=True) if info.endswith(";base64") else \
                urllib.parse.unquote_to_bytes(payload)
        except (binascii.Error, ValueError):
            raise ModelError(f"{printable(where)}: {place}.uri: expected base64 data after 'base64,'") from None
        return data, "image" + _MIME_SUFFIX.get(mime, ".png")
    if uri is not None:
        return read(uri, f"{place}.uri"), posixpath.basename(urllib.parse.unquote(uri))[-60:] or "image"
    if "bufferView" in image:
        view = doc["bufferViews"][image["bufferView"]]
        start = view.get("byteOffset", 0)
        return buffers[view["buffer"]][start:start + view["byteLength"]], "image" + _MIME_SUFFIX.get(mime, ".png")
    raise ModelError(f"{printable(where)}: {place}: expected a uri or a bufferView")


def stand_in_png() -> bytes:
    """A 1x1 PNG: what the converter decodes in place of each image (the real one replaces it)."""
    image = PNMImage(1, 1)
    out = StringStream()
    image.write(out, "stand-in.png")
    return bytes(out.getData())
