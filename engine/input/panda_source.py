"""Live input from Panda3D: keyboard and mouse through the window's MouseWatcher, gamepads through
``base.devices``, sampled once per tick into a RawFrame that the action map resolves.

Only the inputs the map binds are sampled. Key presses shorter than a tick are caught by a
ButtonThrower of our own (so they still press an action once); mouse motion is the pointer's
movement since the last sample, in window heights (moving the pointer the window's height is 1.0),
y up. Without a window (headless, offscreen) keyboard and mouse read as idle; gamepads still work.
"""
from __future__ import annotations

import itertools
import logging
from typing import Any

from panda3d.core import ButtonHandle, ButtonRegistry, ButtonThrower, InputDevice, WindowProperties

from engine.input.action_state import Actions
from engine.input.bindings import RawFrame
from engine.input.input_names import AXIS, GAMEPAD_PREFIX, input_kind

log = logging.getLogger("storm.input")
_ids = itertools.count(1)


class PandaInputSource:
    """Samples a ShowBase's keyboard, mouse and gamepads for the inputs an ``Actions`` map binds.

    ``capture_mouse`` hides the pointer and keeps it in the window's centre (mouse-look); Esc-style
    release is the game's business (``set_capture``).
    """

    finished = False

    def __init__(self, base: Any, actions: Actions, capture_mouse: bool = False) -> None:
        self.base = base
        self.actions = actions
        self._handles: dict[str, ButtonHandle] = {}
        self._tapped: set[str] = set()
        self._last_pointer: tuple[float, float] | None = None
        self._pad_failed = False
        self.down_event = f"storm-input-down-{next(_ids)}"
        self._thrower = None
        watcher = getattr(base, "mouseWatcher", None)
        if watcher is not None:
            thrower = ButtonThrower("storm-input")
            thrower.set_specific_flag(False)  # no per-key events: the App's own key events stay single
            thrower.set_button_down_event(self.down_event)
            self._thrower = watcher.attach_new_node(thrower)
        base.accept(self.down_event, self._tapped.add)
        self.capture_mouse = False
        if capture_mouse:
            self.set_capture(True)

    def set_capture(self, on: bool) -> None:
        """Hide the pointer and hold it in the window (relative mouse-look), or give it back."""
        win = self.base.win
        self.capture_mouse = on and win is not None
        self._last_pointer = None
        if win is None:
            return
        props = WindowProperties()
        props.set_cursor_hidden(on)
        props.set_mouse_mode(WindowProperties.M_confined if on else WindowProperties.M_absolute)
        win.request_properties(props)

    def close(self) -> None:
        """Stop listening (the source can be dropped after this)."""
        self.base.ignore(self.down_event)
        if self._thrower is not None:
            self._thrower.remove_node()
            self._thrower = None

    def poll(self) -> RawFrame:
        down: set[str] = set()
        axes: dict[str, float] = {}
        watcher = getattr(self.base, "mouseWatcherNode", None)
        try:
            pad_buttons, pad_axes = self._read_gamepads()
        except Exception:  # noqa: BLE001 - an odd gamepad must not silence the keyboard
            if not self._pad_failed:
                self._pad_failed = True
                log.exception("input: reading gamepads failed; keyboard and mouse still work")
            pad_buttons, pad_axes = set(), {}
        for name in self.actions.map.inputs():
            if name.startswith(GAMEPAD_PREFIX):
                if name in pad_buttons:
                    down.add(name)
                elif name in pad_axes:
                    axes[name] = pad_axes[name]
            elif input_kind(name) != AXIS and watcher is not None and watcher.is_button_down(self._handle(name)):
                down.add(name)
        self._read_mouse(axes)
        tapped = frozenset(self._tapped)
        self._tapped.clear()
        return RawFrame(frozenset(down), tapped, axes)

    def _handle(self, name: str) -> ButtonHandle:
        handle = self._handles.get(name)
        if handle is None:
            handle = self._handles[name] = ButtonRegistry.ptr().find_button(name)
        return handle

    def _read_gamepads(self) -> tuple[set[str], dict[str, float]]:
        """Buttons down and axis values of every connected gamepad, as ``gamepad:`` names; when
        several pads are connected they all drive the same inputs and the strongest axis value wins."""
        buttons: set[str] = set()
        axes: dict[str, float] = {}
        devices = getattr(self.base, "devices", None)
        if devices is None:
            return buttons, axes
        for pad in devices.get_devices(InputDevice.DeviceClass.gamepad):
            pad.poll()
            for button in pad.buttons:
                if button.known and button.pressed:
                    buttons.add(GAMEPAD_PREFIX + button.handle.get_name())
            for axis in pad.axes:
                name = GAMEPAD_PREFIX + InputDevice.Axis(axis.axis).name
                if axis.known and abs(axis.value) > abs(axes.get(name, 0.0)):
                    axes[name] = axis.value
        return buttons, axes

    def _read_mouse(self, axes: dict[str, float]) -> None:
        win = self.base.win
        if win is None or not hasattr(win, "get_pointer"):
            return
        pointer = win.get_pointer(0)
        height = max(1, win.get_y_size())
        if not pointer.get_in_window():
            self._last_pointer = None
            return
        x, y = pointer.get_x(), pointer.get_y()
        if self._last_pointer is not None:
            dx = (x - self._last_pointer[0]) / height
            dy = (self._last_pointer[1] - y) / height  # screen y grows downward; actions use y up
            if dx:
                axes["mouse_x"] = dx
            if dy:
                axes["mouse_y"] = dy
        if self.capture_mouse:
            cx, cy = win.get_x_size() // 2, win.get_y_size() // 2
            if win.move_pointer(0, cx, cy):
                x, y = cx, cy
        self._last_pointer = (x, y)
