"""Benchmark: the World as state — loading a 10k-entity world file, snapshot and restore, and
one edit command applied and undone.

Peers in the same run: the floor of loading in raw Panda3D (``json.load`` of the same file, then
10k ``attachNewNode`` + ``setPos``/``setHpr``/``setScale``). Storm's load does more (checks
every value against the field declarations, keeps ids, builds components and lets the render
system attach each entity's mesh), so the ratio says what that costs.

Usage (from the repository root)::

    .venv/bin/python -m tools.bench.world_state [--entities 10000] [--rounds 5]

stdout: one JSON object per measurement, the summary last. stderr: progress. A plot goes to
docs/img/bench_world_state.png.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):                      # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from panda3d.core import NodePath  # noqa: E402

from engine.core.edit_commands import SetFields  # noqa: E402
from engine.data.world_file import read_world  # noqa: E402
from engine.host.runtime import create_runtime  # noqa: E402
from tools.bench.common import REPO_ROOT, emit, machine_info, progress, pyplot, ratio, save_figure  # noqa: E402

PLOT = REPO_ROOT / "docs" / "img" / "bench_world_state.png"


def world_file(path: Path, count: int, seed: int = 1) -> Path:
    """A world of ``count`` crates spread over a field: a name, a transform and a tinted mesh each."""
    rng = random.Random(seed)
    entities = []
    for eid in range(1, count + 1):
        entities.append({
            "id": eid, "name": f"Crate {eid}",
            "transform": {"pos": [round(rng.uniform(-500, 500), 3), round(rng.uniform(-500, 500), 3), 0.5],
                          "hpr": [round(rng.uniform(0, 360), 2), 0, 0], "scale": [1, 1, round(rng.uniform(0.5, 2), 2)]},
            "components": {"MeshRenderer": {"color": [round(rng.random(), 3), 0.5, 0.5, 1]}},
        })
    path.write_text(json.dumps({"storm_world": 3, "name": "bench", "entities": entities}), encoding="utf-8")
    return path


def plain_world_file(path: Path, source: Path) -> Path:
    """The same entities with names and transforms only: exactly the work of the raw floor."""
    data = json.loads(source.read_text(encoding="utf-8"))
    for block in data["entities"]:
        del block["components"]
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def raw_load(path: Path) -> NodePath:
    """The floor: read the JSON and make one Panda3D node per entity with its transform."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    root = NodePath("world")
    for block in data["entities"]:
        node = root.attachNewNode(block["name"])
        transform = block["transform"]
        node.setPos(*transform["pos"])
        node.setHpr(*transform["hpr"])
        node.setScale(*transform["scale"])
    return root


