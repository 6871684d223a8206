"""What the three gizmos (translate, rotate, scale) share: handles in view pixels and their hit
test, the size a handle has in the world, the nearest point on an axis to a mouse ray, which of
the selected entities move (the outermost ones), and the one command a finished drag makes.

A drag previews by moving nodes directly (nothing recorded); ``finish`` puts the nodes back and
returns one ``SetTransform`` per moved entity (a ``Transaction`` of them for several), so a whole
drag is one undo step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from panda3d.core import Lens, Point3, TransformState, Vec3

from editor.picking import Ray, project
from engine.core.commands import Command, Transaction
from engine.core.edit_commands import SetTransform
from engine.core.fields import f32

if TYPE_CHECKING:
    from engine.core.world import World

AXES = {"x": Vec3(1, 0, 0), "y": Vec3(0, 1, 0), "z": Vec3(0, 0, 1)}
AXIS_COLOURS = {"x": (235, 70, 70, 255), "y": (90, 210, 90, 255), "z": (80, 140, 255, 255),
                "xyz": (230, 230, 230, 255)}
HANDLE_PX = 90.0
HIT_PX = 9.0
PARTS = ("pos", "hpr", "scale")


@dataclass(frozen=True)
class Handle:
    """One handle in view pixels: an arrow (``start`` to ``end``), a ring (the closed polyline
    ``points``), a scale stick (arrow with a square tip) or a box (a square at ``start``)."""

    axis: str
    start: tuple[float, float]
    end: tuple[float, float]
    kind: str = "arrow"  # arrow, ring, stick, box
    points: tuple[tuple[float, float], ...] = ()

    def distance(self, p: tuple[float, float]) -> float:
        if self.kind == "box":
            return max(abs(p[0] - self.start[0]), abs(p[1] - self.start[1])) - 6.0
        if self.kind == "ring":
            pts = self.points
            return min((segment_distance(p, pts[i], pts[i + 1]) for i in range(len(pts) - 1)), default=1e9)
        return segment_distance(p, self.start, self.end)


def to_px(film: tuple[float, float], size: tuple[float, float]) -> tuple[float, float]:
    return ((film[0] + 1.0) * 0.5 * size[0], (1.0 - film[1]) * 0.5 * size[1])


def segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = b[0] - a[0], b[1] - a[1]
    length2 = ax * ax + ay * ay
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * ax + (p[1] - a[1]) * ay) / length2))
    cx, cy = a[0] + t * ax, a[1] + t * ay
    return math.hypot(p[0] - cx, p[1] - cy)


def hit(handles: Iterable[Handle], mouse: tuple[float, float]) -> str:
    """The axis whose handle is under the mouse ('' for none); a box first, then the nearest."""
    best, best_d = "", HIT_PX
    for handle in handles:
        d = handle.distance(mouse)
        if handle.kind == "box" and d <= 0.0:
            return handle.axis
        if d <= best_d:
            best, best_d = handle.axis, d
    return best


def axis_parameter(origin: Point3, axis: Vec3, ray: Ray) -> float | None:
    """How far along ``axis`` (from ``origin``) lies the axis point nearest to the ray; None when
    the ray runs along the axis."""
    w0 = origin - ray.origin
    a, b, c = axis.dot(axis), axis.dot(ray.direction), ray.direction.dot(ray.direction)
    d, e = axis.dot(w0), ray.direction.dot(w0)
    denom = a * c - b * b
    if abs(denom) < 1e-9:
        return None
    return (b * e - c * d) / denom


def plane_point(origin: Point3, normal: Vec3, ray: Ray) -> Point3 | None:
    """Where the ray meets the plane through ``origin`` with ``normal``; None when it runs along it
    (or the plane is behind the camera)."""
    along = ray.direction.dot(normal)
    if abs(along) < 1e-4:
        return None
    s = (origin - ray.origin).dot(normal) / along
    return ray.origin + ray.direction * s if s > 0 else None


def world_length(lens: Lens, camera: TransformState, origin: Point3, size: tuple[float, float]) -> float:
    """A world length that looks ``HANDLE_PX`` long at the origin's distance from the camera."""
    distance = max((origin - camera.getPos()).length(), 1e-3)
    fov = math.radians(lens.getFov()[1])
    return 2.0 * distance * math.tan(fov / 2.0) * HANDLE_PX / max(size[1], 1.0)


def local_axes(world: "World", eid: int) -> dict[str, Vec3]:
    """The entity's own axes in the world root's space (unit length)."""
    quat = world.node(eid).getQuat(world.root)
    out = {}
    for name, axis in AXES.items():
        v = quat.xform(axis)
        v.normalize()
        out[name] = v
    return out


def axes_for(world: "World", eid: int, space: str) -> dict[str, Vec3]:
    return local_axes(world, eid) if space == "local" else {k: Vec3(v) for k, v in AXES.items()}


def centre_px(lens: Lens, camera: TransformState, origin: Point3,
              size: tuple[float, float]) -> tuple[float, float] | None:
    film = project(lens, camera, origin)
    return None if film is None else to_px(film, size)


def outermost(world: "World", ids: list[int]) -> list[int]:
    """The entities with no selected ancestor (a selected child moves with its selected parent)."""
    chosen = set(ids)
    out = []
    for eid in ids:
        parent = world.parent_of(eid)
        while parent and parent not in chosen:
            parent = world.parent_of(parent)
        if not parent:
            out.append(eid)
    return out


def _vec(v: Vec3 | Point3) -> list[float]:
    """A vector as the command stores it: rounded to 1e-5 (a 45 degree turn is stored as 45, not
    45.000003, the float noise of composing quaternions), then to 32-bit floats."""
    return [f32(round(v.x, 5)) + 0.0, f32(round(v.y, 5)) + 0.0, f32(round(v.z, 5)) + 0.0]


def finish(world: "World", starts: dict[int, TransformState], parts: tuple[str, ...], name: str) -> Command | None:
    """Put every previewed node back to its start and return the one command that makes the
    change (None when nothing changed). ``parts`` are the transform parts the gizmo changes."""
    commands: list[Command] = []
    for eid, start in starts.items():
        if not world.exists(eid):
            continue
        node = world.node(eid)
        now = {"pos": _vec(node.getPos()), "hpr": _vec(node.getHpr()), "scale": _vec(node.getScale())}
        node.setTransform(start)
        before = {"pos": _vec(start.getPos()), "hpr": _vec(start.getHpr()), "scale": _vec(start.getScale())}
        changed = {part: now[part] for part in parts if now[part] != before[part]}
        if changed:
            commands.append(SetTransform(eid, **changed))
    if not commands:
        return None
    return commands[0] if len(commands) == 1 else Transaction(f"{name} {len(commands)} entities", commands)


def restore(world: "World", starts: dict[int, TransformState]) -> None:
    for eid, start in starts.items():
        if world.exists(eid):
            world.node(eid).setTransform(start)
