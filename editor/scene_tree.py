"""The scene tree panel: entities as a tree (parent over children, in id order), click to select
(shift adds), double-click to rename, a name filter, Create / Duplicate / Delete / Group / Hide /
Lock buttons, and drag a row onto another to reparent (onto empty space below the rows: to the
top level). Everything it changes goes through the session's commands (``tree_edits``); hide and
lock are editor state, shown as ``[hidden]`` / ``[locked]`` after the name.

Dragging is the tree's own (Dear PyGui 2.3's drag and drop is unreliable): a press on a row, a
move of a few pixels with the button held, and the release over a row makes one ``Reparent``
(world transform kept) of the dragged row, or of the whole selection when the row was selected.

The tree is rebuilt only when the world's structure (ids, parents, names) changed, and then
keeps which nodes were open; selection only restyles rows. At most ``MAX_ROWS`` rows are shown
(a filter finds the rest): Dear PyGui is not made for a hundred thousand widgets.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import dearpygui.dearpygui as dpg

from editor.templates import TEMPLATES

if TYPE_CHECKING:
    from editor.session import Session

MAX_ROWS = 2000
DRAG_PX = 6.0
ROW_PX = 20.0  # a tree row's height with Dear PyGui's default font and padding
LIVE_EVERY_S = 0.5  # a live document (a visited region) changes each frame: its rows are looked at this often


class SceneTree:
    """The widgets of the scene tree."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self._rows: dict[int, int] = {}      # entity -> tree node item
        self._entity_of: dict[int, int] = {}  # tree node item -> entity
        self._structure: tuple = ()
        self._looked_at = 0.0                # when a live document's rows were last compared
        self._key: tuple = ()                # what _changed compared last
        self._styled: set[int] = set()
        self._theme = 0
        self._body = 0
        self._rename_target = 0
        self._window: int | str = 0
        self._press: tuple[int, float, float, bool] | None = None  # row entity, mouse x, y, dragging
        self.last_drop: tuple[list[int], int, str] | None = None   # what the last drop did (ids, parent, refusal)

    def build(self, window: int | str) -> None:
        self._window = window
        with dpg.group(horizontal=True, parent=window):
            dpg.add_button(label="Create", tag="storm_tree_create")
            with dpg.popup("storm_tree_create", mousebutton=dpg.mvMouseButton_Left):
                for kind, (label, _name, _c) in TEMPLATES.items():
                    dpg.add_menu_item(label=label, user_data=kind, callback=lambda s, a, k: self._create(k))
            dpg.add_button(label="Duplicate", callback=lambda: self._guard(self.session.duplicate_selected))
            dpg.add_button(label="Delete", callback=lambda: self._guard(self.session.delete_selected))
        with dpg.group(horizontal=True, parent=window):
            edits = self.session.tree_edits
            dpg.add_button(label="Group", callback=lambda: self._guard(edits.group_selected))
            dpg.add_button(label="Hide", callback=lambda: self._guard(edits.toggle_hidden))
            dpg.add_button(label="Lock", callback=lambda: self._guard(edits.toggle_locked))
            dpg.add_text("", tag="storm_tree_hint", color=(255, 200, 90, 255))
        dpg.add_input_text(parent=window, hint="filter by name or component", width=-1, tag="storm_tree_filter",
                           callback=lambda: self.refresh(force=True))
        self._body = dpg.add_child_window(parent=window, border=False, tag="storm_tree_body")
        with dpg.item_handler_registry(tag="storm_tree_handlers"):
            dpg.add_item_clicked_handler(button=dpg.mvMouseButton_Left, callback=self._clicked)
            dpg.add_item_double_clicked_handler(button=dpg.mvMouseButton_Left, callback=self._double_clicked)
        with dpg.theme() as self._theme:
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvThemeCol_Text, (255, 160, 40, 255))
        with dpg.window(label="Rename", tag="storm_rename", show=False, modal=True, no_resize=True, autosize=True):
            dpg.add_input_text(tag="storm_rename_text", width=260, on_enter=True, callback=self._rename_done)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Rename", callback=self._rename_done)
                dpg.add_button(label="Cancel", callback=lambda: dpg.configure_item("storm_rename", show=False))

    def _guard(self, action) -> None:  # type: ignore[no-untyped-def]
        from editor.session import EditRefused

        try:
            action()
        except EditRefused as exc:
            self.session.say(str(exc))

    def _create(self, kind: str) -> None:
        self._guard(lambda: self.session.create(kind))

    # -- rows ---------------------------------------------------------------------------------------
    def _signature(self) -> tuple:
        world = self.session.world
        needle = (dpg.get_value("storm_tree_filter") or "").strip().lower()
        return (needle, self.session.marks.version,
                tuple((eid, world.parent_of(eid), world.name_of(eid)) for eid in sorted(world.entities())))

    def _changed(self) -> bool:
        """Whether the rows may have changed since the last rebuild (O(1): the filter, the marks, the
        world and its structure version), so an unchanged world costs nothing a frame."""
        world = self.session.world
        key = ((dpg.get_value("storm_tree_filter") or "").strip().lower(), self.session.marks.version, world.serial,
               world.structure_version)
        if key == self._key:
            return False
        self._key = key
        return True

    def refresh(self, force: bool = False) -> None:
        """Rebuild when the structure changed; restyle the selected rows."""
        if self.session.document is None or not self._body:
            return
        now = time.monotonic()
        if force or not self.session.document.live or now - self._looked_at >= LIVE_EVERY_S:
            self._looked_at = now             # a region streaming prims: not every frame over every entity
            if force or self._changed():
                signature = self._signature()
                if force or signature != self._structure:
                    self._rebuild(signature)
        self._restyle()
        self._follow_drag()

    def _label(self, eid: int) -> str:
        world = self.session.world
        name = world.name_of(eid) or "(no name)"
        kinds = [type(c).type_name.rsplit(".", 1)[-1] for c in world.components(eid)]
        prefab = " [prefab]" if eid in world.prefab_instances else ""
        marks = self.session.marks
        prefab += (" [hidden]" if eid in marks.hidden else "") + (" [locked]" if eid in marks.locked else "")
        return f"{name}{prefab}  #{eid}" + (f"  ({', '.join(kinds[:3])})" if kinds else "")

    def _rebuild(self, signature: tuple) -> None:
        opened = {eid for eid, item in self._rows.items() if dpg.does_item_exist(item) and dpg.get_value(item)}
        first = not self._structure
        self._structure = signature
        needle, _marks, rows = signature
        dpg.delete_item(self._body, children_only=True)
        self._rows.clear()
        self._entity_of.clear()
        self._styled.clear()
        world = self.session.world
        children: dict[int, list[int]] = {}
        for eid, parent, _name in rows:
            children.setdefault(parent, []).append(eid)
        count = 0
        if needle:
            for eid, _parent, name in rows:
                kinds = " ".join(type(c).type_name.lower() for c in world.components(eid))
                if needle in name.lower() or needle in kinds:
                    count += 1
                    if count > MAX_ROWS:
                        break
                    self._add_row(eid, self._body, leaf=True, open_=False)
        else:
            stack = [(eid, self._body) for eid in reversed(children.get(0, []))]
            while stack and count < MAX_ROWS:
                eid, parent_item = stack.pop()
                count += 1
                kids = children.get(eid, [])
                item = self._add_row(eid, parent_item, leaf=not kids, open_=(eid in opened) or (first and False))
                for kid in reversed(kids):
                    stack.append((kid, item))
        if count > MAX_ROWS:
            dpg.add_text(f"... more than {MAX_ROWS} entities: use the filter", parent=self._body)

    def _add_row(self, eid: int, parent: int, leaf: bool, open_: bool) -> int:
        item = dpg.add_tree_node(label=self._label(eid), parent=parent, leaf=leaf, default_open=open_,
                                 open_on_arrow=True, open_on_double_click=False, span_full_width=True)
        dpg.bind_item_handler_registry(item, "storm_tree_handlers")
        self._rows[eid] = item
        self._entity_of[item] = eid
        return item

    def _restyle(self) -> None:
        selected = set(self.session.selection.ids)
        for eid in self._styled - selected:
            item = self._rows.get(eid)
            if item is not None and dpg.does_item_exist(item):
                dpg.bind_item_theme(item, 0)
        for eid in selected - self._styled:
            item = self._rows.get(eid)
            if item is not None:
                dpg.bind_item_theme(item, self._theme)
        self._styled = selected & set(self._rows)

    def open_to(self, eid: int) -> None:
        """Open the tree down to ``eid`` (selected elsewhere: the view, the console)."""
        world = self.session.world
        parent = world.parent_of(eid) if world.exists(eid) else 0
        while parent:
            item = self._rows.get(parent)
            if item is not None:
                dpg.set_value(item, True)
            parent = world.parent_of(parent)

    # -- clicks and drags -------------------------------------------------------------------------
    def _clicked(self, _sender: int, app_data: list) -> None:
        eid = self._entity_of.get(app_data[1], 0)
        if not eid:
            return
        x, y = dpg.get_mouse_pos(local=False)
        self._press = (eid, x, y, False)
        if dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift):
            self.session.selection.toggle(eid)
        elif eid not in self.session.selection:
            self.session.selection.set([eid])
        # a press on a selected row keeps the selection (to drag all of it); the release picks the row

    def row_at(self, x: float, y: float) -> int | None:
        """The entity whose row is at viewport point (x, y); 0 for the tree's empty space; None outside the tree."""
        if not self._window or not dpg.does_item_exist(self._window):
            return None
        (bx, by), (bw, bh) = dpg.get_item_pos(self._window), dpg.get_item_rect_size(self._window)
        if not (bx <= x <= bx + bw and by <= y <= by + bh):
            return None
        for eid, item in self._rows.items():
            if not dpg.is_item_visible(item):
                continue
            (rx, ry) = dpg.get_item_rect_min(item)
            if ry <= y < ry + ROW_PX and rx - 40 <= x:
                return eid
        return 0

    def _follow_drag(self) -> None:
        press = self._press
        if press is None:
            return
        eid, x0, y0, dragging = press
        x, y = dpg.get_mouse_pos(local=False)
        if dpg.is_mouse_button_down(dpg.mvMouseButton_Left):
            if not dragging and abs(x - x0) + abs(y - y0) > DRAG_PX:
                self._press = (eid, x0, y0, True)
            if self._press[3]:
                target = self.row_at(x, y)
                where = ("nowhere (let go outside the tree: nothing happens)" if target is None else
                         "the top level" if target == 0 else self.session.world.name_of(target) or f"#{target}")
                dpg.set_value("storm_tree_hint", f"drop to put under {where}")
            return
        self._press = None
        dpg.set_value("storm_tree_hint", "")
        shift = dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift)
        if not dragging:
            if not shift and self.session.world.exists(eid):
                self.session.selection.set([eid])
            return
        target = self.row_at(x, y)
        if target is not None and target != eid:
            ids = self.session.selection.ids if eid in self.session.selection else [eid]
            self.drop(ids, target)

    def drop(self, ids: list[int], parent: int) -> str:
        """Put ``ids`` under ``parent`` (0: the top level), as a drop does; '' or the refusal."""
        reason = self.session.tree_edits.reparent(ids, parent)
        self.last_drop = (list(ids), parent, reason)
        return reason

    def _double_clicked(self, _sender: int, app_data: list) -> None:
        self.start_rename(self._entity_of.get(app_data[1], 0))

    def start_rename(self, eid: int) -> None:
        if self.session.read_only:
            self.session.say(f"rename: {self.session.read_only}")
            return
        if not eid or not self.session.world.exists(eid):
            return
        self._rename_target = eid
        dpg.set_value("storm_rename_text", self.session.world.name_of(eid))
        dpg.configure_item("storm_rename", show=True)
        dpg.focus_item("storm_rename_text")

    def _rename_done(self) -> None:
        dpg.configure_item("storm_rename", show=False)
        eid, self._rename_target = self._rename_target, 0
        if eid:
            self._guard(lambda: self.session.rename(eid, dpg.get_value("storm_rename_text")))