def timed(fn: Callable[[], Any], rounds: int, cleanup: Callable[[Any], None] = lambda _: None) -> float:
    """Median wall ms of ``rounds`` calls (each result handed to ``cleanup`` untimed)."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000.0)
        cleanup(result)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    count, rounds = args.entities, args.rounds
    runtime = create_runtime()
    with tempfile.TemporaryDirectory() as folder:
        path = world_file(Path(folder) / "bench.world.json", count)
        progress(f"world file: {count} entities, {path.stat().st_size // 1024} KiB")
        read_world(path, runtime).close()  # warm caches (models, imports)
        raw_load(path).removeNode()
        progress(f"loading, {rounds} rounds each (Storm game profile, Storm server profile, raw Panda3D)")
        storm_ms, raw_ms = [], []
        for _ in range(rounds):  # alternate, so both see the same moments of a noisy machine
            start = time.perf_counter()
            world = read_world(path, runtime)
            storm_ms.append((time.perf_counter() - start) * 1000.0)
            world.close()
            start = time.perf_counter()
            root = raw_load(path)
            raw_ms.append((time.perf_counter() - start) * 1000.0)
            root.removeNode()
        server = _ServerMaker(runtime)
        server_ms = timed(lambda: read_world(path, server), rounds, lambda w: w.close())
        plain = plain_world_file(Path(folder) / "plain.world.json", path)
        plain_ms = timed(lambda: read_world(plain, runtime), rounds, lambda w: w.close())
        plain_raw_ms = timed(lambda: raw_load(plain), rounds, lambda root: root.removeNode())
        load, raw = statistics.median(storm_ms), statistics.median(raw_ms)
        emit({"bench": "world_state", "what": "load", "entities": count, "storm_ms": round(load, 1),
              "storm_server_profile_ms": round(server_ms, 1), "raw_panda3d_ms": round(raw, 1),
              "storm_plain_entities_ms": round(plain_ms, 1), "raw_panda3d_plain_ms": round(plain_raw_ms, 1)})

        world = read_world(path, runtime)
        progress("snapshot and restore")
        snapshot_ms = timed(world.snapshot, rounds)
        snap = world.snapshot()
        restore_ms = timed(lambda: world.restore(snap), rounds)
        moved = []
        for _ in range(rounds):
            for eid in range(1, count + 1, 10):  # a tenth of the world moved since the snapshot
                world.node(eid).setZ(3.0)
            start = time.perf_counter()
            world.restore(snap)
            moved.append((time.perf_counter() - start) * 1000.0)
            assert world.node(1).getZ() == 0.5, "restore did not put the entities back"
        moved_restore_ms = statistics.median(moved)
        emit({"bench": "world_state", "what": "snapshot", "entities": count, "snapshot_ms": round(snapshot_ms, 2),
              "restore_unchanged_ms": round(restore_ms, 2), "restore_after_moves_ms": round(moved_restore_ms, 2)})

        progress("one SetFields command applied and undone")
        command_us = _command_us(world, SetFields(5, "MeshRenderer", {"color": [0.2, 0.4, 0.6, 1]}))
        world.close()
    summary = {
        "bench": "world_state", "entities": count,
        "load_10k_ms": round(load, 1), "raw_load_10k_ms": round(raw, 1), "load_ratio_vs_raw": ratio(load, raw),
        "load_server_profile_ms": round(server_ms, 1), "load_server_ratio_vs_raw": ratio(server_ms, raw),
        "load_plain_10k_ms": round(plain_ms, 1), "plain_ratio_vs_raw": ratio(plain_ms, plain_raw_ms),
        "snapshot_10k_ms": round(snapshot_ms, 2), "restore_10k_ms": round(moved_restore_ms, 2),
        "restore_unchanged_10k_ms": round(restore_ms, 2),
        "command_us": round(command_us, 2),
        "goals": {"load_ratio_vs_raw": 3.0, "load_10k_ms": 1000, "snapshot_10k_ms": 50, "restore_10k_ms": 300,
                  "command_us": 20},
        "machine": machine_info(),
    }
    _plot(summary)
    emit(summary)
    return 0


class _ServerMaker:
    """The runtime, making worlds of the ``server`` profile (no render, animation, camera or audio)."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self.prefabs, self.assets = runtime.prefabs, runtime.assets

    def registry(self) -> Any:
        return self._runtime.registry()

    def new_world(self, **kwargs: Any) -> Any:
        return self._runtime.new_world(profile="server", **kwargs)


def _command_us(world: Any, command: Any, repeats: int = 20_000) -> float:
    for _ in range(1000):
        world.apply(world.apply(command))
    start = time.perf_counter()
    for _ in range(repeats):
        world.apply(world.apply(command))
    return (time.perf_counter() - start) / repeats * 1e6


def _plot(summary: dict[str, Any]) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    bars = left.bar(["raw Panda3D\n(floor)", "Storm\nserver profile", "Storm\ngame profile"],
                    [summary["raw_load_10k_ms"], summary["load_server_profile_ms"], summary["load_10k_ms"]],
                    color=["#999999", "#6a9fd4", "#2a6fb0"])
    left.bar_label(bars, fmt="%.0f ms")
    goal = summary["raw_load_10k_ms"] * summary["goals"]["load_ratio_vs_raw"]
    left.axhline(goal, color="#c0392b", linestyle="--", linewidth=1)
    left.text(-0.4, goal, " goal: 3x the floor", color="#c0392b", va="bottom", fontsize=8)
    left.set_ylim(0, max(goal, summary["load_10k_ms"]) * 1.18)
    left.set_title(f"load a {summary['entities']:,}-entity world file")
    left.set_ylabel("ms (median)")
    bars = right.bar(["snapshot", "restore\n(a tenth moved)", "restore\n(unchanged)"],
                     [summary["snapshot_10k_ms"], summary["restore_10k_ms"], summary["restore_unchanged_10k_ms"]],
                     color=["#2a6fb0", "#6a9fd4", "#a9c8e8"])
    right.bar_label(bars, fmt="%.1f ms")
    right.axhline(summary["goals"]["snapshot_10k_ms"], color="#c0392b", linestyle="--", linewidth=1)
    right.text(-0.4, summary["goals"]["snapshot_10k_ms"], " snapshot goal 50 ms (restore: 300 ms)", color="#c0392b",
               va="bottom", fontsize=8)
    right.set_ylim(0, max(summary["goals"]["snapshot_10k_ms"], summary["restore_10k_ms"]) * 1.2)
    right.set_title("snapshot and restore of that world")
    figure.suptitle(f"Storm world state, {summary['machine']['cpus']} CPUs; command apply+undo "
                    f"{summary['command_us']:.1f} us", fontsize=9)
    progress(f"plot: {save_figure(figure, PLOT)}")


if __name__ == "__main__":
    sys.exit(main())
