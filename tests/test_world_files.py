"""World files as a user meets them: round trips that keep every byte, diffs that show only what
changed, saves that cannot leave half a file, assets loaded once or shown as a placeholder, and
data that never runs code."""
from __future__ import annotations

import difflib
import json
import logging
import os
import re
from pathlib import Path
from typing import Callable

import pytest

from engine.core.errors import DataError
from engine.data.world_file import load_world_data, read_world, save_world, validate_world, world_to_data
from engine.host.runtime import Runtime, create_runtime
from engine.host.starter_world import starter_world
from engine.packs.content import default_content
from engine.render.components import MeshRenderer
from tests.conftest import DEMO_WORLD, REPO_ROOT, TmpPack, write_json
from tools.assets.gltf_box import write_box

CRATE = "base:models/crate.gltf"


def saved_text(world, path: Path) -> str:  # type: ignore[no-untyped-def]
    save_world(world, path)
    return path.read_text(encoding="utf-8")


# -- round trips ---------------------------------------------------------------------------------

def test_demo_world_load_save_is_byte_identical(runtime: Runtime, tmp_path: Path) -> None:
    world = read_world(DEMO_WORLD, runtime)
    out = tmp_path / "demo.world.json"
    save_world(world, out)
    assert out.read_bytes() == DEMO_WORLD.read_bytes()


def test_demo_world_survives_ticks_and_saves_the_same_structure(runtime: Runtime, tmp_path: Path) -> None:
    world = read_world(DEMO_WORLD, runtime)
    for _ in range(5):
        world.tick()
    data = world_to_data(world)
    assert [block["id"] for block in data["entities"]] == [block["id"] for block in json.loads(DEMO_WORLD.read_text())["entities"]]
    assert [block["name"] for block in data["entities"]][:3] == ["Camera", "Sun", "Sky light"]


def test_world_built_in_code_saves_loads_and_saves_identically(runtime: Runtime, tmp_path: Path) -> None:
    world = starter_world(runtime, "Built in code")
    crate = world.create_entity("Crate", parent=world.find("Box"))
    world.node(crate).setPosHpr(0.1, -2.25, 0.3, 12.5, 0, 0)
    world.add(crate, MeshRenderer(model=CRATE, color=(0.2, 0.4, 0.6, 1.0)))
    first = saved_text(world, tmp_path / "first.world.json")
    loaded = read_world(tmp_path / "first.world.json", runtime)
    second = saved_text(loaded, tmp_path / "second.world.json")
    assert second == first
    assert '"pos": [0.1, -2.25, 0.3]' in first
    assert '"parent": ' in first


def test_key_order_is_canonical_whatever_order_the_file_used(runtime: Runtime, tmp_path: Path) -> None:
    messy = {
        "entities": [{"components": {"Light": {"intensity": 2, "kind": "point", "color": [1, 0, 0, 1]}},
                      "transform": {"scale": [2, 2, 2], "pos": [1, 2, 3]}, "name": "Lamp", "id": 4}],
        "settings": {"description": "messy", "seed": 3},
        "name": "Messy",
        "storm_world": 2,
    }
    world = read_world(write_json(tmp_path / "messy.world.json", messy), runtime)
    data = world_to_data(world)
    assert list(data) == ["storm_world", "name", "settings", "entities"]
    assert list(data["settings"]) == ["seed", "description"]
    block = data["entities"][0]
    assert list(block) == ["id", "name", "transform", "components"]
    assert list(block["transform"]) == ["pos", "scale"]
    assert list(block["components"]["Light"]) == ["kind", "color", "intensity"]
    text = saved_text(world, tmp_path / "clean.world.json")
    assert saved_text(read_world(tmp_path / "clean.world.json", runtime), tmp_path / "again.world.json") == text


def test_one_field_changed_in_code_is_a_one_line_diff(runtime: Runtime, tmp_path: Path) -> None:
    world = read_world(DEMO_WORLD, runtime)
    box = world.find("Red box")
    world.set_field(box, world.get(box, MeshRenderer), "color", (1.0, 0.5, 0.0, 1.0))
    before = DEMO_WORLD.read_text(encoding="utf-8").splitlines()
    after = saved_text(world, tmp_path / "demo.world.json").splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ['-          "color": [0.9, 0.1, 0.1, 1]', '+          "color": [1, 0.5, 0, 1]']


