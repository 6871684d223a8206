"""World files: JSON text, one block per entity with a stable id, never executable.

Loading checks everything against the component declarations and raises one DataError naming
the file, the path inside it and what was expected. Saving writes the canonical layout
atomically, so loading and saving an unchanged world gives back the same bytes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.core.component import Component, apply_data
from engine.core.errors import DataError
from engine.core.fields import Color, Field, Float, Int, Str, Vec3
from engine.core.world import World
from engine.data.entity_blocks import (
    LoadContext,
    add_components,
    apply_transform,
    components_data,
    expect_keys,
    parse_block,
    transform_data,
)
from engine.data.migrations import CURRENT_VERSION, migrate
from engine.data.prefabs import instance_overrides, instances, owned_members, root_transform
from engine.host.runtime import Runtime
from engine.packs.json_text import atomic_write, dumps_canonical, read_json

WORLD_KEYS = ("storm_world", "name", "settings", "entities")
ENTITY_KEYS = ("id", "name", "parent", "prefab", "transform", "components", "overrides")
MAX_ENTITY_ID = 2**31 - 1


class WorldSettings(Component):
    """World-wide settings stored in the file's ``settings`` block."""

    seed = Field(Int(0, 2**31 - 1), 0, doc="seed of the world's random source")
    tick_rate = Field(Float(1.0, 1000.0), 60.0, doc="fixed simulation ticks per second")
    background = Field(Color(), (0.5, 0.6, 0.7, 1.0), doc="colour behind everything")
    description = Field(Str(2000), "", doc="what this world is, for people browsing worlds")
    gravity = Field(Vec3(-1000.0, 1000.0), (0.0, 0.0, -9.81), doc="world gravity in m/s^2 (Z is up)")


def read_world(path: Path | str, runtime: Runtime, *, check_assets: bool = False, seed: int | None = None) -> World:
    """Load a world file into a new World; ``check_assets`` makes missing assets errors (validate)."""
    source = str(path)
    world = load_world_data(read_json(path), source, runtime, check_assets=check_assets, seed=seed)
    world.origin = str(Path(path).resolve())
    return world


def load_world_data(data: Any, source: str, runtime: Runtime, *, check_assets: bool = False,
                    seed: int | None = None) -> World:
    data = migrate(data, "world", source)
    registry = runtime.registry()
    ctx = LoadContext(source, registry, runtime.assets if check_assets else None)
    expect_keys(data, WORLD_KEYS, ctx, "")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise DataError(source, "name", "a string", name)
    settings = WorldSettings()
    problems = apply_data(settings, data.get("settings", {}))
    if problems:
        field_name, error = problems[0]
        raise DataError(source, f"settings.{field_name}".rstrip("."), error.expected, error.got)
    entities = data.get("entities", [])
    if not isinstance(entities, list):
        raise DataError(source, "entities", "a list of entity objects", entities)
    parents = _check_ids(entities, source)

    world = runtime.new_world(seed=settings.seed if seed is None else seed, tick_rate=settings.tick_rate, name=name)
    world.registry = registry
    world.settings["world"] = settings
    try:
        _build(world, entities, parents, ctx, runtime)
    except BaseException:
        world.close()
        raise
    return world


def _label(index: int, block: Any) -> str:
    """How errors name an entity block: ``entities[2](Crate)``, or ``entities[2]`` when it has no name."""
    name = block.get("name") if isinstance(block, dict) else None
    return f"entities[{index}]({name})" if isinstance(name, str) and name else f"entities[{index}]"


