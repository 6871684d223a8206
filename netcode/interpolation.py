"""Interpolation of remote entities: a client shows everyone else ``delay`` seconds in the past,
between the two snapshots around that moment, so one lost snapshot (at 20/s, 50 ms apart)
never shows as a jump (Valve's 100 ms). When the newest snapshot is older than the moment shown,
motion is extrapolated from the last two, for at most ``max_extrapolation`` seconds, then held.
"""
from __future__ import annotations

from collections import deque

import numpy as np

Sample = tuple[float, np.ndarray, np.ndarray]   # (server tick, position (3,), quaternion (4,) w x y z)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Quaternion blend along the shorter arc (normalised linear blend: close enough at these steps)."""
    if float(np.dot(a, b)) < 0.0:
        b = -b
    q = a + (b - a) * t
    norm = float(np.linalg.norm(q))
    return q / norm if norm > 0 else a


class EntityBuffer:
    """The last few snapshot samples of one entity."""

    def __init__(self, size: int = 32) -> None:
        self.samples: deque[Sample] = deque(maxlen=size)

    def add(self, tick: float, pos: np.ndarray, quat: np.ndarray) -> None:
        if self.samples and tick <= self.samples[-1][0]:
            if tick == self.samples[-1][0]:
                self.samples[-1] = (tick, pos, quat)
            return                                  # older than what we have: out of date
        self.samples.append((tick, pos, quat))

    def at(self, tick: float, max_extrapolation_ticks: float) -> tuple[np.ndarray, np.ndarray] | None:
        samples = self.samples
        if not samples:
            return None
        if tick <= samples[0][0]:
            return samples[0][1], samples[0][2]
        for i in range(len(samples) - 1, 0, -1):
            t0, p0, q0 = samples[i - 1]
            t1, p1, q1 = samples[i]
            if t0 <= tick <= t1:
                f = (tick - t0) / (t1 - t0)
                return p0 + (p1 - p0) * f, slerp(q0, q1, f)
        t1, p1, q1 = samples[-1]
        if len(samples) < 2:
            return p1, q1
        t0, p0, q0 = samples[-2]
        ahead = min(tick - t1, max_extrapolation_ticks)
        f = 1.0 + ahead / (t1 - t0)
        return p0 + (p1 - p0) * f, slerp(q0, q1, f)


class Interpolator:
    """Buffers per entity; ``sample(render_tick)`` gives where each buffered entity is shown."""

    def __init__(self, tick_rate: float, delay: float = 0.1, max_extrapolation: float = 0.25) -> None:
        self.tick_rate = tick_rate
        self.delay = delay
        self.max_extrapolation = max_extrapolation
        self.buffers: dict[int, EntityBuffer] = {}

    def add(self, tick: float, ids: np.ndarray, pos: np.ndarray, quats: np.ndarray) -> None:
        for row, eid in enumerate(ids.tolist()):
            buffer = self.buffers.get(eid)
            if buffer is None:
                buffer = self.buffers[eid] = EntityBuffer()
            buffer.add(tick, pos[row], quats[row])

    def forget(self, eid: int) -> None:
        self.buffers.pop(eid, None)

    def render_tick(self, server_tick: float) -> float:
        return server_tick - self.delay * self.tick_rate

    def sample(self, render_tick: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        limit = self.max_extrapolation * self.tick_rate
        out = {}
        for eid, buffer in self.buffers.items():
            got = buffer.at(render_tick, limit)
            if got is not None:
                out[eid] = got
        return out
