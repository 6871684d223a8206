"""Prefabs: reusable entity trees in their own files, placed in worlds with per-instance overrides.

A prefab file (``*.prefab.json``) lists entities by ``key``; the first is the root, every other
names its ``parent`` key (listed before it). An entity may itself be a nested prefab. An
instance in a world file overrides fields per member key::

    {"id": 7, "prefab": "base:prefabs/crate_stack.prefab.json",
     "overrides": {"top": {"MeshRenderer": {"color": [1, 0, 0, 1]}}}}

Nested members are addressed as ``outer/inner``. Saving writes back only what differs from the
prefab, so an edited instance stays small and follows later changes to the prefab file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.core.errors import DataError
from engine.core.prefab_instances import PrefabInstance
from engine.data.entity_blocks import (
    TRANSFORM_DEFAULTS,
    TRANSFORM_KEYS,
    EntityBlock,
    LoadContext,
    add_components,
    apply_transform,
    components_data,
    expect_keys,
    parse_block,
    parse_components,
    parse_transform,
    transform_data,
)
from engine.data.migrations import migrate
from engine.packs.content import ContentRegistry, parse_asset_id
from engine.packs.json_text import read_json

if TYPE_CHECKING:
    from engine.core.world import World

KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
PREFAB_KEYS = ("key", "name", "parent", "prefab", "transform", "components", "overrides")


@dataclass
class PrefabMember:
    key: str
    parent: str
    block: EntityBlock
    nested: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    path: str = ""  # where the member is in its prefab file, for errors: ``entities[1]``


@dataclass
class Prefab:
    asset_id: str
    members: list[PrefabMember]
    source: str = ""  # the prefab file, for errors in its members' overrides
    stamp: tuple[int, int] = (0, 0)  # the file's mtime and size when it was read


class PrefabLibrary:
    """Reads prefab files once each, detects cycles, and places instances into worlds."""

    def __init__(self, content: ContentRegistry) -> None:
        self.content = content
        # Keyed by asset id and whether assets were checked (validate must not reuse a lax parse).
        self._cache: dict[tuple[str, bool], Prefab] = {}

    def load(self, asset_id: str, ctx: LoadContext, path: str, stack: tuple[str, ...] = ()) -> Prefab:
        """Parse a prefab (and, through ``instantiate``, its nested ones); ``path`` is where it was named."""
        if not isinstance(asset_id, str):
            raise DataError(ctx.source, path, "a prefab asset id like 'pack:prefabs/name.prefab.json'", asset_id)
        if asset_id in stack:
            chain = " -> ".join(stack + (asset_id,))
            raise DataError(ctx.source, path, f"a prefab that does not contain itself (cycle {chain})", asset_id)
        try:
            parse_asset_id(asset_id)
        except ValueError:
            raise DataError(ctx.source, path, "a prefab asset id like 'pack:prefabs/name.prefab.json'", asset_id) from None
        file = self.content.resolve(asset_id)
        if file is None:
            raise DataError(ctx.source, path, "a prefab file that exists in an enabled pack", asset_id)
        source = str(file)
        cache_key = (asset_id, ctx.assets is not None)
        try:
            info = file.stat()
        except OSError:
            raise DataError(ctx.source, path, "a prefab file that exists in an enabled pack", asset_id) from None
        stamp = (info.st_mtime_ns, info.st_size)
        cached = self._cache.get(cache_key)
        if cached is not None and cached.stamp == stamp:
            return cached
        data = migrate(read_json(file), "prefab", source)
        inner = LoadContext(source, ctx.registry, ctx.assets)
        expect_keys(data, ("storm_prefab", "entities"), inner, "")
        entities = data.get("entities")
        if not isinstance(entities, list) or not entities:
            raise DataError(source, "entities", "a non-empty list of entity objects", entities)
        members: list[PrefabMember] = []
        seen: set[str] = set()
        for index, block in enumerate(entities):
            where = f"entities[{index}]"
            if not isinstance(block, dict):
                raise DataError(source, where, "an entity object", block)
            expect_keys(block, PREFAB_KEYS, inner, where)
            key = block.get("key")
            if not isinstance(key, str) or not KEY.match(key) or key in seen:
                raise DataError(source, f"{where}.key", "a unique key of letters, digits, _ or -", key)
            parent = block.get("parent", "")
            if not isinstance(parent, str):
                raise DataError(source, f"{where}.parent", "the key of an entity listed before this one", parent)
            if index == 0 and parent:
                raise DataError(source, f"{where}.parent", "no parent on the first (root) entity", parent)
            if index > 0 and parent not in seen:
                raise DataError(source, f"{where}.parent", "the key of an entity listed before this one", parent)
            seen.add(key)
            nested = block.get("prefab", "")
            if nested:
                self.load(nested, inner, f"{where}.prefab", stack + (asset_id,))
                if "components" in block:
                    raise DataError(source, f"{where}.components", "no components on a nested prefab (use overrides)")
            elif "overrides" in block:
                raise DataError(source, f"{where}.overrides", "overrides only on a nested prefab")
            members.append(PrefabMember(key, parent, parse_block(block, inner, where), nested,
                                        block.get("overrides", {}), where))
        prefab = Prefab(asset_id, members, source, stamp)
        self._cache[cache_key] = prefab
        return prefab

    def instantiate(self, world: "World", asset_id: str, ctx: LoadContext, path: str, *, eid: int | None = None,
                    parent: int = 0, overrides: Any = None, stack: tuple[str, ...] = (),
                    overrides_path: str | None = None) -> PrefabInstance:
        """Create a prefab's entities under ``parent``; the root gets ``eid`` when given.

        ``path`` is where the prefab is named (for errors); ``overrides_path`` where its overrides
        are (default: beside it, ``<path minus its last part>.overrides``).
        """
        prefab = self.load(asset_id, ctx, path, stack)
        if overrides_path is None:
            overrides_path = f"{path.rsplit('.', 1)[0]}.overrides" if "." in path else "overrides"
        members: dict[str, int] = {}
        template: dict[str, dict[str, Any]] = {}
        for index, member in enumerate(prefab.members):
            member_parent = members[member.parent] if member.parent else parent
            member_eid = eid if index == 0 else None
            if member.nested:
                # The member's overrides are written in the prefab file: errors name that file.
                inner = LoadContext(prefab.source, ctx.registry, ctx.assets)
                nested = self.instantiate(world, member.nested, inner, f"{member.path}.prefab", eid=member_eid,
                                          parent=member_parent, overrides=member.overrides,
                                          stack=stack + (asset_id,), overrides_path=f"{member.path}.overrides")
                forget_instance(world, nested.root)
                created = nested.root
                for nested_key, nested_eid in nested.members.items():
                    if nested_eid != nested.root:
                        members[f"{member.key}/{nested_key}"] = nested_eid
                        template[f"{member.key}/{nested_key}"] = snapshot(world, nested_eid)
                if member.block.name:
                    world.set_name(created, member.block.name)
            else:
                created = world.create_entity(member.block.name, member_parent, member_eid)
                add_components(world, created, member.block.components)
            if member.block.transform is not None:
                apply_transform(world, created, member.block.transform)
            members[member.key] = created
            template[member.key] = snapshot(world, created)
        root = members[prefab.members[0].key]
        instance = PrefabInstance(asset_id, root, members, template)
        self.apply_overrides(world, instance, {} if overrides is None else overrides, ctx, overrides_path)
        instances(world)[instance.root] = instance
        return instance

    @staticmethod
    def apply_overrides(world: "World", instance: PrefabInstance, overrides: Any, ctx: LoadContext, path: str) -> None:
        if not isinstance(overrides, dict):
            raise DataError(ctx.source, path, "an object mapping member keys to overrides", overrides)
        for key, override in overrides.items():
            where = f"{path}.{key}"
            if key not in instance.members:
                raise DataError(ctx.source, where, f"a member key of the prefab ({', '.join(instance.members)})", key)
            if not isinstance(override, dict):
                raise DataError(ctx.source, where, "an object of component overrides and/or a transform", override)
            member = instance.members[key]
            component_data = {k: v for k, v in override.items() if k != "transform"}
            for spec in parse_components(component_data, ctx, where):
                existing = world.get(member, spec.cls)
                if existing is None:
                    add_components(world, member, [spec])
                else:
                    for name, value in spec.data.items():
                        world.set_field(member, existing, name, value)
            if "transform" in override:
                apply_transform(world, member, parse_transform(override["transform"], ctx, f"{where}.transform"))


def snapshot(world: "World", eid: int) -> dict[str, Any]:
    return {"transform": transform_data(world, eid), "components": components_data(world, eid)}


def instances(world: "World") -> dict[int, PrefabInstance]:
    """The world's prefab instances by root entity (kept up to date as entities are destroyed)."""
    return world.prefab_instances


