"""World snapshots: the demo world restored from a snapshot re-runs bit for bit (file, every matrix,
every body's velocities) while the player charges the crate stack; restore undoes entities and
components made or removed since, brings behaviours' own state back and touches only the fields
that differ; a snapshot of another world file is refused; the random source and clock come back."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from panda3d.bullet import BulletRigidBodyNode

from engine.animation import AnimationSystem
from engine.audio import AudioSource, AudioSystem
from engine.core.errors import StormError
from engine.core.events import FieldChanged
from engine.core.world import World
from engine.data.world_file import load_world_data, read_world, save_world, world_to_data
from engine.host.runtime import create_runtime
from engine.input import InputSystem, ScriptedSource
from engine.input.actions import ActionFrame
from engine.packs.json_text import dumps_canonical
from engine.physics import (
    Collider,
    Collision,
    CollisionEnded,
    Joint,
    PhysicsSystem,
    RigidBody,
    TriggerEntered,
    TriggerExited,
)
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
    """The player stands for 8 s, runs through the crate stack jumping every second and turning the
    camera a little, holds jump from tick 520 to 620 (one press: standing on the ground at 600, it
    does not jump again), runs back into the scattered crates and off past them, and turns the
    camera again."""
    if tick < 480:
        return ActionFrame()
    held = {"run", "jump"} if tick % 60 == 0 or 520 <= tick < 620 else {"run"}
    move = (0.6, 0.8) if tick < 600 else (-0.39, -0.92) if tick < 780 else (0.9, -0.1)
    vectors = {"move": move}
    if 540 <= tick < 560 or 800 <= tick < 820:
        vectors["look"] = (0.1, 0.0)
    return ActionFrame(frozenset(held), {}, vectors)


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


def exact_state(world: World) -> dict[str, Any]:
    """The saved file, every entity's matrix as 16 floats, every rigid body's linear and angular
    velocity, and where the player's animation has its hands and feet."""
    physics = world.system(PhysicsSystem)
    animation = world.system(AnimationSystem)
    matrices = {eid: flat(world.node(eid).getMat()) for eid in world.entities()}
    velocities = {}
    for eid in world.entities():
        body = physics.body(eid)
        if body is not None and isinstance(body.node, BulletRigidBodyNode):
            velocities[eid] = (*body.node.getLinearVelocity(), *body.node.getAngularVelocity())
    pose = {name: flat(animation.joint(PLAYER, name).getMat(world.root)) for name in ("hand_R", "foot_L")}
    return {"file": saved_text(world), "matrices": matrices, "velocities": velocities, "pose": pose,
            "weights": animation.weights(PLAYER)}


def flat(matrix: Any) -> tuple[float, ...]:
    return tuple(value for row in matrix for value in row)


def recorded_play(world: World, start: int, ticks: int,
                  director: Callable[[World, int], None] | None = None) -> dict[str, Any]:
    """``play``, with ``exact_state`` 20 ticks in (before anything has had time to even out) and at
    the end, the physics events sent and the sounds started meanwhile (when, which and how loud: a
    restore stops sounds started or restarted after the snapshot, so the motion a sound starts with
    may differ)."""
    events: list[Any] = []
    stops = [world.events.subscribe(kind, events.append)
             for kind in (Collision, CollisionEnded, TriggerEntered, TriggerExited)]
    device = world.system(AudioSystem).device
    heard = len(device.played)
    early: dict[str, Any] = {}

    def direct_and_probe(world: World, tick: int) -> None:
        if director is not None:
            director(world, tick)
        if tick == start + 20:
            early.update(exact_state(world))

    play(world, start, ticks, direct_and_probe)
    for stop in stops:
        stop()
    sounds = [(r.tick, r.entity, r.sound, r.volume, r.cause) for r in list(device.played)[heard:]]
    return {**exact_state(world), "early": early, "events": events, "sounds": sounds}


