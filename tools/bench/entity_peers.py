"""Worker side of the entities benchmark: one peer, one entity count, one process.

Run by ``tools/bench/entities.py`` as ``python -m tools.bench.entity_peers PEER COUNT WARMUP FRAMES``.
ShowBase, Ursina and esper keep process-global state, so every measurement gets a fresh process.

Frame-loop peers (``storm``, ``raw_panda3d``, ``ursina``) give every entity a NodePath that moves
``+0.01`` along X each frame, with ``window-type none`` (nothing is rendered) and the null audio
library, and time one whole frame including ``taskMgr.step()``. Query peers (``storm_query``,
``esper_query``) time one full pass over a cached two-component query.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable

from tools.bench.common import report_result, time_frames, time_paired

FRAME_PEERS = ("storm", "raw_panda3d", "ursina")
QUERY_PEERS = ("storm_query", "esper_query")
STEP = 0.01
HEADLESS_PRC = "window-type none\naudio-library-name null\nsync-video false\n"

Setup = tuple[Callable[[], Any], Callable[[], float], dict[str, Any]]


def _headless_prc(window_type: str = "none") -> None:
    from panda3d.core import loadPrcFileData

    extra = "load-display p3headlessgl\n" if window_type == "offscreen" else ""
    loadPrcFileData("storm-bench", HEADLESS_PRC.replace("window-type none", f"window-type {window_type}") + extra)


def setup_storm(count: int) -> Setup:
    """A Storm world from the standard runtime, one Behaviour per entity, driven by a headless App."""
    from engine.host.app import App
    from engine.host.runtime import create_runtime
    from engine.scripting.behaviour import Behaviour

    class Mover(Behaviour):
        """Moves its entity along X every tick, like the raw loop does for every node."""

        def on_update(self, dt: float) -> None:
            node = self.node
            node.setX(node.getX() + 0.01)

    app = App(mode="headless")
    world = create_runtime().new_world(name="bench")
    start = time.perf_counter()
    for index in range(count):
        world.add(world.create_entity(f"mover{index}"), Mover())
    create_s = time.perf_counter() - start
    app.load(world)
    first = world.node(1)
    nodes = [world.node(eid) for eid in world.entities()]
    ticks = [0]

    def frame() -> None:
        ticks[0] += app.step(1.0 / 60.0)

    def raw_frame() -> None:
        for node in nodes:
            node.setX(node.getX() + 0.01)
        app.base.taskMgr.step()

    return frame, first.getX, {"create_s": create_s, "mode": app.mode, "ticks": ticks, "paired_raw": raw_frame}


def setup_raw_panda3d(count: int) -> Setup:
    """Plain ShowBase: one task moves every node, ``taskMgr.step()`` per frame."""
    _headless_prc()
    from direct.showbase.ShowBase import ShowBase
    from direct.task import Task

    base = ShowBase(windowType="none")
    parent = base.render.attachNewNode("movers")
    start = time.perf_counter()
    nodes = [parent.attachNewNode(f"mover{index}") for index in range(count)]
    create_s = time.perf_counter() - start

    def move(task: Any) -> int:
        for node in nodes:
            node.setX(node.getX() + 0.01)
        return Task.cont

    base.taskMgr.add(move, "move-all")
    return base.taskMgr.step, nodes[0].getX, {"create_s": create_s}


def setup_ursina(count: int, window_type: str = "none") -> Setup:
    """Ursina 7 with ``window_type='none'``: entities whose ``update()`` does ``x += .01``."""
    _headless_prc(window_type)
    from ursina import Entity, Ursina, application

    app = Ursina(window_type=window_type)

    class Mover(Entity):
        """Ursina's per-entity update hook, the way its docs write it."""

        def update(self) -> None:
            self.x += 0.01

    start = time.perf_counter()
    movers = [Mover() for _ in range(count)]
    create_s = time.perf_counter() - start
    return app.step, lambda: float(movers[0].x), {"create_s": create_s, "window_type": application.window_type}


