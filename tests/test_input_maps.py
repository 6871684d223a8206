"""Action map files: parsing, clear errors for bad maps, bound-twice handling, binding resolution."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from engine.core.errors import DataError
from engine.input import ActionMap, BindingError, RawFrame, load_action_map, parse_action_map
from engine.packs.content import BASE_PACK_DIR

DEFAULT_MAP = BASE_PACK_DIR / "input" / "default.actions.json"


def raw(*down: str, tapped: tuple[str, ...] = (), **axes: float) -> RawFrame:
    return RawFrame(frozenset(down), frozenset(tapped), {k.replace("__", ":"): v for k, v in axes.items()})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test.actions.json"
    path.write_text(text, encoding="utf-8")
    return path


def one_action(kind: str, bindings: object) -> dict:
    return {"storm_actions": 1, "actions": {"act": {"kind": kind, "bindings": bindings}}}


@pytest.fixture()
def default_map() -> ActionMap:
    return load_action_map(DEFAULT_MAP, "base:input/default.actions.json")


def test_default_map_declares_the_game_actions(default_map: ActionMap) -> None:
    assert default_map.kinds() == {"move": "axis2", "look": "axis2", "jump": "button", "run": "button",
                                   "interact": "button", "chat": "button", "push_to_talk": "button", "toggle_profiler": "button",
                                   "pause": "button"}
    assert default_map.problems == []
    for name, action in [("space", "jump"), ("gamepad:face_a", "jump"), ("w", "move"), ("arrow_up", "move"),
                         ("gamepad:left_x", "move"), ("mouse_x", "look"), ("gamepad:right_y", "look"),
                         ("shift", "run"), ("e", "interact"), ("t", "chat"), ("enter", "chat"), ("v", "push_to_talk"), ("f3", "toggle_profiler"), ("escape", "pause"),
                         ("gamepad:start", "pause")]:
        assert default_map.owner(name) == action, name


def test_wasd_arrows_and_stick_drive_move(default_map: ActionMap) -> None:
    assert default_map.resolve(raw("w")).vectors["move"] == (0.0, 1.0)
    assert default_map.resolve(raw("arrow_left")).vectors["move"] == (-1.0, 0.0)
    x, y = default_map.resolve(raw("w", "d")).vectors["move"]
    assert math.hypot(x, y) == pytest.approx(1.0)  # diagonals are not faster
    assert "move" not in default_map.resolve(raw("w", "s")).vectors  # opposite keys cancel
    assert "move" not in default_map.resolve(raw(gamepad__left_x=0.1)).vectors  # inside the dead zone
    stick_x, _ = default_map.resolve(raw(gamepad__left_x=1.0)).vectors["move"]
    assert stick_x == pytest.approx(1.0)


def test_buttons_taps_and_trigger_threshold(default_map: ActionMap) -> None:
    assert default_map.resolve(raw("space")).held == {"jump"}
    assert default_map.resolve(raw(tapped=("gamepad:face_a",))).held == {"jump"}  # a tap shorter than a tick
    assert default_map.resolve(raw(gamepad__left_trigger=0.3)).held == frozenset()
    assert default_map.resolve(raw(gamepad__left_trigger=0.8)).held == {"run"}
    assert default_map.resolve(raw("q")).held == frozenset()  # unbound keys do nothing


def test_axis_bindings_largest_magnitude_wins_and_values_clamp(tmp_path: Path) -> None:
    data = one_action("axis", [{"negative": "a", "positive": "d"}, {"input": "mouse_x", "scale": 10.0},
                               {"input": "gamepad:left_x", "deadzone": 0.2}])
    action_map = parse_action_map(data, "zoom.json")
    assert action_map.resolve(raw("d", mouse_x=-0.05)).axes["act"] == 1.0
    assert action_map.resolve(raw("d", mouse_x=-0.5)).axes["act"] == -1.0  # -5 clamped to -1
    assert action_map.resolve(raw(gamepad__left_x=0.6)).axes["act"] == pytest.approx(0.5)  # rescaled past dead zone
    assert action_map.resolve(raw(mouse_x=float("nan"))).axes == {}


@pytest.mark.parametrize("text, path, expected", [
    ('{"storm_actions": 1, "actions": {', "line 1 column", "valid JSON"),
    ('{"storm_actions": 1, "actions": {"jump": {"kind": "trigger", "bindings": []}}}', "actions.jump.kind",
     "button, axis, axis2"),
    ('{"storm_actions": 1, "actions": {"jump": {"kind": "button", "bindings": ["spcae"]}}}',
     "actions.jump.bindings[0]", "did you mean 'space'"),
    ('{"storm_actions": 1, "actions": {"jump": {"kind": "button", "bindings": ["gamepad:face_q"]}}}',
     "actions.jump.bindings[0]", "an input name"),
    ('{"storm_actions": 1, "actions": {"m": {"kind": "axis", "bindings": [{"negative": "mouse_x"}]}}}',
     "actions.m.bindings[0].negative", "a button input"),
    ('{"storm_actions": 1, "actions": {"m": {"kind": "axis2", "bindings": [{"z": "w"}]}}}',
     "actions.m.bindings[0].z", "one of the keys x, y, deadzone"),
    ('{"storm_actions": 1, "actions": {"j": {"kind": "button", "bindings": [{"input": "space", "threshold": 0.2}]}}}',
     "actions.j.bindings[0].threshold", "only on an axis input"),
    ('{"storm_actions": 1, "actions": {"Jump!": {"kind": "button"}}}', "actions.Jump!", "an action name"),
    ('{"storm_actions": 9, "actions": {}}', "storm_actions", "version from 1 to 1"),
    ('{"storm_actions": 1, "actions": {}, "extra": 1}', "extra", "one of the keys"),
    ('[1, 2]', "", "a JSON object"),
])
def test_bad_maps_name_file_path_and_expectation(tmp_path: Path, text: str, path: str, expected: str) -> None:
    file = write(tmp_path, text)
    with pytest.raises(DataError) as caught:
        load_action_map(file)
    message = str(caught.value)
    assert str(file) in message and path in message and expected in message, message


def test_input_bound_twice_loads_first_wins_and_names_everything(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    file = write(tmp_path, '{"storm_actions": 1, "actions": {'
                           '"jump": {"kind": "button", "bindings": ["space", "gamepad:face_a"]},'
                           '"interact": {"kind": "button", "bindings": ["e", "space"]}}}')
    with caplog.at_level(logging.ERROR, logger="storm.input"):
        action_map = load_action_map(file)
    assert len(action_map.problems) == 1
    problem = action_map.problems[0]
    for part in (str(file), "'space'", "'jump'", "'interact'", "actions.interact.bindings[1]"):
        assert part in problem, problem
    assert problem in caplog.text
    assert action_map.resolve(raw("space")).held == {"jump"}  # the first binding wins
    assert action_map.resolve(raw("e")).held == {"interact"}  # the rest of the map works


def test_input_bound_twice_to_one_action_is_reported(tmp_path: Path) -> None:
    action_map = parse_action_map(one_action("axis2", [{"x": {"negative": "a", "positive": "a"}},
                                                       {"y": {"negative": "s", "positive": "w"}}]), "m.json")
    assert "input 'a' is bound twice, to action 'act' and to action 'act'" in action_map.problems[0]
    assert action_map.resolve(raw("w")).vectors["act"] == (0.0, 1.0)


def test_rebind_checks_and_leaves_map_unchanged_on_error(default_map: ActionMap) -> None:
    default_map.rebind("jump", "space", "j")
    assert default_map.resolve(raw("j")).held == {"jump"}
    assert default_map.owner("space") is None
    default_map.rebind("move", "w", "i")  # inside a composite
    assert default_map.resolve(raw("i")).vectors["move"] == (0.0, 1.0)
    for args, words in [(("jump", "j", "e"), "already bound to action 'interact'"),
                        (("jump", "space", "k"), "has no binding to input 'space'"),
                        (("jmup", "j", "k"), "no action 'jmup'"),
                        (("move", "a", "mouse_x"), "a button input"),
                        (("jump", "j", "spcae"), "did you mean 'space'")]:
        with pytest.raises(BindingError, match=words):
            default_map.rebind(*args)
    assert default_map.owner("j") == "jump" and default_map.owner("e") == "interact"


def test_map_round_trips_through_its_data(default_map: ActionMap) -> None:
    again = parse_action_map(default_map.to_data(), "copy")
    assert again.to_data() == default_map.to_data()
    frame = raw("w", "space", gamepad__right_x=0.7, mouse_y=0.1)
    assert again.resolve(frame) == default_map.resolve(frame)
