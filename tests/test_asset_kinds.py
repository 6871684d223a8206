"""Asset kinds declare how their files are checked: a persona field is checked by the persona
loader (not as a model), so validate reports a missing or bad persona file in one line that names
the world file, the entity and the persona file; without the AI feature a persona still gets the
generic data-file check; every kind a field may declare has a check."""
from __future__ import annotations

import json
from pathlib import Path

from ai.install import add_ai_types
from engine.core.fields import ASSET_KINDS
from engine.data.world_check import check_world
from engine.host.runtime import Runtime
from engine.packs.asset_kinds import AssetKinds, missing_kinds
from tests.conftest import TmpPack, write_json
from tests.screenshots import run_main

MIRA = "base:personas/mira.persona.json"


def npc_world(persona: str, brain: bool = False) -> dict:
    components = {"MeshRenderer": {"model": "primitive:capsule"}, "base:npc.Npc": {"persona": persona}}
    if brain:
        components = {"NpcBrain": {"persona": persona}}
    return {"storm_world": 3, "name": "Village", "entities": [
        {"id": 7, "name": "Baker", "transform": {"pos": [0, 0, 0]}, "components": components}]}


def ai_runtime(runtime: Runtime) -> Runtime:
    add_ai_types(runtime)
    return runtime


def test_every_kind_a_field_may_declare_has_a_check() -> None:
    kinds = AssetKinds()
    assert missing_kinds(kinds) == []
    assert {"persona", "data"} <= set(ASSET_KINDS)


def test_a_good_persona_passes_validate(tmp_path: Path, pack_runtime: Runtime) -> None:
    # before asset kinds, a persona AssetRef was checked as a model: "'personas/...' is not a model file"
    runtime = ai_runtime(pack_runtime)
    for brain in (False, True):
        path = write_json(tmp_path / f"good{brain}.world.json", npc_world(MIRA, brain))
        report = check_world(path, runtime)
        assert report.ok, [str(p) for p in report.problems]


def test_a_missing_persona_is_one_line_naming_the_file_and_the_entity(tmp_path: Path, pack_runtime: Runtime) -> None:
    path = write_json(tmp_path / "village.world.json", npc_world("testpack:personas/nobody.persona.json"))
    report = check_world(path, ai_runtime(pack_runtime))
    assert len(report.problems) == 1
    line = str(report.problems[0])
    assert "village.world.json" in line and "Baker" in line and "base:npc.Npc.persona" in line
    assert "personas/nobody.persona.json" in line, line


def test_a_persona_without_consent_names_the_persona_file_and_field(tmp_path: Path, tmp_pack: TmpPack,
                                                                    pack_runtime: Runtime) -> None:
    persona = json.loads((Path(__file__).resolve().parent.parent / "content/base/personas/mira.persona.json")
                         .read_text(encoding="utf-8"))
    persona["consent"] = {"given": False, "by": "nobody"}
    tmp_pack.write("personas/smith.persona.json", persona)
    path = write_json(tmp_path / "village.world.json", npc_world(tmp_pack.asset_id("personas/smith.persona.json"), True))
    report = check_world(path, ai_runtime(pack_runtime))
    assert len(report.problems) == 1
    line = str(report.problems[0])
    assert "entity 7(Baker).NpcBrain.persona" in line or "Baker" in line
    assert "testpack:personas/smith.persona.json" in line and "consent.given" in line, line


def test_without_the_ai_feature_a_persona_still_gets_the_data_file_check(tmp_path: Path, tmp_pack: TmpPack,
                                                                         pack_runtime: Runtime) -> None:
    tmp_pack.write("personas/broken.persona.json", "{not json")
    tmp_pack.write("personas/list.persona.json", [1, 2])
    for name, expected in (("broken", "broken.persona.json"), ("list", "expected a JSON object")):
        path = write_json(tmp_path / f"{name}.world.json", npc_world(tmp_pack.asset_id(f"personas/{name}.persona.json")))
        report = check_world(path, pack_runtime)   # no add_ai_types: the engine alone
        assert len(report.problems) == 1 and expected in str(report.problems[0]), [str(p) for p in report.problems]
    path = write_json(tmp_path / "good.world.json", npc_world(MIRA))
    assert check_world(path, pack_runtime).ok


def test_kinds_refuse_files_of_another_kind(tmp_path: Path, pack_runtime: Runtime) -> None:
    runtime = ai_runtime(pack_runtime)
    assets = runtime.assets
    assert "is not a persona file" in (assets.problem("base:models/crate.gltf", "persona") or "")
    assert "is not a model file" in (assets.problem(MIRA, "model") or "")
    assert "primitive" in (assets.problem("primitive:box", "persona") or "")
    assert assets.problem("primitive:box", "model") is None
    assert assets.problem("base:prefabs/pillar_lamp.prefab.json", "prefab") is None
    assert assets.problem("base:dialogue/mira.dialogue.json", "data") is None
    assert assets.problem("base:sounds/click.wav", "sound") is None
    assert "no file" in (assets.problem("base:sounds/none.wav", "sound") or "")


def test_storm_validate_prints_one_line_for_a_missing_persona(tmp_path: Path) -> None:
    path = write_json(tmp_path / "village.world.json", npc_world("base:personas/nobody.persona.json"))
    result = run_main("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].endswith("1 problem"), result.stdout
    assert len(lines) == 2 and "Baker" in lines[1] and "personas/nobody.persona.json" in lines[1], result.stdout
