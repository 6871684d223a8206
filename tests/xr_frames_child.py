"""Child process: the demo world in simulated VR, N frames of a timeline, then a screenshot taken
while the session still runs. ``python -m tests.xr_frames_child TIMELINE FRAMES OUT.png``"""
from __future__ import annotations

import sys

from engine.data.world_file import read_world
from engine.host.app import App
from engine.host.runtime import create_runtime
from engine.xr.driver import VRSession
from engine.xr.simulated import SimulatedBackend
from engine.xr.timeline import load_timeline
from main import DEMO_WORLD


def main() -> int:
    timeline, frames, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    world = read_world(DEMO_WORLD, create_runtime())
    app = App("offscreen", size=(480, 200))
    app.load(world)
    session = VRSession(app, world, SimulatedBackend(load_timeline(timeline), eye_size=(240, 200)))
    for _ in range(frames):
        session.frame(1.0 / 60.0)
    print(f"state {session.backend.state} vignette {session.interaction.state.vignette}")
    app.screenshot(out)
    session.close()
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
