"""JPEG 2000 textures: the size a codestream declares, checked before anything is decoded, then a
bounded decode through Pillow (whose wheel carries OpenJPEG).

Second Life textures are raw JPEG 2000 codestreams (``FF4F FF51``: SOC, then the SIZ marker
that says the image size, tile size and components); some grids store JP2 files (boxes, the
codestream in ``jp2c``). ``codestream_size`` reads SIZ from either, so a hostile asset that
declares 60000x60000 pixels is refused from its first bytes. ``decode`` picks Pillow's
``reduce`` (resolution levels dropped by OpenJPEG while decoding) so the result is at most
``max_side`` pixels a side, and gives RGBA rows bottom to top, as a Panda3D texture wants them.
"""
from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np

MAX_SOURCE_PIXELS = 4096 * 4096       # what the header may declare (Second Life's largest is 2048x2048)
MAX_COMPONENTS = 4
HEADER_BYTES = 2048                   # the SIZ marker lies within these (a JP2 puts boxes before it)
_SIZ = struct.Struct(">HHIIIIIIIIH")  # Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz, Csiz
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


class TextureError(ValueError):
    """A texture that is not one Storm decodes: says what was wrong."""


@dataclass(frozen=True)
class CodestreamSize:
    """What a codestream's SIZ marker declares."""

    width: int
    height: int
    components: int


def _codestream_at(data: bytes) -> int:
    """Where the codestream starts: 0 for a raw one, inside the ``jp2c`` box of a JP2 file."""
    if data[:4] == b"\xff\x4f\xff\x51":
        return 0
    if not data.startswith(_JP2_SIGNATURE):
        raise TextureError("not a JPEG 2000 codestream or JP2 file")
    pos = 0
    for _ in range(32):                                  # boxes before the codestream: a handful
        if pos + 8 > len(data):
            break
        length, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if length == 1:
            if pos + 16 > len(data):
                break
            length, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        if kind == b"jp2c":
            return pos + header
        if length < header:
            raise TextureError(f"a JP2 box {kind!r} of length {length}")
        pos += length
    raise TextureError(f"no codestream box in the first {len(data)} bytes of a JP2 file")


def codestream_size(data: bytes) -> CodestreamSize:
    """The image size the SIZ marker declares; raises TextureError (also past the pixel budget)."""
    start = _codestream_at(bytes(data[:HEADER_BYTES]))
    head = bytes(data[start:start + 4 + _SIZ.size])
    if head[:4] != b"\xff\x4f\xff\x51" or len(head) < 4 + _SIZ.size:
        raise TextureError("the codestream does not start with SOC and a whole SIZ marker")
    _lsiz, _rsiz, xsiz, ysiz, xo, yo, xt, yt, _xto, _yto, components = _SIZ.unpack_from(head, 4)
    width, height = xsiz - xo, ysiz - yo
    if width <= 0 or height <= 0 or xt == 0 or yt == 0:
        raise TextureError(f"the codestream declares an empty image ({width}x{height}, tiles {xt}x{yt})")
    if width * height > MAX_SOURCE_PIXELS:
        raise TextureError(f"the codestream declares {width}x{height} pixels, more than the "
                           f"{MAX_SOURCE_PIXELS}-pixel budget")
    if not 1 <= components <= MAX_COMPONENTS:
        raise TextureError(f"the codestream declares {components} components (1 to {MAX_COMPONENTS} are drawn)")
    return CodestreamSize(width, height, components)


def reduce_for(size: CodestreamSize, max_side: int) -> int:
    """Resolution levels to drop so the decoded image is at most ``max_side`` pixels a side."""
    reduce = 0
    side = max(size.width, size.height)
    while side > max_side and reduce < 5:                # 5: the fewest levels a codestream has by default
        side = (side + 1) // 2
        reduce += 1
    return reduce


def decode(data: bytes, max_side: int = 512) -> tuple[int, int, bytes]:
    """Width, height and RGBA bytes (rows bottom to top) of a texture; raises TextureError."""
    size = codestream_size(data)
    reduce = reduce_for(size, max_side)
    from PIL import Image

    last: Exception | None = None
    for attempt in range(reduce, -1, -1):               # a codestream with fewer levels: drop fewer
        if max(size.width, size.height) >> attempt > 2 * max_side:
            break                                        # not at the cost of decoding it large
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data), formats=["JPEG2000"])
                if attempt:
                    image.reduce = attempt               # type: ignore[assignment, method-assign]
                image.load()
            if max(image.width, image.height) > 2 * max_side:
                raise TextureError(f"decoded {image.width}x{image.height}, more than asked for")
            rgba = np.asarray(image.convert("RGBA"))
            return image.width, image.height, np.ascontiguousarray(rgba[::-1]).tobytes()
        except TextureError:
            raise
        except Exception as exc:  # Pillow and OpenJPEG raise OSError, ValueError, SyntaxError, ...
            last = exc
    if last is None:
        raise TextureError(f"{size.width}x{size.height} cannot be decoded within {max_side} pixels a side")
    raise TextureError(f"not decodable: {type(last).__name__}: {str(last)[:200]}")
