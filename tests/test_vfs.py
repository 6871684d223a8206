"""One file system over the packs: overrides declared and not, provenance, a model's files kept in
its pack, every kind of asset loaded from a zipped pack, and ``storm pack build`` / ``pack why``."""
from __future__ import annotations

import io
import json
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest

import main
from engine.core.errors import DataError
from engine.data.world_file import load_world_data
from engine.host.runtime import create_runtime
from engine.input.action_state import open_actions
from engine.packs.assets import AssetCache
from engine.packs.content import ContentRegistry, default_content
from engine.packs.pack_build import build_pack, why_lines
from engine.packs.sound_files import probe_sound
from engine.packs.sources import Budgets, PackRefused
from engine.scripting.script_loader import ScriptLoader
from engine.terrain.heightmap import HeightmapError, read_heightmap
from tests.pack_files import box_with_files, folder_pack, png
from tools.assets.gltf_box import box_gltf

CRATE = "base:models/crate.gltf"


def size_of(node) -> float:  # type: ignore[no-untyped-def]
    low, high = node.getTightBounds()
    return round(float(high[0] - low[0]), 3)


def override_pack(root: Path, pack_id: str, size: float, declare: bool = True, target: str = CRATE) -> Path:
    extra = f'[overrides]\n"{target}" = "a bigger crate"\n' if declare else ""
    return folder_pack(root / pack_id, pack_id, {"overrides/" + target.replace(":", "/", 1): box_gltf(size=size)},
                       extra=extra)


def test_a_declared_override_replaces_the_asset_without_a_warning(tmp_path: Path) -> None:
    content = default_content()
    content.add_pack(override_pack(tmp_path, "bigcrates", 3.0))
    assert size_of(AssetCache(content).model(CRATE)) == 3.0
    assert content.warnings == []
    (change,) = content.why(CRATE).changes
    assert (change.kind, change.pack, change.declared, change.reason) == ("override", "bigcrates", True, "a bigger crate")


def test_an_undeclared_override_applies_with_a_warning_naming_both_packs(tmp_path: Path) -> None:
    content = default_content()
    content.add_pack(override_pack(tmp_path, "sneaky", 2.0, declare=False))
    assert size_of(AssetCache(content).model(CRATE)) == 2.0
    (warning,) = content.warnings
    assert "pack 'sneaky' overrides base:models/crate.gltf, a file of pack 'base', without declaring it" in warning
    assert str(tmp_path / "sneaky" / "pack.toml") in warning
    assert content.why(CRATE).changes[0].declared is False


def test_overrides_aimed_at_nothing_are_reported(tmp_path: Path) -> None:
    content = default_content()
    declared_only = folder_pack(tmp_path / "promise", "promise", {}, extra=f'[overrides]\n"{CRATE}" = "soon"\n')
    content.add_pack(declared_only)
    content.add_pack(override_pack(tmp_path, "ghost", 1.0, target="base:models/none.gltf"))
    assert "pack 'promise' declares an override of base:models/crate.gltf but ships no file" in content.warnings[0]
    assert ("pack 'ghost' changes base:models/none.gltf, but pack 'base' has no such file; the change is ignored"
            in content.warnings)
    assert not content.has("base:models/none.gltf")


def test_the_last_override_wins_and_why_lists_every_change_in_order(tmp_path: Path) -> None:
    content = default_content()
    content.add_pack(override_pack(tmp_path, "first", 2.0))
    content.add_pack(override_pack(tmp_path, "second", 4.0, declare=False))
    assert size_of(AssetCache(content).model(CRATE)) == 4.0
    record = content.why(CRATE)
    assert [c.pack for c in record.changes] == ["first", "second"] and record.provider == "second"
    lines = why_lines(content, CRATE)
    assert lines[0] == CRATE and lines[1].endswith("content/base/models/crate.gltf")
    assert lines[2].startswith("  1. replaced by pack 'first'") and "replaced again below" in lines[2]
    assert "NOT declared" in lines[3] and "this file is read" in lines[3]


def test_a_model_reads_its_buffer_and_texture_from_the_same_pack(tmp_path: Path) -> None:
    gltf, blob = box_with_files(size=2.0, texture="../textures/wood.png")
    root = folder_pack(tmp_path / "mod", "mod", {"models/box.gltf": gltf, "models/box.bin": blob,
                                                   "textures/wood.png": png(4, 2)})
    content = ContentRegistry()
    content.add_pack(root)
    model = AssetCache(content).model("mod:models/box.gltf")
    assert size_of(model) == 2.0
    (texture,) = model.findAllTextures()
    assert (texture.getXSize(), texture.getYSize()) == (4, 2)


