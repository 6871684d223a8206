"""The gizmo and the selection box drawn on the 3D view's drawlist: arrows (translate), rings
(rotate), sticks with square tips and a centre square (scale), the box of a box select, and
during a drag the amount so far (metres, degrees or a factor) beside the gizmo. The items are
made once and moved or hidden afterwards (Dear PyGui dislikes widget churn)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import dearpygui.dearpygui as dpg

from editor.box_select import normalised
from editor.gizmo_geometry import AXIS_COLOURS, Handle

if TYPE_CHECKING:
    from editor.gizmo import Gizmos

HOVER_COLOUR = (255, 235, 80, 255)
BOX_EDGE = (255, 160, 40, 230)
BOX_FILL = (255, 160, 40, 40)
NAMES = ("x", "y", "z", "xyz")


class GizmoOverlay:
    """The drawlist items of the gizmo and the selection box."""

    def __init__(self, drawlist: int | str) -> None:
        self._lines: dict[str, int] = {}
        self._dots: dict[str, int] = {}
        self._squares: dict[str, int] = {}
        for name in NAMES:
            colour = AXIS_COLOURS[name]
            self._lines[name] = dpg.draw_polyline([(0, 0), (0, 0)], color=colour, thickness=3, parent=drawlist,
                                                  show=False)
            self._dots[name] = dpg.draw_circle((0, 0), 6, color=colour, fill=colour, parent=drawlist, show=False)
            self._squares[name] = dpg.draw_rectangle((0, 0), (1, 1), color=colour, fill=colour, parent=drawlist,
                                                     show=False)
        self._box = dpg.draw_rectangle((0, 0), (1, 1), color=BOX_EDGE, fill=BOX_FILL, thickness=1, parent=drawlist,
                                       show=False)
        self._amount = dpg.draw_text((0, 0), "", color=(255, 255, 255, 235), size=15, parent=drawlist, show=False)

    def draw(self, handles: list[Handle], active: str, gizmos: "Gizmos",
             box: tuple[float, float, float, float] | None) -> None:
        shown = {h.axis: h for h in handles}
        for name in NAMES:
            handle = shown.get(name)
            line, dot, square = self._lines[name], self._dots[name], self._squares[name]
            if handle is None:
                for item in (line, dot, square):
                    dpg.configure_item(item, show=False)
                continue
            colour = HOVER_COLOUR if name == active else AXIS_COLOURS[name]
            points = list(handle.points) if handle.kind == "ring" else [handle.start, handle.end]
            dpg.configure_item(line, points=points, color=colour, show=handle.kind != "box",
                               thickness=4 if name == active else 3)
            dpg.configure_item(dot, center=handle.end, color=colour, fill=colour, show=handle.kind == "arrow")
            tip = handle.start if handle.kind == "box" else handle.end
            half = 6 if handle.kind == "box" else 5
            dpg.configure_item(square, pmin=(tip[0] - half, tip[1] - half), pmax=(tip[0] + half, tip[1] + half),
                               color=colour, fill=colour, show=handle.kind in ("stick", "box"))
        self._draw_amount(handles, gizmos)
        if box is None:
            dpg.configure_item(self._box, show=False)
        else:
            x0, y0, x1, y1 = normalised(box)
            dpg.configure_item(self._box, pmin=(x0, y0), pmax=(x1, y1), show=True)

    def _draw_amount(self, handles: list[Handle], gizmos: "Gizmos") -> None:
        gizmo = gizmos.current
        if not gizmos.dragging or not handles:
            dpg.configure_item(self._amount, show=False)
            return
        if gizmos.tool == "rotate":
            text = f"{gizmo.angle:+.1f} deg"  # type: ignore[union-attr]
        elif gizmos.tool == "scale":
            text = f"x {gizmo.factor:.3f}"  # type: ignore[union-attr]
        else:
            text = f"{gizmo.moved:+.3f} m"  # type: ignore[union-attr]
        x = max(h.start[0] for h in handles) + 14
        y = min(h.start[1] for h in handles) - 24
        dpg.configure_item(self._amount, text=text, pos=(x, y), show=True)