def setup_storm_query(count: int) -> Setup:
    """``world.query(Position, Velocity)`` over entities that all carry both components."""
    from engine.core.component import Component
    from engine.core.fields import Field, Float
    from engine.host.runtime import create_runtime

    class Position(Component):
        """Benchmark component: a 2D position."""

        x = Field(Float(), 0.0)
        y = Field(Float(), 0.0)

    class Velocity(Component):
        """Benchmark component: a 2D velocity."""

        dx = Field(Float(), STEP)
        dy = Field(Float(), 0.0)

    world = create_runtime().new_world(name="bench")
    start = time.perf_counter()
    for _ in range(count):
        eid = world.create_entity()
        world.add(eid, Position())
        world.add(eid, Velocity())
    create_s = time.perf_counter() - start
    query = world.query

    def one_pass() -> None:
        for _eid, position, velocity in query(Position, Velocity):
            position.x += velocity.dx

    first = world.get(1, Position)
    assert first is not None
    return one_pass, lambda: first.x, {"create_s": create_s}


def setup_esper_query(count: int) -> Setup:
    """``esper.get_components(Position, Velocity)`` on the same data, plain-class components."""
    import esper

    class Position:
        """Benchmark component: a 2D position."""

        def __init__(self) -> None:
            self.x = 0.0
            self.y = 0.0

    class Velocity:
        """Benchmark component: a 2D velocity."""

        def __init__(self) -> None:
            self.dx = STEP
            self.dy = 0.0

    start = time.perf_counter()
    first = Position()
    esper.create_entity(first, Velocity())
    for _ in range(count - 1):
        esper.create_entity(Position(), Velocity())
    create_s = time.perf_counter() - start
    get_components = esper.get_components

    def one_pass() -> None:
        for _ent, (position, velocity) in get_components(Position, Velocity):
            position.x += velocity.dx

    return one_pass, lambda: first.x, {"create_s": create_s, "esper": getattr(esper, "__version__", "?")}


SETUPS: dict[str, Callable[[int], Setup]] = {
    "storm": setup_storm, "raw_panda3d": setup_raw_panda3d, "ursina": setup_ursina,
    "ursina_offscreen": lambda count: setup_ursina(count, "offscreen"),
    "storm_query": setup_storm_query, "esper_query": setup_esper_query,
}


def measure(peer: str, count: int, warmup: int, frames: int) -> dict[str, Any]:
    """Build the peer's scene, time it, and check that the first entity really moved."""
    step, first_x, extra = SETUPS[peer](count)
    create_s = extra.pop("create_s")
    timing = time_frames(step, warmup, frames)
    expected_x = STEP * (warmup + frames)
    moved = abs(first_x() - expected_x) < 1e-3
    result: dict[str, Any] = {"peer": peer, "entities": count, "warmup": warmup, "frames": frames,
                              **{k: round(v, 4) for k, v in timing.items()},
                              "create_us_per_entity": round(create_s * 1e6 / count, 2),
                              "moved_ok": moved}
    if peer in FRAME_PEERS:
        result["render"] = "none"
    elif peer == "ursina_offscreen":
        result["render"] = "offscreen"
    if "ticks" in extra:
        result["ticks_per_frame"] = extra.pop("ticks")[0] / (warmup + frames)
    paired_raw = extra.pop("paired_raw", None)
    if paired_raw is not None:
        storm_ms, raw_ms = time_paired(step, paired_raw, frames)
        result["same_process"] = {"storm_cpu_ms": round(storm_ms, 4), "raw_loop_cpu_ms": round(raw_ms, 4),
                                  "ratio": round(storm_ms / raw_ms, 3)}
    result.update(extra)
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in SETUPS:
        sys.stderr.write(f"usage: python -m tools.bench.entity_peers {{{','.join(SETUPS)}}} COUNT WARMUP FRAMES\n")
        return 2
    report_result(measure(argv[0], int(argv[1]), int(argv[2]), int(argv[3])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
