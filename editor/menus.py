"""The menu bar and the toolbar. Both only name editor actions (the same ones the shortcuts
run), so every command has one implementation."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Sequence

import dearpygui.dearpygui as dpg

from editor.shortcuts import SHORTCUTS
from editor.templates import TEMPLATES

Actions = Mapping[str, Callable[[], None]]


def _shortcut_of(action: str) -> str:
    return next((s.label() for s in SHORTCUTS if s.action == action), "")


def _item(label: str, action: str, actions: Actions) -> None:
    dpg.add_menu_item(label=label, shortcut=_shortcut_of(action), callback=lambda: actions[action]())


def build_menu_bar(actions: Actions, create: Callable[[str], None]) -> None:
    with dpg.viewport_menu_bar(tag="storm_menu"):
        with dpg.menu(label="File"):
            _item("New", "new", actions)
            _item("Open...", "open", actions)
            dpg.add_menu(label="Open recent", tag="storm_recent")
            _item("Visit a grid...", "visit", actions)
            _item("Save", "save", actions)
            _item("Save as...", "save_as", actions)
            dpg.add_separator()
            _item("Quit", "quit", actions)
        with dpg.menu(label="Edit"):
            _item("Undo", "undo", actions)
            _item("Redo", "redo", actions)
            dpg.add_separator()
            _item("Duplicate", "duplicate", actions)
            _item("Delete", "delete", actions)
            _item("Rename", "rename", actions)
            dpg.add_separator()
            _item("Copy", "copy", actions)
            _item("Paste (as children of the selection)", "paste", actions)
            _item("Paste beside the selection", "paste_sibling", actions)
            _item("Group", "group", actions)
            _item("Hide / show in the editor", "hide", actions)
            _item("Lock / unlock", "lock", actions)
            dpg.add_separator()
            _item("Move gizmo", "translate", actions)
            _item("Rotate gizmo", "rotate", actions)
            _item("Scale gizmo", "scale", actions)
            _item("Snapping on / off", "snap", actions)
        with dpg.menu(label="Create"):
            for kind, (label, _name, _c) in TEMPLATES.items():
                dpg.add_menu_item(label=label, user_data=kind, callback=lambda s, a, k: create(k))
        with dpg.menu(label="View"):
            _item("Frame selection", "frame", actions)
            _item("Front", "view_front", actions)
            _item("Side", "view_side", actions)
            _item("Top", "view_top", actions)
            _item("Perspective", "view_perspective", actions)
            dpg.add_separator()
            _item("Grid", "grid", actions)
            _item("Edit / full shading", "shading", actions)
            _item("Low resolution while moving", "low_res", actions)
            _item("NPCs panel", "npcs", actions)
            _item("Reset panel layout (next start)", "reset_layout", actions)
        with dpg.menu(label="Play"):
            _item("Play / Stop", "play", actions)
            _item("Pause / Resume", "pause", actions)
            _item("Step one tick", "step", actions)
        with dpg.menu(label="Help"):
            _item("Shortcuts", "help", actions)


def fill_recent(paths: Sequence[str], open_path: Callable[[Path], None]) -> None:
    if not dpg.does_item_exist("storm_recent"):
        return
    dpg.delete_item("storm_recent", children_only=True)
    if not paths:
        dpg.add_menu_item(label="(none yet)", parent="storm_recent", enabled=False)
    for path in paths:
        dpg.add_menu_item(label=path, parent="storm_recent", user_data=path,
                          callback=lambda s, a, p: open_path(Path(p)))


def build_toolbar(window: int | str, actions: Actions) -> None:
    with dpg.group(horizontal=True, parent=window):
        dpg.add_button(label="Play", tag="storm_play_button", callback=lambda: actions["play"]())
        dpg.add_button(label="Pause", callback=lambda: actions["pause"]())
        dpg.add_button(label="Step", callback=lambda: actions["step"]())
        dpg.add_spacer(width=12)
        dpg.add_button(label="Move (W)", tag="storm_translate_button", callback=lambda: actions["translate"]())
        dpg.add_button(label="Rotate (E)", tag="storm_rotate_button", callback=lambda: actions["rotate"]())
        dpg.add_button(label="Scale (R)", tag="storm_scale_button", callback=lambda: actions["scale"]())
        dpg.add_button(label="Snap (X)", tag="storm_snap_button", callback=lambda: actions["snap"]())
        dpg.add_button(label="Steps...", tag="storm_snap_steps_button")
        dpg.add_button(label="Frame (F)", callback=lambda: actions["frame"]())
        dpg.add_button(label="Grid", callback=lambda: actions["grid"]())
        dpg.add_button(label="Shading", tag="storm_shading_button", callback=lambda: actions["shading"]())
        dpg.add_spacer(width=12)
        for label, action in (("Front", "view_front"), ("Side", "view_side"), ("Top", "view_top"),
                              ("Persp", "view_perspective")):
            dpg.add_button(label=label, user_data=action, callback=lambda s, a, u: actions[u]())
        dpg.add_spacer(width=12)
        dpg.add_text("", tag="storm_status")
