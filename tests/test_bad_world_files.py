"""Bad world and prefab files: each gives exactly one DataError that names the file, the path
inside it and what was expected, and no other kind of exception ever escapes the loader."""
from __future__ import annotations

import copy
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from engine.core.errors import DataError
from engine.data.world_file import read_world, validate_world
from engine.host.runtime import Runtime, create_runtime
from engine.packs.content import default_content
from engine.packs.json_text import parse_json
from tests.conftest import DEMO_WORLD, REPO_ROOT, TmpPack, write_json

LAMP = "base:prefabs/pillar_lamp.prefab.json"


def small_world() -> dict[str, Any]:
    """Camera, ground, crate (entities[2]) and a lamp prefab instance (entities[3])."""
    return {
        "storm_world": 2,
        "name": "Small",
        "entities": [
            {"id": 1, "name": "Camera", "transform": {"pos": [0, -10, 3]}, "components": {"Camera": {}}},
            {"id": 2, "name": "Ground", "components": {"MeshRenderer": {"model": "primitive:plane"}}},
            {"id": 3, "name": "Crate", "parent": 2,
             "components": {"MeshRenderer": {"model": "base:models/crate.gltf", "color": [1, 1, 1, 1]},
                            "Light": {"kind": "point"}}},
            {"id": 4, "name": "Lamp", "prefab": LAMP},
        ],
    }


@dataclass
class Case:
    """One kind of bad file: how to break the small world, and what the error must say."""

    kind: str
    breaks: Callable[[dict[str, Any], TmpPack], Any]  # mutates the data, or returns replacement text/data
    path: str  # exact path inside the file
    expected: str  # a phrase of what was expected
    strict: bool = False  # validate (missing assets are errors) instead of plain load
    in_prefab: str = ""  # the error is in this prefab file of the test pack, not the world file


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any], TmpPack], None]:
    def apply(data: dict[str, Any], _pack: TmpPack) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return apply


def _text(text: str) -> Callable[[dict[str, Any], TmpPack], str]:
    return lambda _data, _pack: text


def _cyclic_prefabs(data: dict[str, Any], pack: TmpPack) -> None:
    pack.write("prefabs/a.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "root"}, {"key": "b", "parent": "root", "prefab": pack.asset_id("prefabs/b.prefab.json")}]})
    pack.write("prefabs/b.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "root"}, {"key": "a", "parent": "root", "prefab": pack.asset_id("prefabs/a.prefab.json")}]})
    data["entities"][3]["prefab"] = pack.asset_id("prefabs/a.prefab.json")


def _broken_prefab_file(data: dict[str, Any], pack: TmpPack) -> None:
    pack.write("prefabs/broken.prefab.json", '{"storm_prefab": 2, "entities": [\n  {"key": "root",}\n]}\n')
    data["entities"][3]["prefab"] = pack.asset_id("prefabs/broken.prefab.json")


def _bad_override_inside_prefab(data: dict[str, Any], pack: TmpPack) -> None:
    pack.write("prefabs/outer.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "root"}, {"key": "lamp", "parent": "root", "prefab": LAMP,
                          "overrides": {"globe": {"MeshRenderer": {"color": [1, 1, 1]}}}}]})
    data["entities"][3]["prefab"] = pack.asset_id("prefabs/outer.prefab.json")


def _bad_member_parent(data: dict[str, Any], pack: TmpPack) -> None:
    pack.write("prefabs/odd.prefab.json", {"storm_prefab": 2, "entities": [
        {"key": "root"}, {"key": "leaf", "parent": ["root"]}]})
    data["entities"][3]["prefab"] = pack.asset_id("prefabs/odd.prefab.json")


def _script_from_data_pack(data: dict[str, Any], pack: TmpPack) -> None:
    pack.write("scripts/doors.py", "from engine.scripting.behaviour import Behaviour\nclass Door(Behaviour):\n    pass\n")
    data["entities"][2]["components"]["testpack:doors.Door"] = {}


def _duplicate_id(data: dict[str, Any], _pack: TmpPack) -> None:
    data["entities"][2]["id"] = 1


def _parent_cycle(data: dict[str, Any], _pack: TmpPack) -> None:
    data["entities"][1]["parent"] = 3


