"""glTF 2.0 as game makers' files use it, proved on screen: models the tests build (tests/gltf_models.py)
stand in a gallery that main.py plays offscreen twice, under a bright and a dim light (the second
run reads every model back from the import cache), and each plate is checked where its material
says: textures from every kind of source in their right places and in sRGB, PBR maps bound and
visible, blending and mask holes, lit back faces, vertex colours, the second UV set, texture
transforms, unlit colour unchanged by light, skinned models in their bind pose, cm and mm models
the size of metre ones."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from panda3d.core import Filename, PNMImage, ShaderAttrib, TextureAttrib

from engine.host.runtime import Runtime
from engine.render.materials import MATERIAL_INPUT, apply_material_inputs
from tests.gltf_models import (
    BLUE,
    GREEN,
    RED,
    YELLOW,
    blocks,
    checker,
    cube_model,
    pbr_plate,
    plate_model,
    skinned_bar,
    srgb,
)
from tests.pack_helpers import write_pack, write_profile
from tests.screenshots import ROOT, luminance, project, rgb

SIZE = (320, 180)
BACKDROP = (0.25, 0.55, 0.35, 1.0)
GREY = 0.5                                       # the grey plates' linear value
COLUMNS = (-5.25, -3.15, -1.05, 1.05, 3.15, 5.25)
ROWS = (2.7, 0.9, -0.9, -2.7)


def _textured(how: str) -> Callable[[Any], dict[str, Any]]:
    return lambda b: {"base": b.texture(b.image(checker(), how, "checker.png"))}


# name -> (file, how to write it, slot (column, row), MeshRenderer fields beyond the model)
MODELS: dict[str, tuple[str, Callable[[Path], Path], tuple[int, int], dict[str, Any]]] = {
    "static": ("static.gltf", lambda p: plate_model(p, {"color": (0.8, 0.05, 0.05, 1)}), (0, 0), {}),
    "bin": ("tex_bin.gltf", lambda p: plate_model(p, _textured("file"), bin_file=True), (1, 0), {}),
    "data": ("tex_data.gltf", lambda p: plate_model(p, _textured("data")), (2, 0), {}),
    "glb": ("tex.glb", lambda p: plate_model(p, _textured("view"), glb=True), (3, 0), {}),
    "grey_texture": ("grey_texture.gltf", lambda p: plate_model(
        p, lambda b: {"base": b.texture(b.image(blocks([[(srgb(GREY),) * 3]]), "view"))}), (4, 0), {}),
    "grey_factor": ("grey_factor.gltf", lambda p: plate_model(p, {"color": (GREY, GREY, GREY, 1)}), (5, 0), {}),
    "vertex_colors": ("vertex_colors.gltf", lambda p: plate_model(
        p, {}, colors=[RED, BLUE, BLUE, RED]), (0, 1), {}),
    "uv1": ("uv1.gltf", lambda p: plate_model(
        p, lambda b: {"base": {"index": b.texture(b.image(checker())), "texCoord": 1}},
        uv0=[(1, 0), (0, 0), (0, 1), (1, 1)], uv1=[(0, 0), (1, 0), (1, 1), (0, 1)]), (1, 1), {}),
    "transform": ("transform.gltf", lambda p: plate_model(p, lambda b: {"base": {
        "index": b.texture(b.image(checker())),
        "extensions": {"KHR_texture_transform": {"offset": [0.5, 0.0], "scale": [0.5, 1.0]}}}}), (2, 1), {}),
    "unlit": ("unlit.gltf", lambda p: plate_model(
        p, {"color": (0.1, 0.45, 0.8, 1), "extensions": {"KHR_materials_unlit": {}}}), (3, 1), {}),
    "lit": ("lit.gltf", lambda p: plate_model(p, {"color": (0.1, 0.45, 0.8, 1)}), (4, 1), {}),
    "blend": ("blend.gltf", lambda p: plate_model(p, {"color": (0.8, 0.05, 0.05, 0.5), "alphaMode": "BLEND"}),
              (5, 1), {}),
    "mask": ("mask.gltf", lambda p: plate_model(p, lambda b: {
        "color": (0.8, 0.05, 0.05, 1), "alphaMode": "MASK", "alphaCutoff": 0.5,
        "base": b.texture(b.image(blocks([[(1, 1, 1, 0.0), (1, 1, 1, 0.6)]] * 2)))}), (0, 2), {}),
    "opaque": ("opaque.gltf", lambda p: plate_model(p, {"color": (0.8, 0.05, 0.05, 1)}), (1, 2), {}),
    "back": ("back.gltf", lambda p: plate_model(p, {"color": (0.7, 0.7, 0.7, 1), "doubleSided": True},
                                                facing="+y"), (2, 2), {}),
    "front": ("front.gltf", lambda p: plate_model(p, {"color": (0.7, 0.7, 0.7, 1)}), (3, 2), {}),
    "pbr": ("pbr.gltf", pbr_plate, (4, 2), {}),
    "pbr_plain": ("pbr_plain.gltf", lambda p: pbr_plate(p, maps=False), (5, 2), {}),
    "cube_m": ("cube_m.gltf", lambda p: cube_model(p, 1.0, (0.9, 0.4, 0.05, 1)), (0, 3), {}),
    "cube_cm": ("cube_cm.gltf", lambda p: cube_model(p, 100.0, (0.9, 0.4, 0.05, 1)), (1, 3), {"unit": "cm"}),
    "cube_mm": ("cube_mm.gltf", lambda p: cube_model(p, 1000.0, (0.9, 0.4, 0.05, 1)), (2, 3), {"unit": "mm"}),
    "skinned": ("skinned.gltf", skinned_bar, (3, 3), {}),
    "emissive": ("emissive.gltf", lambda p: plate_model(p, lambda b: {
        "color": (0.05, 0.05, 0.05, 1), "emissiveFactor": [1.0, 1.0, 1.0],
        "emissiveTexture": {"index": b.texture(b.image(checker()))}}), (5, 3), {}),
}
CHARACTER = (4.2, 0.0, -3.75)  # the base pack's skinned character, feet there


def where(name: str) -> tuple[float, float, float]:
    column, row = MODELS[name][2]
    return (COLUMNS[column], 0.0, ROWS[row])


def gallery(sun: float, sky: float) -> dict[str, Any]:
    entities: list[dict[str, Any]] = [
        {"id": 1, "name": "Camera", "transform": {"pos": [0, -12, 0]}, "components": {"Camera": {"fov": 60}}},
        {"id": 2, "name": "Sun", "transform": {"hpr": [10, -20, 0]}, "components": {"Light": {"intensity": sun}}},
        {"id": 3, "name": "Environment", "components": {"Environment": {"sky": False, "environment_light": sky}}},
        {"id": 4, "name": "Backdrop", "transform": {"pos": [0, 1.5, 0], "hpr": [0, 90, 0], "scale": [20, 20, 1]},
         "components": {"MeshRenderer": {"model": "primitive:plane", "color": list(BACKDROP)}}},
        {"id": 5, "name": "Character", "transform": {"pos": list(CHARACTER)},
         "components": {"MeshRenderer": {"model": "base:models/character.gltf"}}},
    ]
    for k, (name, (file, _write, _slot, fields)) in enumerate(MODELS.items()):
        transform: dict[str, Any] = {"pos": list(where(name))}
        if name == "skinned":
            transform["pos"][2] -= 1.0   # the bar stands 0.5 to 1.5 m up its model
        entities.append({"id": 10 + k, "name": name, "transform": transform,
                         "components": {"MeshRenderer": {"model": f"gallery:models/{file}", **fields}}})
    return {"storm_world": 2, "name": "glTF gallery", "settings": {"background": [0, 0, 0, 1]}, "entities": entities}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Storm folder with the gallery pack installed and enabled."""
    folder = tmp_path_factory.mktemp("gltf-gallery")
    pack = write_pack(folder / "storm" / "packs", "gallery")
    for file, write, _slot, _fields in MODELS.values():
        write(pack / "models" / file)
    write_profile(folder / "storm" / "profile.toml", ["base", "gallery"])
    return folder / "storm"


