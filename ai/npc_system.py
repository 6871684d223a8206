"""The NpcSystem: each tick it steers NPCs, refreshes one NPC's perception, and starts a
decision for NPCs that heard something or have been idle a while; decisions come back through
``world.post`` and are validated and applied at the start of a tick. It never waits for a model.

The base pack's ``base:npc.Npc`` behaviour marks an entity as an NPC in a world file (so any
runtime can load the world); this system gives each such entity an NpcBrain, whose memories
are then saved with the world.
"""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ai.actions.builtin import SAFE_DEFAULT
from ai.actions.decision import DecisionFormat, SayStream, parse_decision
from ai.actions.registry import ActionRefused, ActionRegistry, Decision, distance_between
from ai.backends.base import Request, Result
from ai.components import Item, NpcBrain
from ai.locomotion import steer
from ai.memory import MemoryStream
from ai.mind import Mind
from ai.perception import Perception, label
from ai.prompts import REFLECTION_GRAMMAR, decision_messages, reflection_messages, scripted_reflection
from ai.speech import clean_speech, echoes
from engine.core.edit_commands import CreateEntity, SetFields
from engine.core.events import ComponentAdded, ComponentRemoved
from engine.core.system import ORDER_AI, System

if TYPE_CHECKING:
    from ai.service import AiService
    from engine.core.world import World

log = logging.getLogger("storm.ai.npcs")
MARKER = "base:npc.Npc"
SPEECH_SECONDS = 6.0
REFLECT_AT = 60       # summed importance that starts a reflection (Generative Agents: 150, for day-long runs)
MAX_HEARD_TEXT = 300


class SpeechListener(Protocol):
    """A speech bubble or dialogue panel: told each streamed word, each final line, and when speech ends."""

    def word(self, entity: int, word: str) -> None: ...
    def line(self, entity: int, text: str) -> None: ...
    def clear(self, entity: int) -> None: ...


