"""Run by tests/test_editor_xinput.py inside Xvfb: the real editor, driven by real X pointer and
key events sent through XTEST (the same path a person's mouse takes: X server, GLFW, Dear
ImGui, the view panel's polling). A click on the red box selects it; a drag on the X handle of
its gizmo moves it along X only; Ctrl+Z undoes the move. Every wait is bounded by a frame count.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import dearpygui.dearpygui as dpg
from Xlib import XK, X
from Xlib import display as xdisplay
from Xlib.ext import xtest

from tests.editor_flow_child import aim, pos, write_world

PATIENCE = 300  # frames


def main() -> int:
    from editor.driver import EditorDriver

    folder = Path(sys.argv[1])
    x = xdisplay.Display()
    result: dict[str, Any] = {}
    with EditorDriver(write_world(folder), size=(1280, 800)) as ed:
        aim(ed)

        def until(done: Callable[[], bool]) -> int | None:
            for frame in range(PATIENCE):
                ed.step()
                if done():
                    return frame
            return None

        def pointer(px: float, py: float) -> None:
            xtest.fake_input(x, X.MotionNotify, x=int(round(px)), y=int(round(py)))
            x.sync()
            ed.step(2)

        def button(press: bool) -> None:
            xtest.fake_input(x, X.ButtonPress if press else X.ButtonRelease, 1)
            x.sync()
            ed.step(2)

        result["viewport_pos"] = list(dpg.get_viewport_pos())
        target = ed.screen_point((-2, 0, 0.5))
        result["target"] = target
        pointer(*target)
        button(True)
        button(False)
        result["click_frames"] = until(lambda: ed.selected == [5])
        result["selected"] = ed.selected

        # drag the X handle with the real pointer
        ed.settle()
        handle = ed.handle("x")
        ox, oy = ed.view_origin()
        sx, sy = handle.start
        ex, ey = handle.end
        grab = (ox + sx + (ex - sx) * 0.7, oy + sy + (ey - sy) * 0.7)
        before = pos(ed, 5)
        steps_before = len(ed.session.document.history.undo_names())
        inspector = ed.app.inspector
        pos_field = inspector._transform_items["pos"]
        result["inspector_before"] = [round(v, 4) for v in dpg.get_value(pos_field)[:3]]
        writes: list[int] = []  # the inspector's widgets set during the drag
        set_value = dpg.set_value

        def counted(item: Any, value: Any) -> Any:
            if item in inspector._widgets:
                writes.append(item)
            return set_value(item, value)

        dpg.set_value = counted
        frames_before = ed.app.frames
        pointer(*grab)
        button(True)
        live = []  # (inspector x, the node's x) after each real pointer move, the button still held
        for i in range(1, 9):
            pointer(grab[0] + 10 * i, grab[1])
            live.append([round(dpg.get_value(pos_field)[0], 4), pos(ed, 5)[0]])
        result["live"] = live
        result["drag_writes"] = {"writes": len(writes), "frames": ed.app.frames - frames_before,
                                 "items": sorted({inspector._widgets[i][2] for i in writes})}
        dpg.set_value = set_value
        button(False)
        result["drag_frames"] = until(lambda: len(ed.session.document.history.undo_names()) > steps_before)
        result["before"], result["after"] = before, pos(ed, 5)
        result["drag_steps"] = len(ed.session.document.history.undo_names()) - steps_before

        # Ctrl+Z with the real keyboard
        control = x.keysym_to_keycode(XK.string_to_keysym("Control_L"))
        key_z = x.keysym_to_keycode(XK.string_to_keysym("z"))
        for keycode, kind in ((control, X.KeyPress), (key_z, X.KeyPress), (key_z, X.KeyRelease),
                              (control, X.KeyRelease)):
            xtest.fake_input(x, kind, keycode)
            x.sync()
            ed.step(2)
        result["undo_frames"] = until(lambda: pos(ed, 5) == before)
        result["after_undo"] = pos(ed, 5)
        result["shot"] = str(ed.screenshot(folder / "xinput.png"))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
