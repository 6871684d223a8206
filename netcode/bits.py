"""Bit streams written and read a whole array at a time (numpy), for the snapshot codec.

A stream is a sequence of sections; each section is an array of unsigned values with a width in
bits per value (0 to 32). The writer packs everything MSB-first in one pass; the reader reads a
section when it knows its widths, which an earlier section may decide (a category read first
says how wide the value after it is). Internals favour speed: no per-bit Python loop.
"""
from __future__ import annotations

import numpy as np

from netcode.wire import ProtocolError

MAX_WIDTH = 32


class BitWriter:
    """Collects sections; ``bytes()`` packs them (and checks every value fits its width)."""

    def __init__(self) -> None:
        self._values: list[np.ndarray | int] = []
        self._widths: list[np.ndarray | int] = []
        self.bits = 0

    def write(self, values: "np.ndarray | int", widths: "np.ndarray | int") -> None:
        """Append values (an int or an array) each ``widths`` bits wide (an int or a matching array)."""
        if isinstance(values, (int, np.integer)) and isinstance(widths, (int, np.integer)):
            if not 0 <= widths <= MAX_WIDTH or not 0 <= values < (1 << widths):
                raise ValueError(f"value {values} does not fit {widths} bits")
            self._values.append(int(values))
            self._widths.append(int(widths))
            self.bits += int(widths)
            return
        values = np.asarray(values, dtype=np.uint64).reshape(-1)
        if values.size == 0:
            return
        widths = np.broadcast_to(np.asarray(widths, dtype=np.int64), values.shape)
        self._values.append(values)
        self._widths.append(widths)
        self.bits += int(widths.sum())

    def bytes(self) -> bytes:
        if not self._values:
            return b""
        values = np.concatenate([np.atleast_1d(np.asarray(v, dtype=np.uint64)) for v in self._values])
        widths = np.concatenate([np.atleast_1d(np.asarray(w, dtype=np.int64)) for w in self._widths])
        if int(widths.max(initial=0)) > MAX_WIDTH or int(widths.min(initial=0)) < 0:
            raise ValueError(f"bit widths go from 0 to {MAX_WIDTH}")
        if np.any(values >> widths.astype(np.uint64)):
            raise ValueError("a value does not fit its width")
        keep = widths > 0
        values, widths = values[keep], widths[keep]
        if not len(values):
            return b""
        # each value lands in the five bytes from the one it starts in; bits never overlap, so
        # summing the bytes of all values (bincount) is OR-ing them
        starts = np.concatenate(([0], np.cumsum(widths)[:-1]))
        window = values << (40 - (starts & 7) - widths).astype(np.uint64)
        first = starts >> 3
        size = (int(starts[-1] + widths[-1]) + 7) // 8
        index = np.concatenate([first + k for k in range(5)])
        pieces = np.concatenate([(window >> np.uint64(8 * (4 - k))) & np.uint64(0xFF) for k in range(5)])
        packed = np.bincount(index, weights=pieces.astype(np.float64), minlength=size + 5)[:size]
        return packed.astype(np.uint8).tobytes()


class BitReader:
    """Reads sections back from packed bytes; reading past the end raises ProtocolError. Each value
    is cut from the five bytes it starts in (a width is at most 32 bits), a few words a value."""

    def __init__(self, data: bytes, where: str = "snapshot") -> None:
        self._bytes = np.frombuffer(bytes(data) + bytes(5), dtype=np.uint8).astype(np.uint64)
        self._size = 8 * len(data)
        self.pos = 0
        self.where = where

    @property
    def remaining(self) -> int:
        return self._size - self.pos

    def read(self, widths: "np.ndarray | int", count: int | None = None, field: str = "bits") -> np.ndarray:
        """``count`` values of ``widths`` bits (an int), or one value per entry of a widths array."""
        if np.isscalar(widths) or np.ndim(widths) == 0:
            widths = np.full(1 if count is None else count, int(widths), dtype=np.int64)
        widths = np.asarray(widths, dtype=np.int64)
        total = int(widths.sum())
        if total > self.remaining:
            raise ProtocolError(f"{self.where}.{field}", f"{total} more bits (the payload has {self.remaining})")
        if widths.size == 0:
            return np.zeros(0, dtype=np.uint64)
        if int(widths.min()) < 0 or int(widths.max()) > MAX_WIDTH:
            raise ValueError(f"bit widths go from 0 to {MAX_WIDTH}")
        starts = self.pos + np.concatenate(([0], np.cumsum(widths)[:-1]))
        first = starts >> 3
        window = np.zeros(len(widths), dtype=np.uint64)
        for k in range(5):
            window = (window << np.uint64(8)) | self._bytes[first + k]
        shift = (40 - (starts & 7) - widths).astype(np.uint64)
        mask = (np.uint64(1) << widths.astype(np.uint64)) - np.uint64(1)
        self.pos += total
        return (window >> shift) & mask

    def read_one(self, width: int, field: str = "bits") -> int:
        return int(self.read(width, 1, field)[0])


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed to unsigned: 0, -1, 1, -2, 2 ... -> 0, 1, 2, 3, 4 ..."""
    values = values.astype(np.int64)
    return np.where(values >= 0, values << 1, ((-values) << 1) - 1).astype(np.uint64)


def unzigzag(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.int64)
    return np.where(values & 1, -((values + 1) >> 1), values >> 1)


def bits_for(count: int) -> int:
    """Bits needed to tell ``count`` values apart (at least 1)."""
    return max(1, int(count - 1).bit_length())
