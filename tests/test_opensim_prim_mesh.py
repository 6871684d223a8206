"""Prims drawn from their path and profile parameters: the geometry a visitor would notice (a box's
six faces numbered as viewers number them, a hollow's inner wall, profile and path cuts, twist,
taper, a torus), per-face colours and textures (faces of other looks as child entities; an
offscreen screenshot of one face textured, the others keeping their colours), one mesh for
1,000 prims of one shape, and hostile parameters clamped with a bounded vertex count."""
from __future__ import annotations

import json
import logging
import math
import os
import random
import struct
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from engine.host.runtime import create_runtime
from engine.render.components import MeshRenderer
from netcode.opensim.login import LoginReply
from netcode.opensim.messages import Message, MessageCodec
from netcode.opensim.prim_mesh import PrimMesh, build_mesh, face_count
from netcode.opensim.prim_models import PACK, PrimModels, faces_of, model_id
from netcode.opensim.prim_shape import PrimShape
from netcode.opensim.region import RegionSession, RegionSystem
from netcode.opensim.region_world import NEW_SHAPES_PER_TICK, RegionObject
from netcode.opensim.texture_entry import encode_texture_entry
from netcode.opensim.textures import texture_transform
from tests.test_opensim_region import feed, full_update

ROOT = Path(__file__).resolve().parents[1]
CODEC = MessageCodec()
LINE, CIRCLE = 0x10, 0x20
NAMES = ("path_begin", "path_end", "path_scale_x", "path_scale_y", "path_shear_x", "path_shear_y", "path_twist",
         "path_twist_begin", "path_radius_offset", "path_taper_x", "path_taper_y", "path_revolutions", "path_skew",
         "profile_begin", "profile_end", "profile_hollow")


def shape(path: int = LINE, profile: int = 1, **values: int) -> PrimShape:
    raw = {name: 100 if name in ("path_scale_x", "path_scale_y") else 0 for name in NAMES}
    raw.update(values)
    return PrimShape.make(path, profile, *(raw[name] for name in NAMES))


def mesh_of(**kwargs: int) -> PrimMesh:
    return build_mesh(shape(**kwargs).params())


def face_points(mesh: PrimMesh, face: int) -> tuple[np.ndarray, np.ndarray]:
    used = np.unique(mesh.face_triangles(face))
    return mesh.positions[used], mesh.normals[used]


def winding_agrees(mesh: PrimMesh) -> bool:
    """Every triangle's winding faces the way its normals point (Panda3D draws the front)."""
    a, b, c = (mesh.positions[mesh.triangles[:, k]] for k in range(3))
    area = np.cross(b - a, c - a)
    big = np.linalg.norm(area, axis=1) > 1e-7
    return bool((np.einsum("ij,ij->i", area, mesh.normals[mesh.triangles[:, 0]])[big] > 0).all())


# -- geometry ----------------------------------------------------------------------------------------
def test_a_box_has_six_faces_numbered_the_second_life_way() -> None:
    box = mesh_of()
    assert box.face_count == 6 == face_count(shape().params()) and winding_agrees(box)
    expected = {0: (0, 0, 1), 1: (0, -1, 0), 2: (1, 0, 0), 3: (0, 1, 0), 4: (-1, 0, 0), 5: (0, 0, -1)}
    for face, normal in expected.items():
        points, normals = face_points(box, face)
        assert np.allclose(normals, normal, atol=1e-5), f"face {face}"
        assert np.allclose(points @ np.array(normal, float), 0.5, atol=1e-5), f"face {face} is on its side"
    assert np.allclose(box.positions.min(0), -0.5) and np.allclose(box.positions.max(0), 0.5)


def test_a_hollow_box_has_an_inner_wall_facing_the_hollow() -> None:
    hollow = mesh_of(profile_hollow=25000)                             # 50%
    assert hollow.face_count == 7 and winding_agrees(hollow)           # top, 4 sides, hollow, bottom
    points, normals = face_points(hollow, 5)
    assert np.allclose(np.abs(points[:, :2]).max(1), 0.25, atol=1e-4)  # the hole is half the box
    assert (np.einsum("ij,ij->i", normals[:, :2], points[:, :2]) < 0).all(), "inner normals point inward"
    top, _ = face_points(hollow, 0)
    assert (np.abs(top[:, :2]).max(1) > 0.25 - 1e-4).all()            # the top is a frame around the hole
    assert np.allclose(face_points(hollow, 6)[1], (0, 0, -1))


