"""A VR player's head and hands as they travel: the ``TrackedPose`` component on the player's
entity, and ``PoseGuard``, the server's check of what a client claims.

The VR client writes its head and hand poses into its own player's TrackedPose each tick, relative
to the body (the player entity's origin, at its feet, in its heading). The pose fields are owner
authority and input only (``Replication(broadcast=False)``): they travel to the server inside the
input frames, never back out in snapshots. The server checks them (``PoseGuard``: numbers within
reach of the body, rotations that are rotations) and places the player's avatar head and hands
from them; other clients see those entities move, interpolated like everything else.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from engine.core.component import Component
from engine.core.fields import EntityRef, Field, Flags, Replication, Vector

log = logging.getLogger("storm.net")

PARTS = ("head", "left", "right")
HEAD, LEFT, RIGHT = 1, 2, 4              # TrackedPose.tracked bits
ALL_PARTS = HEAD | LEFT | RIGHT
POS_STEP = 1.0 / 512.0                   # metres: the snapshot position grid's step
QUAT_STEP = 1.0 / 1024.0                 # per quaternion component (about 0.06 degrees)
POS_LIMIT = 4.0                          # metres from the body a pose may say at all (else the input is refused)
IDENTITY = (1.0, 0.0, 0.0, 0.0)
REST = {"head": (0.0, 0.0, 1.7), "left": (-0.25, 0.15, 1.0), "right": (0.25, 0.15, 1.0)}
INPUT_POS = Replication(POS_STEP, "owner", broadcast=False)
INPUT_QUAT = Replication(QUAT_STEP, "owner", broadcast=False)


def _pos(default: tuple[float, float, float], doc: str) -> Field:
    return Field(Vector(3, -POS_LIMIT, POS_LIMIT), default, doc=doc, replicate=INPUT_POS, saved=False,
                 editable=False, group="input", unit="m")


def _quat(doc: str) -> Field:
    return Field(Vector(4, -1.0, 1.0), IDENTITY, doc=doc, replicate=INPUT_QUAT, saved=False, editable=False,
                 group="input")


class TrackedPose(Component):
    """Where a VR player's head and hands are, relative to their body (see the module doc): what
    the VR client sends, and the avatar entities the server places from it."""

    tracked = Field(Flags(3, PARTS), 0, doc="which parts the headset tracks now (bits: head, left, right hand)",
                    replicate=Replication(authority="owner"), saved=False, editable=False, group="input")
    head_pos = _pos(REST["head"], "the head's position relative to the body")
    head_quat = _quat("the head's orientation relative to the body (w, x, y, z)")
    left_pos = _pos(REST["left"], "the left hand's grip position relative to the body")
    left_quat = _quat("the left hand's grip orientation relative to the body (w, x, y, z)")
    right_pos = _pos(REST["right"], "the right hand's grip position relative to the body")
    right_quat = _quat("the right hand's grip orientation relative to the body (w, x, y, z)")
    head = Field(EntityRef(), 0, doc="the avatar's head entity (the server makes it)", replicate=True,
                 saved=False, editable=False, group="state")
    left_hand = Field(EntityRef(), 0, doc="the avatar's left hand entity (the server makes it)", replicate=True,
                      saved=False, editable=False, group="state")
    right_hand = Field(EntityRef(), 0, doc="the avatar's right hand entity (the server makes it)", replicate=True,
                       saved=False, editable=False, group="state")

    def part_entity(self, part: str) -> int:
        return {"head": self.head, "left": self.left_hand, "right": self.right_hand}[part]


@dataclass(frozen=True)
class PoseLimits:
    """How far a claimed pose may reach: the head stays within ``head_reach`` metres of the body's
    vertical axis and between ``head_low`` and ``head_high`` above its feet; each hand within
    ``hand_reach`` of the head."""

    head_reach: float = 1.0
    head_low: float = 0.2
    head_high: float = 2.6
    hand_reach: float = 1.2


Part = tuple[tuple[float, float, float], tuple[float, float, float, float]]


@dataclass
class PoseGuard:
    """The server's check of a player's claimed pose: clamps what reaches too far, replaces what
    is not a number or not a rotation, and says so in one log line per peer per ``every`` seconds
    (with the count since the last line), naming the peer."""

    limits: PoseLimits = field(default_factory=PoseLimits)
    every: float = 10.0
    _last: dict[str, float] = field(default_factory=dict)
    _quiet: dict[str, int] = field(default_factory=dict)

    def check(self, pose: TrackedPose, peer: str, now: float | None = None) -> dict[str, Part]:
        """The parts to place, body-relative, each (pos, unit quaternion w x y z)."""
        problems: list[str] = []
        head_pos, head_quat = self._part(pose, "head", problems)
        head_pos = self._clamp_head(head_pos, problems)
        out = {"head": (head_pos, head_quat)}
        for hand in ("left", "right"):
            pos, quat = self._part(pose, hand, problems)
            out[hand] = (_within(pos, head_pos, self.limits.hand_reach, f"{hand} hand", "the head", problems), quat)
        if problems:
            self._report(peer, problems, time.monotonic() if now is None else now)
        return out

    def _part(self, pose: TrackedPose, part: str, problems: list[str]) -> Part:
        pos: Any = getattr(pose, f"{part}_pos")
        quat: Any = getattr(pose, f"{part}_quat")
        if not all(math.isfinite(v) for v in pos):
            problems.append(f"{part} position is not a number: the rest pose instead")
            pos = REST[part]
        if not all(math.isfinite(v) for v in quat):
            problems.append(f"{part} rotation is not a number: none instead")
            return tuple(pos), IDENTITY
        norm = math.sqrt(sum(v * v for v in quat))
        if abs(norm - 1.0) > 0.1:
            problems.append(f"{part} rotation is not a rotation (length {norm:.2f}): none instead")
            return tuple(pos), IDENTITY
        return tuple(pos), tuple(v / norm for v in quat)

    def _clamp_head(self, pos: tuple[float, ...], problems: list[str]) -> tuple[float, float, float]:
        limits = self.limits
        x, y = _within((pos[0], pos[1], 0.0), (0.0, 0.0, 0.0), limits.head_reach, "head", "the body's axis", problems)[:2]
        z = min(max(pos[2], limits.head_low), limits.head_high)
        if z != pos[2]:
            problems.append(f"head {pos[2]:.2f} m above the feet, outside {limits.head_low:g}..{limits.head_high:g} m")
        return (x, y, z)

    def _report(self, peer: str, problems: list[str], now: float) -> None:
        last = self._last.get(peer)
        if last is not None and now - last < self.every:
            self._quiet[peer] = self._quiet.get(peer, 0) + 1
            return
        quiet = self._quiet.pop(peer, 0)
        self._last[peer] = now
        if len(self._last) > 4096:                    # peers come and go: the oldest are forgotten
            del self._last[next(iter(self._last))]
        since = f" ({quiet} more since the last report)" if quiet else ""
        log.warning("net: %s sent a VR pose out of bounds: %s; clamped%s", peer, "; ".join(problems), since)


def _within(pos: tuple[float, ...], centre: tuple[float, ...], reach: float, what: str, of: str,
            problems: list[str]) -> tuple[float, float, float]:
    offset = [p - c for p, c in zip(pos, centre)]
    distance = math.sqrt(sum(v * v for v in offset))
    if distance <= reach:
        return (pos[0], pos[1], pos[2])
    problems.append(f"{what} {distance:.2f} m from {of} (reach {reach:g} m)")
    scale = reach / distance
    return (centre[0] + offset[0] * scale, centre[1] + offset[1] * scale, centre[2] + offset[2] * scale)
