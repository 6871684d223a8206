"""Commands: every edit type applies, undoes and redoes to the exact saved file; JSON round
trips; bad commands are refused with a reason and change nothing; posted commands that fail are
logged and the tick goes on."""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

import pytest

from engine.core.commands import Command, CommandError, Transaction, command_from_json, command_to_json
from engine.core.edit_commands import (
    AddComponent,
    CreateEntity,
    DestroyEntity,
    Duplicate,
    RemoveComponent,
    Rename,
    Reparent,
    SetFields,
    SetTransform,
)
from engine.core.prefab_commands import ApplyOverride, InstantiatePrefab, RevertOverride
from engine.core.world import World
from engine.data.world_file import read_world
from engine.data.world_save import world_to_data
from engine.host.runtime import create_runtime
from engine.packs.json_text import dumps_canonical
from tests.conftest import DEMO_WORLD

NEW = max(e["id"] for e in json.loads(DEMO_WORLD.read_text(encoding="utf-8"))["entities"]) + 1  # the next id the demo hands out

LAMP = "base:prefabs/pillar_lamp.prefab.json"
LAMP_LEFT, GLOBE_LEFT, GLOBE_RIGHT, GLOBE_PLATEAU = 9, 57, 59, 61


def saved(world: World) -> str:
    return dumps_canonical(world_to_data(world))


def block(world: World, eid: int) -> dict[str, Any] | None:
    return next((b for b in world_to_data(world)["entities"] if b["id"] == eid), None)


@pytest.fixture()
def demo() -> World:
    world = read_world(DEMO_WORLD, create_runtime())
    yield world
    world.close()


# Each case: a command to build on the demo world, and what the saved file must show after it.
Case = tuple[str, Callable[[World], Command], Callable[[World], None]]


def _created(world: World) -> None:
    new = block(world, NEW)
    assert new == {"id": NEW, "name": "Barrel", "parent": 11, "transform": {"pos": [1, 2, 3]},
                   "components": {"MeshRenderer": {"model": "primitive:cylinder"}}}


def _destroyed_lamp(world: World) -> None:
    assert block(world, LAMP_LEFT) is None and not world.exists(56) and not world.exists(GLOBE_LEFT)


def _destroyed_member(world: World) -> None:
    assert block(world, LAMP_LEFT)["removed"] == ["globe"] and not world.exists(GLOBE_LEFT)


def _added_first(world: World) -> None:
    assert list(block(world, 11)["components"]) == ["Light", "MeshRenderer"]


def _removed_middle(world: World) -> None:
    assert list(block(world, 21)["components"]) == ["MeshRenderer", "Collider", "AudioSource"]


def _set_fields(world: World) -> None:
    assert block(world, 2)["components"]["Light"]["intensity"] == 3
    assert block(world, 2)["components"]["Light"]["color"] == [1, 0, 0, 1]


def _moved(world: World) -> None:
    assert block(world, 5)["transform"] == {"pos": [1, -2, 3], "scale": [2, 2, 2]}


def _reparented(world: World) -> None:
    child = block(world, 6)
    assert child["parent"] == 5
    assert tuple(world.node(6).getPos(world.root)) == pytest.approx((-4, 2, 1.2), abs=1e-5)  # stayed put


def _renamed(world: World) -> None:
    assert block(world, 7)["name"] == "Green capsule"


def _placed(world: World) -> None:
    assert block(world, NEW) == {"id": NEW, "name": "Pillar lamp", "prefab": LAMP, "members": {"pillar": NEW + 1, "globe": NEW + 2},
                                "transform": {"pos": [5, 5, 0]}}


def _reverted(world: World) -> None:
    assert "overrides" not in block(world, LAMP_LEFT)