def play(home: Path, data: dict[str, Any], name: str) -> PNMImage:
    world = home.parent / f"{name}.world.json"
    world.write_text(json.dumps(data), encoding="utf-8")
    out = home.parent / f"{name}.png"
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "play", str(world), "--offscreen", "--frames", "2",
                           "--size", f"{SIZE[0]}x{SIZE[1]}", "--screenshot", str(out), "--profile",
                           str(home / "profile.toml")], cwd=ROOT, env=dict(os.environ, STORM_HOME=str(home)),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    problems = [line for line in done.stderr.splitlines()
                if line.startswith(("ERROR storm.assets", "WARNING storm.assets", "ERROR storm.render"))]
    assert not problems, problems
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(out)))
    return image


@pytest.fixture(scope="module")
def bright(home: Path) -> PNMImage:
    return play(home, gallery(sun=3.0, sky=1.0), "bright")


@pytest.fixture(scope="module")
def dim(home: Path, bright: PNMImage) -> PNMImage:
    # no sun, a weaker sky: only indirect light, which is what an occlusion map darkens; after
    # bright, so every model comes from the import cache
    return play(home, gallery(sun=0.0, sky=0.5), "dim")


def at(name: str, dx: float = 0.0, dz: float = 0.0) -> tuple[int, int]:
    """The pixel of a point on a model's front (dx, dz metres from its centre, as the camera sees it)."""
    x, _y, z = where(name)
    return project(gallery(1, 1), (x + dx, -0.5 if name.startswith("cube") else 0.0, z + dz), SIZE)


