"""Benchmark: 1,000 dynamic boxes falling into a pile, Storm's PhysicsSystem vs raw panda3d.bullet.

Both simulate the same scene (same shapes, masses, friction, damping, start poses, fixed step)
in the same process; each tick steps Storm's World and the raw BulletWorld once, timing each
separately (CPU time of this process, and wall time), alternating which goes first. The two
simulations must end with identical positions, which the summary checks.

Usage (from the repository root)::

    .venv/bin/python -m tools.bench.physics [--bodies 1000] [--ticks 600] [--seed 1]

stdout: the summary JSON object (one line, the last). stderr: progress.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from panda3d.bullet import BulletBoxShape, BulletRigidBodyNode, BulletWorld  # noqa: E402
from panda3d.core import NodePath, Vec3  # noqa: E402

from engine.core.world import World  # noqa: E402
from engine.physics import Collider, PhysicsSystem, RigidBody  # noqa: E402
from engine.physics.bodies import STATIC_FRICTION, STATIC_RESTITUTION  # noqa: E402
from tools.bench.common import REPO_ROOT, emit, machine_info, progress, pyplot, save_figure  # noqa: E402

GROUND_SIZE = (60.0, 60.0, 1.0)
BOX = 1.0
SPACING = 1.8   # more than a box's diagonal: boxes start apart whatever their orientation
GRAVITY = (0.0, 0.0, -9.81)


Pose = tuple[float, float, float, float, float, float]


def start_poses(count: int, seed: int) -> list[Pose]:
    """(x, y, z, h, p, r) of each box: a tower of tumbling boxes, from a seeded random source."""
    rng = random.Random(seed)
    side = max(1, round(math.sqrt(count / 10)))
    poses = []
    for index in range(count):
        layer, cell = divmod(index, side * side)
        row, column = divmod(cell, side)
        x = (column - (side - 1) / 2) * SPACING + rng.uniform(-0.02, 0.02)
        y = (row - (side - 1) / 2) * SPACING + rng.uniform(-0.02, 0.02)
        hpr = (rng.uniform(0, 360), rng.uniform(0, 360), rng.uniform(0, 360))
        poses.append((x, y, 1.0 + layer * SPACING, *hpr))
    return poses


def storm_scene(poses: list[Pose]) -> tuple[World, list[int]]:
    world = World(name="bench")
    world.add_system(PhysicsSystem(gravity=GRAVITY))
    ground = world.create_entity("ground")
    world.node(ground).setPos(0, 0, -GROUND_SIZE[2] / 2)
    world.add(ground, Collider(shape="box", size=GROUND_SIZE))
    boxes = []
    for index, pose in enumerate(poses):
        eid = world.create_entity(f"box{index}")
        world.node(eid).setPosHpr(*pose)
        world.add(eid, RigidBody(mass=1.0))
        world.add(eid, Collider(shape="box", size=(BOX, BOX, BOX)))
        boxes.append(eid)
    return world, boxes


def raw_scene(poses: list[Pose]) -> tuple[BulletWorld, list[NodePath]]:
    """The same scene written directly against panda3d.bullet, with Storm's default body settings."""
    defaults = RigidBody()
    bullet = BulletWorld()
    bullet.setGravity(Vec3(*GRAVITY))
    root = NodePath("raw")
    ground = BulletRigidBodyNode("ground")
    ground.addShape(BulletBoxShape(Vec3(*(s / 2 for s in GROUND_SIZE))))
    ground.setFriction(STATIC_FRICTION)
    ground.setRestitution(STATIC_RESTITUTION)
    root.attachNewNode(ground).setPos(0, 0, -GROUND_SIZE[2] / 2)
    bullet.attach(ground)
    paths = []
    for index, pose in enumerate(poses):
        node = BulletRigidBodyNode(f"box{index}")
        path = root.attachNewNode(node)
        path.setPosHpr(*pose)
        node.addShape(BulletBoxShape(Vec3(BOX / 2, BOX / 2, BOX / 2)))
        node.setMass(defaults.mass)
        node.setFriction(defaults.friction)
        node.setRestitution(defaults.restitution)
        node.setLinearDamping(defaults.linear_damping)
        node.setAngularDamping(defaults.angular_damping)
        bullet.attach(node)
        paths.append(path)
    return bullet, paths


