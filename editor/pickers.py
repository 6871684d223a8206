"""Pickers for the inspector and the asset browser: an asset picker filtered by the field's
declared kind (``AssetRef("model")`` lists models only), an entity picker (a list of the world's
entities, or "pick in viewport": the next click in the 3D view names the entity), and the view's
click taker that both "pick in viewport" and "place, then click in the view" use.

``ClickTaker`` is the 3D view's controller with one addition: while something waits for a click
(``take_next_click``), a left click in the view goes to it instead of selecting; Escape (the
controller's ``cancel``) gives it up. Camera moves (middle, right, Alt+left) work meanwhile.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import dearpygui.dearpygui as dpg

from editor.asset_list import KINDS, list_assets
from editor.picking import Ray
from editor.view_input import CLICK_SLOP_PX, LEFT, ViewController

if TYPE_CHECKING:
    from editor.session import Session

SHOWN = 300
KIND_SUFFIXES = {"model": KINDS["model"], "sound": KINDS["sound"], "image": KINDS["image"], "prefab": KINDS["prefab"],
                 "world": KINDS["world"]}


class ClickTaker(ViewController):
    """The view controller, plus: the next left click can be taken by someone waiting for it."""

    def __init__(self, session: "Session") -> None:
        super().__init__(session)
        self.taker: Callable[[Ray, float, float], None] | None = None
        self.taker_label = ""
        self._taking: tuple[float, float] | None = None

    def take_next_click(self, taker: Callable[[Ray, float, float], None], label: str) -> None:
        """``taker(ray, x, y)`` gets the next left click in the view (instead of a selection)."""
        self.taker, self.taker_label = taker, label
        self.session.say(f"{label}: click in the 3D view (Esc cancels)")

    def press(self, button: int, x: float, y: float, *, shift: bool = False, ctrl: bool = False,
              alt: bool = False) -> None:
        if button == LEFT and self.taker is not None and not alt and self._taking is None:
            self._taking = (x, y)
            return
        super().press(button, x, y, shift=shift, ctrl=ctrl, alt=alt)

    def move(self, x: float, y: float, *, shift: bool = False, ctrl: bool = False) -> None:
        if self._taking is None:
            super().move(x, y, shift=shift, ctrl=ctrl)

    def release(self, button: int, x: float, y: float, *, shift: bool = False, ctrl: bool = False) -> None:
        if button == LEFT and self._taking is not None:
            start, self._taking = self._taking, None
            taker, self.taker = self.taker, None
            if taker is not None and abs(x - start[0]) + abs(y - start[1]) <= CLICK_SLOP_PX * 2:
                taker(self.ray(x, y), x, y)
            elif taker is not None:
                self.taker = taker  # a drag is not the click it waits for
            return
        super().release(button, x, y, shift=shift, ctrl=ctrl)

    def cancel(self) -> None:
        if self.taker is not None or self._taking is not None:
            self.session.say(f"{self.taker_label or 'picking'}: cancelled")
            self.taker, self._taking = None, None
            return
        super().cancel()

    @property
    def busy(self) -> bool:
        return self._taking is not None or super().busy


def assets_of_kind(session: "Session", kind: str) -> list[str]:
    """Asset ids of one declared kind (``model``, ``sound``, ``image``...) in the enabled packs;
    models include the primitives."""
    ids = [a.id for a in list_assets(session.runtime.content) if a.kind == kind]
    if kind == "model":
        from engine.packs.primitives import PRIMITIVES

        ids = [f"primitive:{p}" for p in PRIMITIVES] + ids
    return ids


def entity_choices(session: "Session", needle: str = "") -> list[tuple[int, str]]:
    """(id, "#id name") of the world's entities whose label contains ``needle``, at most SHOWN."""
    world = session.world
    needle = needle.lower()
    out = []
    for eid in sorted(world.entities()):
        label = f"#{eid} {world.name_of(eid)}"
        if needle in label.lower():
            out.append((eid, label))
            if len(out) >= SHOWN:
                break
    return out


