"""The XR rig in a World: a tracking-space entity with head and hand entities under it.

The rig's root entity is the tracking space (its origin is the runtime's stage or local floor
origin); locomotion moves and turns it. Head and hands are child entities whose local
transforms are the runtime's poses, applied at the start of each tick by ``XRRigSystem`` from
the newest ``TrackingFrame``; they carry an ``InputOwner`` naming the VR player, so behaviours on
them (and on anything the VR player owns) read the VR player's actions. ``XRView`` is the view
provider that draws the desktop mirror from the head.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from panda3d.core import LQuaternion, NodePath, Point3, Vec3

from engine.core.edit_commands import CreateEntity
from engine.core.system import ORDER_INPUT, System
from engine.core.world import World
from engine.host.view import View
from engine.input.components import InputOwner
from engine.xr.poses import HANDS, Pose, TrackingFrame

VR_PLAYER = "vr"
RIG_PARTS = ("head", "left", "right")
STANDING, SEATED = "standing", "seated"
SEATED_EYE_HEIGHT = 1.2   # metres: a seated reference space is raised to this height above the floor


@dataclass
class XRRig:
    """The rig's entity ids and what the newest frame said."""

    root: int
    head: int
    hands: dict[str, int]
    player: str = VR_PLAYER
    reference: str = STANDING
    latest: TrackingFrame | None = None
    hand_velocity: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def node(self, world: World) -> NodePath:
        return world.node(self.root)

    def place(self, world: World, pos: tuple[float, float, float], heading: float = 0.0) -> None:
        """Stand the tracking space's origin at ``pos`` (world space) facing ``heading`` degrees."""
        node = self.node(world)
        node.setPos(world.root, Point3(*pos))
        node.setH(world.root, heading)

    def head_world(self, world: World) -> Point3:
        return world.node(self.head).getPos(world.root)

    def hand_world(self, world: World, hand: str) -> Point3:
        return world.node(self.hands[hand]).getPos(world.root)

    def aim(self, world: World, hand: str) -> tuple[Point3, Vec3]:
        """A hand's aim ray in world space: origin and unit direction (the grip's forward when
        the runtime gives no aim pose)."""
        frame = self.latest
        pose = (frame.aims.get(hand) or frame.grips.get(hand)) if frame is not None else None
        space = self.node(world)
        if pose is None:
            node = world.node(self.hands[hand])
            return node.getPos(world.root), world.root.getRelativeVector(node, Vec3(0, 1, 0)).normalized()
        origin = world.root.getRelativePoint(space, Point3(*pose.pos))
        direction = world.root.getRelativeVector(space, LQuaternion(*pose.quat).xform(Vec3(0, 1, 0)))
        return origin, direction.normalized()


def add_rig(world: World, pos: tuple[float, float, float] = (0.0, 0.0, 0.0), heading: float = 0.0,
            player: str = VR_PLAYER, reference: str = STANDING, hand_models: bool = True) -> XRRig:
    """Create the rig's entities (through world commands) standing at ``pos``, each hand with a
    small sphere to see it by (``hand_models``); returns the rig."""
    owner = {"InputOwner": {"player": player}}
    root = world.next_id()
    world.apply(CreateEntity.new("XR Rig", 0, owner, {"pos": list(pos), "hpr": [heading, 0, 0]}))
    ids = {}
    for part in RIG_PARTS:
        ids[part] = world.next_id()
        name = "XR Head" if part == "head" else f"XR {part.capitalize()} Hand"
        world.apply(CreateEntity.new(name, root, owner))
        if part != "head" and hand_models:
            world.apply(CreateEntity.new(f"{name} Model", ids[part], {**owner, "MeshRenderer": {
                "model": "primitive:sphere", "color": [0.85, 0.75, 0.65, 1.0], "cast_shadows": False}},
                {"scale": [0.07, 0.07, 0.07]}))
    assert world.get(root, InputOwner) is not None
    return XRRig(root, ids["head"], {hand: ids[hand] for hand in HANDS}, player, reference)


VELOCITY_TICKS = 3   # a hand's velocity is averaged over its last ticks (trackers are noisy)


class XRRigSystem(System):
    """Applies the newest tracking frame to the rig's head and hands at the start of each tick
    (right after input) and works out each hand's velocity in world space (for throwing),
    averaged over the last ``VELOCITY_TICKS`` ticks."""

    name = "xr_rig"
    order = ORDER_INPUT + 5

    def __init__(self, rig: XRRig) -> None:
        self.rig = rig
        self._last: dict[str, list[Point3]] = {}

    def update(self, world: World, dt: float) -> None:
        rig, frame = self.rig, self.rig.latest
        if frame is None or not world.exists(rig.root):
            return
        lift = SEATED_EYE_HEIGHT if rig.reference == SEATED else 0.0
        _set(world.node(rig.head), frame.head, lift)
        space = world.node(rig.root)
        for hand in HANDS:
            pose = frame.grips.get(hand)
            node = world.node(rig.hands[hand])
            if pose is None:
                self._last.pop(hand, None)
                rig.hand_velocity[hand] = (0.0, 0.0, 0.0)
                continue
            _set(node, pose, lift)
            seen = self._last.setdefault(hand, [])
            seen.append(node.getPos())
            del seen[:-VELOCITY_TICKS]
            if len(seen) > 1 and dt > 0.0:
                velocity = world.root.getRelativeVector(space, (seen[-1] - seen[0]) / (dt * (len(seen) - 1)))
                rig.hand_velocity[hand] = (velocity.x, velocity.y, velocity.z)


def _set(node: NodePath, pose: Pose, lift: float) -> None:
    node.setPosQuat(Point3(pose.pos[0], pose.pos[1], pose.pos[2] + lift), LQuaternion(*pose.quat))


class XRView:
    """View provider: the desktop mirror camera rides the rig's head."""

    def __init__(self, rig: XRRig, fov: float = 90.0) -> None:
        self.rig = rig
        self.fov = fov

    def view(self, world: World) -> View | None:
        if not world.exists(self.rig.head):
            return None
        return View(world.node(self.rig.head).getTransform(world.root), self.fov, 0.05, 1000.0)
