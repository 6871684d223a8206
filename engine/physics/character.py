"""The character motor: moves a kinematic capsule by sweeping it through the Bullet world.

Each tick: lift by ``step_height`` (when grounded), slide horizontally along what is hit
(walls and too-steep slopes are flattened into vertical planes, so they block rather than lift),
then sweep down to find ground. If the lifted move ends higher up on ground that is too steep,
the move is redone without the lift. Dynamic bodies in the way get pushed. Results are fully
deterministic: only sweeps, rays and float maths.

Against terrain surfaces (their own collision groups, see ``layers.py``) the straight up and down
sweeps move only the capsule's leading end sphere: a capsule moving along its axis first touches
a height surface with that end, so the contact is the same (within Bullet's 1 mm convex cast
tolerance), and a sphere costs Bullet about a quarter of a capsule per terrain triangle (measured:
a step-down probe onto the demo terrain 22 us against 84 us). Everything else is swept with the
whole capsule, as is every sideways move.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from panda3d.bullet import BulletShape, BulletWorld
from panda3d.core import BitMask32, PandaNode, Point3, TransformState, Vec3

from engine.physics.bodies import DYNAMIC, Body
from engine.physics.components import CharacterController
from engine.physics.layers import CollisionGroups

if TYPE_CHECKING:
    from engine.core.world import World

SKIN = 0.02          # gap kept between the capsule and what it touches
MAX_SLIDES = 4       # sweeps per move before giving up on the rest of it
MAX_GRAZES = 3       # side-on contacts skipped per sweep
GRAZE = 0.05         # a hit whose normal is within ~3 degrees of perpendicular to the motion is side-on
NO_MASK = BitMask32(0)


@dataclass
class _Hit:
    fraction: float
    normal: Vec3
    node: PandaNode


@dataclass
class _Move:
    center: Point3
    grounded: bool
    vertical_speed: float


class CharacterMotor:
    """Moves every CharacterController of a world once per tick, before Bullet steps."""

    def __init__(self, world: "World", bullet: BulletWorld, groups: CollisionGroups,
                 by_node: dict[PandaNode, Body]) -> None:
        self.world = world
        self.bullet = bullet
        self.groups = groups
        self.by_node = by_node
        self._body: Body | None = None
        self._mask = BitMask32.allOn()
        self._masks: dict[int, tuple[BitMask32, BitMask32, BitMask32]] = {}   # id(query) -> query, ends, rest
        self._ends = NO_MASK          # terrain groups, swept with the end spheres
        self._rest = self._mask       # every other group, swept with the capsule
        self._ends_up = self._ends_down = Vec3(0, 0, 0)   # from the capsule's centre to its end spheres'

    def step(self, body: Body, controller: CharacterController, dt: float, gravity: Vec3) -> None:
        root = self.world.root
        path = body.path
        half = max(controller.height, 2 * controller.radius) / 2
        center = path.getPos(root) + Vec3(0, 0, half)
        self._body = body
        self._mask = query = self.groups.query_mask(controller.mask)
        masks = self._masks.get(id(query))
        if masks is None or masks[0] is not query:      # a new group makes new query masks
            surfaces = self.groups.surfaces()
            masks = self._masks[id(query)] = (query, query & surfaces, query & ~surfaces)
        _query, self._ends, self._rest = masks
        cap = half - controller.radius
        self._ends_up, self._ends_down = Vec3(0, 0, cap), Vec3(0, 0, -cap)
        own_mask = body.node.getIntoCollideMask()
        body.node.setIntoCollideMask(NO_MASK)
        try:
            move = self._plan(body, controller, center, half, dt, gravity)
        finally:
            body.node.setIntoCollideMask(own_mask)
            self._body = None
        controller.grounded = move.grounded
        controller.vertical_speed = move.vertical_speed
        path.setPos(root, move.center - Vec3(0, 0, half))

    # -- planning -------------------------------------------------------------------------------
    def _plan(self, body: Body, controller: CharacterController, center: Point3, half: float, dt: float,
              gravity: Vec3) -> _Move:
        wish = Vec3(controller.move[0], controller.move[1], 0.0)
        if controller.local and wish.lengthSquared() > 0:
            wish = body.path.getQuat(self.world.root).xform(wish)
            wish.z = 0.0
        if wish.lengthSquared() > 1.0:
            wish.normalize()
        speed = controller.run_speed if controller.run else controller.walk_speed
        horizontal = wish * (speed * dt)
        grounded = controller.grounded
        vertical = 0.0 if grounded else controller.vertical_speed
        if controller.jump:
            controller.jump = False
            if grounded:
                vertical, grounded = controller.jump_speed, False
        vertical += gravity.z * controller.gravity_scale * dt
        cos_limit = math.cos(math.radians(controller.slope_limit)) - 1e-4
        use_step = grounded and controller.step_height > 0
        move = self._try(controller, center, horizontal, vertical, dt, half, cos_limit, use_step, grounded, speed)
        if use_step and not move.grounded and move.center.z > center.z + 1e-4:
            move = self._try(controller, center, horizontal, vertical, dt, half, cos_limit, False, grounded, speed)
        return move

    def _try(self, controller: CharacterController, center: Point3, horizontal: Vec3, vertical: float, dt: float,
             half: float, cos_limit: float, use_step: bool, snap: bool, speed: float) -> _Move:
        pos = Point3(center)
        lifted = 0.0
        if use_step:
            lifted = self._travel(pos, Vec3(0, 0, controller.step_height))
            pos.z += lifted
        pos = self._slide(pos, horizontal, cos_limit, controller.push_force, speed, dt)
        if vertical > 0:
            rise = vertical * dt
            up = self._travel(pos, Vec3(0, 0, rise))
            pos.z += up
            return _Move(pos, False, vertical if up >= rise - 1e-6 else 0.0)
        drop = lifted - vertical * dt
        probe = drop + (controller.step_height if snap else 0.0)
        hit = self._sweep(pos, Vec3(0, 0, -probe), drop + 2 * SKIN) if probe > 1e-9 else None
        if hit is not None:
            distance = hit.fraction * probe
            walkable = hit.normal.z >= cos_limit or self._ground_below(
                pos - Vec3(0, 0, max(0.0, distance - SKIN)), half + controller.step_height + 2 * SKIN, cos_limit)
            if walkable and (distance <= drop + SKIN or snap):
                pos.z -= max(0.0, distance - SKIN)
                return _Move(pos, True, 0.0)
            if not walkable and distance <= drop + SKIN:
                travel = max(0.0, distance - SKIN)
                pos.z -= travel
                slide = Vec3(0, 0, -(drop - travel))
                slide -= hit.normal * slide.dot(hit.normal)
                pos = self._slide(pos, slide, cos_limit, 0.0, speed, dt)
                return _Move(pos, False, vertical)
        pos.z -= drop
        return _Move(pos, False, vertical)

    # -- sweeping -------------------------------------------------------------------------------
    def _sweep(self, start: Point3, delta: Vec3, near: float = 0.0) -> _Hit | None:
        """The first surface the capsule runs into along ``delta`` (terrain met by an end sphere
        when ``delta`` is straight up or down: see the module doc). ``near``: where a hit is
        likely, closer than ``delta``'s end: terrain is swept that far first, then the rest (a
        short sweep costs Bullet less per triangle)."""
        body = self._body
        assert body is not None and body.sweep_shape is not None
        if delta.x != 0.0 or delta.y != 0.0 or body.sweep_ball is None or self._ends.isZero():
            return self._cast(body.sweep_shape, start, delta, self._mask)
        ball = start + (self._ends_up if delta.z > 0 else self._ends_down)
        length = delta.length()
        if 0.0 < near < length:
            first = delta * (near / length)
            end = self._cast(body.sweep_ball, ball, first, self._ends)
            if end is not None:
                end.fraction *= near / length
            else:
                end = self._cast(body.sweep_ball, ball + first, delta - first, self._ends)
                if end is not None:
                    end.fraction = (near + end.fraction * (length - near)) / length
        else:
            end = self._cast(body.sweep_ball, ball, delta, self._ends)
        rest = self._cast(body.sweep_shape, start, delta, self._rest)
        if end is None or (rest is not None and rest.fraction <= end.fraction):
            return rest
        return end

    def _cast(self, shape: BulletShape, start: Point3, delta: Vec3, mask: BitMask32) -> _Hit | None:
        """The first hit of ``shape`` moved from ``start`` by ``delta`` among groups ``mask``.

        Surfaces met side-on (their normal nearly perpendicular to the motion) are contacts the
        capsule already touches, not obstacles: they are left out and the sweep is repeated.
        """
        excluded: list[tuple[PandaNode, BitMask32]] = []
        try:
            for _ in range(MAX_GRAZES):
                result = self.bullet.sweepTestClosest(shape, TransformState.makePos(start),
                                                      TransformState.makePos(start + delta), mask, 0.0)
                if not result.hasHit():
                    return None
                normal = Vec3(result.getHitNormal())
                node = result.getNode()
                if normal.dot(delta / delta.length()) <= -GRAZE:
                    return _Hit(result.getHitFraction(), normal, node)
                excluded.append((node, node.getIntoCollideMask()))
                node.setIntoCollideMask(NO_MASK)
            return None
        finally:
            for node, mask_of in reversed(excluded):
                node.setIntoCollideMask(mask_of)

    def _travel(self, start: Point3, delta: Vec3) -> float:
        """How far the capsule can go along ``delta`` (keeping the skin gap)."""
        length = delta.length()
        hit = self._sweep(start, delta)
        return length if hit is None else max(0.0, hit.fraction * length - SKIN)

    def _slide(self, pos: Point3, delta: Vec3, cos_limit: float, push_force: float, speed: float,
               dt: float) -> Point3:
        for _ in range(MAX_SLIDES):
            length = delta.length()
            if length < 1e-7:
                break
            direction = delta / length
            hit = self._sweep(pos, delta)
            if hit is None:
                pos = pos + delta
                break
            travel = max(0.0, hit.fraction * length - SKIN)
            pos = pos + direction * travel
            if push_force > 0:
                self._push(hit.node, direction, speed, push_force, dt)
            remaining = direction * (length - travel)
            normal = Vec3(hit.normal)
            if normal.z < cos_limit:
                # too steep to walk up: treat it as a vertical wall, unless that would not stop us
                wall = Vec3(normal.x, normal.y, 0.0)
                if wall.lengthSquared() > 1e-12:
                    wall.normalize()
                    if remaining.dot(wall) < -1e-9:
                        normal = wall
            delta = remaining - normal * remaining.dot(normal)
        return pos

    def _ground_below(self, center: Point3, reach: float, cos_limit: float) -> bool:
        """Whether walkable ground lies right under the capsule's centre within ``reach``: a capsule
        resting on a stair edge stands, one resting on a steep slope does not."""
        result = self.bullet.rayTestClosest(center, center - Vec3(0, 0, reach), self._mask)
        return result.hasHit() and result.getHitNormal().z >= cos_limit

    def _push(self, node: PandaNode, direction: Vec3, speed: float, push_force: float, dt: float) -> None:
        body = self.by_node.get(node)
        if body is None or body.kind != DYNAMIC:
            return
        push = Vec3(direction.x, direction.y, 0.0)
        if push.lengthSquared() < 1e-12:
            return
        push.normalize()
        rigid = body.node
        wanted = speed - rigid.getLinearVelocity().dot(push)
        if wanted <= 0:
            return
        impulse = min(rigid.getMass() * wanted, push_force * dt)
        rigid.setActive(True)
        rigid.applyCentralImpulse(push * impulse)
