"""Prefabs as a user meets them: instances with overrides, nested members addressed ``outer/inner``,
edits saved as small overrides, and prefab file changes that reach every instance not overriding them."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine.core.errors import DataError
from engine.core.prefab_commands import InstantiatePrefab
from engine.core.world import World
from engine.data.world_file import read_world, save_world, world_to_data
from engine.host.runtime import Runtime
from engine.render.components import Light, MeshRenderer
from tests.conftest import DEMO_WORLD, TmpPack, write_json

LAMP = "base:prefabs/pillar_lamp.prefab.json"
LAMP_GLOBE_COLOR = (1.0, 0.9, 0.5, 1.0)


def member(world: World, root_name: str, key: str) -> int:
    """The entity playing prefab member ``key`` in the instance whose root is named ``root_name``."""
    return world.prefab_instances[world.find(root_name)].members[key]


def color_of(world: World, eid: int) -> tuple[float, ...]:
    mesh = world.get(eid, MeshRenderer)
    assert mesh is not None
    return tuple(mesh.color)


def block_named(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(block for block in data["entities"] if block["name"] == name)


def test_instance_overrides_apply_and_others_keep_the_prefab(runtime: Runtime) -> None:
    world = read_world(DEMO_WORLD, runtime)
    assert color_of(world, member(world, "Lamp left", "globe")) == pytest.approx(LAMP_GLOBE_COLOR)
    assert color_of(world, member(world, "Lamp right", "globe")) == pytest.approx((0.5, 1.0, 0.6, 1.0))
    left_pillar = member(world, "Lamp left", "pillar")
    assert world.parent_of(left_pillar) == world.find("Lamp left")
    assert tuple(world.node(left_pillar).getPos()) == pytest.approx((0, 0, 1))
    assert world.node(world.find("Lamp right")).getX() == pytest.approx(7)


def test_members_are_not_saved_as_their_own_blocks(runtime: Runtime) -> None:
    world = read_world(DEMO_WORLD, runtime)
    data = world_to_data(world)
    blocks = json.loads(DEMO_WORLD.read_text())["entities"]
    lamps = sum(1 for block in blocks if "prefab" in block)
    assert len(world.entities()) == len(blocks) + 2 * lamps
    assert len(data["entities"]) == len(blocks)
    assert "overrides" not in block_named(data, "Lamp left")


def test_editing_a_prefab_child_in_code_saves_only_the_difference(runtime: Runtime) -> None:
    world = read_world(DEMO_WORLD, runtime)
    globe = member(world, "Lamp left", "globe")
    world.set_field(globe, world.get(globe, MeshRenderer), "color", (0.0, 0.0, 1.0, 1.0))
    world.node(member(world, "Lamp left", "pillar")).setZ(1.5)
    right_globe = member(world, "Lamp right", "globe")
    world.set_field(right_globe, world.get(right_globe, MeshRenderer), "color", LAMP_GLOBE_COLOR)
    data = world_to_data(world)
    assert block_named(data, "Lamp left")["overrides"] == {
        "pillar": {"transform": {"pos": [0, 0, 1.5]}},
        "globe": {"MeshRenderer": {"color": [0, 0, 1, 1]}},
    }
    assert "overrides" not in block_named(data, "Lamp right")  # set back to the prefab's value


def test_setting_a_field_back_to_its_default_is_kept_as_an_override(runtime: Runtime, tmp_path: Path) -> None:
    world = read_world(DEMO_WORLD, runtime)
    globe = member(world, "Lamp left", "globe")
    bobber = next(c for c in world.components(globe) if c.type_name == "base:motion.Bobber")
    world.set_field(globe, bobber, "height", 0.5)  # the declared default; the prefab says 0.1
    save_world(world, tmp_path / "w.world.json")
    again = read_world(tmp_path / "w.world.json", runtime)
    globe = member(again, "Lamp left", "globe")
    bobber = next(c for c in again.components(globe) if c.type_name == "base:motion.Bobber")
    assert bobber.height == 0.5


def test_a_component_added_to_a_member_is_saved_as_an_override(runtime: Runtime, tmp_path: Path) -> None:
    world = read_world(DEMO_WORLD, runtime)
    world.add(member(world, "Lamp left", "pillar"), Light(kind="point"))
    save_world(world, tmp_path / "w.world.json")
    data = json.loads((tmp_path / "w.world.json").read_text(encoding="utf-8"))
    assert block_named(data, "Lamp left")["overrides"] == {"pillar": {"Light": {"kind": "point"}}}
    again = read_world(tmp_path / "w.world.json", runtime)
    light = again.get(member(again, "Lamp left", "pillar"), Light)
    assert light is not None and light.kind == "point"


def _row_prefab(pack: TmpPack) -> str:
    """A row of two lamps; the row itself recolours lamp ``a``'s globe."""
    pack.write("prefabs/row.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "row", "name": "Row"},
        {"key": "a", "parent": "row", "prefab": LAMP, "transform": {"pos": [-1, 0, 0]},
         "overrides": {"globe": {"MeshRenderer": {"color": [1, 0, 0, 1]}}}},
        {"key": "b", "parent": "row", "prefab": LAMP, "transform": {"pos": [1, 0, 0]}},
    ]})
    return pack.asset_id("prefabs/row.prefab.json")


