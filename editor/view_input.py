"""What the mouse and keys do in the 3D view, in view pixels (x right, y down from the view's
top-left corner). The view panel feeds real input here; the scripting driver feeds made-up
input here; both go through the same code.

Left button: a click (press and release within a few pixels) picks what is under the mouse
(shift adds to the selection); a drag that starts on empty space draws a box and selects what is
inside it (``box_select``; shift adds); a press on a gizmo handle drags it (snapping as the
preferences say, Ctrl turns snapping the other way) and its release makes one command; Alt+drag
orbits. Hidden and locked entities (``visibility``) are neither picked nor boxed, and a locked
one gets no gizmo. Middle drag orbits, Shift+middle pans. Right
drag looks around; WASD, Q and E fly while it is held. The wheel zooms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from editor.box_select import Rect, entities_in_rect
from editor.gizmo import Handle
from editor.picking import Ray, film_point, pick, view_ray
from editor.selection import apply_click

if TYPE_CHECKING:
    from editor.session import Session

LEFT, RIGHT, MIDDLE = 0, 1, 2
CLICK_SLOP_PX = 4.0


@dataclass
class _Press:
    button: int
    x: float
    y: float
    mode: str  # click, box, gizmo, orbit, pan, look
    last: tuple[float, float]
    moved: float = 0.0


class ViewController:
    """Turns view-pixel input into camera moves, picks and gizmo drags."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.size = (1.0, 1.0)
        self._press: _Press | None = None
        self.last_pick = 0
        self.hover_axis = ""
        self.overlay_version = 0  # grows when the box rectangle changes (the panel redraws its overlay)

    # -- geometry -------------------------------------------------------------------------------------
    def ray(self, x: float, y: float) -> Ray:
        renderer = self.session.renderer
        return view_ray(renderer.lens, self.session.camera.transform(), film_point(x, y, *self.size))

    def handles(self) -> list[Handle]:
        session = self.session
        primary = session.selection.primary
        if (session.play.playing or not primary or session.document is None or session.read_only
                or not session.world.exists(primary)):
            return []   # no gizmo while Play runs or on a read-only document
        if not session.marks.pickable(session.world, primary):
            return []  # locked (or hidden): no gizmo
        return session.gizmo.handles(session.world, primary, session.renderer.lens, session.camera.transform(),
                                     self.size)

    def pickable(self, eid: int) -> bool:
        return self.session.marks.pickable(self.session.world, eid)

    def pick_at(self, x: float, y: float) -> int:
        hit = pick(self.session.world, self.ray(x, y), self.pickable)
        return hit.entity if hit is not None else 0

    def movable(self) -> list[int]:
        """The selected entities a gizmo may move (not the locked or hidden ones)."""
        return [eid for eid in self.session.selection.ids if self.pickable(eid)]

    @property
    def box(self) -> Rect | None:
        """The box being drawn (view pixels), or None."""
        press = self._press
        if press is None or press.mode != "box":
            return None
        return (press.x, press.y, press.last[0], press.last[1])

    def box_select(self, rect: Rect, add: bool = False) -> list[int]:
        """Select what lies inside ``rect`` (Shift: add to the selection); returns what was inside."""
        session = self.session
        if session.document is None:
            return []
        found = entities_in_rect(session.world, session.renderer.lens, session.camera.transform(), self.size, rect,
                                 self.pickable)
        if add:
            session.selection.set(session.selection.ids + [eid for eid in found if eid not in session.selection])
        else:
            session.selection.set(found)
        return found

    # -- input ----------------------------------------------------------------------------------------
    def press(self, button: int, x: float, y: float, *, shift: bool = False, ctrl: bool = False,
              alt: bool = False) -> None:
        if self._press is not None:
            return
        mode = "click"
        if button == LEFT:
            axis = "" if alt else self.session.gizmo.hit(self.handles(), (x, y))
            if alt:
                mode = "orbit"
            elif axis and self.movable() and self.session.gizmo.begin(self.session.world, self.movable(), axis,
                                                                       self.ray(x, y), (x, y)):
                mode = "gizmo"
        elif button == MIDDLE:
            mode = "pan" if shift else "orbit"
        elif button == RIGHT:
            mode = "look"
        self._press = _Press(button, x, y, mode, (x, y))

    def move(self, x: float, y: float, *, shift: bool = False, ctrl: bool = False) -> None:
        press = self._press
        if press is None:
            self.hover_axis = self.session.gizmo.hit(self.handles(), (x, y)) if self.session.document else ""
            return
        dx, dy = x - press.last[0], y - press.last[1]
        press.last = (x, y)
        press.moved = max(press.moved, abs(x - press.x) + abs(y - press.y))
        camera = self.session.camera
        if press.mode == "click" and press.button == LEFT and press.moved > CLICK_SLOP_PX and self.session.document:
            press.mode = "box"
        if press.mode == "box":
            self.overlay_version += 1
            return
        if press.mode == "gizmo":
            gizmo = self.session.gizmo
            gizmo.drag(self.session.world, self.ray(x, y), (x, y), gizmo.snapping(ctrl))
        elif press.mode == "orbit":
            camera.orbit(dx, dy)
        elif press.mode == "pan":
            camera.pan(dx, dy, self.size[1])
        elif press.mode == "look":
            camera.look(dx, dy)
        else:
            return
        self.session.renderer.request()

    def release(self, button: int, x: float, y: float, *, shift: bool = False, ctrl: bool = False) -> None:
        press = self._press
        if press is None or press.button != button:
            return
        self.move(x, y, shift=shift, ctrl=ctrl)
        self._press = None
        session = self.session
        if press.mode == "gizmo":
            axis, verb = session.gizmo.drag_axis, session.gizmo.verb
            command = session.gizmo.end(session.world)
            if command is not None:
                session.try_do(command, f"{verb} along {axis}" if axis != "xyz" else f"{verb} uniformly")
            session.renderer.request()
        elif press.mode == "box":
            self.box_select((press.x, press.y, x, y), add=shift)
            self.overlay_version += 1
        elif press.mode == "click" and button == LEFT and press.moved <= CLICK_SLOP_PX and session.document:
            self.last_pick = self.pick_at(x, y)
            apply_click(session.world, session.selection, self.last_pick, add=shift)

    def cancel(self) -> None:
        """Escape during a drag: everything back where it was."""
        if self._press is not None and self._press.mode == "gizmo":
            self.session.gizmo.cancel(self.session.world)
            self.session.renderer.request()
        if self._press is not None and self._press.mode == "box":
            self.overlay_version += 1
        self._press = None

    @property
    def looking(self) -> bool:
        return self._press is not None and self._press.mode == "look"

    @property
    def moving_camera(self) -> bool:
        """Orbiting, panning or flying with a button held."""
        return self._press is not None and self._press.mode in ("orbit", "pan", "look")

    @property
    def busy(self) -> bool:
        return self._press is not None

    def wheel(self, steps: float) -> None:
        self.session.camera.zoom(steps)
        self.session.renderer.request()

    def fly(self, forward: float, right: float, up: float, seconds: float) -> None:
        if forward or right or up:
            self.session.camera.fly(forward, right, up, seconds)
            self.session.renderer.request()
