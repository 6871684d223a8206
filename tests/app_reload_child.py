"""Run by tests/test_rendering.py in its own process (one ShowBase per process): an offscreen App
shows one world then another, and follows runtime changes to the camera lens and the Environment.
Prints what it saw as JSON."""
from __future__ import annotations

import json

from engine.data.world_file import load_world_data
from engine.host.app import App
from engine.host.runtime import create_runtime


def world(name: str, exposure: float, fog: bool, fov: float) -> dict:
    return {"storm_world": 2, "name": name, "entities": [
        {"id": 1, "name": "Camera", "transform": {"pos": [0, -10, 2]}, "components": {"Camera": {"fov": fov}}},
        {"id": 2, "name": "Environment", "components": {"Environment": {"exposure": exposure, "fog": fog}}},
        {"id": 3, "name": "Box", "components": {"MeshRenderer": {}}},
    ]}


def main() -> None:
    runtime = create_runtime()
    first = load_world_data(world("first", 3.0, True, 50.0), "first", runtime)
    second = load_world_data(world("second", -2.0, False, 70.0), "second", runtime)
    app = App("offscreen", size=(160, 90))
    seen: dict[str, object] = {"pbr": app.pipeline is not None}
    app.load(first)
    app.run(frames=2)
    app.load(second)
    app.run(frames=2)
    pipeline = app.pipeline
    seen["second"] = {"exposure": pipeline.exposure, "fog": pipeline.enable_fog,
                      "fov": round(app.base.camLens.getFov()[0], 3),
                      "camera_in_second": app.base.camera.getParent() == second.root,
                      "camera_at_second_camera": (app.base.camera.getPos(second.root)
                                                  - second.node(1).getPos(second.root)).length() < 1e-6,
                      "first_shown": first.root.hasParent()}
    env_map = pipeline.env_map
    environment = second.get(2, second.registry.resolve("Environment"))
    second.set_field(2, environment, "exposure", 1.0)
    camera = second.get(1, second.registry.resolve("Camera"))
    second.set_field(1, camera, "fov", 90.0)
    app.run(frames=1)
    seen["after_exposure"] = {"exposure": pipeline.exposure, "same_env_map": pipeline.env_map is env_map,
                              "fov": round(app.base.camLens.getFov()[0], 3)}
    second.set_field(2, environment, "sky_top", (0.9, 0.2, 0.1, 1.0))
    app.run(frames=1)
    seen["after_sky_colour"] = {"same_env_map": pipeline.env_map is env_map}
    app.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
