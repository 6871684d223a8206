"""Camera rigs in a real World with real Bullet: third person follows at its distance and looks at
the player, look input swings it with pitch clamped, walls pull it in, first person sits at the
eyes and turns the player, replayed input walks where the camera looks, bad fields are reported
once, and the pointer is held while a look camera is the view."""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import pytest
from panda3d.core import Point3, Vec3

from engine.camera.components import Camera
from engine.camera.system import CameraSystem, forward
from engine.core.errors import DataError
from engine.core.world import World
from engine.data.world_file import load_world_data, read_world, world_to_data
from engine.host.runtime import Runtime, create_runtime
from engine.input import ActionFrame, DirectActionSource, InputSystem, RawFrame, Recording, ScriptedSource, replay
from engine.physics import CharacterController, Collider
from engine.scripting.behaviour import Behaviour
from tests.conftest import DEMO_WORLD, REPO_ROOT

DT = 1.0 / 60.0
EYE = 1.6


@dataclass
class Scene:
    """A world with a ground, a player driven by base:player.PlayerMover and a camera."""

    world: World
    player: int
    camera: int

    @property
    def rig(self) -> Camera:
        component = self.world.get(self.camera, Camera)
        assert component is not None
        return component

    def pos(self, eid: int) -> Point3:
        return self.world.node(eid).getPos(self.world.root)

    def pivot(self) -> Point3:
        return self.pos(self.player) + Vec3(0, 0, EYE)

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.world.tick(DT)

    def use(self, source: Any) -> Any:
        self.world.system(InputSystem).set_source(source)
        return source


def new_runtime() -> Runtime:
    runtime = create_runtime()
    runtime.per_user_input = False  # the tester's own key rebindings must not matter
    return runtime


def scene(camera_hpr: tuple[float, float, float] = (0, -20, 0), **camera: Any) -> Scene:
    world = new_runtime().new_world(name="camera test")
    ground = world.create_entity("Ground")
    world.node(ground).setPos(0, 0, -0.5)
    world.add(ground, Collider(size=(200, 200, 1)))
    player = world.create_entity("Player")
    world.add(player, CharacterController(radius=0.4, height=1.8))
    world.add(player, world.registry.resolve("base:player.PlayerMover")())
    eid = world.create_entity("Camera")
    world.node(eid).setPosHpr(0, -10, 4, *camera_hpr)
    fields = {"height": EYE, **camera}
    if fields.get("target") == "player":
        fields["target"] = player
    world.add(eid, Camera(**fields))
    return Scene(world, player, eid)


def third_person(**fields: Any) -> Scene:
    return scene(**{"mode": "third_person", "target": "player", "distance": 6.0, **fields})


def wall(world: World, center: tuple[float, float, float], size: tuple[float, float, float]) -> int:
    eid = world.create_entity("Wall")
    world.node(eid).setPos(*center)
    world.add(eid, Collider(shape="box", size=size))
    return eid


def aim_error(world: World, camera: int, point: Point3) -> float:
    """Degrees between where the camera looks and the direction to ``point``."""
    node = world.node(camera)
    to_point = point - node.getPos(world.root)
    to_point.normalize()
    return math.degrees(node.getQuat(world.root).getForward().angleRad(to_point))


def mouse(dx: float = 0.0, dy: float = 0.0) -> RawFrame:
    """One tick of mouse motion, in window heights (what the Panda3D source reports)."""
    return RawFrame(axes={"mouse_x": dx, "mouse_y": dy})


# -- third person --------------------------------------------------------------------------------
def test_third_person_camera_stays_behind_the_walking_player_and_looks_at_it() -> None:
    s = third_person()
    s.use(DirectActionSource()).set_vector("move", (0.0, 1.0))
    for _ in range(90):
        s.run(1)
        camera, pivot = s.pos(s.camera), s.pivot()
        assert (camera - pivot).length() == pytest.approx(6.0, abs=1e-3)
        assert aim_error(s.world, s.camera, pivot) < 0.05
        assert camera.y < pivot.y and camera.z > pivot.z          # behind and above: pitch -20
    assert s.pos(s.player).y > 5.0                               # it really walked (4 m/s for 1.5 s)
    assert s.world.node(s.camera).getH() == pytest.approx(0.0, abs=1e-4)


