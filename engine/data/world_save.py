"""The save step: a World as world-file data in the canonical layout.

Entities are written in id order, one block each. A prefab instance is one block: its member
ids (so they stay the same across saves), the root's transform where it differs from the
prefab's, and per member only what differs from the prefab (``null`` for a removed component),
plus the members this instance removed. Runtime-only fields are never written.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.core.entity_specs import TRANSFORM_DEFAULTS, TRANSFORM_KEYS, transform_data
from engine.core.prefab_instances import PrefabInstance
from engine.core.world_settings import WorldSettings
from engine.data.migrations import CURRENT_VERSION

if TYPE_CHECKING:
    from engine.core.world import World


def world_to_data(world: "World") -> dict[str, Any]:
    """The world as file data in canonical order."""
    settings: WorldSettings = world.settings.get("world") or WorldSettings()
    settings.seed, settings.tick_rate = world.seed, world.tick_rate
    out: dict[str, Any] = {"storm_world": CURRENT_VERSION, "name": world.name}
    settings_data = settings.to_data()
    if settings_data:
        out["settings"] = settings_data
    instances = world.prefab_instances
    members = {eid for inst in instances.values() for eid in inst.members.values() if eid != inst.root}
    blocks = []
    for eid in sorted(world.entities()):
        if eid in members:
            continue
        block: dict[str, Any] = {"id": eid, "name": world.name_of(eid)}
        parent = world.parent_of(eid)
        if parent:
            block["parent"] = parent
        instance = instances.get(eid)
        if instance is None:
            transform = transform_data(world.node(eid))
            if transform:
                block["transform"] = transform
            block["components"] = components_data(world, eid)
        else:
            block.update(instance_block(world, instance))
        blocks.append(block)
    out["entities"] = blocks
    return out


def components_data(world: "World", eid: int) -> dict[str, Any]:
    return {c.type_name: c.to_data() for c in world.components(eid)}


def instance_block(world: "World", instance: PrefabInstance) -> dict[str, Any]:
    """The keys of an instance's block after id, name and parent."""
    block: dict[str, Any] = {"prefab": instance.asset_id}
    members = {key: eid for key, eid in instance.members.items() if eid != instance.root}
    if members:
        block["members"] = members
    transform = root_transform(world, instance)
    if transform:
        block["transform"] = transform
    overrides = instance_overrides(world, instance)
    if overrides:
        block["overrides"] = overrides
    gone = {key for key, eid in instance.members.items() if key in instance.removed or not world.exists(eid)}
    removed = [key for key in instance.members if key in gone and instance.template.get(key, {}).get("parent", "") not in gone]
    if removed:
        block["removed"] = removed
    return block


def instance_overrides(world: "World", instance: PrefabInstance) -> dict[str, Any]:
    """What differs from the prefab, per member key, as written back into the world file."""
    out: dict[str, Any] = {}
    for key, eid in instance.members.items():
        if key in instance.removed or not world.exists(eid):
            continue
        base = instance.template.get(key, {"name": "", "transform": {}, "components": {}})
        entry: dict[str, Any] = {}
        if eid != instance.root and world.name_of(eid) != base.get("name", ""):
            entry["name"] = world.name_of(eid)
        current = components_data(world, eid)
        for type_name, data in current.items():
            prefab_data = base["components"].get(type_name)
            if prefab_data is None:
                entry[type_name] = data
                continue
            changed = {name: value for name, value in data.items() if prefab_data.get(name) != value}
            defaults = _defaults(world, type_name)
            changed.update({name: defaults[name] for name in prefab_data if name not in data})
            if changed:
                entry[type_name] = changed
        for type_name in base["components"]:
            if type_name not in current:
                entry[type_name] = None
        if eid != instance.root:
            transform = _changed_parts(transform_data(world.node(eid)), base["transform"])
            if transform:
                entry["transform"] = transform
        if entry:
            out[key] = entry
    return out


def root_transform(world: "World", instance: PrefabInstance) -> dict[str, Any]:
    """The instance root's transform as written in the world file: the parts that differ from the prefab's."""
    root_key = next((key for key, eid in instance.members.items() if eid == instance.root), "")
    base = instance.template.get(root_key, {}).get("transform", {})
    return _changed_parts(transform_data(world.node(instance.root)), base)


def _changed_parts(current: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The transform parts (pos, hpr, scale) that differ from the prefab's, defaults filled in."""
    out = {}
    for key in TRANSFORM_KEYS:
        value = current.get(key, TRANSFORM_DEFAULTS[key])
        if value != base.get(key, TRANSFORM_DEFAULTS[key]):
            out[key] = value
    return out


def _defaults(world: "World", type_name: str) -> dict[str, Any]:
    cls = world.registry.resolve(type_name)
    return {name: declared.default_data for name, declared in cls.fields.items()}
