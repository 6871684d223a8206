"""The translate gizmo (W): three axis handles at the primary selection, drawn by the view panel
on top of the image (Dear PyGui has no gizmo library; these are lines on its drawlist).

Dragging a handle moves the selection along that axis only: each mouse move finds the point on
the axis line nearest to the mouse ray and moves the entities by how far that point went. While
dragging, nodes move directly (a preview, nothing recorded); on release the nodes go back and
one command (``SetTransform``, or a ``Transaction`` of them for several entities) makes the move,
so it is one undoable step. Holding Ctrl snaps the distance to the snap step. Axes are the
world's, or (``space = "local"``) the primary entity's own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from panda3d.core import Lens, Point3, TransformState, Vec3

from editor.picking import Ray, project
from engine.core.commands import Command, Transaction
from engine.core.edit_commands import SetTransform
from engine.core.fields import f32

if TYPE_CHECKING:
    from engine.core.world import World

AXES = {"x": Vec3(1, 0, 0), "y": Vec3(0, 1, 0), "z": Vec3(0, 0, 1)}
AXIS_COLOURS = {"x": (235, 70, 70, 255), "y": (90, 210, 90, 255), "z": (80, 140, 255, 255)}
HANDLE_PX = 90.0
HIT_PX = 9.0


@dataclass(frozen=True)
class Handle:
    axis: str
    start: tuple[float, float]  # view pixels
    end: tuple[float, float]


def _to_px(film: tuple[float, float], size: tuple[float, float]) -> tuple[float, float]:
    return ((film[0] + 1.0) * 0.5 * size[0], (1.0 - film[1]) * 0.5 * size[1])


def _segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = b[0] - a[0], b[1] - a[1]
    length2 = ax * ax + ay * ay
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * ax + (p[1] - a[1]) * ay) / length2))
    cx, cy = a[0] + t * ax, a[1] + t * ay
    return math.hypot(p[0] - cx, p[1] - cy)


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


@dataclass
class _Drag:
    axis: str
    direction: Vec3
    origin: Point3
    start_t: float
    starts: dict[int, TransformState]   # local transforms before the drag
    world_starts: dict[int, Point3]
    moved: float = 0.0


@dataclass
class TranslateGizmo:
    """Handles, hit testing and the drag itself."""

    space: str = "world"
    _drag: _Drag | None = field(default=None, repr=False)

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    @property
    def drag_axis(self) -> str:
        return self._drag.axis if self._drag is not None else ""

    def axes(self, world: "World", eid: int) -> dict[str, Vec3]:
        if self.space != "local":
            return dict(AXES)
        quat = world.node(eid).getQuat(world.root)
        out = {}
        for name, axis in AXES.items():
            v = quat.xform(axis)
            v.normalize()
            out[name] = v
        return out

    def handles(self, world: "World", eid: int, lens: Lens, camera: TransformState,
                size: tuple[float, float]) -> list[Handle]:
        """The three handles in view pixels (each ``HANDLE_PX`` long on screen), or none when the
        entity is behind the camera."""
        if not eid or not world.exists(eid):
            return []
        origin = world.node(eid).getPos(world.root)
        centre = project(lens, camera, origin)
        if centre is None:
            return []
        # a world length that looks HANDLE_PX long at the origin's distance
        eye = camera.getPos()
        distance = max((origin - eye).length(), 1e-3)
        fov = math.radians(lens.getFov()[1])
        world_len = 2.0 * distance * math.tan(fov / 2.0) * HANDLE_PX / max(size[1], 1.0)
        start = _to_px(centre, size)
        out = []
        for name, axis in self.axes(world, eid).items():
            tip = project(lens, camera, origin + axis * world_len)
            if tip is None:
                continue
            out.append(Handle(name, start, _to_px(tip, size)))
        return out

    def hit(self, handles: list[Handle], mouse: tuple[float, float]) -> str:
        """The axis whose handle is under the mouse ('' for none); the nearest wins."""
        best, best_d = "", HIT_PX
        for handle in handles:
            d = _segment_distance(mouse, handle.start, handle.end)
            if d <= best_d:
                best, best_d = handle.axis, d
        return best

    def begin(self, world: "World", ids: list[int], axis: str, ray: Ray) -> bool:
        """Start dragging the entities along ``axis`` (of the first one); False when the ray runs along it."""
        movable = _outermost(world, [eid for eid in ids if world.exists(eid)])
        if not movable:
            return False
        direction = self.axes(world, ids[0])[axis]
        origin = world.node(ids[0]).getPos(world.root)
        t = axis_parameter(origin, direction, ray)
        if t is None:
            return False
        self._drag = _Drag(axis, direction, origin, t,
                           {eid: world.node(eid).getTransform() for eid in movable},
                           {eid: world.node(eid).getPos(world.root) for eid in movable})
        return True

    def drag(self, world: "World", ray: Ray, snap: float = 0.0) -> float:
        """Move the entities (a preview) to follow the mouse ray; returns the distance moved."""
        drag = self._drag
        if drag is None:
            return 0.0
        t = axis_parameter(drag.origin, drag.direction, ray)
        if t is None:
            return drag.moved
        moved = t - drag.start_t
        if snap > 0.0:
            moved = round(moved / snap) * snap
        drag.moved = moved
        for eid, start in drag.world_starts.items():
            if world.exists(eid):
                world.node(eid).setPos(world.root, start + drag.direction * moved)
        return moved

    def end(self, world: "World") -> Command | None:
        """Finish: put the nodes back and return the one command that moves them (None: no move)."""
        drag, self._drag = self._drag, None
        if drag is None:
            return None
        commands: list[Command] = []
        for eid, start in drag.starts.items():
            if not world.exists(eid):
                continue
            node = world.node(eid)
            pos = node.getPos()
            node.setTransform(start)
            if drag.moved != 0.0:
                commands.append(SetTransform(eid, pos=[f32(pos.x), f32(pos.y), f32(pos.z)]))
        if not commands:
            return None
        return commands[0] if len(commands) == 1 else Transaction(f"move {len(commands)} entities", commands)

    def cancel(self, world: "World") -> None:
        """Stop dragging and put everything back where it was."""
        drag, self._drag = self._drag, None
        if drag is not None:
            for eid, start in drag.starts.items():
                if world.exists(eid):
                    world.node(eid).setTransform(start)


def _outermost(world: "World", ids: list[int]) -> list[int]:
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
