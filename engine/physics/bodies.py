"""Turning an entity's physics components into one Bullet node that IS the entity's node.

The entity's NodePath keeps its identity: Panda3D's ``replace_node`` swaps the plain node under
it for a Bullet body node (transform, tags and children move over, every NodePath to it stays
valid). Bullet then reads kinematic and static transforms from the scene graph and writes
dynamic ones back to it, in C++, on each step: no per-body Python copy, no drift.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from panda3d.bullet import BulletCapsuleShape, BulletGhostNode, BulletRigidBodyNode, BulletSphereShape, BulletWorld, ZUp
from panda3d.core import NodePath, PandaNode, TransformState, Vec3

from engine.core.world import ENTITY_TAG
from engine.physics.components import CharacterController, Collider, RigidBody, Trigger
from engine.physics.layers import CollisionGroups
from engine.physics.shapes import (
    PRIMITIVE_SHAPES,
    ShapeError,
    ShapeSpec,
    geometry_shape,
    heightfield_shape,
    inner_radius,
    model_of,
    primitive_shape,
)

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.physics")

# Bullet multiplies the two bodies' values; a static body without a RigidBody passes the other
# body's restitution through unchanged and halves its friction.
STATIC_FRICTION = 0.5
STATIC_RESTITUTION = 1.0
UNIT_SCALE = Vec3(1, 1, 1)
DYNAMIC, KINEMATIC, STATIC, TRIGGER, CHARACTER = "dynamic", "kinematic", "static", "trigger", "character"


def report(world: "World", eid: int, component: str, message: str, level: int = logging.ERROR) -> None:
    """Log a problem with an entity's component: id, name, component and what to do."""
    log.log(level, "entity %d (%s) %s: %s", eid, world.name_of(eid) or "unnamed", component, message)


@dataclass(eq=False)
class Body:
    """One entity's Bullet node and what the system needs to know about it each tick."""

    entity: int
    kind: str
    node: BulletRigidBodyNode | BulletGhostNode
    path: NodePath
    group: int
    members: list[int] = field(default_factory=list)
    reports: bool = False
    inside: set[int] = field(default_factory=set)
    exact: bool = True
    sweep_shape: BulletCapsuleShape | None = None
    sweep_ball: BulletSphereShape | None = None      # a sphere of the capsule's radius: its end caps
    attached: bool = False


def owner_of(world: "World", eid: int) -> int:
    """The entity whose body a Collider on ``eid`` belongs to (0: none)."""
    if world.has(eid, RigidBody) or world.has(eid, Trigger) or world.has(eid, CharacterController):
        return eid
    parent = world.parent_of(eid)
    while parent:
        if world.has(parent, RigidBody) or world.has(parent, Trigger) or world.has(parent, CharacterController):
            return parent
        parent = world.parent_of(parent)
    return eid if world.has(eid, Collider) else 0


def adopt(path: NodePath, node: PandaNode) -> None:
    """Make ``node`` the node of ``path`` (and of every NodePath to the old node)."""
    name = path.getName()
    node.replaceNode(path.node())
    node.setName(name)
    path.setTransform(path.getTransform())


def release(path: NodePath) -> None:
    """Put a plain node back under an entity that stops being a body."""
    if path.isEmpty():
        return
    plain = PandaNode(path.getName())
    plain.replaceNode(path.node())