class NpcSystem(System):
    """Runs every NpcBrain of one world (see the module doc)."""

    name = "npcs"
    order = ORDER_AI

    def __init__(self, service: "AiService") -> None:
        self.service = service
        self.minds: dict[int, Mind] = {}
        self.perception = Perception()
        self.listeners: list[SpeechListener] = []
        self._world: "World | None" = None
        self._round = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self, world: "World") -> None:
        self._world = world
        self.actions = ActionRegistry.of(world)
        self.service.add_pack_actions(self.actions)
        self.listen(world, {ComponentAdded: self._on_added, ComponentRemoved: self._on_removed})

    def detach(self, world: "World") -> None:
        self.stop_listening()
        for eid in list(self.minds):
            self._forget(eid, "the world closed")
        self._world = None

    def owner(self, eid: int) -> tuple[int, int]:
        return (id(self), eid)

    def _on_added(self, event: ComponentAdded) -> None:
        self.perception.on_added(event)
        component = event.component
        if isinstance(component, NpcBrain):
            self._wake(event.entity, component)
        elif type(component).type_name == MARKER and self._world is not None:
            # A world file being loaded may bring this NPC's saved brain next: it replaces this one
            # (before this one's first tick, so its items are not handed out: see _be_born).
            self._give_brain(event.entity, getattr(component, "persona", ""))

    def _on_removed(self, event: ComponentRemoved) -> None:
        self.perception.on_removed(event)
        if isinstance(event.component, NpcBrain):
            self._forget(event.entity, "its NpcBrain was removed")

    def _wake(self, eid: int, brain: NpcBrain) -> None:
        mind = self.minds[eid] = Mind(eid, newborn=not brain.memories)  # memories: loaded with its mind
        self._read_persona(eid, mind, brain)
        mind.next_think = (self._world.time if self._world else 0.0) + 1.0

    def _read_persona(self, eid: int, mind: Mind, brain: NpcBrain) -> None:
        mind.persona, mind.dialogue, mind.problem = None, None, ""
        if not brain.persona:
            mind.problem = "no persona (NpcBrain.persona is empty)"
            return
        try:
            mind.persona = self.service.persona(brain.persona)
            mind.dialogue = self.service.dialogue(mind.persona.dialogue) if mind.persona.dialogue else None
        except Exception as exc:  # noqa: BLE001 - DataError for a bad file; an NPC without a persona idles
            mind.persona, mind.problem = None, str(exc)
            log.error("npc %d (%s): %s; it will only wait", eid, self._world.name_of(eid) if self._world else "", exc)

    def persona_changed(self, asset_id: str) -> None:
        """A persona file was edited (the editor saved it): NPCs playing it read it again."""
        world = self._world
        for eid, mind in self.minds.items():
            brain = world.get(eid, NpcBrain) if world is not None else None
            if brain is not None and brain.persona == asset_id:
                self._read_persona(eid, mind, brain)

    def _be_born(self, world: "World", eid: int, brain: NpcBrain, mind: Mind) -> None:
        """A new NPC's first tick: its persona's starting memories (before anything it heard
        already) and its items (Item entities under it). At a tick, not on load: a world that is
        only edited (never run) keeps no seeds, so saving it cannot lose the hand-out."""
        mind.newborn = False
        seeds: list[dict[str, Any]] = []
        stream = MemoryStream(seeds)
        for seed in mind.persona.memories:  # type: ignore[union-attr]
            stream.add(seed["text"], "seed", 0.0, seed["importance"])
        carries = mind.persona.carries  # type: ignore[union-attr]
        if carries:  # remembered, so a world saved with this mind does not hand them out again on load
            stream.add("I carry " + ", ".join(carries) + ".", "seed", 0.0, 4)
        brain.memories[:0] = seeds
        for label_ in carries:
            world.apply(CreateEntity([{"id": 0, "name": label_, "parent": eid, "transform": {"pos": [0.3, 0.3, 1.0]},
                                       "components": [[Item.type_name, {"label": label_, "holder": eid}]]}]))

    def _give_brain(self, eid: int, persona: str) -> None:
        world = self._world
        if world is not None and world.exists(eid) and not world.has(eid, NpcBrain):
            world.add(eid, NpcBrain(persona=persona))

    def _forget(self, eid: int, reason: str) -> None:
        mind = self.minds.pop(eid, None)
        if mind is not None:
            mind.generation += 1
            self.service.cascade.cancel_owner(self.owner(eid), reason)
            for listener in self.listeners:
                listener.clear(eid)

    def save_state(self, world: "World") -> dict[int, tuple[bool, float, float, frozenset[int]]]:
        return {eid: (m.newborn, m.next_think, m.speech_until, frozenset(m.met)) for eid, m in self.minds.items()}

    def load_state(self, world: "World", state: Any) -> None:
        """After ``World.restore`` (the editor's Stop): what was in flight belongs to a time that
        is gone, so it is cancelled and its answers dropped; each mind's timers come back."""
        for eid, mind in self.minds.items():
            mind.generation += 1
            self.service.cascade.cancel_owner(self.owner(eid), "the world was restored")
            mind.ticket = mind.reflecting = None
            mind.heard.clear()
            mind.perceived, mind.words, mind.embedding = [], [], False
            if eid in state:
                mind.newborn, mind.next_think, mind.speech_until, met = state[eid]
                mind.met = set(met)
            for listener in self.listeners:
                listener.clear(eid)

    # -- perception -----------------------------------------------------------------------------
    def hear(self, speaker: int, text: str, to: int = 0) -> list[int]:
        """A line said in the world (chat, a dialogue box): every NPC within hearing of the
        speaker (or only ``to``) remembers it and will answer. Returns the NPCs that heard it."""
        world = self._world
        if world is None:
            return []
        text = "".join(ch if ch.isprintable() else " " for ch in text)[:MAX_HEARD_TEXT].strip()
        if not text:
            return []
        name = label(world, speaker) if speaker and world.exists(speaker) else "Someone"
        heard = []
        for eid, brain in world.query(NpcBrain):
            if eid == speaker or eid not in self.minds or (to and eid != to):
                continue
            if not to and speaker and world.exists(speaker):
                if distance_between(world, eid, speaker) > brain.hearing:
                    continue
            mind = self.minds[eid]
            mind.heard.append((speaker, name, text))
            MemoryStream(brain.memories, mind.vectors).add(f"{name} said: {text}", "heard", world.time)
            mind.next_think = world.time
            heard.append(eid)
        return heard

    # -- the tick ---------------------------------------------------------------------------------
    def update(self, world: "World", dt: float) -> None:
        for eid, mind in list(self.minds.items()):
            if mind.newborn and mind.persona is not None and world.exists(eid):
                self._be_born(world, eid, world.get(eid, NpcBrain), mind)
        rows = world.query(NpcBrain)
        if not rows:
            return
        now = world.time
        self._round = (self._round + 1) % len(rows)
        for index, (eid, brain) in enumerate(rows):
            steer(world, eid, brain, dt)
            mind = self.minds.get(eid)
            if mind is None:
                continue
            if index == self._round or not mind.perceived:
                mind.perceived = self.perception.around(world, eid, brain.hearing)
            if mind.speech_until and now >= mind.speech_until:
                mind.speech_until = 0.0
                world.set_field(eid, brain, "speech", "", validated=True)
                for listener in self.listeners:
                    listener.clear(eid)
            if mind.ticket is None and now >= mind.next_think and now >= brain.busy_until and mind.persona is not None:
                if mind.heard or mind.perceived:
                    self.think(eid)
                else:
                    mind.next_think = now + self.service.settings.think_every_s
            if mind.reflecting is None and mind.persona is not None and \
                    MemoryStream(brain.memories).importance_since_reflection() >= REFLECT_AT:
                self.reflect(eid)
            if self.service.embeds and not mind.embedding:
                self._embed_memories(eid, brain, mind)

    def decision_format(self, eid: int) -> DecisionFormat:
        """The verbs and targets this NPC may use now (its persona's verbs that can apply)."""
        mind = self.minds[eid]
        world = self._world
        assert world is not None and mind.persona is not None
        perceived = [p[0] for p in mind.perceived]

        def candidates(spec: Any, arg: Any) -> list[int]:
            return [t for t in perceived if arg.offers(world, eid, t)]

        return DecisionFormat.build(self.actions.specs(mind.persona.allowed_actions), candidates)

    def think(self, eid: int) -> None:
        """Start a decision for one NPC (returns at once; the answer is applied at a later tick start)."""
        world, mind = self._world, self.minds[eid]
        assert world is not None and mind.persona is not None
        brain = world.get(eid, NpcBrain)
        assert brain is not None
        heard = mind.heard.popleft() if mind.heard else None
        fmt = self.decision_format(eid)
        if not fmt.specs:
            mind.next_think = world.time + self.service.settings.think_every_s
            return
        query = heard[2] if heard else " ".join(p[1] for p in mind.perceived)
        stream = MemoryStream(brain.memories, mind.vectors)
        vector = mind.vectors.get(f"{heard[1]} said: {heard[2]}") if heard else None
        memories = stream.retrieve(query, world.time, k=5, query_vector=vector)
        messages = decision_messages(mind.persona, brain.plan, memories, mind.perceived, heard, fmt)
        first_meeting = bool(heard) and heard[0] not in mind.met
        if heard:
            mind.met.add(heard[0])
        request = Request("decision", messages, max_tokens=self.service.settings.decision_tokens, temperature=0.7,
                          grammar=fmt.gbnf(), schema=fmt.json_schema(), owner=self.owner(eid), context={
                              "dialogue": mind.dialogue, "heard": heard[2] if heard else "",
                              "speaker": heard[0] if heard else 0, "format": fmt.names(),
                              "targets": _targets(fmt), "defaults": _defaults(fmt), "first_meeting": first_meeting})
        generation = mind.generation
        mind.words = []
        say = SayStream(lambda word: world.post(lambda: self._word(eid, generation, word)))
        world.set_field(eid, brain, "thinking", "yes", validated=True)
        mind.ticket = self.service.cascade.submit(
            request, say.feed,
            lambda result, error: world.post(lambda: self._decided(eid, generation, request, result, error)))

    def _word(self, eid: int, generation: int, word: str) -> None:
        mind = self.minds.get(eid)
        if mind is None or mind.generation != generation:
            return
        if not mind.words:
            for listener in self.listeners:
                listener.clear(eid)  # a new line starts: the last one goes
        mind.words.append(word)
        for listener in self.listeners:
            listener.word(eid, word)

    def _decided(self, eid: int, generation: int, request: Request, result: Result | None, error: Any) -> None:
        world, mind = self._world, self.minds.get(eid)
        if world is None or mind is None or mind.generation != generation or not world.exists(eid):
            return
        ticket, mind.ticket = mind.ticket, None
        brain = world.get(eid, NpcBrain)
        assert brain is not None and mind.persona is not None
        world.set_field(eid, brain, "thinking", "no", validated=True)
        mind.next_think = world.time + self.service.settings.think_every_s
        outcome = ""
        decision: Decision | None = None
        if result is None:
            outcome = f"no answer ({getattr(error, 'reason', error)})"
        else:
            try:
                decision = self.actions.perform(world, eid, parse_decision(result.text), mind.persona.allowed_actions)
            except ActionRefused as exc:
                outcome = f"refused: {exc}"
                self.actions.refuse(eid, result.text, str(exc))
        if decision is None:
            decision = self._safe_default(eid, mind)
        else:
            outcome = "performed"
        speech = clean_speech(decision.say, mind.persona.name)
        heard_text = request.context.get("heard", "")
        if speech and heard_text and echoes(speech, heard_text):
            outcome += "; speech dropped: it repeated the line heard"
            speech = clean_speech(self.service.scripted.topic_line(self.owner(eid), mind.dialogue, heard_text),
                                  mind.persona.name)
        stream = MemoryStream(brain.memories, mind.vectors)
        if speech:
            world.apply(SetFields(eid, NpcBrain.type_name, {"speech": speech}))
            mind.speech_until = world.time + SPEECH_SECONDS
            stream.add(f"I said: {speech}", "said", world.time)
        if decision.action not in ("say", "wait"):
            args = ", ".join(f"{k}={v}" for k, v in decision.args.items())
            stream.add(f"I did {decision.action}({args})", "did", world.time)
        for listener in self.listeners:
            listener.line(eid, speech)
        self.service.record(world, eid, request, result, ticket, outcome, decision)
        self.service.acted(world, eid, decision, result.backend if result is not None else "")

    def _safe_default(self, eid: int, mind: Mind) -> Decision:
        world = self._world
        assert world is not None
        backend = self.service.scripted
        say = backend.line(self.owner(eid), mind.dialogue, "confused") if mind.dialogue is not None else ""
        fallback = Decision(SAFE_DEFAULT, {"seconds": 2.0}, say)
        try:
            return self.actions.perform(world, eid, fallback, (SAFE_DEFAULT,))
        except ActionRefused:
            return Decision(SAFE_DEFAULT, {}, say)

    # -- reflection and embeddings ----------------------------------------------------------------
    def reflect(self, eid: int) -> None:
        """Ask for an insight about recent memories and a plan; the answer is saved as a reflection."""
        world, mind = self._world, self.minds[eid]
        assert world is not None and mind.persona is not None
        brain = world.get(eid, NpcBrain)
        assert brain is not None
        recent = MemoryStream(brain.memories).recent(12, lambda m: m["kind"] != "seed")
        request = Request("reflection", reflection_messages(mind.persona, recent), max_tokens=80, temperature=0.5,
                          grammar=REFLECTION_GRAMMAR, owner=self.owner(eid),
                          context={"fallback": scripted_reflection(mind.persona, recent)})
        generation = mind.generation
        mind.reflecting = self.service.cascade.submit(
            request, None, lambda result, error: world.post(lambda: self._reflected(eid, generation, result)))

    def _reflected(self, eid: int, generation: int, result: Result | None) -> None:
        world, mind = self._world, self.minds.get(eid)
        if world is None or mind is None or mind.generation != generation or not world.exists(eid):
            return
        mind.reflecting = None
        brain = world.get(eid, NpcBrain)
        assert brain is not None and mind.persona is not None
        try:
            data = json.loads(result.text) if result is not None else {}
            insight, plan = clean_speech(str(data.get("insight", "")), max_chars=300), clean_speech(str(data.get("plan", "")))
        except (json.JSONDecodeError, AttributeError):
            insight, plan = "", ""
        stream = MemoryStream(brain.memories, mind.vectors)
        stream.add(insight or "I thought things over.", "reflection", world.time, 7)
        if plan:
            world.apply(SetFields(eid, NpcBrain.type_name, {"plan": plan[:400]}))

    def _embed_memories(self, eid: int, brain: NpcBrain, mind: Mind) -> None:
        texts = MemoryStream(brain.memories, mind.vectors).missing_vectors()[:16]
        if not texts or self._world is None:
            return
        world, generation = self._world, mind.generation
        mind.embedding = True

        def arrived(vectors: list[list[float]] | None) -> None:
            def store() -> None:
                live = self.minds.get(eid)
                if live is None or live.generation != generation:
                    return
                live.embedding = False
                if vectors is None:
                    self.service.embeds = False  # no embeddings here: lexical relevance from now on
                    return
                for text, vector in zip(texts, vectors):
                    live.vectors[text] = np.asarray(vector, dtype=np.float32)
            world.post(store)

        self.service.embed(texts, self.owner(eid), arrived)


def _targets(fmt: DecisionFormat) -> dict[str, dict[str, list[int]]]:
    out: dict[str, dict[str, list[int]]] = {}
    for (verb, arg), ids in fmt.targets.items():
        out.setdefault(verb, {})[arg] = ids
    return out


def _defaults(fmt: DecisionFormat) -> dict[str, dict[str, Any]]:
    """A value for each non-entity argument (the scripted backend fills verbs with these)."""
    from engine.core.fields import Enum, Float, Int

    out: dict[str, dict[str, Any]] = {}
    for spec in fmt.specs:
        for arg in spec.args:
            kind = arg.type
            if isinstance(kind, Enum):
                out.setdefault(spec.name, {})[arg.name] = kind.choices[0]
            elif isinstance(kind, (Float, Int)):
                out.setdefault(spec.name, {})[arg.name] = max(kind.min or 0, min(kind.max or 2, 2))
    return out