def test_ids_are_stable_when_an_entity_is_removed(runtime: Runtime, tmp_path: Path) -> None:
    world = read_world(DEMO_WORLD, runtime)
    world.destroy(world.find("Sky light"))
    world.flush_destroyed()
    data = world_to_data(world)
    file_ids = [block["id"] for block in json.loads(DEMO_WORLD.read_text())["entities"]]
    assert [block["id"] for block in data["entities"]] == [i for i in file_ids if i != 3]
    new = world.create_entity("New")
    assert new > max(world.entities()[:-1])  # a new entity never takes an id in use or saved


# -- atomic saves --------------------------------------------------------------------------------

def test_save_leaves_no_temporary_file(runtime: Runtime, tmp_path: Path) -> None:
    world = read_world(DEMO_WORLD, runtime)
    save_world(world, tmp_path / "a.world.json")
    save_world(world, tmp_path / "a.world.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.world.json"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_interrupted_save_keeps_the_old_file(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             failing: str) -> None:
    target = tmp_path / "demo.world.json"
    target.write_bytes(DEMO_WORLD.read_bytes())
    world = read_world(target, runtime)
    world.destroy(world.find("Crate"))
    world.flush_destroyed()

    def power_cut(*_args: object) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(os, failing, power_cut)
    with pytest.raises(OSError, match="disk went away"):
        save_world(world, target)
    monkeypatch.undo()
    assert target.read_bytes() == DEMO_WORLD.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.world.json"]


def test_save_syncs_the_new_file_before_it_replaces_the_old(runtime: Runtime, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append(f"replace {Path(src).parent == Path(dst).parent}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save_world(read_world(DEMO_WORLD, runtime), tmp_path / "demo.world.json")
    assert calls[:2] == ["fsync", "replace True"]  # same folder: the rename is atomic


def test_save_creates_missing_folders(runtime: Runtime, tmp_path: Path) -> None:
    world = starter_world(runtime, "Nested")
    target = tmp_path / "a" / "b" / "nested.world.json"
    save_world(world, target)
    assert read_world(target, runtime).name == "Nested"


# -- assets --------------------------------------------------------------------------------------

def test_model_used_by_a_thousand_entities_is_loaded_once(runtime: Runtime) -> None:
    data = {"storm_world": 2, "name": "Crates", "entities": [
        {"id": i, "name": f"Crate {i}", "transform": {"pos": [i % 40, i // 40, 0]},
         "components": {"MeshRenderer": {"model": CRATE}}} for i in range(1, 1001)]}
    world = load_world_data(data, "crates", runtime)
    assert runtime.assets.load_count[CRATE] == 1
    meshes = world.root.findAllMatches("**/mesh")
    assert meshes.getNumPaths() == 1000
    assert not runtime.assets.failed(CRATE)


def test_missing_model_is_a_magenta_placeholder_and_a_logged_error(runtime: Runtime, tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    data = {"storm_world": 2, "name": "Gap", "entities": [
        {"id": 3, "name": "Lost crate", "components": {"MeshRenderer": {"model": "base:models/lost.gltf"}}}]}
    path = write_json(tmp_path / "gap.world.json", data)
    with caplog.at_level(logging.ERROR, logger="storm.assets"):
        world = read_world(path, runtime)
        world.tick()
    mesh = world.node(3).find("mesh")
    assert not mesh.isEmpty()
    assert mesh.hasColor() and tuple(mesh.getColor()) == pytest.approx((1.0, 0.0, 1.0, 1.0))
    assert mesh.getTightBounds() is not None
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "base:models/lost.gltf" in errors[0] and "entity 3 (Lost crate)" in errors[0]
    with pytest.raises(DataError) as info:
        validate_world(path, runtime)
    assert info.value.path == "entities[0](Lost crate).components.MeshRenderer.model"


def test_gltf_written_by_the_box_tool_loads_with_its_bounds(tmp_pack: TmpPack, pack_runtime: Runtime) -> None:
    write_box(tmp_pack.root / "models" / "big.gltf", color=(0.1, 0.2, 0.3), size=3.0)
    node = pack_runtime.assets.model(tmp_pack.asset_id("models/big.gltf"), "test")
    low, high = node.getTightBounds()
    assert tuple(low) == pytest.approx((-1.5, -1.5, -1.5), abs=1e-5)
    assert tuple(high) == pytest.approx((1.5, 1.5, 1.5), abs=1e-5)
    assert pack_runtime.assets.load_count[tmp_pack.asset_id("models/big.gltf")] == 1
    assert not pack_runtime.assets.failed(tmp_pack.asset_id("models/big.gltf"))


def test_demo_world_validates(runtime: Runtime) -> None:
    world = validate_world(DEMO_WORLD, runtime)
    blocks = json.loads(DEMO_WORLD.read_text())["entities"]
    lamps = sum(1 for block in blocks if "prefab" in block)
    assert len(world.entities()) == len(blocks) + 2 * lamps  # each lamp prefab adds two member entities
    assert runtime.assets.errors == []


# -- data never runs code ------------------------------------------------------------------------

def _marker_command(marker: Path) -> str:
    return f"__import__('os').system('touch {marker}')"


def test_strings_that_look_like_python_stay_strings(runtime: Runtime, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = _marker_command(marker)
    data = {"storm_world": 2, "name": code, "settings": {"description": code},
            "entities": [{"id": 1, "name": code, "components": {"Camera": {}}}]}
    path = write_json(tmp_path / "sneaky.world.json", data)
    world = read_world(path, runtime)
    world.tick()
    assert world.name == code and world.name_of(1) == code
    saved = saved_text(world, tmp_path / "out.world.json")
    assert json.loads(saved)["settings"]["description"] == code
    assert not marker.exists()


@pytest.mark.parametrize("place", ["component", "asset", "prefab", "enum"])
def test_code_in_a_typed_slot_is_an_error_and_never_runs(runtime: Runtime, tmp_path: Path, place: str) -> None:
    marker = tmp_path / "pwned"
    code = _marker_command(marker)
    entity: dict = {"id": 1, "name": "Victim"}
    if place == "component":
        entity["components"] = {code: {}}
    elif place == "asset":
        entity["components"] = {"MeshRenderer": {"model": code}}
    elif place == "prefab":
        entity["prefab"] = code
    else:
        entity["components"] = {"Light": {"kind": code}}
    path = write_json(tmp_path / "sneaky.world.json", {"storm_world": 2, "name": "x", "entities": [entity]})
    with pytest.raises(DataError) as info:
        read_world(path, runtime)
    assert info.value.source == str(path)
    assert info.value.path.startswith("entities[0](Victim)")
    assert not marker.exists()


def test_script_in_a_pack_without_code_is_never_imported(make_pack: Callable[..., TmpPack], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    pack = make_pack("datamod", code=False)
    pack.write("scripts/evil.py", f"open({str(marker)!r}, 'w').close()\n"
                                  "from engine.scripting.behaviour import Behaviour\nclass Evil(Behaviour):\n    pass\n")
    content = default_content()
    with pytest.raises(DataError) as refused:  # the pack itself is refused: it ships code as data
        content.add_pack(pack.root)
    assert refused.value.path == "scripts/evil.py" and "no code files in a content-only pack" in str(refused.value)
    clean = make_pack("cleanmod", code=False)
    content.add_pack(clean.root)
    clean.write("scripts/evil.py", (pack.root / "scripts" / "evil.py").read_text())  # written after mounting
    path = write_json(tmp_path / "w.world.json", {"storm_world": 2, "name": "x", "entities": [
        {"id": 1, "name": "Host", "components": {"cleanmod:evil.Evil": {}}}]})
    with pytest.raises(DataError) as info:
        read_world(path, create_runtime(content))
    assert 'kind = "content"' in info.value.expected
    assert not marker.exists()


LOADER_MODULES = sorted(str(p.relative_to(REPO_ROOT)) for folder in ("core", "data", "packs")
                        for p in (REPO_ROOT / "engine" / folder).glob("*.py"))


@pytest.mark.parametrize("module", LOADER_MODULES)
def test_loaders_have_no_eval_exec_or_pickle(module: str) -> None:
    source = (REPO_ROOT / module).read_text(encoding="utf-8")
    # Modules may name pickles (to refuse them); none may import or call pickle, marshal or shelve.
    assert not re.search(r"(?<![.\w])(eval|exec|compile|__import__)\s*\(|\b(import|from)\s+(pickle|marshal|shelve|dill)\b"
                         r"|\b(pickle|marshal|shelve|dill|_pickle)\s*\.\s*\w|__reduce__|Unpickler", source)
