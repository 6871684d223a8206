"""Prefab files: reusable entity trees, read once each, checked, cycles refused.

A prefab file (``*.prefab.json``) lists entities by ``key``; the first is the root, every other
names its ``parent`` key (listed before it). An entity may itself be a nested prefab, with
``overrides`` and ``removed`` members of its own. Inside a prefab file an entity-reference field
may name another member by its key (``"trigger": "doorway"``); each instance points it at that
member's entity. Instances are made in ``prefab_expand.py``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.core.asset_ids import parse_asset_id
from engine.core.errors import DataError
from engine.core.fields import EntityRef
from engine.data.entity_blocks import EntityBlock, LoadContext, expect_keys, parse_block
from engine.data.migrations import migrate
from engine.packs.content import ContentRegistry

KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
PREFAB_KEYS = ("key", "name", "parent", "prefab", "transform", "components", "overrides", "removed")
PREFAB_ID = "a prefab asset id like 'pack:prefabs/name.prefab.json'"


@dataclass
class PrefabMember:
    """One entity of a prefab file, checked."""

    key: str
    parent: str
    block: EntityBlock
    nested: str = ""  # asset id of a nested prefab this member is the root of
    overrides: dict[str, Any] = field(default_factory=dict)  # for a nested prefab
    removed: list[str] = field(default_factory=list)  # members of a nested prefab left out
    refs: dict[tuple[str, str], str] = field(default_factory=dict)  # (component type, field) -> member key
    path: str = ""  # where the member is in its prefab file, for errors: ``entities[1]``


@dataclass
class Prefab:
    asset_id: str
    members: list[PrefabMember]
    source: str = ""  # the prefab file, for errors in its members' overrides
    stamp: tuple[Any, ...] = ()  # the registry's stamp of the file (and its patches) when it was read


class PrefabLibrary:
    """Reads prefab files through the content registry (patches applied), once each (again when
    they or their patches change)."""

    def __init__(self, content: ContentRegistry) -> None:
        self.content = content
        # Keyed by asset id and whether assets were checked (validate must not reuse a lax parse).
        self._cache: dict[tuple[str, bool], Prefab] = {}

    def load(self, asset_id: Any, ctx: LoadContext, path: str, stack: tuple[str, ...] = ()) -> Prefab:
        """Parse a prefab and, for cycle checks, its nested ones; ``path`` is where it was named."""
        if not isinstance(asset_id, str):
            raise DataError(ctx.source, path, PREFAB_ID, asset_id)
        if asset_id in stack:
            chain = " -> ".join(stack + (asset_id,))
            raise DataError(ctx.source, path, f"a prefab that does not contain itself (cycle {chain})", asset_id)
        try:
            parse_asset_id(asset_id)
        except ValueError:
            raise DataError(ctx.source, path, PREFAB_ID, asset_id) from None
        if not self.content.has(asset_id):
            raise DataError(ctx.source, path, "a prefab file that exists in an enabled pack", asset_id)
        stamp = self.content.stamp(asset_id)
        cache_key = (asset_id, ctx.assets is not None)
        cached = self._cache.get(cache_key)
        if cached is not None and cached.stamp == stamp:
            return cached
        source = self.content.display(asset_id)
        data = migrate(self.content.read_json(asset_id), "prefab", source)
        inner = ctx.inside(source)
        expect_keys(data, ("storm_prefab", "entities"), inner, "")
        entities = data.get("entities")
        if not isinstance(entities, list) or not entities:
            raise DataError(source, "entities", "a non-empty list of entity objects", entities)
        keys = [b.get("key") for b in entities if isinstance(b, dict)]
        members = [self._member(index, block, inner, keys, stack + (asset_id,)) for index, block in enumerate(entities)]
        seen: set[str] = set()
        for member in members:
            if member.parent and member.parent not in seen:
                raise DataError(source, f"{member.path}.parent", "the key of an entity listed before this one",
                                member.parent)
            seen.add(member.key)
        prefab = Prefab(asset_id, members, source, stamp)
        self._cache[cache_key] = prefab
        return prefab

    def stale(self) -> list[str]:
        """Prefabs read before whose files (or patches) have changed since, or gone: what a hot
        reload redoes."""
        return sorted({asset_id for (asset_id, _strict), prefab in list(self._cache.items())
                       if self.content.stamp(asset_id) != prefab.stamp})

    def _member(self, index: int, block: Any, ctx: LoadContext, keys: list[Any], stack: tuple[str, ...]) -> PrefabMember:
        where = f"entities[{index}]"
        if not isinstance(block, dict):
            raise DataError(ctx.source, where, "an entity object", block)
        expect_keys(block, PREFAB_KEYS, ctx, where)
        key = block.get("key")
        if not isinstance(key, str) or not KEY.match(key) or keys.index(key) != index:
            raise DataError(ctx.source, f"{where}.key", "a unique key of letters, digits, _ or -", key)
        parent = block.get("parent", "")
        if not isinstance(parent, str):
            raise DataError(ctx.source, f"{where}.parent", "the key of an entity listed before this one", parent)
        if index == 0 and parent:
            raise DataError(ctx.source, f"{where}.parent", "no parent on the first (root) entity", parent)
        if index > 0 and not parent:
            raise DataError(ctx.source, f"{where}.parent", "the key of an entity listed before this one", parent)
        nested = block.get("prefab", "")
        removed = block.get("removed", [])
        if nested:
            self.load(nested, ctx, f"{where}.prefab", stack)
            if "components" in block:
                raise DataError(ctx.source, f"{where}.components", "no components on a nested prefab (use overrides)")
            if not isinstance(removed, list) or not all(isinstance(k, str) for k in removed):
                raise DataError(ctx.source, f"{where}.removed", "a list of member keys of the nested prefab", removed)
        elif "overrides" in block or "removed" in block:
            bad = "overrides" if "overrides" in block else "removed"
            raise DataError(ctx.source, f"{where}.{bad}", f"{bad} only on a nested prefab")
        block, refs = _key_refs(block, ctx, where, keys)
        return PrefabMember(key, parent, parse_block(block, ctx, where), nested, block.get("overrides", {}),
                            list(removed), refs, where)


def _key_refs(block: dict[str, Any], ctx: LoadContext, where: str, keys: list[Any]) -> tuple[dict[str, Any], dict]:
    """Entity-reference fields written as member keys: take them out of the block (they are
    filled in per instance) and check that the keys exist."""
    components = block.get("components")
    if not isinstance(components, dict):
        return block, {}
    refs: dict[tuple[str, str], str] = {}
    cleaned: dict[str, Any] = {}
    for type_name, fields in components.items():
        cls = ctx.registry.get(type_name) if isinstance(fields, dict) else None
        if cls is None and isinstance(fields, dict) and any(isinstance(v, str) for v in fields.values()):
            try:
                cls = ctx.registry.resolve(type_name)
            except LookupError:
                cls = None  # parse_block names the unknown type
        if cls is None:
            cleaned[type_name] = fields
            continue
        kept = {}
        for name, value in fields.items():
            declared = cls.fields.get(name)
            if declared is not None and isinstance(declared.type, EntityRef) and isinstance(value, str):
                if value not in keys:
                    raise DataError(ctx.source, f"{where}.components.{type_name}.{name}",
                                    "the key of a member of this prefab (or an entity id)", value)
                refs[(type_name, name)] = value
            else:
                kept[name] = value
        cleaned[type_name] = kept
    return dict(block, components=cleaned), refs
