"""Wiring the AI feature into a runtime: its component types in every world's registry, an
NpcSystem in every world's tick (game and server profiles), one AiService shared by them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ai.components import AI_COMPONENTS
from ai.director import DIRECTOR_COMPONENTS
from ai.personas import persona_problem
from ai.service import AiService
from ai.settings import AiSettings
from engine.core.system import ORDER_AI, System
from engine.host.system_table import GAME, SERVER

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.runtime import Runtime

SERVICE = "ai"


def install_ai(runtime: "Runtime", settings: AiSettings | Mapping[str, Any] | None = None,
               backends: dict[str, Any] | None = None, bubbles: bool = False) -> AiService:
    """Give every world ``runtime`` makes from now on NPCs that think; returns the service (call
    ``close()`` when done). Without a model or a key this still works: NPCs use the scripted
    backend. ``backends`` replaces the configured ones (tests); ``bubbles`` shows speech above
    NPCs (the game's App turns it on)."""
    existing = getattr(runtime, "_storm_ai", None)
    if existing is not None:
        return existing
    if not isinstance(settings, AiSettings):
        settings = AiSettings.from_mapping(settings)
    service = AiService(runtime.content, settings, backends)

    def factory(rt: "Runtime", world: "World") -> System:
        from ai.npc_system import NpcSystem

        world.services[SERVICE] = service
        system = NpcSystem(service)
        if bubbles:
            from ai.speech_bubble import SpeechBubbles

            system.listeners.append(SpeechBubbles(world))
        return system

    add_ai_types(runtime)
    runtime.add_system(factory, ORDER_AI, profiles=(GAME, SERVER), name="npcs")
    setattr(runtime, "_storm_ai", service)
    return service


def add_ai_types(runtime: "Runtime") -> None:
    """Only the AI feature's component types (NpcBrain, Item, Quest, QuestStep) and the persona
    loader as the check of ``persona`` assets: enough to load, validate and save worlds that hold
    NPC minds, without starting any model."""
    for cls in AI_COMPONENTS + DIRECTOR_COMPONENTS:
        runtime.add_component_type(cls)
    key = AiSettings.from_mapping().persona_key or None
    runtime.assets.kinds.set_check("persona", lambda content, asset_id: persona_problem(content, asset_id, key))
