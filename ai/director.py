"""The narrative director: a model (Grok first, then the local one, then a pack's ready-made
quest) turns the world's state into a quest as JSON; the engine checks it against QUEST_SCHEMA
and against the World (every entity it names exists, the giver is an NPC), then places it as
entities: a Quest with one QuestStep child per step (a Trigger volume for "reach" steps), and
its lore as memories of the giver, so the giver can talk about it. One Transaction: all or nothing.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from ai.backends.base import BackendError, Request, Result
from ai.backends.grok import check_schema
from ai.components import NpcBrain
from ai.memory import MemoryStream
from ai.perception import label
from engine.core.commands import Transaction
from engine.core.component import Component
from engine.core.edit_commands import CreateEntity
from engine.core.errors import StormError
from engine.core.fields import Bool, EntityRef, Enum, Field, Int, Str

if TYPE_CHECKING:
    from ai.service import AiService
    from engine.core.world import World

GOALS = ("talk", "reach", "fetch")
QUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["title", "summary", "giver", "steps", "lore", "reward"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 80},
        "summary": {"type": "string", "maxLength": 400},
        "giver": {"type": "integer", "minimum": 1},
        "steps": {"type": "array", "minItems": 1, "maxItems": 5, "items": {
            "type": "object", "additionalProperties": False, "required": ["goal", "target", "text"],
            "properties": {"goal": {"type": "string", "enum": list(GOALS)},
                           "target": {"type": "integer", "minimum": 1},
                           "text": {"type": "string", "maxLength": 200}}}},
        "lore": {"type": "array", "maxItems": 5, "items": {"type": "string", "maxLength": 300}},
        "reward": {"type": "string", "maxLength": 80},
    },
}


class QuestRejected(StormError):
    """A quest the director will not place: says what is wrong with it."""


class Quest(Component):
    """A quest placed in the world; its steps are QuestStep children."""

    title = Field(Str(80), "", doc="what the quest is called")
    summary = Field(Str(400), "")
    giver = Field(EntityRef(requires=(NpcBrain.type_name,)), 0, doc="the NPC who gives it")
    reward = Field(Str(80), "")
    step = Field(Int(0, 5), 0, doc="the index of the step to do next")
    state = Field(Enum(("open", "done", "failed")), "open")


class QuestStep(Component):
    """One step of a quest: talk to, reach or fetch ``target``."""

    goal = Field(Enum(GOALS), "talk")
    target = Field(EntityRef(), 0)
    text = Field(Str(200), "")
    done = Field(Bool(), False)


def check_quest(world: "World", data: Any) -> dict[str, Any]:
    """The quest if it fits QUEST_SCHEMA and this world; QuestRejected otherwise."""
    try:
        check_schema(json.dumps(data), QUEST_SCHEMA)
    except BackendError as exc:
        raise QuestRejected(exc.reason) from None
    if not world.exists(data["giver"]) or not world.has(data["giver"], NpcBrain):
        raise QuestRejected(f"giver {data['giver']} is not an NPC of this world")
    for index, step in enumerate(data["steps"]):
        if not world.exists(step["target"]):
            raise QuestRejected(f"steps[{index}].target: no entity {step['target']}")
    return data


def quest_commands(world: "World", quest: dict[str, Any]) -> Transaction:
    """The commands that place a checked quest (see the module doc)."""
    records: list[dict[str, Any]] = []
    root = world.next_id()
    records.append({"id": root, "name": f"Quest: {quest['title']}"[:200], "parent": 0, "components": [[
        Quest.type_name, {"title": quest["title"], "summary": quest["summary"], "giver": quest["giver"],
                          "reward": quest["reward"]}]]})
    for index, step in enumerate(quest["steps"]):
        components: list[list[Any]] = [[QuestStep.type_name, {"goal": step["goal"], "target": step["target"],
                                                               "text": step["text"]}]]
        record: dict[str, Any] = {"id": root + 1 + index, "name": f"Step {index + 1}", "parent": root,
                                  "components": components}
        if step["goal"] == "reach":
            pos = world.node(step["target"]).getPos(world.root)
            record["transform"] = {"pos": [round(pos.x, 3), round(pos.y, 3), round(pos.z, 3)]}
            components += [["Collider", {"shape": "sphere", "radius": 2.0}], ["Trigger", {}]]
        records.append(record)
    return Transaction(f"quest {quest['title']}", [CreateEntity(records)])


def place_quest(world: "World", quest: dict[str, Any]) -> int:
    """Check and place a quest; returns the Quest entity. Its lore becomes the giver's memories."""
    quest = check_quest(world, quest)
    root = world.next_id()
    world.apply(quest_commands(world, quest))
    brain = world.get(quest["giver"], NpcBrain)
    assert brain is not None
    stream = MemoryStream(brain.memories)
    stream.add(f"I asked for help: {quest['title']}. {quest['summary']}", "plan", world.time, 7)
    for lore in quest["lore"]:
        stream.add(lore, "seed", world.time, 6)
    return root


def world_brief(world: "World", giver: int, limit: int = 12) -> str:
    """The world's state as the director's prompt gives it: the giver and nearby entities by id."""
    from ai.npc_system import NpcSystem

    system = world.system(NpcSystem)
    lines = [f"Quest giver: {label(world, giver)} (entity {giver})"]
    mind = system.minds.get(giver) if system is not None else None
    if mind is not None and mind.persona is not None:
        lines.append(f"About them: {mind.persona.summary}; goals: {'; '.join(mind.persona.goals[:3])}")
    around = system.perception.around(world, giver, 100.0, limit) if system is not None else []
    lines.append("Entities: " + ", ".join(f"{name} (entity {eid})" for eid, name, _ in around))
    return "\n".join(lines)


def request_quest(service: "AiService", world: "World", giver: int, fallback: dict[str, Any],
                  on_placed: Callable[[int | None, str], None] | None = None) -> None:
    """Ask the cascade for a quest (cached: the same world brief is not paid for twice), check it
    and place it at a tick start; ``fallback`` (a pack's quest) is what the scripted backend
    answers. ``on_placed(entity or None, why)`` is called on the tick."""
    messages = [{"role": "system", "content": "You write short quests for a game as JSON. Use only the entity ids given."},
                {"role": "user", "content": world_brief(world, giver) + "\nWrite one quest this character gives."}]
    request = Request("narrative", messages, max_tokens=400, temperature=0.8, schema=QUEST_SCHEMA, cache=True,
                      owner=("director", id(world)), context={"fallback": fallback})

    def done(result: Result | None, error: BaseException | None) -> None:
        def apply() -> None:
            if result is None:
                if on_placed:
                    on_placed(None, f"no quest ({getattr(error, 'reason', error)})")
                return
            for text in (result.text, json.dumps(fallback)):
                try:
                    entity = place_quest(world, json.loads(text))
                except (QuestRejected, json.JSONDecodeError) as exc:
                    reason = str(exc)
                    continue
                if on_placed:
                    on_placed(entity, result.backend if text == result.text else f"pack quest ({reason})")
                return
            if on_placed:
                on_placed(None, reason)

        world.post(apply)

    service.cascade.submit(request, None, done)


DIRECTOR_COMPONENTS: tuple[type[Component], ...] = (Quest, QuestStep)
