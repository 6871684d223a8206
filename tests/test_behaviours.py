"""Behaviours: lifecycle, failures that don't stop the world, packs without code, hot reload."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from engine.core.errors import DataError
from engine.data.world_file import load_world_data
from engine.host.runtime import create_runtime
from engine.packs.content import ContentRegistry
from engine.scripting.behaviour import ScriptSystem

COUNTER = '''
from engine.scripting.behaviour import Behaviour
from engine.core.fields import Field, Float

class Counter(Behaviour):
    step = Field(Float(0, 100), 1.0)

    def on_start(self):
        self.count = 0
        self.world.events_log.append(("start", self.entity))

    def on_update(self, dt):
        self.count += self.step
        self.node.setX(self.count)

    def on_destroy(self):
        self.world.events_log.append(("destroy", self.entity))

class Broken(Behaviour):
    def on_update(self, dt):
        raise RuntimeError("boom")
'''


def make_pack(root: Path, name: str, code: bool, scripts: dict[str, str]) -> Path:
    pack = root / name
    (pack / "scripts").mkdir(parents=True)
    (pack / "pack.json").write_text(json.dumps({"name": name, "version": "1.0.0", "code": code}))
    for module, source in scripts.items():
        (pack / "scripts" / f"{module}.py").write_text(source)
    return pack


def world_with(tmp_path: Path, components: dict, code: bool = True, runtime=None):  # type: ignore[no-untyped-def]
    if runtime is None:
        content = ContentRegistry()
        content.add_pack(make_pack(tmp_path, "mod", code, {"counting": COUNTER})).trusted = True  # the player trusts it
        runtime = create_runtime(content)
    data = {"storm_world": 2, "entities": [{"id": 1, "name": "thing", "components": components}]}
    world = load_world_data(data, str(tmp_path / "test.world.json"), runtime)
    world.events_log = []  # type: ignore[attr-defined]
    return world, runtime


def test_behaviour_starts_once_updates_each_tick_and_is_destroyed(tmp_path: Path) -> None:
    world, _ = world_with(tmp_path, {"mod:counting.Counter": {"step": 2}})
    for _ in range(3):
        world.tick()
    assert world.node(1).getX() == pytest.approx(6)
    assert world.events_log == [("start", 1)]
    world.destroy(1)
    world.tick()
    assert world.events_log == [("start", 1), ("destroy", 1)]


def test_a_failing_behaviour_is_stopped_and_logged_but_the_world_keeps_running(tmp_path: Path, caplog) -> None:
    world, _ = world_with(tmp_path, {"mod:counting.Broken": {}, "mod:counting.Counter": {}})
    with caplog.at_level(logging.ERROR, logger="storm.scripts"):
        for _ in range(5):
            world.tick()
    assert world.node(1).getX() == pytest.approx(5)
    failures = [r for r in caplog.records if "mod:counting.Broken" in r.getMessage()]
    assert len(failures) == 1 and "thing" in failures[0].getMessage()


def test_scripts_only_load_from_packs_allowed_to_carry_code(tmp_path: Path) -> None:
    with pytest.raises(DataError) as refused:  # a content-only pack that ships a script is refused whole
        world_with(tmp_path, {"mod:counting.Counter": {}}, code=False)
    assert "scripts/counting.py: expected no code files in a content-only pack" in str(refused.value)
    content = ContentRegistry()
    content.add_pack(make_pack(tmp_path / "clean", "mod", False, {}))
    with pytest.raises(DataError) as info:
        world_with(tmp_path, {"mod:counting.Counter": {}}, runtime=create_runtime(content))
    message = str(info.value)
    assert "entities[0](thing).components.mod:counting.Counter" in message and 'kind = "content"' in message


def test_scripts_only_run_from_packs_the_player_trusts(tmp_path: Path) -> None:
    content = ContentRegistry()
    pack = content.add_pack(make_pack(tmp_path, "mod", True, {"counting": COUNTER}))
    assert not pack.trusted  # a pack of kind both that nobody trusted yet
    with pytest.raises(DataError) as info:
        world_with(tmp_path, {"mod:counting.Counter": {}}, runtime=create_runtime(content))
    assert "a pack trusted to run code in the engine" in str(info.value)
    assert "storm pack enable mod --trust" in str(info.value)
    pack.trusted = True
    world, _runtime = world_with(tmp_path, {"mod:counting.Counter": {}}, runtime=create_runtime(content))
    world.tick()
    assert world.node(1).getX() == pytest.approx(1)


def test_hot_reload_swaps_code_and_keeps_state(tmp_path: Path) -> None:
    world, runtime = world_with(tmp_path, {"mod:counting.Counter": {}})
    for _ in range(4):
        world.tick()
    assert world.node(1).getX() == pytest.approx(4)
    script = tmp_path / "mod" / "scripts" / "counting.py"
    script.write_text(COUNTER.replace("self.count += self.step", "self.count += self.step * 10"))
    stat = script.stat()
    os.utime(script, (stat.st_atime, stat.st_mtime + 5))
    system = world.system(ScriptSystem)
    system.check_reloads()
    world.tick()
    assert world.node(1).getX() == pytest.approx(14)  # state (count=4) kept, new code adds 10
    assert world.events_log == [("start", 1)]


def test_hot_reload_with_a_syntax_error_keeps_the_old_code(tmp_path: Path) -> None:
    world, runtime = world_with(tmp_path, {"mod:counting.Counter": {}})
    world.tick()
    script = tmp_path / "mod" / "scripts" / "counting.py"
    script.write_text("def broken(:\n")
    stat = script.stat()
    os.utime(script, (stat.st_atime, stat.st_mtime + 5))
    assert runtime.scripts.reload_changed() == []
    assert "counting.py" in runtime.scripts.errors[-1]
    world.tick()
    assert world.node(1).getX() == pytest.approx(2)


def test_hot_reload_that_adds_a_field_gives_live_behaviours_its_default(tmp_path: Path) -> None:
    world, runtime = world_with(tmp_path, {"mod:counting.Counter": {}})
    world.tick()
    script = tmp_path / "mod" / "scripts" / "counting.py"
    script.write_text(COUNTER.replace("    step = Field(Float(0, 100), 1.0)\n",
                                      "    step = Field(Float(0, 100), 1.0)\n    bonus = Field(Float(0, 100), 3.0)\n"))
    stat = script.stat()
    os.utime(script, (stat.st_atime, stat.st_mtime + 5))
    world.system(ScriptSystem).check_reloads()
    from engine.data.world_file import world_to_data

    counter = world.components(1)[0]
    assert counter.bonus == 3.0
    assert world_to_data(world)["entities"][0]["components"]["mod:counting.Counter"] == {}


def edit_counter(tmp_path: Path, factor: int, later: float) -> None:
    """Make Counter add ``step * factor`` per tick, with a file time ``later`` seconds on."""
    script = tmp_path / "mod" / "scripts" / "counting.py"
    script.write_text(COUNTER.replace("self.count += self.step", f"self.count += self.step * {factor}"))
    stat = script.stat()
    os.utime(script, (stat.st_atime, stat.st_mtime + later))


def test_every_world_of_a_runtime_runs_the_reloaded_code_and_keeps_its_state(tmp_path: Path) -> None:
    first, runtime = world_with(tmp_path, {"mod:counting.Counter": {}})
    second, _ = world_with(tmp_path, {"mod:counting.Counter": {"step": 2.0}}, runtime=runtime)
    for world in (first, second):
        for _ in range(4):
            world.tick()
    edit_counter(tmp_path, 10, later=5)
    for world in (first, second):      # the first one notices the change at its tick-30 check
        for _ in range(27):
            world.tick()
    assert first.node(1).getX() == pytest.approx(30 * 1 + 10)    # 30 ticks of old code, then one of new
    assert second.node(1).getX() == pytest.approx(30 * 2 + 20)
    assert first.events_log == [("start", 1)] and second.events_log == [("start", 1)]


def test_a_world_that_missed_several_reloads_applies_them_in_order(tmp_path: Path) -> None:
    first, runtime = world_with(tmp_path, {"mod:counting.Counter": {}})
    second, _ = world_with(tmp_path, {"mod:counting.Counter": {}}, runtime=runtime)
    first.tick()
    second.tick()
    edit_counter(tmp_path, 10, later=5)
    assert first.system(ScriptSystem).check_reloads() == 1
    edit_counter(tmp_path, 100, later=10)
    assert first.system(ScriptSystem).check_reloads() == 1
    assert second.system(ScriptSystem).check_reloads() == 2      # old -> middle -> newest
    assert second.system(ScriptSystem).check_reloads() == 0
    second.tick()
    assert second.node(1).getX() == pytest.approx(1 + 100)
    assert type(second.components(1)[0]) is type(first.components(1)[0])
