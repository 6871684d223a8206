"""Run by tests/test_editor_prefabs.py inside Xvfb: a crate dragged with the real X pointer (XTEST)
from its row in the asset browser into the 3D view lands on the ground under the pointer; Ctrl+Z
with the real keyboard takes it away. Every wait is bounded by a frame count.
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

from tests.editor_assets_child import make_runtime
from tests.editor_prefabs_child import WORLD, aim

PATIENCE = 300  # frames
CRATE = "base:models/crate.gltf"


def main() -> int:
    from editor.driver import EditorDriver

    folder = Path(sys.argv[1])
    world_path = folder / "drop.world.json"
    world_path.write_text(json.dumps(WORLD, indent=2) + "\n", encoding="utf-8")
    x = xdisplay.Display()
    result: dict[str, Any] = {}
    with EditorDriver(world_path, size=(1280, 800), runtime=make_runtime(folder)) as ed:
        aim(ed)
        browser = ed.app.assets

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

        dpg.set_value("storm_assets_filter", "crate")
        dpg.set_value("storm_assets_kind", "model")
        browser.refresh()
        ed.settle()
        row = next(r for _g, _i, r in browser._rows if dpg.get_item_user_data(r) == CRATE)
        (rx, ry), (rw, rh) = dpg.get_item_rect_min(row), dpg.get_item_rect_size(row)
        start = (rx + min(rw, 120) / 2, ry + rh / 2)
        target = ed.screen_point((-1.0, -2.0, 0.0))
        result["start"], result["target"] = start, target
        before = set(ed.world.entities())
        pointer(*start)
        button(True)
        for i in range(1, 13):
            pointer(start[0] + (target[0] - start[0]) * i / 12, start[1] + (target[1] - start[1]) * i / 12)
        button(False)
        result["drop_frames"] = until(lambda: len(set(ed.world.entities()) - before) == 1)
        new = sorted(set(ed.world.entities()) - before)
        result["new"] = new
        if new:
            p = ed.world.node(new[0]).getPos()
            result["pos"] = [round(p.x, 3), round(p.y, 3), round(p.z, 3)]
            result["model"] = ed.world.get(new[0], ed.world.registry.get("MeshRenderer")).model
        ed.settle()
        pointer(*ed.screen_point((4.0, 4.0, 0.0)))  # over the view, so Ctrl+Z goes to the editor
        control = x.keysym_to_keycode(XK.string_to_keysym("Control_L"))
        key_z = x.keysym_to_keycode(XK.string_to_keysym("z"))
        for keycode, kind in ((control, X.KeyPress), (key_z, X.KeyPress), (key_z, X.KeyRelease),
                              (control, X.KeyRelease)):
            xtest.fake_input(x, kind, keycode)
            x.sync()
            ed.step(2)
        result["undo_frames"] = until(lambda: set(ed.world.entities()) == before)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
