"""Input owners: several players drive their own entities through the same action map; each
behaviour and camera reads the player who owns the entity it acts for; recordings stay the
local player's."""
from __future__ import annotations

import pytest
from panda3d.core import Point3

from engine.camera.components import Camera
from engine.camera.system import CameraSystem
from engine.core.world import World
from engine.data.world_file import load_world_data
from engine.host.runtime import create_runtime
from engine.input import LOCAL_PLAYER, ActionFrame, InputOwner, InputSystem, ScriptedSource

DT = 1.0 / 60.0
FORWARD = ActionFrame(vectors={"move": (0.0, 1.0)})
RIGHT = ActionFrame(vectors={"move": (1.0, 0.0)})
LOOK_RIGHT = ActionFrame(vectors={"look": (1.0, 0.0)})


def two_players() -> World:
    """A ground and two PlayerMover characters: ``One`` (no InputOwner: the local player) and ``Two``
    (owned by player ``p2``), ten metres apart, with a third-person camera on Two."""
    runtime = create_runtime()
    runtime.per_user_input = False
    data = {"storm_world": 2, "name": "two players", "entities": [
        {"id": 1, "name": "Ground", "transform": {"pos": [0, 0, -0.5]},
         "components": {"Collider": {"size": [200, 200, 1]}}},
        {"id": 2, "name": "One", "transform": {"pos": [-5, 0, 0]},
         "components": {"CharacterController": {}, "base:player.PlayerMover": {}}},
        {"id": 3, "name": "Two", "transform": {"pos": [5, 0, 0]},
         "components": {"CharacterController": {}, "base:player.PlayerMover": {}, "InputOwner": {"player": "p2"}}},
        {"id": 4, "name": "Camera", "transform": {"pos": [5, -6, 3]},
         "components": {"Camera": {"mode": "orbit", "target": 3, "distance": 6}}},
    ]}
    return load_world_data(data, "two players", runtime)


def run(world: World, ticks: int) -> None:
    for _ in range(ticks):
        world.tick(DT)


def moved(world: World, eid: int, start: Point3) -> tuple[float, float]:
    delta = world.node(eid).getPos(world.root) - start
    return delta.x, delta.y


def test_two_players_each_drive_their_own_character_and_only_theirs() -> None:
    world = two_players()
    system = world.system(InputSystem)
    system.set_source(ScriptedSource([FORWARD] * 60))                  # the local player
    system.set_source(ScriptedSource([RIGHT] * 60), player="p2")
    one, two = world.node(2).getPos(), world.node(3).getPos()
    run(world, 60)
    one_x, one_y = moved(world, 2, one)
    two_x, two_y = moved(world, 3, two)
    assert one_y > 2.0 and abs(one_x) < 0.01, (one_x, one_y)           # forward, and only forward
    assert two_x > 2.0 and abs(two_y) < 0.01, (two_x, two_y)           # right, and only right
    assert system.players() == [LOCAL_PLAYER, "p2"]
    assert world.services["input"] is system.actions_of(LOCAL_PLAYER)  # what older scripts read


def test_a_behaviour_reads_its_own_entitys_owner() -> None:
    world = two_players()
    system = world.system(InputSystem)
    system.set_source(ScriptedSource([RIGHT] * 3), player="p2")
    run(world, 1)
    mover = world.registry.resolve("base:player.PlayerMover")
    one, two = world.get(2, mover), world.get(3, mover)
    assert one.actions is world.services["input"] and one.actions.vector("move") == (0.0, 0.0)
    assert two.actions is system.actions_of("p2") and two.actions.vector("move") == (1.0, 0.0)
    world.set_field(3, world.get(3, InputOwner), "player", LOCAL_PLAYER)   # hand Two to the local player
    assert two.actions is world.services["input"]


def test_the_camera_turns_with_the_look_input_of_the_player_it_follows() -> None:
    world = two_players()
    system = world.system(InputSystem)
    rig = world.system(CameraSystem)
    run(world, 1)
    yaw = rig.rig(4).yaw
    system.set_source(ScriptedSource([LOOK_RIGHT] * 5))                # the local player looks: not its camera
    run(world, 5)
    assert rig.rig(4).yaw == pytest.approx(yaw)
    system.set_source(ScriptedSource([LOOK_RIGHT] * 5), player="p2")   # p2 owns the followed entity
    run(world, 5)
    assert rig.rig(4).yaw == pytest.approx(yaw - 5 * world.get(4, Camera).look_sensitivity)


def test_recording_keeps_the_local_players_input_only() -> None:
    world = two_players()
    system = world.system(InputSystem)
    system.set_source(ScriptedSource([FORWARD] * 4))
    system.set_source(ScriptedSource([RIGHT] * 4), player="p2")
    system.start_recording()
    run(world, 4)
    recording = system.stop_recording()
    assert recording is not None and [frame.vectors for frame in recording.frames] == [{"move": (0.0, 1.0)}] * 4


def test_an_owner_nobody_drives_reads_neutral_and_a_removed_player_lets_go() -> None:
    world = two_players()
    system = world.system(InputSystem)
    system.set_source(ScriptedSource([RIGHT] * 120), player="p2")
    run(world, 5)
    system.remove_player("p2")                                         # the peer left
    run(world, 30)
    start = world.node(3).getPos()
    run(world, 30)
    assert moved(world, 3, start) == pytest.approx((0.0, 0.0), abs=1e-4)