def test_look_input_swings_the_camera_round_the_player_and_pitch_is_clamped() -> None:
    s = third_person(collide=False, pitch_min=-60, pitch_max=30)
    other = s.world.create_entity("Second camera")            # not the view: look input leaves it alone
    s.world.add(other, Camera(mode="orbit", target=s.player, priority=-1))
    frames = [mouse(dx=0.05)] * 18 + [mouse(dy=0.1)] * 30 + [mouse(dy=-0.1)] * 60
    s.use(ScriptedSource(frames))
    s.run(18)                                                  # 0.05 window heights = 0.5 look = 5 degrees a tick
    camera, pivot = s.pos(s.camera), s.pivot()
    assert s.world.node(s.camera).getH(s.world.root) == pytest.approx(-90.0, abs=1e-3)
    assert camera.x == pytest.approx(pivot.x - 6 * math.cos(math.radians(20)), abs=1e-3)
    assert camera.y == pytest.approx(pivot.y, abs=1e-3)       # now on the player's left, looking right (+X)
    assert aim_error(s.world, s.camera, pivot) < 0.05
    s.run(30)
    assert s.world.node(s.camera).getP(s.world.root) == pytest.approx(30.0, abs=1e-3)
    assert s.pos(s.camera).z == pytest.approx(pivot.z - 6 * math.sin(math.radians(30)), abs=1e-3)
    s.run(60)
    assert s.world.node(s.camera).getP(s.world.root) == pytest.approx(-60.0, abs=1e-3)
    assert (s.pos(s.camera) - s.pivot()).length() == pytest.approx(6.0, abs=1e-3)
    rig = s.world.system(CameraSystem).rig(other)
    assert rig is not None and rig.yaw == pytest.approx(0.0, abs=1e-4)


def test_right_stick_turns_the_view_at_a_steady_rate() -> None:
    s = third_person()
    s.use(ScriptedSource([RawFrame(axes={"gamepad:right_x": 1.0})] * 60 + [RawFrame(axes={"gamepad:right_x": 0.1})]))
    s.run(60)                                                  # full tilt: 2.5 degrees a tick, 150 in a second
    rig = s.world.system(CameraSystem).rig(s.camera)
    assert rig.yaw == pytest.approx(-150.0, abs=1e-3)
    s.run(1)                                                   # inside the stick's dead zone: no drift
    assert rig.yaw == pytest.approx(-150.0, abs=1e-3)


def test_a_wall_between_player_and_camera_pulls_the_camera_in_front_of_it() -> None:
    s = third_person(collide_radius=0.2)
    blocker = wall(s.world, (0, -3, 2), (10, 0.4, 6))         # its front face is at y = -2.8
    s.run(2)
    camera, pivot = s.pos(s.camera), s.pivot()
    assert -2.8 < camera.y < -2.5                              # in front of the wall, 0.2 m off it
    assert aim_error(s.world, s.camera, pivot) < 0.05          # still on the line to the player, looking at it
    assert (camera - pivot).length() < 3.0
    s.world.destroy(blocker)
    s.world.flush_destroyed()                                  # gone now, not at the end of the next tick
    s.run(1)
    assert (s.pos(s.camera) - s.pivot()).length() == pytest.approx(6.0, abs=1e-3)  # rigid: straight back out


def test_walls_pull_in_at_once_and_smoothing_eases_back_out() -> None:
    s = third_person(smoothing=0.25)
    s.run(2)
    blocker = wall(s.world, (0, -3, 2), (10, 0.4, 6))
    s.run(1)
    assert s.pos(s.camera).y > -2.8                            # never a tick behind the wall
    pulled = (s.pos(s.camera) - s.pivot()).length()
    s.world.destroy(blocker)
    s.world.flush_destroyed()
    s.run(1)
    first = (s.pos(s.camera) - s.pivot()).length()
    assert pulled + 0.1 < first < pulled + 0.5                 # 1 - exp(-1/15) of the way back out in a tick
    s.run(240)
    assert (s.pos(s.camera) - s.pivot()).length() == pytest.approx(6.0, abs=1e-3)


def test_smoothing_lags_behind_a_walking_player_then_catches_up_the_same_way_every_run() -> None:
    def session() -> tuple[tuple[float, ...], float, float]:
        s = third_person(smoothing=0.2)
        source = s.use(DirectActionSource())
        source.set_vector("move", (0.0, 1.0))
        s.run(40)
        lag = (s.pos(s.camera) - s.pivot()).length()
        source.clear()
        s.run(180)
        return tuple(s.pos(s.camera)), lag, s.pivot().y

    (final, lag, player_y), again = session(), session()
    assert lag > 6.3                                           # the followed point trails the walking player
    assert final == again[0]                                   # tick arithmetic only: identical runs
    assert player_y > 2.5                                      # it walked 40 ticks at 4 m/s...
    assert final[1] == pytest.approx(player_y - 6 * math.cos(math.radians(20)), abs=1e-3)  # ...and was caught up


