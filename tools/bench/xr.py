"""Benchmark: a stereo VR frame of the demo world with the simulated XR backend, against a mono
frame of the same size.

One process opens the demo world offscreen (EGL: llvmpipe here, the NVIDIA driver on a GPU
machine) with the full renderer, puts the VR rig in it (``engine.xr.driver.VRSession``) and
alternates two kinds of frame: stereo (both eyes, ``--eye-size`` each, 2064x2208 by default:
a Valve Index / Quest-class eye) and mono (the left eye alone, same size). Both tick the world
once (60 Hz) and sync the scene once; ``gl-finish`` makes each frame wait for the GPU, so wall
time is the frame's real cost. The goal on the GPU machine: stereo under 11 ms (90 Hz) and at
most 1.7x a mono frame.

Usage (from the repository root)::

    .venv/bin/python -m tools.bench.xr [--eye-size 2064x2208] [--frames 60] [--warmup 10]

stdout: one JSON object (the last line): stereo_ms, mono_ms, stereo_ratio_vs_mono, renderer, ...
stderr: progress.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.bench.common import REPO_ROOT, emit, gl_finish_function, machine_info, progress, ratio  # noqa: E402

DEMO = REPO_ROOT / "worlds" / "demo.world.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, default=DEMO, help="world to play (default: the demo)")
    parser.add_argument("--eye-size", default="2064x2208", help="each eye's size WxH (default %(default)s)")
    parser.add_argument("--frames", type=int, default=60, help="timed frames of each kind (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames first (default %(default)s)")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.warmup < 0:
        parser.error("--frames must be at least 1 and --warmup at least 0")
    return args


def _timed(fn: Callable[[], Any], wall: list[float], cpu: list[float]) -> None:
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    fn()
    wall.append((time.perf_counter() - wall_start) * 1000.0)
    cpu.append((time.process_time() - cpu_start) * 1000.0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from panda3d.core import loadPrcFileData

    loadPrcFileData("bench-xr", "gl-finish true")   # each frame waits for the GPU: wall time is its cost
    from engine.data.world_file import read_world
    from engine.host.app import App
    from engine.host.runtime import create_runtime
    from engine.xr.driver import VRSession
    from engine.xr.simulated import SimulatedBackend

    width, height = (int(v) for v in args.eye_size.lower().split("x"))
    world = read_world(args.world, create_runtime())
    app = App("offscreen", size=(512, 276))
    app.load(world)
    session = VRSession(app, world, SimulatedBackend(eye_size=(width, height)))
    renderer = app.base.win.getGsg().getDriverRenderer()
    progress(f"{renderer}: eyes {width}x{height}, {args.warmup} warm-up frames, then {args.frames} of each kind")
    step = 1.0 / 60.0

    def stereo() -> None:
        session.stereo.set_eyes_active(True, True)
        session.frame(step)

    def mono() -> None:
        session.stereo.set_eyes_active(True, False)
        session.frame(step)

    for _ in range(args.warmup):
        stereo()
        mono()
    samples: dict[str, tuple[list[float], list[float]]] = {"stereo": ([], []), "mono": ([], [])}
    for index in range(args.frames):
        for name, fn in (("stereo", stereo), ("mono", mono)):
            _timed(fn, *samples[name])
        if index and index % 10 == 0:
            progress(f"{index}/{args.frames} frames")
    stereo_ms, mono_ms = (statistics.median(samples[k][0]) for k in ("stereo", "mono"))
    pipelined = _pipelined(stereo, mono, args.frames)
    result = {
        "bench": "xr", "world": str(args.world.name), "backend": "simulated", "eye_size": [width, height],
        "frames": args.frames, "renderer": renderer,
        "stereo_ms": round(stereo_ms, 3), "mono_ms": round(mono_ms, 3),
        "stereo_ratio_vs_mono": ratio(stereo_ms, mono_ms),
        "stereo_cpu_ms": round(statistics.median(samples["stereo"][1]), 3),
        "mono_cpu_ms": round(statistics.median(samples["mono"][1]), 3),
        "stereo_p90_ms": round(sorted(samples["stereo"][0])[(len(samples["stereo"][0]) * 9) // 10], 3),
        **pipelined,
        "goal_stereo_ms": 11.0, "goal_ratio": 1.7, "machine": machine_info(),
    }
    session.close()
    app.close()
    return result


def _pipelined(stereo: Callable[[], Any], mono: Callable[[], Any], frames: int) -> dict[str, Any]:
    """Frames back to back as a game runs them (no wait for the GPU after each: the CPU prepares
    the next frame while the GPU draws the last), one glFinish at the end: the sustained frame
    time, what a 90 Hz headset's frame budget is about. Empty when glFinish cannot be found."""
    from panda3d.core import ConfigVariableBool

    finish = gl_finish_function()
    if finish is None:
        return {}
    ConfigVariableBool("gl-finish").setValue(False)
    out: dict[str, Any] = {}
    try:
        for name, fn in (("stereo", stereo), ("mono", mono)):
            fn()
            finish()
            start = time.perf_counter()
            for _ in range(frames):
                fn()
            finish()
            out[f"{name}_pipelined_ms"] = round((time.perf_counter() - start) * 1000.0 / frames, 3)
    finally:
        ConfigVariableBool("gl-finish").setValue(True)
    progress(f"back to back: stereo {out['stereo_pipelined_ms']} ms, mono {out['mono_pipelined_ms']} ms a frame")
    return out


def main(argv: list[str] | None = None) -> int:
    emit(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