class PickerPopup:
    """One reused popup window listing choices (assets of a kind, or entities) with a filter; a
    click sends the choice to the field that opened it."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.choose: Callable[[Any], None] | None = None
        self.kind = ""  # an asset kind, or "entity"
        self._choices: list[tuple[Any, str]] = []
        self._pool: list[int] = []
        self.window = 0

    def build(self) -> None:
        with dpg.window(label="Choose", tag="storm_picker", show=False, width=360, height=420, no_collapse=True,
                        on_close=lambda: self.close()) as self.window:
            dpg.add_input_text(hint="filter", tag="storm_picker_filter", width=-1, callback=lambda: self.refresh())
            dpg.add_text("", tag="storm_picker_info")
            dpg.add_child_window(tag="storm_picker_rows", border=False)

    def open_assets(self, kind: str, choose: Callable[[Any], None]) -> None:
        self.kind = kind
        self.choose = choose
        self._choices = [(a, a) for a in assets_of_kind(self.session, kind)]
        self._open(f"Choose a {kind}")

    def open_entities(self, choose: Callable[[Any], None]) -> None:
        self.kind = "entity"
        self.choose = choose
        self._choices = [(0, "(none)")] + entity_choices(self.session)
        self._open("Choose an entity")

    def _open(self, title: str) -> None:
        if not self.window:
            return
        dpg.set_value("storm_picker_filter", "")
        dpg.configure_item(self.window, label=title, show=True)
        dpg.focus_item(self.window)
        self.refresh()

    def refresh(self) -> None:
        needle = (dpg.get_value("storm_picker_filter") or "").lower()
        if self.kind == "entity" and needle:
            rows = [(0, "(none)")] + entity_choices(self.session, needle)
        else:
            rows = [(v, label) for v, label in self._choices if needle in label.lower()][:SHOWN]
        dpg.set_value("storm_picker_info", f"{len(rows)} shown" if rows else f"no {self.kind} matches")
        while len(self._pool) < len(rows):
            self._pool.append(dpg.add_selectable(label="", parent="storm_picker_rows",
                                                 callback=lambda s, a, u: self.pick(u)))
        for item, (value, label) in zip(self._pool, rows):
            dpg.configure_item(item, label=label, user_data=value, show=True)
            dpg.set_value(item, False)
        for item in self._pool[len(rows):]:
            dpg.configure_item(item, show=False)

    def pick(self, value: Any) -> None:
        choose, self.choose = self.choose, None
        self.close()
        if choose is not None:
            choose(value)

    def close(self) -> None:
        if self.window and dpg.does_item_exist(self.window):
            dpg.configure_item(self.window, show=False)


class FieldChoosers:
    """What an inspector field's chooser buttons do: open the popup for assets of the field's kind
    or for entities, or wait for a click in the 3D view; the choice is submitted (``submit``)
    for the entities that were selected when the chooser opened."""

    def __init__(self, session: "Session", submit: Callable[[str, str, Any], str]) -> None:
        self.session = session
        self.submit = submit
        self.picker: PickerPopup | None = None
        self.controller: ClickTaker | None = None

    def choose_asset(self, type_name: str, name: str, kind: str) -> None:
        if self.picker is not None:
            ids = list(self.session.selection.ids)
            self.picker.open_assets(kind, lambda value: self._submit_for(ids, type_name, name, value))

    def choose_entity(self, type_name: str, name: str) -> None:
        if self.picker is not None:
            ids = list(self.session.selection.ids)
            self.picker.open_entities(lambda value: self._submit_for(ids, type_name, name, value))

    def pick_in_view(self, type_name: str, name: str) -> None:
        """The next click in the 3D view names the entity the field points at (empty sky: 0)."""
        controller = self.controller
        if controller is None:
            return
        ids = list(self.session.selection.ids)
        controller.take_next_click(lambda _ray, x, y: self._submit_for(ids, type_name, name, controller.pick_at(x, y)),
                                   f"pick the entity for {type_name}.{name}")

    def _submit_for(self, ids: list[int], type_name: str, name: str, value: Any) -> str:
        if self.session.selection.ids != ids:
            self.session.selection.set([e for e in ids if self.session.world.exists(e)])
        return self.submit(type_name, name, value)
