"""The editor's scripting entry: a real editor (Dear PyGui viewport, Panda3D view, every panel)
driven from Python by tests and tools. Each call goes where a click or a key would go (the
session, the inspector, the view controller, the dialogs), and ``step`` runs the editor's own
loop, so what a script sees is what a person would.

    with EditorDriver("worlds/demo.world.json", size=(1280, 800)) as editor:
        box = editor.create("box")
        editor.drag_gizmo("x", 60)           # a mouse drag on the X handle: one undoable command
        editor.set_field([box], "MeshRenderer", "color", [1, 0, 0, 1])
        editor.undo(); editor.redo()
        editor.save("out.world.json")
        editor.screenshot("editor.png")      # the whole editor window
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dearpygui.dearpygui as dpg
from panda3d.core import Point3

from editor.app import EditorApp
from editor.gizmo import Handle
from editor.picking import project
from editor.view_input import LEFT

if TYPE_CHECKING:
    from editor.dialogs import Question
    from engine.core.commands import Command
    from engine.host.runtime import Runtime
    from plugins.host import PluginHost


class EditorDriver:
    """A scripted editor; ``close`` (or the ``with`` block's end) shuts it down."""

    def __init__(self, world: Path | str | None = None, size: tuple[int, int] = (1280, 800),
                 runtime: "Runtime | None" = None, interactive: bool = False,
                 plugins: "PluginHost | None" = None) -> None:
        if runtime is None:
            from engine.host.runtime import create_runtime

            runtime = create_runtime()
        self.app = EditorApp(runtime, world, size, interactive=interactive, fps=0, plugins=plugins)
        self.step(3)

    def __enter__(self) -> "EditorDriver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def session(self) -> Any:
        return self.app.session

    @property
    def world(self) -> Any:
        return self.app.session.world

    # -- the loop ---------------------------------------------------------------------------------
    def step(self, frames: int = 1) -> None:
        """Run the editor's loop ``frames`` times."""
        for _ in range(frames):
            self.app.frame()

    def settle(self, most: int = 30) -> None:
        """Run frames until the view has drawn what changed (and a couple more for the UI)."""
        for _ in range(most):
            self.app.frame()
            if not self.app.renderer.wanted and not self.app.renderer.pending:
                break
        self.step(2)

    # -- files --------------------------------------------------------------------------------------
    def open(self, path: Path | str) -> bool:
        """Open a world as File > Open does; False (and an error dialog) for a broken one."""
        ok = self.app.actions.open_path(path)
        self.settle()
        return ok

    def visit(self, uri: str, first: str, last: str, password: str, timeout_s: float = 45.0) -> str:
        """File > Visit a grid...: type into the dialog's fields, press Visit, run the editor until
        the login ended; '' when the region opened, else the error the dialog shows."""
        dialog = self.app.visit_dialog
        self.action("visit")
        for key, value in (("uri", uri), ("first", first), ("last", last), ("password", password)):
            dpg.set_value(f"storm_visit_{key}", value)
        self.step()
        if dialog.go():
            return dialog.error
        deadline = time.monotonic() + timeout_s
        while dialog.login is not None and time.monotonic() < deadline:
            self.app.frame()
        if dialog.login is not None:
            raise TimeoutError(f"the login to {uri} did not end within {timeout_s} s")
        self.settle()
        return dialog.error

    def new(self) -> None:
        self.session.new()
        self.settle()

    def save(self, path: Path | str | None = None) -> Path:
        saved = self.session.save(path)
        self.step()
        return saved

    # -- edits --------------------------------------------------------------------------------------
    def select(self, ids: list[int]) -> None:
        self.session.selection.set(ids)
        self.settle()

    @property
    def selected(self) -> list[int]:
        return self.session.selection.ids

    def create(self, kind: str) -> int:
        eid = self.session.create(kind)
        self.settle()
        return eid

    def apply(self, command: "Command", name: str = "") -> "Command":
        inverse = self.session.do(command, name)
        self.settle()
        return inverse

    def undo(self) -> str | None:
        name = self.session.undo()
        self.settle()
        return name

    def redo(self) -> str | None:
        name = self.session.redo()
        self.settle()
        return name

    def action(self, name: str) -> None:
        """Run a menu/shortcut action by name (``EditorActions``)."""
        self.app.actions[name]()
        self.settle()

    def set_field(self, ids: list[int], type_name: str, field_name: str, value: Any) -> str:
        """Select ``ids`` and enter ``value`` in the inspector's field: '' when taken, else the reason shown."""
        self.select(ids)
        reason = self.app.inspector.submit_field(type_name, field_name, value)
        self.settle()
        return reason

    def set_transform(self, ids: list[int], part: str, value: Any) -> str:
        self.select(ids)
        reason = self.app.inspector.submit_transform(part, value)
        self.settle()
        return reason

    # -- the view -----------------------------------------------------------------------------------
    def view_point(self, point: tuple[float, float, float] | Point3) -> tuple[float, float] | None:
        """Where a world point shows in the view (view pixels), or None when behind the camera."""
        size = self.app.controller.size
        film = project(self.app.renderer.lens, self.session.camera.transform(), Point3(*point))
        if film is None:
            return None
        return (film[0] + 1.0) * 0.5 * size[0], (1.0 - film[1]) * 0.5 * size[1]

    def view_origin(self) -> tuple[float, float]:
        """The view's top-left corner in viewport (and, with the viewport at 0,0, screen) pixels."""
        x, y = dpg.get_item_rect_min(self.app.view.drawlist)
        return float(x), float(y)

    def screen_point(self, point: tuple[float, float, float] | Point3) -> tuple[int, int] | None:
        local = self.view_point(point)
        if local is None:
            return None
        ox, oy = self.view_origin()
        return int(round(ox + local[0])), int(round(oy + local[1]))

    def click(self, x: float, y: float, shift: bool = False) -> int:
        """A left click in the view at view pixels (x, y); returns what was picked."""
        controller = self.app.controller
        controller.press(LEFT, x, y, shift=shift)
        controller.release(LEFT, x, y, shift=shift)
        self.settle()
        return controller.last_pick

    def handle(self, axis: str) -> Handle:
        handles = {h.axis: h for h in self.app.controller.handles()}
        if axis not in handles:
            raise LookupError(f"no {axis} handle is shown (select something in view first)")
        return handles[axis]

    def drag_gizmo(self, axis: str, pixels: float, steps: int = 8, ctrl: bool = False) -> None:
        """Press on an axis handle, move ``pixels`` along the handle's screen direction, release."""
        handle = self.handle(axis)
        sx, sy = handle.start
        ex, ey = handle.end
        length = max(((ex - sx) ** 2 + (ey - sy) ** 2) ** 0.5, 1e-6)
        ux, uy = (ex - sx) / length, (ey - sy) / length
        px, py = sx + ux * length * 0.7, sy + uy * length * 0.7
        self.drag((px, py), (px + ux * pixels, py + uy * pixels), steps, ctrl=ctrl)

    def drag(self, start: tuple[float, float], end: tuple[float, float], steps: int = 8, button: int = LEFT,
             ctrl: bool = False, shift: bool = False) -> None:
        controller = self.app.controller
        controller.press(button, *start, shift=shift, ctrl=ctrl)
        for i in range(1, steps + 1):
            t = i / steps
            controller.move(start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t, ctrl=ctrl)
            self.app.frame()
        controller.release(button, *end, shift=shift, ctrl=ctrl)
        self.settle()

    # -- play -----------------------------------------------------------------------------------------
    def play(self, seconds: float = 0.0, frame: float = 1.0 / 60.0) -> int:
        """Start Play and run ``seconds`` of it in fixed frames; returns ticks run."""
        self.session.start_play()
        ticks = 0
        for _ in range(int(round(seconds / frame))):
            ticks += self.session.play.tick(frame)
            self.app.view.show_frame()
            self.app.frame()
        return ticks

    def stop(self) -> None:
        self.session.stop_play()
        self.settle()

    # -- dialogs and pictures -------------------------------------------------------------------------
    @property
    def dialog(self) -> "Question | None":
        return self.app.dialogs.current

    def answer(self, label: str) -> None:
        self.app.dialogs.answer(label)
        self.settle()

    def screenshot(self, path: Path | str, timeout_s: float = 20.0) -> Path:
        """Write the whole editor window as a PNG (Dear PyGui's frame buffer)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        self.settle()
        dpg.output_frame_buffer(str(out))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.app.frame()
            if out.is_file() and out.stat().st_size > 0:
                self.step()  # the file is complete once the next frame starts
                return out
        raise TimeoutError(f"no screenshot after {timeout_s} s")

    def close(self) -> None:
        if self.app.running or not getattr(self.app, "_closed", False):
            self.app.running = False
            self.app.close()
