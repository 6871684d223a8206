"""The PropAnimator as a game maker uses it: one looping clip of a glTF prop (tests/gltf_models.py's
``prop_model``: a sliding door node, an unnamed turning fan, a morph-target flag and a skinned bar),
moving between keyframes in the right direction, clips by name (``anim<N>`` for unnamed ones),
once or looping, paused, faster, from the import cache, through a snapshot, and one clear error
for a clip or model that is not there, never the Animator's walk/run/jump complaints."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from engine.animation import AnimationSystem, PropAnimator
from engine.animation.gltf_clips import Track, slerp
from engine.core.world import World
from engine.host.runtime import Runtime
from engine.packs.content import default_content
from engine.render.gltf_fixes import lerp_factor, next_time_index
from tests.conftest import TmpPack
from tests.gltf_models import GltfBuilder, box, inverse_bind, prop_model, quat_to_gltf, to_gltf

DT = 1.0 / 60.0
MODEL = "models/prop.gltf"


def prop_world(runtime: Runtime, pack: TmpPack, glb: bool = False, **fields: object
               ) -> tuple[World, int, PropAnimator, AnimationSystem]:
    path = pack.root / (MODEL.replace(".gltf", ".glb") if glb else MODEL)
    if not path.exists():
        written = prop_model(pack.root / MODEL)
        if glb:
            path.write_bytes(_glb_of(written))
    world = runtime.new_world()
    eid = world.create_entity("prop")
    prop = world.add(eid, PropAnimator(model=pack.asset_id(path.relative_to(pack.root).as_posix()), **fields))
    return world, eid, prop, world.system(AnimationSystem)


def _glb_of(gltf_path: Path) -> bytes:
    """The .gltf (buffer as a data URI) repackaged as .glb."""
    import base64
    import json
    import struct

    doc = json.loads(gltf_path.read_text(encoding="utf-8"))
    blob = base64.b64decode(doc["buffers"][0].pop("uri").split(",", 1)[1])
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    blob += b"\0" * (-len(blob) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(blob), b"BIN\0") + blob
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def run(world: World, seconds: float) -> None:
    for _ in range(round(seconds / DT)):
        world.tick(DT)


def part(world: World, eid: int, name: str):  # noqa: ANN201 - a NodePath
    found = world.node(eid).find(f"**/{name}")
    assert not found.isEmpty(), name
    return found


def top(world: World, eid: int, name: str) -> float:
    return part(world, eid, name).getTightBounds(world.root)[1].z


# -- clips and their names --------------------------------------------------------------------------

def test_clips_are_listed_in_the_files_order_and_an_unnamed_one_is_anim_n(pack_runtime: Runtime,
                                                                         tmp_pack: TmpPack) -> None:
    world, eid, prop, system = prop_world(pack_runtime, tmp_pack)
    assert system.clips(eid) == ["slide", "anim1", "rise", "lift"]
    assert system.errors == [] and pack_runtime.assets.errors == []


def test_with_no_clip_named_the_first_one_plays(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, prop, _system = prop_world(pack_runtime, tmp_pack)
    run(world, 0.25)
    assert prop.time == pytest.approx(0.25)
    assert part(world, eid, "door").getX() == pytest.approx(0.5, abs=1e-3)


# -- each kind of animation moves between its keys ---------------------------------------------------

def test_a_node_moves_between_two_keys_in_the_right_direction(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, _prop, _system = prop_world(pack_runtime, tmp_pack, clip="slide")
    door = part(world, eid, "door")
    seen = []
    for _ in range(4):
        run(world, 0.2)
        seen.append(door.getPos())
    xs = [p.x for p in seen]
    assert xs == pytest.approx([0.4, 0.8, 1.2, 1.6], abs=1e-3)        # 2 m in 1 s, not key to key
    assert all(abs(p.y) < 1e-6 and abs(p.z) < 1e-6 for p in seen)    # along +X only (glTF's axes converted)


def test_an_unnamed_clip_turns_a_node_along_the_sphere(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, _prop, _system = prop_world(pack_runtime, tmp_pack, clip="anim1")
    fan = part(world, eid, "fan")
    run(world, 0.5)
    assert fan.getH() == pytest.approx(45.0, abs=0.1)
    run(world, 1.0)
    assert fan.getH() == pytest.approx(135.0, abs=0.1)
    assert fan.getZ() == pytest.approx(2.0)                           # its rest translation stays


def test_morph_target_weights_follow_the_clip(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, _prop, _system = prop_world(pack_runtime, tmp_pack, clip="rise")
    assert top(world, eid, "flag") == pytest.approx(0.5, abs=1e-3)
    run(world, 0.5)
    assert top(world, eid, "flag") == pytest.approx(1.0, abs=0.02)    # weight 0.5 of a 1 m lift


def test_a_skeletal_clip_of_two_keys_moves_between_them(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    # panda3d-gltf 1.3.0 alone samples every frame at the *next* key (its issue #143): the bone
    # would stand at its end from the first tick
    world, eid, _prop, _system = prop_world(pack_runtime, tmp_pack, clip="lift")
    assert top(world, eid, "bar") == pytest.approx(1.0, abs=1e-3)
    run(world, 0.5)
    assert top(world, eid, "bar") == pytest.approx(1.5, abs=0.02)
    run(world, 0.25)
    assert top(world, eid, "bar") == pytest.approx(1.75, abs=0.02)


def test_the_converters_keyframe_fix() -> None:
    assert lerp_factor(0.25, 0.0, 1.0) == 0.25 and lerp_factor(-1.0, 0.0, 1.0) == 0.0
    assert lerp_factor(2.0, 0.0, 1.0) == 1.0 and lerp_factor(1.0, 1.0, 1.0) == 1.0
    assert next_time_index(0.5, [0.0, 1.0, 2.0]) == 1 and next_time_index(1.5, [0.0, 1.0, 2.0]) == 2
    assert next_time_index(9.0, [0.0, 1.0, 2.0]) == 2        # past a channel's last key: no IndexError
    from gltf import _converter

    assert _converter.get_lerp_factor is lerp_factor and _converter.get_next_time_index is next_time_index


def test_a_channel_that_ends_before_its_clip_loads_and_holds(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    b = GltfBuilder()
    shape = box(0.2)
    count = len(shape["positions"])
    mesh = b.mesh(shape["positions"], shape["normals"], shape["indices"], b.material(),
                  joints=[[0, 0, 0, 0]] * count, weights=[[1.0, 0, 0, 0]] * count)
    joint = b.node("bone", root=False)
    skinned = b.node("body", mesh=mesh, skin=b.skin([joint], [inverse_bind((0, 0, 0))]), root=False)
    b.node("Armature", children=[joint, skinned])
    b.animation([(joint, "translation", [0.0, 1.0], to_gltf([(0, 0, 0), (0, 0, 1)])),
                 (joint, "rotation", [0.0, 2.0], [quat_to_gltf((0, 0, 1), 0), quat_to_gltf((0, 0, 1), 90)])],
                name="uneven")
    b.write_gltf(tmp_pack.root / "models" / "uneven.gltf")
    world = pack_runtime.new_world()
    eid = world.create_entity("uneven")
    world.add(eid, PropAnimator(model=tmp_pack.asset_id("models/uneven.gltf"), loop=False))
    assert pack_runtime.assets.errors == []
    run(world, 1.5)
    assert top(world, eid, "body") == pytest.approx(1.1, abs=0.02)   # the translation keys ended at 1 m


# -- playing ----------------------------------------------------------------------------------------

def test_a_looping_clip_comes_round_and_a_single_one_holds_its_end(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, prop, _system = prop_world(pack_runtime, tmp_pack, clip="slide")
    run(world, 1.25)
    assert prop.time == pytest.approx(0.25) and part(world, eid, "door").getX() == pytest.approx(0.5, abs=1e-3)
    world.set_field(eid, prop, "loop", False)
    run(world, 1.0)
    assert prop.time == pytest.approx(1.0) and part(world, eid, "door").getX() == pytest.approx(2.0, abs=1e-3)


def test_paused_it_holds_faster_it_goes_further_and_a_new_clip_starts_at_zero(pack_runtime: Runtime,
                                                                              tmp_pack: TmpPack) -> None:
    world, eid, prop, _system = prop_world(pack_runtime, tmp_pack, clip="slide", speed=2.0)
    run(world, 0.25)
    assert prop.time == pytest.approx(0.5)
    world.set_field(eid, prop, "playing", False)
    run(world, 0.5)
    assert prop.time == pytest.approx(0.5) and part(world, eid, "door").getX() == pytest.approx(1.0, abs=1e-3)
    world.set_field(eid, prop, "clip", "anim1")
    assert prop.time == 0.0


def test_a_moving_prop_has_no_walk_run_or_jump_complaints(pack_runtime: Runtime, tmp_pack: TmpPack,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        world, eid, _prop, system = prop_world(pack_runtime, tmp_pack)
        node = world.node(eid)
        for _ in range(60):
            node.setX(node.getX() + 5 * DT)          # carried along at a run's speed
            world.tick(DT)
    assert system.errors == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]


def test_the_unit_field_scales_the_prop(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, _prop, _system = prop_world(pack_runtime, tmp_pack, clip="slide", unit="cm")
    run(world, 0.5)
    assert part(world, eid, "door").getPos(world.root).x == pytest.approx(0.01, abs=1e-5)


# -- from other files and states ---------------------------------------------------------------------

def test_a_glb_prop_plays_the_same(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, _prop, system = prop_world(pack_runtime, tmp_pack, glb=True, clip="lift")
    assert system.clips(eid) == ["slide", "anim1", "rise", "lift"]
    run(world, 0.5)
    assert top(world, eid, "bar") == pytest.approx(1.5, abs=0.02)


def test_a_prop_from_the_import_cache_still_moves(tmp_pack: TmpPack) -> None:
    from engine.host.runtime import create_runtime

    tops = []
    for _ in range(2):
        content = default_content()
        content.add_pack(tmp_pack.root)
        runtime = create_runtime(content)
        world, eid, _prop, _system = prop_world(runtime, tmp_pack, clip="lift")
        run(world, 0.5)
        tops.append(top(world, eid, "bar"))
    assert runtime.assets.import_cache.hits >= 1
    assert tops == pytest.approx([1.5, 1.5], abs=0.02)


def test_a_snapshot_brings_the_clip_and_its_time_back(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, prop, _system = prop_world(pack_runtime, tmp_pack, clip="slide")
    run(world, 0.25)
    snap = world.snapshot()
    run(world, 0.5)
    world.restore(snap)
    prop = world.get(eid, PropAnimator)
    assert prop.time == pytest.approx(0.25)
    assert part(world, eid, "door").getX() == pytest.approx(0.5, abs=1e-3)


# -- what is not there -------------------------------------------------------------------------------

def test_an_unknown_clip_is_reported_once_with_the_clips_there_are(pack_runtime: Runtime, tmp_pack: TmpPack) -> None:
    world, eid, _prop, system = prop_world(pack_runtime, tmp_pack, clip="open")
    run(world, 0.5)
    assert system.errors == [f"entity {eid} (prop) PropAnimator.clip: the clip 'open' is not in "
                             f"'testpack:{MODEL}'; its clips are slide, anim1, rise, lift"]
    assert part(world, eid, "door").getX() == 0.0                     # the rest pose


def test_a_model_without_clips_or_a_missing_one_says_so_and_the_world_ticks(pack_runtime: Runtime,
                                                                            tmp_pack: TmpPack) -> None:
    b = GltfBuilder()
    shape = box()
    b.node("crate", mesh=b.mesh(shape["positions"], shape["normals"], shape["indices"], b.material()))
    b.write_gltf(tmp_pack.root / "models" / "still.gltf")
    world = pack_runtime.new_world()
    still, gone = world.create_entity("still"), world.create_entity("gone")
    world.add(still, PropAnimator(model=tmp_pack.asset_id("models/still.gltf")))
    world.add(gone, PropAnimator(model=tmp_pack.asset_id("models/gone.gltf")))
    run(world, 0.1)
    system = world.system(AnimationSystem)
    assert system.errors == [f"entity {still} (still) PropAnimator.model: 'testpack:models/still.gltf' has no "
                             "animations; showing it still"]
    assert any("gone.gltf" in e and "placeholder" in e for e in pack_runtime.assets.errors)


# -- the interpolation itself ------------------------------------------------------------------------

def test_step_linear_and_cubic_spline_keys() -> None:
    times = [0.0, 1.0]
    assert Track(0, "translation", times, [(0.0,), (2.0,)], "STEP").sample(0.9) == (0.0,)
    assert Track(0, "translation", times, [(0.0,), (2.0,)], "LINEAR").sample(0.25) == (0.5,)
    # tangents of 0 at both ends: a smooth step, halfway at the middle, slow near the ends
    cubic = Track(0, "translation", times, [(0.0,), (0.0,), (0.0,), (0.0,), (2.0,), (0.0,)], "CUBICSPLINE")
    assert cubic.sample(0.5) == pytest.approx((1.0,)) and cubic.sample(0.1)[0] == pytest.approx(2 * 0.028)
    assert cubic.sample(-1.0) == (0.0,) and cubic.sample(5.0) == (2.0,)
    # tangents of 2 per second at both ends of a 2 m rise in 1 s: a straight line
    steady = Track(0, "translation", times, [(0.0,), (0.0,), (2.0,), (2.0,), (2.0,), (0.0,)], "CUBICSPLINE")
    assert steady.sample(0.25) == pytest.approx((0.5,))


def test_slerp_takes_the_short_way_round() -> None:
    a = tuple(quat_to_gltf((0, 0, 1), 10))
    b = tuple(-c for c in quat_to_gltf((0, 0, 1), 30))                # the same turn as +30, written negated
    half = slerp(a, b, 0.5)
    angle = 2 * math.degrees(math.acos(min(1.0, abs(half[3]))))
    assert angle == pytest.approx(20.0, abs=1e-3)


# -- the examples of docs/models.md ------------------------------------------------------------------

def doc_blocks(kind: str) -> list[str]:
    import re

    from tests.conftest import REPO_ROOT

    return re.findall(rf"```{kind}\n(.*?)```", (REPO_ROOT / "docs" / "models.md").read_text(encoding="utf-8"), re.S)


def test_the_python_example_of_the_models_doc_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = [b for b in doc_blocks("python") if "PropAnimator" in b]
    exec(compile(block, "docs/models.md", "exec"), {})  # noqa: S102 - our own documentation
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["['idle', 'walk', 'run', 'jump']", "0.5"]


def test_the_world_file_example_of_the_models_doc_loads(runtime: Runtime) -> None:
    import json

    from engine.data.world_file import load_world_data

    (block,) = [b for b in doc_blocks("json") if "PropAnimator" in b]
    entity = json.loads(block)
    entity["components"]["PropAnimator"]["model"] = "base:models/character.gltf"
    entity["components"]["PropAnimator"]["clip"] = "walk"
    world = load_world_data({"storm_world": 2, "name": "doc", "entities": [entity]}, "docs/models.md", runtime)
    (eid, prop), = world.query(PropAnimator)
    assert prop.speed == 0.5 and world.system(AnimationSystem).clips(eid)[1] == "walk"
