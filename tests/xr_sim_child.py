"""Child process for the simulated-backend tests: plays a world file in VR offscreen, driven by a
timeline, and prints one JSON line with what the rig and the interaction system did each frame.

``python -m tests.xr_sim_child WORLD TIMELINE FRAMES CRATE_NAME``"""
from __future__ import annotations

import json
import sys

from engine.data.world_file import read_world
from engine.host.app import App
from engine.host.runtime import create_runtime
from engine.physics.system import PhysicsSystem
from engine.xr.driver import VRSession
from engine.xr.simulated import SimulatedBackend
from engine.xr.timeline import load_timeline


def main() -> int:
    world_path, timeline_path, frames, crate_name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    world = read_world(world_path, create_runtime())
    app = App("offscreen", size=(320, 120))
    app.load(world)
    backend = SimulatedBackend(load_timeline(timeline_path), eye_size=(160, 120))
    session = VRSession(app, world, backend, pbr=False)
    crate = world.find(crate_name)
    physics = world.system(PhysicsSystem)
    rows = []
    original = session.frame

    def frame(seconds: float) -> None:
        original(seconds)
        state = session.interaction.state
        rows.append({"t": round(backend.time, 4), "rig": list(session.rig.node(world).getPos(world.root)),
                     "head": list(session.rig.head_world(world)),
                     "crate": list(world.node(crate).getPos(world.root)), "crate_v": list(physics.velocity(crate)),
                     "held": sorted(state.held), "target": list(state.target) if state.target is not None else None,
                     "teleports": state.teleports})

    session.frame = frame  # type: ignore[method-assign]
    report = session.run(frames, say=None)
    out = {"rows": rows, "throws": [[e, list(v)] for e, v in session.interaction.state.throws],
           "states": report.states, "crate": crate, "gravity": list(physics.bullet.getGravity())}
    session.close()
    app.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