@pytest.mark.parametrize("uri, expected", [
    ("../../../../../etc/passwd", "without '..'"),
    ("%2e%2e/%2e%2e/%2e%2e/secret.bin", "without '..'"),
    ("/etc/passwd", "a relative path inside pack 'mod'"),
    ("file:///etc/passwd", "not a URL or a drive"),
    ("C:/secret.bin", "not a URL or a drive"),
    ("../../terrain/demo_height.png", "which pack 'mod' does not have (a model's files must be in the same pack)"),
])
def test_a_model_cannot_name_a_file_outside_its_pack(tmp_path: Path, uri: str, expected: str) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 4096)
    gltf, blob = box_with_files(buffer_uri=uri)
    root = folder_pack(tmp_path / "packs" / "mod", "mod", {"models/sub/box.gltf": gltf})
    content = default_content()
    content.add_pack(root)
    cache = AssetCache(content)
    model = cache.model("mod:models/sub/box.gltf", owner="entity 7")
    assert model.getName() == "missing:mod:models/sub/box.gltf"  # a visible placeholder, never the outside file
    (error,) = cache.errors
    assert "buffers[0].uri" in error and expected in error and str(root / "models" / "sub" / "box.gltf") in error


def test_an_override_model_finds_its_buffer_in_the_overriding_pack(tmp_path: Path) -> None:
    gltf, blob = box_with_files(size=5.0, buffer_uri="crate.bin")
    root = folder_pack(tmp_path / "mod", "mod", {"overrides/base/models/crate.gltf": gltf,
                                                   "overrides/base/models/crate.bin": blob},
                       extra=f'[overrides]\n"{CRATE}" = "a model with its own buffer"\n')
    content = default_content()
    content.add_pack(root)
    assert size_of(AssetCache(content).model(CRATE)) == 5.0


def test_a_buffer_shorter_than_it_says_is_refused_before_panda3d_reads_it(tmp_path: Path) -> None:
    gltf, blob = box_with_files()
    root = folder_pack(tmp_path / "mod", "mod", {"models/box.gltf": gltf, "models/box.bin": blob[:100]})
    content = ContentRegistry()
    content.add_pack(root)
    cache = AssetCache(content)
    cache.model("mod:models/box.gltf")
    assert f"buffers[0] holds 100 bytes, fewer than its byteLength {len(blob)}" in cache.errors[0]


def wav_bytes(seconds: float = 0.25, rate: int = 22050) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((np.sin(np.arange(int(rate * seconds)) * 0.1) * 8000).astype("<i2").tobytes())
    return out.getvalue()


SCRIPT = '''from engine.api import Behaviour

class Spinner(Behaviour):
    def on_update(self, dt):
        self.node.setH(self.node.getH() + 90.0)
'''


@pytest.fixture
def zipped_mod(tmp_path: Path) -> Path:
    """A pack with one of each kind of asset, built into a zip by ``pack build``."""
    gltf, blob = box_with_files(size=2.5, texture="wood.png")
    heights = np.tile(np.linspace(0, 255, 16, dtype=np.uint8), (8, 1))
    from PIL import Image

    height_png = io.BytesIO()
    Image.fromarray(heights).save(height_png, format="PNG")
    prefab = {"storm_prefab": 2, "entities": [
        {"key": "root", "name": "Thing", "components": {"MeshRenderer": {"model": "zmod:models/box.gltf"},
                                                        "zmod:spin.Spinner": {}}}]}
    actions = {"storm_actions": 1, "actions": {"wave": {"kind": "button", "bindings": ["h"]}}}
    root = folder_pack(tmp_path / "zmod", "zmod", {
        "models/box.gltf": gltf, "models/box.bin": blob, "models/wood.png": png(8, 4),
        "sounds/tone.wav": wav_bytes(), "terrain/slope.png": height_png.getvalue(),
        "prefabs/thing.prefab.json": prefab, "input/zmod.actions.json": actions, "scripts/spin.py": SCRIPT,
    }, kind="both")
    return build_pack(root, tmp_path / "dist" / "zmod.zip").path


def zip_content(path: Path, budgets: Budgets | None = None) -> ContentRegistry:
    content = default_content() if budgets is None else ContentRegistry(budgets)
    content.add_pack(path).trusted = True  # its behaviour script runs in the engine
    return content


def test_a_model_with_its_texture_loads_from_a_zip(zipped_mod: Path) -> None:
    model = AssetCache(zip_content(zipped_mod)).model("zmod:models/box.gltf")
    assert size_of(model) == 2.5
    assert [t.getXSize() for t in model.findAllTextures()] == [8]


def test_a_sound_loads_from_a_zip(zipped_mod: Path) -> None:
    info = probe_sound(zip_content(zipped_mod), "zmod:sounds/tone.wav")
    assert (info.rate, info.channels) == (22050, 1) and info.duration == pytest.approx(0.25, abs=0.01)
    assert str(info.path) == f"{zipped_mod}/sounds/tone.wav"


def test_a_heightmap_loads_from_a_zip_and_the_pixel_budget_is_checked_first(zipped_mod: Path) -> None:
    heights = read_heightmap(zip_content(zipped_mod), "zmod:terrain/slope.png").heights
    assert heights.shape == (8, 16) and heights[0, 0] == 0.0 and heights[0, -1] == 1.0
    with pytest.raises(HeightmapError) as info:
        read_heightmap(zip_content(zipped_mod, Budgets(pixels=100)), "zmod:terrain/slope.png")
    assert "slope.png is 16x8 pixels, more than the 100-pixel budget (the 'pixels' budget; raise it with --budget pixels=N)" in str(info.value)


