"""Decoding LayerData: the Second Life terrain patch format (16x16 DCT patches, bit-packed).

A LayerData body is a group header (stride U16, patch size U8, layer type U8) and then patches,
each a header (quantisation byte, DC offset F32, range U16, patch ids of 10 bits, or 32 for the
extended layer types of large regions) and up to 256 run-length coded DCT coefficients in
zig-zag order, until the end marker 97. Bits are read most significant first, multi-byte values
in 8-bit chunks, lowest chunk first (the BitPack layout of the libopenmetaverse encoder that
OpenSimulator uses). A patch is dequantised and put through the inverse DCT with numpy.

Hostile input is refused with ``PatchError``: reading past the end, a patch size other than 16,
ids outside the region, more patches than the region has.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

END_OF_PATCHES = 97
PATCH = 16
LAND, LAND_EXTENDED = 0x4C, 0x4D
WIND, WIND_EXTENDED, CLOUD, CLOUD_EXTENDED = 0x37, 0x39, 0x38, 0x3A
MAX_PATCHES_PER_PACKET = 1024


class PatchError(ValueError):
    """A LayerData payload that does not decode: says where and what was expected."""


@dataclass(frozen=True)
class TerrainPatch:
    """One decoded patch: its place in patches (x east, y north) and 16x16 heights, row = y."""

    x: int
    y: int
    heights: np.ndarray


class _Bits:
    __slots__ = ("data", "pos", "limit")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0                 # in bits
        self.limit = len(data) * 8

    def bit(self) -> int:
        pos = self.pos
        if pos >= self.limit:
            raise PatchError(f"the data ends (at byte {len(self.data)}) inside a patch")
        self.pos = pos + 1
        return (self.data[pos >> 3] >> (7 - (pos & 7))) & 1

    def bits(self, count: int) -> int:
        value, shift = 0, 0
        while count > 0:
            chunk = min(8, count)
            if self.pos + chunk > self.limit:
                raise PatchError(f"the data ends (at byte {len(self.data)}) inside a patch")
            byte = 0
            for _ in range(chunk):
                pos = self.pos
                byte = (byte << 1) | ((self.data[pos >> 3] >> (7 - (pos & 7))) & 1)
                self.pos = pos + 1
            value |= byte << shift
            shift += 8
            count -= chunk
        return value


def _zigzag() -> np.ndarray:
    copy = np.zeros(PATCH * PATCH, np.int64)
    diag, right, i, j, count = False, True, 0, 0, 0
    while i < PATCH and j < PATCH:
        copy[j * PATCH + i] = count
        count += 1
        if not diag:
            if right:
                if i < PATCH - 1:
                    i += 1
                else:
                    j += 1
                right = False
            else:
                if j < PATCH - 1:
                    j += 1
                else:
                    i += 1
                right = True
            diag = True
        else:
            if right:
                i += 1
                j -= 1
                if i == PATCH - 1 or j == 0:
                    diag = False
            else:
                i -= 1
                j += 1
                if j == PATCH - 1 or i == 0:
                    diag = False
    return copy


_COPY = _zigzag()
_DEQUANT = np.array([[1.0 + 2.0 * (i + j) for i in range(PATCH)] for j in range(PATCH)], np.float64).ravel()
# M[n, u] = w(u) cos((2n + 1) u pi / 32), w(0) = 1/sqrt(2): the inverse DCT is (2/16) M B M^T
_M = np.array([[(1 / math.sqrt(2) if u == 0 else 1.0) * math.cos((2 * n + 1) * u * math.pi / (2 * PATCH))
                for u in range(PATCH)] for n in range(PATCH)], np.float64)


def decode_layer(data: bytes, region_patches: int = 16) -> tuple[int, list[TerrainPatch]]:
    """The layer type and the patches of one LayerData payload (``region_patches`` per side)."""
    if len(data) < 4:
        raise PatchError(f"a group header of 4 bytes, got {len(data)}")
    stride, size, layer = struct.unpack_from("<HBB", data)
    if size != PATCH:
        raise PatchError(f"patches of {PATCH}x{PATCH}, the header says {size}")
    extended = layer in (LAND_EXTENDED, WIND_EXTENDED, CLOUD_EXTENDED)
    bits = _Bits(data[4:])
    patches: list[TerrainPatch] = []
    while True:
        quant = bits.bits(8)
        if quant == END_OF_PATCHES:
            return layer, patches
        if len(patches) >= MAX_PATCHES_PER_PACKET:
            raise PatchError(f"more than {MAX_PATCHES_PER_PACKET} patches in one packet")
        dc = struct.unpack("<f", struct.pack("<I", bits.bits(32)))[0]
        value_range = bits.bits(16)
        ids = bits.bits(32 if extended else 10)
        x, y = (ids >> 16, ids & 0xFFFF) if extended else (ids >> 5, ids & 0x1F)
        if x >= region_patches or y >= region_patches:
            raise PatchError(f"patch ({x}, {y}) is outside a region of {region_patches}x{region_patches} patches")
        if not math.isfinite(dc):
            raise PatchError(f"patch ({x}, {y}): its DC offset is not a finite number")
        coefficients = _coefficients(bits, (quant & 0x0F) + 2)
        patches.append(TerrainPatch(x, y, _heights(coefficients, quant, dc, value_range)))


def _coefficients(bits: _Bits, word_bits: int) -> np.ndarray:
    out = np.zeros(PATCH * PATCH, np.float64)
    for i in range(PATCH * PATCH):
        if not bits.bit():
            continue                      # a zero
        if not bits.bit():
            break                         # end of block: the rest are zeros
        negative = bits.bit()
        value = bits.bits(word_bits)
        out[i] = -value if negative else value
    return out


def _heights(coefficients: np.ndarray, quant: int, dc: float, value_range: int) -> np.ndarray:
    prequant = (quant >> 4) + 2
    mult = value_range / float(1 << prequant)
    add = mult * float(1 << (prequant - 1)) + dc
    block = (coefficients[_COPY] * _DEQUANT).reshape(PATCH, PATCH)
    spatial = (_M @ block @ _M.T) * (2.0 / PATCH)
    return (spatial * mult + add).astype(np.float32)


class RegionHeights:
    """A region's height grid (row = y, column = x, metres), filled patch by patch as LayerData comes."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.heights = np.zeros((size, size), np.float32)
        self.received: set[tuple[int, int]] = set()

    @property
    def patches(self) -> int:
        return self.size // PATCH

    def apply(self, patches: list[TerrainPatch]) -> None:
        for patch in patches:
            y0, x0 = patch.y * PATCH, patch.x * PATCH
            self.heights[y0:y0 + PATCH, x0:x0 + PATCH] = patch.heights
            self.received.add((patch.x, patch.y))

    @property
    def complete(self) -> bool:
        return len(self.received) >= self.patches * self.patches

    def height_at(self, x: float, y: float) -> float:
        """The height at region coordinates, bilinear between grid points (clamped to the region)."""
        fx = min(max(x, 0.0), self.size - 1.001)
        fy = min(max(y, 0.0), self.size - 1.001)
        ix, iy = int(fx), int(fy)
        tx, ty = fx - ix, fy - iy
        h = self.heights
        top = h[iy, ix] * (1 - tx) + h[iy, ix + 1] * tx
        bottom = h[iy + 1, ix] * (1 - tx) + h[iy + 1, ix + 1] * tx
        return float(top * (1 - ty) + bottom * ty)