def test_nested_members_are_addressed_outer_slash_inner(tmp_path: Path, tmp_pack: TmpPack,
                                                        pack_runtime: Runtime) -> None:
    row = _row_prefab(tmp_pack)
    path = write_json(tmp_path / "w.world.json", {"storm_world": 2, "name": "Rows", "entities": [
        {"id": 1, "name": "Row one", "prefab": row,
         "overrides": {"b/globe": {"MeshRenderer": {"color": [0, 1, 0, 1]}}, "a/pillar": {"transform": {"pos": [0, 0, 3]}}}},
        {"id": 2, "name": "Row two", "prefab": row},
    ]})
    world = read_world(path, pack_runtime)
    assert set(world.prefab_instances[1].members) == {"row", "a", "a/pillar", "a/globe", "b", "b/pillar", "b/globe"}
    assert color_of(world, member(world, "Row one", "a/globe")) == pytest.approx((1, 0, 0, 1))  # from row file
    assert color_of(world, member(world, "Row one", "b/globe")) == pytest.approx((0, 1, 0, 1))  # from the world
    assert color_of(world, member(world, "Row two", "b/globe")) == pytest.approx(LAMP_GLOBE_COLOR)
    assert world.node(member(world, "Row one", "a/pillar")).getZ() == pytest.approx(3)
    assert tuple(world.node(member(world, "Row one", "a/pillar")).getScale()) == pytest.approx((0.4, 0.4, 2))
    assert world.parent_of(member(world, "Row one", "a/globe")) == member(world, "Row one", "a")
    out = tmp_path / "out.world.json"
    save_world(world, out)
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["entities"][0]["overrides"] == {
        "a/pillar": {"transform": {"pos": [0, 0, 3]}},
        "b/globe": {"MeshRenderer": {"color": [0, 1, 0, 1]}},
    }
    assert "overrides" not in saved["entities"][1]
    save_world(read_world(out, pack_runtime), tmp_path / "again.world.json")
    assert (tmp_path / "again.world.json").read_bytes() == out.read_bytes()


def test_prefab_file_changes_reach_every_instance_that_did_not_override(tmp_path: Path, tmp_pack: TmpPack,
                                                                        pack_runtime: Runtime) -> None:
    def write_post(color: list[float], height: float) -> None:
        file = tmp_pack.write("prefabs/post.prefab.json", {"storm_prefab": 2, "entities": [
            {"key": "post", "name": "Post", "components": {"MeshRenderer": {"color": color}}},
            {"key": "cap", "parent": "post", "transform": {"pos": [0, 0, height]},
             "components": {"MeshRenderer": {"model": "primitive:sphere"}}}]})
        stat = file.stat()  # make the change visible even within one clock tick of the filesystem
        os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9 * (1 + int(height))))

    write_post([1, 1, 1, 1], 1)
    post = tmp_pack.asset_id("prefabs/post.prefab.json")
    path = write_json(tmp_path / "w.world.json", {"storm_world": 2, "name": "Posts", "entities": [
        {"id": 1, "name": "Plain", "prefab": post},
        {"id": 2, "name": "Painted", "prefab": post, "overrides": {"post": {"MeshRenderer": {"color": [0, 0, 0, 1]}}}},
        {"id": 3, "name": "Also plain", "prefab": post, "transform": {"pos": [5, 0, 0]}},
    ]})
    save_world(read_world(path, pack_runtime), path)  # saved once: instances must not bake the prefab in
    write_post([1, 0, 0, 1], 4)
    world = read_world(path, pack_runtime)
    assert color_of(world, 1) == pytest.approx((1, 0, 0, 1))
    assert color_of(world, 3) == pytest.approx((1, 0, 0, 1))
    assert color_of(world, 2) == pytest.approx((0, 0, 0, 1))
    for root in ("Plain", "Painted", "Also plain"):
        assert world.node(member(world, root, "cap")).getZ() == pytest.approx(4)


