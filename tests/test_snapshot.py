"""World snapshots: the demo world restored from a snapshot re-runs bit for bit (file, every matrix,
every body's velocities) while the player charges the crate stack; restore undoes entities and
components made or removed since, brings behaviours' own state back and touches only the fields
that differ; a snapshot of another world file is refused; the random source and clock come back."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from panda3d.bullet import BulletRigidBodyNode

from engine.audio import AudioSource
from engine.core.errors import StormError
from engine.core.events import FieldChanged
from engine.core.world import World
from engine.data.world_file import read_world, save_world, world_to_data
from engine.host.runtime import create_runtime
from engine.input import InputSystem, ScriptedSource
from engine.input.actions import ActionFrame
from engine.packs.json_text import dumps_canonical
from engine.physics import Collider, PhysicsSystem, RigidBody
from engine.render.components import MeshRenderer
from tests.conftest import DEMO_WORLD

DT = 1.0 / 60.0
PLAYER, DOOR, TRIGGER, BALL, LAMP = 30, 49, 50, 6, 9
CRATES = range(21, 27)


def demo_world() -> World:
    runtime = create_runtime()
    runtime.per_user_input = False
    return read_world(DEMO_WORLD, runtime)


def player_input(tick: int) -> ActionFrame:
    """The player stands for 8 s, runs through the crate stack (jumping every second), turns back
    into the scattered crates at tick 600 and runs off past them."""
    if tick < 480:
        return ActionFrame()
    held = {"run", "jump"} if tick % 60 == 0 else {"run"}
    move = (0.6, 0.8) if tick < 600 else (-0.5, -0.85) if tick < 780 else (0.9, -0.1)
    return ActionFrame(frozenset(held), {}, {"move": move})


def spawn_and_remove(world: World, tick: int) -> None:
    """Changes made while the world runs: a crate destroyed, a new one dropped, a sound taken away."""
    if tick == 700:
        world.destroy(23)
        spare = world.create_entity("Spare crate")
        world.node(spare).setPos(7.0, -1.0, 3.0)
        world.add(spare, MeshRenderer(model="base:models/crate.gltf"))
        world.add(spare, RigidBody(mass=10.0))
        world.add(spare, Collider())
    elif tick == 760:
        world.remove(22, AudioSource)


def play(world: World, start: int, ticks: int, director: Callable[[World, int], None] | None = None) -> None:
    world.system(InputSystem).set_source(ScriptedSource([player_input(t) for t in range(start, start + ticks)]))
    for tick in range(start, start + ticks):
        if director is not None:
            director(world, tick)
        world.tick(DT)


def saved_text(world: World) -> str:
    return dumps_canonical(world_to_data(world))


def exact_state(world: World) -> tuple[str, dict[int, tuple[float, ...]], dict[int, tuple[float, ...]]]:
    """The saved file, every entity's matrix as 16 floats, every rigid body's linear and angular velocity."""
    physics = world.system(PhysicsSystem)
    matrices = {eid: tuple(value for row in world.node(eid).getMat() for value in row) for eid in world.entities()}
    velocities = {}
    for eid in world.entities():
        body = physics.body(eid)
        if body is not None and isinstance(body.node, BulletRigidBodyNode):
            velocities[eid] = (*body.node.getLinearVelocity(), *body.node.getAngularVelocity())
    return saved_text(world), matrices, velocities


def test_a_restored_world_runs_on_bit_for_bit_like_the_original() -> None:
    world = demo_world()
    play(world, 0, 600)
    physics = world.system(PhysicsSystem)
    assert max(abs(v) for eid in CRATES for v in physics.velocity(eid)) > 1.0   # the stack is flying apart
    snapshot = world.snapshot()
    at_snapshot = saved_text(world)
    play(world, 600, 300, spawn_and_remove)
    first = exact_state(world)
    assert not world.exists(23) and world.find("Spare crate")

    world.restore(snapshot)
    assert saved_text(world) == at_snapshot
    play(world, 600, 300, spawn_and_remove)
    second = exact_state(world)
    assert second[0] == first[0]
    assert second[1] == first[1]
    assert second[2] == first[2]


def test_restore_undoes_entities_and_components_made_or_removed_since() -> None:
    world = demo_world()
    play(world, 0, 30)
    snapshot = world.snapshot()
    at_snapshot = saved_text(world)
    ids = world.entities()
    types = {eid: [type(c) for c in world.components(eid)] for eid in ids}

    lamp_parts = [eid for eid in ids if world.parent_of(eid) == LAMP]
    world.destroy(LAMP)                                   # a prefab instance with its child entities
    world.destroy(24)
    world.remove(21, Collider)
    world.add(21, Collider(size=(2.0, 2.0, 2.0)))         # re-added: now last in the entity's list
    world.remove(25, AudioSource)
    world.set_field(5, world.get(5, MeshRenderer), "color", (1.0, 0.0, 0.0, 1.0))
    world.set_name(7, "Renamed capsule")
    world.reparent(8, 7)
    extra = world.create_entity("Newcomer", parent=5)
    world.add(extra, MeshRenderer())
    play(world, 30, 60)
    assert not world.exists(LAMP) and lamp_parts and not any(world.exists(p) for p in lamp_parts)

    world.restore(snapshot)
    assert world.entities() == ids
    assert {eid: [type(c) for c in world.components(eid)] for eid in ids} == types
    assert not world.exists(extra) and world.parent_of(8) == 0 and world.name_of(7) == "Yellow capsule"
    assert [world.parent_of(p) for p in lamp_parts] == [LAMP] * len(lamp_parts)
    assert LAMP in world.prefab_instances
    assert saved_text(world) == at_snapshot
    assert world.create_entity("next") == snapshot.next_id   # ids go on from where they were


def test_restore_sends_field_changes_only_for_fields_that_differ() -> None:
    world = demo_world()
    play(world, 0, 10)
    snapshot = world.snapshot()
    box = world.get(5, MeshRenderer)
    colour = box.color
    world.set_field(5, box, "color", (0.0, 0.0, 1.0, 1.0))
    world.set_field(5, box, "visible", False)
    changes: list[tuple[int, str]] = []
    world.events.subscribe(FieldChanged, lambda event: changes.append((event.entity, event.field)))
    world.restore(snapshot)
    assert sorted(changes) == [(5, "color"), (5, "visible")]
    assert box.color == colour and box.visible and world.get(5, MeshRenderer) is box
    changes.clear()
    world.restore(snapshot)                                # nothing differs: nothing is sent
    assert changes == []


def door_of(world: World) -> Any:
    return world.get(DOOR, world.registry.resolve("base:door.TriggeredDoor"))


def test_behaviours_get_their_own_state_back_and_keep_reacting() -> None:
    world = demo_world()
    play(world, 0, 30)
    bobber = world.get(BALL, world.registry.resolve("base:motion.Bobber"))
    world.node(PLAYER).setPos(0.0, 8.5, 0.05)              # into the doorway: the door starts to open
    play(world, 30, 20)
    door = door_of(world)
    assert 0.0 < door.openness < 1.0 and door.open_count == 1
    snapshot = world.snapshot()
    half_open, bob_time, door_pos = door.openness, bobber._t, world.node(DOOR).getPos()

    play(world, 50, 90)
    assert door.is_open and bobber._t > bob_time
    world.restore(snapshot)
    assert door_of(world) is door and door.openness == half_open and door._inside == {PLAYER}
    assert bobber._t == bob_time and world.node(DOOR).getPos() == door_pos

    world.destroy(DOOR)                                    # destroyed since: comes back as a new object
    play(world, 50, 5)
    world.restore(snapshot)
    door = door_of(world)
    assert door.openness == half_open and door.open_count == 1 and door._inside == {PLAYER}
    play(world, 50, 90)
    assert door.is_open                                    # it went on opening without starting over
    world.node(PLAYER).setPos(0.0, 0.0, 0.05)              # out of the trigger: the door hears it leave
    play(world, 140, 120)
    assert door.is_closed and door._inside == set() and door.open_count == 1


def test_a_snapshot_of_another_world_file_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    world = demo_world()
    play(world, 0, 10)
    snapshot = world.snapshot()
    other_file = tmp_path / "other.world.json"
    save_world(world, other_file)
    other = read_world(other_file, create_runtime())
    other.tick(DT)
    other.destroy(24)
    other.flush_destroyed()
    before, ids = saved_text(other), other.entities()
    with pytest.raises(StormError, match="same origin") as raised:
        other.restore(snapshot)
    assert str(DEMO_WORLD.resolve()) in str(raised.value) and str(other_file.resolve()) in str(raised.value)
    assert saved_text(other) == before and other.entities() == ids and other.tick_count == 1


def test_the_random_source_tick_count_and_clock_come_back() -> None:
    world = demo_world()
    play(world, 0, 10)
    world.random.random()
    clock = world.time
    snapshot = world.snapshot()
    draws = [world.random.random() for _ in range(5)]
    play(world, 10, 50)
    world.random.random()
    world.restore(snapshot)
    assert (world.tick_count, world.time) == (10, clock)
    assert [world.random.random() for _ in range(5)] == draws
