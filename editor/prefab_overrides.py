"""Prefab overrides in the inspector: what a prefab instance's member changes from its prefab
(the same diff the world file stores, ``world_save.instance_overrides``), with Apply (the
member's value becomes the prefab's: every instance that did not override it follows, and the
prefab file is written when the world is saved) and Revert (back to the prefab's value). Each
button is one world command (``ApplyOverride``, ``RevertOverride``): one undo step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dearpygui.dearpygui as dpg

from engine.core.entity_specs import member_index
from engine.core.prefab_commands import ApplyOverride, RevertOverride
from engine.data.world_save import instance_overrides

if TYPE_CHECKING:
    from editor.session import Session
    from engine.core.world import World

OVERRIDE_COLOUR = (120, 190, 255, 255)


@dataclass
class Membership:
    """Which prefab an entity belongs to and what its member overrides."""

    asset_id: str
    root: int
    key: str
    overrides: dict[str, Any]  # type name -> {field: value} or None (removed); "name", "transform"

    def fields_of(self, type_name: str) -> set[str]:
        entry = self.overrides.get(type_name)
        return set(entry) if isinstance(entry, dict) else set()


def membership(world: "World", eid: int) -> Membership | None:
    """The prefab membership of an entity (an instance root or member), or None."""
    instance = world.prefab_instances.get(eid)
    if instance is None:
        found = member_index(world).get(eid)
        if found is None:
            return None
        instance = world.prefab_instances.get(found[0])
        if instance is None:
            return None
        key = found[1]
    else:
        key = next((k for k, v in instance.members.items() if v == eid), "")
    every = instance_overrides(world, instance)
    return Membership(instance.asset_id, instance.root, key, every.get(key, {}))


def revert(session: "Session", eid: int, type_name: str = "", field_name: str = "") -> str:
    """Put a member's component (or one field, or the transform: ``type_name="transform"``) back
    as the prefab gives it; '' when done, else the reason."""
    what = f"{type_name}.{field_name}" if field_name else (type_name or "everything")
    return session.try_do(RevertOverride(entity=eid, type=type_name, field=field_name), f"revert {what}")


def apply(session: "Session", eid: int, type_name: str, field_name: str = "") -> str:
    """Make a member's component values (or one field) the prefab's; '' when done, else the reason."""
    what = f"{type_name}.{field_name}" if field_name else type_name
    reason = session.try_do(ApplyOverride(entity=eid, type=type_name, field=field_name), f"apply {what} to the prefab")
    if not reason:
        session.say(f"applied {what} to the prefab (its file is written when you save the world)")
    return reason


def build_header(session: "Session", eid: int, found: Membership, parent: int | str) -> None:
    """The line naming the prefab and member, and Revert all when the member overrides anything."""
    count = sum(len(v) if isinstance(v, dict) else 1 for v in found.overrides.values())
    role = "instance of" if eid == found.root else f"member {found.key!r} of"
    dpg.add_text(f"Prefab {role} {found.asset_id}: {count} override{'s' if count != 1 else ''}",
                 color=OVERRIDE_COLOUR, parent=parent, wrap=0)
    if count and eid != found.root:
        dpg.add_button(label="Revert all to the prefab", small=True, parent=parent,
                       callback=lambda: revert(session, eid))
    if "transform" in found.overrides and eid != found.root:
        dpg.add_button(label="Revert transform", small=True, parent=parent,
                       callback=lambda: revert(session, eid, "transform"))


def build_component_row(session: "Session", eid: int, found: Membership, type_name: str) -> None:
    """Under a component's header: which fields override the prefab, with Apply and Revert."""
    entry = found.overrides.get(type_name, {})
    if not entry and type_name not in found.overrides:
        return
    names = ", ".join(entry) if isinstance(entry, dict) else "the whole component"
    added = isinstance(entry, dict) and type_name in found.overrides and not _in_prefab(session, found, type_name)
    with dpg.group(horizontal=True):
        dpg.add_text(f"overrides: {names[:60]}" if not added else "added here (not in the prefab)",
                     color=OVERRIDE_COLOUR)
        if not added:
            dpg.add_button(label="Apply", small=True, callback=lambda: apply(session, eid, type_name))
        dpg.add_button(label="Revert", small=True, callback=lambda: revert(session, eid, type_name))


def _in_prefab(session: "Session", found: Membership, type_name: str) -> bool:
    instance = session.world.prefab_instances.get(found.root)
    return instance is not None and type_name in instance.template.get(found.key, {}).get("components", {})