def _applied(world: World) -> None:
    assert world.prefab_edits[LAMP]["globe"]["MeshRenderer"]["color"] == [0, 1, 0, 1]
    mesh = world.registry.resolve("MeshRenderer")
    assert tuple(world.get(GLOBE_PLATEAU, mesh).color) == (0, 1, 0, 1)  # an instance at the prefab's value follows
    assert tuple(world.get(GLOBE_RIGHT, mesh).color) == (0.5, 1, 0.6, 1)  # one with its own colour keeps it
    assert "overrides" not in block(world, LAMP_LEFT)  # no longer an override: it is the prefab's value


def _duplicated(world: World) -> None:
    copy = block(world, NEW)
    assert copy is not None and copy["name"] == "NPC spot"
    assert block(world, NEW + 1)["parent"] == NEW  # the marker's copy hangs under the spot's copy


def _transaction(world: World) -> None:
    assert block(world, 7)["name"] == "Step A" and block(world, 7)["transform"]["pos"] == [9, 9, 9]


def _globe_green(world: World) -> None:
    world.apply(SetFields(GLOBE_LEFT, "MeshRenderer", {"color": [0, 1, 0, 1]}))


CASES: list[tuple[str, Callable[[World], Command], Callable[[World], None], Callable[[World], None] | None]] = [
    ("create", lambda w: CreateEntity.new("Barrel", parent=11, transform={"pos": [1, 2, 3]},
                                          components={"MeshRenderer": {"model": "primitive:cylinder"}}), _created, None),
    ("destroy a prefab instance", lambda w: DestroyEntity(LAMP_LEFT), _destroyed_lamp, None),
    ("destroy a prefab member", lambda w: DestroyEntity(GLOBE_LEFT), _destroyed_member, None),
    ("add a component first", lambda w: AddComponent(11, "Light", {"kind": "point"}, 0), _added_first, None),
    ("remove a middle component", lambda w: RemoveComponent(21, "RigidBody"), _removed_middle, None),
    ("set fields", lambda w: SetFields(2, "Light", {"intensity": 3, "color": [1, 0, 0, 1]}), _set_fields, None),
    ("set transform", lambda w: SetTransform(5, pos=[1, -2, 3]), _moved, None),
    ("reparent", lambda w: Reparent(6, 5), _reparented, None),
    ("rename", lambda w: Rename(7, "Green capsule"), _renamed, None),
    ("instantiate a prefab", lambda w: InstantiatePrefab(LAMP, transform={"pos": [5, 5, 0]}), _placed, None),
    ("revert an override", lambda w: RevertOverride(GLOBE_LEFT), _reverted, _globe_green),
    ("apply an override", lambda w: ApplyOverride(GLOBE_LEFT, type="MeshRenderer", field="color"), _applied,
     _globe_green),
    ("duplicate a subtree", lambda w: Duplicate(51), _duplicated, None),
    ("transaction", lambda w: Transaction("two", [Rename(7, "Step A"), SetTransform(7, pos=[9, 9, 9])]),
     _transaction, None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_command_applies_undoes_and_redoes_to_the_exact_file(case: tuple, demo: World) -> None:
    _name, build, check, prepare = case
    if prepare is not None:
        prepare(demo)
    before = saved(demo)
    inverse = demo.apply(build(demo))
    after = saved(demo)
    assert after != before
    check(demo)
    redo = demo.apply(inverse)
    assert saved(demo) == before
    undo = demo.apply(redo)
    assert saved(demo) == after
    check(demo)
    demo.apply(undo)
    assert saved(demo) == before


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_commands_and_their_inverses_round_trip_through_json(case: tuple, demo: World) -> None:
    _name, build, _check, prepare = case
    if prepare is not None:
        prepare(demo)
    command = build(demo)
    text = json.dumps(command_to_json(command))
    again = command_from_json(json.loads(text))
    assert again == command
    before = saved(demo)
    inverse = demo.apply(again)
    after = saved(demo)
    back = command_from_json(json.loads(json.dumps(command_to_json(inverse))))
    assert back == inverse
    demo.apply(back)
    assert saved(demo) == before and after != before


def test_a_failing_step_rolls_the_whole_transaction_back(demo: World) -> None:
    before = saved(demo)
    with pytest.raises(CommandError) as info:
        demo.apply(Transaction("bad", [Rename(7, "Changed"), SetTransform(7, pos=[1, 1, 1]), SetFields(999, "Light", {})]))
    assert "step 3 of 3" in str(info.value) and "no entity 999" in str(info.value)
    assert saved(demo) == before


BAD: list[tuple[str, Command, str]] = [
    ("missing entity", SetFields(999, "Light", {"intensity": 1}), "no entity 999"),
    ("missing component", SetFields(5, "Light", {"intensity": 1}), "has no Light component"),
    ("unknown component type", AddComponent(5, "Lihgt"), "unknown component type 'Lihgt'"),
    ("missing field", SetFields(2, "Light", {"brightness": 1}), "a field of Light"),
    ("wrong type", SetFields(2, "Light", {"intensity": "bright"}), "a number in [0.0, 100.0]"),
    ("out of range", SetFields(2, "Light", {"intensity": 1e9}), "a number in [0.0, 100.0]"),
    ("reparent under itself", Reparent(51, 51), "would make a cycle"),
    ("reparent under a descendant", Reparent(51, 52), "would make a cycle"),
    ("reparent a prefab member", Reparent(GLOBE_LEFT, 0), "member 'globe' of the prefab instance 9"),
    ("taken id", CreateEntity([{"id": 5, "name": "x"}]), "entity id 5 is already taken"),
    ("bad transform", SetTransform(5, scale=[0, 1, 1]), "three non-zero numbers"),
    ("component twice", AddComponent(5, "MeshRenderer"), "already has a MeshRenderer"),
    ("ref without what it requires", SetFields(49, "base:door.TriggeredDoor", {"trigger": 5}), "has no Trigger"),
    ("name with a lone surrogate", Rename(5, "bad\ud800"), "lone surrogate"),
    ("unknown prefab", InstantiatePrefab("base:prefabs/nothing.prefab.json"), "a prefab file that exists"),
    ("revert what matches", RevertOverride(GLOBE_LEFT), "already matches the prefab"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_commands_are_refused_and_change_nothing(case: tuple[str, Command, str], demo: World) -> None:
    _name, command, reason = case
    before = saved(demo)
    with pytest.raises(CommandError) as info:
        demo.apply(command)
    message = str(info.value)
    assert reason in message and message.startswith(command.kind)
    assert saved(demo) == before


@pytest.mark.parametrize(("data", "reason"), [
    ({"command": "Explode"}, "a command type"),
    ({"type": "SetFields"}, "naming a command type"),
    ({"command": "SetFields", "entity": "5"}, "command.entity: int"),
    ({"command": "SetFields", "entity": True}, "command.entity: int"),
    ({"command": "SetFields", "valeus": {}}, "a field of SetFields"),
    ({"command": "Transaction", "commands": [{"command": "Rename", "name": 7}]}, "commands[0].name: str"),
    ([1, 2], "an object"),
])
def test_bad_json_commands_name_the_place(data: Any, reason: str) -> None:
    with pytest.raises(CommandError) as info:
        command_from_json(data)
    assert reason in str(info.value)


def test_posted_failures_are_logged_and_the_tick_goes_on(demo: World, caplog: pytest.LogCaptureFixture) -> None:
    demo.post(lambda: 1 / 0)
    demo.post(SetFields(999, "Light", {}))
    demo.post(Rename(7, "After the failures"))
    ticks = demo.tick_count
    with caplog.at_level(logging.ERROR, logger="storm.world"):
        demo.tick()
    assert demo.tick_count == ticks + 1
    assert demo.name_of(7) == "After the failures"
    text = caplog.text
    assert "ZeroDivisionError" in text and "the tick goes on" in text
    assert "SetFields(entity 999" in text and "no entity 999" in text
    assert demo.system_ms  # every system ran
