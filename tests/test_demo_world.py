"""The demo world played through, headless, by an autopilot that drives the same actions a player
would (move, jump): through the door, up the steps, up the ramp to the plateau, a jump, and the
crate stack knocked over with its impact sounds."""
from __future__ import annotations

import math
from typing import Callable

import pytest
from panda3d.core import Point3

from engine.animation.components import Animator
from engine.audio import AudioSystem
from engine.camera.system import CameraSystem
from engine.core.world import World
from engine.data.world_file import read_world
from engine.host.runtime import create_runtime
from engine.input import DirectActionSource, InputSystem
from tests.conftest import DEMO_WORLD

DT = 1.0 / 60.0
PLAYER, DOOR, CRATES = 30, 49, range(21, 27)


class Autopilot:
    """Steers the demo's player with the ``move`` action towards waypoints, as a player would with
    the camera behind them; every walk is bounded by a tick budget."""

    def __init__(self) -> None:
        runtime = create_runtime()
        runtime.per_user_input = False
        self.world: World = read_world(DEMO_WORLD, runtime)
        self.source = DirectActionSource()
        self.world.system(InputSystem).set_source(self.source)
        self.player = self.world.node(PLAYER)
        self.watchers: list[Callable[[], None]] = []
        self.run(30)  # settle on the ground

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.world.tick(DT)
            for watch in self.watchers:
                watch()

    def walk_to(self, x: float, y: float, run: bool = False, budget: int = 900) -> None:
        for _ in range(budget):
            here = self.player.getPos()
            dx, dy = x - here.x, y - here.y
            if math.hypot(dx, dy) < 0.3:
                break
            view = self.world.system(CameraSystem).view_of(PLAYER)
            yaw = math.radians(view.yaw if view is not None else 0.0)
            length = math.hypot(dx, dy)
            # world direction -> (right, forward) of the camera's heading
            right = (dx * math.cos(yaw) + dy * math.sin(yaw)) / length
            ahead = (-dx * math.sin(yaw) + dy * math.cos(yaw)) / length
            self.source.set_vector("move", (right, ahead))
            self.source.hold("run", run)
            self.run(1)
        self.source.set_vector("move", (0.0, 0.0))
        self.source.hold("run", False)
        self.run(20)
        assert math.hypot(x - self.player.getX(), y - self.player.getY()) < 0.6, (x, y, self.player.getPos())


@pytest.fixture
def pilot() -> Autopilot:
    return Autopilot()


def test_the_door_opens_for_the_player_and_closes_behind(pilot: Autopilot) -> None:
    door = pilot.world.node(DOOR)
    closed = Point3(door.getPos())
    widest = [0.0]
    pilot.watchers.append(lambda: widest.__setitem__(0, max(widest[0], (door.getPos() - closed).length())))
    pilot.walk_to(0.0, 4.0)
    pilot.walk_to(0.0, 16.5)  # through the doorway: the closed door would stop the player at y ~ 9.5
    assert widest[0] > 1.8
    pilot.run(180)
    assert (door.getPos() - closed).length() < 0.01


def test_the_player_climbs_the_steps_to_the_landing(pilot: Autopilot) -> None:
    pilot.walk_to(8.5, 1.0)
    pilot.walk_to(14.0, 1.0)
    assert pilot.player.getZ() == pytest.approx(1.0, abs=0.1)


def test_the_player_walks_up_the_ramp_to_the_plateau(pilot: Autopilot) -> None:
    pilot.walk_to(-12.0, 0.0, run=True)
    pilot.walk_to(-31.0, 0.0, run=True, budget=1200)
    assert pilot.player.getZ() == pytest.approx(3.0, abs=0.15)


def test_a_jump_leaves_the_ground_plays_the_jump_clip_and_lands(pilot: Autopilot) -> None:
    start_z = pilot.player.getZ()
    peak, states = [start_z], set()
    animator = pilot.world.get(PLAYER, Animator)
    assert animator is not None
    pilot.watchers.append(lambda: (peak.__setitem__(0, max(peak[0], pilot.player.getZ())), states.add(animator.current)))
    pilot.source.hold("jump")
    pilot.run(2)
    pilot.source.hold("jump", False)
    pilot.run(120)
    assert peak[0] > start_z + 0.5
    assert "jump" in states
    assert pilot.player.getZ() == pytest.approx(start_z, abs=0.05)
    assert animator.current == "idle"


def test_running_into_the_crate_stack_knocks_it_over_with_impact_sounds(pilot: Autopilot) -> None:
    device = pilot.world.system(AudioSystem).device
    start = {eid: Point3(pilot.world.node(eid).getPos()) for eid in CRATES}
    heard = len([r for r in device.played if r.entity in CRATES])
    pilot.walk_to(6.5, -5.5)
    for _ in range(45):  # charge straight through the stack
        pilot.source.set_vector("move", (0.0, 1.0))
        pilot.source.hold("run")
        pilot.run(1)
    pilot.source.set_vector("move", (0.0, 0.0))
    pilot.run(120)
    moved = [eid for eid in CRATES if (pilot.world.node(eid).getPos() - start[eid]).length() > 0.3]
    assert len(moved) >= 3, moved
    impacts = [r for r in device.played if r.entity in CRATES][heard:]
    assert impacts and max(r.volume for r in impacts) > 0.1