def test_a_prefab_with_a_script_loads_from_a_zip_and_runs(zipped_mod: Path) -> None:
    content = zip_content(zipped_mod)
    data = {"storm_world": 2, "entities": [{"id": 1, "name": "thing", "prefab": "zmod:prefabs/thing.prefab.json"}]}
    world = load_world_data(data, "w.world.json", create_runtime(content))
    world.tick()
    world.tick()
    assert world.node(1).getH() == pytest.approx(180.0)
    assert size_of(world.node(1)) == 2.5
    spinner = ScriptLoader(content).resolve("zmod:spin.Spinner")
    assert spinner is not None and spinner.__module__ == "storm_scripts.zmod.spin"
    import sys

    assert sys.modules["storm_scripts.zmod.spin"].__file__ == f"{zipped_mod}/scripts/spin.py"
    world.close()


def test_an_action_map_loads_from_a_zip(zipped_mod: Path) -> None:
    actions = open_actions(zip_content(zipped_mod), "zmod:input/zmod.actions.json", per_user=False)
    assert list(actions.map.actions) == ["wave"]


def test_pack_build_is_deterministic_and_sorted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = folder_pack(tmp_path / "mod", "mod", {"b/z.json": {"z": 1}, "a.json": {"a": 1}, ".git/HEAD": "ref"})
    assert main.main(["pack", "build", str(root), "--out", str(tmp_path / "one.zip")]) == 0
    assert "built " in capsys.readouterr().out
    (root / "a.json").touch()  # a newer mtime must not change the zip
    main.main(["pack", "build", str(root), "--out", str(tmp_path / "two.zip")])
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["a.json", "b/z.json", "pack.toml"]  # sorted; no hidden files
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert main.main(["pack", "build", str(root)]) == 0
    assert (tmp_path / "mod-1.0.0.zip").is_file()


def test_pack_build_refuses_what_loading_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = folder_pack(tmp_path / "mod", "mod", {"scripts/hack.py": "import os\n"})
    assert main.main(["pack", "build", str(root), "--out", str(tmp_path / "mod.zip")]) == 2
    assert "scripts/hack.py: expected no code files in a content-only pack" in capsys.readouterr().err
    assert not (tmp_path / "mod.zip").exists()
    with pytest.raises(PackRefused):
        build_pack(folder_pack(tmp_path / "pick", "pick", {"data/x.json": b"\x80\x04\x95" + bytes(8) + b"."}),
                   tmp_path / "pick.zip")


def test_pack_why_tells_where_a_prefab_comes_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lamp = "base:prefabs/pillar_lamp.prefab.json"
    extra = f'[[patches]]\ntarget = "{lamp}"\nfile = "patches/lamp.json"\n'
    ops = {"storm_patch": 1, "ops": [{"op": "replace", "path": "/entities/0/name", "value": "Mossy lamp"}]}
    patcher = folder_pack(tmp_path / "moss", "moss", {"patches/lamp.json": ops}, extra=extra)
    assert main.main(["pack", "why", lamp, "--pack", str(patcher)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == lamp and out[1].startswith("  provided by pack 'base': ")
    assert out[2] == f"  1. patched by pack 'moss': {patcher / 'patches' / 'lamp.json'} (applied)"
    assert main.main(["pack", "why", "base:prefabs/nothing.json"]) == 1
    assert "not provided by any enabled pack (pack 'base' has no such file)" in capsys.readouterr().out


def test_a_file_added_to_a_folder_pack_later_is_found_and_checked(tmp_path: Path) -> None:
    root = folder_pack(tmp_path / "mod", "mod", {})
    content = ContentRegistry()
    content.add_pack(root)
    (root / "prefabs").mkdir()
    (root / "prefabs" / "new.json").write_text("[1]")
    assert content.read_json("mod:prefabs/new.json") == [1]
    (root / "prefabs" / "link.json").symlink_to(root / "prefabs" / "new.json")
    assert not content.has("mod:prefabs/link.json")
    with pytest.raises(DataError):
        content.read("mod:prefabs/link.json")
    (root / "prefabs" / "new.json").unlink()
    assert not content.has("mod:prefabs/new.json") and content.resolve("mod:prefabs/new.json") is None


def test_edits_are_saved_only_into_folder_packs(zipped_mod: Path) -> None:
    content = zip_content(zipped_mod)
    with pytest.raises(DataError) as info:
        content.writable_path("zmod:prefabs/thing.prefab.json")
    assert "is a zip; edit its folder and build it again" in info.value.expected
    assert json.loads(content.read("zmod:prefabs/thing.prefab.json"))["storm_prefab"] == 2


def test_another_packs_script_cannot_be_overridden(tmp_path: Path) -> None:
    root = folder_pack(tmp_path / "mod", "mod", {"overrides/base/scripts/door.py": "X = 1\n"}, kind="both",
                       extra='[overrides]\n"base:scripts/door.py" = "a better door"\n')
    content = default_content()
    content.add_pack(root)
    assert "scripts are never overridden" in content.warnings[0]
    assert content.why("base:scripts/door.py").changes == ()
    assert b"X = 1" not in content.read("base:scripts/door.py")
