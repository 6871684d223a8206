"""Quantised transforms: positions on a grid of ``step`` metres inside fixed bounds, orientations
as smallest-three quaternions (the index of the largest component in 2 bits, the other three in
``quat_bits`` bits each over [-1/sqrt(2), 1/sqrt(2)]). Whole arrays at a time (numpy).

With Fiedler's settings (``TransformSpec.fiedler()``: 1/512 m inside x, y in [-256, 256) and
z in [0, 32), 9 bits per quaternion component) a cube state is 18 + 18 + 14 + 2 + 27 = 79 bits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from netcode.bits import bits_for

_HALF = 1.0 / math.sqrt(2.0)


@dataclass(frozen=True)
class TransformSpec:
    """How precisely transforms travel: the position grid, its bounds, bits per quaternion part."""

    step: float = 1.0 / 512.0
    low: tuple[float, float, float] = (-4096.0, -4096.0, -512.0)
    high: tuple[float, float, float] = (4096.0, 4096.0, 512.0)
    quat_bits: int = 10

    def __post_init__(self) -> None:
        if not (self.step > 0 and all(h > lo for lo, h in zip(self.low, self.high)) and 4 <= self.quat_bits <= 16):
            raise ValueError("a transform spec needs step > 0, high > low on each axis and 4-16 quaternion bits")

    @classmethod
    def fiedler(cls) -> "TransformSpec":
        """The precision of Fiedler's snapshot compression article."""
        return cls(1.0 / 512.0, (-256.0, -256.0, 0.0), (256.0, 256.0, 32.0), 9)

    @property
    def pos_bits(self) -> tuple[int, int, int]:
        return tuple(bits_for(int(round((h - lo) / self.step))) for lo, h in zip(self.low, self.high))  # type: ignore[return-value]

    @property
    def max_position_error(self) -> float:
        return self.step / 2.0

    def describe(self) -> dict[str, object]:
        return {"step": self.step, "low": list(self.low), "high": list(self.high), "quat_bits": self.quat_bits}

    @classmethod
    def from_description(cls, data: object) -> "TransformSpec":
        if not isinstance(data, dict) or set(data) != {"step", "low", "high", "quat_bits"}:
            raise ValueError("a transform spec object with step, low, high, quat_bits")
        try:
            low = tuple(float(v) for v in data["low"])
            high = tuple(float(v) for v in data["high"])
            spec = cls(float(data["step"]), low, high, int(data["quat_bits"]))  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a transform spec with numbers ({exc})") from None
        if len(low) != 3 or len(high) != 3 or any(b > 24 for b in spec.pos_bits):
            raise ValueError("a transform spec of three axes with at most 24 bits each")
        return spec


def quantise_positions(pos: np.ndarray, spec: TransformSpec) -> np.ndarray:
    """(n, 3) float -> (n, 3) int64 grid cells, clamped to the bounds."""
    low = np.asarray(spec.low)
    top = np.asarray([(1 << b) - 1 for b in spec.pos_bits])
    cells = np.rint((np.asarray(pos, dtype=np.float64) - low) / spec.step)
    return np.clip(cells, 0, top).astype(np.int64)


def positions_of(cells: np.ndarray, spec: TransformSpec) -> np.ndarray:
    return np.asarray(spec.low) + cells.astype(np.float64) * spec.step


def quantise_quats(quats: np.ndarray, spec: TransformSpec) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4) quaternions (w, x, y, z; Panda3D's r, i, j, k) -> (largest index (n,), three parts (n, 3))."""
    q = np.asarray(quats, dtype=np.float64)
    norm = np.linalg.norm(q, axis=1, keepdims=True)
    q = q / np.where(norm > 0, norm, 1.0)
    largest = np.argmax(np.abs(q), axis=1)
    rows = np.arange(len(q))
    q = q * np.where(q[rows, largest] < 0, -1.0, 1.0)[:, None]
    keep = np.ones_like(q, dtype=bool)
    keep[rows, largest] = False
    rest = q[keep].reshape(len(q), 3)
    top = (1 << spec.quat_bits) - 1
    parts = np.clip(np.rint((rest + _HALF) / (2 * _HALF) * top), 0, top).astype(np.int64)
    return largest.astype(np.int64), parts


def quats_of(largest: np.ndarray, parts: np.ndarray, spec: TransformSpec) -> np.ndarray:
    top = (1 << spec.quat_bits) - 1
    rest = parts.astype(np.float64) / top * (2 * _HALF) - _HALF
    big = np.sqrt(np.maximum(0.0, 1.0 - np.sum(rest * rest, axis=1)))
    n = len(largest)
    out = np.empty((n, 4))
    keep = np.ones((n, 4), dtype=bool)
    keep[np.arange(n), largest] = False
    out[keep] = rest.reshape(-1)
    out[np.arange(n), largest] = big
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation angle in degrees between quaternion rows of ``a`` and ``b``."""
    dot = np.abs(np.sum(a * b, axis=1)) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return np.degrees(2.0 * np.arccos(np.clip(dot, -1.0, 1.0)))
