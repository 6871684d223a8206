"""The pieces a running world shares: content packs, assets, scripts and prefabs, and the
factory that builds a World with the systems of the tick table (``system_table.py``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from engine.core.component import Component, ComponentRegistry
from engine.core.world import World
from engine.data.prefab_files import PrefabLibrary
from engine.data.prefab_service import PrefabService
from engine.host.builtins import builtin_registry
from engine.host.system_table import GAME, STANDARD_SYSTEMS, SystemFactory, SystemSpec
from engine.packs.assets import AssetCache
from engine.packs.content import ContentRegistry, default_content
from engine.packs.loading import open_content
from engine.packs.profile import Profile
from engine.scripting.script_loader import ScriptLoader


@dataclass
class Runtime:
    """Shared services; one per process is usual, many worlds may use it."""

    content: ContentRegistry
    assets: AssetCache
    scripts: ScriptLoader
    prefabs: PrefabLibrary
    audio: str = "null"  # "openal" for a game with speakers; "null" records what would play
    per_user_input: bool = True  # apply this user's saved key rebindings
    systems: list[SystemSpec] = field(default_factory=lambda: list(STANDARD_SYSTEMS))
    component_types: list[type[Component]] = field(default_factory=list)

    def registry(self) -> ComponentRegistry:
        """A component registry with the built-ins, the types features added (``add_component_type``)
        and script behaviours from code packs."""
        registry = builtin_registry()
        for cls in self.component_types:
            registry.register(cls)
        registry.add_resolver(self.scripts.resolve)
        return registry

    def add_component_type(self, cls: type[Component]) -> None:
        """Make a component type from outside the engine (the AI feature's NpcBrain) known to every
        world made and every world file read from now on."""
        if cls not in self.component_types:
            self.component_types.append(cls)

    def add_system(self, factory: SystemFactory, order: int, profiles: Iterable[str] = (GAME,),
                   name: str = "") -> SystemSpec:
        """Give every world made from now on (of one of ``profiles``) a system built by
        ``factory(runtime, world)``, run at ``order`` in the tick (see ``engine.core.system``'s
        ORDER_* numbers: input 100, scripts 200, physics 300, ...)."""
        spec = SystemSpec(name or getattr(factory, "__name__", "system"), factory, int(order), frozenset(profiles))
        if not spec.profiles:
            raise ValueError(f"system {spec.name!r}: name at least one profile (e.g. {GAME!r})")
        self.systems.append(spec)
        return spec

    def profiles(self) -> list[str]:
        """The profiles some system row names, sorted."""
        return sorted({profile for spec in self.systems for profile in spec.profiles})

    def new_world(self, *, seed: int = 0, tick_rate: float = 60.0, name: str = "world", profile: str = GAME) -> World:
        """An empty World with the systems of ``profile``: ``game`` (input, scripts, physics, terrain,
        camera, animation, render sync, audio) or ``server`` (input, scripts, physics, terrain)."""
        if profile not in self.profiles():
            raise ValueError(f"unknown world profile {profile!r}; expected one of {', '.join(self.profiles())}")
        world = World(seed=seed, tick_rate=tick_rate, name=name, registry=self.registry())
        world.services["runtime"] = self
        world.services["prefabs"] = PrefabService(self.prefabs)
        for spec in self.systems:
            if profile in spec.profiles:
                world.add_system(spec.build(self, world))
        return world


def create_runtime(content: ContentRegistry | None = None, audio: str = "null",
                   profile: Profile | Path | str | None = None) -> Runtime:
    """A runtime over the given packs, or over a profile's enabled packs in load order
    (``engine.packs.loading.open_content``: a Profile, or the path of a profile file); the base
    pack alone when neither is given."""
    if content is not None and profile is not None:
        raise ValueError("create_runtime: give content or a profile, not both")
    if profile is not None:
        content = open_content(profile)
    content = content or default_content()
    return Runtime(content, AssetCache(content), ScriptLoader(content), PrefabLibrary(content), audio)