class BodyFactory:
    """Builds, rebuilds and removes the Bullet bodies of entities."""

    def __init__(self, world: "World", bullet: BulletWorld, groups: CollisionGroups) -> None:
        self.world = world
        self.bullet = bullet
        self.groups = groups
        self.gravity = Vec3(0.0, 0.0, -9.81)

    def kind_of(self, eid: int) -> str | None:
        world = self.world
        rigid = world.get(eid, RigidBody)
        if world.has(eid, CharacterController):
            if rigid is not None:
                report(world, eid, "RigidBody", "cannot share an entity with a CharacterController; it is ignored")
            return CHARACTER
        if world.has(eid, Trigger):
            if rigid is not None:
                report(world, eid, "Trigger", "a trigger cannot also be a RigidBody; put the Trigger on a child "
                                              "entity. The Trigger is ignored")
            else:
                return TRIGGER
        if rigid is not None:
            if rigid.kinematic:
                return KINEMATIC
            return DYNAMIC if rigid.mass > 0 else STATIC
        return STATIC if world.has(eid, Collider) else None

    def members(self, owner: int) -> list[int]:
        """Collider entities that give ``owner`` its shapes: itself, then child entities by id."""
        world = self.world
        found = [owner] if world.has(owner, Collider) else []
        path = world.node(owner)
        if path.getNumChildren():
            children = sorted(int(p.getTag(ENTITY_TAG)) for p in path.findAllMatches(f"**/={ENTITY_TAG}"))
            found += [c for c in children if c != owner and world.has(c, Collider) and owner_of(world, c) == owner]
        return found

    def build(self, owner: int, old: Body | None) -> Body | None:
        """The body ``owner`` should have now (reusing ``old``'s node when it is the same kind)."""
        kind = self.kind_of(owner)
        if kind is None:
            if old is not None:
                self.remove(old, keep_entity=True)
            return None
        path = self.world.node(owner)
        ghost = kind == TRIGGER
        if old is not None and isinstance(old.node, BulletGhostNode) == ghost:
            self._detach(old)
            node = old.node
            for shape in list(node.getShapes()):
                node.removeShape(shape)
        else:
            if old is not None:
                self.remove(old, keep_entity=True)
            node = BulletGhostNode(path.getName()) if ghost else BulletRigidBodyNode(path.getName())
            adopt(path, node)
        body = Body(owner, kind, node, path, 0)
        if kind == CHARACTER:
            self._character_shape(body)
        else:
            body.members = self.members(owner)
            self._add_shapes(body)
        self._apply(body)
        self.bullet.attach(node)
        body.attached = True
        if kind == DYNAMIC:
            self.apply_gravity(body)
        return body

    def remove(self, body: Body, keep_entity: bool) -> None:
        """Take a body out of Bullet; ``keep_entity`` puts a plain node back under the entity."""
        self._detach(body)
        if keep_entity:
            release(body.path)

    def apply_gravity(self, body: Body) -> None:
        rigid = self.world.get(body.entity, RigidBody)
        scale = rigid.gravity_scale if rigid is not None else 1.0
        body.node.setGravity(self.gravity * scale)

    def _detach(self, body: Body) -> None:
        if body.attached:
            self.bullet.remove(body.node)
            body.attached = False

    def _layer(self, eid: int, layer: int, mask: int, kind: str) -> int:
        fixed = kind in (STATIC, KINEMATIC, CHARACTER)
        group = self.groups.group_for(layer, mask, kind == TRIGGER, fixed)
        if group is None:
            group = self.groups.nearest_group(layer, fixed)
            report(self.world, eid, "Collider", f"the world already uses 32 different layer/mask combinations "
                                                f"(moving and fixed bodies count apart); "
                                                f"this body uses another body's mask on layer {layer}")
        return group

    def _add_shapes(self, body: Body) -> None:
        world = self.world
        owner_path = body.path
        first: Collider | None = None
        for member in body.members:
            collider = world.get(member, Collider)
            assert collider is not None
            if first is None:
                first = collider
            elif (collider.layer, collider.mask) != (first.layer, first.mask):
                report(world, member, "Collider", f"layer/mask differ from the body's first collider "
                                                  f"(entity {body.entity}); the body uses the first one's",
                       logging.WARNING)
            body.reports = body.reports or collider.report_collisions
            place = TransformState.makeIdentity() if member == body.entity else world.node(member).getTransform(owner_path)
            local = place.compose(TransformState.makePosHpr(Vec3(*collider.offset), Vec3(*collider.rotation)))
            try:
                self._add_shape(body, member, collider, local)
            except ShapeError as exc:
                report(world, member, "Collider", f"{exc}; the collider is skipped")
        if first is None:
            if body.kind == TRIGGER:
                report(world, body.entity, "Trigger", "needs a Collider on the entity or a child entity; "
                                                      "it detects nothing")
            elif body.kind in (DYNAMIC, KINEMATIC):
                report(world, body.entity, "RigidBody", "has no Collider on the entity or a child entity; it "
                                                        "moves as a point and touches nothing", logging.WARNING)
        layer, mask = (first.layer, first.mask) if first is not None else (0, 0xFFFFFFFF)
        body.group = self._layer(body.entity, layer, mask, body.kind)
        body.node.setIntoCollideMask(self.groups.into_mask(body.group))
        if body.kind == TRIGGER:
            trigger = world.get(body.entity, Trigger)
            body.exact = trigger.exact if trigger is not None else True

    def _add_shape(self, body: Body, member: int, collider: Collider, local: TransformState) -> None:
        kind = collider.shape
        if kind in PRIMITIVE_SHAPES:
            shape = primitive_shape(ShapeSpec.of(collider), tuple(local.getScale()))  # type: ignore[arg-type]
            body.node.addShape(shape, TransformState.makePosQuatScale(local.getPos(), local.getQuat(), UNIT_SCALE))
            return
        moving = body.kind == DYNAMIC
        if kind == "heightfield":
            if moving:
                raise ShapeError("a heightfield only works on a static or kinematic body")
            body.node.addShape(heightfield_shape(self.world, collider, local))
            return
        model = model_of(self.world, member)
        if model is None:
            raise ShapeError(f"shape {kind!r} takes its geometry from a model, but the entity has no geometry "
                             f"(add a MeshRenderer)")
        if kind == "mesh" and moving:
            report(self.world, member, "Collider", "shape 'mesh' only works on static or kinematic bodies; "
                                                   "this moving body gets a convex hull of the model instead")
            kind = "hull"
        body.node.addShape(geometry_shape(kind, model, local))

    def _character_shape(self, body: Body) -> None:
        controller = self.world.get(body.entity, CharacterController)
        assert controller is not None
        radius = controller.radius
        height = controller.height
        if height < 2 * radius:
            report(self.world, body.entity, "CharacterController",
                   f"height {height:g} is less than twice the radius {radius:g}; using {2 * radius:g}")
            height = 2 * radius
        body.node.addShape(BulletCapsuleShape(radius, height - 2 * radius, ZUp),
                           TransformState.makePos(Vec3(0, 0, height / 2)))
        body.sweep_shape = BulletCapsuleShape(radius, height - 2 * radius, ZUp)
        body.sweep_ball = BulletSphereShape(radius)
        body.group = self._layer(body.entity, controller.layer, controller.mask, CHARACTER)
        body.node.setIntoCollideMask(self.groups.into_mask(body.group))
        for member in self.members(body.entity):
            if member != body.entity:
                report(self.world, member, "Collider", f"is a child of character entity {body.entity}; "
                                                       f"characters use their capsule only, so it is ignored",
                       logging.WARNING)

    def _apply(self, body: Body) -> None:
        node = body.node
        if isinstance(node, BulletGhostNode):
            return
        rigid = self.world.get(body.entity, RigidBody)
        if body.kind in (STATIC, CHARACTER) or rigid is None:
            node.setMass(0.0)
            node.setFriction(rigid.friction if rigid is not None else STATIC_FRICTION)
            node.setRestitution(rigid.restitution if rigid is not None else STATIC_RESTITUTION)
            if body.kind == CHARACTER:
                node.setKinematic(True)
                node.setDeactivationEnabled(False)
            return
        node.setMass(rigid.mass if body.kind == DYNAMIC else 0.0)
        node.setKinematic(body.kind == KINEMATIC)
        node.setFriction(rigid.friction)
        node.setRestitution(rigid.restitution)
        node.setLinearDamping(rigid.linear_damping)
        node.setAngularDamping(rigid.angular_damping)
        if body.kind == KINEMATIC:
            node.setDeactivationEnabled(False)
        if rigid.ccd and body.members:
            collider = self.world.get(body.members[0], Collider)
            radius = inner_radius(ShapeSpec.of(collider)) if collider is not None else 0.05
            node.setCcdMotionThreshold(radius * 0.5)
            node.setCcdSweptSphereRadius(radius * 0.8)
        else:
            node.setCcdMotionThreshold(0.0)