# -- first person and orbit -----------------------------------------------------------------------
def test_first_person_sits_at_eye_height_and_turns_the_player() -> None:
    s = scene(mode="first_person", target="player", camera_hpr=(0, 0, 0), pitch_min=-80, pitch_max=80)
    s.world.node(s.player).setH(30)                            # first person starts facing the player's way
    source = s.use(DirectActionSource())
    s.run(2)
    assert s.world.node(s.camera).getH(s.world.root) == pytest.approx(30.0, abs=1e-3)
    source.set_vector("look", (-0.6, 0.3))                     # 6 degrees left and 3 up a tick
    s.run(10)
    source.clear()
    s.run(1)
    camera = s.world.node(s.camera)
    assert tuple(s.pos(s.camera)) == pytest.approx(tuple(s.pivot()), abs=1e-4)
    assert camera.getH(s.world.root) == pytest.approx(90.0, abs=1e-3)
    assert camera.getP(s.world.root) == pytest.approx(30.0, abs=1e-3)
    assert s.world.node(s.player).getH(s.world.root) == pytest.approx(90.0, abs=1e-3)
    source.set_vector("look", (0.0, 1.0))
    s.run(20)
    assert camera.getP(s.world.root) == pytest.approx(80.0, abs=1e-3)
    source.clear()
    source.set_vector("move", (0.0, 1.0))                      # forward is where the player now faces: -X
    start = s.pos(s.player)
    s.run(60)
    moved = s.pos(s.player) - start
    assert moved.x < -3.5 and abs(moved.y) < 0.05
    assert tuple(s.pos(s.camera)) == pytest.approx(tuple(s.pivot()), abs=1e-4)


def test_a_first_person_camera_parented_to_the_player_still_sits_at_its_eyes() -> None:
    s = scene(mode="first_person", target="player", camera_hpr=(0, 0, 0))
    s.world.reparent(s.camera, s.player)
    s.world.node(s.player).setPos(3, 4, 0)
    source = s.use(DirectActionSource())
    source.set_vector("look", (-0.5, 0.0))
    s.run(9)                                                   # 45 degrees left
    assert tuple(s.pos(s.camera)) == pytest.approx(tuple(s.pivot()), abs=1e-3)
    assert s.world.node(s.camera).getH(s.world.root) == pytest.approx(45.0, abs=1e-3)
    assert s.world.node(s.player).getH(s.world.root) == pytest.approx(45.0, abs=1e-3)


def test_orbit_circles_a_fixed_point_by_itself() -> None:
    s = scene(mode="orbit", orbit_point=(0, 0, 1), distance=5, auto_rotate=90, camera_hpr=(0, -30, 0))
    s.run(60)                                                  # one second: a quarter turn
    assert s.world.node(s.camera).getH(s.world.root) == pytest.approx(90.0, abs=1e-3)
    expected = Point3(0, 0, 1) - forward(90.0, -30.0) * 5
    assert tuple(s.pos(s.camera)) == pytest.approx(tuple(expected), abs=1e-3)
    assert aim_error(s.world, s.camera, Point3(0, 0, 1)) < 0.05


def test_orbit_follows_a_target_and_stays_above_the_ground() -> None:
    s = scene(mode="orbit", target="player", distance=5, auto_rotate=-45, pitch_max=60, camera_hpr=(0, 40, 0))
    s.run(30)                                                  # pitch 40 up puts the camera under the ground...
    assert s.pos(s.camera).z > 0.0                             # ...so the ground pulls it in above the floor
    assert aim_error(s.world, s.camera, s.pivot()) < 0.05


# -- the player walks where the camera looks ------------------------------------------------------
def test_replayed_move_forward_goes_along_a_camera_yawed_90_degrees() -> None:
    def play() -> tuple[Scene, Point3]:
        s = third_person()
        kinds = s.world.services["input"].map.kinds()
        frames = [ActionFrame(vectors={"look": (-0.9, 0.0)})] * 10 + [ActionFrame(vectors={"move": (0.0, 1.0)})] * 60
        assert replay(s.world, Recording(60.0, 0, kinds, frames)) == 70
        return s, s.pos(s.player)

    s, end = play()
    assert s.world.system(CameraSystem).rig(s.camera).yaw == pytest.approx(90.0, abs=1e-3)  # camera looks -X
    assert end.x < -3.5 and abs(end.y) < 0.05                  # along the camera's forward, not world +Y
    assert s.world.node(s.player).getH(s.world.root) == pytest.approx(90.0, abs=1e-3)  # turned to face its way
    assert tuple(play()[1]) == tuple(end)                      # and the same on every replay


