"""The translate gizmo (W): three arrows at the primary selection. Dragging one moves the
selection along that axis only: each mouse move finds the point on the axis line nearest to the
mouse ray and moves the entities (in the world root's space, so parented entities follow the
axis too) by how far that point went.

Snapping: on world axes the primary entity's coordinate on that axis lands on the grid (multiples
of the snap step); on local axes the distance moved is a multiple of the step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from panda3d.core import Lens, Point3, TransformState, Vec3

from editor.gizmo_geometry import (
    Handle,
    axes_for,
    axis_parameter,
    centre_px,
    finish,
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
    """Arrows, hit testing and the move itself."""

    space: str = "world"
    _drag: _Drag | None = field(default=None, repr=False)

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    @property
    def drag_axis(self) -> str:
        return self._drag.axis if self._drag is not None else ""

    @property
    def moved(self) -> float:
        """The distance of the drag in progress (metres)."""
        return self._drag.moved if self._drag is not None else 0.0

    def axes(self, world: "World", eid: int) -> dict[str, Vec3]:
        return axes_for(world, eid, self.space)

    def handles(self, world: "World", eid: int, lens: Lens, camera: TransformState,
                size: tuple[float, float]) -> list[Handle]:
        """The three arrows in view pixels (each ``HANDLE_PX`` long on screen), or none when the
        entity is behind the camera."""
        if not eid or not world.exists(eid):
            return []
        origin = world.node(eid).getPos(world.root)
        start = centre_px(lens, camera, origin, size)
        if start is None:
            return []
        length = world_length(lens, camera, origin, size)
        out = []
        for name, axis in self.axes(world, eid).items():
            tip = project(lens, camera, origin + axis * length)
            if tip is not None:
                out.append(Handle(name, start, to_px(tip, size)))
        return out

    def hit(self, handles: list[Handle], mouse: tuple[float, float]) -> str:
        return hit_handles(handles, mouse)

    def begin(self, world: "World", ids: list[int], axis: str, ray: Ray) -> bool:
        """Start dragging the entities along ``axis`` (of the first one); False when the ray runs along it."""
        movable = outermost(world, [eid for eid in ids if world.exists(eid)])
        if not movable or axis not in AXIS_INDEX:
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
            if self.space == "local":
                moved = round(moved / snap) * snap
            else:  # the primary's world coordinate on that axis lands on the grid
                i = AXIS_INDEX[drag.axis]
                moved = round((drag.origin[i] + moved) / snap) * snap - drag.origin[i]
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
        return finish(world, drag.starts, ("pos",), "move")

    def cancel(self, world: "World") -> None:
        """Stop dragging and put everything back where it was."""
        drag, self._drag = self._drag, None
        if drag is not None:
            restore(world, drag.starts)
