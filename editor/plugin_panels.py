"""The plugins' part of the editor: the panels they declare (in the Plugins window, one section
each), their menu items (in the menu they name, under the Plugins menu), and the widgets they
add under a component in the inspector.

Plugins describe widgets as data (``plugins.declarations.WIDGETS``: text, button, checkbox,
slider, input, separator, group), checked by the plugin host; this module only turns that data
into Dear PyGui items. A widget that is used calls the plugin's ``storm_editor_action``; the world
commands the plugin applies meanwhile become one undoable step in the editor's history (named
after the plugin and action), so a plugin edits the open world the way the editor does. A plugin
that fails is stopped by the host and its section says so; the editor goes on.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable

import dearpygui.dearpygui as dpg

from engine.core.commands import Command
from engine.core.events import CommandApplied

if TYPE_CHECKING:
    from editor.session import Session
    from plugins.host import PluginHost

log = logging.getLogger("storm.editor")
PLAY_REFRESH_S = 0.5  # while Play runs, panels are asked again this often (their text follows the game)


class PluginPanels:
    """Draws the running plugins' panels, menu items and inspector sections."""

    def __init__(self, session: "Session", host: "PluginHost | None") -> None:
        self.session = session
        self.host = host
        self.window: int | str = 0
        self._sections: dict[str, int] = {}     # qualified panel id -> its content group
        self._widgets: list[int] = []
        self._key: tuple = ()
        self._asked = 0.0
        self._pending: list[Callable[[], None]] = []

    # -- building ---------------------------------------------------------------------------------
    def build(self, window: int | str) -> None:
        self.window = window
        if self.host is None:
            dpg.add_text("No plugins: none of the enabled packs carries one.", parent=window)
            return
        panels = self.host.editor.panels()
        if not panels:
            dpg.add_text("The running plugins declare no panels.", parent=window)
        for decl in panels:
            with dpg.collapsing_header(label=f"{decl.text or decl.local} ({decl.plugin})", parent=window,
                                       default_open=True):
                self._sections[decl.name] = dpg.add_group()

    def build_menu(self, menu_bar: int | str) -> None:
        """A Plugins menu holding each plugin menu item under the menu it names."""
        if self.host is None:
            return
        items = self.host.editor.menu_items()
        if not items:
            return
        with dpg.menu(label="Plugins", parent=menu_bar):
            menus: dict[str, int] = {}
            for decl in items:
                name = str(decl.extra("menu") or "Plugins")
                if name not in menus:
                    menus[name] = dpg.add_menu(label=name)
                dpg.add_menu_item(label=decl.text or decl.local, parent=menus[name], user_data=decl.name,
                                  callback=lambda s, a, action: self.use(action))

    # -- using widgets ----------------------------------------------------------------------------
    def use(self, action: str, value: Any = None) -> bool:
        """A plugin widget or menu item was used: call the plugin; the world commands it applies
        become one history step. False when the plugin is not running or failed."""
        if self.host is None:
            return False
        session = self.session
        if session.read_only:   # a plugin's commands would change a World the editor only looks at
            session.say(f"plugin action {action} refused: {session.read_only}", logging.WARNING)
            return False
        world = session.world if session.document is not None else None
        applied: list[tuple[Command, Command]] = []
        stop = world.events.subscribe(CommandApplied, lambda e: applied.append((e.command, e.inverse))) \
            if world is not None else None
        try:
            ok = self.host.editor.action(action, session.selection.ids, value, world)
        finally:
            if stop is not None:
                stop()
        if applied and session.document is not None and not session.play.playing:
            session.document.record_applied(f"{action} (plugin)", applied)
        if not ok:
            session.say(f"plugin action {action} did not run: {self._why(action)}", logging.WARNING)
        self._key = ()  # ask the panels again
        return ok

    def _why(self, action: str) -> str:
        plugin_id = action.partition(":")[0]
        record = self.host.records.get(plugin_id) if self.host is not None else None
        if record is None:
            return f"no plugin {plugin_id!r} is loaded"
        return str(record.failure) if record.failure else f"the plugin is {record.status}"

    # -- refreshing -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask the plugins for their panels again when the selection or the world changed (every
        half second while Play runs); never while one of their widgets is being dragged or typed in."""
        if self.host is None or not self._sections:
            return
        session = self.session
        document = session.document
        key = (session.selection.version, document.version if document else -1, id(document),
               tuple(r.status for r in self.host.records.values()))
        now = time.monotonic()
        playing = session.play.playing and now - self._asked >= PLAY_REFRESH_S
        if key == self._key and not playing:
            return
        if any(dpg.does_item_exist(w) and dpg.get_item_state(w).get("active") for w in self._widgets):
            return
        self._key, self._asked = key, now
        world = session.world if document is not None else None
        self._widgets.clear()
        for panel, group in self._sections.items():
            dpg.delete_item(group, children_only=True)
            widgets = self.host.editor.draw_panel(panel, session.selection.ids, world)
            if not widgets and panel.partition(":")[0] not in self.host.running():
                dpg.add_text(f"stopped: {self._why(panel)}", parent=group, wrap=300)
            self.add_widgets(widgets, group)

    def inspector_section(self, type_name: str, entity: int, values: dict[str, Any], parent: int | str) -> int:
        """Add the plugins' widgets for one component of ``entity`` under ``parent``; how many plugins added some."""
        if self.host is None:
            return 0
        world = self.session.world if self.session.document is not None else None
        added = 0
        for plugin_id, widgets in self.host.editor.draw_inspectors(type_name, entity, values, world).items():
            if widgets:
                dpg.add_text(f"{plugin_id}:", parent=parent, color=(150, 170, 220, 255))
                self.add_widgets(widgets, parent)
                added += 1
        return added

    def add_widgets(self, widgets: list[dict[str, Any]], parent: int | str) -> None:
        """Dear PyGui items for checked widget data (``plugins.declarations.parse_widgets``)."""
        for widget in widgets:
            kind, label, action = widget["kind"], widget.get("label", ""), widget.get("action", "")
            if kind == "text":
                dpg.add_text(widget.get("text", ""), parent=parent, wrap=320)
                continue
            if kind == "separator":
                dpg.add_separator(parent=parent)
                continue
            if kind == "group":
                node = dpg.add_tree_node(label=label or "group", parent=parent, default_open=True)
                self.add_widgets(widget.get("children", []), node)
                continue
            if kind == "button":
                item = dpg.add_button(label=label or action, parent=parent, user_data=action,
                                      callback=lambda s, a, u: self.use(u))
            elif kind == "checkbox":
                item = dpg.add_checkbox(label=label, parent=parent, default_value=bool(widget.get("value", False)),
                                        user_data=action, callback=lambda s, a, u: self.use(u, bool(a)))
            elif kind == "slider":
                low, high = float(widget.get("min", 0.0)), float(widget.get("max", 1.0))
                item = dpg.add_slider_float(label=label, parent=parent, min_value=low, max_value=max(high, low),
                                            default_value=float(widget.get("value", low)), user_data=action,
                                            callback=lambda s, a, u: self.use(u, float(a)))
            else:  # input
                item = dpg.add_input_text(label=label, parent=parent, default_value=str(widget.get("value", "")),
                                          on_enter=True, user_data=action, callback=lambda s, a, u: self.use(u, a))
            self._widgets.append(item)
