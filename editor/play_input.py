"""The game's own input while Play runs in the editor.

The editor's 3D view is an image in a Dear PyGui panel (Panda3D draws offscreen, so it sees no
keyboard or mouse). While Play runs and the pointer is over the view, this source hands the
world's input system what Dear PyGui sees of the keys and mouse buttons the action map binds,
under the same Panda3D names a game window would report (``w``, ``space``, ``shift``,
``arrow_up``, ``mouse1``), and the pointer's motion as ``mouse_x``/``mouse_y`` in view heights, y
up. So the player walks in the view with the bindings of the game, and nothing reaches the game
while the pointer is elsewhere (a panel, a menu) or a text field has the keyboard.
"""
from __future__ import annotations

import string
from typing import TYPE_CHECKING, Callable

import dearpygui.dearpygui as dpg

from engine.input.bindings import RawFrame
from engine.input.input_names import GAMEPAD_PREFIX

if TYPE_CHECKING:
    from engine.input.action_state import Actions

EMPTY = RawFrame()

_NAMED: dict[str, tuple[str, ...]] = {  # Panda3D key name -> Dear PyGui key constants (any of them)
    "space": ("Spacebar",), "shift": ("LShift", "RShift"), "lshift": ("LShift",), "rshift": ("RShift",),
    "control": ("LControl", "RControl"), "lcontrol": ("LControl",), "rcontrol": ("RControl",),
    "alt": ("LAlt", "RAlt"), "lalt": ("LAlt",), "ralt": ("RAlt",), "enter": ("Return", "NumPadEnter"),
    "escape": ("Escape",), "tab": ("Tab",), "backspace": ("Back",), "delete": ("Delete",), "insert": ("Insert",),
    "home": ("Home",), "end": ("End",), "page_up": ("Prior",), "page_down": ("Next",),
    "arrow_up": ("Up",), "arrow_down": ("Down",), "arrow_left": ("Left",), "arrow_right": ("Right",),
    "-": ("Minus",), "=": ("Plus",), "[": ("Open_Brace",), "]": ("Close_Brace",), "\\": ("Backslash",),
    ";": ("Colon",), "'": ("Quote",), ",": ("Comma",), ".": ("Period",), "/": ("Slash",), "`": ("Tilde",),
    **{f"f{n}": (f"F{n}",) for n in range(1, 13)},
    **{c: (c.upper(),) for c in string.ascii_lowercase}, **{d: (d,) for d in string.digits},
}
KEYS: dict[str, tuple[int, ...]] = {name: tuple(getattr(dpg, f"mvKey_{k}") for k in keys)
                                    for name, keys in _NAMED.items()}
MOUSE = {"mouse1": dpg.mvMouseButton_Left, "mouse2": dpg.mvMouseButton_Middle, "mouse3": dpg.mvMouseButton_Right}
_NAMES_OF: dict[int, tuple[str, ...]] = {}   # Dear PyGui key -> the Panda3D names it presses ("shift", "lshift")
for _name, _codes in KEYS.items():
    for _code in _codes:
        _NAMES_OF[_code] = (*_NAMES_OF.get(_code, ()), _name)


class EditorPlaySource:
    """An input source (``engine.input.sources.InputSource``) reading Dear PyGui while ``active()``
    says the game has the keyboard; ``view_height()`` scales mouse motion."""

    finished = False

    def __init__(self, actions: "Actions", active: Callable[[], bool], view_height: Callable[[], int]) -> None:
        self.actions = actions
        self.active = active
        self.view_height = view_height
        self._tapped: set[str] = set()
        self._last_pointer: tuple[float, float] | None = None

    def pressed(self, key: int) -> None:
        """A key went down (the editor's key handler): a tap shorter than a tick still counts once."""
        if self.active():
            self._tapped.update(_NAMES_OF.get(key, ()))

    def poll(self) -> RawFrame:
        if not self.active():
            self._tapped.clear()
            self._last_pointer = None
            return EMPTY
        down: set[str] = set()
        for name in self.actions.map.inputs():
            if name.startswith(GAMEPAD_PREFIX):
                continue
            codes = KEYS.get(name)
            if codes is not None and any(dpg.is_key_down(code) for code in codes):
                down.add(name)
            elif name in MOUSE and dpg.is_mouse_button_down(MOUSE[name]):
                down.add(name)
        axes: dict[str, float] = {}
        x, y = dpg.get_mouse_pos(local=False)
        if self._last_pointer is not None:
            height = max(1, self.view_height())
            dx, dy = (x - self._last_pointer[0]) / height, (self._last_pointer[1] - y) / height
            if dx:
                axes["mouse_x"] = dx
            if dy:
                axes["mouse_y"] = dy
        self._last_pointer = (x, y)
        tapped = frozenset(self._tapped & set(self.actions.map.inputs()))
        self._tapped.clear()
        return RawFrame(frozenset(down), tapped, axes)
