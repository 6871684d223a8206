"""The tick table: every standard system, where it runs in the tick and which profiles have it.

A *profile* is a kind of world: ``game`` (the default: everything, drawn by an App or not) and
``server`` (simulation only: input from peers, scripts, terrain, physics; no render, animation,
camera or audio systems, and no App). ``Runtime.add_system`` appends rows of the same shape for
packs and plugins, so their systems slot in between the standard ones by ``order``.

Rows are built and attached in the order listed here (which decides whose event handlers hear a
new component first); each tick they run by ``order``, equal orders in the order listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from engine.animation import AnimationSystem
from engine.audio import AudioSystem, connect_collisions
from engine.camera.system import CameraSystem
from engine.core.system import (
    ORDER_ANIMATION,
    ORDER_AUDIO,
    ORDER_CAMERA,
    ORDER_INPUT,
    ORDER_PHYSICS,
    ORDER_SCRIPTS,
    System,
)
from engine.core.world import World
from engine.host.prefab_watch import ORDER_PREFAB_WATCH, PrefabWatchSystem
from engine.input import InputSystem, open_actions
from engine.physics import PhysicsSystem
from engine.physics.events import Collision
from engine.render.system import ORDER_RENDER_SYNC, RenderSystem
from engine.scripting.behaviour import ScriptSystem
from engine.terrain import TerrainSystem
from engine.terrain.system import ORDER_TERRAIN

if TYPE_CHECKING:
    from engine.host.runtime import Runtime

GAME, SERVER = "game", "server"
EVERY_PROFILE = frozenset((GAME, SERVER))
GAME_ONLY = frozenset((GAME,))

SystemFactory = Callable[["Runtime", World], System]
"""Builds one system for a new world: called with the runtime and the world it will join (not yet
added; a factory may wire the world's events, as audio does for collision sounds)."""


@dataclass(frozen=True)
class SystemSpec:
    """One row of the tick table: what builds a system, where it runs in the tick (``order``,
    which the built system takes over), and the profiles whose worlds have it."""

    name: str
    factory: SystemFactory
    order: int
    profiles: frozenset[str]

    def build(self, runtime: "Runtime", world: World) -> System:
        """The system for ``world``, ordered by this row."""
        system = self.factory(runtime, world)
        if not isinstance(system, System):
            raise TypeError(f"system factory {self.name!r} returned {system!r}, not a System")
        system.order = self.order  # type: ignore[misc]  # the table, not the class, places it
        return system


def _input(runtime: "Runtime", world: World) -> System:
    return InputSystem(open_actions(runtime.content, per_user=runtime.per_user_input))


def _scripts(runtime: "Runtime", world: World) -> System:
    return ScriptSystem(runtime.scripts)


def _prefab_watch(runtime: "Runtime", world: World) -> System:
    return PrefabWatchSystem(runtime.prefabs)


def _physics(runtime: "Runtime", world: World) -> System:
    return PhysicsSystem()


def _terrain(runtime: "Runtime", world: World) -> System:
    return TerrainSystem()


def _camera(runtime: "Runtime", world: World) -> System:
    return CameraSystem()


def _animation(runtime: "Runtime", world: World) -> System:
    return AnimationSystem(runtime.assets)


def _render(runtime: "Runtime", world: World) -> System:
    return RenderSystem(runtime.assets)


def _audio(runtime: "Runtime", world: World) -> System:
    connect_collisions(world, Collision)
    return AudioSystem(runtime.content, device=runtime.audio)


STANDARD_SYSTEMS: tuple[SystemSpec, ...] = (
    SystemSpec("input", _input, ORDER_INPUT, EVERY_PROFILE),
    SystemSpec("prefab_watch", _prefab_watch, ORDER_PREFAB_WATCH, EVERY_PROFILE),
    SystemSpec("scripts", _scripts, ORDER_SCRIPTS, EVERY_PROFILE),
    SystemSpec("physics", _physics, ORDER_PHYSICS, EVERY_PROFILE),
    SystemSpec("terrain", _terrain, ORDER_TERRAIN, EVERY_PROFILE),
    SystemSpec("camera", _camera, ORDER_CAMERA, GAME_ONLY),
    SystemSpec("animation", _animation, ORDER_ANIMATION, GAME_ONLY),
    SystemSpec("render_sync", _render, ORDER_RENDER_SYNC, GAME_ONLY),
    SystemSpec("audio", _audio, ORDER_AUDIO, GAME_ONLY),
)
