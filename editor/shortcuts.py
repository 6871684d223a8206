"""Keyboard shortcuts: one table that both the key handler and the help panel read, so the help
can never list a shortcut that does not work (or miss one that does)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import dearpygui.dearpygui as dpg


@dataclass(frozen=True)
class Shortcut:
    key: str           # a Dear PyGui key name after mvKey_: "Z", "F5", "Delete"
    action: str        # the editor action it runs
    text: str          # what the help panel says
    ctrl: bool = False
    shift: bool = False
    while_typing: bool = False  # also when a text field has the keyboard

    def label(self) -> str:
        return "+".join([*(["Ctrl"] if self.ctrl else []), *(["Shift"] if self.shift else []), self.key])


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("N", "new", "new world", ctrl=True),
    Shortcut("O", "open", "open a world file", ctrl=True),
    Shortcut("S", "save", "save", ctrl=True, while_typing=True),
    Shortcut("S", "save_as", "save as", ctrl=True, shift=True, while_typing=True),
    Shortcut("Z", "undo", "undo", ctrl=True),
    Shortcut("Z", "redo", "redo", ctrl=True, shift=True),
    Shortcut("Y", "redo", "redo", ctrl=True),
    Shortcut("D", "duplicate", "duplicate the selection", ctrl=True),
    Shortcut("Delete", "delete", "delete the selection"),
    Shortcut("F2", "rename", "rename the selected entity"),
    Shortcut("F", "frame", "frame the selection (everything when nothing is selected)"),
    Shortcut("C", "copy", "copy the selection (with what is under it)", ctrl=True),
    Shortcut("V", "paste", "paste as children of the selection (nothing selected: the top level; also into "
                           "another world opened since)", ctrl=True),
    Shortcut("V", "paste_sibling", "paste beside the selection (under its parent)", ctrl=True, shift=True),
    Shortcut("G", "group", "group the selection under a new empty entity", ctrl=True),
    Shortcut("H", "hide", "hide / show the selection in the editor"),
    Shortcut("L", "lock", "lock / unlock the selection (not pickable or movable in the view)"),
    Shortcut("W", "translate", "translate gizmo; again: switch world / local axes"),
    Shortcut("E", "rotate", "rotate gizmo; again: switch world / local axes"),
    Shortcut("R", "scale", "scale gizmo (always the entity's own axes)"),
    Shortcut("X", "snap", "snapping on / off (Ctrl while dragging: the other way)"),
    Shortcut("G", "grid", "show or hide the grid"),
    Shortcut("F3", "shading", "switch edit / full shading"),
    Shortcut("F5", "play", "Play / Stop"),
    Shortcut("Escape", "escape", "cancel a drag; stop Play", while_typing=True),
    Shortcut("1", "view_front", "front view"),
    Shortcut("3", "view_side", "side view"),
    Shortcut("7", "view_top", "top view"),
    Shortcut("5", "view_perspective", "perspective view"),
    Shortcut("F1", "help", "this help"),
    Shortcut("Q", "quit", "quit", ctrl=True),
)
MOUSE_HELP = (
    ("Left click", "select what is under the mouse (Shift: add / remove)"),
    ("Left drag on a gizmo handle", "move / rotate / scale along that axis (Ctrl: snap the other way); one undo step"),
    ("Left drag on empty space", "box select (Shift: add)"),
    ("Drag a row in the scene tree onto another", "reparent under it (empty space: the top level)"),
    ("Middle drag / Alt+left drag", "orbit"),
    ("Shift+middle drag", "pan"),
    ("Wheel", "zoom"),
    ("Right drag", "look around; with W A S D Q E held: fly (Shift: faster)"),
)


def match(key: int, ctrl: bool, shift: bool, typing: bool) -> Shortcut | None:
    """The shortcut for a key press with these modifiers, if any."""
    for shortcut in SHORTCUTS:
        if getattr(dpg, f"mvKey_{shortcut.key}", None) == key and shortcut.ctrl == ctrl and shortcut.shift == shift:
            if typing and not shortcut.while_typing:
                return None
            return shortcut
    return None


def build_help(window: int | str) -> None:
    """The help panel: every shortcut and mouse action."""
    with dpg.table(parent=window, header_row=True, borders_innerH=True, policy=dpg.mvTable_SizingStretchProp):
        dpg.add_table_column(label="keys")
        dpg.add_table_column(label="does")
        for shortcut in SHORTCUTS:
            with dpg.table_row():
                dpg.add_text(shortcut.label())
                dpg.add_text(shortcut.text)
        for keys, text in MOUSE_HELP:
            with dpg.table_row():
                dpg.add_text(keys)
                dpg.add_text(text)


def dispatch(shortcut: Shortcut, actions: Mapping[str, Callable[[], None]]) -> None:
    actions[shortcut.action]()