def forget_instance(world: "World", root: int) -> None:
    instances(world).pop(root, None)


def owned_members(world: "World") -> set[int]:
    """Entities that belong to a prefab instance without being its root (not saved on their own)."""
    return {eid for inst in instances(world).values() for eid in inst.members.values() if eid != inst.root}


def instance_overrides(world: "World", instance: PrefabInstance) -> dict[str, Any]:
    """What differs from the prefab, per member key, as written back into the world file."""
    out: dict[str, Any] = {}
    for key, eid in instance.members.items():
        if not world.exists(eid):
            continue
        base = instance.template.get(key, {"transform": {}, "components": {}})
        current = snapshot(world, eid)
        entry: dict[str, Any] = {}
        for type_name, data in current["components"].items():
            prefab_data = base["components"].get(type_name)
            if prefab_data is None:
                entry[type_name] = data
                continue
            changed = {name: value for name, value in data.items() if prefab_data.get(name) != value}
            changed.update({name: _default_of(world, type_name, name) for name in prefab_data if name not in data})
            if changed:
                entry[type_name] = changed
        if eid != instance.root:
            transform = _changed_parts(current["transform"], base["transform"])
            if transform:
                entry["transform"] = transform
        if entry:
            out[key] = entry
    return out


def root_transform(world: "World", instance: PrefabInstance) -> dict[str, Any]:
    """The instance root's transform as written in the world file: the parts that differ from the prefab's."""
    root_key = next((key for key, eid in instance.members.items() if eid == instance.root), "")
    base = instance.template.get(root_key, {}).get("transform", {})
    return _changed_parts(transform_data(world, instance.root), base)


def _changed_parts(current: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The transform parts (pos, hpr, scale) that differ from the prefab's, defaults filled in."""
    out = {}
    for key in TRANSFORM_KEYS:
        value = current.get(key, TRANSFORM_DEFAULTS[key])
        if value != base.get(key, TRANSFORM_DEFAULTS[key]):
            out[key] = value
    return out


def _default_of(world: "World", type_name: str, field_name: str) -> Any:
    cls = world.registry.resolve(type_name)
    declared = cls.fields[field_name]
    return declared.type.to_data(declared.default)