def test_without_a_follow_camera_look_turns_the_player_as_before() -> None:
    s = scene()                                                # a fixed camera follows nobody
    source = s.use(DirectActionSource())
    source.set_vector("look", (0.5, 0.0))
    s.run(12)                                                  # 0.5 * 480 degrees a second for 0.2 s
    assert s.world.node(s.player).getH() == pytest.approx(-48.0, abs=1e-3)
    assert tuple(s.pos(s.camera)) == pytest.approx((0, -10, 4))
    source.set_vector("look", (0.0, 0.0))
    source.set_vector("move", (0.0, 1.0))
    start = s.pos(s.player)
    s.run(30)
    moved = s.pos(s.player) - start
    assert math.degrees(math.atan2(-moved.x, moved.y)) == pytest.approx(-48.0, abs=0.5)


# -- bad input ------------------------------------------------------------------------------------
def child_of_camera(s: Scene) -> dict[str, Any]:
    child = s.world.create_entity("Lens cap", parent=s.camera)
    return {"mode": "third_person", "target": child}


BAD_CAMERAS: list[tuple[str, Callable[[Scene], dict[str, Any]], str, str]] = [
    ("missing target", lambda s: {"mode": "third_person", "target": 99}, "Camera.target",
     "entity 99 does not exist"),
    ("itself", lambda s: {"mode": "orbit", "target": s.camera}, "Camera.target", "is the camera itself"),
    ("no target", lambda s: {"mode": "first_person"}, "Camera.target", "mode 'first_person' follows an entity"),
    ("pitch limits", lambda s: {"mode": "orbit", "pitch_min": 30, "pitch_max": -30}, "Camera.pitch_min",
     "30 is above Camera.pitch_max -30"),
    ("distances", lambda s: {"mode": "orbit", "min_distance": 10, "max_distance": 2}, "Camera.min_distance",
     "10 is above Camera.max_distance 2"),
    ("child target", child_of_camera, "Camera.target", "is a child of the camera"),
]


@pytest.mark.parametrize("make_fields, field, words", [case[1:] for case in BAD_CAMERAS],
                         ids=[case[0] for case in BAD_CAMERAS])
def test_bad_camera_fields_are_reported_once_and_the_camera_stays_put(
        make_fields: Callable[[Scene], dict[str, Any]], field: str, words: str,
        caplog: pytest.LogCaptureFixture) -> None:
    s = scene(camera_hpr=(10, -5, 0))
    for name, value in make_fields(s).items():
        s.world.set_field(s.camera, s.rig, name, value)
    source = s.use(DirectActionSource())
    source.set_vector("look", (1.0, 1.0))
    source.set_vector("move", (0.0, 1.0))
    with caplog.at_level(logging.ERROR, logger="storm.camera"):
        s.run(30)
    messages = [r.getMessage() for r in caplog.records if r.name == "storm.camera"]
    assert len(messages) == 1, messages
    assert f"entity {s.camera} (Camera) {field}:" in messages[0] and words in messages[0]
    assert "the camera stays where it is" in messages[0]
    node = s.world.node(s.camera)
    assert tuple(node.getPos()) == pytest.approx((0, -10, 4)) and tuple(node.getHpr()) == pytest.approx((10, -5, 0))
    assert s.world.tick_count == 30 and s.pos(s.player).length() > 1.0  # the world and the player went on


def test_a_destroyed_target_is_reported_once_and_a_new_one_is_followed(caplog: pytest.LogCaptureFixture) -> None:
    s = third_person()
    s.run(5)
    where = s.pos(s.camera)
    s.world.destroy(s.player)
    with caplog.at_level(logging.ERROR, logger="storm.camera"):
        s.run(30)
    assert caplog.text.count("Camera.target: entity") == 1 and f"entity {s.player} does not exist" in caplog.text
    assert tuple(s.pos(s.camera)) == pytest.approx(tuple(where))
    post = s.world.create_entity("Post")
    s.world.node(post).setPos(20, 0, 0)
    s.world.set_field(s.camera, s.rig, "target", post)
    s.run(1)
    assert (s.pos(s.camera) - Point3(20, 0, EYE)).length() == pytest.approx(6.0, abs=1e-3)


def test_the_loader_names_bad_camera_values(caplog: pytest.LogCaptureFixture) -> None:
    data = {"storm_world": 2, "entities": [{"id": 1, "name": "Cam", "components": {"Camera": {"mode": "sideways"}}}]}
    with pytest.raises(DataError, match=r"Camera\.mode.*'fixed', 'first_person', 'third_person', 'orbit'"):
        load_world_data(data, "bad.world.json", new_runtime())


