"""The parse step of loading a world: migrated file data in, plain checked data out.

read (json_text) -> migrate (migrations) -> parse (here: every check, prefabs expanded, ids
given to every member) -> build (world_build). Nothing after this step can find a problem in
the file, so a World is only built from data that is known to be good.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engine.core.entity_specs import EntitySpec, SpecError, check_values
from engine.core.errors import DataError
from engine.core.fields import MAX_ENTITY_ID, EntityRef
from engine.core.world_settings import WorldSettings
from engine.data.entity_blocks import LoadContext, expect_keys, parse_block, parse_name
from engine.data.prefab_expand import expand_instance
from engine.data.prefab_files import PrefabLibrary
from engine.packs.sources import budget_hint

log = logging.getLogger("storm.files")

WORLD_KEYS = ("storm_world", "name", "settings", "entities")
_PARSED = {"id": 0}  # stands in for an entity block once it has been parsed
ENTITY_KEYS = ("id", "name", "parent", "prefab", "transform", "components", "members", "overrides", "removed")


@dataclass
class WorldSpec:
    """A parsed world file: its name, settings and every entity (prefab members included)."""

    name: str
    settings: WorldSettings
    entities: list[EntitySpec]
    highest_id: int


def parse_world(data: dict[str, Any], ctx: LoadContext, prefabs: PrefabLibrary, consume: bool = False) -> WorldSpec:
    """Check migrated world data completely and expand its prefab instances; ``consume``: let go of
    each entity block once parsed (data read just for this, so a big world is not held twice)."""
    source = ctx.source
    expect_keys(data, WORLD_KEYS, ctx, "")
    name = parse_name(data.get("name", ""), ctx, "name")
    settings = _settings(data.get("settings", {}), ctx)
    blocks = data.get("entities", [])
    if not isinstance(blocks, list):
        raise DataError(source, "entities", "a list of entity objects", blocks)
    taken = _check_ids(blocks, source)
    next_free = [max(taken, default=0) + 1]

    def allocate() -> int:
        while next_free[0] in taken:
            next_free[0] += 1
        taken.add(next_free[0])
        return next_free[0]

    specs: list[EntitySpec] = []
    labels: dict[int, str] = {}  # entity id -> the label of its block, for messages about parents
    for index, block in enumerate(blocks):
        label = labels[block["id"]] = _label(index, block)  # blocks are objects with ids (checked above)
        try:
            specs.extend(_entity(block, label, ctx, prefabs, allocate))
        except DataError as error:
            if ctx.problems is None or "budget" in error.expected:
                raise
            ctx.problems.append(error)  # validate: note it, go on with the next block
        if consume:
            blocks[index] = _PARSED
    _check_parents(specs, ctx, labels, broken=taken if ctx.problems is not None else None)
    _check_refs(specs, ctx)
    return WorldSpec(name, settings, specs, max(taken, default=0))


def _entity(block: dict[str, Any], label: str, ctx: LoadContext, prefabs: PrefabLibrary,
            allocate: Any) -> list[EntitySpec]:
    """The specs of one entity block: one entity, or a prefab instance's members."""
    expect_keys(block, ENTITY_KEYS, ctx, label)
    if "prefab" in block:
        return _instance(block, label, ctx, prefabs, allocate)
    for key in ("overrides", "members", "removed"):
        if key in block:
            raise DataError(ctx.source, f"{label}.{key}", f"{key} only on a prefab instance")
    parsed = parse_block(block, ctx, label)
    ctx.count(label)
    return [EntitySpec(block["id"], parsed.name, block.get("parent", 0), parsed.transform, parsed.components)]


def _settings(data: Any, ctx: LoadContext) -> WorldSettings:
    try:
        values = check_values(WorldSettings, data, "settings")
    except SpecError as exc:
        got = data.get(exc.path.split(".", 1)[-1]) if isinstance(data, dict) else data
        raise DataError(ctx.source, exc.path, exc.message.rsplit(", got ", 1)[0], got) from None
    return WorldSettings.from_values(values)  # type: ignore[return-value]


def _label(index: int, block: Any) -> str:
    """How errors name an entity block: ``entities[2](Crate)``, or ``entities[2]`` when it has no name."""
    name = block.get("name") if isinstance(block, dict) else None
    return f"entities[{index}]({name})" if isinstance(name, str) and name else f"entities[{index}]"


