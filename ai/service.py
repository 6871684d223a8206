"""The AI service of one runtime: backends in their workers, the cascade, personas and dialogue
read through the content registry, the prompt log, and the calls an editor or a game makes
(persona list and edit, talk to an NPC, its memories, the latest prompts with token counts and
latency). ``ai.install.install_ai`` makes one and wires it into a runtime."""
from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Hashable

from ai.actions.pack_actions import register_pack_actions
from ai.actions.registry import ActionRegistry, Decision
from ai.backends.base import Request, Result
from ai.backends.grok import Grok
from ai.backends.local_llama import LocalLlama
from ai.backends.scripted import Scripted
from ai.cascade import Cascade, ResultCache, Ticket
from ai.components import NpcBrain
from ai.dialogue import Dialogue, load_dialogue
from ai.pack_files import list_assets
from ai.personas import Persona, list_personas, load_persona, save_persona
from ai.settings import AiSettings
from ai.worker import ModelWorker

if TYPE_CHECKING:
    from ai.npc_system import NpcSystem
    from engine.core.world import World
    from engine.packs.content import ContentRegistry

log = logging.getLogger("storm.ai")


@dataclass(frozen=True)
class NpcActed:
    """An NPC did something (event on the world's bus): games listen for attack, give, open..."""

    entity: int
    decision: Decision
    backend: str


@dataclass
class PromptRecord:
    """One request and its answer, for the editor's prompt log."""

    world: str
    entity: int
    npc: str
    kind: str
    messages: list[dict[str, str]]
    output: str
    backend: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    first_token_ms: float
    fallbacks: list[str] = field(default_factory=list)
    outcome: str = ""
    time: float = 0.0


