"""VR interaction, one system run each tick before scripts: teleport along an arc onto ground the
physics world says is standable, snap turn, smooth locomotion (the VR player's ``move`` action,
along where the head looks), and grabbing physics objects with either hand, thrown on release
with the hand's velocity. Comfort options are in ``Comfort``.

Controls (any interaction profile, see ``engine.xr.bindings``): right thumbstick forward aims a
teleport arc and letting go teleports; right thumbstick left/right turns by ``snap_angle``;
squeeze grabs with that hand. The right hand's aim is also a pointer ray: ``Interaction.pointer``
is what it points at (world-space panels and anything with a collider), within ``pointer_reach``.
Grabs and throws are announced on the world's event bus (``XRGrabbed``, ``XRReleased``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from panda3d.core import LQuaternion, NodePath, Point3, TransformState, Vec3

from engine.core.system import ORDER_SCRIPTS, System
from engine.core.world import World
from engine.physics.components import RigidBody
from engine.physics.shapes import ShapeSpec
from engine.physics.system import PhysicsSystem
from engine.xr.poses import HANDS, HandControls
from engine.xr.rig import XRRig

AIM, TURN, PRESS = 0.6, 0.6, 0.5


@dataclass
class Comfort:
    """Comfort options: snap angle (degrees), smooth speed (m/s), a vignette that darkens the eyes'
    edges while moving smoothly (``Interaction.vignette``, 0..1, grows with speed), teleport and
    grabbing on or off (a networked session turns both off: the server owns where things are)."""

    snap_angle: float = 30.0
    smooth_speed: float = 2.0
    vignette: bool = True
    vignette_strength: float = 0.75  # how dark the edges get at full speed
    teleport: bool = True
    grab: bool = True
    teleport_speed: float = 7.0      # m/s along the aim: how far the arc reaches
    max_slope_cos: float = 0.7       # a target's surface normal must point this much up
    grab_radius: float = 0.25
    pointer_reach: float = 20.0


@dataclass(frozen=True)
class XRGrabbed:
    """Sent when a hand takes hold of an entity."""

    hand: str
    entity: int


@dataclass(frozen=True)
class XRReleased:
    """Sent when a hand lets go of an entity, with the velocity it was thrown at (m/s, world space)."""

    hand: str
    entity: int
    velocity: tuple[float, float, float]


@dataclass(frozen=True)
class PointerHit:
    """What the right hand's pointer ray touches: the entity, the point and the distance."""

    entity: int
    point: tuple[float, float, float]
    distance: float


@dataclass
class Held:
    entity: int
    offset: TransformState


@dataclass
class Interaction:
    """What the VR player is doing: the teleport arc and target, held objects, the vignette."""

    arc: list[Point3] = field(default_factory=list)
    target: Point3 | None = None
    held: dict[str, Held] = field(default_factory=dict)
    pointer: PointerHit | None = None
    vignette: float = 0.0
    teleports: int = 0
    throws: list[tuple[int, tuple[float, float, float]]] = field(default_factory=list)


