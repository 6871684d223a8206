"""The gizmos of the 3D view: translate (W), rotate (E) and scale (R), drawn by the view panel on
top of the image (Dear PyGui has no gizmo library: these are lines on its drawlist).

``Gizmos`` is the one the session holds: it knows which tool is chosen, whether axes are the
world's or the primary entity's own (pressing the key of the chosen tool again switches), and the
snap steps (the preferences: ``snap_step`` metres, ``snap_angle`` degrees, ``snap_scale`` as a
factor step; ``snap_on`` says whether snapping is on, and holding Ctrl turns it the other way for
the drag). Each tool lives in its own module (``gizmo_translate``, ``gizmo_rotate``,
``gizmo_scale``); a drag previews by moving nodes and its release makes one command, so a whole
drag is one undo step.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from panda3d.core import Lens, TransformState

from editor.gizmo_geometry import AXES, AXIS_COLOURS, HANDLE_PX, Handle, axis_parameter, outermost
from editor.gizmo_rotate import RotateGizmo
from editor.gizmo_scale import ScaleGizmo
from editor.gizmo_translate import TranslateGizmo
from editor.picking import Ray
from engine.core.commands import Command

if TYPE_CHECKING:
    from engine.core.world import World

__all__ = ["AXES", "AXIS_COLOURS", "HANDLE_PX", "Gizmos", "Handle", "RotateGizmo", "ScaleGizmo", "TranslateGizmo",
           "axis_parameter", "_outermost"]
_outermost = outermost
TOOLS = ("translate", "rotate", "scale")
VERBS = {"translate": "move", "rotate": "rotate", "scale": "scale"}


class Gizmos:
    """The chosen gizmo, the world / local switch and snapping."""

    def __init__(self, prefs: Any = None) -> None:
        self.prefs = prefs  # editor.settings.Preferences (snap steps); None: defaults
        self.tools = {"translate": TranslateGizmo(), "rotate": RotateGizmo(), "scale": ScaleGizmo()}
        self.tool = "translate"
        self._space = "world"

    @property
    def current(self) -> TranslateGizmo | RotateGizmo | ScaleGizmo:
        return self.tools[self.tool]

    @property
    def space(self) -> str:
        return self._space

    @space.setter
    def space(self, value: str) -> None:
        if value not in ("world", "local"):
            raise ValueError(f"space is 'world' or 'local', not {value!r}")
        self._space = value
        self.tools["translate"].space = value
        self.tools["rotate"].space = value

    def choose(self, tool: str) -> str:
        """Pick a tool (W/E/R); picking the chosen one again switches world / local. Returns what
        changed, for the status line."""
        if tool not in TOOLS:
            raise ValueError(f"tool is one of {', '.join(TOOLS)}, not {tool!r}")
        if self.dragging:
            return ""
        if tool == self.tool:
            self.space = "local" if self.space == "world" else "world"
            return f"gizmo axes: {self.space}" + (" (scale is always along the entity's own axes)"
                                                   if tool == "scale" else "")
        self.tool = tool
        return f"{tool} gizmo ({self.space} axes)"

    # -- snapping ------------------------------------------------------------------------------------
    def snapping(self, ctrl: bool) -> bool:
        """Whether this drag snaps: the preference, turned the other way while Ctrl is held."""
        return bool(getattr(self.prefs, "snap_on", False)) != ctrl

    def step(self) -> float:
        """The snap step of the chosen tool (metres, degrees or a factor)."""
        name = {"translate": "snap_step", "rotate": "snap_angle", "scale": "snap_scale"}[self.tool]
        return float(getattr(self.prefs, name, {"snap_step": 0.5, "snap_angle": 15.0, "snap_scale": 0.1}[name]))

    # -- the drag --------------------------------------------------------------------------------------
    @property
    def dragging(self) -> bool:
        return any(tool.dragging for tool in self.tools.values())

    @property
    def drag_axis(self) -> str:
        return next((tool.drag_axis for tool in self.tools.values() if tool.dragging), "")

    @property
    def verb(self) -> str:
        return VERBS[self.tool]

    def handles(self, world: "World", eid: int, lens: Lens, camera: TransformState,
                size: tuple[float, float]) -> list[Handle]:
        return self.current.handles(world, eid, lens, camera, size)

    def hit(self, handles: list[Handle], mouse: tuple[float, float]) -> str:
        return self.current.hit(handles, mouse)

    def begin(self, world: "World", ids: list[int], axis: str, ray: Ray, mouse: tuple[float, float] = (0, 0)) -> bool:
        gizmo = self.current
        if isinstance(gizmo, TranslateGizmo):
            return gizmo.begin(world, ids, axis, ray)
        return gizmo.begin(world, ids, axis, ray, mouse)

    def drag(self, world: "World", ray: Ray, mouse: tuple[float, float] | None = None, snap: bool = False) -> float:
        """Follow the mouse; returns the distance (m), angle (degrees) or factor of the drag so far."""
        gizmo = self.current
        step = self.step() if snap else 0.0
        if isinstance(gizmo, TranslateGizmo):
            return gizmo.drag(world, ray, step)
        return gizmo.drag(world, ray, step, mouse)

    def end(self, world: "World") -> Command | None:
        out = None
        for tool in self.tools.values():
            if tool.dragging:
                out = tool.end(world)
        return out

    def cancel(self, world: "World") -> None:
        for tool in self.tools.values():
            tool.cancel(world)
