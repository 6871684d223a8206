"""The input system in a running world: edges, direct action sources, bad input that the world
survives, and rebinding saved per user."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engine.core.world import World
from engine.input import (
    ActionFrame,
    Actions,
    BindingError,
    DirectActionSource,
    InputSystem,
    RawFrame,
    ScriptedSource,
    open_actions,
)
from engine.packs.content import BASE_PACK_DIR, ContentRegistry
from engine.scripting.behaviour import Behaviour, ScriptSystem


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "storm" / "input.json"


def keys(*down: str) -> RawFrame:
    return RawFrame(down=frozenset(down))


def world_with(source: object = None, actions: Actions | None = None) -> tuple[World, InputSystem]:
    world = World()
    system = InputSystem(actions or open_actions(), source)  # type: ignore[arg-type]
    world.add_system(system)
    world.add_system(ScriptSystem())
    return world, system


class JumpCounter(Behaviour):
    """Counts presses and releases of jump and reads an action that does not exist."""

    def on_start(self) -> None:
        self.presses = self.releases = self.held_ticks = 0

    def on_update(self, dt: float) -> None:
        actions = self.world.services["input"]
        self.presses += actions.pressed("jump")
        self.releases += actions.released("jump")
        self.held_ticks += actions.held("jump")
        actions.held("fly")  # not in the map: logged once, reads as released


def test_behaviours_see_pressed_held_released_edges(caplog: pytest.LogCaptureFixture) -> None:
    frames = [keys(), keys("space"), keys("space"), keys(), RawFrame(tapped=frozenset({"space"})), keys()]
    world, _ = world_with(ScriptedSource(frames))
    eid = world.create_entity("hero")
    counter = world.add(eid, JumpCounter())
    with caplog.at_level(logging.ERROR, logger="storm.input"):
        for _ in range(len(frames) + 2):
            world.tick()
    assert (counter.presses, counter.releases, counter.held_ticks) == (2, 2, 3)
    assert caplog.text.count("no action 'fly'") == 1
    assert not getattr(counter, "_storm_failed", False)


def test_direct_source_drives_actions_and_drops_bad_values(caplog: pytest.LogCaptureFixture) -> None:
    source = DirectActionSource()
    world, _ = world_with(source)
    actions = world.services["input"]
    source.set_vector("move", (3.0, 4.0))
    source.hold("jump")
    source.set_axis("move", 1.0)  # wrong kind
    source.hold("teleport")  # unknown action
    source.set_vector("look", (float("nan"), 0.0))
    with caplog.at_level(logging.ERROR, logger="storm.input"):
        world.tick()
        world.tick()
    assert actions.vector("move") == pytest.approx((0.6, 0.8))  # clamped to length 1
    assert actions.held("jump") and not actions.pressed("jump")
    assert actions.vector("look") == (0.0, 0.0)
    for words in ("'teleport'", "axis 'move'", "vector 'look'"):
        assert caplog.text.count(words) == 1, words  # logged once, not every tick


def test_reading_with_the_wrong_reader_is_neutral_and_named(caplog: pytest.LogCaptureFixture) -> None:
    world, _ = world_with(ScriptedSource([keys("w", "space")]))
    world.tick()
    actions = world.services["input"]
    with caplog.at_level(logging.ERROR, logger="storm.input"):
        assert actions.axis("jump") == 0.0
        assert actions.held("move") is False
    assert "action 'jump' of base:input/default.actions.json is a button action" in caplog.text
    assert actions.vector("move") == (0.0, 1.0) and actions.held("jump")


def test_a_failing_source_reads_neutral_and_the_world_keeps_ticking(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        finished = False

        def poll(self) -> RawFrame:
            raise OSError("device unplugged")

    world, _ = world_with(Broken())
    with caplog.at_level(logging.ERROR, logger="storm.input"):
        for _ in range(3):
            world.tick()
    assert world.tick_count == 3
    assert caplog.text.count("source Broken failed") == 1


def test_bad_map_in_a_pack_falls_back_to_the_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pack = tmp_path / "mod"
    (pack / "input").mkdir(parents=True)
    (pack / "pack.json").write_text('{"name": "mod"}', encoding="utf-8")
    (pack / "input" / "broken.actions.json").write_text('{"storm_actions": 1, "actions": {"jump": {"kind": 3}}}',
                                                         encoding="utf-8")
    content = ContentRegistry()
    content.add_pack(BASE_PACK_DIR)
    content.add_pack(pack)
    with caplog.at_level(logging.ERROR, logger="storm.input"):
        actions = open_actions(content, "mod:input/broken.actions.json")
    assert "mod:input/broken.actions.json: actions.jump.kind: expected one of the kinds" in caplog.text
    assert actions.map.source == "base:input/default.actions.json"
    world, _ = world_with(ScriptedSource([keys("space")]), actions)
    world.tick()
    assert actions.pressed("jump")


def test_rebinding_is_saved_per_user_and_reapplied(user_config: Path) -> None:
    actions = open_actions()
    actions.rebind("jump", "space", "j")
    actions.rebind("move", "w", "i")
    saved = json.loads(user_config.read_text(encoding="utf-8"))
    assert saved["maps"]["base:input/default.actions.json"]["jump"] == ["j", "gamepad:face_a"]

    again = open_actions()  # a new session
    world, _ = world_with(ScriptedSource([keys("j", "i"), keys("space", "w")]), again)
    world.tick()
    assert again.pressed("jump") and again.vector("move") == (0.0, 1.0)
    world.tick()
    assert not again.held("jump") and again.vector("move") == (0.0, 0.0)

    again.reset_bindings("jump")
    assert open_actions().map.owner("space") == "jump"
    assert open_actions().map.owner("i") == "move"
    again.reset_bindings()
    assert "base:input/default.actions.json" not in json.loads(user_config.read_text(encoding="utf-8"))["maps"]


def test_swapped_keys_reload_whatever_order_they_were_saved_in(user_config: Path) -> None:
    actions = open_actions()
    actions.rebind("jump", "space", "j")
    actions.rebind("interact", "e", "space")
    actions.rebind("jump", "j", "e")
    with pytest.raises(BindingError, match="already bound to action 'jump'"):
        actions.rebind("interact", "space", "e")
    reloaded = open_actions().map
    assert (reloaded.owner("e"), reloaded.owner("space"), reloaded.owner("j")) == ("jump", "interact", None)
    assert reloaded.problems == []


def test_a_broken_user_file_is_reported_and_defaults_used(user_config: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    user_config.parent.mkdir(parents=True)
    user_config.write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="storm.input"):
        actions = open_actions()
    assert str(user_config) in caplog.text and "using the defaults" in caplog.text
    assert actions.map.owner("space") == "jump"
    actions.rebind("jump", "space", "j")  # saving again replaces the broken file
    assert open_actions().map.owner("j") == "jump"


def test_saved_bindings_that_no_longer_fit_are_skipped(user_config: Path, caplog: pytest.LogCaptureFixture) -> None:
    user_config.parent.mkdir(parents=True)
    user_config.write_text(json.dumps({"storm_input_user": 1, "maps": {"base:input/default.actions.json": {
        "jump": ["nokey"], "interact": ["space"], "swim": ["q"]}, "other:map.json": {"x": ["y"]}}}),
        encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="storm.input"):
        actions = open_actions()
    assert "action 'jump' keeps its default" in caplog.text
    assert "'swim'" in caplog.text
    assert "input 'space' is bound twice, to action 'jump' and to action 'interact'" in caplog.text
    assert actions.map.owner("space") == "jump" and actions.problems
    actions.rebind("pause", "escape", "p")
    assert "other:map.json" in json.loads(user_config.read_text(encoding="utf-8"))["maps"]  # other maps kept


def test_servers_can_skip_user_bindings(user_config: Path) -> None:
    actions = open_actions(per_user=False)
    actions.rebind("jump", "space", "j")
    assert not user_config.exists()
    assert actions.frame() == ActionFrame()