def _check_ids(entities: list[Any], source: str) -> dict[int, int]:
    """Check ids and parents before anything is built; returns id -> parent id."""
    parents: dict[int, int] = {}
    for index, block in enumerate(entities):
        where = _label(index, block)
        if not isinstance(block, dict):
            raise DataError(source, where, "an entity object", block)
        eid = block.get("id")
        if isinstance(eid, bool) or not isinstance(eid, int) or not 0 < eid <= MAX_ENTITY_ID:
            raise DataError(source, f"{where}.id", f"a whole number from 1 to {MAX_ENTITY_ID}", eid)
        if eid in parents:
            raise DataError(source, f"{where}.id", "an id no other entity in the file has", eid)
        parent = block.get("parent", 0)
        if isinstance(parent, bool) or not isinstance(parent, int):
            raise DataError(source, f"{where}.parent", "the id of another entity in this file", parent)
        parents[eid] = parent
    for index, block in enumerate(entities):
        eid, parent = block["id"], parents[block["id"]]
        if parent and parent not in parents:
            raise DataError(source, f"{_label(index, block)}.parent", "the id of another entity in this file", parent)
        seen = {eid}
        while parent:
            if parent in seen:
                raise DataError(source, f"{_label(index, block)}.parent", "a parent chain without a loop", parent)
            seen.add(parent)
            parent = parents[parent]
    return parents


def _build(world: World, entities: list[dict[str, Any]], parents: dict[int, int], ctx: LoadContext,
           runtime: Runtime) -> None:
    world.reserve_ids(max(parents, default=0))
    for index, block in enumerate(entities):
        label = _label(index, block)
        expect_keys(block, ENTITY_KEYS, ctx, label)
        eid = block["id"]
        if "prefab" in block:
            if "components" in block:
                raise DataError(ctx.source, f"{label}.components", "no components beside a prefab (use overrides)")
            instance = runtime.prefabs.instantiate(world, block["prefab"], ctx, f"{label}.prefab", eid=eid,
                                                   overrides=block.get("overrides", {}),
                                                   overrides_path=f"{label}.overrides")
            parsed = parse_block({k: v for k, v in block.items() if k in ("name", "transform")}, ctx, label)
            if "name" in block:
                world.set_name(instance.root, parsed.name)
        else:
            if "overrides" in block:
                raise DataError(ctx.source, f"{label}.overrides", "overrides only on a prefab instance")
            parsed = parse_block(block, ctx, label)
            world.create_entity(parsed.name, 0, eid)
            add_components(world, eid, parsed.components)
        if parsed.transform is not None:
            apply_transform(world, eid, parsed.transform)
    for eid, parent in parents.items():
        if parent:
            world.node(eid).reparentTo(world.node(parent))


def world_to_data(world: World) -> dict[str, Any]:
    """The world as file data in canonical order."""
    settings: WorldSettings = world.settings.get("world") or WorldSettings()
    settings.seed, settings.tick_rate = world.seed, world.tick_rate
    out: dict[str, Any] = {"storm_world": CURRENT_VERSION, "name": world.name}
    settings_data = settings.to_data()
    if settings_data:
        out["settings"] = settings_data
    skipped = owned_members(world)
    placed = instances(world)
    blocks = []
    for eid in world.entities():
        if eid in skipped:
            continue
        block: dict[str, Any] = {"id": eid, "name": world.name_of(eid)}
        parent = world.parent_of(eid)
        if parent:
            block["parent"] = parent
        instance = placed.get(eid)
        if instance is not None:
            block["prefab"] = instance.asset_id
        transform = transform_data(world, eid) if instance is None else root_transform(world, instance)
        if transform:
            block["transform"] = transform
        if instance is not None:
            overrides = instance_overrides(world, instance)
            if overrides:
                block["overrides"] = overrides
        else:
            block["components"] = components_data(world, eid)
        blocks.append(block)
    out["entities"] = blocks
    return out


def save_world(world: World, path: Path | str) -> None:
    """Write the world atomically in the canonical layout."""
    atomic_write(path, dumps_canonical(world_to_data(world)))


def validate_world(path: Path | str, runtime: Runtime) -> World:
    """Load a world strictly (missing assets are errors too); returns it, or raises DataError."""
    return read_world(path, runtime, check_assets=True)