def test_a_restored_world_runs_on_bit_for_bit_like_the_original() -> None:
    world = demo_world()
    play(world, 0, 600)
    physics = world.system(PhysicsSystem)
    assert max(abs(v) for eid in CRATES for v in physics.velocity(eid)) > 1.0   # the stack is flying apart
    snapshot = world.snapshot()
    at_snapshot = saved_text(world)
    first = recorded_play(world, 600, 300, spawn_and_remove)
    assert not world.exists(23) and world.find("Spare crate")
    assert any(isinstance(event, Collision) for event in first["events"]) and first["sounds"]

    world.restore(snapshot)
    assert saved_text(world) == at_snapshot
    second = recorded_play(world, 600, 300, spawn_and_remove)
    for key in first:
        assert second[key] == first[key], key


def test_a_snapshot_goes_into_another_world_loaded_from_the_same_file() -> None:
    world = demo_world()
    play(world, 0, 600)
    snapshot = world.snapshot()
    at_snapshot = saved_text(world)
    original = recorded_play(world, 600, 300, spawn_and_remove)

    fresh = demo_world()                                  # never ticked: no bodies, no behaviour started
    fresh.restore(snapshot)
    assert saved_text(fresh) == at_snapshot
    again = recorded_play(fresh, 600, 300, spawn_and_remove)
    for key in original:
        if key == "early":
            assert_same_but_pose(again[key], original[key])
        elif key == "pose":
            assert_close_pose(again[key], original[key])
        else:
            assert again[key] == original[key], key
    assert_close_pose(again["early"]["pose"], original["early"]["pose"])


def assert_same_but_pose(state: dict[str, Any], expected: dict[str, Any]) -> None:
    for key in expected:
        if key != "pose":
            assert state[key] == expected[key], key


def assert_close_pose(pose: dict[str, tuple[float, ...]], expected: dict[str, tuple[float, ...]]) -> None:
    """Another world has another Actor: Panda3D sums the blended clips in the order of their controls'
    addresses (PartBundle's blend map), so joints agree to float32 rounding, not bit for bit. The
    phases and weights that drive them are compared exactly."""
    assert pose.keys() == expected.keys()
    for joint, values in expected.items():
        assert max(abs(a - b) for a, b in zip(pose[joint], values)) < 1e-5, joint


def test_a_snapshot_of_a_world_at_rest_leaves_its_file_as_it_was() -> None:
    """What the editor's Play does before the first tick: nothing in the file may change."""
    entities = [{"id": 1, "name": "Ground", "transform": {"pos": [0, 0, -0.5]},
                 "components": {"Collider": {"size": [60, 60, 1]}}},
                {"id": 2, "name": "Tilted crate", "transform": {"pos": [0, 0, 3], "hpr": [30, 10, 5]},
                 "components": {"RigidBody": {}, "Collider": {}}},
                {"id": 3, "name": "Long crate", "transform": {"pos": [3, 0, 0.5], "hpr": [33.3, 0, 0],
                                                              "scale": [1, 2, 1]},
                 "components": {"RigidBody": {}, "Collider": {}}}]
    world = load_world_data({"storm_world": 2, "entities": entities}, "crates.world.json", create_runtime())
    before = saved_text(world)
    snapshot = world.snapshot()
    assert saved_text(world) == before
    play(world, 0, 60)
    world.restore(snapshot)
    assert saved_text(world) == before


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
    world.node(PLAYER).setPos(0.0, 0.0, 0.05)              # out again: the door closes
    play(world, 140, 30)
    assert door._inside == set() and bobber._t > bob_time
    world.restore(snapshot)
    assert door_of(world) is door and door.openness == half_open and door._inside == {PLAYER}
    assert bobber._t == bob_time and world.node(DOOR).getPos() == door_pos
    crossings: list[Any] = []
    for kind in (TriggerEntered, TriggerExited):
        world.events.subscribe(kind, crossings.append)
    play(world, 50, 1)
    assert crossings == [] and door.openness > half_open  # the player is still inside, as it was

    world.destroy(DOOR)                                    # destroyed since (it leaves the trigger): comes back
    play(world, 51, 5)
    world.restore(snapshot)
    door = door_of(world)
    assert door.openness == half_open and door.open_count == 1 and door._inside == {PLAYER}
    play(world, 50, 90)
    assert door.is_open                                    # it went on opening without starting over
    world.node(PLAYER).setPos(0.0, 0.0, 0.05)              # out of the trigger: the door hears it leave
    play(world, 140, 120)
    assert door.is_closed and door._inside == set() and door.open_count == 1
    assert [(type(event), event.entity) for event in crossings] == [(TriggerExited, DOOR), (TriggerExited, PLAYER)]


