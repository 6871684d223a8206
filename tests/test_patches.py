"""Structured patches of JSON data: each op, the whole-or-nothing rule, failures named by patch
file, op index and path, and patches of another pack's prefab seen by a world that uses it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.core.errors import DataError
from engine.data.world_file import load_world_data
from engine.host.runtime import Runtime, create_runtime
from engine.packs.content import ContentRegistry, default_content
from engine.packs.patches import PatchSkipped, apply_patch, parse_patch
from engine.render.components import MeshRenderer
from tests.pack_files import folder_pack

DOC = {"name": "lamp", "entities": [{"key": "a", "tags": ["x"]}, {"key": "b", "light": {"color": [1, 1, 1], "on": True}}]}


def patched(*ops: dict[str, Any]) -> Any:
    return apply_patch(DOC, parse_patch({"storm_patch": 1, "ops": list(ops)}, "p.json"), "p.json", "t:doc.json")


def failure(*ops: dict[str, Any]) -> DataError:
    with pytest.raises(DataError) as info:
        patched(*ops)
    return info.value


def test_add_sets_a_member_inserts_into_a_list_and_appends_with_a_dash() -> None:
    result = patched({"op": "add", "path": "/entities/0/name", "value": "first"},
                     {"op": "add", "path": "/entities/1", "value": {"key": "mid"}},
                     {"op": "add", "path": "/entities/-", "value": {"key": "end"}})
    assert [e["key"] for e in result["entities"]] == ["a", "mid", "b", "end"]
    assert result["entities"][0]["name"] == "first"
    assert DOC["entities"][0] == {"key": "a", "tags": ["x"]}  # the input is never changed


def test_replace_remove_and_merge() -> None:
    result = patched({"op": "replace", "path": "/entities/1/light/color", "value": [1, 0.4, 0.2]},
                     {"op": "remove", "path": "/entities/0/tags"},
                     {"op": "merge", "path": "/entities/1/light", "value": {"on": None, "range": 8}})
    assert result["entities"][0] == {"key": "a"}
    assert result["entities"][1]["light"] == {"color": [1, 0.4, 0.2], "range": 8}


def test_pointer_escapes_name_slashes_and_tildes() -> None:
    doc = {"a/b": {"~c": 1}}
    ops = parse_patch({"storm_patch": 1, "ops": [{"op": "replace", "path": "/a~1b/~0c", "value": 2}]}, "p.json")
    assert apply_patch(doc, ops, "p.json", "t") == {"a/b": {"~c": 2}}


def test_a_test_that_holds_lets_the_patch_apply_and_one_that_fails_skips_it_whole() -> None:
    assert patched({"op": "test", "path": "/name", "value": "lamp"},
                   {"op": "replace", "path": "/name", "value": "lantern"})["name"] == "lantern"
    with pytest.raises(PatchSkipped) as skipped:
        patched({"op": "replace", "path": "/name", "value": "lantern"}, {"op": "test", "path": "/entities/1/light/on",
                                                                         "value": 1})  # true is not 1
    assert "ops[1] (test /entities/1/light/on)" in str(skipped.value)


@pytest.mark.parametrize("op, where, expected", [
    ({"op": "replace", "path": "/entities/0/nope", "value": 1}, "ops[0] (replace /entities/0/nope)",
     "an existing member 'nope' (the object has: key, tags) in t:doc.json"),
    ({"op": "remove", "path": "/entities/5"}, "ops[0] (remove /entities/5)", "a list index 0..1"),
    ({"op": "add", "path": "/entities/07", "value": 1}, "ops[0] (add /entities/07)", "a list index 0..2 or -"),
    ({"op": "add", "path": "/name/x", "value": 1}, "ops[0] (add /name/x)", "an object or a list to hold 'x'"),
    ({"op": "merge", "path": "/name", "value": {}}, "ops[0] (merge /name)", "an object at the path to merge into"),
    ({"op": "replace", "path": "/missing/deeper", "value": 1}, "ops[0] (replace /missing/deeper)",
     "an existing member 'missing' at the top"),
])
def test_an_op_that_cannot_apply_names_the_patch_file_the_op_and_its_path(op: dict, where: str, expected: str) -> None:
    error = failure(op)
    assert (error.source, error.path) == ("p.json", where)
    assert expected in error.expected


@pytest.mark.parametrize("data, path, expected", [
    ([], "", "a patch object"),
    ({"storm_patch": 1, "ops": [{"op": "move", "path": "/a", "from": "/b"}]}, "ops[0].op", "one of the ops"),
    ({"storm_patch": 1, "ops": [{"op": "add", "path": "a", "value": 1}]}, "ops[0].path", "starts with '/'"),
    ({"storm_patch": 1, "ops": [{"op": "add", "path": "/a~2", "value": 1}]}, "ops[0].path", "'~' is followed by 0"),
    ({"storm_patch": 1, "ops": [{"op": "remove", "path": "/a", "value": 1}]}, "ops[0]", "the keys op, path"),
    ({"storm_patch": 1, "ops": [{"op": "remove", "path": ""}]}, "ops[0].path", "cannot remove the whole file"),
    ({"storm_patch": 1, "ops": [{"op": "merge", "path": "/a", "value": 3}]}, "ops[0].value", "an object to merge"),
])
def test_a_malformed_patch_file_is_named_key_by_key(data: Any, path: str, expected: str) -> None:
    with pytest.raises(DataError) as info:
        parse_patch(data, "p.json")
    assert info.value.path == path and expected in info.value.expected


LAMP = "base:prefabs/pillar_lamp.prefab.json"


def lamp_patch(ops: list[dict[str, Any]]) -> dict[str, Any]:
    return {"storm_patch": 1, "ops": ops}


def mod(tmp_path: Path, pack_id: str, ops: list[dict[str, Any]]) -> Path:
    extra = f'[[patches]]\ntarget = "{LAMP}"\nfile = "patches/lamp.patch.json"\n'
    return folder_pack(tmp_path / pack_id, pack_id, {"patches/lamp.patch.json": lamp_patch(ops)}, extra=extra)


def globe_color(content: ContentRegistry, runtime: Runtime | None = None) -> tuple[float, ...]:
    """The colour a world shows on the lamp's globe."""
    data = {"storm_world": 2, "entities": [{"id": 1, "name": "lamp", "prefab": LAMP}]}
    world = load_world_data(data, "w.world.json", runtime or create_runtime(content))
    globe = next(eid for eid in world.entities() if world.name_of(eid) == "Globe")
    color = tuple(world.get(globe, MeshRenderer).color)
    world.close()
    return color


