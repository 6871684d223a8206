"""The inspector: name, transform and every component of the selection, with one widget per
declared field, chosen by the field's type (``engine/core/fields.py``): drags with range and unit
for numbers, drags of 2-4 numbers for vectors, colour editors, drop-downs for enums, a checkbox
per named bit for flags, checkboxes, text for strings and asset ids. Fields a system writes are
shown but not editable. An asset field has a chooser listing the assets of its declared kind; an
entity field a chooser listing the entities and "pick", which takes the next click in the 3D
view (``pickers.py``). A prefab instance's member shows what it overrides, with Apply and Revert
(``prefab_overrides.py``); overridden fields are marked with ``*``.

An edit becomes a command when the widget is let go (drag released, Enter, a click): one undo
step however long the drag. With several entities selected the inspector shows what they have
in common (values of the first; ``~`` marks a field whose values differ) and an edit sets all of
them in one step. While a gizmo drag moves the selection (a preview, no command yet), the primary
entity's transform fields follow it live: those three fields only, at most once per drawn frame,
and only when the values changed. A value the field refuses (out of range, text in a number field) changes
nothing; the reason, in the declaration's words, stays in red at the top. A read-only document (a
visited region) shows every field disabled under a line saying why, and refuses every submit.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

import dearpygui.dearpygui as dpg

from editor.field_edit import Refused, describe_field, field_command, transform_command
from editor.pickers import FieldChoosers
from editor.prefab_overrides import Membership, build_component_row, build_header, membership
from engine.core.commands import Transaction
from engine.core.edit_commands import AddComponent, RemoveComponent
from engine.core.fields import AssetRef, Bool, ColorType, EntityRef, Enum, Field, Flags, Float, Int, Vector

if TYPE_CHECKING:
    from editor.session import Session

ERROR_COLOUR = (255, 110, 90, 255)
READ_ONLY_COLOUR = (240, 190, 90, 255)


class Inspector:
    """The widgets of the inspector panel."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.window: int | str = 0
        self._body = 0
        self._key: tuple = ()
        self._widgets: dict[int, tuple[str, str, str]] = {}   # item -> (kind, type name, field name)
        self._entity_items: set[int] = set()  # entity fields (their format shows the entity's name)
        self._transform_items: dict[str, int] = {}  # pos / hpr / scale -> its widget (live while dragging)
        self._live: tuple | None = None  # the transform last shown live during a drag
        self._version = (-1, -1)
        self.refusal = ""
        # (type name, entity, field values, parent item) -> adds widgets under a component (the plugins' sections)
        self.extra_section: Callable[[str, int, dict[str, Any], int | str], Any] | None = None
        self.choosers = FieldChoosers(session, self.submit_field)  # the app gives it the popup and the view

    def build(self, window: int | str) -> None:
        self.window = window
        dpg.add_text("", parent=window, tag="storm_inspector_refusal", color=ERROR_COLOUR, wrap=0)
        self._body = dpg.add_group(parent=window, tag="storm_inspector_body")
        with dpg.item_handler_registry(tag="storm_inspector_handlers"):
            dpg.add_item_deactivated_after_edit_handler(callback=self._released)
        with dpg.theme() as greyed:   # fields that cannot be edited look it
            for kind in (dpg.mvInputText, dpg.mvInputFloatMulti, dpg.mvDragFloat, dpg.mvDragInt, dpg.mvCombo,
                         dpg.mvCheckbox, dpg.mvColorEdit, dpg.mvButton):
                with dpg.theme_component(kind, enabled_state=False):
                    dpg.add_theme_color(dpg.mvThemeCol_Text, (135, 135, 135, 255))
                    dpg.add_theme_color(dpg.mvThemeCol_FrameBg, (32, 32, 34, 255))
        dpg.bind_item_theme(window, greyed)

    # -- edits (widgets and the driver come here) ---------------------------------------------------
    def _read_only(self) -> str:
        """The read-only document's reason, said and shown as a refusal ('' when edits may be made)."""
        reason = self.session.read_only
        if reason:
            self.session.say(f"refused: {reason}", logging.WARNING)
            self._refused(reason)
        return reason

    def submit_field(self, type_name: str, field_name: str, value: Any) -> str:
        """Set a field on every selected entity that has the component: '' on success, else the reason."""
        session = self.session
        if self._read_only():
            return session.read_only
        try:
            command = field_command(session.world, session.selection.ids, type_name, field_name, value)
        except Refused as exc:
            return self._refused(f"{type_name}.{field_name}: {exc.reason}")
        reason = session.try_do(command, f"set {type_name}.{field_name}")
        return self._refused(f"{type_name}.{field_name}: {reason}") if reason else self._accepted()

    def submit_transform(self, part: str, value: Any) -> str:
        session = self.session
        if self._read_only():
            return session.read_only
        try:
            command = transform_command(session.world, session.selection.ids, part, value)
        except Refused as exc:
            return self._refused(exc.reason)
        reason = session.try_do(command, f"set {part}")
        return self._refused(f"{part}: {reason}") if reason else self._accepted()

    def submit_name(self, name: Any) -> str:
        if self._read_only():
            return self.session.read_only
        if not isinstance(name, str):
            return self._refused("a name is text")
        from editor.session import EditRefused

        ids = self.session.selection.ids
        if len(ids) != 1:
            return self._refused("rename one entity at a time")
        try:
            self.session.rename(ids[0], name)
        except (EditRefused, Exception) as exc:  # noqa: BLE001 - CommandError or EditRefused: shown
            return self._refused(getattr(exc, "reason", str(exc)))
        return self._accepted()

    def add_component(self, type_name: str) -> str:
        if self._read_only():
            return self.session.read_only
        ids = self.session.selection.ids
        world = self.session.world
        cls = world.registry.get(type_name)
        targets = [eid for eid in ids if cls is not None and world.get(eid, cls) is None]
        if not targets:
            return self._refused(f"every selected entity has a {type_name} already" if ids else "nothing is selected")
        steps = [AddComponent(eid, type_name, {}) for eid in targets]
        reason = self.session.try_do(steps[0] if len(steps) == 1 else Transaction(f"add {type_name}", steps),
                                     f"add {type_name}")
        return self._refused(reason) if reason else self._accepted()

    def remove_component(self, type_name: str) -> str:
        if self._read_only():
            return self.session.read_only
        world = self.session.world
        cls = world.registry.get(type_name)
        steps = [RemoveComponent(eid, type_name) for eid in self.session.selection.ids
                 if cls is not None and world.get(eid, cls) is not None]
        if not steps:
            return self._refused(f"no selected entity has a {type_name}")
        reason = self.session.try_do(steps[0] if len(steps) == 1 else Transaction(f"remove {type_name}", steps),
                                     f"remove {type_name}")
        return self._refused(reason) if reason else self._accepted()

    def _refused(self, reason: str) -> str:
        self.refusal = reason
        if dpg.does_item_exist("storm_inspector_refusal"):
            dpg.set_value("storm_inspector_refusal", f"Refused: {reason}")
        self._version = (-1, -1)  # put the widgets back to the world's values
        return reason

    def _accepted(self) -> str:
        self.refusal = ""
        if dpg.does_item_exist("storm_inspector_refusal"):
            dpg.set_value("storm_inspector_refusal", "")
        return ""

    def _released(self, _sender: int, item: int) -> None:
        kind, type_name, field_name = self._widgets.get(item, ("", "", ""))
        self._commit(item, kind, type_name, field_name)

    def _changed(self, item: int) -> None:
        kind, type_name, field_name = self._widgets.get(item, ("", "", ""))
        self._commit(item, kind, type_name, field_name)

    def _commit(self, item: int, kind: str, type_name: str, field_name: str) -> None:
        value = dpg.get_value(item)
        if kind == "field":
            self.submit_field(type_name, field_name, value)
        elif kind == "colour":  # Dear PyGui's colour widgets take and give 0-255
            self.submit_field(type_name, field_name, [min(1.0, max(0.0, v / 255.0)) for v in value])
        elif kind == "transform":
            self.submit_transform(field_name, value)
        elif kind == "name":
            self.submit_name(value)
        elif kind == "bit":
            bit = int(field_name.rsplit(":", 1)[1])
            name = field_name.rsplit(":", 1)[0]
            current = getattr(self._primary_component(type_name), name, 0)
            self.submit_field(type_name, name, (current | (1 << bit)) if value else (current & ~(1 << bit)))

    def _primary_component(self, type_name: str) -> Any:
        world = self.session.world
        cls = world.registry.get(type_name)
        primary = self.session.selection.primary
        return world.get(primary, cls) if cls is not None and primary and world.exists(primary) else None

    def text_fields(self) -> list[int]:
        """The widgets that take typed text (shortcuts stay out of their way while they are active)."""
        return [item for item, (kind, *_rest) in self._widgets.items() if kind in ("field", "name", "transform")]

    # -- showing --------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild when the selection's shape changed, else put current values into the widgets."""
        session = self.session
        if session.document is None or not self._body:
            return
        version = (session.document.version, session.selection.version)
        if version == self._version and not session.play.playing:
            if session.gizmo.dragging or self._live is not None:
                self._follow_drag(session.gizmo.dragging)
            return
        self._live = None
        self._version = version
        world = session.world
        ids = [eid for eid in session.selection.ids if world.exists(eid)]
        common = self._common_types(ids)
        found = membership(world, ids[0]) if len(ids) == 1 and not session.play.playing else None
        overrides = repr(found.overrides) if found is not None else ""  # an override made or undone: rebuild
        key = (tuple(ids), tuple(common), session.play.playing, overrides, session.read_only)
        if key != self._key:
            if self._key and key[0] != self._key[0]:
                self.refusal = ""  # another selection: an old refusal no longer applies
            self._key = key
            self._rebuild(ids, common)
        else:
            self._update_values(ids)

    def _follow_drag(self, dragging: bool) -> None:
        """A gizmo drag moves nodes without a command: show the primary's transform as it is now
        (and once more when the drag is cancelled, so the fields go back with the nodes)."""
        world, primary = self.session.world, self.session.selection.primary
        if not primary or not world.exists(primary) or not self._transform_items:
            self._live = None
            return
        node = world.node(primary)
        values = {"pos": node.getPos(), "hpr": node.getHpr(), "scale": node.getScale()}
        shown = tuple(tuple(v) for v in values.values())
        if shown != self._live:
            for part, item in self._transform_items.items():
                if dpg.does_item_exist(item) and not dpg.is_item_active(item):
                    dpg.set_value(item, list(values[part]))
        self._live = shown if dragging else None

    def _common_types(self, ids: list[int]) -> list[str]:
        world = self.session.world
        if not ids:
            return []
        names = [type(c).type_name for c in world.components(ids[0])]
        for eid in ids[1:]:
            have = {type(c).type_name for c in world.components(eid)}
            names = [n for n in names if n in have]
        return names

    def _rebuild(self, ids: list[int], common: list[str]) -> None:
        dpg.delete_item(self._body, children_only=True)
        self._widgets.clear()
        self._entity_items.clear()
        self._transform_items.clear()
        world = self.session.world
        body = self._body
        read_only = self.session.read_only
        if read_only:
            dpg.add_text(read_only[:1].upper() + read_only[1:], parent=body, wrap=0, color=READ_ONLY_COLOUR)
        if not ids:
            dpg.add_text("Nothing selected. Click an entity in the view or the scene tree.", parent=body, wrap=0)
            return
        primary = ids[0]
        found: Membership | None = None
        if len(ids) == 1:
            dpg.add_text(f"Entity #{primary}", parent=body)
            found = membership(world, primary)
            if found is not None and not self.session.play.playing:
                build_header(self.session, primary, found, body)
            self._track(dpg.add_input_text(label="name", default_value=world.name_of(primary), parent=body,
                                           on_enter=True, width=-60, enabled=not read_only), "name", "", "")
        else:
            dpg.add_text(f"{len(ids)} entities selected: edits set all of them", parent=body)
        with dpg.collapsing_header(label="Transform", default_open=True, parent=body):
            node = world.node(primary)
            for part, value, speed in (("pos", node.getPos(), 0.05), ("hpr", node.getHpr(), 0.5),
                                       ("scale", node.getScale(), 0.01)):
                item = _floats(label=part, size=3, default_value=list(value), speed=speed, format="%.3f", width=-60,
                               enabled=not read_only)
                self._track(item, "transform", "", part)
                self._transform_items[part] = item
        for type_name in common:
            component = self._component(primary, type_name)
            if component is None:
                continue
            with dpg.collapsing_header(label=type_name, default_open=True, parent=body):
                if not read_only:
                    dpg.add_button(label=f"Remove {type_name}", small=True, user_data=type_name,
                                   callback=lambda s, a, t: self.remove_component(t))
                overridden: set[str] = set()
                if found is not None and not self.session.play.playing:
                    build_component_row(self.session, primary, found, type_name)
                    overridden = found.fields_of(type_name)
                group = ""
                for name, declared in type(component).fields.items():
                    if declared.group and declared.group != group:
                        group = declared.group
                        dpg.add_text(group, color=(150, 170, 200, 255))
                    self._field_widget(type_name, name, declared, getattr(component, name),
                                       self._mixed(ids, type_name, name), name in overridden)
                if self.extra_section is not None and len(ids) == 1:   # plugins' widgets for this component
                    self.extra_section(type_name, primary, component.to_data(only_changed=False),
                                       dpg.top_container_stack())
        if not read_only:
            self._add_component_row(body)
        self._refusal_reset()

    def _refusal_reset(self) -> None:
        if dpg.does_item_exist("storm_inspector_refusal"):
            dpg.set_value("storm_inspector_refusal", f"Refused: {self.refusal}" if self.refusal else "")

    def _add_component_row(self, body: int) -> None:
        names = self.session.world.registry.names()
        with dpg.group(horizontal=True, parent=body):
            dpg.add_combo(names, tag=dpg.generate_uuid(), width=200, user_data=None,
                          callback=lambda s, a: self.add_component(a), label="add component")

    def _component(self, eid: int, type_name: str) -> Any:
        world = self.session.world
        cls = world.registry.get(type_name)
        return world.get(eid, cls) if cls is not None else None

    def _mixed(self, ids: list[int], type_name: str, name: str) -> bool:
        values = {repr(getattr(self._component(eid, type_name), name, None)) for eid in ids}
        return len(values) > 1

    def _track(self, item: int, kind: str, type_name: str, field_name: str) -> int:
        self._widgets[item] = (kind, type_name, field_name)
        dpg.bind_item_handler_registry(item, "storm_inspector_handlers")
        return item

    def _field_widget(self, type_name: str, name: str, declared: Field, value: Any, mixed: bool,
                      overridden: bool = False) -> None:
        kind = declared.type
        label = f"{name}{' ~' if mixed else ''}{' *' if overridden else ''}"
        enabled = declared.editable and not self.session.play.playing and not self.session.read_only
        common: dict[str, Any] = {"label": label, "enabled": enabled, "width": -110}
        unit = f" {declared.unit}" if declared.unit else ""
        item: int
        if isinstance(kind, Bool):
            item = dpg.add_checkbox(default_value=bool(value), callback=lambda s: self._changed(s),
                                    label=label, enabled=enabled)
            self._widgets[item] = ("field", type_name, name)
        elif isinstance(kind, Enum):
            item = dpg.add_combo(list(kind.choices), default_value=value, callback=lambda s: self._changed(s), **common)
            self._widgets[item] = ("field", type_name, name)
        elif isinstance(kind, Flags) and kind.names:
            dpg.add_text(label)
            for bit, bit_name in enumerate(kind.names):
                box = dpg.add_checkbox(label=f"  {bit_name}", default_value=bool(value & (1 << bit)),
                                       enabled=enabled, callback=lambda s: self._changed(s))
                self._widgets[box] = ("bit", type_name, f"{name}:{bit}")
            item = 0
        elif isinstance(kind, ColorType):
            item = dpg.add_color_edit(default_value=_to_255(value), no_alpha=kind.length == 3, alpha_bar=True,
                                      display_type=dpg.mvColorEdit_float, **common)
            self._track(item, "colour", type_name, name)
        elif isinstance(kind, Vector) and 2 <= kind.length <= 4:
            item = _floats(size=kind.length, default_value=list(value), speed=declared.step or 0.05,
                           format=f"%.3f{unit}", **common)
            self._track(item, "field", type_name, name)
        elif isinstance(kind, Float):
            low, high = kind.min, kind.max
            speed = declared.step or ((high - low) / 400.0 if low is not None and high is not None else 0.05)
            item = dpg.add_drag_float(default_value=float(value), speed=max(speed, 1e-4), clamped=False,
                                      min_value=low if low is not None else 0.0, max_value=high if high is not None else 0.0,
                                      format=f"%.3f{unit}", **common)
            self._track(item, "field", type_name, name)
        elif isinstance(kind, EntityRef):
            item = self._entity_field(type_name, name, int(value), common)
        elif isinstance(kind, Int):
            low = getattr(kind, "min", None)
            high = getattr(kind, "max", None)
            item = dpg.add_drag_int(default_value=int(value), speed=1.0, clamped=False,
                                    min_value=low if low is not None and abs(low) < 2**31 else 0,
                                    max_value=high if high is not None and abs(high) < 2**31 else 0,
                                    format=f"%d{unit}", **common)
            self._track(item, "field", type_name, name)
        elif isinstance(kind, AssetRef):
            item = self._asset_field(type_name, name, kind.kind, str(value), common)
        else:
            item = dpg.add_input_text(default_value=str(value), on_enter=True, **common)
            self._track(item, "field", type_name, name)
        if item:
            with dpg.tooltip(item):
                dpg.add_text(describe_field(declared), wrap=360)

    def _asset_field(self, type_name: str, name: str, kind: str, value: str, common: dict[str, Any]) -> int:
        """A text field for the asset id and a chooser listing the assets of the field's kind."""
        with dpg.group(horizontal=True):
            item = dpg.add_input_text(default_value=value, on_enter=True, hint=f"a {kind} asset id",
                                      **dict(common, width=-150))
            self._track(item, "field", type_name, name)
            dpg.add_button(label=f"{kind}s...", small=True, enabled=common["enabled"],
                           user_data=(type_name, name, kind), callback=lambda s, a, u: self.choosers.choose_asset(*u))
        return item

    def _entity_field(self, type_name: str, name: str, value: int, common: dict[str, Any]) -> int:
        """An entity id (with the entity's name), a chooser listing entities, and pick in the view."""
        with dpg.group(horizontal=True):
            item = dpg.add_drag_int(default_value=value, speed=1.0, clamped=False, min_value=0, max_value=0,
                                    format=self._entity_format(value), **dict(common, width=-150))
            self._track(item, "field", type_name, name)
            self._entity_items.add(item)
            dpg.add_button(label="list", small=True, enabled=common["enabled"], user_data=(type_name, name),
                           callback=lambda s, a, u: self.choosers.choose_entity(*u))
            dpg.add_button(label="pick", small=True, enabled=common["enabled"], user_data=(type_name, name),
                           callback=lambda s, a, u: self.choosers.pick_in_view(*u))
        return item

    def _entity_format(self, value: int) -> str:
        """The id followed by the entity's name ((none), (missing))."""
        world = self.session.world
        label = world.name_of(value) if value and world.exists(value) else "(none)" if not value else "(missing)"
        return "%d  " + label.replace("%", "%%")

    def _update_values(self, ids: list[int]) -> None:
        if not ids:
            return
        world = self.session.world
        primary = ids[0]
        node = world.node(primary)
        for item, (kind, type_name, name) in self._widgets.items():
            if not dpg.does_item_exist(item) or dpg.is_item_active(item):
                continue
            if kind == "transform":
                value: Any = list({"pos": node.getPos, "hpr": node.getHpr, "scale": node.getScale}[name]())
            elif kind == "name":
                value = world.name_of(primary)
            elif kind == "bit":
                field_name, bit = name.rsplit(":", 1)
                value = bool(getattr(self._component(primary, type_name), field_name, 0) & (1 << int(bit)))
            else:
                component = self._component(primary, type_name)
                if component is None:
                    continue
                value = getattr(component, name)
                if kind == "colour":
                    value = _to_255(value)
                elif isinstance(value, tuple):
                    value = list(value)
            dpg.set_value(item, value)
            if item in self._entity_items:
                dpg.configure_item(item, format=self._entity_format(int(value)))


def _floats(*, speed: float, enabled: bool, **options: Any) -> int:
    """Two to four numbers: drags, or (disabled) a plain field: Dear PyGui 2.3 draws a disabled
    drag of three or four numbers with zeros after the second."""
    if enabled:
        return dpg.add_drag_floatx(speed=speed, **options)
    return dpg.add_input_floatx(enabled=False, **options)


def _to_255(colour: Any) -> list[float]:
    return [float(c) * 255.0 for c in colour]
