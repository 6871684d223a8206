"""Skeletal animation as a player sees it: the generated character loads as an Actor with its four
clips, the state follows speed and the ground, clips cross-fade linearly, a walk swings the feet
while idle stands still, the same inputs give the same pose, and bad models or clip names give
one clear error each while the world keeps ticking."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from panda3d.core import Point3

from engine.animation import AnimationSystem, Animator
from engine.core.world import World
from engine.data.world_file import load_world_data
from engine.host.runtime import Runtime
from engine.packs.assets import PLACEHOLDER_COLOR
from engine.physics import CharacterController, Collider
from tests.conftest import REPO_ROOT, TmpPack
from tools.assets.gltf_character import character_gltf, write_character

DT = 1.0 / 60.0
SHIPPED = REPO_ROOT / "content" / "base" / "models" / "character.gltf"


def animated_world(runtime: Runtime, **fields: object) -> tuple[World, int, Animator, AnimationSystem]:
    """A runtime world (physics, animation...) with one animated entity and nothing to stand on."""
    world = runtime.new_world()
    eid = world.create_entity("hero")
    animator = world.add(eid, Animator(**fields))
    return world, eid, animator, world.system(AnimationSystem)


def glide(world: World, eid: int, speed: float, ticks: int) -> None:
    """Move the entity along +Y at ``speed`` m/s, a tick at a time (no controller)."""
    node = world.node(eid)
    for _ in range(ticks):
        node.setY(node.getY() + speed * DT)
        world.tick(DT)


def local_joint(world: World, system: AnimationSystem, eid: int, joint: str) -> Point3:
    node = system.joint(eid, joint)
    assert node is not None
    return node.getPos(world.node(eid))


def ground_world(runtime: Runtime) -> World:
    world = runtime.new_world()
    ground = world.create_entity("ground")
    world.node(ground).setPos(0, 0, -0.5)
    world.add(ground, Collider(shape="box", size=(200, 200, 1)))
    return world


# -- the generated model ---------------------------------------------------------------------------

def test_generator_writes_the_same_bytes_every_run_and_matches_the_shipped_file(tmp_path: Path) -> None:
    first = write_character(tmp_path / "a.gltf", log=lambda _line: None).read_bytes()
    second = write_character(tmp_path / "b.gltf", log=lambda _line: None).read_bytes()
    assert first == second
    assert first == SHIPPED.read_bytes(), "run `python -m tools.assets.gltf_character` to refresh the base pack"


def test_character_loads_as_an_actor_with_its_four_clips_standing_1_8_m_tall(runtime: Runtime) -> None:
    world, eid, _animator, system = animated_world(runtime)
    world.tick(DT)
    assert system.clips(eid) == ["idle", "jump", "run", "walk"]
    low, high = world.node(eid).getTightBounds()
    assert abs(low.z) < 0.01 and 1.75 < high.z < 1.85            # feet on z = 0, about 1.8 m tall
    assert high.y > -low.y                                        # toes and nose point +Y
    assert local_joint(world, system, eid, "head").z > 1.4
    assert local_joint(world, system, eid, "foot_L").x < 0 < local_joint(world, system, eid, "foot_R").x


# -- states, fades and poses -------------------------------------------------------------------------

def test_state_follows_speed_without_a_controller(runtime: Runtime) -> None:
    world, eid, animator, system = animated_world(runtime)
    glide(world, eid, 0.0, 10)
    assert animator.current == "idle" and system.weights(eid) == {"idle": 1.0}
    glide(world, eid, 2.0, 60)
    assert animator.current == "walk" and system.weights(eid) == {"walk": 1.0}
    assert system.speed(eid) == pytest.approx(2.0)
    glide(world, eid, 7.0, 60)
    assert animator.current == "run" and system.weights(eid) == {"run": 1.0}
    glide(world, eid, 0.0, 60)
    assert animator.current == "idle"


def test_state_override_wins_over_motion(runtime: Runtime) -> None:
    world, eid, animator, _system = animated_world(runtime, state="run")
    glide(world, eid, 0.0, 5)
    assert animator.current == "run"
    world.set_field(eid, animator, "state", "")
    glide(world, eid, 0.0, 1)
    assert animator.current == "idle"


def test_cross_fade_moves_weights_linearly_over_fade_and_they_sum_to_one(runtime: Runtime) -> None:
    world, eid, _animator, system = animated_world(runtime, fade=0.5)
    glide(world, eid, 0.0, 5)
    seen = []
    for _ in range(40):
        glide(world, eid, 2.0, 1)
        weights = system.weights(eid)
        assert sum(weights.values()) == pytest.approx(1.0, abs=1e-9)
        seen.append(weights.get("walk", 0.0))
    # the first moving tick measures the speed and starts the fade: 30 ticks of 1/60 s make 0.5 s
    assert seen[:29] == pytest.approx([(k + 1) / 30 for k in range(29)])
    assert seen[29] == pytest.approx(1.0) and system.weights(eid) == {"walk": 1.0}


def test_walk_swings_a_foot_and_a_hand_while_idle_stays_near_rest(runtime: Runtime) -> None:
    world, eid, _animator, system = animated_world(runtime, fade=0.0)
    world.tick(DT)
    rest_foot = local_joint(world, system, eid, "foot_L")
    idle_foot, idle_hand = [], []
    for _ in range(120):
        glide(world, eid, 0.0, 1)
        idle_foot.append(local_joint(world, system, eid, "foot_L"))
        idle_hand.append(local_joint(world, system, eid, "hand_R"))
    walk_foot, walk_hand = [], []
    for _ in range(60):
        glide(world, eid, 4.0, 1)
        walk_foot.append(local_joint(world, system, eid, "foot_L"))
        walk_hand.append(local_joint(world, system, eid, "hand_R"))

    def reach(points: list[Point3]) -> float:
        return max(p.y for p in points) - min(p.y for p in points)

    assert max((p - rest_foot).length() for p in idle_foot) < 0.02
    assert reach(idle_hand) < 0.05
    assert reach(walk_foot) > 0.5                                    # a stride, forward and back
    assert reach(walk_hand) > 0.2


def test_run_plays_faster_at_higher_speed(runtime: Runtime) -> None:
    world, eid, _animator, system = animated_world(runtime, fade=0.0)

    def foot_track(speed: float) -> list[float]:
        glide(world, eid, speed, 30)
        out = []
        for _ in range(12):
            glide(world, eid, speed, 1)
            out.append(local_joint(world, system, eid, "foot_L").y)
        return out

    slow, fast = foot_track(6.5), foot_track(13.0)
    assert sum(abs(b - a) for a, b in zip(fast, fast[1:])) > 1.5 * sum(abs(b - a) for a, b in zip(slow, slow[1:]))


def test_same_inputs_give_the_same_pose(runtime: Runtime) -> None:
    def pose_after_a_course() -> list[tuple[float, ...]]:
        world, eid, _animator, system = animated_world(runtime)
        for speed in (0.0, 2.0, 7.5, 3.0, 0.0):
            glide(world, eid, speed, 37)
        joints = ("hips", "head", "hand_L", "hand_R", "foot_L", "foot_R")
        return [tuple(local_joint(world, system, eid, joint)) for joint in joints]

    assert pose_after_a_course() == pose_after_a_course()


def test_play_runs_a_one_shot_then_returns_to_the_motion_state(runtime: Runtime) -> None:
    world, eid, animator, system = animated_world(runtime, fade=0.1)
    glide(world, eid, 0.0, 5)
    assert system.play(eid, "jump")
    glide(world, eid, 0.0, 1)
    assert animator.current == "jump"
    glide(world, eid, 0.0, 32)                       # the 0.5 s clip has ended
    assert animator.current == "idle"
    glide(world, eid, 0.0, 10)
    assert system.weights(eid) == {"idle": 1.0}
    assert not system.play(eid, "backflip")


def test_a_one_shot_holds_its_last_frame_while_it_fades_out_so_no_joint_jumps(runtime: Runtime) -> None:
    world, eid, animator, system = animated_world(runtime, fade=0.5)
    glide(world, eid, 0.0, 10)
    assert system.play(eid, "jump")
    hand = system.joint(eid, "hand_L")
    assert hand is not None
    last = hand.getPos(world.node(eid))
    moves, fading_ticks = [], 0
    for _ in range(90):                              # the 0.5 s clip, its 0.5 s fade back to idle, and on
        glide(world, eid, 0.0, 1)
        now = hand.getPos(world.node(eid))
        moves.append((now - last).length())
        last = now
        weights = system.weights(eid)
        if animator.current == "idle" and 0.0 < weights.get("jump", 0.0) < 1.0:
            fading_ticks += 1
    assert fading_ticks >= 25                        # the ended clip really faded out
    assert system.weights(eid) == {"idle": 1.0}
    assert max(moves) < 0.2                          # metres in one tick; snapping to frame 0 moved it ~1 m


# -- with the real character controller ---------------------------------------------------------------

def standing_player(runtime: Runtime) -> tuple[World, int, CharacterController, Animator]:
    """A controller-driven character with the default Animator, settled on flat ground."""
    world = ground_world(runtime)
    eid = world.create_entity("player")
    controller = world.add(eid, CharacterController())
    animator = world.add(eid, Animator())
    for _ in range(20):
        world.tick(DT)
    return world, eid, controller, animator


def test_a_character_walking_forward_with_the_controller_ends_in_walk(runtime: Runtime) -> None:
    world, eid, controller, animator = standing_player(runtime)
    assert controller.grounded and animator.current == "idle"
    controller.move = (0.0, 1.0, 0.0)
    for _ in range(60):
        world.tick(DT)
    assert world.node(eid).getY() > 3.5
    assert animator.current == "walk"
    assert world.system(AnimationSystem).weights(eid) == {"walk": 1.0}
    controller.run = True
    for _ in range(30):
        world.tick(DT)
    assert animator.current == "run"


def test_a_jump_with_the_controller_plays_jump_until_it_lands(runtime: Runtime) -> None:
    world, eid, controller, animator = standing_player(runtime)
    controller.jump = True
    world.tick(DT)
    assert not controller.grounded and animator.current == "jump"
    states = []
    for _ in range(90):
        world.tick(DT)
        states.append(animator.current)
    assert "jump" in states and states[-1] == "idle" and controller.grounded


# -- bad input ------------------------------------------------------------------------------------------

def test_a_model_without_a_skeleton_is_shown_still_with_one_error(runtime: Runtime,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="storm.animation"):
        world, eid, animator, system = animated_world(runtime, model="base:models/crate.gltf")
        glide(world, eid, 3.0, 30)
    errors = [r.getMessage() for r in caplog.records if r.name == "storm.animation"]
    assert len(errors) == 1
    assert "entity 1 (hero) Animator.model" in errors[0] and "no skeleton" in errors[0]
    assert not world.node(eid).find("animated/**/+GeomNode").isEmpty()          # the crate is shown
    assert animator.current == "walk" and system.weights(eid) == {}


def test_a_model_without_animations_gives_one_error(pack_runtime: Runtime, tmp_pack: TmpPack,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    document = character_gltf()
    del document["animations"]
    tmp_pack.write("models/statue.gltf", json.dumps(document))
    with caplog.at_level(logging.ERROR, logger="storm.animation"):
        world, eid, _animator, system = animated_world(pack_runtime, model=tmp_pack.asset_id("models/statue.gltf"))
        glide(world, eid, 3.0, 10)
    errors = [r.getMessage() for r in caplog.records if r.name == "storm.animation"]
    assert len(errors) == 1 and "no animations" in errors[0] and "'testpack:models/statue.gltf'" in errors[0]
    assert system.clips(eid) == [] and system.joint(eid, "foot_L") is not None   # rest pose, still posable


def test_a_clip_name_not_in_the_model_names_entity_field_clip_and_the_clips(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="storm.animation"):
        world, eid, animator, system = animated_world(runtime, walk_clip="stroll")
        glide(world, eid, 2.0, 60)
    errors = [r.getMessage() for r in caplog.records if r.name == "storm.animation"]
    assert errors == ["entity 1 (hero) Animator.walk_clip: the clip 'stroll' is not in "
                      "'base:models/character.gltf'; its clips are idle, jump, run, walk"]
    assert animator.current == "walk" and system.weights(eid) == {"idle": 1.0}   # idle stands in


def test_a_missing_model_file_shows_the_placeholder_and_the_world_keeps_ticking(
        pack_runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        world, eid, animator, system = animated_world(pack_runtime, model="testpack:models/nobody.gltf")
        glide(world, eid, 2.0, 30)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "testpack:models/nobody.gltf" in errors[0] and "entity 1 (hero) Animator.model" in errors[0]
    assert tuple(world.node(eid).find("animated").getColor()) == PLACEHOLDER_COLOR     # magenta box
    assert world.tick_count == 30 and animator.current == "walk" and system.clips(eid) == []


def test_an_animator_in_a_world_file_loads_and_animates(runtime: Runtime) -> None:
    data = {"storm_world": 2, "name": "anim", "entities": [
        {"id": 1, "name": "dancer", "components": {"Animator": {"state": "walk", "fade": 0}}}]}
    world = load_world_data(data, "anim.world.json", runtime, check_assets=True)
    world.tick(DT)
    system = world.system(AnimationSystem)
    assert world.get(1, Animator).current == "walk" and system.weights(1) == {"walk": 1.0}