def backdrop(image: PNMImage, name: str, side: float) -> tuple[float, float, float]:
    """The backdrop in the gap beside a model (``side`` -1: left of it, 1: right)."""
    x, _y, z = where(name)
    return rgb(image, *project(gallery(1, 1), (x + side * 1.05, 0.0, z), SIZE))


def colour(image: PNMImage, name: str, dx: float = 0.0, dz: float = 0.0) -> tuple[float, float, float]:
    return rgb(image, *at(name, dx, dz))


def dominant(c: tuple[float, float, float]) -> tuple[float, float, float]:
    """Which of red, green, blue, yellow a colour is: each channel above half of the brightest."""
    top = max(c)
    return tuple(1.0 if v > 0.5 * top else 0.0 for v in c)  # type: ignore[return-value]


QUADRANTS = {(-0.25, 0.25): RED, (0.25, 0.25): GREEN, (-0.25, -0.25): BLUE, (0.25, -0.25): YELLOW}


def test_a_plain_material_shows_its_colour(bright: PNMImage) -> None:
    r, g, b = colour(bright, "static")
    assert r > g + 0.3 and r > b + 0.3, (r, g, b)


@pytest.mark.parametrize("name", ["bin", "data", "glb"])
def test_a_texture_from_a_file_a_data_uri_or_a_glb_shows_the_right_way_up(bright: PNMImage, name: str) -> None:
    for (dx, dz), expected in QUADRANTS.items():
        assert dominant(colour(bright, name, dx, dz)) == expected[:3], (name, dx, dz, colour(bright, name, dx, dz))


def test_a_texture_is_read_as_srgb_like_the_colour_factor(bright: PNMImage) -> None:
    assert colour(bright, "grey_texture") == pytest.approx(colour(bright, "grey_factor"), abs=0.04)


def test_vertex_colours_show(bright: PNMImage) -> None:
    left, right = colour(bright, "vertex_colors", -0.35), colour(bright, "vertex_colors", 0.35)
    assert left[0] > left[2] + 0.2 and right[2] > right[0] + 0.2, (left, right)


def test_a_texture_on_the_second_uv_set_lies_where_that_set_puts_it(bright: PNMImage) -> None:
    for (dx, dz), expected in QUADRANTS.items():   # the first set would mirror it left to right
        assert dominant(colour(bright, "uv1", dx, dz)) == expected[:3], (dx, dz, colour(bright, "uv1", dx, dz))


def test_a_texture_transform_offsets_and_scales(bright: PNMImage) -> None:
    # offset 0.5 and scale 0.5 across: the texture's right half (green over yellow) fills the plate
    for dx in (-0.3, 0.3):
        assert dominant(colour(bright, "transform", dx, 0.25)) == GREEN[:3]
        assert dominant(colour(bright, "transform", dx, -0.25)) == YELLOW[:3]


