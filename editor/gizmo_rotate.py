"""The rotate gizmo (E): three rings around the primary selection, each in the plane at right
angles to its axis (the world's axes, or the primary entity's own in local space). Dragging a
ring turns the selection about that axis through the primary's origin: each mouse move meets the
ring's plane with the mouse ray, and the signed angle between where the drag started and where
the mouse is now (summed move by move, so it can pass 180 degrees) is the turn. Several selected
entities turn about the same pivot, their positions swinging round it.

Orientations are composed as quaternions in the world root's space, so a parented entity (under
a turned or scaled parent) turns about the world (or its own) axis all the same; the command
stores its new local pos and hpr. Snapping rounds the angle to the angle step (15 degrees by
default). A ring seen almost edge-on (its plane nearly along the mouse ray) cannot be met by the
ray reliably: such a drag turns by the mouse's sideways travel instead (half a degree a pixel,
right and up turn positively).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from panda3d.core import Lens, Point3, Quat, TransformState, Vec3

from editor.gizmo_geometry import Handle, axes_for, finish, outermost, plane_point, restore, to_px, world_length
from editor.gizmo_geometry import hit as hit_handles
from editor.picking import Ray, project
from engine.core.commands import Command

if TYPE_CHECKING:
    from engine.core.world import World

RING_SEGMENTS = 48
RING_SCALE = 0.85  # of the arrow length
EDGE_ON = 0.08      # |cos| between the mouse ray and the ring's plane normal below which a ring is edge-on
DEG_PER_PX = 0.5    # an edge-on ring's turn per pixel of mouse travel


def _perpendiculars(axis: Vec3) -> tuple[Vec3, Vec3]:
    helper = Vec3(0, 0, 1) if abs(axis.z) < 0.9 else Vec3(1, 0, 0)
    u = axis.cross(helper)
    u.normalize()
    v = axis.cross(u)
    v.normalize()
    return u, v


def signed_angle(a: Vec3, b: Vec3, axis: Vec3) -> float:
    """The angle in degrees that turns ``a`` onto ``b`` about ``axis`` (right-handed, -180..180)."""
    return math.degrees(math.atan2(axis.dot(a.cross(b)), a.dot(b)))


@dataclass
class _Drag:
    axis: str
    direction: Vec3
    pivot: Point3
    last: Vec3                           # pivot -> where the ray met the plane, last move
    starts: dict[int, TransformState]    # local transforms before the drag
    world_quats: dict[int, Quat]
    world_pos: dict[int, Point3]
    turned: float = 0.0                  # degrees, unsnapped
    angle: float = 0.0                   # degrees shown (snapped when snapping)
    mouse: tuple[float, float] | None = None  # edge-on: where the mouse was pressed


@dataclass
class RotateGizmo:
    """Rings, hit testing and the turn itself."""

    space: str = "world"
    _drag: _Drag | None = field(default=None, repr=False)

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    @property
    def drag_axis(self) -> str:
        return self._drag.axis if self._drag is not None else ""

    @property
    def angle(self) -> float:
        """The turn of the drag in progress, in degrees."""
        return self._drag.angle if self._drag is not None else 0.0

    def handles(self, world: "World", eid: int, lens: Lens, camera: TransformState,
                size: tuple[float, float]) -> list[Handle]:
        """The three rings as polylines in view pixels (points behind the camera left out)."""
        if not eid or not world.exists(eid):
            return []
        origin = world.node(eid).getPos(world.root)
        centre = project(lens, camera, origin)
        if centre is None:
            return []
        radius = world_length(lens, camera, origin, size) * RING_SCALE
        out = []
        for name, axis in axes_for(world, eid, self.space).items():
            u, v = _perpendiculars(axis)
            points = []
            for i in range(RING_SEGMENTS + 1):
                t = 2.0 * math.pi * i / RING_SEGMENTS
                film = project(lens, camera, origin + (u * math.cos(t) + v * math.sin(t)) * radius)
                if film is not None:
                    points.append(to_px(film, size))
            if len(points) > 2:
                out.append(Handle(name, points[0], points[1], "ring", tuple(points)))
        return out

    def hit(self, handles: list[Handle], mouse: tuple[float, float]) -> str:
        return hit_handles(handles, mouse)

    def begin(self, world: "World", ids: list[int], axis: str, ray: Ray,
              mouse: tuple[float, float] | None = None) -> bool:
        """Start turning the entities about ``axis`` (of the first one); an edge-on ring turns by
        the mouse's travel from ``mouse`` (without it, such a drag does not start)."""
        movable = outermost(world, [eid for eid in ids if world.exists(eid)])
        axes = axes_for(world, ids[0], self.space) if movable else {}
        if axis not in axes:
            return False
        direction = axes[axis]
        pivot = world.node(ids[0]).getPos(world.root)
        met = plane_point(pivot, direction, ray)
        edge_on = abs(ray.direction.dot(direction)) < EDGE_ON or met is None or (met - pivot).length() < 1e-6
        if edge_on and mouse is None:
            return False
        self._drag = _Drag(axis, direction, pivot, Vec3(0, 0, 0) if edge_on else Vec3(met - pivot),
                           {eid: world.node(eid).getTransform() for eid in movable},
                           {eid: world.node(eid).getQuat(world.root) for eid in movable},
                           {eid: world.node(eid).getPos(world.root) for eid in movable},
                           mouse=mouse if edge_on else None)
        return True

    def drag(self, world: "World", ray: Ray, snap: float = 0.0, mouse: tuple[float, float] | None = None) -> float:
        """Turn the entities (a preview) to follow the mouse ray; ``snap`` in degrees; returns the angle."""
        drag = self._drag
        if drag is None:
            return 0.0
        met = plane_point(drag.pivot, drag.direction, ray) if drag.mouse is None else None
        if drag.mouse is not None:
            if mouse is not None:
                drag.turned = ((mouse[0] - drag.mouse[0]) - (mouse[1] - drag.mouse[1])) * DEG_PER_PX
        elif met is not None and (met - drag.pivot).length() > 1e-6:
            now = Vec3(met - drag.pivot)
            drag.turned += signed_angle(drag.last, now, drag.direction)
            drag.last = now
        angle = round(drag.turned / snap) * snap if snap > 0.0 else drag.turned
        drag.angle = angle
        self._apply(world, drag, angle)
        return angle

    @staticmethod
    def _apply(world: "World", drag: _Drag, angle: float) -> None:
        turn = Quat()
        turn.setFromAxisAngle(angle, drag.direction)
        for eid, quat in drag.world_quats.items():
            if not world.exists(eid):
                continue
            node = world.node(eid)
            node.setQuat(world.root, quat * turn)  # Panda3D composes left to right: first quat, then the turn
            offset = drag.world_pos[eid] - drag.pivot
            node.setPos(world.root, drag.pivot + turn.xform(offset))

    def end(self, world: "World") -> Command | None:
        drag, self._drag = self._drag, None
        if drag is None:
            return None
        return finish(world, drag.starts, ("pos", "hpr"), "rotate")

    def cancel(self, world: "World") -> None:
        drag, self._drag = self._drag, None
        if drag is not None:
            restore(world, drag.starts)
