"""Hot reload of prefab files: when a prefab changes on disk, its instances in a running World
follow, and keep what each instance overrides.

For every instance the prefab is expanded again with the instance's member ids. What the
prefab file changed (the old template against the new one) is applied to members that still
had the old prefab value: a field, a component added or dropped, a transform part, a name, a
member added (it gets a new id) or dropped. What an instance overrode stays as it is. The
changes go through commands (one Transaction per instance), so every system hears of them.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.core.commands import Command, CommandError, Transaction
from engine.core.edit_commands import (
    AddComponent,
    CreateEntity,
    DestroyEntity,
    RemoveComponent,
    Rename,
    SetFields,
    SetTransform,
)
from engine.core.entity_specs import TRANSFORM_DEFAULTS, spec_to_json, transform_data
from engine.core.errors import StormError
from engine.core.prefab_instances import PrefabInstance
from engine.data.entity_blocks import LoadContext
from engine.data.prefab_expand import expand_instance
from engine.data.prefab_files import PrefabLibrary

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.files")


def reload_prefabs(world: "World", library: PrefabLibrary) -> list[str]:
    """Bring every instance in ``world`` up to date with its prefab file; returns the prefabs
    whose instances changed. A prefab that no longer loads is logged and its instances stay."""
    changed: list[str] = []
    for asset_id in sorted({i.asset_id for i in world.prefab_instances.values()}):
        try:
            touched = [_reload_instance(world, library, instance) for instance in
                       [i for i in list(world.prefab_instances.values()) if i.asset_id == asset_id]]
        except StormError as exc:
            log.error("prefab %s changed but does not load (%s); its instances stay as they were", asset_id, exc)
            continue
        if any(touched):
            changed.append(asset_id)
            log.info("reloaded prefab %s", asset_id)
    return changed


def _reload_instance(world: "World", library: PrefabLibrary, instance: PrefabInstance) -> bool:
    cursor = [world.next_id()]
    taken = set(instance.members.values())

    def allocate() -> int:
        while world.exists(cursor[0]) or cursor[0] in taken:
            cursor[0] += 1
        taken.add(cursor[0])
        return cursor[0]

    ctx = LoadContext(f"prefab {instance.asset_id}", world.registry)
    specs = expand_instance(library, instance.asset_id, ctx, "prefab", root_id=instance.root,
                            parent=world.parent_of(instance.root), member_ids=dict(instance.members), allocate=allocate)
    fresh = specs[0].instance
    assert fresh is not None
    if fresh.template == instance.template:
        return False
    by_key = {spec.member_of[1] if spec.member_of else next(iter(fresh.template)): spec for spec in specs}
    steps: list[Command] = []
    for key, new in fresh.template.items():
        old = instance.template.get(key)
        eid = fresh.members[key]
        if old is None:
            if key not in instance.removed and new.get("parent", "") not in instance.removed and key in by_key:
                instance.members[key] = eid
                steps.append(CreateEntity([spec_to_json(by_key[key])], check=False))
            continue
        if key in instance.removed or not world.exists(eid):
            continue
        steps += _member_steps(world, eid, old, new, is_root=eid == instance.root)
    for key, old in instance.template.items():
        eid = instance.members.get(key)
        if key not in fresh.template and eid is not None and world.exists(eid):
            steps.append(DestroyEntity(eid))
    instance.template = fresh.template
    if steps:
        try:
            world.apply(Transaction(f"reload {instance.asset_id}", steps))
        except CommandError as exc:
            log.error("instance %d of %s could not follow its prefab: %s", instance.root, instance.asset_id, exc)
    for key in [k for k in instance.members if k not in fresh.template]:
        del instance.members[key]
        instance.removed.discard(key)
    return True


def _member_steps(world: "World", eid: int, old: dict[str, Any], new: dict[str, Any], is_root: bool) -> list[Command]:
    """Commands moving a member from the old prefab values to the new ones, where it had the old."""
    steps: list[Command] = []
    if not is_root:
        if new["name"] != old["name"] and world.name_of(eid) == old["name"]:
            steps.append(Rename(eid, new["name"]))
        current = transform_data(world.node(eid))
        parts = {}
        for part, default in TRANSFORM_DEFAULTS.items():
            was, now = old["transform"].get(part, default), new["transform"].get(part, default)
            if was != now and current.get(part, default) == was:
                parts[part] = now
        if parts:
            steps.append(SetTransform(eid, parts.get("pos"), parts.get("hpr"), parts.get("scale")))
    present = {c.type_name: c for c in world.components(eid)}
    for order, (type_name, data) in enumerate(new["components"].items()):
        before = old["components"].get(type_name)
        component = present.get(type_name)
        if before is None:
            if component is None:
                steps.append(AddComponent(eid, type_name, dict(data), order, check=False))
            continue
        if component is None:
            continue  # the instance removed it
        fields = component.fields
        values = {}
        for name in set(before) | set(data):
            was = before.get(name, fields[name].default_data) if name in fields else None
            now = data.get(name, fields[name].default_data) if name in fields else None
            if name in fields and was != now and fields[name].type.to_data(getattr(component, name)) == was:
                values[name] = now
        if values:
            steps.append(SetFields(eid, type_name, values, check=False))
    for type_name, before in old["components"].items():
        component = present.get(type_name)
        if type_name not in new["components"] and component is not None and component.to_data() == before:
            steps.append(RemoveComponent(eid, type_name))
    return steps
