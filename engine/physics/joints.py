"""Bullet constraints from Joint components: hinge, ball, fixed and slider, with limits.

Anchors and axes are given in the entity's (scaled) space; Bullet wants them in each body's
unscaled frame, so both are turned into world space first and then into each body's frame.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from panda3d.bullet import (
    BulletConeTwistConstraint,
    BulletConstraint,
    BulletGenericConstraint,
    BulletHingeConstraint,
    BulletSliderConstraint,
    BulletSphericalConstraint,
    BulletWorld,
)
from panda3d.core import LQuaternionf, Point3, TransformState, Vec3

from engine.physics.bodies import DYNAMIC, KINEMATIC, STATIC, UNIT_SCALE, Body, report
from engine.physics.components import Joint

if TYPE_CHECKING:
    from engine.core.world import World

LIMIT_SOFTNESS, LIMIT_BIAS, LIMIT_RELAXATION = 0.9, 0.3, 1.0
BALL_ERP = 0.8   # Bullet's default 0.2 lets a fast pendulum stretch by ~5% of its length
RIGID_KINDS = (DYNAMIC, KINEMATIC, STATIC)


def quat_x_to(direction: Vec3) -> LQuaternionf:
    """The rotation taking +X onto ``direction`` (Bullet's slider and cone axes are X)."""
    target = Vec3(direction)
    target.normalize()
    x_axis = Vec3(1, 0, 0)
    cross = x_axis.cross(target)
    dot = max(-1.0, min(1.0, x_axis.dot(target)))
    quat = LQuaternionf()
    if cross.lengthSquared() < 1e-12:
        if dot < 0:
            quat.setFromAxisAngle(180.0, Vec3(0, 0, 1))
        return quat
    cross.normalize()
    quat.setFromAxisAngle(math.degrees(math.acos(dot)), cross)
    return quat


def _rigid_frame(body: Body) -> TransformState:
    """The body's world transform as Bullet sees it: position and rotation, no scale."""
    net = body.path.getNetTransform()
    return TransformState.makePosQuatScale(net.getPos(), net.getQuat(), UNIT_SCALE)


def build_joint(world: "World", bullet: BulletWorld, eid: int, joint: Joint,
                bodies: dict[int, Body]) -> BulletConstraint | None:
    """Create and attach the constraint of ``joint``; logs why and returns None when it cannot."""
    body_a = bodies.get(eid)
    if body_a is None or body_a.kind not in (DYNAMIC, KINEMATIC):
        report(world, eid, "Joint", "needs a dynamic or kinematic RigidBody on the same entity; the joint is skipped")
        return None
    body_b: Body | None = None
    if joint.target:
        if not world.exists(joint.target):
            report(world, eid, "Joint", f"target entity {joint.target} does not exist; the joint is skipped")
            return None
        body_b = bodies.get(joint.target)
        if body_b is None or body_b.kind not in RIGID_KINDS:
            report(world, eid, "Joint", f"target entity {joint.target} ({world.name_of(joint.target) or 'unnamed'}) "
                                        f"has no RigidBody or Collider to join to; the joint is skipped")
            return None
        if body_b is body_a:
            report(world, eid, "Joint", "target is the entity itself; the joint is skipped")
            return None
    axis_local = Vec3(*joint.axis)
    if axis_local.lengthSquared() < 1e-12:
        report(world, eid, "Joint", "axis must not be (0, 0, 0); the joint is skipped")
        return None
    net_a = body_a.path.getNetTransform()
    world_point = net_a.getMat().xformPoint(Point3(*joint.anchor))
    world_axis = net_a.getMat().xformVec(axis_local)
    world_axis.normalize()
    frame_world = TransformState.makePosQuatScale(world_point, quat_x_to(world_axis), UNIT_SCALE)
    rigid_a = _rigid_frame(body_a)
    frame_a = rigid_a.invertCompose(frame_world)
    frame_b = _rigid_frame(body_b).invertCompose(frame_world) if body_b is not None else frame_world
    node_a = body_a.node
    node_b = body_b.node if body_b is not None else None
    constraint = _make(joint, node_a, node_b, frame_a, frame_b)
    if joint.break_impulse > 0:
        constraint.setBreakingThreshold(joint.break_impulse)
    bullet.attachConstraint(constraint, not joint.collide_connected)
    return constraint


def _make(joint: Joint, node_a, node_b, frame_a: TransformState, frame_b: TransformState) -> BulletConstraint:  # type: ignore[no-untyped-def]
    kind = joint.kind
    if kind == "hinge":
        axis_a = frame_a.getQuat().xform(Vec3(1, 0, 0))
        if node_b is None:
            hinge = BulletHingeConstraint(node_a, frame_a.getPos(), axis_a, True)
        else:
            axis_b = frame_b.getQuat().xform(Vec3(1, 0, 0))
            hinge = BulletHingeConstraint(node_a, node_b, frame_a.getPos(), frame_b.getPos(), axis_a, axis_b, True)
        if joint.limits:
            hinge.setLimit(joint.limit_min, joint.limit_max, LIMIT_SOFTNESS, LIMIT_BIAS, LIMIT_RELAXATION)
        return hinge
    if kind == "ball":
        if joint.limits:
            if node_b is None:
                cone = BulletConeTwistConstraint(node_a, frame_a)
            else:
                cone = BulletConeTwistConstraint(node_a, node_b, frame_a, frame_b)
            swing = max(0.0, joint.limit_max)
            cone.setLimit(swing, swing, swing, LIMIT_SOFTNESS, LIMIT_BIAS, LIMIT_RELAXATION)
            return cone
        if node_b is None:
            ball = BulletSphericalConstraint(node_a, frame_a.getPos())
        else:
            ball = BulletSphericalConstraint(node_a, node_b, frame_a.getPos(), frame_b.getPos())
        ball.setParam(BulletConstraint.CP_erp, BALL_ERP, -1)
        return ball
    if kind == "slider":
        if node_b is None:
            slider = BulletSliderConstraint(node_a, frame_a, True)
        else:
            slider = BulletSliderConstraint(node_a, node_b, frame_a, frame_b, True)
        if joint.limits:
            slider.setLowerLinearLimit(joint.limit_min)
            slider.setUpperLinearLimit(joint.limit_max)
        slider.setLowerAngularLimit(0.0)
        slider.setUpperAngularLimit(0.0)
        return slider
    if node_b is None:
        fixed = BulletGenericConstraint(node_a, frame_a, True)
    else:
        fixed = BulletGenericConstraint(node_a, node_b, frame_a, frame_b, True)
    for axis in range(3):
        fixed.setLinearLimit(axis, 0.0, 0.0)
        fixed.setAngularLimit(axis, 0.0, 0.0)
    return fixed
