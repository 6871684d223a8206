"""World files: JSON text, one block per entity with a stable id, never executable.

Loading goes one way: read (``packs.json_text``) -> migrate (``migrations``) -> parse
(``world_parse``: every check, prefabs expanded) -> build (``core.entity_specs.build_entities``).
A bad file raises one DataError naming the file, the path inside it and what was expected.
Saving (``world_save``) writes the canonical layout atomically, so loading and saving an
unchanged world gives back the same bytes.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.core.component import ComponentRegistry
from engine.core.entity_specs import build_entities
from engine.core.world import World
from engine.core.world_settings import WorldSettings
from engine.data.entity_blocks import LoadContext
from engine.data.migrations import migrate
from engine.data.prefab_files import PrefabLibrary
from engine.data.world_parse import WorldSpec, parse_world
from engine.data.world_save import world_to_data
from engine.packs.json_text import atomic_write, dumps_canonical, read_json

if TYPE_CHECKING:
    from engine.packs.assets import AssetCache

__all__ = ["WorldSettings", "WorldMaker", "build_world", "load_world_data", "read_world", "save_world",
           "validate_world", "world_to_data"]


class WorldMaker(Protocol):
    """What loading needs from the host (``engine.host.runtime.Runtime`` is one)."""

    prefabs: PrefabLibrary
    assets: "AssetCache"

    def registry(self) -> ComponentRegistry: ...

    def new_world(self, *, seed: int = 0, tick_rate: float = 60.0, name: str = "world") -> World: ...


def read_world(path: Path | str, maker: WorldMaker, *, check_assets: bool = False, seed: int | None = None) -> World:
    """Load a world file into a new World; ``check_assets`` makes missing assets errors (validate)."""
    registry = maker.registry()
    spec = _parse_file(path, registry, maker, check_assets)  # the file's JSON data is gone once parsed
    world = build_world(spec, maker, registry, seed)
    world.origin = str(Path(path).resolve())
    return world


def _parse_file(path: Path | str, registry: ComponentRegistry, maker: WorldMaker, check_assets: bool) -> WorldSpec:
    source = str(path)
    ctx = LoadContext(source, registry, maker.assets if check_assets else None, maker.prefabs.content.budgets)
    return parse_world(migrate(read_json(path), "world", source), ctx, maker.prefabs, consume=True)


def load_world_data(data: Any, source: str, maker: WorldMaker, *, check_assets: bool = False,
                    seed: int | None = None) -> World:
    """Load world data that was read already (migrated in place: pass data you own)."""
    registry = maker.registry()
    ctx = LoadContext(source, registry, maker.assets if check_assets else None, maker.prefabs.content.budgets)
    spec = parse_world(migrate(data, "world", source), ctx, maker.prefabs)
    return build_world(spec, maker, registry, seed)


def build_world(spec: WorldSpec, maker: WorldMaker, registry: ComponentRegistry, seed: int | None = None) -> World:
    """The build step: a new World with the standard systems and the parsed entities."""
    settings = spec.settings
    world = maker.new_world(seed=settings.seed if seed is None else seed, tick_rate=settings.tick_rate, name=spec.name)
    world.registry = registry
    world.settings["world"] = settings
    world.reserve_ids(spec.highest_id)
    try:
        build_entities(world, spec.entities)
    except BaseException:
        world.close()
        raise
    return world


def save_world(world: World, path: Path | str) -> None:
    """Write the world atomically in the canonical layout."""
    atomic_write(path, dumps_canonical(world_to_data(world)))


def validate_world(path: Path | str, maker: WorldMaker) -> World:
    """Load a world strictly (missing assets and broken references are errors too); returns it,
    or raises DataError."""
    return read_world(path, maker, check_assets=True)
