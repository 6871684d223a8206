"""Run by tests/test_editor_view.py inside Xvfb: the 3D view of the real editor.

Low resolution while moving: with the preference on, an orbit drag draws at half the panel's size
(the picture still shows the world) and the frame after the release at full size again. Play's
input: real X key events (XTEST) with the pointer over the 3D view walk the player with the game's
own bindings (W forward); the same key with the pointer over another panel moves nothing; Stop
puts the player back. Every wait is bounded by a frame count."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import dearpygui.dearpygui as dpg
from Xlib import XK, X
from Xlib import display as xdisplay
from Xlib.ext import xtest

PATIENCE = 240  # frames
WORLD = {"storm_world": 3, "name": "walk test", "entities": [
    {"id": 1, "name": "Camera", "transform": {"pos": [0, -12, 5], "hpr": [0, -15, 0]},
     "components": {"Camera": {"mode": "third_person", "target": 4, "distance": 6}}},
    {"id": 2, "name": "Sun", "transform": {"hpr": [30, -60, 0]}, "components": {"Light": {"intensity": 1.0}}},
    {"id": 3, "name": "Ground", "transform": {"pos": [0, 0, -0.5]},
     "components": {"MeshRenderer": {"model": "primitive:box", "color": [0.4, 0.5, 0.4, 1]},
                    "Collider": {"size": [40, 40, 1]}}},
    {"id": 4, "name": "Player", "transform": {"pos": [0, 0, 1]},
     "components": {"CharacterController": {"radius": 0.5, "height": 2}, "base:player.PlayerMover": {}}},
]}


def low_res_flow(ed: Any) -> dict[str, Any]:
    from editor.view_input import MIDDLE

    renderer, controller = ed.app.renderer, ed.app.controller
    deadline = time.monotonic() + 20   # the renderer follows the panel's size once it settles
    while renderer.size != ed.app.view.size and time.monotonic() < deadline:
        ed.step()
        time.sleep(0.02)
    out: dict[str, Any] = {"panel": list(ed.app.view.size), "before": list(renderer.size)}
    ed.app.actions["low_res"]()
    centre = (ed.app.view.size[0] / 2, ed.app.view.size[1] / 2)
    controller.press(MIDDLE, *centre)
    sizes, lit = [], []
    for i in range(1, 7):
        controller.move(centre[0] + 12 * i, centre[1])
        ed.step()
        sizes.append(list(renderer.size))
        image = renderer.image()
        if image is not None:
            import numpy as np

            pixels = np.frombuffer(image, np.float32).reshape(-1, 4)
            lit.append(float(pixels[:, :3].std()))   # a picture of something, not one flat colour
    controller.release(MIDDLE, centre[0] + 72, centre[1])
    ed.settle()
    out["while_moving"], out["moving_image_spread"] = sizes, lit
    out["after"] = list(renderer.size)
    ed.app.actions["low_res"]()
    return out


def main() -> int:
    from editor.driver import EditorDriver

    folder = Path(sys.argv[1])
    path = folder / "walk.world.json"
    path.write_text(json.dumps(WORLD), encoding="utf-8")
    x = xdisplay.Display()
    out: dict[str, Any] = {}
    with EditorDriver(path, size=(1280, 800)) as ed:
        def until(done: Callable[[], bool]) -> int | None:
            for frame in range(PATIENCE):
                ed.play(1 / 30) if ed.session.play.playing else ed.step()
                ed.step()
                if done():
                    return frame
            return None

        def pointer_at(px: float, py: float) -> None:
            xtest.fake_input(x, X.MotionNotify, x=int(round(px)), y=int(round(py)))
            x.sync()

        def key(name: str, press: bool) -> None:
            xtest.fake_input(x, X.KeyPress if press else X.KeyRelease, x.keysym_to_keycode(XK.string_to_keysym(name)))
            x.sync()

        def player() -> list[float]:
            p = ed.world.node(4).getPos()
            return [round(p.x, 3), round(p.y, 3), round(p.z, 3)]

        ed.settle()
        out["low_res"] = low_res_flow(ed)
        start = player()
        vx, vy = dpg.get_viewport_pos()
        origin = ed.view_origin()
        size = ed.app.view.size
        centre = (vx + origin[0] + size[0] / 2, vy + origin[1] + size[1] / 2)
        tree = dpg.get_item_pos(ed.app.windows["scene"])
        pointer_at(*centre)   # before Play: moving the pointer onto the view while playing would turn the camera
        until(lambda: dpg.is_item_hovered(ed.app.view.drawlist))
        ed.play()
        settled = until(lambda: ed.world.node(4).getZ() < 1.5 and abs(ed.world.node(4).getZ() - player()[2]) < 1e-3)
        out["landed"] = player()
        out["settled_frames"] = settled
        before = player()
        key("w", True)
        out["walk_frames"] = until(lambda: player()[1] > before[1] + 1.0)
        key("w", False)
        for _ in range(5):
            ed.play(1 / 30)
        out["walked"] = player()
        out["start"] = start
        out["landed_before_walk"] = before

        # the pointer over the scene tree: the game gets no keys
        pointer_at(vx + tree[0] + 40, vy + tree[1] + 60)
        until(lambda: not dpg.is_item_hovered(ed.app.view.drawlist))
        here = player()
        key("w", True)
        for _ in range(40):
            ed.play(1 / 30)
        key("w", False)
        out["away_before"], out["away_after"] = here, player()
        ed.stop()
        ed.step(3)
        out["after_stop"] = player()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
