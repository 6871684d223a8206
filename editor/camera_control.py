"""The editor's own camera: it orbits a target point, pans, zooms, flies, frames a selection and
jumps to top/front/side views. It is an ``engine.host.view.ViewProvider``: the App draws the world
from it without the world knowing (no entity, nothing saved).

Controls (the view panel maps mouse and keys onto these methods): middle drag or Alt+left drag
orbits, Shift+middle drag pans, the wheel zooms, right drag looks around and WASD/QE fly while the
right button is held, F frames the selection.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from panda3d.core import NodePath, Point3, TransformState, Vec3

from engine.core.world import World
from engine.host.view import View

ORBIT_DEG_PER_PX = 0.35
LOOK_DEG_PER_PX = 0.2
ZOOM_STEP = 0.85
MIN_DISTANCE, MAX_DISTANCE = 0.2, 5000.0
PRESETS = {"front": (0.0, 0.0), "back": (180.0, 0.0), "side": (90.0, 0.0), "top": (0.0, -89.9),
           "perspective": (-30.0, -25.0)}


@dataclass
class OrbitCamera:
    """Where the editor looks from: a target point, heading and pitch (degrees) and a distance."""

    target: Vec3 = Vec3(0, 0, 0)
    heading: float = -30.0
    pitch: float = -25.0
    distance: float = 16.0
    fov: float = 60.0
    near: float = 0.05
    far: float = 5000.0
    aspect: float = 16.0 / 9.0  # of the view, set by the view panel
    version: int = 0  # grows with every move: the view redraws when it changed

    def __post_init__(self) -> None:
        self.target = Vec3(self.target)

    # -- ViewProvider -----------------------------------------------------------------------------
    def view(self, world: World) -> View:
        return View(self.transform(), self.fov, self.near, self.far)

    def transform(self) -> TransformState:
        """The camera's pose in the world root's space (looking along +Y, Z up)."""
        node = NodePath("editor-camera")
        node.setHpr(self.heading, self.pitch, 0.0)
        forward = node.getQuat().getForward()
        node.setPos(Point3(self.target) - forward * self.distance)
        return node.getTransform()

    def position(self) -> Point3:
        return self.transform().getPos()

    # -- moves ------------------------------------------------------------------------------------
    def _moved(self) -> None:
        self.version += 1

    def orbit(self, dx: float, dy: float) -> None:
        """Turn around the target by a mouse movement of (dx, dy) pixels."""
        self.heading = (self.heading - dx * ORBIT_DEG_PER_PX) % 360.0
        self.pitch = max(-89.9, min(89.9, self.pitch - dy * ORBIT_DEG_PER_PX))
        self._moved()

    def pan(self, dx: float, dy: float, view_height_px: float) -> None:
        """Slide the target sideways and up so the point under the mouse follows it."""
        per_px = 2.0 * self.distance * math.tan(math.radians(self._vfov() / 2.0)) / max(view_height_px, 1.0)
        quat = self.transform().getQuat()
        self.target = self.target - quat.getRight() * dx * per_px + quat.getUp() * dy * per_px
        self._moved()

    def zoom(self, steps: float) -> None:
        """Move towards the target (positive steps) or away from it."""
        self.distance = max(MIN_DISTANCE, min(MAX_DISTANCE, self.distance * ZOOM_STEP ** steps))
        self._moved()

    def look(self, dx: float, dy: float) -> None:
        """Turn on the spot (fly mode): the camera stays, the target moves around it."""
        eye = self.position()
        self.heading = (self.heading - dx * LOOK_DEG_PER_PX) % 360.0
        self.pitch = max(-89.9, min(89.9, self.pitch - dy * LOOK_DEG_PER_PX))
        node = NodePath("look")
        node.setHpr(self.heading, self.pitch, 0.0)
        self.target = Vec3(eye + node.getQuat().getForward() * self.distance)
        self._moved()

    def fly(self, forward: float, right: float, up: float, seconds: float, speed: float = 8.0) -> None:
        """Move camera and target together (WASD while looking around), ``speed`` metres per second."""
        quat = self.transform().getQuat()
        step = (quat.getForward() * forward + quat.getRight() * right + Vec3(0, 0, 1) * up) * speed * seconds
        self.target = self.target + step
        self._moved()

    def frame(self, center: Point3, radius: float) -> None:
        """Look at a sphere so that it fills most of the view (F)."""
        self.target = Vec3(center)
        half = math.radians(min(self.fov, self._vfov()) / 2.0)
        self.distance = max(MIN_DISTANCE, min(MAX_DISTANCE, max(radius, 0.25) / math.sin(half) * 1.15))
        self._moved()

    def preset(self, name: str) -> None:
        """Jump to ``front``, ``back``, ``side``, ``top`` or ``perspective`` around the same target."""
        self.heading, self.pitch = PRESETS[name]
        self._moved()

    def _vfov(self) -> float:
        return math.degrees(2.0 * math.atan(math.tan(math.radians(self.fov) / 2.0) / max(self.aspect, 1e-6)))


def bounds_of(world: World, ids: list[int]) -> tuple[Point3, float] | None:
    """Centre and radius of what the entities draw (their whole subtrees), in world-root space."""
    low, high = Point3(), Point3()
    found = False
    for eid in ids:
        if not world.exists(eid):
            continue
        node = world.node(eid)
        a, b = Point3(), Point3()
        if node.calcTightBounds(a, b, world.root):
            if not found:
                low, high, found = Point3(a), Point3(b), True
            else:
                low = Point3(min(low.x, a.x), min(low.y, a.y), min(low.z, a.z))
                high = Point3(max(high.x, b.x), max(high.y, b.y), max(high.z, b.z))
        else:
            p = node.getPos(world.root)
            if not found:
                low, high, found = Point3(p), Point3(p), True
            else:
                low = Point3(min(low.x, p.x), min(low.y, p.y), min(low.z, p.z))
                high = Point3(max(high.x, p.x), max(high.y, p.y), max(high.z, p.z))
    if not found:
        return None
    return (low + high) * 0.5, max((high - low).length() * 0.5, 0.25)
