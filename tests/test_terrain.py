"""Terrain: the drawn mesh is the collision surface, a character walks the generated ramp up to the
plateau and stands where its whole capsule would rest, the surface has a collision group of its
own that collides as its layer does, bad heightmaps give clear messages and a world that keeps
running, and the heightmap generator writes the same bytes every run."""
from __future__ import annotations

import logging
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from panda3d.core import GeomVertexReader
from PIL import Image

from engine.core.world import World
from engine.data.world_file import load_world_data, world_to_data
from engine.host.runtime import Runtime, create_runtime
from engine.physics import CharacterController, Collider, PhysicsSystem, RigidBody
from engine.physics.character import SKIN
from engine.physics.shapes import ShapeSpec
from engine.terrain import Terrain, TerrainSystem
from tests.conftest import REPO_ROOT, TmpPack
from tools.assets import terrain_heightmap as generator

DT = 1.0 / 60.0
DEMO_HEIGHTMAP = REPO_ROOT / "content" / "base" / "terrain" / "demo_height.png"


def terrain_world(runtime: Runtime | None = None, **fields: object) -> tuple[World, int]:
    world = (runtime or create_runtime()).new_world()
    eid = world.create_entity("ground")
    world.add(eid, Terrain(**fields))
    return world, eid


def run(world: World, ticks: int) -> None:
    for _ in range(ticks):
        world.tick(DT)


def drawn_triangles(world: World, eid: int) -> np.ndarray:
    """The triangles drawn under the entity, in world space: (n, 3 corners, xyz)."""
    mesh = world.node(eid).find("terrain")
    assert not mesh.isEmpty()
    geom = mesh.node().getGeom(0)
    reader = GeomVertexReader(geom.getVertexData(), "vertex")
    points = []
    while not reader.isAtEnd():
        points.append(tuple(reader.getData3()))
    mat = mesh.getMat(world.root)
    to_world = np.array([[mat.getCell(r, c) for c in range(4)] for r in range(4)])
    local = np.hstack([np.array(points), np.ones((len(points), 1))])
    world_points = (local @ to_world)[:, :3]
    primitive = geom.getPrimitive(0).decompose()
    dtype = np.uint32 if primitive.getIndexStride() == 4 else np.uint16
    indices = np.frombuffer(memoryview(primitive.getVertices()), dtype).reshape(-1, 3)
    return world_points[indices]