def test_an_unlit_colour_is_the_same_under_dim_and_bright_light(bright: PNMImage, dim: PNMImage) -> None:
    assert luminance(bright, *at("lit")) > luminance(dim, *at("lit")) + 0.2       # light matters to the lit one
    assert colour(dim, "unlit") == pytest.approx(colour(bright, "unlit"), abs=0.005)
    r, g, b = colour(bright, "unlit")
    assert b > g > r                                                              # its own blue, not a grey


def test_an_emissive_map_glows_without_light(dim: PNMImage) -> None:
    for (dx, dz), expected in QUADRANTS.items():
        c = colour(dim, "emissive", dx, dz)
        assert dominant(c) == expected[:3] and max(c) > 0.5, (dx, dz, c)


def test_alpha_blend_lets_the_backdrop_through(bright: PNMImage) -> None:
    blended, opaque = colour(bright, "blend"), colour(bright, "opaque")
    behind = backdrop(bright, "blend", -1)
    assert behind[1] > opaque[1] + 0.2
    assert opaque[1] + 0.05 < blended[1] < behind[1] - 0.05, (opaque, blended, behind)
    assert blended[0] > behind[0] + 0.1


def test_alpha_mask_cuts_holes_and_keeps_the_rest_opaque(bright: PNMImage) -> None:
    hole, solid = colour(bright, "mask", -0.25), colour(bright, "mask", 0.25)
    behind = backdrop(bright, "mask", 1)
    assert hole == pytest.approx(behind, abs=0.05), (hole, behind)                # alpha 0 < cutoff: a hole
    assert solid == pytest.approx(colour(bright, "opaque", 0.25), abs=0.03)        # alpha 0.6: fully opaque


def test_the_back_of_a_double_sided_plate_is_lit_like_its_front(bright: PNMImage) -> None:
    back, front = luminance(bright, *at("back")), luminance(bright, *at("front"))
    assert back == pytest.approx(front, rel=0.15), (back, front)


def test_normal_and_occlusion_maps_change_the_surface_where_they_say(bright: PNMImage, dim: PNMImage) -> None:
    def shade(image: PNMImage, name: str, dx: float, dz: float) -> float:
        return luminance(image, *at(name, dx, dz))

    for image in (bright, dim):   # the bottom left quarter: flat normals, not occluded
        assert shade(image, "pbr", -0.25, -0.25) == pytest.approx(shade(image, "pbr_plain", -0.25, -0.25), rel=0.08)
    # in the sun, normals tilted sideways catch it differently
    assert abs(shade(bright, "pbr", -0.25, 0.25) - shade(bright, "pbr_plain", -0.25, 0.25)) > 0.1
    # by indirect light alone, the occluded half (on the right, where the second UV set puts it) is dark
    assert shade(dim, "pbr", 0.25, -0.25) < 0.5 * shade(dim, "pbr_plain", 0.25, -0.25)


def test_models_in_centimetres_and_millimetres_are_the_size_of_metre_ones(bright: PNMImage) -> None:
    for name in ("cube_m", "cube_cm", "cube_mm"):
        behind = backdrop(bright, name, -1)
        inside = [colour(bright, name, dx, dz) for dx, dz in ((0.4, 0), (-0.4, 0), (0, 0.4), (0, -0.4))]
        outside = [colour(bright, name, dx, dz) for dx, dz in ((-0.62, 0), (0, -0.62))]  # (its top and right side show)
        assert all(c[0] > c[2] + 0.3 for c in inside), (name, inside)
        assert all(c == pytest.approx(behind, abs=0.08) for c in outside), (name, outside, behind)


def test_skinned_models_stand_in_their_bind_pose_under_a_plain_mesh_renderer(bright: PNMImage) -> None:
    bar = project(gallery(1, 1), (COLUMNS[3], 0.0, ROWS[3]), SIZE)                 # the bar's middle
    r, g, b = rgb(bright, *bar)
    assert r > b + 0.3, (r, g, b)
    shirt = rgb(bright, *project(gallery(1, 1), (CHARACTER[0], -0.2, CHARACTER[2] + 1.25), SIZE))
    legs = rgb(bright, *project(gallery(1, 1), (CHARACTER[0] + 0.1, -0.2, CHARACTER[2] + 0.5), SIZE))
    assert shirt[2] > shirt[0] + 0.15, shirt                                       # the blue shirt at chest height
    assert max(legs) < max(shirt), (legs, shirt)                                   # dark trousers below it