def test_a_half_profile_cut_box_keeps_half() -> None:
    cut = mesh_of(profile_begin=6250, profile_end=18750)              # from 0.125 to 0.625 of the way round
    assert cut.positions[:, 0].min() == pytest.approx(0.0, abs=1e-5)
    assert cut.positions[:, 0].max() == pytest.approx(0.5, abs=1e-5)
    # top, three outer sides (half of -y, +x, half of +y), bottom, the cut's begin and end
    assert cut.face_count == 7 and winding_agrees(cut)
    for face in (5, 6):
        assert np.allclose(face_points(cut, face)[1], (-1, 0, 0), atol=1e-5), "the cut faces look at the gap"


def test_a_path_cut_tube_is_open_at_its_ends() -> None:
    whole = mesh_of(path=CIRCLE, profile=1, path_scale_y=150)
    half = mesh_of(path=CIRCLE, profile=1, path_scale_y=150, path_begin=25000)
    assert whole.face_count == 4 and half.face_count == 6             # four sides; then the two end caps
    assert whole.positions[:, 2].max() == pytest.approx(0.5, abs=1e-4)
    assert half.positions[:, 2].max() < 0.1 + 1e-4                    # half the way round: the upper half gone
    assert winding_agrees(half)
    for cap in (0, 5):                                                 # both ends open to the cut-away half
        normals = face_points(half, cap)[1]
        assert np.allclose(normals, (0, 0, 1), atol=1e-5)


def test_a_twisted_box_turns_its_top_by_the_twist() -> None:
    twisted = mesh_of(path_twist=25)                                   # 25 steps of 1.8 degrees: 45
    top, _ = face_points(twisted, 0)
    corners = top[np.linalg.norm(top[:, :2], axis=1) > 0.7]
    angles = {round(math.degrees(math.atan2(y, x))) % 360 for x, y, _z in corners}
    assert angles == {0, 90, 180, 270}                                # the corners turned from 45, 135...
    bottom, _ = face_points(twisted, 5)
    assert np.abs(bottom[:, :2]).max() == pytest.approx(0.5, abs=1e-5)
    assert len(np.unique(twisted.positions[:, 2])) > 3                 # more rows along a twisted path


def test_a_tapered_box_has_a_smaller_top() -> None:
    tapered = mesh_of(path_scale_x=150, path_scale_y=170)              # top size 0.5 x 0.3
    top, _ = face_points(tapered, 0)
    assert np.abs(top[:, 0]).max() == pytest.approx(0.25, abs=1e-4)
    assert np.abs(top[:, 1]).max() == pytest.approx(0.15, abs=1e-4)
    assert np.abs(face_points(tapered, 5)[0][:, :2]).max() == pytest.approx(0.5, abs=1e-4)
    side, normals = face_points(tapered, 1)
    assert (normals[:, 2] > 0.1).all(), "a tapered side leans inwards, so its normal points up a little"


def test_a_torus_fills_its_box_around_a_hole() -> None:
    torus = mesh_of(path=CIRCLE, profile=0, path_scale_y=175)          # hole size y 0.25
    assert torus.face_count == 1 and winding_agrees(torus)
    assert np.allclose(torus.positions.min(0), -0.5, atol=1e-4) and np.allclose(torus.positions.max(0), 0.5, atol=1e-4)
    around = np.linalg.norm(torus.positions[:, 1:], axis=1)            # the ring goes round the x axis
    assert around.min() == pytest.approx(0.25, abs=1e-4) and around.max() == pytest.approx(0.5, abs=1e-4)
    assert shape(path=CIRCLE, profile=0, path_scale_y=175).name() == "torus"


