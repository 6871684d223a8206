"""What an NPC notices: the interesting entities within its hearing range, nearest first.

Only entities that can matter to a verb are looked at (characters, NPCs, items, things that
open), tracked by component events as they come and go, so a perception costs what is near and
interesting, not the whole world; NpcSystem refreshes one NPC's perception per tick.
"""
from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING, Any

from ai.components import Item, NpcBrain
from engine.core.events import ComponentAdded, ComponentRemoved
from engine.core.fields import Bool

if TYPE_CHECKING:
    from engine.core.world import World

MAX_PERCEIVED = 8
_WATCHED = {"CharacterController", "InputOwner", NpcBrain.type_name, Item.type_name}


def interesting(component: Any) -> bool:
    """Whether a component makes its entity worth perceiving."""
    cls = type(component)
    if cls.type_name in _WATCHED:
        return True
    declared = cls.fields.get("open")
    return declared is not None and isinstance(declared.type, Bool)


class Perception:
    """The set of interesting entities of one world, kept by component events."""

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}

    def on_added(self, event: ComponentAdded) -> None:
        if interesting(event.component):
            self._counts[event.entity] = self._counts.get(event.entity, 0) + 1

    def on_removed(self, event: ComponentRemoved) -> None:
        if interesting(event.component) and event.entity in self._counts:
            self._counts[event.entity] -= 1
            if self._counts[event.entity] <= 0:
                del self._counts[event.entity]

    def candidates(self) -> list[int]:
        return list(self._counts)

    def around(self, world: "World", actor: int, radius: float, limit: int = MAX_PERCEIVED) -> list[tuple[int, str, float]]:
        """(entity, name, distance) of the nearest interesting entities within ``radius``."""
        here = world.node(actor).getPos(world.root)
        found = []
        for eid in self._counts:
            if eid == actor or not world.exists(eid):
                continue
            there = world.node(eid).getPos(world.root)
            distance = math.dist((here.x, here.y, here.z), (there.x, there.y, there.z))
            if distance <= radius:
                found.append((distance, eid))
        return [(eid, label(world, eid), distance) for distance, eid in heapq.nsmallest(limit, found)]


def label(world: "World", eid: int) -> str:
    """What NPCs call an entity: an Item's label, else its name, else 'something'."""
    item = world.get(eid, Item)
    if item is not None and item.label:
        return item.label
    return world.name_of(eid) or "something"
