"""Stable ids: entity ids survive save/load and prefab instancing, removed members and
components of an instance stay removed, and references inside copies point at the copies."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.core.edit_commands import (
    AddComponent,
    CreateEntity,
    DestroyEntity,
    Duplicate,
    Paste,
    RemoveComponent,
    SetFields,
    copy_records,
)
from engine.core.entity_specs import capture_subtree, remap_specs
from engine.core.prefab_commands import InstantiatePrefab, RevertOverride
from engine.core.world import World
from engine.data.world_file import read_world, save_world
from engine.data.world_save import instance_block
from engine.host.runtime import Runtime, create_runtime
from engine.physics.components import Joint
from tests.conftest import DEMO_WORLD, TmpPack, write_json

LAMP = "base:prefabs/pillar_lamp.prefab.json"


def ids_and_names(world: World) -> dict[int, str]:
    return {eid: world.name_of(eid) for eid in world.entities()}


def test_prefab_members_keep_their_ids_after_an_entity_is_added(tmp_path: Path) -> None:
    runtime = create_runtime()
    world = read_world(DEMO_WORLD, runtime)
    members = {root: dict(inst.members) for root, inst in world.prefab_instances.items()}
    world.apply(CreateEntity.new("New crate", components={"MeshRenderer": {}}))
    path = tmp_path / "demo.world.json"
    save_world(world, path)
    again = read_world(path, runtime)
    assert {root: inst.members for root, inst in again.prefab_instances.items()} == members
    assert members[9] == {"lamp": 9, "pillar": 56, "globe": 57}


def test_a_schema_2_file_gets_member_ids_once_and_keeps_them(tmp_path: Path, runtime: Runtime) -> None:
    old = write_json(tmp_path / "old.world.json", {"storm_world": 2, "name": "Old", "entities": [
        {"id": 4, "name": "Lamp", "prefab": LAMP}, {"id": 9, "name": "Box", "components": {"MeshRenderer": {}}}]})
    world = read_world(old, runtime)
    assert world.prefab_instances[4].members == {"lamp": 4, "pillar": 10, "globe": 11}  # above the file's ids
    save_world(world, old)
    saved = json.loads(old.read_text(encoding="utf-8"))
    assert saved["storm_world"] == 3 and saved["entities"][0]["members"] == {"pillar": 10, "globe": 11}
    assert read_world(old, runtime).prefab_instances[4].members == {"lamp": 4, "pillar": 10, "globe": 11}


def test_ids_stay_the_same_through_ten_save_load_cycles_with_edits(tmp_path: Path) -> None:
    runtime = create_runtime()
    path = tmp_path / "cycles.world.json"
    world = read_world(DEMO_WORLD, runtime)
    expected = ids_and_names(world)
    for cycle in range(10):
        if cycle == 1:
            world.apply(InstantiatePrefab(LAMP, transform={"pos": [3, 3, 0]}))  # a new instance and members
        if cycle == 2:
            world.apply(DestroyEntity(57))  # a member of the left lamp
        if cycle == 3:
            world.apply(RemoveComponent(59, "base:motion.Bobber"))  # a component of a member
        if cycle == 4:
            world.apply(CreateEntity.new("Hat", parent=61, components={"MeshRenderer": {}}))  # under a member
        if cycle == 5:
            world.apply(SetFields(58, "MeshRenderer", {"color": [1, 0, 0, 1]}))
        if cycle == 6:
            world.apply(AddComponent(60, "Light", {"kind": "point"}))
        if cycle == 7:
            world.apply(Duplicate(10))  # a copy of a whole instance
        if cycle == 8:
            world.apply(DestroyEntity(5))
        expected = ids_and_names(world)
        save_world(world, path)
        world.close()
        world = read_world(path, runtime)
        assert ids_and_names(world) == expected, f"cycle {cycle}"
    assert not world.exists(57) and "globe" in world.prefab_instances[9].removed
    assert [c.type_name for c in world.components(59)] == ["MeshRenderer"]
    hat = next(eid for eid, name in ids_and_names(world).items() if name == "Hat")
    assert world.parent_of(hat) == 61
    assert world.get(60, world.registry.resolve("Light")) is not None


def test_a_removed_member_comes_back_with_its_id_on_revert(tmp_path: Path, runtime: Runtime) -> None:
    world = read_world(DEMO_WORLD, runtime)
    world.apply(DestroyEntity(57))
    path = tmp_path / "w.world.json"
    save_world(world, path)
    assert json.loads(path.read_text(encoding="utf-8"))["entities"][
        [b["id"] for b in json.loads(path.read_text(encoding="utf-8"))["entities"]].index(9)]["removed"] == ["globe"]
    again = read_world(path, runtime)
    again.apply(RevertOverride(9, "globe"))
    assert again.exists(57) and again.parent_of(57) == 9 and again.name_of(57) == "Globe"
    save_world(again, path)
    assert "removed" not in json.loads(path.read_text(encoding="utf-8"))["entities"][8]


def test_references_inside_a_copy_point_at_the_copies(runtime: Runtime) -> None:
    world = runtime.new_world()
    world.apply(CreateEntity.new("Frame", entity=1, components={"RigidBody": {}, "Collider": {}}))
    world.apply(CreateEntity.new("Wheel", entity=2, parent=1,
                                 components={"RigidBody": {}, "Collider": {}, "Joint": {"target": 1}}))
    world.apply(CreateEntity.new("Anchor", entity=3, components={"RigidBody": {}, "Collider": {}}))
    world.apply(CreateEntity.new("Tether", entity=4, parent=1,
                                 components={"RigidBody": {}, "Collider": {}, "Joint": {"target": 3}}))
    world.apply(Duplicate(1))
    copies = {world.name_of(eid): eid for eid in world.entities() if eid > 4}
    assert set(copies) == {"Frame", "Wheel", "Tether"}
    assert world.parent_of(copies["Wheel"]) == world.parent_of(copies["Tether"]) == copies["Frame"]
    assert world.get(copies["Wheel"], Joint).target == copies["Frame"]  # inside the copy: remapped
    assert world.get(copies["Tether"], Joint).target == 3  # outside the copy: still the original anchor
    assert world.get(2, Joint).target == 1  # the original is untouched
    specs = {s.name: s for s in remap_specs(capture_subtree(world, 1), {1: 100, 2: 101})}
    assert specs["Frame"].id == 100 and specs["Wheel"].id == 101 and specs["Wheel"].parent == 100
    assert next(c for c in specs["Wheel"].components if c.cls is Joint).values["target"] == 100


def test_a_pasted_subtree_gets_new_ids_and_points_at_itself(runtime: Runtime) -> None:
    world = runtime.new_world()
    world.apply(CreateEntity.new("Frame", entity=1, components={"RigidBody": {}, "Collider": {}}))
    world.apply(CreateEntity.new("Wheel", entity=2, parent=1, components={"RigidBody": {}, "Joint": {"target": 1}}))
    world.apply(CreateEntity.new("Shelf", entity=3))
    clipboard = json.loads(json.dumps(copy_records(world, 1)))  # as a clipboard would keep it
    undo = world.apply(Paste(clipboard, parent=3))
    pasted = {world.name_of(eid): eid for eid in world.entities() if eid > 3}
    assert world.parent_of(pasted["Frame"]) == 3 and world.parent_of(pasted["Wheel"]) == pasted["Frame"]
    assert world.get(pasted["Wheel"], Joint).target == pasted["Frame"]
    world.apply(undo)
    assert sorted(world.entities()) == [1, 2, 3]


@pytest.fixture
def keyed_prefab(tmp_pack: TmpPack) -> str:
    tmp_pack.write("prefabs/swing.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "post", "components": {"RigidBody": {"mass": 0}, "Collider": {}}},
        {"key": "seat", "parent": "post", "components": {"RigidBody": {}, "Collider": {}, "Joint": {"target": "post"}}},
    ]})
    return tmp_pack.asset_id("prefabs/swing.prefab.json")


def test_prefab_references_by_key_point_at_each_instance_s_own_member(keyed_prefab: str, pack_runtime: Runtime) -> None:
    world = pack_runtime.new_world()
    world.apply(InstantiatePrefab(keyed_prefab, entity=10))
    world.apply(InstantiatePrefab(keyed_prefab, entity=20))
    first, second = world.prefab_instances[10], world.prefab_instances[20]
    assert world.get(first.members["seat"], Joint).target == 10
    assert world.get(second.members["seat"], Joint).target == 20
    world.apply(Duplicate(20))
    copy = max(world.prefab_instances)
    assert world.get(world.prefab_instances[copy].members["seat"], Joint).target == copy
    assert "overrides" not in instance_block(world, world.prefab_instances[copy])  # the copy is a plain instance


def test_a_prefab_reference_to_a_missing_key_is_an_error(tmp_path: Path, tmp_pack: TmpPack,
                                                         pack_runtime: Runtime) -> None:
    from engine.core.errors import DataError

    tmp_pack.write("prefabs/bad.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "post"}, {"key": "seat", "parent": "post", "components": {"Joint": {"target": "pots"}}}]})
    path = write_json(tmp_path / "w.world.json", {"storm_world": 3, "name": "x", "entities": [
        {"id": 1, "prefab": tmp_pack.asset_id("prefabs/bad.prefab.json")}]})
    with pytest.raises(DataError) as info:
        read_world(path, pack_runtime)
    assert info.value.path == "entities[1].components.Joint.target"
    assert "the key of a member of this prefab" in info.value.expected