def run(bodies: int, ticks: int, seed: int) -> tuple[dict[str, object], dict[str, list[float]]]:
    """The summary, and each side's CPU ms for every tick (for the plot)."""
    poses = start_poses(bodies, seed)
    world, boxes = storm_scene(poses)
    bullet, paths = raw_scene(poses)
    dt = 1.0 / 60.0
    world.tick(dt)              # builds the bodies; not timed, like building the raw scene
    bullet.doPhysics(dt, 1, dt)
    wall, cpu = time.perf_counter, time.process_time
    samples: dict[str, tuple[list[float], list[float]]] = {"storm": ([], []), "raw": ([], [])}
    system_ms: list[float] = []
    for tick in range(ticks):
        steps = [("storm", lambda: world.tick(dt)), ("raw", lambda: bullet.doPhysics(dt, 1, dt))]
        if tick % 2:
            steps.reverse()
        for name, step in steps:
            wall_start, cpu_start = wall(), cpu()
            step()
            cpu_ms, wall_ms = samples[name]
            cpu_ms.append((cpu() - cpu_start) * 1000.0)
            wall_ms.append((wall() - wall_start) * 1000.0)
        system_ms.append(world.system_ms["physics"])
        if tick % 100 == 99:
            progress(f"tick {tick + 1}/{ticks}")
    storm_positions = [world.node(eid).getPos() for eid in boxes]
    raw_positions = [path.getPos() for path in paths]
    divergence = max((a - b).length() for a, b in zip(storm_positions, raw_positions))
    storm_cpu, raw_cpu = (statistics.median(samples[name][0]) for name in ("storm", "raw"))
    storm_wall, raw_wall = (statistics.fmean(samples[name][1]) for name in ("storm", "raw"))
    summary = {
        "bench": "physics_pile",
        "bodies": bodies,
        "ticks": ticks,
        "seed": seed,
        "storm_ms_per_tick": round(storm_cpu, 4),
        "raw_bullet_ms_per_tick": round(raw_cpu, 4),
        "ratio_vs_raw_bullet": round(storm_cpu / raw_cpu, 4),
        "storm_wall_mean_ms": round(storm_wall, 4),
        "raw_bullet_wall_mean_ms": round(raw_wall, 4),
        "ratio_wall_mean": round(storm_wall / raw_wall, 4),
        "storm_physics_system_ms_per_tick": round(statistics.fmean(system_ms), 4),
        "pile_height_m": round(max(p.z for p in storm_positions), 3),
        "awake_bodies_at_end": sum(1 for path in paths if path.node().isActive()),
        "max_position_difference_m": round(divergence, 6),
        "same_simulation": divergence == 0.0,
        "goal_ratio": 1.15,
        "timing": "ms_per_tick = median CPU time of this process per tick; wall = mean wall time",
        "machine": machine_info(),
    }
    return summary, {"storm": samples["storm"][0], "raw": samples["raw"][0]}


def write_plot(path: Path, summary: dict[str, object], series: dict[str, list[float]]) -> str | None:
    """CPU ms per tick over the run for both sides: the pile falls, collides, then settles."""
    plt = pyplot()
    if plt is None:
        return None
    figure, axis = plt.subplots(figsize=(9, 4.5))
    axis.plot(series["storm"], label=f"Storm PhysicsSystem (median {summary['storm_ms_per_tick']} ms)", lw=0.8)
    axis.plot(series["raw"], label=f"raw panda3d.bullet (median {summary['raw_bullet_ms_per_tick']} ms)", lw=0.8, alpha=0.8)
    axis.set_xlabel("tick (60 Hz)")
    axis.set_ylabel("CPU ms per tick")
    axis.set_title(f"{summary['bodies']} boxes falling into a pile: Storm/raw = {summary['ratio_vs_raw_bullet']}x", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend()
    return save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plot", type=Path, default=REPO_ROOT / "out" / "bench_physics.png", help="PNG to write")
    args = parser.parse_args(argv)
    progress(f"{args.bodies} boxes, {args.ticks} ticks: Storm and raw panda3d.bullet side by side")
    summary, series = run(args.bodies, args.ticks, args.seed)
    summary["plot"] = write_plot(args.plot, summary, series)
    emit(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