CRATE = "entities[2](Crate)"
CASES = [
    Case("json syntax", _text('{\n  "storm_world": 2,\n  "name": "x",,\n}\n'), "line 3 column 15", "valid JSON"),
    Case("top level not an object", _text("[1, 2, 3]\n"), "", 'a JSON object with "storm_world"'),
    Case("missing schema version", lambda d, p: {k: v for k, v in d.items() if k != "storm_world"},
         "storm_world", "a schema version number"),
    Case("future schema version", _set(("storm_world",), 99), "storm_world", "update Storm"),
    Case("wrong field type", _set(("entities", 2, "components", "Light", "intensity"), "bright"),
         f"{CRATE}.components.Light.intensity", "a number in [0.0, 100.0]"),
    Case("unknown component", _set(("entities", 2, "components", "Rigidbody"), {}),
         f"{CRATE}.components.Rigidbody", "a known component type"),
    Case("unknown field", _set(("entities", 2, "components", "MeshRenderer", "colour"), [1, 0, 0, 1]),
         f"{CRATE}.components.MeshRenderer.colour", "a field of MeshRenderer (model, unit, color"),
    Case("out-of-range value", _set(("entities", 2, "components", "MeshRenderer", "color"), [2, 0, 0, 1]),
         f"{CRATE}.components.MeshRenderer.color", "a colour: a list of 4 numbers (red, green, blue, alpha), each in [0, 1]"),
    Case("bad enum value", _set(("entities", 2, "components", "Light", "kind"), "laser"),
         f"{CRATE}.components.Light.kind", "one of 'ambient', 'directional', 'point', 'spot'"),
    Case("missing asset", _set(("entities", 2, "components", "MeshRenderer", "model"), "base:models/gone.gltf"),
         f"{CRATE}.components.MeshRenderer.model", "an asset that exists", strict=True),
    Case("unknown pack", _set(("entities", 2, "components", "MeshRenderer", "model"), "nomod:models/a.gltf"),
         f"{CRATE}.components.MeshRenderer.model", "no enabled pack named 'nomod'", strict=True),
    Case("bad asset id format", _set(("entities", 2, "components", "MeshRenderer", "model"), "crate.gltf"),
         f"{CRATE}.components.MeshRenderer.model", "a model asset id like 'pack:path'"),
    Case("duplicate entity id", _duplicate_id, f"{CRATE}.id", "an id no other entity in the file has"),
    Case("unknown parent", _set(("entities", 2, "parent"), 42), f"{CRATE}.parent",
         "the id of another entity in this file"),
    Case("parent cycle", _parent_cycle, "entities[1](Ground).parent", "a parent chain without a loop"),
    Case("zero scale", _set(("entities", 2, "transform"), {"scale": [1, 0, 1]}), f"{CRATE}.transform.scale",
         "three non-zero numbers"),
    Case("unknown entity key", _set(("entities", 2, "colour"), "red"), f"{CRATE}.colour", "one of the keys id, name"),
    Case("unknown top-level key", _set(("entitys",), []), "entitys", "one of the keys storm_world"),
    Case("entities not a list", _set(("entities",), {"1": {}}), "entities", "a list of entity objects"),
    Case("cyclic prefab", _cyclic_prefabs, "entities[1].prefab", "a prefab that does not contain itself",
         in_prefab="prefabs/b.prefab.json"),
    Case("missing prefab file", _set(("entities", 3, "prefab"), "base:prefabs/nope.prefab.json"),
         "entities[3](Lamp).prefab", "a prefab file that exists"),
    Case("prefab file with a syntax error", _broken_prefab_file, "line 2 column 18", "valid JSON",
         in_prefab="prefabs/broken.prefab.json"),
    Case("override of an unknown prefab member", _set(("entities", 3, "overrides"), {"lid": {"Camera": {}}}),
         "entities[3](Lamp).overrides.lid", "a member key of the prefab (lamp, pillar, globe)"),
    Case("bad override inside a prefab file", _bad_override_inside_prefab,
         "entities[1].overrides.globe.MeshRenderer.color", "a list of 4 numbers", in_prefab="prefabs/outer.prefab.json"),
    Case("prefab id not a string", _set(("entities", 3, "prefab"), [LAMP]), "entities[3](Lamp).prefab",
         "a prefab asset id like 'pack:prefabs/name.prefab.json'"),
    Case("prefab member parent not a string", _bad_member_parent, "entities[1].parent",
         "the key of an entity listed before this one", in_prefab="prefabs/odd.prefab.json"),
    Case("components beside a prefab", _set(("entities", 3, "components"), {"Camera": {}}),
         "entities[3](Lamp).components", "no components beside a prefab"),
    Case("duplicate json key", _text('{"storm_world": 2, "name": "a", "name": "b", "entities": []}'),
         "line 1 column 33 (name)", "each key once per object (key 'name' appears twice)"),
    Case("NaN", _text('{"storm_world": 2, "name": "a", "settings": {"tick_rate": NaN}}'),
         "line 1 column 59 (settings.tick_rate)", "NaN"),
    Case("duplicate key deep inside", _text('{"storm_world": 3, "name": "a", "entities": [\n  {"id": 1},\n'
                                            '  {"id": 2, "components": {"Light": {"kind": "point",\n'
                                            '    "kind": "spot"}}}]}'),
         "line 4 column 5 (entities[1].components.Light.kind)", "each key once per object (key 'kind' appears twice)"),
    Case("scale zero in 32-bit floats", _set(("entities", 2, "transform"), {"scale": [1e-50, 1, 1]}),
         "entities[2](Crate).transform.scale", "three non-zero numbers"),
    Case("lone surrogate in a string field", _set(("settings",), {"description": "bad \ud800 text"}),
         "settings.description", "a string of at most 2000 characters"),

    Case("huge integer", _text('{"storm_world": 2, "name": "a", "settings": {"tick_rate": 1' + "0" * 400 + "}}"),
         "settings.tick_rate", "a number in [1.0, 1000.0]"),
    Case("integer too long to read", _text('{"storm_world": 2, "name": "a", "seed": 1' + "0" * 5000 + "}"),
         "", "a number of at most 4300 digits"),
    Case("script from a pack without code", _script_from_data_pack, f"{CRATE}.components.testpack:doors.Door",
         'a pack allowed to carry code (pack \'testpack\' has kind = "content")'),
    Case("settings out of range", _set(("settings",), {"tick_rate": 0}), "settings.tick_rate",
         "a number in [1.0, 1000.0]"),
    Case("name not a string", _set(("entities", 2, "name"), ["Crate"]), "entities[2].name", "a string"),
    Case("not UTF-8", lambda d, p: b'{"storm_world": 2, "name": "\xff"}', "byte 28", "UTF-8 text"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_bad_file_gives_one_clear_data_error(case: Case, tmp_path: Path, tmp_pack: TmpPack,
                                              pack_runtime: Runtime) -> None:
    data = small_world()
    replaced = case.breaks(data, tmp_pack)
    path = tmp_path / "bad.world.json"
    if isinstance(replaced, bytes):
        path.write_bytes(replaced)
    elif isinstance(replaced, str):
        path.write_text(replaced, encoding="utf-8")
    else:
        write_json(path, data if replaced is None else replaced)
    load = validate_world if case.strict else read_world
    with pytest.raises(DataError) as info:
        load(path, pack_runtime)
    error = info.value
    expected_source = str(tmp_pack.root / case.in_prefab) if case.in_prefab else str(path)
    assert error.source == expected_source
    assert error.path == case.path
    assert case.expected in error.expected
    message = str(error)
    assert message.startswith(expected_source) and case.expected in message


def test_there_are_at_least_twelve_kinds_of_bad_file() -> None:
    assert len({c.kind for c in CASES}) >= 12


def test_the_unbroken_small_world_loads_and_validates(tmp_path: Path, pack_runtime: Runtime) -> None:
    path = write_json(tmp_path / "ok.world.json", small_world())
    world = validate_world(path, pack_runtime)
    assert world.name_of(3) == "Crate"


def test_missing_file_names_the_file(tmp_path: Path, runtime: Runtime) -> None:
    with pytest.raises(DataError) as info:
        read_world(tmp_path / "nowhere.world.json", runtime)
    assert info.value.source == str(tmp_path / "nowhere.world.json")
    assert info.value.expected == "an existing file"


def test_a_failed_load_leaves_nothing_behind(tmp_path: Path, runtime: Runtime) -> None:
    data = small_world()
    data["entities"][3]["overrides"] = {"lid": {}}
    path = write_json(tmp_path / "bad.world.json", data)
    before = runtime.assets.load_count.copy()
    with pytest.raises(DataError):
        read_world(path, runtime)
    good = read_world(write_json(tmp_path / "good.world.json", small_world()), runtime)
    assert len(good.entities()) == 3 + 3
    assert runtime.assets.load_count["base:models/crate.gltf"] <= before["base:models/crate.gltf"] + 1


# -- fuzzing: any mutation gives a world or a DataError, nothing else ----------------------------

ODD_VALUES: list[Any] = [None, True, False, 0, -1, 1, 2**31, 10**30, -1e300, 0.5, "", "x", "primitive:box",
                         "base:models/crate.gltf", "base:nope.gltf", "base:../../etc/passwd", "base:motion.Behaviour",
                         "base:motion.math", LAMP, "Camera", [], {}, [0, 0, 0], [1, 1, 1, 1], [[1]], {"Camera": {}},
                         {"pos": [1, 2]}, "\u0000\u202e", "a" * 5000]
ODD_KEYS = ["id", "name", "parent", "prefab", "transform", "components", "overrides", "Camera", "MeshRenderer",
            "Light", "base:motion.Spinner", "lamp", "globe", "pos", "scale", "color", "model", "kind", "x"]


def _containers(value: Any, out: list[Any]) -> list[Any]:
    if isinstance(value, (dict, list)):
        out.append(value)
        for item in (value.values() if isinstance(value, dict) else value):
            _containers(item, out)
    return out


def mutate(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One to three random structural changes somewhere in the data."""
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        target = rng.choice(_containers(data, []))
        op = rng.random()
        if isinstance(target, dict):
            keys = list(target)
            if keys and op < 0.3:
                del target[rng.choice(keys)]
            elif keys and op < 0.7:
                target[rng.choice(keys)] = copy.deepcopy(rng.choice(ODD_VALUES))
            elif keys and op < 0.85:
                key = rng.choice(keys)
                target[rng.choice(ODD_KEYS)] = target.pop(key)
            else:
                target[rng.choice(ODD_KEYS)] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif target:
            index = rng.randrange(len(target))
            if op < 0.3:
                del target[index]
            elif op < 0.6:
                target[index] = copy.deepcopy(rng.choice(ODD_VALUES))
            else:
                target.insert(index, copy.deepcopy(target[rng.randrange(len(target))]))
        else:
            target.append(copy.deepcopy(rng.choice(ODD_VALUES)))
    return data


def _load_text(text: str, path: Path, runtime: Runtime, strict: bool) -> str:
    path.write_text(text, encoding="utf-8")
    try:
        world = (validate_world if strict else read_world)(path, runtime)
    except DataError as exc:
        assert exc.source.endswith(".json") and str(exc)
        return "error"
    world.tick()
    world.close()
    return "ok"


def test_fuzzed_world_data_gives_a_world_or_a_data_error(tmp_path: Path) -> None:
    rng = random.Random(20240601)
    runtime = create_runtime(default_content())
    demo = parse_json(DEMO_WORLD.read_text(encoding="utf-8"), str(DEMO_WORLD))
    outcomes = {"ok": 0, "error": 0}
    for round_ in range(300):
        text = json.dumps(mutate(demo, rng), indent=1)
        outcomes[_load_text(text, tmp_path / "fuzz.world.json", runtime, strict=round_ % 3 == 0)] += 1
    assert outcomes["ok"] > 10 and outcomes["error"] > 100  # the mutations reach both outcomes


def test_fuzzed_prefab_files_give_a_world_or_a_data_error(tmp_path: Path, tmp_pack: TmpPack,
                                                          pack_runtime: Runtime) -> None:
    rng = random.Random(99)
    lamp = parse_json((REPO_ROOT / "content" / "base" / "prefabs" / "pillar_lamp.prefab.json").read_text(), "lamp")
    world = small_world()
    world["entities"][3]["prefab"] = tmp_pack.asset_id("prefabs/lamp.prefab.json")
    world["entities"][3]["overrides"] = {"globe": {"MeshRenderer": {"color": [0, 1, 0, 1]}}}
    world_text = json.dumps(world)
    for round_ in range(100):
        file = tmp_pack.write("prefabs/lamp.prefab.json", json.dumps(mutate(lamp, rng)))
        os.utime(file, ns=(0, 10**9 * (round_ + 1)))  # each version is seen as a change
        _load_text(world_text, tmp_path / "fuzz.world.json", pack_runtime, strict=round_ % 2 == 0)


def test_fuzzed_world_text_gives_a_world_or_a_data_error(tmp_path: Path) -> None:
    rng = random.Random(7)
    runtime = create_runtime(default_content())
    original = DEMO_WORLD.read_text(encoding="utf-8")
    alphabet = '{}[],:"0123456789.-eE \ntruefalsnul\\'
    for _ in range(150):
        chars = list(original)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(chars))
            if rng.random() < 0.5:
                del chars[at]
            else:
                chars.insert(at, rng.choice(alphabet))
        _load_text("".join(chars), tmp_path / "fuzz.world.json", runtime, strict=False)


def test_names_in_messages_are_escaped_and_cut(tmp_path: Path, pack_runtime: Runtime) -> None:
    data = small_world()
    forged = "Crate\nworlds/demo.world.json: ok (41 entities)\x1b[2K"
    data["entities"][2]["name"] = forged
    data["entities"][2]["components"]["MeshRenderer"]["color"] = "x" * 100_000
    path = write_json(tmp_path / "forged.world.json", data)
    with pytest.raises(DataError) as info:
        read_world(path, pack_runtime)
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message  # nothing a terminal would act on
    assert "Crate\\u000aworlds/demo.world.json" in message and "\\u001b[2K" in message
    assert len(message) < 600  # the 100 kB value is cut
