"""Trigger enter/exit and collision events (bus and behaviours), and raycast/sweep/overlap queries."""
from __future__ import annotations

import logging

import pytest

from engine.core.world import World
from engine.physics import (
    CharacterController,
    Collider,
    Collision,
    CollisionEnded,
    PhysicsSystem,
    RigidBody,
    ShapeSpec,
    Trigger,
    TriggerEntered,
    TriggerExited,
)
from engine.scripting.behaviour import Behaviour

DT = 1.0 / 60.0


class Recorder(Behaviour):
    """Writes down every physics callback it gets."""

    def __init__(self, **values: object) -> None:
        super().__init__(**values)
        self.calls: list[tuple[str, object]] = []

    def on_collision(self, event: Collision) -> None:
        self.calls.append(("collision", event))

    def on_collision_end(self, event: CollisionEnded) -> None:
        self.calls.append(("collision_end", event))

    def on_trigger_enter(self, event: TriggerEntered) -> None:
        self.calls.append(("enter", event))

    def on_trigger_exit(self, event: TriggerExited) -> None:
        self.calls.append(("exit", event))


class Exploding(Behaviour):
    def on_collision(self, event: Collision) -> None:
        raise RuntimeError("boom")


def physics_world() -> tuple[World, PhysicsSystem, list[object]]:
    world = World()
    physics = world.add_system(PhysicsSystem())
    seen: list[object] = []
    for kind in (Collision, CollisionEnded, TriggerEntered, TriggerExited):
        world.events.subscribe(kind, seen.append)
    ground = world.create_entity("ground")
    world.node(ground).setPos(0, 0, -0.5)
    world.add(ground, Collider(shape="box", size=(60, 60, 1)))
    return world, physics, seen


def zone(world: World, pos: tuple[float, float, float], size: float = 2.0) -> int:
    eid = world.create_entity("zone")
    world.node(eid).setPos(*pos)
    world.add(eid, Trigger())
    world.add(eid, Collider(shape="box", size=(size, size, size)))
    return eid


def body(world: World, name: str, pos: tuple[float, float, float], **fields: object) -> int:
    eid = world.create_entity(name)
    world.node(eid).setPos(*pos)
    world.add(eid, RigidBody(**fields))
    world.add(eid, Collider(shape="box"))
    return eid


def run(world: World, ticks: int) -> None:
    for _ in range(ticks):
        world.tick(DT)


def test_trigger_fires_once_per_entry_and_once_per_exit() -> None:
    world, _, seen = physics_world()
    gate = zone(world, (0, 0, 1))
    recorder = world.add(gate, Recorder())
    shuttle = body(world, "shuttle", (-6, 0, 1), kinematic=True)
    for _ in range(2):                                     # two passes through the gate and back
        for x in [-6 + 0.1 * i for i in range(121)] + [6 - 0.1 * i for i in range(121)]:
            world.node(shuttle).setX(x)
            world.tick(DT)
    events = [e for e in seen if isinstance(e, (TriggerEntered, TriggerExited))]
    assert events == [TriggerEntered(gate, shuttle), TriggerExited(gate, shuttle)] * 4
    assert [name for name, _ in recorder.calls] == ["enter", "exit"] * 4


def test_trigger_does_not_block_and_reports_bodies_and_characters_inside() -> None:
    world, physics, seen = physics_world()
    gate = zone(world, (0, 0, 1), size=3.0)
    crate = body(world, "crate", (0, 0.8, 5))
    walker = world.create_entity("walker")
    world.node(walker).setPos(-5, -0.8, 0)
    controller = world.add(walker, CharacterController(move=(1, 0, 0)))
    mover = world.add(walker, Recorder())
    run(world, 120)                                        # the walker crosses the gate at 4 m/s
    controller.move = (0, 0, 0)
    run(world, 60)
    assert abs(world.node(crate).getZ() - 0.5) < 0.02      # fell through the trigger onto the ground
    assert world.node(walker).getX() > 2.5
    assert [e for e in seen if isinstance(e, (TriggerEntered, TriggerExited))] == [
        TriggerEntered(gate, crate), TriggerEntered(gate, walker), TriggerExited(gate, walker)]
    assert [name for name, _ in mover.calls] == ["enter", "exit"]
    assert physics.body(gate).inside == {crate}  # type: ignore[union-attr]


def test_destroyed_entity_leaves_the_trigger() -> None:
    world, _, seen = physics_world()
    gate = zone(world, (0, 0, 1))
    crate = body(world, "crate", (0, 0, 1), gravity_scale=0.0)
    run(world, 3)
    world.destroy(crate)
    run(world, 3)
    assert [e for e in seen if isinstance(e, (TriggerEntered, TriggerExited))] == [
        TriggerEntered(gate, crate), TriggerExited(gate, crate)]