class XRInteractionSystem(System):
    """Teleport, turn, move and grab for one rig."""

    name = "xr_interaction"
    order = ORDER_SCRIPTS - 10

    def __init__(self, rig: XRRig, comfort: Comfort | None = None) -> None:
        self.rig = rig
        self.comfort = comfort or Comfort()
        self.state = Interaction()
        self._was: dict[str, HandControls] = {}

    def update(self, world: World, dt: float) -> None:
        frame = self.rig.latest
        if frame is None or not world.exists(self.rig.root):
            return
        controls = {hand: frame.controls.get(hand, HandControls()) for hand in HANDS}
        physics = world.system(PhysicsSystem)
        self._turn(world, controls["right"])
        self._move(world, dt)
        if physics is not None:
            self._teleport(world, physics, controls["right"])
            for hand in HANDS if self.comfort.grab else ():
                self._grab(world, physics, hand, controls[hand])
            self._point(world, physics)
        self._was = controls

    def _point(self, world: World, physics: PhysicsSystem) -> None:
        origin, direction = self.rig.aim(world, "right")
        end = origin + direction * self.comfort.pointer_reach
        held = {h.entity for h in self.state.held.values()}
        hit = physics.raycast(tuple(origin), tuple(end), ignore=held or None, triggers=False)
        self.state.pointer = None if hit is None else PointerHit(hit.entity, tuple(hit.point), hit.distance)

    # -- turning and moving ---------------------------------------------------------------------
    def _turn(self, world: World, right: HandControls) -> None:
        x, before = right.thumbstick[0], self._was.get("right", HandControls()).thumbstick[0]
        if abs(x) >= TURN > abs(before):
            self._rotate_about_head(world, -self.comfort.snap_angle if x > 0 else self.comfort.snap_angle)

    def _rotate_about_head(self, world: World, degrees: float) -> None:
        """Turn the tracking space about the head, so the view turns in place."""
        rig, space = self.rig, self.rig.node(world)
        pivot = rig.head_world(world)
        space.setH(world.root, space.getH(world.root) + degrees)
        space.setPos(world.root, space.getPos(world.root) + (pivot - rig.head_world(world)))

    def _move(self, world: World, dt: float) -> None:
        actions = world.services.get("input_for")
        vector = (0.0, 0.0)
        if actions is not None:
            vector = actions(self.rig.root).vector("move")
        moving = vector != (0.0, 0.0)
        speed = min(1.0, (vector[0] ** 2 + vector[1] ** 2) ** 0.5)
        self.state.vignette = speed * self.comfort.vignette_strength if moving and self.comfort.vignette else 0.0
        if not moving:
            return
        head = world.node(self.rig.head)
        heading = head.getH(world.root)
        turn = LQuaternion()
        turn.setHpr(Vec3(heading, 0.0, 0.0))
        step = turn.xform(Vec3(vector[0], vector[1], 0.0)) * (self.comfort.smooth_speed * dt)
        space = self.rig.node(world)
        space.setPos(world.root, space.getPos(world.root) + step)

    # -- teleport -------------------------------------------------------------------------------
    def _teleport(self, world: World, physics: PhysicsSystem, right: HandControls) -> None:
        aiming = self.comfort.teleport and right.thumbstick[1] >= AIM
        was_aiming = self._was.get("right", HandControls()).thumbstick[1] >= AIM
        if aiming:
            self.state.arc, self.state.target = self.arc(world, physics)
            return
        if was_aiming and self.state.target is not None:
            target, space = self.state.target, self.rig.node(world)
            head = self.rig.head_world(world)
            feet = space.getPos(world.root)
            space.setPos(world.root, feet + Vec3(target.x - head.x, target.y - head.y, target.z - feet.z))
            self.state.teleports += 1
        self.state.arc, self.state.target = [], None

    def arc(self, world: World, physics: PhysicsSystem, step: float = 1.0 / 30.0,
            most: int = 90) -> tuple[list[Point3], Point3 | None]:
        """The teleport arc from the right hand's aim (a thrown point under gravity), and where it
        lands when that is a valid target: a surface facing up enough, not a moving body."""
        origin, direction = self.rig.aim(world, "right")
        velocity = direction * self.comfort.teleport_speed
        gravity = Vec3(0, 0, -9.81)
        points, here = [Point3(origin)], Point3(origin)
        held = {h.entity for h in self.state.held.values()}
        for _ in range(most):
            there = here + velocity * step
            velocity += gravity * step
            hit = physics.raycast(tuple(here), tuple(there), ignore=held | {self.rig.root})
            if hit is not None:
                points.append(Point3(*hit.point))
                valid = hit.normal[2] >= self.comfort.max_slope_cos and not _moving(world, hit.entity)
                return points, (Point3(*hit.point) if valid else None)
            points.append(there)
            here = there
        return points, None

    # -- grabbing -------------------------------------------------------------------------------
    def _grab(self, world: World, physics: PhysicsSystem, hand: str, controls: HandControls) -> None:
        squeezing = controls.squeeze >= PRESS
        held = self.state.held.get(hand)
        hand_node = world.node(self.rig.hands[hand])
        if squeezing and held is None and self._was.get(hand, HandControls()).squeeze < PRESS:
            target = self._nearest_body(world, physics, hand_node)
            if target:
                body = world.get(target, RigidBody)
                assert body is not None
                world.set_field(target, body, "kinematic", True)
                offset = hand_node.getTransform(world.root).invertCompose(world.node(target).getTransform(world.root))
                self.state.held[hand] = Held(target, offset)
                world.events.emit(XRGrabbed(hand, target))
        elif held is not None and not world.exists(held.entity):
            del self.state.held[hand]
        elif held is not None and squeezing:
            world.node(held.entity).setTransform(world.root, hand_node.getTransform(world.root).compose(held.offset))
        elif held is not None:
            del self.state.held[hand]
            body = world.get(held.entity, RigidBody)
            if body is not None:
                world.set_field(held.entity, body, "kinematic", False)
            velocity = self.rig.hand_velocity.get(hand, (0.0, 0.0, 0.0))
            physics.set_velocity(held.entity, velocity)
            self.state.throws.append((held.entity, velocity))
            world.events.emit(XRReleased(hand, held.entity, velocity))

    def _nearest_body(self, world: World, physics: PhysicsSystem, hand: NodePath) -> int:
        centre = hand.getPos(world.root)
        found = physics.overlap(ShapeSpec("sphere", radius=self.comfort.grab_radius), tuple(centre))
        best, best_distance = 0, float("inf")
        for eid in found:
            body = world.get(eid, RigidBody)
            if body is None or body.mass <= 0.0 or eid in {h.entity for h in self.state.held.values()}:
                continue
            distance = (world.node(eid).getPos(world.root) - centre).length()
            if distance < best_distance:
                best, best_distance = eid, distance
        return best


def _moving(world: World, eid: int) -> bool:
    body = world.get(eid, RigidBody) if eid else None
    return body is not None and (body.mass > 0.0 or body.kinematic)