def test_shape_names() -> None:
    assert [shape(path=p, profile=q).name() for p, q in ((LINE, 1), (LINE, 0), (LINE, 3), (CIRCLE, 5), (CIRCLE, 0),
                                                          (CIRCLE, 1), (CIRCLE, 3))] == \
        ["box", "cylinder", "prism", "sphere", "torus", "tube", "ring"]
    assert shape(profile_hollow=100, profile_begin=5).name() == "box hollow cut"


# -- in the World ------------------------------------------------------------------------------------
def _region(profile: str = "server") -> tuple:
    runtime = create_runtime()
    runtime.add_component_type(RegionObject)
    world = runtime.new_world(profile=profile)
    reply = LoginReply(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), 1, "127.0.0.1", 9000, "", 256000, 256000, "T", "U", "")
    session = RegionSession(world, reply, lambda *a: None)
    world.add_system(RegionSystem(session))
    return runtime, world, session


def prim_update(local_id: int, entry: bytes, path: int = LINE, profile: int = 1, scale: float = 1.0,
                **values: int) -> Message:
    raw = {"PathScaleX": 100, "PathScaleY": 100, **values}
    block = {"ID": local_id, "FullID": uuid.uuid4(), "PCode": 9, "Scale": (scale, scale, scale), "PathCurve": path,
             "ProfileCurve": profile, **raw, "ObjectData": struct.pack("<3f", 10.0 + local_id % 200, 10.0, 30.0)
             + bytes(48), "TextureEntry": entry}
    return CODEC.decode(CODEC.encode(Message("ObjectUpdate", {"RegionData": [{"RegionHandle": 1, "TimeDilation": 0}],
                                                              "ObjectData": [block]})))


def test_faces_of_their_own_look_are_child_entities_of_the_prim() -> None:
    _runtime, world, session = _region()
    red, grey, texture = (1.0, 0.0, 0.0, 1.0), (0.5, 0.5, 0.5, 1.0), uuid.uuid4()
    feed(world, session, [prim_update(1, encode_texture_entry(uuid.UUID(int=0), grey, {3: texture}, {0: red}))])
    eid = session.mirror.entity_of(1)
    box = shape()
    assert world.get(eid, MeshRenderer).model == model_id(box, 0b110110)      # the grey faces 1, 2, 4, 5
    assert world.get(eid, MeshRenderer).color == pytest.approx(grey, abs=1e-2)
    children = {world.name_of(e): (world.get(e, MeshRenderer), look) for e, look in session.mirror.looks_of(1)[1:]}
    assert set(children) == {"prim 1 faces 0", "prim 1 faces 3"}
    top, top_look = children["prim 1 faces 0"]
    assert top.model == model_id(box, 0b1) and top.color == pytest.approx(red) and top_look.texture == uuid.UUID(int=0)
    assert children["prim 1 faces 3"][1].texture == texture
    assert all(world.parent_of(e) == eid for e, _ in session.mirror.looks_of(1)[1:])
    feed(world, session, [prim_update(1, encode_texture_entry(uuid.UUID(int=0), grey))])     # all alike again
    assert session.mirror.looks_of(1) == [(eid, session.mirror.looks[1])] and world.descendants(eid) == []
    assert world.get(eid, MeshRenderer).model == model_id(box)
    feed(world, session, [prim_update(1, encode_texture_entry(uuid.UUID(int=0), grey, face_colors={2: red}))])
    child = session.mirror.looks_of(1)[1][0]
    feed(world, session, [CODEC.decode(CODEC.encode(Message("KillObject", {"ObjectData": [{"ID": 1}]})))])
    assert not world.exists(eid) and not world.exists(child) and session.mirror.face_entities == {}
    session.close()
    world.close()


