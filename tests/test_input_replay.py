"""Recorded input replayed headless: same actions, same spot, every time; bad recordings named."""
from __future__ import annotations

from pathlib import Path

import pytest
from panda3d.core import Vec3

from engine.core.errors import DataError
from engine.core.fields import Field, Float
from engine.core.world import World
from engine.input import (
    ActionFrame,
    InputSourceFinished,
    InputSystem,
    RawFrame,
    Recording,
    ScriptedSource,
    load_recording,
    open_actions,
    replay,
)
from engine.scripting.behaviour import Behaviour, ScriptSystem

SEED = 7


class Walker(Behaviour):
    """Moves its node by the move action; hops on jump, faster while run is held."""

    speed = Field(Float(0.0, 100.0), 4.0)

    def on_update(self, dt: float) -> None:
        actions = self.world.services["input"]
        x, y = actions.vector("move")
        speed = self.speed * (2.0 if actions.held("run") else 1.0)
        self.node.setPos(self.node.getPos() + Vec3(x, y, 0.0) * speed * dt)
        if actions.pressed("jump"):
            self.node.setZ(self.node.getZ() + 0.5)


def session() -> list[RawFrame]:
    """About three seconds of a player: walk forward, strafe diagonally while running, tap jump, stop."""
    frames: list[RawFrame] = []
    frames += [RawFrame(frozenset({"w"}))] * 60
    frames += [RawFrame(frozenset({"w", "d", "shift"}))] * 45
    frames += [RawFrame(tapped=frozenset({"space"}))]
    frames += [RawFrame(axes={"gamepad:left_x": -0.6, "gamepad:left_y": 0.3})] * 40
    frames += [RawFrame()] * 20
    return frames


def new_world() -> tuple[World, InputSystem, int]:
    world = World(seed=SEED, tick_rate=60.0)
    system = world.add_system(InputSystem(open_actions(per_user=False)))
    world.add_system(ScriptSystem())
    hero = world.create_entity("hero")
    world.add(hero, Walker())
    return world, system, hero  # type: ignore[return-value]


def position(world: World, eid: int) -> tuple[float, float, float]:
    return tuple(world.node(eid).getPos())  # type: ignore[return-value]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[float, float, float], Recording]:
    world, system, hero = new_world()
    system.set_source(ScriptedSource(session()))
    system.start_recording()
    while not system.source.finished:  # type: ignore[union-attr]
        world.tick()
    recording = system.stop_recording()
    assert recording is not None
    path = tmp_path_factory.mktemp("rec") / "walk.inputs.jsonl"
    recording.save(path)
    return path, position(world, hero), recording


def test_replayed_file_moves_the_character_to_the_same_spot(recorded) -> None:  # type: ignore[no-untyped-def]
    path, live_end, _ = recorded
    ends = []
    for _ in range(2):
        world, _, hero = new_world()
        assert replay(world, path) == len(session())
        ends.append(position(world, hero))
    assert ends[0] == ends[1] == live_end
    assert live_end[1] > 3.0 and live_end[2] == pytest.approx(0.5)  # it really walked and jumped once


def test_two_replays_give_identical_action_streams(recorded) -> None:  # type: ignore[no-untyped-def]
    path, _, live = recorded
    streams = []
    for _ in range(2):
        world, system, _ = new_world()
        system.start_recording()
        replay(world, load_recording(path))
        again = system.stop_recording()
        assert again is not None
        streams.append(again.frames)
    assert streams[0] == streams[1] == live.frames
    assert Recording(60.0, SEED, live.actions, streams[0]).to_text() == path.read_text(encoding="utf-8")


def test_replay_stops_by_itself_and_says_so(recorded) -> None:  # type: ignore[no-untyped-def]
    path, _, _ = recorded
    world, system, hero = new_world()
    finished: list[InputSourceFinished] = []
    world.events.subscribe(InputSourceFinished, finished.append)
    ticks = replay(world, path)
    assert len(finished) == 1 and world.tick_count == ticks
    end = position(world, hero)
    for _ in range(10):  # the world keeps running on neutral input after the replay
        world.tick()
    assert position(world, hero) == end
    assert world.services["input"].vector("move") == (0.0, 0.0)


def test_recording_file_is_readable_text(recorded) -> None:  # type: ignore[no-untyped-def]
    path, _, _ = recorded
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('{"storm_input_recording": 1, "tick_rate": 60.0, "seed": 7, "ticks": 166')
    assert lines[1] == '{"vectors": {"move": [0.0, 1.0]}}'
    assert lines[106] == '{"held": ["jump"]}'


def test_values_a_map_lacks_are_dropped_on_replay(tmp_path: Path) -> None:
    recording = Recording(60.0, SEED, {"fly": "button"}, [ActionFrame(frozenset({"fly", "jump"}))])
    world, _, _ = new_world()
    world.tick()
    replay(world, recording)
    assert world.services["input"].pressed("jump")


@pytest.mark.parametrize("text, where, expected", [
    ("", "line 1", "a recording header line"),
    ('{"storm_input_recording": 1, "tick_rate": 60.0, "seed": 0, "ticks": 3, "actions": {}}\n{}\n', "line 1: ticks",
     "cut short"),
    ('{"storm_input_recording": 1, "tick_rate": 0, "seed": 0, "ticks": 0, "actions": {}}\n', "line 1: tick_rate",
     "from 1 to 1000"),
    ('{"storm_input_recording": 1, "tick_rate": 60, "seed": 0, "ticks": 2, "actions": {}}\n{}\n{"held": [1]}\n',
     "line 3: held", "a list of action names"),
    ('{"storm_input_recording": 1, "tick_rate": 60, "seed": 0, "ticks": 1, "actions": {}}\n{"vectors": {"m": [1]}}\n',
     "line 2: vectors", "[x, y]"),
    ('{"storm_input_recording": 1, "tick_rate": 60, "seed": 0, "ticks": 1, "actions": {}}\n{oops\n',
     "line 2: line 1 column 2", "valid JSON"),
])
def test_bad_recordings_name_the_line(tmp_path: Path, text: str, where: str, expected: str) -> None:
    path = tmp_path / "bad.inputs.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_recording(path)
    message = str(caught.value)
    assert f"{path}: {where}" in message and expected in message, message


def test_replay_needs_an_input_system() -> None:
    with pytest.raises(LookupError, match="no InputSystem"):
        replay(World(), Recording(60.0, 0, {}, [ActionFrame()]))
