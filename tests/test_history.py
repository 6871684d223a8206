"""History: named steps, merged drags, the dirty flag, the ends of the stack, and thousands of
random seeded edits that undo back to the exact starting file and redo to the exact end."""
from __future__ import annotations

import random
from typing import Any

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
from engine.core.fields import Bool, Float, Vector
from engine.core.history import History
from engine.core.prefab_commands import InstantiatePrefab, RevertOverride
from engine.core.world import World
from engine.data.world_file import read_world
from engine.data.world_save import world_to_data
from engine.host.runtime import create_runtime
from engine.packs.json_text import dumps_canonical
from tests.conftest import DEMO_WORLD

LAMP = "base:prefabs/pillar_lamp.prefab.json"


def saved(world: World) -> str:
    return dumps_canonical(world_to_data(world))


@pytest.fixture()
def demo() -> World:
    world = read_world(DEMO_WORLD, create_runtime())
    yield world
    world.close()


def test_a_drag_is_one_step(demo: World) -> None:
    history = History(demo)
    start = saved(demo)
    for i in range(30):
        history.do(SetTransform(5, pos=[i * 0.1, 0, 1]), name="move Red box", merge="drag 5")
    dragged = saved(demo)
    assert history.undo_names() == ["move Red box"]
    history.end_merge()  # mouse released: the next drag is a step of its own
    history.do(SetTransform(5, pos=[7, 7, 7]), name="move again", merge="drag 5")
    assert history.undo_names() == ["move Red box", "move again"]
    assert history.undo() == "move again" and saved(demo) == dragged
    assert history.undo() == "move Red box" and saved(demo) == start
    assert history.redo() == "move Red box" and saved(demo) == dragged
    assert tuple(demo.node(5).getPos()) == pytest.approx((2.9, 0, 1))


def test_a_different_edit_does_not_merge_into_a_drag(demo: World) -> None:
    history = History(demo)
    history.do(SetTransform(5, pos=[1, 0, 1]), merge="drag")
    history.do(SetTransform(6, pos=[1, 0, 1]), merge="drag")  # another entity
    history.do(SetFields(2, "Light", {"intensity": 2}), merge="drag")  # another kind of edit
    assert len(history.undo_names()) == 3


def test_undo_past_the_start_and_redo_past_the_end_do_nothing_and_say_so(demo: World) -> None:
    history = History(demo)
    start = saved(demo)
    assert history.undo() is None and history.message == "nothing to undo" and saved(demo) == start
    history.do(Rename(7, "Renamed"))
    assert history.redo() is None and history.message == "nothing to redo"
    assert history.undo() == "Rename(entity 7, name 'Renamed')" and history.message.startswith("undid")
    assert history.undo() is None and saved(demo) == start


def test_the_dirty_flag_follows_the_saved_state(demo: World) -> None:
    history = History(demo)
    assert not history.dirty
    history.do(Rename(7, "A"))
    assert history.dirty
    history.mark_saved()
    assert not history.dirty
    history.do(Rename(7, "B"))
    assert history.dirty
    history.undo()
    assert not history.dirty  # back at what was saved
    history.undo()
    assert history.dirty
    history.do(Rename(7, "C"))  # a new branch: the saved state can no longer be reached
    history.undo()
    history.redo()
    assert history.dirty


class _Note(Command):
    """A step beside the file (as the editor's hide and lock are): undoable, never dirtying."""

    notes: list[str] = []

    def __init__(self, text: str = "", on: bool = True) -> None:
        self.text, self.on = text, on

    @property
    def changes_file(self) -> bool:
        return False

    def apply(self, world: World) -> Command:
        (self.notes.append if self.on else self.notes.remove)(self.text)
        return _Note(self.text, not self.on)