def test_a_prefab_placed_from_code_saves_as_an_instance(runtime: Runtime, tmp_path: Path) -> None:
    world = runtime.new_world(name="Placed")
    world.apply(InstantiatePrefab(LAMP, transform={"pos": [1, 2, 0]}))
    instance = world.prefab_instances[1]
    save_world(world, tmp_path / "w.world.json")
    data = json.loads((tmp_path / "w.world.json").read_text(encoding="utf-8"))
    assert data["entities"] == [{"id": 1, "name": "Pillar lamp", "prefab": LAMP,
                                 "members": {"pillar": 2, "globe": 3}, "transform": {"pos": [1, 2, 0]}}]
    assert instance.members == {"lamp": 1, "pillar": 2, "globe": 3}
    assert len(read_world(tmp_path / "w.world.json", runtime).entities()) == 3


def test_a_prefab_that_contains_itself_is_an_error(tmp_path: Path, tmp_pack: TmpPack,
                                                   pack_runtime: Runtime) -> None:
    me = tmp_pack.asset_id("prefabs/me.prefab.json")
    tmp_pack.write("prefabs/me.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "root"}, {"key": "again", "parent": "root", "prefab": me}]})
    path = write_json(tmp_path / "w.world.json", {"storm_world": 2, "name": "x", "entities": [
        {"id": 1, "name": "Mirror", "prefab": me}]})
    with pytest.raises(DataError) as info:
        read_world(path, pack_runtime)
    assert info.value.source == str(tmp_pack.root / "prefabs" / "me.prefab.json")
    assert info.value.path == "entities[1].prefab"
    assert f"cycle {me} -> {me}" in info.value.expected


def test_validate_checks_prefab_assets_even_after_a_lax_load(tmp_path: Path, tmp_pack: TmpPack,
                                                             pack_runtime: Runtime) -> None:
    from engine.data.world_file import validate_world

    tmp_pack.write("prefabs/ghost.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "root", "components": {"MeshRenderer": {"model": "testpack:models/ghost.gltf"}}}]})
    path = write_json(tmp_path / "w.world.json", {"storm_world": 2, "name": "x", "entities": [
        {"id": 1, "name": "Ghost", "prefab": tmp_pack.asset_id("prefabs/ghost.prefab.json")}]})
    read_world(path, pack_runtime)  # plays, with a placeholder
    with pytest.raises(DataError) as info:
        validate_world(path, pack_runtime)
    assert info.value.source == str(tmp_pack.root / "prefabs" / "ghost.prefab.json")
    assert info.value.path == "entities[0].components.MeshRenderer.model"


def test_an_instance_transform_changes_only_the_parts_it_names(tmp_path: Path, tmp_pack: TmpPack,
                                                               pack_runtime: Runtime) -> None:
    tall = tmp_pack.asset_id("prefabs/tall.prefab.json")
    tmp_pack.write("prefabs/tall.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "root", "transform": {"hpr": [90, 0, 0], "scale": [1, 1, 3]},
         "components": {"MeshRenderer": {}}}]})
    path = write_json(tmp_path / "w.world.json", {"storm_world": 2, "name": "x", "entities": [
        {"id": 1, "name": "Tower", "prefab": tall, "transform": {"pos": [4, 0, 0]}}]})
    world = read_world(path, pack_runtime)
    node = world.node(1)
    assert [*node.getPos(), *node.getHpr(), *node.getScale()] == pytest.approx([4, 0, 0, 90, 0, 0, 1, 1, 3])
    save_world(world, tmp_path / "out.world.json")
    saved = json.loads((tmp_path / "out.world.json").read_text(encoding="utf-8"))
    assert saved["entities"][0]["transform"] == {"pos": [4, 0, 0]}
