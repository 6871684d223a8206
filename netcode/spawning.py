"""Entities as they travel in SPAWN events: the server's records of whole subtrees (the same
records ``CreateEntity`` takes), players spawned from the world's player template, and how a
client turns records into its puppet copy of the world.

On the server the world's first root entity with a CharacterController is the *player template*:
it is taken out of the world when the server starts, and each player gets a copy with new ids,
an ``InputOwner`` naming the player, and a spawn point beside the template's place.

On a client, entities are puppets moved by snapshots: behaviours (scripts) are left out, dynamic
bodies become kinematic, other players lose their CharacterController; the client's own player
keeps its behaviours (they read the local input and camera) and drops its InputOwner (its input
is the local player's).
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from engine.core.edit_commands import CreateEntity
from engine.core.entity_specs import capture_subtree, remap_specs, spec_to_json
from engine.input.components import InputOwner
from engine.physics.components import CharacterController

if TYPE_CHECKING:
    from engine.core.world import World

MAX_SPAWN_BYTES = 256 * 1024
SPAWN_SPACING = 2.5


def find_player_template(world: "World") -> int:
    """The first root entity with a CharacterController (0: none)."""
    for eid, _controller in sorted(world.query(CharacterController)):
        if world.parent_of(eid) == 0:
            return eid
    return 0


def subtree_records(world: "World", root: int) -> list[dict[str, Any]]:
    return [spec_to_json(spec) for spec in capture_subtree(world, root)]


class PlayerFactory:
    """Copies of the player template, one per player, placed around the template's spot."""

    def __init__(self, world: "World", template: int) -> None:
        self.specs = capture_subtree(world, template) if template else []
        self.template = template
        self.count = 0
        pos = world.node(template).getPos() if template else None
        self.origin = (pos.x, pos.y, pos.z) if pos is not None else (0.0, 0.0, 1.0)

    def spawn(self, world: "World", player: str) -> int:
        """Create the player's entity (and its subtree) now; returns its id."""
        if not self.specs:
            eid = world.create_entity(f"player {player}")
            world.add(eid, InputOwner(player=player))
            return eid
        first = world.next_id()
        mapping = {spec.id: first + i for i, spec in enumerate(self.specs)}
        specs = remap_specs(self.specs, mapping)
        records = [spec_to_json(spec) for spec in specs]
        root = records[0]
        root["name"] = f"{root.get('name') or 'Player'} {player}"[:200]
        root["components"] = [c for c in root["components"] if c[0] != "InputOwner"] + [["InputOwner", {"player": player}]]
        angle = self.count * 2.399963  # golden angle: spawn points spread out without overlapping
        reach = SPAWN_SPACING * math.sqrt(self.count)
        x, y, z = self.origin
        transform = root.setdefault("transform", {})
        transform["pos"] = [x + reach * math.cos(angle), y + reach * math.sin(angle), z]
        self.count += 1
        world.apply(CreateEntity(records, check=False))
        return mapping[self.specs[0].id]


def chunk_records(records: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Subtrees grouped into SPAWN payloads of at most ``MAX_SPAWN_BYTES`` (a subtree is never split)."""
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for subtree in records:
        cost = len(json.dumps(subtree, separators=(",", ":")))
        if current and size + cost > MAX_SPAWN_BYTES:
            chunks.append(current)
            current, size = [], 0
        current.extend(subtree)
        size += cost
    if current:
        chunks.append(current)
    return chunks


def puppet_records(records: Any, own_entity: int) -> list[dict[str, Any]]:
    """Records as a client builds them (see the module doc); records that are not objects are
    passed on for CreateEntity to refuse with a reason."""
    if not isinstance(records, list):
        return records
    out = []
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("components"), list):
            out.append(record)
            continue
        mine = record.get("id") == own_entity
        components = []
        for item in record["components"]:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], dict)):
                components.append(item)
                continue
            name, values = item
            if mine:
                if name != "InputOwner":
                    components.append(item)
                continue
            if ":" in name or name == "InputOwner" or name == "CharacterController":
                continue                          # scripts run on the server; other players are puppets
            if name == "RigidBody" and not values.get("kinematic") and values.get("mass", 1.0) != 0:
                values = dict(values, kinematic=True)
            components.append([name, values])
        out.append(dict(record, components=components))
    return out
