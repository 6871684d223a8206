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
import urllib.parse
from typing import Any, Callable

from panda3d.core import PNMImage, PNMImageHeader, StringStream

from engine.core.errors import DataError, printable
from engine.packs.gltf_checks import ModelError
from engine.packs.sources import budget_hint

MODEL_PIXEL_FACTOR = 4  # all images of one model together: at most this many times the 'pixels' budget
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
        image = doc["images"][image_index]
        place = f"images[{image_index}]"
        try:
            data, hint = _image_bytes(image, doc, buffers, read, where, place)
            header = PNMImageHeader()
            hint = hint if hint.lower().endswith(".tga") else ""  # the rest say their type in their first bytes
            if not header.readHeader(StringStream(data), hint, None, False):
                raise ModelError(f"{printable(where)}: {place}: expected an image Panda3D can read "
                                 f"(PNG, JPEG, ...), got {len(data)} bytes of something else")
            pixels = header.getXSize() * header.getYSize()
            total += pixels
            if pixels > pixel_budget or total > MODEL_PIXEL_FACTOR * pixel_budget:
                what = (f"{header.getXSize()}x{header.getYSize()} pixels, more than the {pixel_budget}-pixel budget"
                        if pixels > pixel_budget else f"more pixels over all its images than {MODEL_PIXEL_FACTOR} "
                                                      f"times the {pixel_budget}-pixel budget")
                total -= pixels
                raise ModelError(f"{printable(where)}: {place}: expected an image within budget, got one of {what} "
                                 f"({budget_hint('pixels')})")
            picture = PNMImage()
            if pixels < 1 or not 1 <= header.getNumChannels() <= 4 or not picture.read(StringStream(data), hint, None, False):
                total -= pixels
                raise ModelError(f"{printable(where)}: {place}: expected a whole image, got one that does not decode "
                                 "(cut short or damaged)")
            decoded[image_index] = picture
        except (ModelError, DataError) as exc:
            for texture_index in users[image_index]:
                doc["textures"][texture_index].pop("source", None)
            shown = ", ".join(f"textures[{t}]" for t in users[image_index][:4])
            warnings.append(f"{exc}; the model loads without {shown}")
    return decoded, warnings


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
