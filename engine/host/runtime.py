"""The pieces a running world shares: content packs, assets, scripts and prefabs, and the
factory that builds a World with the engine's standard systems."""
from __future__ import annotations

from dataclasses import dataclass

from engine.animation import AnimationSystem
from engine.audio import AudioSystem, connect_collisions
from engine.camera.system import CameraSystem
from engine.core.world import World
from engine.data.prefab_files import PrefabLibrary
from engine.data.prefab_service import PrefabService
from engine.host.builtins import builtin_registry
from engine.input import InputSystem, open_actions
from engine.packs.assets import AssetCache
from engine.packs.content import ContentRegistry, default_content
from engine.physics import PhysicsSystem
from engine.physics.events import Collision
from engine.render.system import RenderSystem
from engine.scripting.behaviour import ScriptSystem
from engine.scripting.script_loader import ScriptLoader
from engine.terrain import TerrainSystem


@dataclass
class Runtime:
    """Shared services; one per process is usual, many worlds may use it."""

    content: ContentRegistry
    assets: AssetCache
    scripts: ScriptLoader
    prefabs: PrefabLibrary
    audio: str = "null"  # "openal" for a game with speakers; "null" records what would play
    per_user_input: bool = True  # apply this user's saved key rebindings

    def registry(self):  # type: ignore[no-untyped-def]
        """A component registry with the built-ins and script behaviours from code packs."""
        registry = builtin_registry()
        registry.add_resolver(self.scripts.resolve)
        return registry

    def new_world(self, *, seed: int = 0, tick_rate: float = 60.0, name: str = "world") -> World:
        """An empty World with the standard systems (input, scripts, physics, audio, render sync)."""
        world = World(seed=seed, tick_rate=tick_rate, name=name, registry=self.registry())
        world.services["runtime"] = self
        world.services["prefabs"] = PrefabService(self.prefabs)
        world.add_system(InputSystem(open_actions(self.content, per_user=self.per_user_input)))
        world.add_system(ScriptSystem(self.scripts))
        world.add_system(PhysicsSystem())
        world.add_system(TerrainSystem())
        world.add_system(CameraSystem())
        world.add_system(AnimationSystem(self.assets))
        world.add_system(RenderSystem(self.assets))
        world.add_system(AudioSystem(self.content, device=self.audio))
        connect_collisions(world, Collision)
        return world


def create_runtime(content: ContentRegistry | None = None, audio: str = "null") -> Runtime:
    """A runtime over the given packs (the base pack alone by default)."""
    content = content or default_content()
    return Runtime(content, AssetCache(content), ScriptLoader(content), PrefabLibrary(content), audio)
