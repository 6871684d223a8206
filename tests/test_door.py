"""TriggeredDoor: a character walking into the trigger opens the door and can pass, the door shuts
once everyone has left, each entry after the door closed opens it once more, bad references
give a clear message and a door that stays shut, a trigger changed while the world runs takes
over at once, and a hot reload of door.py gives the door's event handlers the new code."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from engine.audio import AudioSystem
from engine.core.world import World
from engine.data.world_file import load_world_data
from engine.host.runtime import Runtime, create_runtime
from engine.packs.content import default_content
from engine.physics import CharacterController, PhysicsSystem, RigidBody
from engine.scripting.behaviour import ScriptSystem

DT = 1.0 / 60.0
DOOR, TRIGGER, WALL = 5, 6, 3
CLOSED_POS = (0.0, 10.0, 1.25)
DOOR_SCRIPT = Path(__file__).resolve().parents[1] / "content" / "base" / "scripts" / "door.py"


def doorway(door: dict[str, Any] | None = None, extra: list[dict[str, Any]] | None = None,
            hinged: bool = False, runtime: Runtime | None = None,
            door_type: str = "base:door.TriggeredDoor") -> World:
    """Ground, a wall along x at y = 10 with a 2 m opening, a door in it and a trigger around it.

    The sliding door is one box; the ``hinged`` door is a body at the hinge (the opening's left
    edge) whose panel is a child entity, so turning the body swings the panel.
    """
    fields = {"trigger": TRIGGER, "open_offset": [2.05, 0, 0], "speed": 4, **(door or {})}
    box = {"MeshRenderer": {}, "Collider": {}}
    sound = {"sound": "base:sounds/door_open.wav"}
    if hinged:
        doors = [{"id": DOOR, "name": "Door", "transform": {"pos": [-1, 10, 1.25]},
                  "components": {"RigidBody": {"kinematic": True}, "AudioSource": sound,
                                 door_type: fields}},
                 {"id": 8, "name": "Door panel", "parent": DOOR,
                  "transform": {"pos": [1, 0, 0], "scale": [2, 0.15, 2.5]}, "components": box}]
    else:
        doors = [{"id": DOOR, "name": "Door", "transform": {"pos": list(CLOSED_POS), "scale": [2, 0.15, 2.5]},
                  "components": {**box, "RigidBody": {"kinematic": True}, "AudioSource": sound,
                                 door_type: fields}}]
    entities = [
        {"id": 1, "name": "Ground", "transform": {"pos": [0, 0, -0.5]},
         "components": {"Collider": {"size": [60, 60, 1]}}},
        {"id": 2, "name": "Wall left", "transform": {"pos": [-2.5, 10, 1.5], "scale": [3, 0.4, 3]},
         "components": box},
        {"id": WALL, "name": "Wall right", "transform": {"pos": [2.5, 10, 1.5], "scale": [3, 0.4, 3]},
         "components": box},
        {"id": 4, "name": "Lintel", "transform": {"pos": [0, 10, 2.75], "scale": [2, 0.4, 0.5]}, "components": box},
        *doors,
        {"id": TRIGGER, "name": "Door trigger", "transform": {"pos": list(CLOSED_POS)},
         "components": {"Trigger": {}, "Collider": {"size": [2.4, 8, 2.5]}}},
        *(extra or []),
    ]
    return load_world_data({"storm_world": 2, "entities": entities}, "doorway.world.json",
                           runtime or create_runtime())


def walker(world: World, y: float, x: float = 0.0) -> CharacterController:
    eid = world.create_entity(f"walker{y:g}")
    world.node(eid).setPos(x, y, 0.0)
    return world.add(eid, CharacterController())


def door_of(world: World, door_type: str = "base:door.TriggeredDoor"):  # type: ignore[no-untyped-def]
    return world.get(DOOR, world.registry.resolve(door_type))


def run(world: World, ticks: int) -> None:
    for _ in range(ticks):
        world.tick(DT)


def walk_to(world: World, controller: CharacterController, y: float, limit: int = 600) -> None:
    """Walk along +y or -y until past ``y``, then stop."""
    node = world.node(controller.entity)
    sign = 1.0 if y > node.getY() else -1.0
    controller.move = (0.0, sign, 0.0)
    for _ in range(limit):
        world.tick(DT)
        if (node.getY() - y) * sign > 0:
            break
    controller.move = (0.0, 0.0, 0.0)


def through_doorway(world: World, ignore: int = 0):  # type: ignore[no-untyped-def]
    """What a ray straight through the opening at waist height hits first."""
    return world.system(PhysicsSystem).raycast((0.0, 7.0, 1.0), (0.0, 13.0, 1.0), ignore=ignore or None)


def door_sounds(world: World) -> int:
    return len(world.system(AudioSystem).device.plays_of(DOOR))


def test_walking_into_the_trigger_opens_the_door_and_the_doorway_becomes_passable() -> None:
    world = doorway()
    player = walker(world, 2.0)
    run(world, 10)
    assert through_doorway(world).entity == DOOR
    walk_to(world, player, 12.5)
    door = door_of(world)
    assert door.is_open and door.open_count == 1 and door_sounds(world) == 1
    assert world.node(player.entity).getY() > 12.5                  # it walked through the doorway
    assert abs(world.node(DOOR).getX() - 2.05) < 1e-4               # slid into the right wall
    assert through_doorway(world, ignore=player.entity) is None


def test_the_door_opens_smoothly_tick_by_tick() -> None:
    world = doorway()
    player = walker(world, 5.0)
    player.move = (0.0, 1.0, 0.0)
    xs = []
    for _ in range(60):
        world.tick(DT)
        xs.append(world.node(DOOR).getX())
    moving = [x for x in xs if 0.0 < x < 2.05]
    assert len(moving) >= 20                                        # about half a second at 4 m/s
    assert all(b >= a for a, b in zip(xs, xs[1:]))
    assert max(b - a for a, b in zip(xs, xs[1:])) < 2 * 4.0 * DT    # eased: never jumps


def test_the_door_closes_after_the_character_leaves() -> None:
    world = doorway()
    player = walker(world, 2.0)
    walk_to(world, player, 16.0)                                    # through, and out of the trigger at 14
    run(world, 60)
    door = door_of(world)
    assert door.is_closed and door.open_count == 1 and door_sounds(world) == 2   # opening, closing
    assert tuple(world.node(DOOR).getPos()) == pytest.approx(CLOSED_POS, abs=1e-6)
    assert through_doorway(world).entity == DOOR


def test_each_entry_opens_once_and_standing_inside_does_not_retrigger() -> None:
    world = doorway()
    player = walker(world, 2.0)
    late = walker(world, 1.0, x=0.0)
    walk_to(world, player, 8.0)                                     # into the trigger, and stand there
    run(world, 180)
    door = door_of(world)
    assert door.is_open and door.open_count == 1 and door_sounds(world) == 1
    walk_to(world, late, 7.0)                                       # a second one joins: still one opening
    run(world, 30)
    assert door.open_count == 1 and door_sounds(world) == 1
    walk_to(world, late, 1.0)
    run(world, 60)
    assert door.is_open                                             # the first one is still inside
    walk_to(world, player, 1.5)
    run(world, 60)
    assert door.is_closed and door.open_count == 1
    walk_to(world, player, 8.0)                                     # a new entry: a new opening
    run(world, 60)
    assert door.is_open and door.open_count == 2 and door_sounds(world) == 3   # open, close, open


def test_a_crate_does_not_open_a_door_for_characters_but_opens_one_for_anything() -> None:
    crate = {"id": 7, "name": "Crate", "transform": {"pos": [0, 8, 3]},
             "components": {"RigidBody": {"mass": 5}, "Collider": {}}}
    for opened_by, opens in (("CharacterController", False), ("", True), ("RigidBody", True)):
        world = doorway({"opened_by": opened_by}, [crate])
        run(world, 90)                                              # the crate falls into the trigger
        assert world.has(7, RigidBody) and abs(world.node(7).getZ() - 0.5) < 0.05
        assert door_of(world).is_open is opens, opened_by


def test_a_hinged_door_swings_open_and_shut() -> None:
    world = doorway({"open_offset": [0, 0, 0], "open_angle": 90, "turn_speed": 180}, hinged=True)
    player = walker(world, 2.0)
    run(world, 10)
    assert through_doorway(world).entity == DOOR                    # the panel is part of the door's body
    walk_to(world, player, 7.0)                                     # into the trigger, short of the door
    run(world, 60)
    assert door_of(world).is_open and world.node(DOOR).getH() == pytest.approx(90.0, abs=1e-3)
    assert tuple(world.node(DOOR).getPos()) == pytest.approx((-1.0, 10.0, 1.25), abs=1e-6)
    assert through_doorway(world, ignore=player.entity) is None      # swung aside, along the left jamb
    walk_to(world, player, 2.0)
    run(world, 60)
    assert door_of(world).is_closed and world.node(DOOR).getH() == pytest.approx(0.0, abs=1e-6)
    assert through_doorway(world).entity == DOOR


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, why", [
    ({"trigger": 0}, "trigger: expected an entity with a Trigger (and a Collider) around the doorway; "
                     "the field is 0 (none)"),
    ({"trigger": 404}, "trigger: expected an entity with a Trigger (and a Collider) around the doorway; "
                       "entity 404 does not exist"),
    ({"trigger": WALL}, "trigger: expected an entity with a Trigger (and a Collider) around the doorway; "
                        f"entity {WALL} ('Wall right') has no Trigger component"),
    ({"opened_by": "Nobody"}, "opened_by: expected a component type name as in world files, like "
                              "'CharacterController'; 'Nobody' is not one"),
])
def test_a_bad_reference_is_named_and_the_door_stays_shut(fields: dict[str, Any], why: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    world = doorway(fields)
    player = walker(world, 5.0)
    player.move = (0.0, 1.0, 0.0)
    with caplog.at_level(logging.ERROR, logger="storm.scripts"):
        run(world, 60)
    messages = [r.getMessage() for r in caplog.records if r.name == "storm.scripts"]
    assert messages == [f"entity {DOOR} ('Door') base:door.TriggeredDoor.{why}; the door stays shut"]
    assert tuple(world.node(DOOR).getPos()) == pytest.approx(CLOSED_POS, abs=1e-6)
    assert world.node(player.entity).getY() < 9.6                   # the shut door stopped the walker
    assert world.tick_count == 60


def test_a_door_whose_trigger_goes_away_closes() -> None:
    world = doorway()
    player = walker(world, 2.0)
    walk_to(world, player, 8.0)
    run(world, 60)
    assert door_of(world).is_open
    world.destroy(TRIGGER)
    run(world, 60)
    assert door_of(world).is_closed and world.tick_count > 0


# -- changed while running -----------------------------------------------------------------------

SIDE_TRIGGER = 9
SIDE = {"id": SIDE_TRIGGER, "name": "Side trigger", "transform": {"pos": [5, 2, 1.25]},
        "components": {"Trigger": {}, "Collider": {"size": [2, 2, 2.5]}}}


def test_retargeting_the_trigger_while_someone_is_inside_hands_the_door_to_the_new_trigger() -> None:
    world = doorway(extra=[SIDE])
    player = walker(world, 2.0)
    walk_to(world, player, 8.0)                                     # in the doorway's trigger
    run(world, 60)
    door = door_of(world)
    assert door.is_open
    world.set_field(DOOR, door, "trigger", SIDE_TRIGGER)            # nobody is in the new one
    walk_to(world, player, 1.0)                                     # leaves the old trigger
    run(world, 60)
    assert door.is_closed and door.problem == ""
    walk_to(world, player, 8.0)                                     # the old trigger no longer opens it
    run(world, 60)
    assert door.is_closed and door.open_count == 1
    side = walker(world, -2.0, x=5.0)
    walk_to(world, side, 2.0)                                       # the new one does
    run(world, 60)
    assert door.is_open and door.open_count == 2


def test_fixing_a_trigger_that_started_invalid_makes_the_door_work(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="storm.scripts"):
        world = doorway({"trigger": 0})
        player = walker(world, 2.0)
        walk_to(world, player, 8.0)                                 # stands in the doorway's trigger
        run(world, 30)
    door = door_of(world)
    assert door.problem and door.is_closed
    world.set_field(DOOR, door, "trigger", TRIGGER)                 # already inside it: opens now
    run(world, 60)
    assert door.problem == "" and door.is_open and door.open_count == 1
    walk_to(world, player, 1.0)
    run(world, 60)
    assert door.is_closed
    walk_to(world, player, 8.0)
    run(world, 60)
    assert door.is_open and door.open_count == 2


def test_hot_reloading_door_py_gives_its_trigger_handlers_the_new_code(tmp_path: Path) -> None:
    scripts = tmp_path / "mod" / "scripts"
    scripts.mkdir(parents=True)
    (tmp_path / "mod" / "pack.json").write_text(json.dumps({"name": "mod", "version": "1.0.0", "code": True}))
    script = scripts / "door.py"
    source = DOOR_SCRIPT.read_text()
    script.write_text(source)
    content = default_content()
    content.add_pack(tmp_path / "mod").trusted = True
    runtime = create_runtime(content)
    crate = {"id": 7, "name": "Crate", "transform": {"pos": [0, 8, 6]},
             "components": {"RigidBody": {"mass": 5}, "Collider": {}}}
    world = doorway(extra=[crate], runtime=runtime, door_type="mod:door.TriggeredDoor")
    run(world, 1)                                                   # started, subscribed; the crate still falls
    strict = "event.entity == self.entity or not self._opens(event.entity)"
    assert strict in source
    script.write_text(source.replace(strict, "event.entity == self.entity"))   # now anything opens it
    stat = script.stat()
    os.utime(script, (stat.st_atime, stat.st_mtime + 5))
    world.system(ScriptSystem).check_reloads()
    run(world, 120)                                                 # the crate lands in the trigger
    assert abs(world.node(7).getZ() - 0.5) < 0.05
    assert door_of(world, "mod:door.TriggeredDoor").is_open
