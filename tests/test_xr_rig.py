"""The XR rig in a World, without rendering: tracking applied each tick (standing and seated),
hand velocity in world space, controllers driving Storm's own actions for the VR player (a
PlayerMover it owns walks), snap turn about the head, smooth locomotion, the pointer ray."""
from __future__ import annotations

import pytest
from panda3d.core import Point3

from engine.core.world import World
from engine.data.world_file import load_world_data
from engine.host.runtime import create_runtime
from engine.input import DirectActionSource, InputSystem
from engine.xr.bindings import PROFILES, XR_ACTIONS, binding_paths, to_action_frame
from engine.xr.interaction import XRInteractionSystem
from engine.xr.poses import Fov, HandControls, Pose, TrackingFrame, stereo_eyes
from engine.xr.rig import SEATED, SEATED_EYE_HEIGHT, VR_PLAYER, XRRigSystem, add_rig

DT = 1.0 / 60.0
HEAD = Pose.from_hpr((0.0, 0.0, 1.7))


def world_with_player() -> World:
    runtime = create_runtime()
    runtime.per_user_input = False
    return load_world_data({"storm_world": 2, "name": "vr", "entities": [
        {"id": 1, "name": "Ground", "transform": {"pos": [0, 0, -0.5]}, "components": {"Collider": {"size": [200, 200, 1]}}},
        {"id": 2, "name": "Walker", "transform": {"pos": [5, 0, 0]},
         "components": {"CharacterController": {}, "base:player.PlayerMover": {}, "InputOwner": {"player": "vr"}}},
        {"id": 3, "name": "Panel", "transform": {"pos": [0, 4, 1.2]}, "components": {"Collider": {"size": [2, 0.1, 1]}}},
    ]}, "vr", runtime)


def frame(head: Pose = HEAD, right: Pose | None = None, controls: dict | None = None) -> TrackingFrame:
    grips = {"left": Pose.from_hpr((-0.2, 0.3, 1.2)), "right": right or Pose.from_hpr((0.2, 0.3, 1.2))}
    return TrackingFrame(head, stereo_eyes(head, 0.064, Fov()), grips, dict(grips), controls or {})


def rig_world(reference: str = "standing") -> tuple[World, object, XRInteractionSystem]:
    world = world_with_player()
    rig = add_rig(world, (0.0, 0.0, 0.0), 0.0, reference=reference)
    world.add_system(XRRigSystem(rig))
    interaction = world.add_system(XRInteractionSystem(rig))
    return world, rig, interaction


def test_tracking_is_applied_to_head_and_hands_each_tick() -> None:
    world, rig, _ = rig_world()
    rig.latest = frame(Pose.from_hpr((0.1, 0.2, 1.6), (30, 0, 0)))
    world.tick(DT)
    assert tuple(rig.head_world(world)) == pytest.approx((0.1, 0.2, 1.6), abs=1e-5)
    assert world.node(rig.head).getH(world.root) == pytest.approx(30.0, abs=1e-3)
    assert tuple(rig.hand_world(world, "left")) == pytest.approx((-0.2, 0.3, 1.2), abs=1e-5)
    assert world.name_of(world.parent_of(rig.head)) == "XR Rig"


def test_a_seated_space_raises_the_head_to_seated_eye_height() -> None:
    world, rig, _ = rig_world(SEATED)
    rig.latest = frame(Pose.from_hpr((0.0, 0.0, 0.0)))   # a local space starts at the head
    world.tick(DT)
    assert rig.head_world(world).z == pytest.approx(SEATED_EYE_HEIGHT)


def test_hand_velocity_is_in_world_space_and_follows_the_rig_heading() -> None:
    world, rig, _ = rig_world()
    rig.place(world, (0.0, 0.0, 0.0), heading=90.0)          # facing world -X
    for tick in range(5):
        rig.latest = frame(right=Pose.from_hpr((0.2, 0.3 + tick * 0.05, 1.2)))   # 3 m/s forward in tracking space
        world.tick(DT)
    vx, vy, vz = rig.hand_velocity["right"]
    assert (vx, vy, vz) == pytest.approx((-3.0, 0.0, 0.0), abs=1e-3)


def test_the_left_thumbstick_walks_a_player_mover_owned_by_the_vr_player() -> None:
    world, rig, _ = rig_world()
    source = DirectActionSource()
    input_system = world.system(InputSystem)
    input_system.add_player(VR_PLAYER, source)
    walker = world.find("Walker")
    start = world.node(walker).getPos(world.root)
    controls = {"left": HandControls(thumbstick=(0.0, 1.0)), "right": HandControls(primary=True)}
    declared = set(input_system.actions.map.actions)
    for _ in range(60):
        rig.latest = frame(controls=controls)
        source.set_frame(to_action_frame(controls, declared))
        world.tick(DT)
    assert world.node(walker).getPos(world.root).y - start.y > 1.0      # PlayerMover reads the VR player's move
    assert input_system.actions_of(VR_PLAYER).held("jump")
    assert not input_system.actions.held("jump")                        # the local player's actions are untouched


def test_snap_turn_turns_about_the_head_once_per_push() -> None:
    world, rig, interaction = rig_world()
    head = Pose.from_hpr((0.3, 0.4, 1.7))
    rig.latest = frame(head)
    world.tick(DT)
    before = Point3(rig.head_world(world))
    for _ in range(10):                                                  # held: one turn, not ten
        rig.latest = frame(head, controls={"right": HandControls(thumbstick=(1.0, 0.0))})
        world.tick(DT)
    assert rig.node(world).getH(world.root) == pytest.approx(-interaction.comfort.snap_angle, abs=1e-3)
    assert tuple(rig.head_world(world)) == pytest.approx(tuple(before), abs=1e-4)


def test_smooth_locomotion_moves_the_rig_where_the_head_looks() -> None:
    world, rig, interaction = rig_world()
    source = DirectActionSource()
    world.system(InputSystem).add_player(VR_PLAYER, source)
    head = Pose.from_hpr((0.0, 0.0, 1.7), (90, 0, 0))                   # looking towards world -X
    source.set_vector("move", (0.0, 1.0))
    for _ in range(30):
        rig.latest = frame(head)
        world.tick(DT)
    pos = rig.node(world).getPos(world.root)
    assert pos.x == pytest.approx(-interaction.comfort.smooth_speed * 30 * DT, abs=0.05) and abs(pos.y) < 0.05
    assert interaction.state.vignette == pytest.approx(interaction.comfort.vignette_strength)


def test_the_pointer_ray_finds_the_panel_ahead() -> None:
    world, rig, interaction = rig_world()
    rig.latest = frame()
    world.tick(DT)
    world.tick(DT)
    hit = interaction.state.pointer
    assert hit is not None and hit.entity == world.find("Panel")
    assert hit.distance == pytest.approx(4.0 - 0.05 - 0.3, abs=0.05)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_binds_poses_and_haptics_for_both_hands(profile: str) -> None:
    pairs = binding_paths(profile)
    for hand in ("left", "right"):
        bound = {action for action, path in pairs if path.startswith(f"/user/hand/{hand}/")}
        assert {"grip_pose", "aim_pose", "haptic", "trigger"} <= bound <= set(XR_ACTIONS)
    assert all(path.count("/") >= 5 for _, path in pairs)