def test_steps_that_leave_the_file_alone_never_change_the_dirty_flag(demo: World) -> None:
    history = History(demo)
    history.do(_Note("hide"))
    assert not history.dirty and len(history.undo_names()) == 1
    history.undo()
    assert not history.dirty and _Note.notes == []
    history.redo()
    assert not history.dirty and _Note.notes == ["hide"]
    history.do(Rename(7, "A"))
    history.mark_saved()
    history.do(_Note("lock"))
    assert not history.dirty  # saved, then only a note
    history.undo()
    history.undo()  # the rename too: the file differs from what was saved
    assert history.dirty
    history.redo()
    assert not history.dirty
    history.do(_Note("again"))  # a new branch beside the file from the saved state: still clean
    assert not history.dirty
    history.do(Transaction("both", [Rename(7, "B"), _Note("both")]))  # a transaction with a file change
    assert history.dirty
    history.undo()
    assert not history.dirty
    _Note.notes.clear()


def test_a_refused_command_records_no_step(demo: World) -> None:
    history = History(demo)
    with pytest.raises(CommandError):
        history.do(SetFields(999, "Light", {}))
    assert history.undo_names() == [] and not history.dirty


def _random_value(rng: random.Random, kind: Any) -> Any:
    if isinstance(kind, Float):
        return rng.uniform(kind.min if kind.min is not None else -10, kind.max if kind.max is not None else 10)
    if isinstance(kind, Bool):
        return rng.random() < 0.5
    if isinstance(kind, Vector):
        low, high = kind.min if kind.min is not None else -5, kind.max if kind.max is not None else 5
        return [rng.uniform(low, high) for _ in range(kind.length)]
    return None


def _random_command(world: World, rng: random.Random) -> Command | None:
    entities = world.entities()
    eid = rng.choice(entities)
    components = world.components(eid)
    op = rng.randrange(12)
    if op == 0 and components:
        component = rng.choice(components)
        name, declared = rng.choice(list(component.fields.items()))
        value = _random_value(rng, declared.type)
        return None if value is None else SetFields(eid, component.type_name, {name: value})
    if op == 1:
        return SetTransform(eid, pos=[rng.uniform(-5, 5) for _ in range(3)])
    if op == 2:
        return SetTransform(eid, hpr=[rng.uniform(-180, 180) for _ in range(3)], scale=[rng.uniform(0.5, 2)] * 3)
    if op == 3:
        return Rename(eid, f"name {rng.randrange(100)}")
    if op == 4 and components:
        return RemoveComponent(eid, rng.choice(components).type_name)
    if op == 5:
        return AddComponent(eid, rng.choice(["Light", "AudioListener", "MeshRenderer"]), {}, rng.randrange(3))
    if op == 6:
        return CreateEntity.new("new", parent=rng.choice([0, eid]), components={"MeshRenderer": {}})
    if op == 7:
        return DestroyEntity(eid)
    if op == 8:
        return Reparent(eid, rng.choice([0, *entities]), keep_world=rng.random() < 0.5)
    if op == 9:
        return Duplicate(eid)
    if op == 10:
        return InstantiatePrefab(LAMP, parent=rng.choice([0, eid]))
    if op == 11 and world.prefab_instances:
        root = rng.choice(sorted(world.prefab_instances))
        return RevertOverride(root, rng.choice(list(world.prefab_instances[root].template)))
    return None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_undo_to_the_exact_starting_file(seed: int, demo: World) -> None:
    rng = random.Random(seed)
    history = History(demo, limit=100_000)
    start = saved(demo)
    done = refused = 0
    for _ in range(2500):
        roll = rng.random()
        if roll < 0.08:
            history.undo()
            continue
        if roll < 0.12:
            history.redo()
            continue
        command = _random_command(demo, rng)
        if command is None:
            continue
        command = command_from_json(command_to_json(command))  # as if it came over the network
        try:
            history.do(command)
            done += 1
        except CommandError:
            refused += 1
            if refused % 25 == 0:  # now and then, check that a refusal left the world as it was
                before = saved(demo)
                with pytest.raises(CommandError):
                    demo.apply(command)
                assert saved(demo) == before
    assert done > 1500 and refused > 50  # the sequence really exercised both
    end, steps = saved(demo), len(history.undo_names())
    while history.undo() is not None:
        pass
    assert saved(demo) == start
    for _ in range(steps):
        history.redo()
    assert saved(demo) == end