def _entity_id(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 < value <= MAX_ENTITY_ID


def _check_ids(blocks: list[Any], source: str) -> set[int]:
    """Every id in the file (entities and the members of prefab instances) once, parents whole numbers."""
    taken: set[int] = set()
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            raise DataError(source, _label(index, block), "an entity object", block)
        eid = block.get("id")
        if not _entity_id(eid) or eid in taken:
            expected = "an id no other entity in the file has" if _entity_id(eid) else \
                f"a whole number from 1 to {MAX_ENTITY_ID}"
            raise DataError(source, f"{_label(index, block)}.id", expected, eid)
        taken.add(eid)
        parent = block.get("parent", 0)
        if type(parent) is not int:
            raise DataError(source, f"{_label(index, block)}.parent", "the id of another entity in this file", parent)
        members = block.get("members")
        if members is None:
            continue
        if not isinstance(members, dict):
            raise DataError(source, f"{_label(index, block)}.members", "an object mapping member keys to entity ids",
                            members)
        for key, member in members.items():
            if not _entity_id(member) or member in taken:
                expected = "an id no other entity in the file has" if _entity_id(member) else \
                    f"a whole number from 1 to {MAX_ENTITY_ID}"
                raise DataError(source, f"{_label(index, block)}.members.{key}", expected, member)
            taken.add(member)
    return taken


def _instance(block: dict[str, Any], label: str, ctx: LoadContext, prefabs: PrefabLibrary, allocate: Any) -> list[EntitySpec]:
    if "components" in block:
        raise DataError(ctx.source, f"{label}.components", "no components beside a prefab (use overrides)")
    specs = expand_instance(prefabs, block["prefab"], ctx, f"{label}.prefab", root_id=block["id"],
                            parent=block.get("parent", 0), member_ids=block.get("members", {}), allocate=allocate,
                            overrides=block.get("overrides", {}), overrides_path=f"{label}.overrides",
                            removed=block.get("removed"), removed_path=f"{label}.removed")
    root = specs[0]
    parsed = parse_block({k: v for k, v in block.items() if k in ("name", "transform")}, ctx, label)
    if "name" in block:
        root.name = parsed.name
    if parsed.transform is not None:
        base = root.transform
        over = parsed.transform
        root.transform = over if base is None else type(over)(
            over.pos if over.pos is not None else base.pos, over.hpr if over.hpr is not None else base.hpr,
            over.scale if over.scale is not None else base.scale)
    return specs


def _check_parents(specs: list[EntitySpec], ctx: LoadContext, labels: dict[int, str],
                   broken: set[int] | None = None) -> None:
    """Parents exist, no parent chain loops, and none is longer than the depth budget (each entity
    walked once: linear in the file). ``broken``: when validate goes on past blocks with problems,
    the ids the file holds (a parent among them whose block was broken was reported already);
    then problems are collected and the parent in question is dropped."""
    source, max_depth = ctx.source, ctx.budgets.depth
    by_id = {spec.id: spec for spec in specs}

    def where(eid: int) -> str:
        return labels.get(eid, f"entity {eid}")

    for spec in specs:
        if spec.parent and spec.parent not in by_id:
            if broken is None or spec.parent not in broken:
                ctx.problem(DataError(source, f"{where(spec.id)}.parent", "the id of another entity in this file",
                                      spec.parent))
            spec.parent = 0
    depth: dict[int, int] = {}  # entity -> how many entities its parent chain holds, itself included
    for spec in specs:
        chain: list[int] = []
        on_chain: set[int] = set()
        current = spec.id
        while current and current not in depth:
            if current in on_chain:
                ctx.problem(DataError(source, f"{where(spec.id)}.parent", "a parent chain without a loop",
                                      by_id[spec.id].parent))
                by_id[spec.id].parent, current = 0, 0
                break
            chain.append(current)
            on_chain.add(current)
            current = by_id[current].parent
        below = depth.get(current, 0)
        for eid in reversed(chain):
            below += 1
            depth[eid] = below
            if below > max_depth:
                raise DataError(source, f"{where(eid)}.parent", f"parent chains of at most {max_depth} entities "
                                                                f"({budget_hint('depth')})", by_id[eid].parent)


def _check_refs(specs: list[EntitySpec], ctx: LoadContext) -> None:
    """Entity references point at entities of this file that have what the field requires:
    an error when validating, a warning (the world still loads) otherwise."""
    ref_fields: dict[type, list[str]] = {}
    types: dict[int, set[str]] | None = None
    for spec in specs:
        for component in spec.components:
            names = ref_fields.get(component.cls)
            if names is None:
                names = ref_fields[component.cls] = [n for n, f in component.cls.fields.items()
                                                     if isinstance(f.type, EntityRef)]
            for name in names:
                value = component.values.get(name)
                if not value:
                    continue
                if types is None:
                    types = {s.id: {c.cls.type_name for c in s.components} for s in specs}
                kind = component.cls.fields[name].type
                problem = ""
                if value not in types:
                    problem = "the id of an entity in this world"
                elif any(t not in types[value] for t in kind.requires):
                    problem = f"an entity with {' and '.join(kind.requires)}"
                if problem:
                    path = f"entity {spec.id}({spec.name}).{component.cls.type_name}.{name}"
                    if ctx.assets is not None:
                        ctx.problem(DataError(ctx.source, path, problem, value))
                    else:
                        log.warning("%s: %s: expected %s, got %s", ctx.source, path, problem, value)

