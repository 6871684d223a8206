"""A VR player in a networked session: the XR rig (``engine.xr``) tied to the client's own player.

The server owns where the player is, so the rig follows the player's body instead of moving on
its own: each tick, before the scripts, the rig's tracking space stands at the body's feet, the
body turns to where the head looks (so the thumbstick's ``move`` walks that way, predicted like
any player's input), and the head and hand poses, relative to the body, go into the player's
``TrackedPose``, which the input carries to the server; after physics the rig follows the body
again, so the eyes are drawn where the predicted body is. The controllers drive the local
player's actions; teleport and grabbing are off (the server would not follow them). The body's
own model is hidden (it would be around the eyes) and the follow camera is turned off.

Rig entities are this client's alone: they are numbered from ``LOCAL_IDS``, which a server never
reaches, so entities the server spawns later cannot collide with them.
"""
from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from panda3d.core import NodePath

from engine.camera.components import FOLLOW_MODES, Camera
from engine.core.system import ORDER_PHYSICS, ORDER_SCRIPTS, System
from engine.xr.interaction import Comfort
from netcode.tracked_pose import HEAD, LEFT, POS_LIMIT, RIGHT, TrackedPose

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.xr.driver import VRSession
    from netcode.client import NetClient

log = logging.getLogger("storm.net")
LOCAL_IDS = 2**30
NET_COMFORT = Comfort(teleport=False, grab=False)
HAND_BITS = {"left": LEFT, "right": RIGHT}


def relative_pose(body: NodePath, part: NodePath) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """``part``'s position (cut to the declared +-POS_LIMIT, which the server would refuse past)
    and orientation (w, x, y, z) in ``body``'s space; None unless finite."""
    pos, quat = part.getPos(body), part.getQuat(body)
    values = (pos.x, pos.y, pos.z, quat.getR(), quat.getI(), quat.getJ(), quat.getK())
    if not all(math.isfinite(v) for v in values):
        return None
    return tuple(max(-POS_LIMIT, min(POS_LIMIT, v)) for v in values[:3]), values[3:]


class VRBodySystem(System):
    """Before the scripts: the rig at the body, the body facing the head's way, the pose written."""

    name = "net_vr_body"
    order = ORDER_SCRIPTS - 5            # after the rig took the newest tracking and the interaction system

    def __init__(self, link: "VRLink") -> None:
        self.link = link

    def update(self, world: "World", dt: float) -> None:
        link = self.link
        body = link.body()
        if body is None:
            return
        rig = link.session.rig
        node = world.node(body)
        if not link.started:
            link.start(world, node)
        link.stand(world, node)
        head = world.node(rig.head)
        node.setH(world.root, head.getH(world.root))
        link.write_pose(world, body, node)
        if link.client.closed and not link.exit_asked:
            link.exit_asked = True
            log.warning("net: the server closed the connection (%s); leaving VR", link.client.closed_reason)
            link.session.backend.request_exit()


class VRFollowSystem(System):
    """After physics (and the prediction's record): the rig stands at the body's new place."""

    name = "net_vr_follow"
    order = ORDER_PHYSICS + 15

    def __init__(self, link: "VRLink") -> None:
        self.link = link

    def update(self, world: "World", dt: float) -> None:
        body = self.link.body()
        if body is not None and self.link.started:
            self.link.stand(world, world.node(body))


class VRLink:
    """Ties ``session``'s rig to ``client``'s own player (see the module doc); ``close()`` unties."""

    def __init__(self, client: "NetClient", session: "VRSession") -> None:
        self.client = client
        self.session = session
        self.world: "World" = session.world
        self.started = False
        self.exit_asked = False
        self._warned = False
        self._input = session.input
        if self._input is not None:
            self._input.set_source(session.source)     # the controllers drive the local player
        self._systems = [self.world.add_system(VRBodySystem(self)), self.world.add_system(VRFollowSystem(self))]

    def body(self) -> int | None:
        state = self.client.state
        eid = state.entity if state is not None else 0
        return eid if eid and self.world.exists(eid) else None

    def start(self, world: "World", node: NodePath) -> None:
        """The first tick the body is here: the rig takes its heading, the body's model hides."""
        self.started = True
        rig_node = self.session.rig.node(world)
        rig_node.setH(world.root, node.getH(world.root))
        node.hide()
        log.info("net: VR rig on player entity %d", self.client.state.entity)

    def stand(self, world: "World", node: NodePath) -> None:
        self.session.rig.node(world).setPos(world.root, node.getPos(world.root))
        for eid, camera in world.query(Camera):          # cheap: the follow camera is turned off in VR
            if camera.active and camera.mode in FOLLOW_MODES and camera.target == self.client.state.entity:
                world.set_field(eid, camera, "active", False, validated=True)

    def write_pose(self, world: "World", body: int, node: NodePath) -> None:
        pose = world.get(body, TrackedPose)
        rig = self.session.rig
        if pose is None:
            return
        tracked = 0
        values: dict[str, Any] = {}
        frame = rig.latest
        parts = {"head": rig.head} if frame is not None else {}
        parts.update({hand: rig.hands[hand] for hand in HAND_BITS if frame is not None and hand in frame.grips})
        for part, eid in parts.items():
            found = relative_pose(node, world.node(eid))
            if found is None:
                if not self._warned:
                    self._warned = True
                    log.warning("net: the XR runtime gave a %s pose that is not a number; the last good one is sent",
                                part)
                continue
            tracked |= HEAD if part == "head" else HAND_BITS[part]
            values[f"{part}_pos"], values[f"{part}_quat"] = found
        pose.tracked = tracked
        for name, value in values.items():
            setattr(pose, name, value)

    def close(self) -> None:
        for system in self._systems:
            self.world.remove_system(system)
        self._systems = []
        if self._input is not None:
            self._input.set_source(None)
        body = self.body()
        if body is not None:
            self.world.node(body).show()
            pose = self.world.get(body, TrackedPose)
            if pose is not None:
                pose.tracked = 0
