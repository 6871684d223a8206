"""The plugin API: discovery and the engine range, hooks called by keyword (a plugin taking fewer
arguments than the spec works; a wrong hook is named with its line), the lifecycle, and the
engine's extension points: systems through Runtime.add_system, components, asset importers, CLI
and world commands. Sandboxed unless a test says trusted."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from engine.core.commands import CommandError
from engine.core.edit_commands import AddComponent
from engine.core.schema import component_schema
from engine.host.runtime import Runtime
from plugins.api import PLUGIN_API_VERSION
from plugins.extensions import PluginCommandError
from plugins.host import PluginHost
from tests.conftest import REPO_ROOT
from tests.plugin_helpers import PluginPack

PackFactory = Callable[..., PluginPack]
HostFactory = Callable[..., PluginHost]


def test_only_plugin_packs_whose_engine_range_fits_are_started(plugin_pack: PackFactory, make_host: HostFactory,
                                                               tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    future = plugin_pack("future", f"open({str(marker)!r}, 'w').close()\n", engine=">=2.0")
    data = plugin_pack("data_only", "", kind="content", entry="")
    entryless = plugin_pack("entryless", "", entry="")
    fine = plugin_pack("fine", "")
    host = make_host(future, data, entryless, fine, trusted=("future",))
    assert list(host.records) == ["fine"] and host.running() == ["fine"]
    messages = {f.plugin: str(f) for f in host.failures}
    assert messages["future"] == (f"plugin 'future' was not started ({future.root / 'pack.toml'}): it needs plugin "
                                  f"API >=2.0 (pack.toml 'engine'), this engine has {PLUGIN_API_VERSION}")
    assert "a pack of kind plugin needs [plugin] entry" in messages["entryless"]
    assert "data_only" not in messages
    assert not marker.exists()  # a refused plugin's code never runs


@pytest.mark.parametrize("trusted", [False, True], ids=["sandboxed", "trusted"])
def test_hooks_are_called_by_keyword_and_a_plugin_may_take_fewer_arguments(
        plugin_pack: PackFactory, make_host: HostFactory, runtime: Runtime, caplog: pytest.LogCaptureFixture,
        trusted: bool) -> None:
    old = plugin_pack("old", """
        def storm_init(plugin):
            plugin.log("init")

        def storm_update(dt):  # the spec offers dt, tick, world and plugin
            print(f"update {dt:.4f}")

        def storm_systems():
            return [{"name": "late", "order": 450}]

        def storm_system_update(system, tick, plugin):
            plugin.log(f"{system} at tick {tick}")

        def storm_shutdown():
            print("shutdown")
    """)
    host = make_host(old, runtime=runtime, trusted=("old",) if trusted else ())
    with caplog.at_level(logging.INFO, "storm.plugin.old"):
        world = runtime.new_world()
        world.tick()
        world.tick()
        host.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "storm.plugin.old"]
    assert lines == ["update 0.0167", "late at tick 0", "update 0.0167", "late at tick 1", "shutdown"]
    assert host.failures == [] and host.records["old"].status == "stopped"


def test_a_hook_that_is_not_in_the_api_is_named_with_its_line(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    typo = plugin_pack("typo", """
        def storm_updat(dt):  # TYPO
            pass
    """)
    greedy = plugin_pack("greedy", """
        def storm_update(dt, camera):  # GREEDY
            pass
    """)
    host = make_host(typo, greedy)
    by_plugin = {f.plugin: f for f in host.failures}
    assert (by_plugin["typo"].kind, by_plugin["typo"].line) == ("api", typo.line_of("# TYPO"))
    assert str(by_plugin["typo"]).endswith(f"storm_updat is not a hook of plugin API {PLUGIN_API_VERSION}; "
                                           "did you mean storm_update?")
    assert by_plugin["greedy"].line == greedy.line_of("# GREEDY")
    assert "storm_update takes an argument 'camera' the engine does not pass (it passes dt, tick, world, plugin)" in \
        str(by_plugin["greedy"])


def test_plugin_systems_join_the_tick_table_at_their_order(plugin_pack: PackFactory, make_host: HostFactory,
                                                          runtime: Runtime) -> None:
    grower = plugin_pack("grower", """
        def storm_systems():
            return [{"name": "grow", "order": 250}, {"name": "serve", "order": 260, "profiles": ["server"]}]

        def storm_system_update(system, tick, world):
            world.apply({"command": "Rename", "entity": 1, "name": f"{system} {tick}"})
    """, permissions={"world_write": "shows that its system ran"})
    make_host(grower, runtime=runtime)
    world = runtime.new_world()
    order = [(s.name, s.order) for s in world.systems()]
    names = [name for name, _ in order]
    assert ("grower:grow", 250) in order and "grower:serve" not in names
    assert names.index("scripts") < names.index("plugins") < names.index("grower:grow") < names.index("physics")
    world.create_entity("marker")
    world.tick()
    assert world.name_of(1) == "grow 0"
    assert "grower:serve" in [s.name for s in runtime.new_world(profile="server").systems()]


MEDIC = """
def storm_components():
    return [{"name": "Health", "doc": "hit points", "fields": {
        "hp": {"type": "float", "default": 100, "min": 0, "max": 1000, "doc": "hit points left"},
        "team": {"type": "enum", "choices": ["red", "blue"]}}}]

