"""Old files keep opening: schema-1 worlds and prefabs load, and save as the current schema."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.camera.components import Camera
from engine.core.errors import DataError
from engine.data.migrations import CURRENT_VERSION, migrate
from engine.data.world_file import read_world, save_world
from engine.host.runtime import Runtime
from engine.render.components import MeshRenderer
from tests.conftest import DATA_DIR, TmpPack, write_json

V1_WORLD = DATA_DIR / "v1_village.world.json"
V1_WORLD_MIGRATED = DATA_DIR / "v1_village.migrated.world.json"


def test_schema_1_world_loads_and_saves_as_the_current_schema(runtime: Runtime, tmp_path: Path) -> None:
    world = read_world(V1_WORLD, runtime)
    camera = world.get(1, Camera)
    assert camera is not None and camera.fov == 70
    assert tuple(world.node(1).getPos()) == pytest.approx((0, -12, 5))
    assert tuple(world.node(2).getScale()) == pytest.approx((30, 30, 1))
    assert world.parent_of(3) == 2
    assert [c.type_name for c in world.components(3)] == ["MeshRenderer", "base:motion.Spinner"]
    assert world.node(4).getX() == pytest.approx(3) and len(world.prefab_instances[4].members) == 3
    out = tmp_path / "village.world.json"
    save_world(world, out)
    assert out.read_bytes() == V1_WORLD_MIGRATED.read_bytes()
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["storm_world"] == CURRENT_VERSION == 3
    assert saved["entities"][0]["transform"] == {"pos": [0, -12, 5], "hpr": [0, -20, 0]}
    assert saved["entities"][0]["components"] == {"Camera": {"fov": 70}}


def test_the_migrated_file_round_trips_byte_for_byte(runtime: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "again.world.json"
    save_world(read_world(V1_WORLD_MIGRATED, runtime), out)
    assert out.read_bytes() == V1_WORLD_MIGRATED.read_bytes()


def test_schema_1_prefab_loads_through_a_current_world(tmp_path: Path, tmp_pack: TmpPack,
                                                       pack_runtime: Runtime) -> None:
    tmp_pack.write("prefabs/post.prefab.json", (DATA_DIR / "v1_post.prefab.json").read_text(encoding="utf-8"))
    path = write_json(tmp_path / "w.world.json", {"storm_world": 2, "name": "Posts", "entities": [
        {"id": 1, "name": "Signpost", "prefab": tmp_pack.asset_id("prefabs/post.prefab.json"),
         "overrides": {"sign": {"MeshRenderer": {"color": [1, 0, 0, 1]}}}}]})
    world = read_world(path, pack_runtime)
    sign = world.prefab_instances[1].members["sign"]
    assert tuple(world.node(1).getScale()) == pytest.approx((0.2, 0.2, 2))
    assert tuple(world.node(sign).getHpr()) == pytest.approx((45, 0, 0))
    mesh = world.get(sign, MeshRenderer)
    assert mesh is not None and tuple(mesh.color) == (1, 0, 0, 1) and mesh.model == "primitive:box"


def test_migration_works_in_place_without_copying_the_file_data() -> None:
    data = json.loads(V1_WORLD.read_text(encoding="utf-8"))
    migrated = migrate(data, "world", "v1")
    assert migrated is data  # a big world is not held twice in memory
    assert migrated["storm_world"] == 3 and migrated["entities"][2]["transform"] == {"pos": [1, 2, 0.5]}


def _v1(entity: dict[str, Any]) -> dict[str, Any]:
    return {"storm_world": 1, "name": "old", "entities": [{"id": 1, "name": "A"}, entity]}


@pytest.mark.parametrize(("data", "path", "expected"), [
    (_v1({"id": 2, "components": [{"fov": 70}]}), "entities[1].components[0]", 'an object with a "type" string'),
    (_v1({"id": 2, "components": ["Camera"]}), "entities[1].components[0]", 'an object with a "type" string'),
    (_v1({"id": 2, "components": [{"type": "Camera"}, {"type": "Camera", "fov": 80}]}),
     "entities[1].components[1].type", "each component type once per entity"),
    (_v1({"id": 2, "pos": [1, 2, 3], "transform": {"pos": [0, 0, 0]}}), "entities[1].transform",
     "flat pos/hpr/scale or nothing in schema version 1"),
    ({"storm_world": 0, "entities": []}, "storm_world", "a schema version from 1 to 3"),
    ({"storm_world": "2", "entities": []}, "storm_world", "a schema version number (1 to 3)"),
    ({"storm_world": True, "entities": []}, "storm_world", "a schema version number (1 to 3)"),
    ({"storm_world": 2.0, "entities": []}, "storm_world", "a schema version number (1 to 3)"),
])
def test_bad_old_files_name_the_place(runtime: Runtime, tmp_path: Path, data: Any, path: str, expected: str) -> None:
    file = write_json(tmp_path / "old.world.json", data)
    with pytest.raises(DataError) as info:
        read_world(file, runtime)
    assert info.value.source == str(file)
    assert info.value.path == path
    assert expected in info.value.expected


def test_a_schema_1_field_error_names_the_migrated_path(runtime: Runtime, tmp_path: Path) -> None:
    file = write_json(tmp_path / "old.world.json", _v1({"id": 2, "name": "Cam", "components": [
        {"type": "Camera", "fov": 500}]}))
    with pytest.raises(DataError) as info:
        read_world(file, runtime)
    assert info.value.path == "entities[1](Cam).components.Camera.fov"
    assert "a number in [10.0, 170.0]" in str(info.value)
