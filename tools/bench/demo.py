"""Benchmark: the demo world's frame time offscreen, Storm's whole frame vs Panda3D drawing the same scene.

One process opens the demo world offscreen (EGL: llvmpipe on a CPU machine, the NVIDIA driver on
a GPU one) with the full renderer (simplepbr, shadows, sky, fog). Each timed frame alternates
between Storm's frame (one 60 Hz tick of every system, then drawing) and Panda3D alone drawing
the very same scene graph (``taskMgr.step()``, no tick): the peer is the floor no engine on
Panda3D can go under, and the ratio is what Storm's systems add. Per-system tick times come from
``world.system_ms``.

Usage (from the repository root)::

    .venv/bin/python -m tools.bench.demo [--size 1280x720] [--frames 300] [--warmup 60]

stdout: one JSON object (the last line). stderr: progress. A plot goes to out/bench_demo.png.
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

from tools.bench.common import REPO_ROOT, emit, machine_info, progress, pyplot, ratio, save_figure  # noqa: E402

DEFAULT_PLOT = REPO_ROOT / "out" / "bench_demo.png"
DEMO = REPO_ROOT / "worlds" / "demo.world.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, default=DEMO, help="world to play (default: the demo)")
    parser.add_argument("--size", default="1280x720", help="offscreen buffer size WxH (default %(default)s)")
    parser.add_argument("--frames", type=int, default=300, help="timed frames of each kind (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=60, help="untimed frames first (default %(default)s)")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help="PNG to write (default %(default)s)")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.warmup < 0:
        parser.error("--frames must be at least 1 and --warmup at least 0")
    return args


def _timed(fn: Callable[[], Any], cpu: list[float], wall: list[float]) -> None:
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    fn()
    cpu.append((time.process_time() - cpu_start) * 1000.0)
    wall.append((time.perf_counter() - wall_start) * 1000.0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from engine.data.world_file import read_world
    from engine.host.app import App
    from engine.host.runtime import create_runtime

    width, height = (int(v) for v in args.size.lower().split("x"))
    world = read_world(args.world, create_runtime())
    app = App("offscreen", size=(width, height))
    if app.mode != "offscreen":
        raise SystemExit("no offscreen display here (EGL): nothing to measure")
    app.load(world)
    gsg = app.base.win.getGsg()
    renderer = f"{gsg.getDriverRenderer()} ({gsg.getDriverVersion()})"
    progress(f"{args.world.name} at {width}x{height} on {renderer}; pbr={'on' if app.pipeline else 'off'}")
    frame_s = 1.0 / world.tick_rate

    def storm_frame() -> None:
        app.step(frame_s)

    def draw_only() -> None:
        app.base.taskMgr.step()

    for index in range(args.warmup):
        storm_frame()
        if index % 20 == 0:
            progress(f"warm-up {index}/{args.warmup}")
    system_totals: dict[str, float] = {}
    samples: dict[str, list[float]] = {"storm_cpu": [], "storm_wall": [], "draw_cpu": [], "draw_wall": []}
    for index in range(args.frames):
        _timed(storm_frame, samples["storm_cpu"], samples["storm_wall"])
        for name, ms in world.system_ms.items():
            system_totals[name] = system_totals.get(name, 0.0) + ms
        _timed(draw_only, samples["draw_cpu"], samples["draw_wall"])
        if index % 50 == 0:
            progress(f"frame {index}/{args.frames}")
    entities = len(world.entities())
    app.close()
    median = {key: round(statistics.median(values), 3) for key, values in samples.items()}
    return {
        "benchmark": "demo_frame",
        "world": str(args.world.relative_to(REPO_ROOT)) if args.world.is_relative_to(REPO_ROOT) else str(args.world),
        "size": f"{width}x{height}", "renderer": renderer, "entities": entities,
        "storm_ms_per_frame": median["storm_wall"], "storm_cpu_ms_per_frame": median["storm_cpu"],
        "raw_panda3d_draw_ms_per_frame": median["draw_wall"], "raw_panda3d_draw_cpu_ms_per_frame": median["draw_cpu"],
        "ratio_vs_raw_draw": ratio(median["storm_wall"], median["draw_wall"]),
        "storm_fps": round(1000.0 / median["storm_wall"], 1) if median["storm_wall"] else None,
        "tick_ms_by_system": {name: round(total / args.frames, 3) for name, total in system_totals.items()},
        "frames": args.frames, "machine": machine_info(),
    }


def write_plot(path: Path, summary: dict[str, Any]) -> str | None:
    """Wall ms per frame: Storm's frame beside Panda3D drawing alone, and Storm's tick by system."""
    plt = pyplot()
    if plt is None:
        return None
    figure, (frame_axis, system_axis) = plt.subplots(1, 2, figsize=(11, 4.5))
    bars = frame_axis.bar(["Storm frame\n(tick + draw)", "Panda3D draw alone\n(same scene)"],
                          [summary["storm_ms_per_frame"], summary["raw_panda3d_draw_ms_per_frame"]],
                          color=["tab:blue", "tab:gray"])
    frame_axis.bar_label(bars, fmt="%.2f ms")
    frame_axis.set_ylabel("median wall ms / frame")
    frame_axis.set_title(f"{summary['world']} {summary['size']} ({summary['ratio_vs_raw_draw']}x)\n"
                         f"{summary['renderer'][:60]}", fontsize=9)
    systems = summary["tick_ms_by_system"]
    system_axis.barh(list(systems), list(systems.values()), color="tab:blue")
    system_axis.set_xlabel("mean ms per tick")
    system_axis.set_title("Storm's tick, by system", fontsize=10)
    return save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    summary = run(args)
    summary["plot"] = write_plot(args.plot, summary)
    emit(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
