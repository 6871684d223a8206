"""The server's half of VR avatars: each tick, every VR player's claimed pose (``TrackedPose``,
from their input) is checked by a ``PoseGuard`` and placed on their avatar's head and hands, child
entities of the player made the first time the player is tracked.

The parts carry an ``InputOwner`` naming the player, so they are networked: their transforms
(local to the body) travel in snapshots and are interpolated on every client like any other
networked entity's. Each part draws a simple shape (a child entity with a MeshRenderer); the head
has a visor that shows where it faces.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from panda3d.core import LQuaternion, Point3

from engine.core.edit_commands import CreateEntity
from engine.core.system import ORDER_PHYSICS, System
from netcode.tracked_pose import PARTS, PoseGuard, TrackedPose

if TYPE_CHECKING:
    from engine.core.world import World

PART_FIELDS = {"head": "head", "left": "left_hand", "right": "right_hand"}
PART_NAMES = {"head": "Avatar Head", "left": "Avatar Left Hand", "right": "Avatar Right Hand"}
SKIN = [0.85, 0.75, 0.65, 1.0]
VISOR = [0.12, 0.14, 0.2, 1.0]


def avatar_records(first_id: int, body: int, player: str, parts: tuple[str, ...] = PARTS
                   ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Entity records of an avatar's ``parts`` under ``body`` (ids from ``first_id``) and the part ids."""
    owner = ["InputOwner", {"player": player}]
    records: list[dict[str, Any]] = []
    ids: dict[str, int] = {}
    next_id = first_id

    def add(name: str, parent: int, components: list[list[Any]], transform: dict[str, Any] | None = None) -> int:
        nonlocal next_id
        eid, next_id = next_id, next_id + 1
        record: dict[str, Any] = {"id": eid, "name": name, "parent": parent, "components": components}
        if transform:
            record["transform"] = transform
        records.append(record)
        return eid

    def mesh(model: str, color: list[float]) -> list[list[Any]]:
        return [["MeshRenderer", {"model": model, "color": color, "cast_shadows": False}]]

    for part in parts:
        ids[part] = add(PART_NAMES[part], body, [owner])
        if part == "head":
            add("Avatar Head Model", ids[part], mesh("primitive:sphere", SKIN), {"scale": [0.2, 0.22, 0.24]})
            add("Avatar Visor", ids[part], mesh("primitive:box", VISOR), {"pos": [0.0, 0.1, 0.02],
                                                                          "scale": [0.17, 0.05, 0.07]})
        else:
            add(f"{PART_NAMES[part]} Model", ids[part], mesh("primitive:sphere", SKIN), {"scale": [0.09, 0.09, 0.09]})
    return records, ids


class AvatarPoseSystem(System):
    """See the module doc. ``peers()`` maps each connected player's entity to (player id, peer
    name for the guard's log lines)."""

    name = "net_avatar_pose"
    order = ORDER_PHYSICS - 5      # right after OwnerInputSystem put this tick's input on the entities

    def __init__(self, peers: Callable[[], Mapping[int, tuple[str, str]]], guard: PoseGuard | None = None) -> None:
        self.peers = peers
        self.guard = guard or PoseGuard()

    def update(self, world: "World", dt: float) -> None:
        peers = None
        for eid, pose in world.query(TrackedPose):
            if not pose.tracked:
                continue
            if peers is None:
                peers = self.peers()
            who = peers.get(eid)
            if who is None:
                continue                   # not connected: the avatar holds its last pose
            player, peer = who
            missing = tuple(p for p in PARTS if not _exists(world, pose.part_entity(p)))
            if missing:
                self._make_parts(world, eid, pose, player, missing)
            for part, (pos, quat) in self.guard.check(pose, peer).items():
                world.node(pose.part_entity(part)).setPosQuat(Point3(*pos), LQuaternion(*quat))

    @staticmethod
    def _make_parts(world: "World", body: int, pose: TrackedPose, player: str, parts: tuple[str, ...]) -> None:
        records, ids = avatar_records(world.next_id(), body, player, parts)
        world.apply(CreateEntity(records, check=False))
        for part, eid in ids.items():
            world.set_field(body, pose, PART_FIELDS[part], eid, validated=True)


def _exists(world: "World", eid: int) -> bool:
    return eid > 0 and world.exists(eid)
