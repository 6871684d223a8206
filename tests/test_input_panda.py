"""The live Panda3D input source on a real, windowless ShowBase (no display or gamepad here)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Iterator

import pytest
from panda3d.core import ButtonRegistry, InputDevice, loadPrcFileData, unloadPrcFile

from engine.core.world import World
from engine.input import ActionFrame, InputSystem, RawFrame, open_actions
from engine.input.panda_source import PandaInputSource


@pytest.fixture(scope="module")
def base() -> Iterator[object]:
    page = loadPrcFileData("test-input-panda", "window-type none\naudio-library-name null\nnotify-level-device fatal")
    from direct.showbase.ShowBase import ShowBase

    showbase = ShowBase()
    yield showbase
    showbase.destroy()
    unloadPrcFile(page)  # leave Panda3D's settings as other tests expect them


def test_key_taps_from_panda_events_press_actions(base) -> None:  # type: ignore[no-untyped-def]
    actions = open_actions(per_user=False)
    source = PandaInputSource(base, actions)
    world = World()
    world.add_system(InputSystem(actions, source))
    base.messenger.send(source.down_event, ["space"])  # what our ButtonThrower throws for a key press
    world.tick()
    assert actions.pressed("jump")
    world.tick()
    assert actions.released("jump")
    source.close()
    base.messenger.send(source.down_event, ["space"])
    assert source.poll() == RawFrame()


def test_without_a_window_keyboard_and_mouse_read_idle(base) -> None:  # type: ignore[no-untyped-def]
    actions = open_actions(per_user=False)
    source = PandaInputSource(base, actions, capture_mouse=True)
    assert source.capture_mouse is False  # nothing to capture without a window
    world = World()
    world.add_system(InputSystem(actions, source))
    for _ in range(3):
        world.tick()
        base.taskMgr.step()
    assert actions.frame() == ActionFrame()
    source.close()


class FakeGamepad:
    """Stands in for a connected gamepad (none can be plugged in here), with Panda3D's state API."""

    def __init__(self, buttons: dict[str, bool], axes: dict[str, float]) -> None:
        self.buttons = [SimpleNamespace(handle=ButtonRegistry.ptr().find_button(name), known=True, pressed=down)
                        for name, down in buttons.items()]
        self.axes = [SimpleNamespace(axis=InputDevice.Axis[name], known=True, value=value)
                     for name, value in axes.items()]

    def poll(self) -> None:
        pass


def test_gamepad_buttons_and_sticks_drive_actions(base, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    pads = [FakeGamepad({"face_a": True, "start": False}, {"left_x": 0.2, "left_y": 1.0, "left_trigger": 0.9}),
            FakeGamepad({}, {"left_x": -0.9})]
    monkeypatch.setattr(base, "devices", SimpleNamespace(get_devices=lambda device_class: pads))
    actions = open_actions(per_user=False)
    world = World()
    world.add_system(InputSystem(actions, PandaInputSource(base, actions)))
    world.tick()
    assert actions.pressed("jump") and actions.held("run") and not actions.held("pause")
    x, y = actions.vector("move")
    assert x < -0.5 and y > 0.5  # the second pad's stronger left_x wins; length clamped to 1
    assert x * x + y * y == pytest.approx(1.0)