def drawn_vertex(world: World, eid: int, x: float, y: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The drawn vertex nearest (x, y) of a terrain at the origin: its position and normal."""
    vdata = world.node(eid).find("terrain").node().getGeom(0).getVertexData()
    best: tuple[float, tuple[float, ...], tuple[float, ...]] | None = None
    vertices, normals = GeomVertexReader(vdata, "vertex"), GeomVertexReader(vdata, "normal")
    while not vertices.isAtEnd():
        point, normal = tuple(vertices.getData3()), tuple(normals.getData3())
        distance = (point[0] - x) ** 2 + (point[1] - y) ** 2
        if best is None or distance < best[0]:
            best = (distance, point, normal)
    assert best is not None
    return best[1], best[2]


def drawn_height(triangles: np.ndarray, x: float, y: float) -> float:
    """Height of the drawn surface above (x, y): the triangle containing the point, interpolated."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    v0, v1 = b[:, :2] - a[:, :2], c[:, :2] - a[:, :2]
    p = np.array([x, y]) - a[:, :2]
    det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
    u = (p[:, 0] * v1[:, 1] - p[:, 1] * v1[:, 0]) / det
    v = (v0[:, 0] * p[:, 1] - v0[:, 1] * p[:, 0]) / det
    inside = np.flatnonzero((u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9))
    assert inside.size, f"no drawn triangle above ({x}, {y})"
    i = inside[0]
    return float(a[i, 2] + u[i] * (b[i, 2] - a[i, 2]) + v[i] * (c[i, 2] - a[i, 2]))


def ray_down(world: World, x: float, y: float):  # type: ignore[no-untyped-def]
    return world.system(PhysicsSystem).raycast((x, y, 200.0), (x, y, -200.0))


# -- the drawn surface is the collision surface --------------------------------------------------

PROBES = [(0.3, 0.2), (-20.1, 0.17), (-22.33, 1.11), (-31.0, -2.2), (-24.0, 7.7), (35.2, 30.1), (-41.7, -12.9),
          (10.05, -38.4), (44.4, 2.2), (-17.0, -6.5)]


@pytest.mark.parametrize("place", [
    {"pos": (0.0, 0.0, 0.0), "hpr": (0.0, 0.0, 0.0), "scale": 1.0, "fields": {}},
    {"pos": (3.0, -2.0, 1.5), "hpr": (30.0, 0.0, 0.0), "scale": 1.25, "fields": {}},
    {"pos": (0.0, 0.0, -0.5), "hpr": (0.0, 0.0, 0.0), "scale": 1.0, "fields": {"max_grid": 65}},
], ids=["at-origin", "moved-turned-scaled", "sampled-down"])
def test_a_ray_down_hits_the_terrain_where_it_is_drawn(place: dict) -> None:
    world = create_runtime().new_world()
    eid = world.create_entity("ground")
    world.node(eid).setPosHpr(*place["pos"], *place["hpr"])
    world.node(eid).setScale(place["scale"])
    world.add(eid, Terrain(**place["fields"]))
    world.tick(DT)
    triangles = drawn_triangles(world, eid)
    for x, y in PROBES:
        lx, ly, _ = world.root.getRelativePoint(world.node(eid), (0, 0, 0))  # keep probes on the terrain
        hit = ray_down(world, x * 0.9 + lx, y * 0.9 + ly)
        assert hit is not None and hit.entity == eid
        assert abs(hit.point[2] - drawn_height(triangles, hit.point[0], hit.point[1])) < 1e-3
    grid = place["fields"].get("max_grid", 257)
    assert len(triangles) == 2 * (grid - 1) ** 2


def test_the_ramp_is_the_slope_the_generator_promises() -> None:
    world, eid = terrain_world()
    world.tick(DT)
    for x in (-18.0, -21.4, -25.0):
        hit = ray_down(world, x, 1.3)
        expected = (generator.RAMP_START_X - x) * math.tan(math.radians(generator.SLOPE_DEGREES))
        assert abs(hit.point[2] - expected) < 0.01
        assert abs(math.degrees(math.acos(hit.normal[2])) - generator.SLOPE_DEGREES) < 0.1
    assert abs(ray_down(world, -33.0, 0.0).point[2] - generator.PLATEAU_HEIGHT) < 0.01
    assert ray_down(world, 0.0, 0.0).point[2] == 0.0 and ray_down(world, 8.0, -7.5).point[2] == 0.0
    vertex, normal = drawn_vertex(world, eid, -21.375, 0.0)           # a grid point inside the ramp
    assert vertex == pytest.approx((-21.375, 0.0, ray_down(world, -21.375, 0.0).point[2]), abs=1e-4)
    assert normal == pytest.approx(ray_down(world, -21.375, 0.0).normal, abs=1e-3)   # shaded as it collides


def test_collision_follows_the_entity_and_the_fields() -> None:
    world, eid = terrain_world()
    world.tick(DT)
    world.node(eid).setZ(2.0)
    world.tick(DT)
    assert abs(ray_down(world, -33.0, 0.0).point[2] - (2.0 + generator.PLATEAU_HEIGHT)) < 0.01
    terrain = world.get(eid, Terrain)
    world.set_field(eid, terrain, "size", (96.0, 96.0, 24.0))        # twice as tall
    world.tick(DT)
    assert abs(ray_down(world, -33.0, 0.0).point[2] - (2.0 + 2 * generator.PLATEAU_HEIGHT)) < 0.01
    world.set_field(eid, terrain, "collide", False)
    world.tick(DT)
    assert ray_down(world, -33.0, 0.0) is None
    assert not world.node(eid).find("terrain").isEmpty()            # still drawn
    world.remove(eid, Terrain)
    world.tick(DT)
    assert world.node(eid).find("terrain").isEmpty()


def test_the_ground_casts_sun_shadows_and_point_shadows_only_when_asked() -> None:
    from engine.render.point_shadows import LIGHT_SHADOW_CAMERAS, POINT_SHADOW_CAMERAS

    world, eid = terrain_world()
    world.tick(DT)
    mesh = world.node(eid).find("terrain")
    assert mesh.isHidden(POINT_SHADOW_CAMERAS) and not mesh.isHidden(LIGHT_SHADOW_CAMERAS)
    world.set_field(eid, world.get(eid, Terrain), "point_shadows", True)
    world.tick(DT)
    mesh = world.node(eid).find("terrain")
    assert not mesh.isHidden(POINT_SHADOW_CAMERAS) and not mesh.isHidden(LIGHT_SHADOW_CAMERAS)


def test_a_character_walks_up_the_ramp_and_stands_on_the_plateau() -> None:
    world, _ = terrain_world()
    walker = world.create_entity("walker")
    world.node(walker).setPos(generator.RAMP_START_X + 4.0, 0.0, 0.3)
    controller = world.add(walker, CharacterController())
    run(world, 30)
    assert controller.grounded and abs(world.node(walker).getZ()) < 0.05
    controller.move = (-1.0, 0.0, 0.0)
    tan = math.tan(math.radians(generator.SLOPE_DEGREES))
    climbed = []
    for _ in range(300):                                            # 20 m at 4 m/s
        world.tick(DT)
        x, _, z = world.node(walker).getPos()
        if generator.PLATEAU_END_X + 1.0 < x < generator.RAMP_START_X - 1.0:
            climbed.append(z - (generator.RAMP_START_X - x) * tan)
    controller.move = (0.0, 0.0, 0.0)
    run(world, 30)
    x, y, z = world.node(walker).getPos()
    assert len(climbed) > 100 and max(abs(c) for c in climbed) < 0.1  # on the slope all the way up
    assert x < generator.PLATEAU_END_X - 3.0 and abs(y) < 0.01
    assert controller.grounded and abs(z - generator.PLATEAU_HEIGHT) < 0.05


def test_characters_stand_on_the_terrain_where_their_whole_capsule_would_rest() -> None:
    """Straight down, the motor sweeps a terrain with the capsule's end sphere only (see
    engine/physics/character.py): the character must end where the capsule itself comes to rest."""
    world, _ = terrain_world()
    world.tick(DT)
    physics = world.system(PhysicsSystem)
    capsule = ShapeSpec("capsule", radius=0.4, height=1.8)
    rests = []
    for x, y in PROBES:
        ground = ray_down(world, x, y).point[2]
        hit = physics.sweep(capsule, (x, y, ground + 3.0), (x, y, ground - 3.0))
        assert hit is not None
        rests.append(ground + 3.0 - hit.fraction * 6.0 - 0.9)         # the capsule's feet at rest
    walkers = []
    for (x, y), rest in zip(PROBES, rests):
        eid = world.create_entity(f"walker {x:g}")
        world.node(eid).setPos(x, y, rest + 0.3)
        walkers.append((eid, world.add(eid, CharacterController(radius=0.4, height=1.8))))
    run(world, 60)
    for (eid, controller), (x, y), rest in zip(walkers, PROBES, rests):
        feet = world.node(eid).getPos()
        assert controller.grounded
        assert abs(feet.x - x) < 1e-4 and abs(feet.y - y) < 1e-4
        assert abs(feet.z - (rest + SKIN)) < 0.002, (x, y, feet.z - rest)


def test_the_surface_has_a_collision_group_of_its_own_that_collides_as_its_layer_does() -> None:
    world, eid = terrain_world()
    block = world.create_entity("block")
    world.node(block).setPos(-20.1, 0.17, 30.0)
    world.add(block, Collider(shape="box"))
    crate = world.create_entity("crate")
    ground = ray_down(world, 0.3, 0.2).point[2]
    world.node(crate).setPos(0.3, 0.2, ground + 2.0)
    world.add(crate, RigidBody(mass=2.0))
    world.add(crate, Collider(shape="box"))
    world.tick(DT)
    physics = world.system(PhysicsSystem)
    surfaces = physics.groups.surfaces()
    surface_mask = world.node(eid).find("**/terrain-collision").node().getIntoCollideMask()
    assert not (surface_mask & surfaces).isZero()
    assert (world.node(block).node().getIntoCollideMask() & surfaces).isZero()
    assert (world.node(crate).node().getIntoCollideMask() & surfaces).isZero()
    surface_group = surface_mask.getLowestOnBit()
    plain_group = world.node(block).node().getIntoCollideMask().getLowestOnBit()
    for other in range(physics.groups.count()):
        assert (physics.bullet.getGroupCollisionFlag(surface_group, other)
                == physics.bullet.getGroupCollisionFlag(plain_group, other))
    run(world, 120)
    assert abs(world.node(crate).getZ() - (ground + 0.5)) < 0.05   # it fell onto the terrain and rests
    assert ray_down(world, 0.3, 5.0).entity == eid                  # queries still see the terrain


def test_a_terrain_in_a_world_file_saves_back_as_written(runtime: Runtime) -> None:
    data = {"storm_world": 2, "name": "hills", "entities": [
        {"id": 1, "name": "Terrain", "components": {"Terrain": {"max_grid": 129, "blend": "height"}}}]}
    world = load_world_data(data, "hills.world.json", runtime)
    run(world, 3)
    assert world_to_data(world)["entities"] == data["entities"]     # the collision node is no entity
    assert world.system(TerrainSystem).heights(1).shape == (129, 129)


# -- bad input -----------------------------------------------------------------------------------

def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "storm.terrain"]


