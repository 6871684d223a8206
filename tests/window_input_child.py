"""Run by tests/test_window_input.py inside an Xvfb display: a real window, real X key and pointer
events sent through the XTEST extension, and what the game did with them, printed as JSON; then
the window manager's close request, which ends ``App.run``.

Every wait is bounded by a frame count; nothing sleeps.
"""
from __future__ import annotations

import json
import sys
from typing import Callable

from Xlib import XK, X, protocol
from Xlib import display as xdisplay
from Xlib.ext import xtest

from engine.camera.system import CameraSystem
from engine.data.world_file import load_world_data
from engine.host.app import App
from engine.host.runtime import create_runtime

WORLD = {
    "storm_world": 2, "name": "window input",
    "entities": [
        {"id": 1, "name": "Ground", "transform": {"pos": [0, 0, -0.5]},
         "components": {"Collider": {"size": [200, 200, 1]},
                        "MeshRenderer": {"color": [0.4, 0.5, 0.35, 1]}}},
        {"id": 2, "name": "Player", "components": {"CharacterController": {"radius": 0.4, "height": 1.8},
                                                   "base:player.PlayerMover": {}}},
        {"id": 3, "name": "Camera", "transform": {"pos": [0, -6, 3], "hpr": [0, -15, 0]},
         "components": {"Camera": {"mode": "third_person", "target": 2, "distance": 6}}},
        {"id": 4, "name": "Sun", "transform": {"hpr": [30, -60, 0]}, "components": {"Light": {}}},
    ],
}
FRAME = 1.0 / 60.0
PATIENCE = 600  # frames to wait for the X server's events to reach the window


def main() -> int:
    runtime = create_runtime()
    runtime.per_user_input = False
    world = load_world_data(WORLD, "window input", runtime)
    app = App("window", size=(320, 240))
    if app.mode != "window":
        print(json.dumps({"error": "no window could be opened"}))
        return 1
    app.load(world)
    actions = world.services["input"]
    x = xdisplay.Display()
    result: dict[str, object] = {}

    def until(done: Callable[[], bool]) -> int | None:
        for frame in range(PATIENCE):
            app.step(FRAME)
            if done():
                return frame
        return None

    until(lambda: app.base.win.isValid() and app.base.win.getProperties().getOpen())
    props = app.base.win.getProperties()
    left, top = max(0, props.getXOrigin()), max(0, props.getYOrigin())
    centre = (left + props.getXSize() // 2, top + props.getYSize() // 2)
    xtest.fake_input(x, X.MotionNotify, x=centre[0], y=centre[1])  # keys go where the pointer is
    x.sync()
    result["pointer_in_window"] = until(lambda: app.base.win.getPointer(0).getInWindow()) is not None

    player = world.node(2)
    start = player.getPos()
    key_w = x.keysym_to_keycode(XK.string_to_keysym("w"))
    xtest.fake_input(x, X.KeyPress, key_w)
    x.sync()
    result["w_moves_forward"] = until(lambda: actions.vector("move")[1] > 0.5) is not None
    for _ in range(60):
        app.step(FRAME)
    moved = player.getPos() - start
    result["walked"] = [round(moved.x, 3), round(moved.y, 3), round(moved.z, 3)]
    xtest.fake_input(x, X.KeyRelease, key_w)
    x.sync()
    result["w_released"] = until(lambda: actions.vector("move") == (0.0, 0.0)) is not None

    camera_system = world.system(CameraSystem)
    yaw_before = camera_system.rig(3).yaw
    xtest.fake_input(x, X.MotionNotify, x=centre[0] + 40, y=centre[1])
    x.sync()
    result["mouse_looks"] = until(lambda: actions.vector("look")[0] != 0.0) is not None
    for _ in range(5):
        app.step(FRAME)
    yaw_after = camera_system.rig(3).yaw
    result["camera_turned_deg"] = round(yaw_after - yaw_before, 3)

    window = x.create_resource_object("window", app.base.win.getWindowHandle().getIntHandle())
    protocols, delete = x.intern_atom("WM_PROTOCOLS"), x.intern_atom("WM_DELETE_WINDOW")
    window.send_event(protocol.event.ClientMessage(window=window, client_type=protocols,
                                                   data=(32, [delete, X.CurrentTime, 0, 0, 0])))
    x.sync()                                   # what a window manager sends when the close button is clicked
    report = app.run(frames=PATIENCE, say=None)
    result["closed"] = {"stopped_by": report.stopped_by, "window_closed": app.window_closed()}
    app.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
