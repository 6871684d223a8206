"""Benchmark: what each part of the full renderer costs, the demo world at one size, each frame
waiting for the GPU (``gl-finish``), parts taken away one by one in the same process:

* ``full``: the game's renderer (simplepbr, sun shadow map, point-light shadow cube maps, sky);
* ``no_point_shadows``: the point lights' cube maps gone;
* ``no_shadows``: no light casts shadows either;
* ``no_terrain``: the terrain hidden too;
* ``empty``: nothing in the scene but the camera (the post pass and the clear alone).

Usage::

    .venv/bin/python -m tools.bench.render_parts [--size 1920x1080] [--frames 60]

stdout: one JSON object (milliseconds per frame, median). stderr: progress.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.bench.common import REPO_ROOT, emit, machine_info, progress  # noqa: E402


def _frames(app: Any, count: int) -> float:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        app.step(1.0 / 60.0)
        samples.append((time.perf_counter() - start) * 1000.0)
    return round(statistics.median(samples), 3)


def run(size: tuple[int, int], frames: int, world_path: Path) -> dict[str, Any]:
    from panda3d.core import loadPrcFileData

    loadPrcFileData("bench-parts", "gl-finish true")
    from engine.data.world_file import read_world
    from engine.host.app import App
    from engine.host.runtime import create_runtime
    from engine.terrain.components import Terrain

    world = read_world(world_path, create_runtime())
    app = App("offscreen", size=size)
    app.load(world)
    renderer = app.base.win.getGsg().getDriverRenderer()
    progress(f"{renderer}: {size[0]}x{size[1]}, {frames} frames a part")
    _frames(app, 20)
    result: dict[str, Any] = {"benchmark": "render_parts", "world": world_path.name, "size": f"{size[0]}x{size[1]}",
                              "renderer": renderer}
    result["full_ms"] = _frames(app, frames)
    if app.point_shadows is not None:
        app.point_shadows.destroy()
        app.point_shadows = None
    result["no_point_shadows_ms"] = _frames(app, frames)
    for path in app.base.render.findAllMatches("**/+LightLensNode"):
        path.node().setShadowCaster(False)
    result["no_shadows_ms"] = _frames(app, frames)
    for eid, _terrain in world.query(Terrain):
        world.node(eid).hide()
    result["no_terrain_ms"] = _frames(app, frames)
    world.root.hide()
    result["empty_ms"] = _frames(app, frames)
    result["machine"] = machine_info()
    app.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--world", type=Path, default=REPO_ROOT / "worlds" / "demo.world.json")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    emit(run((width, height), max(1, args.frames), args.world))
    return 0


if __name__ == "__main__":
    sys.exit(main())
