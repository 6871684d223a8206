"""The AI feature's component types: NpcBrain (an NPC's mind, saved with the world) and Item
(something an NPC can give and take). Registered into a world by ``ai.install``."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.core.component import Component
from engine.core.errors import FieldError
from engine.core.fields import AssetRef, EntityRef, Enum, Field, FieldType, Float, Str

MEMORY_KINDS = ("observation", "heard", "said", "did", "reflection", "plan", "seed")
MAX_MEMORIES = 400
MAX_MEMORY_TEXT = 400


@dataclass(frozen=True)
class MemoryRecords(FieldType):
    """An NPC's memory stream as saved data: a list of ``{"text", "kind", "importance", "time",
    "last_access"}`` records (times in world seconds), at most ``max_items`` of them."""

    max_items: int = MAX_MEMORIES
    name = "memories"

    def describe(self) -> str:
        return (f"a list of at most {self.max_items} memories, each an object with text (at most "
                f"{MAX_MEMORY_TEXT} characters), kind ({', '.join(MEMORY_KINDS)}), importance (1-10), "
                "time and last_access (world seconds)")

    def validate(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, (list, tuple)) or len(value) > self.max_items:
            raise FieldError(self.describe(), value)
        out = []
        for item in value:
            if not isinstance(item, dict) or set(item) - {"text", "kind", "importance", "time", "last_access"}:
                raise FieldError(self.describe(), item)
            text, kind = item.get("text"), item.get("kind", "observation")
            if not isinstance(text, str) or not text or len(text) > MAX_MEMORY_TEXT or kind not in MEMORY_KINDS:
                raise FieldError(self.describe(), item)
            numbers = []
            for key, default, low, high in (("importance", 3, 1, 10), ("time", 0.0, -1e12, 1e12),
                                            ("last_access", None, -1e12, 1e12)):
                number = item.get(key, default if default is not None else item.get("time", 0.0))
                if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
                        or not low <= number <= high:
                    raise FieldError(self.describe(), item)
                numbers.append(number)
            out.append({"text": text, "kind": kind, "importance": int(round(numbers[0])),
                        "time": float(numbers[1]), "last_access": float(numbers[2])})
        return out

    def to_data(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"text": m["text"], "kind": m["kind"], "importance": m["importance"],
                 "time": _num(m["time"]), "last_access": _num(m["last_access"])} for m in value]

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "maxItems": self.max_items, "items": {
            "type": "object", "additionalProperties": False, "required": ["text"],
            "properties": {"text": {"type": "string", "maxLength": MAX_MEMORY_TEXT},
                           "kind": {"type": "string", "enum": list(MEMORY_KINDS)},
                           "importance": {"type": "integer", "minimum": 1, "maximum": 10},
                           "time": {"type": "number"}, "last_access": {"type": "number"}}}}


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else round(float(value), 3)


GOAL_MODES = ("none", "move", "follow", "flee")
STANCES = ("calm", "friendly", "hostile", "afraid")


class NpcBrain(Component):
    """An NPC's mind: which persona it is, what it remembers (saved with the world), its plan and
    what it is doing. The NpcSystem (``ai.npc_system``) perceives, asks a model, and applies the
    validated action through world commands; the runtime fields say what it does right now."""

    persona = Field(AssetRef("persona", allow_empty=True), "",
                    doc="the persona file's asset id (pack:personas/name.persona.json)")
    hearing = Field(Float(0.0, 200.0), 10.0, doc="how far it hears chat and sees entities", unit="m")
    reach = Field(Float(0.1, 50.0), 2.5, doc="how far away it can give, take, open and attack", unit="m")
    memories = Field(MemoryRecords(), [], doc="the memory stream (saved with the world)", group="mind")
    plan = Field(Str(400), "", doc="what it means to do next (written by reflection)", group="mind")
    stance = Field(Enum(STANCES), "calm", doc="how it stands towards others", group="mind")
    goal_mode = Field(Enum(GOAL_MODES), "none", doc="move to, follow or flee from goal_entity", group="motion")
    goal_entity = Field(EntityRef(), 0, doc="the entity it moves to, follows or flees", group="motion")
    speed = Field(Float(0.0, 20.0), 1.6, doc="walking speed", unit="m/s", group="motion")
    speech = Field(Str(400), "", doc="what it is saying now", saved=False, editable=False, group="now")
    emote = Field(Str(40), "", doc="the gesture it is making now", saved=False, editable=False, group="now")
    thinking = Field(Enum(("no", "yes")), "no", doc="whether a model is working on its next move",
                     saved=False, editable=False, group="now")
    busy_until = Field(Float(-1e12, 1e12), 0.0, doc="world time before which it does not start a new action",
                       saved=False, editable=False, group="now")


class Item(Component):
    """Something that can be carried, given and taken; ``holder`` is who has it (0: lying about)."""

    label = Field(Str(80), "", doc="what NPCs call it (the entity name when empty)")
    holder = Field(EntityRef(), 0, doc="the entity carrying it (0: nobody)")


AI_COMPONENTS: tuple[type[Component], ...] = (NpcBrain, Item)