def test_a_snapshot_barely_disturbs_a_moving_body() -> None:
    """Taking a snapshot rebuilds Bullet, but bodies go on from where Bullet had them (Panda3D shows
    them a step late): a crate thrown through the air flies on as if nothing had happened."""
    def thrown(snapshot_at: int) -> tuple[float, ...]:
        world = demo_world()
        crate = world.create_entity("Thrown crate")
        world.node(crate).setPos(40.0, 40.0, 20.0)
        world.add(crate, RigidBody(mass=10.0))
        world.add(crate, Collider())
        play(world, 0, 1)
        world.system(PhysicsSystem).set_velocity(crate, (4.0, 3.0, 6.0))
        for tick in range(1, 60):
            if tick == snapshot_at:
                world.snapshot()
            world.tick(DT)
        return tuple(world.node(crate).getPos())

    untouched, snapped = thrown(-1), thrown(30)
    assert max(abs(a - b) for a, b in zip(untouched, snapped)) < 1e-4   # one tick's flight is ~0.1 m


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


def test_joints_keep_their_frames_and_broken_state_and_swing_on_identically() -> None:
    world = World()
    physics = world.add_system(PhysicsSystem())

    def box(name: str, pos: tuple[float, float, float], **fields: Any) -> int:
        eid = world.create_entity(name)
        world.node(eid).setPos(*pos)
        world.add(eid, RigidBody(**fields))
        world.add(eid, Collider(size=(0.5, 0.5, 0.5)))
        return eid

    def ticks(count: int, snapshot_every: int = 0) -> None:
        for tick in range(count):
            if snapshot_every and tick % snapshot_every == 0:
                world.snapshot()
            world.tick(DT)

    hinged = box("hinged", (0.0, 0.0, 5.0))
    world.add(hinged, Joint(kind="hinge", anchor=(-1.0, 0.0, 0.0), axis=(0.0, 1.0, 0.0), limits=True,
                            limit_min=-30.0, limit_max=30.0))
    bob = box("bob", (3.0, 5.0, 10.0))
    world.add(bob, Joint(kind="ball", anchor=(-3.0, 0.0, 0.0)))
    hanging = box("hanging", (0.0, 10.0, 5.0), mass=5.0)
    world.add(hanging, Joint(kind="fixed", anchor=(0.0, 0.0, 1.0), break_impulse=3.0))
    ticks(120, snapshot_every=7)                 # snapshots while swinging do not move the hinge's limits
    assert abs(world.node(hinged).getR()) == pytest.approx(30.0, abs=3.0)   # resting on its limit
    assert world.node(hanging).getZ() == pytest.approx(5.0, abs=0.01)
    snapshot = world.snapshot()

    physics.apply_impulse(hanging, (0.0, 0.0, -200.0))       # breaks the fixed joint
    ticks(125)
    fell_to = world.node(hanging).getPos()
    assert fell_to.z < 0.0
    world.restore(snapshot)
    physics.apply_impulse(hanging, (0.0, 0.0, -200.0))
    ticks(5)
    broken = world.snapshot()                                # the joint stays broken through it
    ticks(120)
    assert (world.node(hanging).getPos() - fell_to).length() < 1e-4
    first = exact_state_of_bodies(world)
    world.restore(broken)
    ticks(120)
    assert exact_state_of_bodies(world) == first             # and through a restore; swings go on alike
    world.restore(snapshot)
    ticks(120)
    assert world.node(hanging).getZ() == pytest.approx(5.0, abs=0.05)   # whole again: it holds


def exact_state_of_bodies(world: World) -> dict[int, tuple[float, ...]]:
    physics = world.system(PhysicsSystem)
    out = {}
    for eid in world.entities():
        node = physics.body(eid).node
        out[eid] = (*flat(world.node(eid).getMat()), *node.getLinearVelocity(), *node.getAngularVelocity())
    return out
