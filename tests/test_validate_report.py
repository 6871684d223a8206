"""validate lists every problem a load would find (and what only loading the assets shows), as
text or JSON, and loading honours its budgets with messages that say how to raise them."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from engine.core.errors import DataError
from engine.data.world_check import check_world
from engine.data.world_file import read_world
from engine.host.runtime import Runtime, create_runtime
from engine.packs.content import default_content
from engine.packs.sources import Budgets
from tests.conftest import DEMO_WORLD, REPO_ROOT, TmpPack, write_json


def world(entities: list[dict]) -> dict:
    return {"storm_world": 3, "name": "Checked", "entities": entities}


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path, pack_runtime: Runtime) -> None:
    path = write_json(tmp_path / "bad.world.json", world([
        {"id": 1, "name": "Good", "components": {"MeshRenderer": {}}},
        {"id": 2, "name": "Bad colour", "components": {"MeshRenderer": {"color": "red"}}},
        {"id": 3, "name": "Unknown", "components": {"Lihgt": {}}},
        {"id": 4, "name": "Orphan", "parent": 99},
        {"id": 5, "name": "Child of bad", "parent": 2},
        {"id": 6, "name": "Door", "components": {"Camera": {"target": 77}}},
    ]))
    report = check_world(path, pack_runtime)
    paths = [p.path for p in report.problems]
    assert paths == ["entities[1](Bad colour).components.MeshRenderer.color", "entities[2](Unknown).components.Lihgt",
                     "entities[3](Orphan).parent", "entity 6(Door).Camera.target"]
    assert not report.ok and report.to_json()["problems"][0]["expected"].startswith("a colour")


def test_validate_loads_the_assets_a_world_names(tmp_path: Path, tmp_pack: TmpPack) -> None:
    gltf = {"asset": {"version": "2.0"}, "buffers": [{"uri": "short.bin", "byteLength": 400}]}
    tmp_pack.write("models/short.gltf", json.dumps(gltf))
    (tmp_pack.root / "models" / "short.bin").write_bytes(b"\0" * 40)  # shorter than it says
    tmp_pack.write("terrain/not_an_image.png", "plain text")
    content = default_content()
    content.add_pack(tmp_pack.root)
    pack_runtime = create_runtime(content)
    path = write_json(tmp_path / "assets.world.json", world([
        {"id": 1, "name": "Cut model", "components": {"MeshRenderer": {"model": "testpack:models/short.gltf"}}},
        {"id": 2, "name": "Field", "components": {"Collider": {"shape": "heightfield",
                                                               "heightfield": "testpack:terrain/not_an_image.png"}}},
        {"id": 3, "name": "Missing", "components": {"AudioSource": {"sound": "testpack:sounds/none.wav"}}},
    ]))
    read_world(path, pack_runtime).close()  # playing it shows placeholders and logs: it loads
    report = check_world(path, pack_runtime)
    messages = {p.path: str(p) for p in report.problems}
    assert set(messages) == {"entity 1(Cut model).MeshRenderer.model", "entity 2(Field).Collider.heightfield",
                             "entities[2](Missing).components.AudioSource.sound"}
    assert "400" in messages["entity 1(Cut model).MeshRenderer.model"]  # the buffer's declared length, named
    assert "not an image" in messages["entity 2(Field).Collider.heightfield"]


def test_the_cli_prints_every_problem_and_json(tmp_path: Path) -> None:
    path = write_json(tmp_path / "two.world.json", world([
        {"id": 1, "name": "A", "components": {"MeshRenderer": {"color": [2, 0, 0, 1]}}},
        {"id": 2, "name": "B", "transform": {"scale": [0, 1, 1]}}]))
    done = subprocess.run([sys.executable, "main.py", "validate", str(path)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stdout.splitlines()[0] == f"{path}: 2 problems"
    assert "entities[0](A).components.MeshRenderer.color" in done.stdout and "entities[1](B).transform.scale" in done.stdout
    done = subprocess.run([sys.executable, "main.py", "validate", str(path), "--json"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    assert report["ok"] is False and [p["path"] for p in report["problems"]] == [
        "entities[0](A).components.MeshRenderer.color", "entities[1](B).transform.scale"]
    done = subprocess.run([sys.executable, "main.py", "validate", str(DEMO_WORLD)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok (42 entities)")


def fan_out(pack: TmpPack, levels: int, width: int) -> str:
    """Prefabs nesting each other ``levels`` deep, ``width`` copies each: width**levels entities."""
    for level in range(levels):
        entities = [{"key": "root"}]
        for copy in range(width):
            member = {"key": f"c{copy}", "parent": "root"}
            if level:
                member["prefab"] = pack.asset_id(f"prefabs/level{level - 1}.prefab.json")
            entities.append(member)
        pack.write(f"prefabs/level{level}.prefab.json", {"storm_prefab": 3, "entities": entities})
    return pack.asset_id(f"prefabs/level{levels - 1}.prefab.json")


def test_a_prefab_fan_out_stops_at_the_entity_budget(tmp_path: Path, tmp_pack: TmpPack) -> None:
    top = fan_out(tmp_pack, levels=7, width=10)  # ten million entities if expanded
    content = default_content()
    content.files.budgets = Budgets(entities=5000)
    content.add_pack(tmp_pack.root)
    path = write_json(tmp_path / "fan.world.json", world([{"id": 1, "name": "Forest", "prefab": top}]))
    with pytest.raises(DataError) as info:
        read_world(path, create_runtime(content))
    assert "a world of at most 5000 entities (the 'entities' budget; raise it with --budget entities=N)" in str(info.value)


def test_parent_chains_stop_at_the_depth_budget(tmp_path: Path, runtime: Runtime) -> None:
    chain = [{"id": i, "name": f"link {i}", **({"parent": i - 1} if i > 1 else {})} for i in range(1, 1202)]
    path = write_json(tmp_path / "chain.world.json", world(chain))
    with pytest.raises(DataError) as info:
        read_world(path, runtime)
    assert "parent chains of at most 1000 entities (the 'depth' budget; raise it with --budget depth=N)" in str(info.value)
    runtime.content.files.budgets = Budgets(depth=1300)
    loaded = read_world(path, runtime)
    assert loaded.parent_of(1201) == 1200
    loaded.close()


def test_a_bom_is_read_and_a_float32_zero_scale_is_refused(tmp_path: Path, runtime: Runtime) -> None:
    text = json.dumps(world([{"id": 1, "name": "Box", "transform": {"pos": [1, 2, 3]}}]))
    path = tmp_path / "bom.world.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert read_world(path, runtime).node(1).getX() == 1
    assert struct.unpack("f", struct.pack("f", 1e-50))[0] == 0.0  # why 1e-50 is refused: it would save as 0
    write_json(path, world([{"id": 1, "name": "Flat", "transform": {"scale": [1, 1e-50, 1]}}]))
    with pytest.raises(DataError) as info:
        read_world(path, runtime)
    assert info.value.path == "entities[0](Flat).transform.scale"


@pytest.mark.parametrize("kind", ["symlink loop", "path through a file", "name too long", "named pipe", "folder"])
def test_odd_world_paths_give_one_clear_error(kind: str, tmp_path: Path, runtime: Runtime) -> None:
    import os

    if kind == "symlink loop":
        path = tmp_path / "loop.world.json"
        os.symlink(path, path)
    elif kind == "path through a file":
        (tmp_path / "plain.txt").write_text("x")
        path = tmp_path / "plain.txt" / "w.world.json"
    elif kind == "name too long":
        path = tmp_path / ("w" * 300 + ".world.json")
    elif kind == "named pipe":
        path = tmp_path / "pipe.world.json"
        os.mkfifo(path)  # opening it must not block
    else:
        path = tmp_path / "folder.world.json"
        path.mkdir()
    with pytest.raises(DataError) as info:
        read_world(path, runtime)
    assert str(info.value).startswith(str(path)[:100]) and "expected" in str(info.value)


def test_an_overlong_asset_id_is_a_message_not_a_crash(tmp_path: Path, runtime: Runtime) -> None:
    path = write_json(tmp_path / "long.world.json", world([
        {"id": 1, "name": "Long", "components": {"MeshRenderer": {"model": "base:" + "m/" * 200 + "x.gltf"}}}]))
    report = check_world(path, runtime)
    assert not report.ok and "MeshRenderer.model" in report.problems[0].path