def storm_world_commands():
    return [{"name": "heal_all", "doc": "sets everyone's hp", "arguments": {
        "hp": {"type": "float", "default": 100, "min": 0, "max": 1000}}}]

def storm_world_command(command, arguments, world):
    return [{"command": "SetFields", "entity": eid, "type": "medic:Health", "values": {"hp": arguments["hp"]}}
            for eid in world.query("medic:Health")]
"""


def test_plugin_components_and_world_commands(plugin_pack: PackFactory, make_host: HostFactory,
                                              runtime: Runtime) -> None:
    medic = plugin_pack("medic", MEDIC, permissions={"world_read": "finds wounded", "world_write": "heals them"})
    host = make_host(medic, runtime=runtime)
    world = runtime.new_world()
    cls = world.registry.get("medic:Health")
    assert cls is not None and component_schema(cls)["properties"]["hp"]["maximum"] == 1000
    a, b = world.create_entity("a"), world.create_entity("b")
    world.apply(AddComponent(a, "medic:Health", {"hp": 10, "team": "red"}))
    world.apply(AddComponent(b, "medic:Health", {"hp": 20}))
    with pytest.raises(CommandError, match=r"medic:Health.hp: a number in \[0, 1000\], got 5000"):
        world.apply(AddComponent(world.create_entity("c"), "medic:Health", {"hp": 5000}))
    undo = host.engine.run_world_command("medic:heal_all", {"hp": 75}, world)
    assert [world.get(e, cls).hp for e in (a, b)] == [75, 75]
    world.apply(undo)  # one undo takes the whole command back
    assert [world.get(e, cls).hp for e in (a, b)] == [10, 20]
    with pytest.raises(PluginCommandError, match=r"argument 'hp': expected a number in \[0, 1000\], got -1"):
        host.engine.run_world_command("medic:heal_all", {"hp": -1}, world)
    with pytest.raises(PluginCommandError, match="no argument 'mana'"):
        host.engine.run_world_command("medic:heal_all", {"mana": 1}, world)


def test_a_world_command_needs_world_write(plugin_pack: PackFactory, make_host: HostFactory, runtime: Runtime) -> None:
    host = make_host(plugin_pack("medic", MEDIC, permissions={"world_read": "finds wounded"}), runtime=runtime)
    with pytest.raises(PluginCommandError, match="plugin 'medic' has no world_write permission"):
        host.engine.run_world_command("medic:heal_all", {}, runtime.new_world())


def test_bad_declarations_stop_the_plugin_with_the_place(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    sloppy = plugin_pack("sloppy", """
        def storm_components():
            return [{"name": "Thing", "fields": {"size": {"type": "float", "default": 5, "max": 1}}}]  # BAD
    """)
    host = make_host(sloppy)
    failure = host.failures[0]
    assert (failure.kind, failure.hook, failure.line) == ("api", "storm_components", sloppy.line_of("# BAD") - 1)
    assert "storm_components()[0].fields.size.default: expected a default that fits" in failure.message


def test_importers_and_cli_commands(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    mapper = plugin_pack("mapper", """
        def storm_asset_importers():
            return [{"name": "grid", "extensions": [".grid"]}]

        def storm_import_asset(importer, name, data):
            return {"importer": importer, "name": name, "rows": [[int(c) for c in row.split(",")]
                                                                 for row in data.decode().splitlines()]}

        def storm_cli_commands():
            return [{"name": "hello", "help": "says hello"}, {"name": "fail", "help": "exits 3"}]

        def storm_cli_run(command, args):
            if command == "fail":
                return {"code": 3, "output": "no luck"}
            return "hello " + " ".join(args)
    """)
    host = make_host(mapper)
    assert host.engine.import_asset("maps/level.grid", b"1,2\n3,4\xff"[:-1]) == {
        "importer": "grid", "name": "maps/level.grid", "rows": [[1, 2], [3, 4]]}
    with pytest.raises(PluginCommandError, match="no plugin imports .csv"):
        host.engine.import_asset("maps/level.csv", b"")
    assert sorted(host.engine.cli_commands()) == ["mapper:fail", "mapper:hello"]
    assert host.engine.run_cli("mapper:hello", ["big", "world"]) == (0, "hello big world")
    assert host.engine.run_cli("mapper:fail", []) == (3, "no luck")
    assert host.engine.run_cli("mapper:nope", [])[0] == 2


def test_the_engine_never_imports_plugins_and_the_sandbox_never_imports_the_engine() -> None:
    for path in sorted((REPO_ROOT / "engine").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "import plugins" not in text and "from plugins" not in text, path
    probe = ("import sys, plugins.sandbox_child; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('engine', 'panda3d', 'numpy')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "plugins").glob("*.py")), ids=lambda p: p.name)
def test_the_plugin_host_has_no_eval_exec_or_pickle(path: Path) -> None:
    import re

    source = path.read_text(encoding="utf-8")
    assert not re.search(r"(?<![.\w])(eval|exec|compile|__import__)\s*\(|\bpickle\b|\bmarshal\b|\bshelve\b", source)


def test_the_plugin_api_version_is_the_engine_api_version() -> None:
    from engine.core.api_version import API_VERSION
    from engine.packs.versions import parse_short_version, parse_version

    assert parse_short_version(API_VERSION) == parse_version(PLUGIN_API_VERSION)
