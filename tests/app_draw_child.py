"""Run by tests/test_app_drawing.py in its own process (one ShowBase per process): an offscreen App
drawn from the active Camera and from a custom view provider, a falling body drawn between ticks,
and the same session run with and without interpolation and replayed. Prints what it saw as JSON."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from panda3d.core import Filename, PNMImage

from engine.core.world import World
from engine.data.world_file import load_world_data
from engine.host.app import App
from engine.host.runtime import Runtime, create_runtime
from engine.host.view import View, fixed_view
from engine.input import ActionFrame, InputSystem, ScriptedSource, replay

SIZE = (160, 90)
RED_BOX = {"storm_world": 2, "name": "red box", "entities": [
    {"id": 1, "name": "Camera", "transform": {"pos": [0, -10, 1]}, "components": {"Camera": {"fov": 50}}},
    {"id": 2, "name": "Box", "transform": {"pos": [0, 0, 1], "scale": [3, 3, 3]},
     "components": {"MeshRenderer": {"color": [1, 0, 0, 1]}}},
    {"id": 3, "name": "Sun", "transform": {"hpr": [20, -50, 0]}, "components": {"Light": {"intensity": 3}}},
]}
FALLING = {"storm_world": 2, "name": "falling", "entities": [
    {"id": 1, "name": "Camera", "transform": {"pos": [0, -10, 2]},
     "components": {"Camera": {"mode": "orbit", "orbit_point": [0, 0, 2], "distance": 10, "auto_rotate": 90}}},
    {"id": 2, "name": "Ball", "transform": {"pos": [0, 0, 10]},
     "components": {"RigidBody": {"mass": 1}, "Collider": {"shape": "sphere"},
                    "MeshRenderer": {"model": "primitive:sphere"}}},
    {"id": 3, "name": "Hat", "parent": 2, "transform": {"pos": [0, 0, 0.6]}, "components": {"MeshRenderer": {}}},
]}
SESSION = {"storm_world": 2, "name": "session", "entities": [
    {"id": 1, "name": "Ground", "transform": {"pos": [0, 0, -0.5]},
     "components": {"Collider": {"size": [60, 60, 1]}, "MeshRenderer": {}}},
    {"id": 2, "name": "Crate", "transform": {"pos": [0.3, 2, 4], "hpr": [20, 35, 10]},
     "components": {"RigidBody": {"mass": 2, "restitution": 0.4}, "Collider": {}, "MeshRenderer": {}}},
    {"id": 3, "name": "Player", "components": {"CharacterController": {}, "base:player.PlayerMover": {},
                                              "MeshRenderer": {"model": "primitive:capsule"}}},
    {"id": 4, "name": "Camera", "transform": {"pos": [0, -6, 3]},
     "components": {"Camera": {"mode": "third_person", "target": 3, "distance": 6, "smoothing": 0.2}}},
    {"id": 5, "name": "Spinner", "transform": {"pos": [3, 3, 1]},
     "components": {"base:motion.Spinner": {"speed": 50}, "MeshRenderer": {}}},
]}
FRAME_TIMES = [0.011, 0.023, 0.016, 0.007, 0.031, 0.019]
INPUT = [ActionFrame(vectors={"move": (0.0, 1.0)})] * 40 + [ActionFrame(vectors={"move": (0.7, -0.7)},
                                                                        held=frozenset({"run"}))] * 40


class LookAway:
    """A view provider standing where the Camera is, looking the other way, with its own lens."""

    def view(self, world: World) -> View | None:
        return fixed_view((0.0, -10.0, 1.0), look_at=(0.0, -20.0, 1.0), fov=35.0)


def centre_red(app: App, folder: Path, name: str) -> float:
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(app.screenshot(folder / f"{name}.png"))))
    colour = image.getXel(SIZE[0] // 2, SIZE[1] // 2)
    return round(colour[0] - max(colour[1], colour[2]), 3)


def camera_pos(app: App, world: World) -> list[float]:
    return [round(v, 4) for v in app.base.camera.getPos(world.root)]


def views(app: App, runtime: Runtime, folder: Path) -> dict[str, Any]:
    world = load_world_data(RED_BOX, "red box", runtime)
    app.load(world)
    app.run(frames=2, say=None)
    seen: dict[str, Any] = {"camera_red": centre_red(app, folder, "camera"), "camera_pos": camera_pos(app, world)}
    app.set_view_provider(LookAway())
    app.run(frames=2, say=None)
    seen["away_red"] = centre_red(app, folder, "away")
    seen["away_fov"] = round(app.base.camLens.getFov()[0], 3)
    seen["away_looks_towards_y"] = round(app.base.camera.getQuat(world.root).getForward().y, 3)
    app.set_view_provider(None)
    app.run(frames=2, say=None)
    seen["back_red"] = centre_red(app, folder, "back")
    seen["back_pos"] = camera_pos(app, world)
    seen["back_fov"] = round(app.base.camLens.getFov()[0], 3)
    seen["entity_camera_pos"] = [round(v, 4) for v in world.node(1).getPos(world.root)]
    return seen


def between_ticks(app: App, runtime: Runtime) -> dict[str, Any]:
    world = load_world_data(FALLING, "falling", runtime)
    app.load(world)
    for _ in range(10):
        app.step(1 / 60)
    ball, camera = world.node(2), world.node(1)
    before = (ball.getZ(world.root), camera.getPos(world.root))
    ticks = app.step(1.5 / 60)
    after = (ball.getZ(world.root), camera.getPos(world.root))
    twin = load_world_data(FALLING, "falling twin", runtime)
    for _ in range(11):
        twin.tick(1 / 60)
    drawn_camera = app.base.camera.getPos(world.root)
    return {"ticks": ticks, "tick_count": world.tick_count, "alpha": app.clock.alpha,
            "z_before": before[0], "z_after": after[0], "z_drawn": ball.find("mesh").getZ(world.root),
            "z_twin": twin.node(2).getZ(twin.root), "hat_z_drawn": world.node(3).find("mesh").getZ(world.root),
            "hat_z": world.node(3).getZ(world.root), "camera_before": list(before[1]), "camera_after": list(after[1]),
            "camera_drawn": list(drawn_camera)}


def state(world: World) -> list[list[float]]:
    return [[*world.node(eid).getPos(world.root), *world.node(eid).getQuat(world.root)] for eid in world.entities()]


def session(app: App, runtime: Runtime, interpolate: bool) -> tuple[list[list[list[float]]], int, Any]:
    """Play SESSION in the App with uneven frame times; returns the entity states after every frame, how
    many frames drew something away from its entity, and the recorded input."""
    world = load_world_data(SESSION, "session", runtime)
    app.load(world)
    app.interpolate = interpolate
    system = world.system(InputSystem)
    system.set_source(ScriptedSource(INPUT))
    system.start_recording()
    states, offset_frames = [], 0
    for frame in range(120):
        app.step(FRAME_TIMES[frame % len(FRAME_TIMES)])
        states.append(state(world))
        crate = world.node(2)
        offset_frames += (crate.find("mesh").getPos(world.root) - crate.getPos(world.root)).length() > 1e-6
    return states, offset_frames, system.stop_recording()


def main() -> int:
    folder = Path(sys.argv[1])
    runtime = create_runtime()
    runtime.per_user_input = False
    app = App("offscreen", size=SIZE)
    result: dict[str, Any] = {"views": views(app, runtime, folder), "between": between_ticks(app, runtime)}
    smooth, offset_frames, recording = session(app, runtime, interpolate=True)
    plain, plain_offsets, _ = session(app, runtime, interpolate=False)
    replayed = load_world_data(SESSION, "replayed", runtime)
    replay(replayed, recording)
    result["session"] = {"ticks": len(recording.frames), "offset_frames": offset_frames,
                         "plain_offset_frames": plain_offsets, "same_with_and_without": smooth == plain,
                         "replay_same": state(replayed) == smooth[-1]}
    app.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
