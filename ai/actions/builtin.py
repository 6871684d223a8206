"""The built-in verbs: say, move_to, follow, look_at, give, take, open, emote, attack, flee, wait.

Each apply returns world commands (SetFields on the actor's NpcBrain or on the target, Reparent,
SetTransform); the NpcSystem's locomotion then walks towards, after or away from the goal.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ai.actions.registry import ActionRefused, ActionRegistry, ActionSpec, ArgSpec
from ai.components import Item, NpcBrain
from engine.core.commands import Command
from engine.core.edit_commands import Reparent, SetFields, SetTransform
from engine.core.fields import Bool, EntityRef, Enum, Float

if TYPE_CHECKING:
    from engine.core.world import World

EMOTES = ("wave", "nod", "shrug", "laugh", "bow", "frown", "cheer", "point")
BRAIN = NpcBrain.type_name


def _brain(actor: int, **values: Any) -> Command:
    return SetFields(actor, BRAIN, values)


def _say(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return []  # the line itself is the decision's "say"; NpcSystem shows it


def _move_to(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return [_brain(actor, goal_mode="move", goal_entity=args["target"])]


def _follow(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return [_brain(actor, goal_mode="follow", goal_entity=args["target"])]


def _flee(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return [_brain(actor, goal_mode="flee", goal_entity=args["threat"], stance="afraid")]


def _look_at(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    here, there = world.node(actor).getPos(world.root), world.node(args["target"]).getPos(world.root)
    heading = math.degrees(math.atan2(-(there.x - here.x), there.y - here.y))
    hpr = world.node(actor).getHpr()
    return [SetTransform(actor, hpr=[round(heading, 3), hpr.y, hpr.z])]


def _holding(world: "World", item: int) -> int:
    component = world.get(item, Item)
    return component.holder if component is not None else 0


def _check_give(world: "World", actor: int, args: dict[str, Any]) -> None:
    if _holding(world, args["item"]) != actor:
        raise ActionRefused("give", f"item {args['item']} is not carried by the actor")
    if args["to"] == args["item"]:
        raise ActionRefused("give", "an item cannot be given to itself")


def _give(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return [SetFields(args["item"], Item.type_name, {"holder": args["to"]}),
            Reparent(args["item"], args["to"], keep_world=False, transform={"pos": [0.3, 0.3, 1.0]})]


def _check_take(world: "World", actor: int, args: dict[str, Any]) -> None:
    holder = _holding(world, args["item"])
    if holder == actor:
        raise ActionRefused("take", f"item {args['item']} is already carried by the actor")
    if holder:
        raise ActionRefused("take", f"item {args['item']} is carried by entity {holder}; it must be given")


def _take(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return [SetFields(args["item"], Item.type_name, {"holder": actor}),
            Reparent(args["item"], actor, keep_world=False, transform={"pos": [0.3, 0.3, 1.0]})]


def openable_component(world: "World", target: int) -> Any:
    """The target's first component with a declared true/false field ``open`` (doors, chests), or None."""
    for component in world.components(target):
        declared = type(component).fields.get("open")
        if declared is not None and isinstance(declared.type, Bool):
            return component
    return None


def _closed(world: "World", actor: int, target: int) -> bool:
    component = openable_component(world, target)
    return component is not None and not component.open


def _check_open(world: "World", actor: int, args: dict[str, Any]) -> None:
    component = openable_component(world, args["target"])
    if component is None:
        raise ActionRefused("open", f"entity {args['target']} has nothing that opens (no 'open' field)")
    if component.open:
        raise ActionRefused("open", f"entity {args['target']} is already open")


def _open(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    component = openable_component(world, args["target"])
    return [SetFields(args["target"], type(component).type_name, {"open": True})]


def _emote(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return [_brain(actor, emote=args["name"])]


def _attack(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return [_brain(actor, stance="hostile", goal_mode="follow", goal_entity=args["target"])]


def _wait(world: "World", actor: int, args: dict[str, Any]) -> list[Command]:
    return [_brain(actor, goal_mode="none", goal_entity=0, busy_until=world.time + args["seconds"])]


def register_builtin_actions(registry: ActionRegistry) -> None:
    """Add the built-in verbs to ``registry``."""
    entity = EntityRef()
    item = EntityRef(requires=(Item.type_name,))
    for spec in (
        ActionSpec("say", "only talk", (), None, _say),
        ActionSpec("move_to", "walk to someone or something", (ArgSpec("target", entity, "where to go"),), None,
                   _move_to),
        ActionSpec("follow", "walk after someone", (ArgSpec("target", entity, "who to follow"),), None, _follow),
        ActionSpec("look_at", "turn to face someone or something", (ArgSpec("target", entity),), None, _look_at),
        ActionSpec("give", "hand an item you carry to someone",
                   (ArgSpec("item", item, "the item", usable=lambda w, a, t: _holding(w, t) == a),
                    ArgSpec("to", entity, "who gets it", reach=True, usable=lambda w, a, t: not w.has(t, Item))),
                   _check_give, _give),
        ActionSpec("take", "pick up an item lying within reach", (ArgSpec("item", item, reach=True, usable=lambda w, a, t: not _holding(w, t)),),
                   _check_take, _take),
        ActionSpec("open", "open a door or container within reach", (ArgSpec("target", entity, reach=True, usable=_closed),),
                   _check_open, _open),
        ActionSpec("emote", "make a gesture", (ArgSpec("name", Enum(EMOTES), "the gesture"),), None, _emote),
        ActionSpec("attack", "attack someone within reach", (ArgSpec("target", entity, reach=True),), None, _attack),
        ActionSpec("flee", "run away from someone", (ArgSpec("threat", entity, "who to run from"),), None, _flee),
        ActionSpec("wait", "do nothing for a while", (ArgSpec("seconds", Float(0.0, 30.0), "how long"),), None, _wait),
    ):
        registry.register(spec)


SAFE_DEFAULT = "wait"
"""The verb an NPC falls back to when its decision is refused (with ``seconds`` 2, saying nothing)."""