def color_path(content: ContentRegistry) -> str:
    entities = content.read_json(LAMP, patched=False)["entities"]
    index = next(i for i, e in enumerate(entities) if e.get("key") == "globe")
    return f"/entities/{index}/components/MeshRenderer/color"


def test_patches_apply_in_load_order_and_a_world_shows_the_result(tmp_path: Path) -> None:
    content = default_content()
    path = color_path(content)
    content.add_pack(mod(tmp_path, "warm", [{"op": "replace", "path": path, "value": [1.0, 0.5, 0.2, 1.0]}]))
    content.add_pack(mod(tmp_path, "red", [{"op": "replace", "path": path, "value": [1.0, 0.0, 0.0, 1.0]}]))
    assert tuple(globe_color(content)) == pytest.approx((1.0, 0.0, 0.0, 1.0))  # the later pack wins
    changes = content.why(LAMP).changes
    assert [(c.kind, c.pack, c.status) for c in changes] == [("patch", "warm", "applied"), ("patch", "red", "applied")]
    assert content.read_json(LAMP, patched=False) == json.loads(Path(content.display(LAMP)).read_text())


def test_a_patch_whose_test_fails_is_skipped_and_said_so(tmp_path: Path) -> None:
    content = default_content()
    before = tuple(globe_color(content))
    content.add_pack(mod(tmp_path, "picky", [{"op": "test", "path": "/storm_prefab", "value": 99},
                                             {"op": "replace", "path": color_path(content), "value": [0, 1, 0, 1]}]))
    assert tuple(globe_color(content)) == before
    (change,) = content.why(LAMP).changes
    assert change.status.startswith("skipped: ops[0] (test /storm_prefab)")


def test_a_broken_patch_fails_the_load_naming_file_op_and_path(tmp_path: Path) -> None:
    content = default_content()
    content.add_pack(mod(tmp_path, "broken", [{"op": "replace", "path": "/entities/1/components/Nope/x", "value": 1}]))
    with pytest.raises(DataError) as info:
        globe_color(content)
    assert info.value.source == str(tmp_path / "broken" / "patches" / "lamp.patch.json")
    assert info.value.path == "ops[0] (replace /entities/1/components/Nope/x)"
    assert "an existing member 'Nope' at /entities/1/components" in info.value.expected and LAMP in info.value.expected
    assert content.why(LAMP).changes[0].status.startswith("failed: ")


def test_a_changed_patch_file_is_seen_by_the_next_load(tmp_path: Path) -> None:
    content = default_content()
    path = color_path(content)
    root = mod(tmp_path, "live", [{"op": "replace", "path": path, "value": [1.0, 0.0, 0.0, 1.0]}])
    content.add_pack(root)
    runtime = create_runtime(content)  # one runtime: its prefab library caches the patched prefab
    assert tuple(globe_color(content, runtime)) == pytest.approx((1.0, 0.0, 0.0, 1.0))
    patch_file = root / "patches" / "lamp.patch.json"
    patch_file.write_text(json.dumps(lamp_patch([{"op": "replace", "path": path, "value": [0.0, 0.0, 1.0, 1.0]}])) + " ")
    assert tuple(globe_color(content, runtime)) == pytest.approx((0.0, 0.0, 1.0, 1.0))


def test_a_declared_patch_file_that_is_missing_refuses_the_pack(tmp_path: Path) -> None:
    extra = f'[[patches]]\ntarget = "{LAMP}"\nfile = "patches/gone.json"\n'
    root = folder_pack(tmp_path / "mod", "mod", {}, extra=extra)
    with pytest.raises(DataError) as info:
        default_content().add_pack(root)
    assert info.value.path == "patches[0].file" and info.value.got == "patches/gone.json"