def test_a_missing_heightmap_is_named_and_a_flat_placeholder_stands_in(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="storm.terrain"):
        world, eid = terrain_world(heightmap="base:terrain/nope.png", size=(20.0, 20.0, 5.0))
        run(world, 5)
    assert errors(caplog) == [f"entity {eid} ('ground') Terrain.heightmap: expected a grey PNG image (8- or 16-bit) "
                              f"in an enabled pack; 'base:terrain/nope.png' was not found in the enabled packs; "
                              f"showing a flat placeholder"]
    assert world.system(TerrainSystem).is_placeholder(eid)
    assert ray_down(world, 5.0, -5.0).point[2] == 0.0              # things still have ground to stand on
    assert ray_down(world, 15.0, 0.0) is None


@pytest.mark.parametrize("content, why", [
    (b"this is not a picture", "'testpack:terrain/bad.png': bad.png is not an image Panda3D can read"),
    ("1x1", "'testpack:terrain/bad.png': the image is 1x1 pixels; a heightmap needs at least 2x2"),
])
def test_a_file_that_is_no_heightmap_is_named(pack_runtime: Runtime, tmp_pack: TmpPack, content: object, why: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_pack.root / "terrain" / "bad.png"
    path.parent.mkdir(parents=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        Image.fromarray(np.zeros((1, 1), np.uint8)).save(path)
    with caplog.at_level(logging.WARNING, logger="storm.terrain"):
        world, eid = terrain_world(pack_runtime, heightmap="testpack:terrain/bad.png")
        run(world, 3)
    assert errors(caplog) == [f"entity {eid} ('ground') Terrain.heightmap: expected a grey PNG image (8- or 16-bit) "
                              f"in an enabled pack; {why}; showing a flat placeholder"]
    assert world.tick_count == 3


def test_a_colour_image_is_read_by_brightness_with_a_warning(pack_runtime: Runtime, tmp_pack: TmpPack,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    rgb = np.zeros((9, 9, 3), np.uint8)
    rgb[:, :, 0] = 255                                              # pure red: brightness 0.299
    (tmp_pack.root / "terrain").mkdir()
    Image.fromarray(rgb).save(tmp_pack.root / "terrain" / "red.png")
    with caplog.at_level(logging.WARNING, logger="storm.terrain"):
        world, eid = terrain_world(pack_runtime, heightmap="testpack:terrain/red.png", size=(8.0, 8.0, 10.0))
        world.tick(DT)
    assert errors(caplog) == [f"entity {eid} ('ground') Terrain.heightmap: expected a grey image; "
                              f"'testpack:terrain/red.png' is a colour image; its brightness is used as height"]
    assert abs(ray_down(world, 1.0, 1.0).point[2] - 2.98) < 0.03


def test_zero_size_is_named_and_no_terrain_is_built(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="storm.terrain"):
        world, eid = terrain_world(size=(0.0, 40.0, 5.0))
        run(world, 3)
    assert errors(caplog) == [f"entity {eid} ('ground') Terrain.size: expected x and y extents above 0, "
                              f"got [0.0, 40.0, 5.0]; no terrain is built"]
    assert world.node(eid).find("terrain").isEmpty() and ray_down(world, 0.0, 0.0) is None


def test_a_bad_field_in_a_world_file_names_the_entity_and_field(runtime: Runtime) -> None:
    from engine.core.errors import DataError

    data = {"storm_world": 2, "entities": [{"id": 1, "name": "T", "components": {"Terrain": {"size": [10, 10]}}}]}
    with pytest.raises(DataError) as caught:
        load_world_data(data, "bad.world.json", runtime)
    assert str(caught.value).startswith("bad.world.json: entities[0](T).components.Terrain.size: expected a list of 3")


# -- the generator -------------------------------------------------------------------------------

def test_the_generator_writes_the_same_bytes_every_run(tmp_path: Path) -> None:
    first = generator.write_heightmap(tmp_path / "a" / "height.png", progress=None)
    result = subprocess.run([sys.executable, "-m", "tools.assets.terrain_heightmap", "--out",
                             str(tmp_path / "b" / "height.png")], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True)
    assert "[1/3]" in result.stderr and "[3/3]" in result.stderr
    assert first.read_bytes() == (tmp_path / "b" / "height.png").read_bytes() == DEMO_HEIGHTMAP.read_bytes()
    with Image.open(first) as image:
        assert image.size == (generator.PIXELS, generator.PIXELS) and image.mode.startswith("I;16")
    assert generator.write_heightmap(tmp_path / "c.png", seed=8, progress=None).read_bytes() != first.read_bytes()


@pytest.mark.parametrize("heightmap, expected", [
    ("base:terrain/nope.png", "pack 'base' has no file 'terrain/nope.png'"),
    ("base:sounds/click.wav", "'sounds/click.wav' is not an image file"),
])
def test_validate_names_a_heightmap_that_is_missing_or_not_an_image(heightmap: str, expected: str) -> None:
    from engine.core.errors import DataError

    data = {"storm_world": 2, "name": "t", "entities": [
        {"id": 1, "name": "Ground", "components": {"Terrain": {"heightmap": heightmap}}}]}
    with pytest.raises(DataError) as caught:
        load_world_data(data, "t.world.json", create_runtime(), check_assets=True)
    message = str(caught.value)
    assert "t.world.json: entities[0](Ground).components.Terrain.heightmap" in message and expected in message
