"""Lag compensation: the server keeps where every character was each tick for the last second, so
a hit test can be made against the world *as the shooting client saw it* (Valve's rewind).

A client shows other entities ``interpolation delay`` behind the server; its input carries the
server tick it was showing (``InputFrame.view_tick``). ``hit_test`` rewinds every character's
hit capsule (the CharacterController's radius and height, standing on the entity's origin) to
that tick, at most ``seconds`` back, and returns the first one the ray meets.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from engine.physics.components import CharacterController

if TYPE_CHECKING:
    from engine.core.world import World

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class Hit:
    entity: int
    distance: float
    tick: int


class LagHistory:
    """Per tick: each character's feet position and capsule size, for ``seconds`` (1 s by default)."""

    def __init__(self, world: "World", tick_rate: float, seconds: float = 1.0) -> None:
        self.world = world
        self.ticks = max(1, int(round(seconds * tick_rate)))
        self._frames: deque[tuple[int, dict[int, tuple[Vec, float, float]]]] = deque(maxlen=self.ticks + 1)

    def record(self, tick: int) -> None:
        world, root = self.world, self.world.root
        frame = {}
        for eid, controller in world.query(CharacterController):
            p = world.node(eid).getPos(root)
            frame[eid] = ((p.x, p.y, p.z), controller.radius, max(controller.height, 2 * controller.radius))
        self._frames.append((tick, frame))

    def at(self, tick: float) -> tuple[int, dict[int, tuple[Vec, float, float]]]:
        """The recorded frame nearest ``tick``, clamped to the history (at most ``seconds`` back)."""
        if not self._frames:
            return 0, {}
        newest, oldest = self._frames[-1][0], self._frames[0][0]
        want = min(max(int(round(tick)), oldest, newest - self.ticks), newest)
        return self._frames[-1 - (newest - want)] if newest - want < len(self._frames) else self._frames[0]

    def hit_test(self, origin: Vec, direction: Vec, max_distance: float, at_tick: float,
                 ignore: Iterable[int] = ()) -> Hit | None:
        """The nearest character capsule, as it was at ``at_tick``, that the ray crosses."""
        tick, frame = self.at(at_tick)
        length = math.sqrt(sum(c * c for c in direction))
        if length == 0 or max_distance <= 0:
            return None
        d = tuple(c / length for c in direction)
        skip = set(ignore)
        best: Hit | None = None
        for eid, (feet, radius, height) in frame.items():
            if eid in skip:
                continue
            bottom = (feet[0], feet[1], feet[2] + radius)
            top = (feet[0], feet[1], feet[2] + height - radius)
            distance = _ray_capsule(origin, d, max_distance, bottom, top, radius)
            if distance is not None and (best is None or distance < best.distance):
                best = Hit(eid, distance, tick)
        return best


def _ray_capsule(o: Vec, d: Vec, reach: float, a: Vec, b: Vec, r: float) -> float | None:
    """Distance along the ray (unit ``d``) to the first point within ``r`` of segment a-b, or None.
    Sampled finely around the closest approach of the two segments (exact enough for hit tests)."""
    steps = min(4000, max(64, int(reach / max(r * 0.5, 1e-3))))
    best_t = None
    previous_inside = False
    for i in range(steps + 1):
        t = reach * i / steps
        p = (o[0] + d[0] * t, o[1] + d[1] * t, o[2] + d[2] * t)
        inside = _segment_distance(p, a, b) <= r
        if inside and not previous_inside:
            lo, hi = (reach * (i - 1) / steps if i else 0.0), t
            for _ in range(20):
                mid = (lo + hi) / 2
                q = (o[0] + d[0] * mid, o[1] + d[1] * mid, o[2] + d[2] * mid)
                if _segment_distance(q, a, b) <= r:
                    hi = mid
                else:
                    lo = mid
            best_t = hi if i else 0.0
            break
        previous_inside = inside
    return best_t


def _segment_distance(p: Vec, a: Vec, b: Vec) -> float:
    ab = (b[0] - a[0], b[1] - a[1], b[2] - a[2])
    ap = (p[0] - a[0], p[1] - a[1], p[2] - a[2])
    denom = ab[0] ** 2 + ab[1] ** 2 + ab[2] ** 2
    t = 0.0 if denom == 0 else max(0.0, min(1.0, (ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / denom))
    c = (a[0] + ab[0] * t - p[0], a[1] + ab[1] * t - p[1], a[2] + ab[2] * t - p[2])
    return math.sqrt(c[0] ** 2 + c[1] ** 2 + c[2] ** 2)
