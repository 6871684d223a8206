"""The example plugin (the example mod content/village, shown in docs/modding-plugins.md), sandboxed:
its system makes point lights flicker in a running world, its editor panel, menu item and Light
inspector answer as the editor will call them, and the doc shows exactly its files and runs."""
from __future__ import annotations

import math
import re
import subprocess
import sys
from typing import Callable

import pytest

from engine.core.edit_commands import AddComponent
from engine.host.runtime import Runtime
from engine.packs.manifest import read_manifest
from engine.render.components import Light
from plugins.host import PluginHost
from tests.conftest import REPO_ROOT
from tests.plugin_helpers import TEST_LIMITS, PluginPack

LANTERN = REPO_ROOT / "content" / "village"  # the example mod ships the example plugin
DOC = REPO_ROOT / "docs" / "modding-plugins.md"
HostFactory = Callable[..., PluginHost]


@pytest.fixture
def lantern_host(runtime: Runtime, tmp_path):
    host = PluginHost([(LANTERN, read_manifest(LANTERN))], limits=TEST_LIMITS, data_root=tmp_path / "data")
    host.install(runtime)
    host.start()
    yield host
    host.stop()


def lit_world(runtime: Runtime):
    world = runtime.new_world()
    lamp, sun = world.create_entity("lamp"), world.create_entity("sun")
    world.apply(AddComponent(lamp, "Light", {"kind": "point", "intensity": 2.0}))
    world.apply(AddComponent(sun, "Light", {"kind": "directional", "intensity": 1.5}))
    return world, lamp, sun


def test_the_example_plugin_makes_point_lights_flicker(lantern_host: PluginHost, runtime: Runtime) -> None:
    assert lantern_host.status()[0]["status"] == "running" and not lantern_host.status()[0]["trusted"]
    world, lamp, sun = lit_world(runtime)
    seen = []
    for tick in range(4):
        world.tick()
        seen.append(world.get(lamp, Light).intensity)
        assert seen[-1] == pytest.approx(round(2.0 * (1 + 0.4 * math.sin(0.7 * tick + lamp)), 4), abs=1e-6)
    assert len(set(seen)) == 4  # it flickers
    assert world.get(sun, Light).intensity == 1.5  # directional lights are left alone
    assert lantern_host.failures == []


def test_the_example_plugin_fills_the_editors_extension_points(lantern_host: PluginHost, runtime: Runtime) -> None:
    editor = lantern_host.editor
    world, lamp, sun = lit_world(runtime)
    world.tick()
    assert [(p.name, p.text) for p in editor.panels()] == [("village:lanterns", "Lanterns")]
    assert editor.draw_panel("village:lanterns", [lamp], world) == [
        {"kind": "text", "text": "1 lanterns flicker"},
        {"kind": "slider", "label": "Strength", "action": "village:strength", "value": 0.4, "min": 0.0, "max": 1.0}]
    assert [(m.extra("menu"), m.text, m.name) for m in editor.menu_items()] == [
        ("Tools", "Calm all lanterns", "village:calm")]
    assert editor.inspectors_for("Light") == ["village"] and editor.inspectors_for("RigidBody") == []
    assert editor.draw_inspectors("Light", lamp, {}, world) == {
        "village": [{"kind": "text", "text": "flickers around 2"}]}
    assert editor.action("village:calm", [], None, world)  # the menu item: no more flicker
    world.tick()
    world.tick()
    assert world.get(lamp, Light).intensity == 2.0
    assert editor.action("village:strength", [], 1.0, world)  # the slider
    assert editor.draw_panel("village:lanterns")[1]["value"] == 1.0
    assert not editor.action("nobody:calm")


def test_a_panel_that_answers_nonsense_stops_its_plugin(plugin_pack: Callable[..., PluginPack],
                                                        make_host: HostFactory) -> None:
    rogue = plugin_pack("rogue", """
        def storm_editor_panels():
            return [{"id": "p", "title": "P"}]

        def storm_editor_panel(panel):  # PANEL
            return [{"kind": "html", "text": "<script>"}]
    """)
    host = make_host(rogue)
    assert host.editor.draw_panel("rogue:p") == []
    failure = host.failures[0]
    assert (failure.kind, failure.hook, failure.line) == ("api", "storm_editor_panel", rogue.line_of("# PANEL"))
    assert "storm_editor_panel()[0].kind: expected one of text, button" in failure.message
    assert host.editor.panels() == []


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_doc_shows_the_example_as_it_is() -> None:
    assert (LANTERN / "pack.toml").read_text(encoding="utf-8") in _blocks("toml")
    assert (LANTERN / "plugin" / "lanterns.py").read_text(encoding="utf-8") in _blocks("python")


def test_the_docs_runnable_example_runs() -> None:
    runnable = [block for block in _blocks("python") if block.startswith("# run from the repository root")]
    assert len(runnable) == 1
    done = subprocess.run([sys.executable, "-c", runnable[0]], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "lamp intensity" in done.stdout and "plugin 'boom' raised in storm_update" in done.stdout
