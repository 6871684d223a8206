"""An asset importer from a sandboxed plugin, end to end: a world places a prefab written in a
file type the engine does not read, and the plugin's importer turns it into prefab data."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from engine.core.errors import StormError
from engine.data.world_file import read_world
from engine.host.runtime import create_runtime
from engine.packs.content import default_content
from engine.render.components import MeshRenderer
from plugins.session import start_plugins
from tests.conftest import write_json
from tests.plugin_helpers import PluginPack

ROWS_IMPORTER = '''
def storm_asset_importers():
    return [{"name": "rows", "extensions": [".rows"]}]

def storm_import_asset(importer, name, data):
    entities = [{"key": "row", "name": "Fence"}]
    for number, line in enumerate(data.decode("utf-8").split("\\n")):
        if not line.strip():
            continue
        if line.startswith("!"):
            raise ValueError("a broken row file")  # BROKEN
        x, colour = line.split()
        entities.append({"key": f"post{number}", "parent": "row", "transform": {"pos": [float(x), 0, 0.5]},
                         "components": {"MeshRenderer": {"color": [1, 0, 0, 1] if colour == "red" else [0, 0, 1, 1]}}})
    return {"storm_prefab": 3, "entities": entities}
'''


@pytest.fixture
def fence_world(plugin_pack: Callable[..., PluginPack], tmp_path: Path):
    pack = plugin_pack("fences", ROWS_IMPORTER)
    (pack.root / "maps").mkdir()
    (pack.root / "maps" / "fence.rows").write_text("0 red\n1.5 blue\n3 red\n", encoding="utf-8")
    content = default_content()
    content.add_pack(pack.root)
    runtime = create_runtime(content)
    host = start_plugins(runtime, watch_seconds=None)
    assert host is not None and host.status()[0]["status"] == "running" and not host.status()[0]["trusted"]
    world_file = write_json(tmp_path / "fence.world.json", {"storm_world": 3, "name": "Fence", "entities": [
        {"id": 1, "name": "Fence", "prefab": "fences:maps/fence.rows"}]})
    yield pack, runtime, world_file
    host.stop("test over")


def test_a_plugin_importer_turns_a_file_into_a_prefab(fence_world) -> None:
    _pack, runtime, world_file = fence_world
    world = read_world(world_file, runtime)
    members = world.prefab_instances[1].members
    assert sorted(members) == ["post0", "post1", "post2", "row"]
    assert [tuple(world.get(members[k], MeshRenderer).color) for k in ("post0", "post1", "post2")] == [
        (1, 0, 0, 1), (0, 0, 1, 1), (1, 0, 0, 1)]
    assert world.node(members["post1"]).getX() == pytest.approx(1.5)


def test_a_failing_importer_is_one_clear_error(fence_world) -> None:
    pack, runtime, world_file = fence_world
    (pack.root / "maps" / "fence.rows").write_text("0 red\n!\n", encoding="utf-8")
    with pytest.raises(StormError) as info:
        read_world(world_file, runtime)
    assert "fences:maps/fence.rows" in str(info.value) and "importer fences:rows failed" in str(info.value)
    assert "a broken row file" in str(info.value)
