"""The names of the physical inputs an action map can bind: Panda3D's own key, mouse and gamepad
names, so a binding reads the same as the event Panda3D would throw.

Keyboard keys and mouse buttons use their bare Panda3D names (``w``, ``space``, ``arrow_up``,
``mouse1``); mouse motion is ``mouse_x`` / ``mouse_y``; gamepad controls carry a ``gamepad:``
prefix (``gamepad:face_a``, ``gamepad:left_x``).
"""
from __future__ import annotations

import difflib
import string

from panda3d.core import GamepadButton, InputDevice, KeyboardButton, MouseButton

BUTTON = "button"
AXIS = "axis"
GAMEPAD_PREFIX = "gamepad:"
MOUSE_AXES = frozenset({"mouse_x", "mouse_y"})
_NOT_BUTTONS = {"this", "this_const", "this_metatype", "this_ownership", "ascii_key", "button", "is_mouse_button"}


def _handle_names(cls: type) -> set[str]:
    """The names of the ButtonHandles a Panda3D button class offers through its static methods."""
    names: set[str] = set()
    for attr in dir(cls):
        if attr.startswith("_") or not attr.islower() or attr in _NOT_BUTTONS:
            continue
        try:
            handle = getattr(cls, attr)()
        except TypeError:
            continue
        names.add(handle.get_name())
    return names


KEYBOARD_KEYS = frozenset(_handle_names(KeyboardButton) | set(string.ascii_lowercase) | set(string.digits)
                          | set("`-=[]\\;',./"))
MOUSE_BUTTONS = frozenset(_handle_names(MouseButton))
GAMEPAD_BUTTONS = frozenset(_handle_names(GamepadButton))
GAMEPAD_AXES = frozenset(axis.name for axis in InputDevice.Axis if axis.name != "none")

_ALL_NAMES = sorted(KEYBOARD_KEYS | MOUSE_BUTTONS | MOUSE_AXES | {GAMEPAD_PREFIX + n for n in GAMEPAD_BUTTONS}
                    | {GAMEPAD_PREFIX + n for n in GAMEPAD_AXES})


def input_kind(name: str) -> str | None:
    """``"button"``, ``"axis"``, or None when ``name`` is no input Storm knows."""
    if name.startswith(GAMEPAD_PREFIX):
        control = name[len(GAMEPAD_PREFIX):]
        if control in GAMEPAD_BUTTONS:
            return BUTTON
        return AXIS if control in GAMEPAD_AXES else None
    if name in KEYBOARD_KEYS or name in MOUSE_BUTTONS:
        return BUTTON
    return AXIS if name in MOUSE_AXES else None


def expected_input(kind: str | None = None) -> str:
    """Words for an error message saying what a valid input name of ``kind`` looks like."""
    if kind == BUTTON:
        return "a button input: a Panda3D key ('w', 'space', 'shift', 'arrow_up', 'f3'), 'mouse1'..'mouse5', " \
               "'wheel_up' or a gamepad button ('gamepad:face_a', 'gamepad:start')"
    if kind == AXIS:
        return "an axis input: 'mouse_x', 'mouse_y' or a gamepad axis ('gamepad:left_x', 'gamepad:right_trigger')"
    return "an input name: a Panda3D key ('w', 'space', 'arrow_up'), a mouse button ('mouse1'), 'mouse_x'/'mouse_y', " \
           "or a gamepad control ('gamepad:face_a', 'gamepad:left_x')"


def did_you_mean(name: str) -> str:
    """`` (did you mean 'x'?)`` for a close known name, else an empty string."""
    close = difflib.get_close_matches(name, _ALL_NAMES, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