def test_collision_event_reaches_behaviours_with_point_normal_and_impulse() -> None:
    world, _, seen = physics_world()
    crate = body(world, "crate", (0, 0, 3))
    recorder = world.add(crate, Recorder())
    run(world, 90)
    collisions = [e for e in seen if isinstance(e, Collision)]
    assert len(collisions) == 1                            # once when contact starts, not every tick
    name, mine = recorder.calls[0]
    assert name == "collision" and isinstance(mine, Collision)
    assert mine.entity_a == crate and mine.entity_b == world.find("ground")
    assert abs(mine.point[2]) < 0.1 and abs(mine.point[0]) <= 0.51   # on the ground, under the crate
    assert mine.normal[2] > 0.99                           # points from the ground towards the crate
    assert mine.impulse > 1.0                              # ~ mass x landing speed (about 7 m/s)
    assert collisions[0] == mine or collisions[0] == mine.flipped()
    world.node(crate).setZ(3)                              # lift it off: the contact ends
    run(world, 90)
    assert [name for name, _ in recorder.calls] == ["collision", "collision_end", "collision"]


def test_report_collisions_field_sends_events_without_a_behaviour() -> None:
    world, _, seen = physics_world()
    quiet = body(world, "quiet", (0, 0, 2))
    loud = body(world, "loud", (3, 0, 2))
    world.get(loud, Collider).report_collisions = True  # type: ignore[union-attr]
    world.system(PhysicsSystem).refresh(loud)
    run(world, 60)
    collisions = [e for e in seen if isinstance(e, Collision)]
    assert [sorted((c.entity_a, c.entity_b)) for c in collisions] == [sorted((world.find("ground"), loud))]
    assert quiet not in (collisions[0].entity_a, collisions[0].entity_b)


def test_a_failing_collision_handler_is_logged_and_the_world_keeps_running(caplog: pytest.LogCaptureFixture) -> None:
    world, _, _ = physics_world()
    crate = body(world, "crate", (0, 0, 2))
    world.add(crate, Exploding())
    with caplog.at_level(logging.ERROR, logger="storm.physics"):
        run(world, 60)
    assert any("entity 2 (crate)" in r.getMessage() and "on_collision" in r.getMessage() for r in caplog.records)
    assert abs(world.node(crate).getZ() - 0.5) < 0.02


def test_raycast_finds_the_nearest_body_and_can_ignore_some() -> None:
    world, physics, _ = physics_world()
    low = body(world, "low", (0, 0, 0.5), kinematic=True)
    high = body(world, "high", (0, 0, 3), kinematic=True)
    gate = zone(world, (0, 0, 6))
    hit = physics.raycast((0, 0, 10), (0, 0, -10))
    assert hit is not None and hit.entity == high
    assert hit.point == pytest.approx((0, 0, 3.5), abs=1e-4) and hit.normal == pytest.approx((0, 0, 1), abs=1e-4)
    assert hit.distance == pytest.approx(6.5, abs=1e-4)
    assert physics.raycast((0, 0, 10), (0, 0, -10), ignore=high).entity == low  # type: ignore[union-attr]
    assert physics.raycast((0, 0, 10), (0, 0, -10), triggers=True).entity == gate  # type: ignore[union-attr]
    order = [h.entity for h in physics.raycast_all((0, 0, 10), (0, 0, -10))]
    assert order == [high, low, world.find("ground")]
    assert physics.raycast((50, 50, 10), (50, 50, 5)) is None


def test_sweep_and_overlap_queries() -> None:
    world, physics, _ = physics_world()
    crate = body(world, "crate", (5, 0, 0.5), kinematic=True)
    hit = physics.sweep(ShapeSpec("sphere", radius=0.25), (0, 0, 0.5), (10, 0, 0.5))
    assert hit is not None and hit.entity == crate
    assert hit.point[0] == pytest.approx(4.5, abs=0.02) and hit.distance == pytest.approx(4.25, abs=0.05)
    assert physics.sweep(ShapeSpec("sphere", radius=0.25), (0, 3, 0.5), (10, 3, 0.5)) is None
    ground = world.find("ground")
    assert physics.overlap(ShapeSpec("sphere", radius=1.0), (5, 0, 1.0)) == [ground, crate]
    assert physics.overlap(ShapeSpec("box", size=(1, 1, 1)), (0, 0, 3)) == []
    assert physics.overlap(ShapeSpec("sphere", radius=1.0), (5, 0, 1.0), layers=0b10) == []