# -- the same facts without a screen ----------------------------------------------------------------

def model_node(runtime: Runtime, tmp_pack: Any, name: str, **fields: Any) -> Any:
    from engine.render.components import MeshRenderer

    file, write, _slot, _fields = MODELS[name]
    write(tmp_pack.root / "models" / file)
    world = runtime.new_world()
    eid = world.create_entity(name)
    world.add(eid, MeshRenderer(model=tmp_pack.asset_id(f"models/{file}"), **fields))
    assert not runtime.assets.errors, runtime.assets.errors
    return world.node(eid).find("mesh")


def test_pbr_maps_are_bound_base_colour_first_and_the_occlusion_map_second(pack_runtime: Runtime,
                                                                          tmp_pack: Any) -> None:
    node = model_node(pack_runtime, tmp_pack, "pbr")
    state = node.find("**/+GeomNode").node().getGeomState(0)
    textures = state.getAttrib(TextureAttrib)
    stages = [textures.getOnStage(k) for k in range(textures.getNumOnStages())]
    names = sorted(stages, key=lambda s: s.getSort())
    assert [s.getName() for s in names[:2]] == ["Base Color", "Occlusion"]
    assert {s.getName() for s in stages} == {"Base Color", "Occlusion", "Metal Rough", "Normal"}
    assert names[1].getTexcoordName().getName() == "texcoord.1"
    assert tuple(state.getAttrib(ShaderAttrib).getShaderInputVector(MATERIAL_INPUT)) == (0.0, 0.0, 1.0, 0.0)


@pytest.mark.parametrize("name, expected", [
    ("back", (1.0, 0.0, 0.0, 0.0)), ("unlit", (0.0, 1.0, 0.0, 0.0)), ("mask", (0.0, 0.0, 0.0, 0.5)),
])
def test_each_material_feature_reaches_the_shader(pack_runtime: Runtime, tmp_pack: Any, name: str,
                                                  expected: tuple[float, ...]) -> None:
    state = model_node(pack_runtime, tmp_pack, name).find("**/+GeomNode").node().getGeomState(0)
    assert tuple(state.getAttrib(ShaderAttrib).getShaderInputVector(MATERIAL_INPUT)) == pytest.approx(expected)


def test_a_plain_model_gets_no_material_input(pack_runtime: Runtime, tmp_pack: Any) -> None:
    node = model_node(pack_runtime, tmp_pack, "static")
    assert apply_material_inputs(node) is False


@pytest.mark.parametrize("name, unit", [("cube_m", "m"), ("cube_cm", "cm"), ("cube_mm", "mm")])
def test_the_unit_field_scales_the_model_to_metres(pack_runtime: Runtime, tmp_pack: Any, name: str, unit: str) -> None:
    low, high = model_node(pack_runtime, tmp_pack, name, unit=unit).getTightBounds(pack_runtime.new_world().root)
    assert tuple(high - low) == pytest.approx((1.0, 1.0, 1.0), abs=1e-4)


def test_a_skinned_bar_shows_its_bind_pose_whatever_its_armature_node_does(pack_runtime: Runtime, tmp_pack: Any) -> None:
    node = model_node(pack_runtime, tmp_pack, "skinned")
    low, high = node.getTightBounds(node.getParent())
    assert tuple((low + high) / 2) == pytest.approx((0.0, 0.0, 1.0), abs=1e-3)     # 0.5 to 1.5 m up, centred
    assert tuple(high - low) == pytest.approx((0.3, 0.15, 1.0), abs=1e-3)          # as the bind pose has it


def test_the_character_stands_1_8_m_tall_under_a_plain_mesh_renderer(runtime: Runtime) -> None:
    from engine.render.components import MeshRenderer

    world = runtime.new_world()
    eid = world.create_entity("statue")
    world.add(eid, MeshRenderer(model="base:models/character.gltf"))
    low, high = world.node(eid).getTightBounds()
    assert abs(low.z) < 0.01 and 1.75 < high.z < 1.85
    assert 0.4 < high.x - low.x < 1.0          # arms down at its sides, not spread out or folded in