# -- worlds, files, the pointer -------------------------------------------------------------------
def test_a_saved_and_reloaded_world_carries_on_from_the_same_view() -> None:
    s = third_person(smoothing=0.1, pitch_min=-50)
    s.use(ScriptedSource([mouse(dx=0.03, dy=-0.02)] * 20))
    s.run(30)
    data = world_to_data(s.world)
    camera_block = next(e for e in data["entities"] if e["name"] == "Camera")
    assert camera_block["components"]["Camera"]["mode"] == "third_person"
    again = load_world_data(json.loads(json.dumps(data)), "saved.world.json", new_runtime())
    again.tick(DT)
    assert tuple(again.node(s.camera).getPos()) == pytest.approx(tuple(s.pos(s.camera)), abs=1e-3)
    assert tuple(again.node(s.camera).getHpr()) == pytest.approx(tuple(s.world.node(s.camera).getHpr()), abs=1e-3)


def test_the_demo_camera_follows_the_player_it_targets() -> None:
    world = read_world(DEMO_WORLD, new_runtime())
    camera = world.get(1, Camera)
    assert camera is not None and camera.mode == "third_person" and camera.target == 30
    player = world.node(30)
    start = Point3(player.getPos())
    world.system(InputSystem).set_source(ScriptedSource([RawFrame(down=frozenset({"w"}))] * 90))
    for _ in range(120):
        world.tick(DT)
    assert (player.getPos() - start).length() > 3.0  # it walked
    behind = world.node(1).getPos() - player.getPos()
    assert math.hypot(behind.x, behind.y) == pytest.approx(camera.distance * math.cos(math.radians(20)), rel=0.25)


def test_the_docs_example_world_keeps_the_camera_in_front_of_the_wall() -> None:
    text = (REPO_ROOT / "docs" / "camera.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block is not None
    world = load_world_data(json.loads(block.group(1)), "docs/camera.md", new_runtime())
    source = DirectActionSource()
    world.system(InputSystem).set_source(source)
    source.set_vector("move", (0.0, -1.0))                     # walk back, towards the wall behind the camera
    for _ in range(150):
        world.tick()
        assert world.node(1).getY(world.root) > -11.8          # never behind the wall's face
    player = world.node(3).getPos(world.root)
    assert player.y < -8.0 and world.node(3).getH(world.root) == pytest.approx(-180.0, abs=1e-3)


class PointerSource(ScriptedSource):
    """A scripted source that, like the Panda3D one in a window, can hide and hold the pointer."""

    def __init__(self, frames: Iterable[RawFrame]) -> None:
        super().__init__(frames)
        self.captures: list[bool] = []

    def set_capture(self, on: bool) -> None:
        self.captures.append(on)


def test_the_pointer_is_held_while_a_look_camera_is_the_view_and_pause_lets_go() -> None:
    s = third_person()
    esc = RawFrame(down=frozenset({"escape"}))
    source = s.use(PointerSource([RawFrame()] * 3 + [esc, RawFrame(), esc] + [RawFrame()] * 3))
    s.run(3)
    assert source.captures == [True]
    s.run(2)
    assert source.captures == [True, False]                    # Esc: the pointer is the player's again
    s.run(4)
    assert source.captures == [True, False, True]              # Esc again: back to mouse-look
    s.world.set_field(s.camera, s.rig, "mode", "fixed")
    s.run(1)
    assert source.captures == [True, False, True, False]       # a fixed view needs no pointer
    s.world.set_field(s.camera, s.rig, "mode", "orbit")
    s.run(1)
    s.world.close()
    assert source.captures == [True, False, True, False, True, False]  # closing the world lets go


class CameraReader(Behaviour):
    """Records the yaw of the camera following this entity, as a gameplay script would."""

    def on_start(self) -> None:
        self.yaws: list[float | None] = []

    def on_update(self, dt: float) -> None:
        from engine.camera.system import follow_view

        view = follow_view(self.world, self.entity)
        self.yaws.append(view.yaw if view is not None else None)


def test_behaviours_find_the_camera_that_follows_them() -> None:
    s = third_person(camera_hpr=(45, -20, 0))
    reader = s.world.add(s.player, CameraReader())
    loner = s.world.create_entity("Loner")
    lonely = s.world.add(loner, CameraReader())
    s.run(3)
    assert reader.yaws == [45.0, 45.0, 45.0] and lonely.yaws == [None, None, None]
    s.world.set_field(s.camera, s.rig, "active", False)
    s.run(1)
    assert reader.yaws[-1] is None                             # a disabled camera follows nobody
