"""A client's view of other players' VR avatars: while a player's headset tracks them, their
avatar's head and hands show (each part only while it is tracked) and their body's character
model hides; a player who is not tracked (or leaves VR) shows their character again.

The parts' places come from snapshots like any other networked entity's; this system only
decides what is drawn. The client's own avatar is left alone (a VR client hides its own body).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from panda3d.core import NodePath

from engine.core.system import ORDER_INPUT, System
from netcode.tracked_pose import HEAD, LEFT, PARTS, RIGHT, TrackedPose

if TYPE_CHECKING:
    from engine.core.world import World

BITS = {"head": HEAD, "left": LEFT, "right": RIGHT}
BODY_MODEL = "animated"      # the node name an Animator gives the character model it draws


class AvatarViewSystem(System):
    """See the module doc; ``own()`` is the client's own player entity."""

    name = "net_avatar_view"
    order = ORDER_INPUT - 5          # right after the snapshot was applied

    def __init__(self, own: Callable[[], int]) -> None:
        self.own = own

    def update(self, world: "World", dt: float) -> None:
        own = self.own()
        for eid, pose in world.query(TrackedPose):
            if eid == own:
                continue
            tracked = pose.tracked
            body = world.node(eid).find(BODY_MODEL)
            if not body.isEmpty():
                _show(body, not (tracked & HEAD))
            for part in PARTS:
                pid = pose.part_entity(part)
                if pid > 0 and world.exists(pid):
                    _show(world.node(pid), bool(tracked & BITS[part]))


def _show(node: NodePath, visible: bool) -> None:
    if visible and node.isHidden():
        node.show()
    elif not visible and not node.isHidden():
        node.hide()
