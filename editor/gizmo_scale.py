"""The scale gizmo (R): three sticks with square tips along the primary entity's own axes and a
square at its origin. Dragging a stick scales the selection along that axis: the factor is how
far the point on the axis nearest to the mouse ray now lies from the origin, over how far it lay
when the drag began. Dragging the centre square scales uniformly (right or up: larger, 1% a
pixel). Each entity scales about its own origin, along its own axes.

Scale is always along the entity's own axes, whatever the world / local switch says: a scale
along a world axis of a turned entity would shear it, which a pos/hpr/scale transform cannot
hold. Snapping rounds the factor to the scale step (0.1 by default: 10% steps).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from panda3d.core import Lens, Point3, TransformState, Vec3

from editor.gizmo_geometry import (
    Handle,
    axis_parameter,
    centre_px,
    finish,
    local_axes,
    outermost,
    restore,
    to_px,
    world_length,
)
from editor.gizmo_geometry import hit as hit_handles
from editor.picking import Ray, project
from engine.core.commands import Command

if TYPE_CHECKING:
    from engine.core.world import World

AXIS_INDEX = {"x": 0, "y": 1, "z": 2}
MIN_FACTOR = 0.001
UNIFORM_PER_PX = 0.01


@dataclass
class _Drag:
    axis: str
    direction: Vec3
    origin: Point3
    start_t: float
    mouse: tuple[float, float]
    starts: dict[int, TransformState]
    factor: float = 1.0


@dataclass
class ScaleGizmo:
    """Sticks, the centre square, hit testing and the scaling itself."""

    space: str = "local"  # shown for symmetry with the other gizmos: scale is always local
    _drag: _Drag | None = field(default=None, repr=False)

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    @property
    def drag_axis(self) -> str:
        return self._drag.axis if self._drag is not None else ""

    @property
    def factor(self) -> float:
        return self._drag.factor if self._drag is not None else 1.0

    def handles(self, world: "World", eid: int, lens: Lens, camera: TransformState,
                size: tuple[float, float]) -> list[Handle]:
        if not eid or not world.exists(eid):
            return []
        origin = world.node(eid).getPos(world.root)
        start = centre_px(lens, camera, origin, size)
        if start is None:
            return []
        length = world_length(lens, camera, origin, size)
        out = [Handle("xyz", start, start, "box")]
        for name, axis in local_axes(world, eid).items():
            tip = project(lens, camera, origin + axis * length)
            if tip is not None:
                out.append(Handle(name, start, to_px(tip, size), "stick"))
        return out

    def hit(self, handles: list[Handle], mouse: tuple[float, float]) -> str:
        return hit_handles(handles, mouse)

    def begin(self, world: "World", ids: list[int], axis: str, ray: Ray,
              mouse: tuple[float, float] = (0.0, 0.0)) -> bool:
        movable = outermost(world, [eid for eid in ids if world.exists(eid)])
        if not movable or (axis not in AXIS_INDEX and axis != "xyz"):
            return False
        origin = world.node(ids[0]).getPos(world.root)
        direction, t = Vec3(0, 0, 0), 1.0
        if axis != "xyz":
            direction = local_axes(world, ids[0])[axis]
            found = axis_parameter(origin, direction, ray)
            if found is None or abs(found) < 1e-6:
                return False
            t = found
        self._drag = _Drag(axis, direction, origin, t, mouse, {eid: world.node(eid).getTransform() for eid in movable})
        return True

    def drag(self, world: "World", ray: Ray, snap: float = 0.0, mouse: tuple[float, float] | None = None) -> float:
        """Scale the entities (a preview); ``snap`` rounds the factor; returns the factor."""
        drag = self._drag
        if drag is None:
            return 1.0
        if drag.axis == "xyz":
            if mouse is None:
                return drag.factor
            factor = 1.0 + ((mouse[0] - drag.mouse[0]) - (mouse[1] - drag.mouse[1])) * UNIFORM_PER_PX
        else:
            t = axis_parameter(drag.origin, drag.direction, ray)
            if t is None:
                return drag.factor
            factor = t / drag.start_t
        if snap > 0.0:
            factor = round(factor / snap) * snap
        factor = max(factor, snap if snap > 0.0 else MIN_FACTOR)
        drag.factor = factor
        for eid, start in drag.starts.items():
            if not world.exists(eid):
                continue
            scale = Vec3(start.getScale())
            if drag.axis == "xyz":
                scale *= factor
            else:
                scale[AXIS_INDEX[drag.axis]] *= factor
            world.node(eid).setScale(scale)
        return factor

    def end(self, world: "World") -> Command | None:
        drag, self._drag = self._drag, None
        if drag is None:
            return None
        return finish(world, drag.starts, ("scale",), "scale")

    def cancel(self, world: "World") -> None:
        drag, self._drag = self._drag, None
        if drag is not None:
            restore(world, drag.starts)
