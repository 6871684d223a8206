"""Hot reload of a prefab in a running world: instances follow the changed file and keep their
own overrides; members come and go with stable ids; the saved world stays small."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.core.world import World
from engine.data.world_file import read_world, save_world
from engine.data.world_save import instance_block
from engine.host.prefab_watch import PrefabWatchSystem
from engine.host.runtime import Runtime
from engine.render.components import Light, MeshRenderer
from tests.conftest import TmpPack, write_json


def post_prefab(color: list[float], extra_member: bool = False, light: bool = True, cap_z: float = 2.0) -> dict:
    entities = [
        {"key": "post", "name": "Post", "components": {"MeshRenderer": {"model": "primitive:cylinder", "color": color}}},
        {"key": "cap", "parent": "post", "name": "Cap", "transform": {"pos": [0, 0, cap_z]},
         "components": {"MeshRenderer": {"model": "primitive:sphere"}, **({"Light": {"kind": "point"}} if light else {})}},
    ]
    if extra_member:
        entities.append({"key": "flag", "parent": "post", "name": "Flag",
                         "components": {"MeshRenderer": {"model": "primitive:box", "color": [1, 0, 0, 1]}}})
    return {"storm_prefab": 3, "entities": entities}


def write_prefab(pack: TmpPack, data: dict) -> Path:
    path = pack.write("prefabs/post.prefab.json", data)
    stamp = path.stat().st_mtime_ns + 10_000_000  # a distinct modification time, even on coarse clocks
    os.utime(path, ns=(stamp, stamp))
    return path


@pytest.fixture
def running(tmp_path: Path, tmp_pack: TmpPack, pack_runtime: Runtime) -> World:
    write_prefab(tmp_pack, post_prefab([0.5, 0.5, 0.5, 1]))
    post = tmp_pack.asset_id("prefabs/post.prefab.json")
    path = write_json(tmp_path / "w.world.json", {"storm_world": 3, "name": "Posts", "entities": [
        {"id": 1, "name": "Plain", "prefab": post},
        {"id": 2, "name": "Painted", "prefab": post, "overrides": {"post": {"MeshRenderer": {"color": [0, 0, 1, 1]}}},
         "transform": {"pos": [3, 0, 0]}},
    ]})
    world = read_world(path, pack_runtime)
    for _ in range(5):
        world.tick()
    return world


def tick_until_reloaded(world: World) -> list[str]:
    watch = world.system(PrefabWatchSystem)
    for _ in range(watch.every_ticks + 1):
        world.tick()
    return watch.reloaded


def color(world: World, eid: int) -> tuple[float, ...]:
    return tuple(world.get(eid, MeshRenderer).color)


def test_instances_follow_a_changed_prefab_and_keep_their_overrides(running: World, tmp_pack: TmpPack) -> None:
    plain, painted = running.prefab_instances[1], running.prefab_instances[2]
    plain_cap, painted_cap = plain.members["cap"], painted.members["cap"]
    write_prefab(tmp_pack, post_prefab([0.2, 0.8, 0.2, 1], cap_z=3.0))
    assert tick_until_reloaded(running) == [tmp_pack.asset_id("prefabs/post.prefab.json")]
    assert color(running, 1) == (0.2, 0.8, 0.2, 1)  # followed the prefab
    assert color(running, 2) == (0, 0, 1, 1)  # its own colour stays
    assert running.node(plain_cap).getZ() == pytest.approx(3.0) and running.node(painted_cap).getZ() == pytest.approx(3.0)
    assert "overrides" not in instance_block(running, plain)
    assert instance_block(running, painted)["overrides"] == {"post": {"MeshRenderer": {"color": [0, 0, 1, 1]}}}


def test_members_and_components_come_and_go_with_the_prefab(running: World, tmp_pack: TmpPack,
                                                            tmp_path: Path, pack_runtime: Runtime) -> None:
    ids_before = {root: dict(i.members) for root, i in running.prefab_instances.items()}
    write_prefab(tmp_pack, post_prefab([0.5, 0.5, 0.5, 1], extra_member=True, light=False))
    tick_until_reloaded(running)
    for root, instance in running.prefab_instances.items():
        assert {k: v for k, v in instance.members.items() if k != "flag"} == ids_before[root]  # ids kept
        flag = instance.members["flag"]
        assert running.exists(flag) and running.parent_of(flag) == root and running.name_of(flag) == "Flag"
        assert running.get(instance.members["cap"], Light) is None  # the prefab dropped its light
    path = tmp_path / "saved.world.json"
    save_world(running, path)
    blocks = json.loads(path.read_text(encoding="utf-8"))["entities"]
    assert "overrides" not in blocks[0] and set(blocks[0]["members"]) == {"cap", "flag"}
    again = read_world(path, pack_runtime)
    assert again.prefab_instances[1].members == running.prefab_instances[1].members


def test_a_broken_prefab_leaves_the_instances_as_they_were(running: World, tmp_pack: TmpPack,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    path = write_prefab(tmp_pack, post_prefab([0.5, 0.5, 0.5, 1]))
    path.write_text('{"storm_prefab": 3, "entities": [', encoding="utf-8")
    os.utime(path, ns=(path.stat().st_mtime_ns + 20_000_000,) * 2)
    tick_until_reloaded(running)
    assert color(running, 1) == (0.5, 0.5, 0.5, 1) and running.exists(running.prefab_instances[1].members["cap"])
    assert "does not load" in caplog.text and "valid JSON" in caplog.text


def test_nothing_is_reloaded_while_the_files_stay_the_same(running: World, pack_runtime: Runtime) -> None:
    assert running.services["runtime"].prefabs.stale() == []
    assert tick_until_reloaded(running) == []  # no work for unchanged prefabs