class AiService:
    """Everything AI for one runtime's worlds (see the module doc)."""

    def __init__(self, content: "ContentRegistry", settings: AiSettings | None = None,
                 backends: dict[str, Any] | None = None) -> None:
        self.content = content
        self.settings = settings or AiSettings.from_mapping()
        self.scripted = Scripted()
        made = backends if backends is not None else self._default_backends()
        made.setdefault("scripted", self.scripted)
        if isinstance(made["scripted"], Scripted):
            self.scripted = made["scripted"]
        self.workers = {name: ModelWorker(backend, warm=(name == "local")) for name, backend in made.items()}
        self.cascade = Cascade(self.workers, self.settings.cascades, self.settings.budgets_ms,
                               ResultCache(self.settings.cache_entries))
        local = made.get("local")
        self.embeds = bool(self.settings.embeddings and isinstance(local, LocalLlama) and local.available()[0])
        self.prompts: "collections.deque[PromptRecord]" = collections.deque(maxlen=100)
        self._personas: dict[str, Persona] = {}
        self._dialogues: dict[str, Dialogue] = {}
        self.persona_key = self.settings.persona_key
        self.on_acted: list[Callable[[NpcActed], None]] = []

    def _default_backends(self) -> dict[str, Any]:
        settings = self.settings
        backends: dict[str, Any] = {}
        gguf = settings.gguf()
        if gguf is not None:
            backends["local"] = LocalLlama(gguf, threads=settings.threads, gpu_layers=settings.gpu_layers,
                                           context=settings.context, seed=settings.seed, embeddings=settings.embeddings)
        if settings.grok_key:
            backends["grok"] = Grok(base_url=settings.grok_url, api_key=settings.grok_key, model=settings.grok_model,
                                    prefer=settings.grok_prefer, timeout_s=settings.grok_timeout_s,
                                    retries=settings.grok_retries, api=settings.grok_api)
        ready = {}
        for name, backend in backends.items():
            ok, why = backend.available()
            log.info("ai backend %s: %s", name, "ready" if ok else f"not available ({why}); left out")
            if ok:
                ready[name] = backend
        return ready

    def backend_status(self) -> dict[str, str]:
        """Each backend: 'ready' or why it is not (for `storm` and the editor)."""
        out = {}
        for name, worker in self.workers.items():
            ok, why = worker.backend.available()
            out[name] = "ready" if ok else why
        return out

    # -- content ------------------------------------------------------------------------------------
    def persona(self, asset_id: str) -> Persona:
        """A persona by asset id (read once; ``reload_persona`` reads it again)."""
        if asset_id not in self._personas:
            self._personas[asset_id] = load_persona(self.content, asset_id, self.persona_key or None)
        return self._personas[asset_id]

    def reload_persona(self, asset_id: str) -> Persona:
        self._personas.pop(asset_id, None)
        return self.persona(asset_id)

    def personas(self) -> list[str]:
        return list_personas(self.content)

    def save_persona(self, asset_id: str, persona: Persona, encrypt: bool = False) -> None:
        """Write an edited persona back into its (folder) pack, atomically."""
        save_persona(persona, self.content.writable_path(asset_id), self.persona_key if encrypt else None)
        self._personas.pop(asset_id, None)

    def dialogue(self, asset_id: str) -> Dialogue:
        if asset_id not in self._dialogues:
            self._dialogues[asset_id] = load_dialogue(self.content, asset_id)
        return self._dialogues[asset_id]

    def add_pack_actions(self, registry: ActionRegistry) -> list[str]:
        """The verbs declared by the enabled packs (``pack:npc_actions/*.json``)."""
        return register_pack_actions(registry, self.content, list_assets(self.content, "npc_actions", ".json"))

    # -- talking to NPCs --------------------------------------------------------------------------
    @staticmethod
    def system_of(world: "World") -> "NpcSystem":
        from ai.npc_system import NpcSystem

        system = world.system(NpcSystem)
        if system is None:
            raise LookupError(f"world {world.name!r} has no NpcSystem (was ai.install.install_ai called?)")
        return system

    def talk(self, world: "World", npc: int, text: str, speaker: int = 0) -> list[int]:
        """Say ``text`` to one NPC (a dialogue box, the editor) as ``speaker`` (0: someone unseen)."""
        return self.system_of(world).hear(speaker, text, to=npc)

    def say(self, world: "World", speaker: int, text: str) -> list[int]:
        """A chat line said aloud by ``speaker``: every NPC within hearing answers."""
        return self.system_of(world).hear(speaker, text)

    def npcs(self, world: "World") -> list[dict[str, Any]]:
        """Each NPC of a world for an editor's list: entity, name, persona, backend status, problem."""
        system = self.system_of(world)
        out = []
        for eid, brain in world.query(NpcBrain):
            mind = system.minds.get(eid)
            out.append({"entity": eid, "name": world.name_of(eid), "persona": brain.persona,
                        "thinking": brain.thinking == "yes", "problem": mind.problem if mind is not None else ""})
        return sorted(out, key=lambda row: row["entity"])

    def memories(self, world: "World", npc: int) -> list[dict[str, Any]]:
        brain = world.get(npc, NpcBrain)
        return list(brain.memories) if brain is not None else []

    def last_prompts(self, npc: int | None = None, count: int = 20) -> list[PromptRecord]:
        rows = [r for r in self.prompts if npc is None or r.entity == npc]
        return rows[-count:]

    # -- plumbing --------------------------------------------------------------------------------
    def embed(self, texts: list[str], owner: Hashable, on_vectors: Callable[[list[list[float]] | None], None]) -> None:
        worker = self.workers.get("local")
        if worker is None:
            on_vectors(None)
            return
        worker.submit_embed(texts, owner, on_vectors)

    def record(self, world: "World", eid: int, request: Request, result: Result | None, ticket: Ticket | None,
               outcome: str, decision: Decision | None) -> None:
        fallbacks = [f"{f.backend}: {f.reason}" for f in ticket.fallbacks] if ticket is not None else []
        self.prompts.append(PromptRecord(
            world.name, eid, world.name_of(eid), request.kind, request.messages, result.text if result else "",
            result.backend if result else "", result.model if result else "", result.prompt_tokens if result else 0,
            result.completion_tokens if result else 0, result.latency_ms if result else 0.0,
            result.first_token_ms if result else 0.0, fallbacks, outcome, time.time()))

    def acted(self, world: "World", eid: int, decision: Decision, backend: str) -> None:
        event = NpcActed(eid, decision, backend)
        world.events.emit(event)
        for callback in self.on_acted:
            callback(event)

    def close(self) -> None:
        """Stop every worker (each frees its model on its own thread)."""
        self.cascade.close()
