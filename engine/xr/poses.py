"""Poses, fields of view and the tracking frame an XR backend hands the engine each frame.

Everything here is in Panda3D's convention (Z up, +Y forward, metres, right-handed). OpenXR's
space is Y up, -Z forward: ``from_openxr_position`` and ``from_openxr_orientation`` convert.
Eye projections are asymmetric: ``apply_fov`` sets a lens's film so that its frustum is exactly
the runtime's (tangents of the four half angles at focal length 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

from panda3d.core import LQuaternion, PerspectiveLens, Point3, TransformState, Vec3

HANDS = ("left", "right")


@dataclass(frozen=True)
class Pose:
    """A position and an orientation (quaternion w, x, y, z) in Panda3D's axes."""

    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)

    def transform(self) -> TransformState:
        return TransformState.makePosQuat(Point3(*self.pos), LQuaternion(*self.quat))

    @staticmethod
    def from_hpr(pos: tuple[float, float, float], hpr: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> "Pose":
        quat = LQuaternion()
        quat.setHpr(Vec3(*hpr))
        return Pose(tuple(float(v) for v in pos), (quat.getR(), quat.getI(), quat.getJ(), quat.getK()))

    def hpr(self) -> tuple[float, float, float]:
        h, p, r = LQuaternion(*self.quat).getHpr()
        return (h, p, r)


@dataclass(frozen=True)
class Fov:
    """An eye's field of view as OpenXR gives it: four half angles in radians (left and down negative)."""

    left: float = -0.785398
    right: float = 0.785398
    up: float = 0.785398
    down: float = -0.785398

    @staticmethod
    def symmetric(horizontal_deg: float, aspect: float) -> "Fov":
        half = math.radians(horizontal_deg) / 2.0
        vertical = math.atan(math.tan(half) / aspect)
        return Fov(-half, half, vertical, -vertical)


@dataclass(frozen=True)
class EyeView:
    """One eye this frame: its pose in tracking space and its field of view."""

    pose: Pose
    fov: Fov


@dataclass(frozen=True)
class HandControls:
    """One controller's inputs this frame (what the suggested bindings deliver for any profile)."""

    trigger: float = 0.0
    squeeze: float = 0.0
    thumbstick: tuple[float, float] = (0.0, 0.0)
    thumbstick_click: bool = False
    primary: bool = False       # A / X
    secondary: bool = False     # B / Y
    menu: bool = False


@dataclass(frozen=True)
class TrackingFrame:
    """What the runtime says for the frame about to be drawn: head and eyes, hand grip and aim
    poses (absent while a hand is not tracked), each hand's controls, and the predicted display
    time in seconds."""

    head: Pose
    eyes: tuple[EyeView, EyeView]
    grips: Mapping[str, Pose] = field(default_factory=dict)
    aims: Mapping[str, Pose] = field(default_factory=dict)
    controls: Mapping[str, HandControls] = field(default_factory=dict)
    time: float = 0.0


def from_openxr_position(x: float, y: float, z: float) -> tuple[float, float, float]:
    """OpenXR (X right, Y up, -Z forward) to Panda3D (X right, Y forward, Z up)."""
    return (x, -z, y)


def from_openxr_orientation(x: float, y: float, z: float, w: float) -> tuple[float, float, float, float]:
    """An OpenXR orientation quaternion in Panda3D's axes, as (w, x, y, z)."""
    return (w, x, -z, y)


def apply_fov(lens: PerspectiveLens, fov: Fov, near: float, far: float) -> None:
    """Give ``lens`` the asymmetric frustum of ``fov``."""
    tl, tr, tu, td = math.tan(fov.left), math.tan(fov.right), math.tan(fov.up), math.tan(fov.down)
    lens.setFocalLength(1.0)
    lens.setFilmSize(tr - tl, tu - td)
    lens.setFilmOffset((tr + tl) / 2.0, (tu + td) / 2.0)
    lens.setNearFar(near, far)


def stereo_eyes(head: Pose, separation: float, fov: Fov) -> tuple[EyeView, EyeView]:
    """Two eyes ``separation`` metres apart across the head's right axis (what a simulated HMD uses)."""
    quat = LQuaternion(*head.quat)
    right = quat.xform(Vec3(1, 0, 0)) * (separation / 2.0)
    centre = Vec3(*head.pos)
    eyes = []
    for sign in (-1.0, 1.0):
        pos = centre + right * sign
        eyes.append(EyeView(Pose((pos.x, pos.y, pos.z), head.quat), fov))
    return eyes[0], eyes[1]