def test_a_thousand_prims_of_one_shape_build_one_mesh() -> None:
    runtime, world, session = _region("game")                # a World that draws: models are made
    entry = encode_texture_entry(uuid.UUID(int=0), (0.5, 0.5, 0.5, 1.0))
    feed(world, session, [prim_update(100 + k, entry, scale=1.0 + k % 7) for k in range(1000)])
    feed(world, session, [prim_update(5000, entry, profile=0)])                              # and one cylinder
    two_looks = encode_texture_entry(uuid.UUID(int=0), (0.5, 0.5, 0.5, 1.0), face_colors={0: (1.0, 0.0, 0.0, 1.0)})
    feed(world, session, [prim_update(5001, two_looks)])        # a box of two looks: two models of the same mesh
    models = session.mirror.models
    assert models is PrimModels.installed(runtime.assets)
    assert models.stats["built"] == 2 and models.stats["models"] == 4
    assert runtime.assets.load_count[model_id(shape())] == 1
    geoms = {world.node(session.mirror.entity_of(100 + k)).find("**/+GeomNode").node().getGeom(0).getVertexData().this
             for k in range(0, 1000, 97)}
    assert len(geoms) == 1, "the prims' meshes share one vertex table"
    assert {c.shape for c in world.all_of(RegionObject).values()} == {"box", "cylinder"}
    session.close()
    world.close()


def test_a_flood_of_new_shapes_is_built_a_few_a_tick_with_stand_ins_meanwhile() -> None:
    runtime, world, session = _region("game")
    entry = encode_texture_entry(uuid.UUID(int=0), (0.5, 0.5, 0.5, 1.0))
    hollows = [prim_update(200 + k, entry, ProfileHollow=1000 + 500 * k) for k in range(20)]   # 20 shapes
    feed(world, session, [prim_update(300 + k, entry) for k in range(50)] + hollows)           # 50 plain boxes first
    models = session.mirror.models

    def drawn(count: int = 20) -> list[str]:
        return [world.get(session.mirror.entity_of(200 + k), MeshRenderer).model for k in range(count)]

    assert models.stats["built"] == NEW_SHAPES_PER_TICK, "one tick builds a few new shapes, not 20"
    assert sum(m.startswith("opensim_prim:") for m in drawn()) == NEW_SHAPES_PER_TICK - 1   # the box took one
    assert set(m for m in drawn() if not m.startswith("opensim_prim:")) == {"primitive:box"}      # stand-ins
    assert all(world.get(session.mirror.entity_of(300 + k), MeshRenderer).model.startswith("opensim_prim:")
               for k in range(50)), "a shape built this tick serves every prim of it"
    session.mirror.kill(219)                                  # a waiting prim killed leaves no waiting behind
    for _ in range(10):
        world.tick(1 / 60)
    assert all(m.startswith("opensim_prim:") for m in drawn(19)) and not session.mirror.deferred
    assert models.stats["built"] == 20                        # the box and 19 hollows, the killed one never
    session.close()
    world.close()


def test_the_shape_cache_is_bounded_and_forgets_its_models() -> None:
    runtime = create_runtime()
    models = PrimModels(runtime.assets, max_shapes=3)
    runtime.assets.add_source(PACK, models)
    ids = [model_id(shape(profile_hollow=1000 * (k + 1))) for k in range(5)]
    for asset_id in ids:
        runtime.assets.model(asset_id)
    assert models.stats["built"] == 5 and models.stats["evicted"] == 2
    runtime.assets.model(ids[0])                                       # forgotten with its shape: built again
    assert models.stats["built"] == 6 and runtime.assets.load_count[ids[0]] == 2
    runtime.assets.model(ids[4])                                       # still cached
    assert runtime.assets.load_count[ids[4]] == 1


def test_texture_mapping_turns_about_the_faces_centre() -> None:
    from panda3d.core import LPoint3f

    assert texture_transform((1.0, 1.0), (0.0, 0.0), 0.0) is None
    matrix = texture_transform((2.0, 1.0), (0.1, 0.0), math.pi / 2).getMat()
    moved = [tuple(round(c, 4) for c in matrix.xformPoint(LPoint3f(u, v, 0)))[:2] for u, v in
             ((0.5, 0.5), (1.0, 0.5), (0.5, 1.0))]
    assert moved == [(0.6, 0.5), (0.6, 0.0), (1.6, 0.5)]


