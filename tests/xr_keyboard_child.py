"""Run by tests/test_xr_simulated.py inside an Xvfb display: the simulated XR backend driven by
real X key and pointer events (XTEST) in a real window; prints what the rig did as JSON.
Every wait is bounded by a frame count."""
from __future__ import annotations

import json
import sys
from typing import Callable

from Xlib import XK, X
from Xlib import display as xdisplay
from Xlib.ext import xtest

from engine.data.world_file import load_world_data
from engine.host.app import App
from engine.host.runtime import create_runtime
from engine.xr.driver import VRSession
from engine.xr.simulated import SimulatedBackend

WORLD = {"storm_world": 2, "name": "vr keys", "entities": [
    {"id": 1, "name": "Ground", "transform": {"pos": [0, 0, -0.5]}, "components": {"Collider": {"size": [200, 200, 1]}}},
    {"id": 2, "name": "Player", "transform": {"pos": [5, 0, 0]},
     "components": {"CharacterController": {}, "base:player.PlayerMover": {}}},
    {"id": 3, "name": "Camera", "transform": {"pos": [0, 0, 1.7]}, "components": {"Camera": {}}},
]}
PATIENCE = 600


def main() -> int:
    runtime = create_runtime()
    runtime.per_user_input = False
    world = load_world_data(WORLD, "vr keys", runtime)
    app = App("window", size=(320, 160))
    app.load(world)
    session = VRSession(app, world, SimulatedBackend(eye_size=(160, 160)), pbr=False)
    x = xdisplay.Display()
    result: dict[str, object] = {}

    def until(done: Callable[[], bool]) -> int | None:
        for frame in range(PATIENCE):
            session.frame(1.0 / 60.0)
            if done():
                return frame
        return None

    until(lambda: session.backend.state == "focused" and app.base.win.getProperties().getOpen())
    props = app.base.win.getProperties()
    centre = (max(0, props.getXOrigin()) + props.getXSize() // 2, max(0, props.getYOrigin()) + props.getYSize() // 2)
    xtest.fake_input(x, X.MotionNotify, x=centre[0], y=centre[1])
    x.sync()
    result["pointer_in_window"] = until(lambda: app.base.win.getPointer(0).getInWindow()) is not None
    rig, player = session.rig, world.node(2)
    start, player_start = rig.node(world).getPos(world.root), player.getPos(world.root)

    def hold(key: str, frames: int) -> None:
        code = x.keysym_to_keycode(XK.string_to_keysym(key))
        xtest.fake_input(x, X.KeyPress, code)
        x.sync()
        for _ in range(frames):
            session.frame(1.0 / 60.0)
        xtest.fake_input(x, X.KeyRelease, code)
        x.sync()
        for _ in range(5):
            session.frame(1.0 / 60.0)

    hold("w", 60)
    moved = rig.node(world).getPos(world.root) - start
    result["rig_moved"] = [round(moved.x, 3), round(moved.y, 3)]
    result["player_moved"] = round((player.getPos(world.root) - player_start).length(), 3)
    hold("e", 10)
    result["rig_heading"] = round(rig.node(world).getH(world.root), 3)
    session.close()
    app.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
