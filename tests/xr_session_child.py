"""Child process for the Monado tests: a real OpenXR session drawing the demo world for N frames.

``python -m tests.xr_session_child FRAMES [window|offscreen]`` opens the App in a window on
$DISPLAY (GLX) or offscreen (EGL, no display), runs VR
through the OpenXR backend with swapchain read-back on, and prints one JSON line: the session
states, frames drawn and submitted, per-profile binding results, the head positions seen and
how much of each eye's swapchain image differs from the clear colour."""
from __future__ import annotations

import json
import sys

from engine.data.world_file import read_world
from engine.host.app import App
from engine.host.runtime import create_runtime
from engine.xr.driver import VRSession
from engine.xr.session import OpenXRBackend
from main import DEMO_WORLD


def main() -> int:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    mode = sys.argv[2] if len(sys.argv) > 2 else "window"
    world = read_world(DEMO_WORLD, create_runtime())
    app = App(mode, size=(640, 240))
    app.load(world)
    backend = OpenXRBackend(read_back=True)
    session = VRSession(app, world, backend)
    heads: list[list[float]] = []
    clear = [round(c * 255) for c in app.base.win.getClearColor()][:3]
    original = session.frame

    haptic: list[str] = []

    def frame(seconds: float) -> None:
        original(seconds)
        if backend.state == "focused" and not haptic:
            try:
                backend.actions.haptic("right", 0.5, 0.05)
                haptic.append("ok")
            except Exception as exc:  # noqa: BLE001 - reported to the test
                haptic.append(f"{type(exc).__name__}: {exc}")
        if session.rig.latest is not None and backend.running:
            heads.append([round(v, 5) for v in session.rig.latest.head.pos])

    session.frame = frame  # type: ignore[method-assign]
    report = session.run(frames, say=None)
    differing = []
    for image in backend.readback:
        if image is None:
            differing.append(0.0)
            continue
        rgb = image[:, :, :3].astype(int)
        off = (abs(rgb - clear).sum(axis=2) > 24).mean()
        differing.append(float(off))
    distinct = len({tuple(p) for p in image[:, :, :3].reshape(-1, 3)[::97].tolist()}) if image is not None else 0
    sky = ground = [0.0, 0.0, 0.0]
    if image is not None:
        rows = image.shape[0]
        sky = image[: rows // 4, :, :3].reshape(-1, 3).mean(axis=0).tolist()        # row 0 is the top
        ground = image[-rows // 4:, :, :3].reshape(-1, 3).mean(axis=0).tolist()
    out = {"sky": sky, "ground": ground, "states": report.states, "frames": report.frames, "submitted": report.submitted,
           "stopped_by": report.stopped_by, "accepted": backend.actions.accepted, "heads": heads,
           "differing": differing, "distinct_colours": distinct, "format": backend.swapchain_format,
           "eye_size": list(backend.eye_size), "runtime": backend.runtime_name,
           "binding": "EGL" if backend._egl else "GLX", "haptic": haptic}
    session.close()
    app.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