def test_one_face_textured_the_others_keep_their_colours_on_screen(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tests.opensim_prim_faces_child", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    pixels = report["pixels"]
    front, top, right = pixels["front"], pixels["top"], pixels["right"]
    assert front[0] > 2.5 * front[2] and front[1] > 1.5 * front[2], f"the texture (red to yellow) on face 1: {report}"
    assert abs(top[0] - top[2]) < 0.1 and top[0] > 0.3, f"the top stays grey: {report}"
    assert right[0] > 4 * right[1] and right[0] > 0.3, f"face 2 is its own red: {report}"
    textured = {name: has for name, has in report["faces"]}
    assert textured == {"prim 7": False, "prim 7 faces 1": True, "prim 7 faces 2": False}, report


# -- hostile parameters ------------------------------------------------------------------------------
def test_hostile_shapes_are_clamped_with_one_line_each(caplog: pytest.LogCaptureFixture) -> None:
    from netcode.opensim import prim_shape

    prim_shape._warned.clear()
    hostile = [shape(profile_begin=40000, profile_end=40000),                  # begin past end
               shape(profile_hollow=50000),                                    # a hollow of 100%
               shape(path=CIRCLE, profile=0, path_revolutions=255, path_twist=127, path_twist_begin=-128),
               shape(path=0x77, profile=0xFF, path_begin=65535, path_end=65535, path_scale_x=255, path_scale_y=0),
               shape(path=CIRCLE, profile=5, path_skew=-128, path_radius_offset=127, path_taper_x=-128)]
    with caplog.at_level(logging.WARNING, "storm.opensim"):
        for prim in hostile * 3:
            mesh = build_mesh(prim.params())
            assert np.isfinite(mesh.positions).all() and np.isfinite(mesh.normals).all()
            assert 0 < len(mesh.positions) < 20000 and mesh.face_count == faces_of(prim)
            assert (mesh.triangles < len(mesh.positions)).all()
    lines = [r.getMessage() for r in caplog.records if "prim shape" in r.getMessage()]
    assert len(lines) == len(set(lines)) and 4 <= len(lines) <= 8, lines       # one line a kind, not one a prim
    revolutions = hostile[2].params()
    assert revolutions.revolutions == 4.0 and abs(revolutions.twist_end) == pytest.approx(2 * math.pi)


def test_a_seeded_fuzz_of_shapes_builds_bounded_meshes() -> None:
    rng = random.Random(7)
    for _ in range(400):
        values = [rng.randrange(65536) if k in (0, 1, 13, 14, 15) else rng.randrange(256) for k in range(16)]
        prim = PrimShape.make(rng.choice((LINE, CIRCLE, 0x30, 0x80, rng.randrange(256))), rng.randrange(256), *values)
        assert PrimShape.from_key(prim.key()) == prim
        mesh = build_mesh(prim.params())
        assert np.isfinite(mesh.positions).all() and np.abs(mesh.positions).max() < 2.0
        assert len(mesh.positions) < 20000 and mesh.face_count == faces_of(prim) == len(mesh.faces)
        assert sorted(mesh.faces) == list(range(mesh.face_count))


def test_hostile_model_ids_and_updates_are_refused_cleanly() -> None:
    runtime = create_runtime()
    PrimModels.installed(runtime.assets)
    assert runtime.assets.problem(f"{PACK}:zz") is not None
    assert runtime.assets.problem(f"{PACK}:{shape().key()}/40") is not None        # face 6 of a six-face box
    assert runtime.assets.problem(f"{PACK}:{PrimShape(path_revolutions=5).key()}") is not None   # not as Storm keys
    assert runtime.assets.problem(f"{PACK}:{shape().key()}/21") is None
    node = runtime.assets.model(f"{PACK}:{shape().key()}/ffff")
    assert node.getName().startswith("missing:") and runtime.assets.failed(f"{PACK}:{shape().key()}/ffff")
    _runtime, world, session = _region()
    nan = full_update(9, (1.0, 1.0, 1.0))
    nan.blocks["ObjectData"][0]["Scale"] = (float("nan"), 1.0, 1.0)
    feed(world, session, [CODEC.decode(CODEC.encode(nan))])
    assert session.counts["refused"] == 1 and session.mirror.entity_of(9) == 0
    session.close()
    world.close()


# -- sculpted prims ----------------------------------------------------------------------------------
def sphere_map(size: int = 64) -> np.ndarray:
    """A sculpt map of a sphere as tools make them: columns around, rows from the top pole down."""
    v, u = np.mgrid[0:size, 0:size] / (size - 1)
    lon, lat = 2 * math.pi * u, math.pi / 2 - math.pi * v
    xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1) * 0.5 + 0.5
    return np.rint(xyz * 255).astype(np.uint8)


