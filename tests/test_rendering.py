"""PBR rendering offscreen (Mesa llvmpipe here, no GPU): shadows fall where the light says, sky, fog."""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

from engine.render.pbr_pipeline import shadow_fixed_fragment
from tests.screenshots import luminance, project, rgb, shoot

SLAB = (0.0, 0.0, 3.0)  # a 2 x 2 m slab floating 3 m above grey ground


def scene(light: dict[str, Any], light_transform: dict[str, Any], extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Grey ground, a floating slab, one shadow-casting light and a little ambient, seen from above and -X."""
    return {
        "storm_world": 2, "name": "shadow test",
        "entities": [
            {"id": 1, "name": "Camera", "transform": {"pos": [-10, 0, 18], "hpr": [-90, -60.95, 0]},
             "components": {"Camera": {}}},
            {"id": 2, "name": "Light", "transform": light_transform, "components": {"Light": light}},
            {"id": 3, "name": "Ambient", "components": {"Light": {"kind": "ambient", "intensity": 0.2}}},
            {"id": 4, "name": "Ground", "transform": {"scale": [30, 30, 1]},
             "components": {"MeshRenderer": {"model": "primitive:plane", "color": [0.7, 0.7, 0.7, 1]}}},
            {"id": 5, "name": "Slab", "transform": {"pos": list(SLAB), "scale": [2, 2, 0.2]},
             "components": {"MeshRenderer": {"color": [0.7, 0.7, 0.7, 1]}}},
            *(extra or []),
        ],
    }


def sun(heading: float, shadows: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    light = {"kind": "directional", "intensity": 2.0, "shadows": shadows, "shadow_extent": 12}
    return light, {"pos": [0, 0, 10], "hpr": [heading, -45, 0]}


def shadow_point(heading: float) -> tuple[float, float, float]:
    """Where the slab's centre throws its shadow: along the light's direction down to the ground."""
    h = math.radians(heading)
    forward = (-math.sin(h) * math.cos(math.radians(45)), math.cos(h) * math.cos(math.radians(45)), -math.sin(math.radians(45)))
    t = SLAB[2] / -forward[2]
    return SLAB[0] + forward[0] * t, SLAB[1] + forward[1] * t, 0.0


@pytest.mark.parametrize("heading", [0.0, 180.0, 90.0])
def test_the_sun_throws_the_slab_shadow_where_its_direction_says(tmp_path: Path, heading: float) -> None:
    data = scene(*sun(heading))
    image = shoot(data, tmp_path, "sun")
    shadow = shadow_point(heading)
    lit = (-shadow[0], -shadow[1], 0.0)  # the mirror spot across the slab: open ground in full sun
    in_shadow = luminance(image, *project(data, shadow))
    in_sun = luminance(image, *project(data, lit))
    assert in_shadow < 0.6 * in_sun, (heading, in_shadow, in_sun)


def test_without_shadows_the_same_spot_is_lit(tmp_path: Path) -> None:
    data = scene(*sun(0.0, shadows=False))
    image = shoot(data, tmp_path, "noshadow")
    shadow = shadow_point(0.0)
    assert luminance(image, *project(data, shadow)) == pytest.approx(
        luminance(image, *project(data, (-shadow[0], -shadow[1], 0.0))), rel=0.1)


def test_a_spot_light_shadows_the_ground_behind_the_slab_and_lights_only_its_cone(tmp_path: Path) -> None:
    # The spot sits at (0, -4, 8) aimed at the origin; the slab at (0, -2, 4) is on that line.
    aim_pitch = -math.degrees(math.atan2(8, 4))
    data = scene({"kind": "spot", "intensity": 40.0, "shadows": True, "range": 30, "spot_angle": 50},
                 {"pos": [0, -4, 8], "hpr": [0, aim_pitch, 0]})
    data["entities"][4]["transform"]["pos"] = [0, -2, 4]
    image = shoot(data, tmp_path, "spot")
    behind_slab = luminance(image, *project(data, (0.0, 0.0, 0.0)))
    beside = luminance(image, *project(data, (2.6, 0.4, 0.0)))  # inside the cone, not behind the slab
    outside_cone = luminance(image, *project(data, (5.5, 4.0, 0.0)))
    assert behind_slab < 0.6 * beside, (behind_slab, beside)
    assert outside_cone < 0.6 * beside, (outside_cone, beside)


@pytest.mark.parametrize("box, shadow, lit", [
    ((2.5, 0.0, 1.5), (6.0, 0.0, 0.0), (-6.0, 0.0, 0.0)),   # the +X face of the distance cube map
    ((0.0, -2.5, 1.5), (0.0, -6.0, 0.0), (0.0, 6.0, 0.0)),  # the -Y face
    ((1.0, 1.0, 3.0), (2.0, 2.0, 0.0), (-2.0, -2.0, 0.0)),  # the -Z face, straight down
])
def test_a_point_light_throws_a_box_shadow_away_from_itself(tmp_path: Path, box: tuple[float, float, float],
                                                           shadow: tuple[float, float, float],
                                                           lit: tuple[float, float, float]) -> None:
    light_z = 6.0 if box[2] == 3.0 else 2.0
    data = scene({"kind": "point", "intensity": 3.0, "shadows": True, "range": 30}, {"pos": [0, 0, light_z]})
    data["entities"][4]["transform"] = {"pos": list(box), "scale": [0.8, 0.8, 1.0]}
    image = shoot(data, tmp_path, "point")
    assert luminance(image, *project(data, shadow)) < 0.75 * luminance(image, *project(data, lit))
    data["entities"][1]["components"]["Light"]["shadows"] = False
    unshadowed = shoot(data, tmp_path, "point-noshadow")
    assert luminance(unshadowed, *project(data, shadow)) == pytest.approx(
        luminance(unshadowed, *project(data, lit)), rel=0.1)


def test_a_point_light_leaves_ground_lit_where_nothing_stands_in_its_way(tmp_path: Path) -> None:
    # a bar 3 m from the light, the light a little above it: the ground in front of the bar is open
    # (each face of the distance cube map must be cleared on its own, or faces leak into each other)
    data = scene({"kind": "point", "intensity": 3.0, "shadows": True, "range": 30}, {"pos": [0, 7, 3.4]})
    data["entities"][4]["transform"] = {"pos": [0, 10, 1.0], "scale": [2, 0.4, 0.5]}
    image = shoot(data, tmp_path, "open")
    near_bar = luminance(image, *project(data, (0.0, 9.5, 0.0)))
    below_light = luminance(image, *project(data, (0.0, 7.5, 0.0)))
    assert near_bar > 0.85 * below_light, (near_bar, below_light)


def test_the_point_shadow_darkens_only_its_own_light_among_others(tmp_path: Path) -> None:
    # a green shadowed point light (entity 20) beside red directional and spot lights with lower ids:
    # in the box's shadow the green goes, the red stays
    data = scene({"kind": "point", "intensity": 3.0, "shadows": True, "range": 30, "color": [0, 1, 0, 1]},
                 {"pos": [0, 0, 2]})
    data["entities"][1]["id"] = 20
    data["entities"][4]["transform"] = {"pos": [2.5, 0, 1.5], "scale": [0.6, 1.0, 1.0]}
    data["entities"] += [
        {"id": 7, "name": "Red sun", "transform": {"hpr": [0, -80, 0]},
         "components": {"Light": {"color": [1, 0, 0, 1], "intensity": 1.0}}},
        {"id": 8, "name": "Red spot", "transform": {"hpr": [0, -80, 0]},
         "components": {"Light": {"kind": "spot", "color": [1, 0, 0, 1], "intensity": 0.5, "range": 100}}},
    ]
    image = shoot(data, tmp_path, "colours")
    red_shadow, green_shadow, _ = rgb(image, *project(data, (6.0, 0.0, 0.0)))
    red_lit, green_lit, _ = rgb(image, *project(data, (-6.0, 0.0, 0.0)))
    assert green_shadow < green_lit - 0.1
    assert red_shadow == pytest.approx(red_lit, abs=0.03)


def test_a_third_shadowed_point_light_is_reported_and_lights_without_shadows(caplog: pytest.LogCaptureFixture) -> None:
    from engine.host.runtime import create_runtime
    from engine.render.components import Light
    from engine.render.system import RenderSystem

    world = create_runtime().new_world()
    with caplog.at_level("WARNING", logger="storm.render"):
        lamps = [world.create_entity(f"Lamp {k}") for k in range(3)]
        for lamp in lamps:
            world.add(lamp, Light(kind="point", shadows=True))
    listed = world.system(RenderSystem).point_shadow_lights()
    assert [eid for eid, *_ in listed] == lamps[:2]
    assert listed[0][1].node().getPriority() > listed[1][1].node().getPriority() > 0
    assert any(f"entity {lamps[2]} (Lamp 2) Light.shadows: at most 2 point lights" in r.getMessage() for r in caplog.records)


def environment(**fields: Any) -> dict[str, Any]:
    return {"id": 9, "name": "Environment", "components": {"Environment": fields}}


def horizon_view(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["entities"][0]["transform"] = {"pos": [0, -12, 2], "hpr": [0, 5, 0]}
    return data


def test_the_sky_shows_its_colours_above_the_horizon(tmp_path: Path) -> None:
    data = horizon_view(scene(*sun(0.0), [environment(sky_top=[0.1, 0.3, 0.9, 1], sky_horizon=[0.8, 0.6, 0.4, 1])]))
    image = shoot(data, tmp_path, "sky")
    top_r, _, top_b = rgb(image, 160, 2)
    assert top_b > top_r + 0.3, (top_r, top_b)  # blue high up
    low_r, _, low_b = rgb(image, 160, 125)  # just above the horizon (the ground ends 15 m away)
    assert low_r > top_r + 0.15, (low_r, top_r)  # warmer towards the horizon


def test_without_a_sky_the_background_colour_fills_the_empty_view(tmp_path: Path) -> None:
    data = horizon_view(scene(*sun(0.0)))
    data["settings"] = {"background": [0.5, 0.6, 0.7, 1]}
    data["entities"][0]["transform"]["hpr"] = [0, 60, 0]  # looking up at nothing
    assert rgb(shoot(data, tmp_path, "background"), 160, 20) == pytest.approx((0.5, 0.6, 0.7), abs=0.06)


def test_fog_pulls_far_things_towards_the_fog_colour(tmp_path: Path) -> None:
    far_box = {"id": 10, "name": "Far box", "transform": {"pos": [0, 60, 3], "scale": [8, 2, 8]},
               "components": {"MeshRenderer": {"color": [0.9, 0.05, 0.05, 1]}}}
    clear = horizon_view(scene(*sun(0.0), [environment(sky=False), far_box]))
    foggy = horizon_view(scene(*sun(0.0), [environment(sky=False, fog=True, fog_density=0.02,
                                                        fog_color=[0.8, 0.8, 0.8, 1]), far_box]))
    spot = project(clear, (0.0, 59.0, 3.0))
    r_clear, g_clear, _ = rgb(shoot(clear, tmp_path, "clear"), *spot)
    r_fog, g_fog, _ = rgb(shoot(foggy, tmp_path, "fog"), *spot)
    assert r_clear - g_clear > 0.4, (r_clear, g_clear)  # plainly red without fog
    assert r_fog - g_fog < 0.5 * (r_clear - g_clear), (r_fog, g_fog)  # mostly grey with it


def test_the_shadow_fix_refuses_a_shader_it_does_not_know() -> None:
    with pytest.raises(RuntimeError, match="simplepbr"):
        shadow_fixed_fragment("void main() {}")


@pytest.fixture(scope="module")
def reloaded() -> dict[str, Any]:
    import json
    import subprocess
    import sys

    from tests.screenshots import ROOT

    done = subprocess.run([sys.executable, "-m", "tests.app_reload_child"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_world_brings_its_own_camera_and_environment(reloaded: dict[str, Any]) -> None:
    assert reloaded["pbr"] is True
    assert reloaded["second"] == {"exposure": -2.0, "fog": False, "fov": 70.0, "camera_in_second": True,
                                  "camera_at_second_camera": True, "first_shown": False}


def test_runtime_changes_to_lens_and_exposure_apply_without_refiltering_the_sky(reloaded: dict[str, Any]) -> None:
    assert reloaded["after_exposure"] == {"exposure": 1.0, "same_env_map": True, "fov": 90.0}
    assert reloaded["after_sky_colour"] == {"same_env_map": False}  # new colours: the sky light is rebuilt


def test_light_and_mesh_changes_apply_in_place() -> None:
    from engine.host.runtime import create_runtime
    from engine.render.components import Light, MeshRenderer

    world = create_runtime().new_world()
    lamp, box = world.create_entity("Lamp"), world.create_entity("Box")
    light = world.add(lamp, Light(kind="spot", shadows=True, intensity=1.0))
    mesh = world.add(box, MeshRenderer())
    light_node = world.node(lamp).find("light")
    mesh_node = world.node(box).find("mesh")
    world.set_field(lamp, light, "intensity", 2.0)
    world.set_field(box, mesh, "color", (1.0, 0.0, 0.0, 0.5))
    world.set_field(box, mesh, "visible", False)
    assert world.node(lamp).find("light") == light_node  # the same node: no new shadow buffer
    assert tuple(light_node.node().getColor()) == pytest.approx((2.0, 2.0, 2.0, 1.0))
    assert world.node(box).find("mesh") == mesh_node
    assert mesh_node.getColorScale()[0] == pytest.approx(1.0) and mesh_node.getColorScale()[1] == 0.0
    assert mesh_node.isHidden()
    world.set_field(lamp, light, "kind", "point")  # a different kind of light is a new node
    assert world.node(lamp).find("light").node().getClassType().getName() == "PointLight"


def test_only_the_environment_in_force_is_shown_and_a_rival_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    from engine.host.runtime import create_runtime
    from engine.render.components import Environment
    from engine.render.system import RenderSystem

    world = create_runtime().new_world()
    first_id = world.create_entity("Env A")
    first = world.add(first_id, Environment(fog=True))
    rival_id = world.create_entity("Env B")
    with caplog.at_level("WARNING", logger="storm.render"):
        rival = world.add(rival_id, Environment(sky=False))
        world.set_field(rival_id, rival, "exposure", 2.0)
        world.set_field(rival_id, rival, "fog", False)
    system = world.system(RenderSystem)
    assert system.environment is first
    assert len([r for r in caplog.records if "Environment components" in r.getMessage()]) == 1
    assert world.root.find("sky").isEmpty() is False and world.root.hasFog()
    world.remove(rival_id, Environment)
    world.remove(first_id, Environment)
    assert system.environment is None and world.root.find("sky").isEmpty() and not world.root.hasFog()