def rgba_rows_bottom_up(rgb: np.ndarray) -> bytes:
    alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
    return np.concatenate([rgb, alpha], -1)[::-1].tobytes()


def test_a_sculpt_map_of_a_sphere_makes_a_sphere_facing_out() -> None:
    from netcode.opensim.sculpt_mesh import build_sculpt

    rgba = rgba_rows_bottom_up(sphere_map())
    for sculpt_type in (1, 1 | 0x40, 1 | 0x80):                # plain, inverted, mirrored: all face out
        mesh = build_sculpt(64, 64, rgba, sculpt_type)
        radius = np.linalg.norm(mesh.positions, axis=1)
        assert mesh.face_count == 1 and np.allclose(radius, 0.5, atol=0.01)
        assert len(mesh.positions) == 33 * 33                  # 32 x 32 quads from a 64 x 64 map
        outward = np.einsum("ij,ij->i", mesh.positions / radius[:, None], mesh.normals)
        assert (outward > 0.8).mean() > 0.97 and winding_agrees(mesh), sculpt_type
    with pytest.raises(ValueError):
        build_sculpt(1, 64, rgba, 1)


def test_sculpt_meshes_are_held_to_the_shape_cache_bound_too() -> None:
    from netcode.opensim.prim_models import sculpt_id

    runtime = create_runtime()
    models = PrimModels(runtime.assets, max_shapes=3)
    runtime.assets.add_source(PACK, models)
    texture = uuid.uuid4()
    models.add_map(texture, 8, 8, rgba_rows_bottom_up(sphere_map(8)))
    ids = [sculpt_id(texture, kind) for kind in range(1, 8)]   # one map, seven sculpt types: seven meshes
    for asset_id in ids:
        runtime.assets.model(asset_id)
    assert len(models._shapes) == 3 and models.stats["sculpts"] == 7
    runtime.assets.model(ids[0])                                       # forgotten with its mesh: built again
    assert models.stats["sculpts"] == 8 and runtime.assets.load_count[ids[0]] == 2
    for k in range(3):                                                 # prim shapes push the sculpts out
        runtime.assets.model(model_id(shape(profile_hollow=1000 * (k + 1))))
    assert not any(key.startswith("sculpt-") for key in models._shapes)
    runtime.assets.model(ids[6])
    assert runtime.assets.load_count[ids[6]] == 2, "a sculpt mesh pushed out is forgotten by the assets"


def test_sculpt_blocks_of_extra_params_and_hostile_ones() -> None:
    from netcode.opensim.objects import sculpt_of

    texture = uuid.uuid4()
    good = bytes([2]) + struct.pack("<HI", 0x10, 3) + b"abc" + struct.pack("<HI", 0x30, 17) + texture.bytes + b"\x01"
    assert sculpt_of(good) == (texture, 1)
    assert sculpt_of(good[:-5]) is None and sculpt_of(b"") is None                      # cut short
    assert sculpt_of(bytes([255]) + struct.pack("<HI", 0x30, 2 ** 31)) is None          # a lying size


def test_a_sculpted_prim_is_a_sphere_until_its_map_arrives() -> None:
    import io

    from PIL import Image

    from netcode.opensim.prim_models import sculpt_id
    from netcode.opensim.textures import RegionTextures, TextureFetcher
    from tests.test_opensim_textures import TextureServer, tick_until

    out = io.BytesIO()
    Image.fromarray(sphere_map(), "RGB").save(out, format="JPEG2000", no_jp2=True)      # lossless (5/3 wavelet)
    texture = uuid.uuid4()
    server = TextureServer({texture: out.getvalue()})
    runtime = create_runtime()
    runtime.add_component_type(RegionObject)
    world = runtime.new_world(profile="game")
    reply = LoginReply(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), 1, "127.0.0.1", 9000, "", 256000, 256000, "T", "U", "")
    textures = RegionTextures(world, TextureFetcher(lambda: server.url, None, max_side=64))
    session = RegionSession(world, reply, lambda *a: None, textures)
    world.add_system(RegionSystem(session))
    try:
        update = prim_update(3, encode_texture_entry(uuid.UUID(int=0)), profile=1)
        extra = bytes([1]) + struct.pack("<HI", 0x30, 17) + texture.bytes + b"\x01"       # a sculpted sphere
        update.blocks["ObjectData"][0]["ExtraParams"] = extra
        feed(world, session, [CODEC.decode(CODEC.encode(update))])
        eid = session.mirror.entity_of(3)
        assert world.get(eid, RegionObject).shape == "sculpt"
        assert world.get(eid, MeshRenderer).model == "primitive:sphere"
        assert tick_until(world, lambda: world.get(eid, MeshRenderer).model == sculpt_id(texture, 1))
        assert session.mirror.models.stats["sculpts"] == 1 and textures.stats["pixels"] == 1
        assert texture not in textures.textures, "a sculpt map is not kept as a texture"
        geom = world.node(eid).find("**/+GeomNode").node().getGeom(0)
        assert geom.getVertexData().getNumRows() == 33 * 33
    finally:
        session.close()
        world.close()
        server.close()


def test_the_compressed_update_carries_the_whole_shape_and_the_sculpt() -> None:
    from netcode.opensim.objects import from_compressed

    texture = uuid.uuid4()
    head = struct.pack("<16sIBBIBB3f3f3fI16s", uuid.uuid4().bytes, 8, 9, 0, 1, 3, 0, 1.0, 1.0, 1.0,
                       10.0, 20.0, 30.0, 0.0, 0.0, 0.0, 0, bytes(16))
    extra = bytes([1]) + struct.pack("<HI", 0x30, 17) + texture.bytes + b"\x02"
    # a hollow cut torus: path cut, hole size, twist, radius offset, revolutions, skew; a square hole
    values = (0x20, 5000, 2500, 100, 175, 10, 0, 20, -10, 30, 0, 0, 50, 15, 0x20, 1000, 2000, 30000)
    block = head + extra + struct.pack("<BHHBBBBbbbbbBbBHHH", *values) + struct.pack("<I", 0)
    state = from_compressed(block)
    prim = PrimShape.of(state)
    assert (prim.path_begin, prim.path_end, prim.path_scale_y, prim.path_shear_x, prim.path_twist,
            prim.path_twist_begin, prim.path_radius_offset, prim.path_revolutions, prim.path_skew) == \
        (5000, 2500, 175, 10, 20, -10, 30, 50, 15)
    assert (prim.hole, prim.profile_begin, prim.profile_end, prim.profile_hollow) == (0x20, 1000, 2000, 30000)
    assert prim.name() == "torus hollow cut" and state.sculpt == (texture, 2)


def test_a_face_with_alpha_is_drawn_transparent() -> None:
    from panda3d.core import TransparencyAttrib

    _runtime, world, session = _region("game")
    half = (0.2, 0.4, 1.0, 0.5)
    feed(world, session, [prim_update(4, encode_texture_entry(uuid.UUID(int=0), face_colors={0: half}))])
    main, (child, look) = session.mirror.entity_of(4), session.mirror.looks_of(4)[1]
    assert look.color == pytest.approx(half, abs=1e-2) and world.get(child, MeshRenderer).color[3] < 0.51
    assert world.node(child).find("mesh").getTransparency() == TransparencyAttrib.M_alpha
    assert world.node(main).find("mesh").getTransparency() == TransparencyAttrib.M_none
    session.close()
    world.close()
