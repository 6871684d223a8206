"""The PhysicsSystem's part of World snapshots: a sync point that puts Bullet into one canonical form.

Bullet keeps state that Panda3D can neither read nor write: contact manifolds with their
warm-starting impulses, the broadphase tree and its optimisation cursor, the pair cache (whose
order becomes the solver's order), constraint impulses. So a snapshot does not try to copy
Bullet; at a snapshot AND at a restore the system rebuilds its Bullet world from the captured
data alone, and both worlds go on from the identical state:

* a fresh BulletWorld (same gravity, the same collision-group table);
* every body, trigger and static surface re-added in entity-id order, its Bullet transform read
  again from its node (kinematic bodies too, so the motion Bullet derives for them restarts from
  where they are), its velocities, deactivation timer and sleeping state set from the capture;
* every joint built again and given its captured frames and enabled (unbroken) state;
* who is inside each trigger and which pairs touch, kept as captured.

Panda3D shows a dynamic body one step late (Bullet's motion-state interpolation), so before
capturing, a zero-length step brings every moving node to where Bullet really has it: physics
goes on from its true state, and a moving body's node catches up one tick at a snapshot.

The visible cost: contacts lose their warm starting for the tick after a snapshot or restore
(resting stacks settle by a fraction of a millimetre; contacts on rounded or hull shapes gather
their points again over a few ticks), and a body close to falling asleep may stay awake a little
longer (Bullet's "wants to sleep" state is not readable; such bodies restart as plainly active).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from panda3d.bullet import BulletGhostNode, BulletRigidBodyNode, BulletSphericalConstraint
from panda3d.core import TransformState, Vec3

from engine.physics.bodies import DYNAMIC, STATIC, Body
from engine.physics.components import Joint
from engine.physics.joints import build_joint

if TYPE_CHECKING:
    from panda3d.bullet import BulletConstraint

    from engine.physics.system import PhysicsSystem

Vec = tuple[float, float, float]
FAR_AWAY = TransformState.makePos(Vec3(1e7, 1e7, 1e7))   # a ghost caches its last transform; this resets it


@dataclass(frozen=True)
class BodyState:
    """What Bullet knows about a rigid body beyond its components and its node's transform."""

    linear: Vec
    angular: Vec
    active: bool
    deactivation_time: float
    deactivation_enabled: bool


@dataclass(frozen=True)
class JointState:
    """A constraint's frames in each body (pivots for a ball joint) and whether it is unbroken."""

    frame_a: Any
    frame_b: Any
    enabled: bool


@dataclass(frozen=True)
class PhysicsState:
    """The PhysicsSystem's snapshot state: per-body Bullet state, trigger occupants, touching pairs,
    undelivered events and joints, keyed by entity id (so it fits any World of the same origin)."""

    bodies: dict[int, BodyState]
    inside: dict[int, frozenset[int]]
    touching: frozenset[tuple[int, int]]
    outbox: tuple[Any, ...]
    joints: dict[int, JointState]


def settle_nodes(system: "PhysicsSystem") -> None:
    """Move every moving dynamic body's node to Bullet's own transform of it (not the one-step-late
    interpolated one): a zero-length variable step only synchronises motion states. Bodies that
    stand still keep their node's transform exactly (Panda3D writes back a position and a
    quaternion, which would round a heading written in the file in its last digit)."""
    still = []
    for body in system._bodies.values():
        node = body.node
        if body.kind == DYNAMIC and not (any(node.getLinearVelocity()) or any(node.getAngularVelocity())):
            still.append((body.path, body.path.getTransform()))
    system.bullet.doPhysics(0.0, 0, 1.0)
    for path, transform in still:
        if path.getTransform() != transform:
            path.setTransform(transform)


def capture(system: "PhysicsSystem") -> PhysicsState:
    """Read the state a restore needs (call after ``settle_nodes`` and a flush)."""
    bodies = {}
    for eid, body in sorted(system._bodies.items()):
        node = body.node
        if isinstance(node, BulletRigidBodyNode):
            bodies[eid] = BodyState(_vec(node.getLinearVelocity()), _vec(node.getAngularVelocity()), node.isActive(),
                                    node.getDeactivationTime(), node.isDeactivationEnabled())
    tracker = system._tracker
    assert tracker is not None
    joints = {eid: _joint_state(constraint) for eid, (constraint, _a, _b) in sorted(system._joints.items())}
    return PhysicsState(bodies, {eid: frozenset(body.inside) for eid, body in sorted(system._bodies.items())
                                 if body.inside}, frozenset(tracker._touching), tuple(tracker._outbox), joints)


def apply(system: "PhysicsSystem", state: PhysicsState) -> None:
    """Put the captured bookkeeping back and rebuild Bullet canonically from ``state``."""
    tracker = system._tracker
    assert tracker is not None
    for eid, body in system._bodies.items():
        body.inside = set(state.inside.get(eid, ()))
    live = {body.entity for body in system._by_node.values()}     # static surfaces of other systems too
    tracker._touching = {pair for pair in state.touching if pair[0] in live and pair[1] in live}
    tracker._outbox = list(state.outbox)
    rebuild(system, state)


def rebuild(system: "PhysicsSystem", state: PhysicsState) -> None:
    """A fresh BulletWorld holding the system's bodies and joints, set up only from ``state``, the
    components and the nodes' transforms (see the module docstring)."""
    from engine.physics.system import new_bullet_world

    old = system.bullet
    for constraint, _a, _b in system._joints.values():
        old.remove(constraint)
    placed = _canonical_order(system)
    for body in placed:
        if body.attached:
            old.remove(body.node)
    bullet = new_bullet_world()
    bullet.setGravity(Vec3(system._gravity))
    system._use_bullet(bullet)
    factory = system._factory
    assert factory is not None
    for body in placed:
        _place(body, state.bodies.get(body.entity))
        bullet.attach(body.node)
        body.attached = True
        if body.kind == DYNAMIC:
            factory.apply_gravity(body)
        _wake(body, state.bodies.get(body.entity))
    _rebuild_joints(system, state)


def _canonical_order(system: "PhysicsSystem") -> list[Body]:
    """Every attached body: the system's own in entity-id order, then other systems' static
    surfaces (``attach_static``) by entity id."""
    own = [body for _eid, body in sorted(system._bodies.items())]
    mine = set(map(id, own))
    others = sorted((body for body in system._by_node.values() if id(body) not in mine and body.attached),
                    key=lambda body: body.entity)
    return own + others


def _place(body: Body, saved: BodyState | None) -> None:
    """Velocities first (Bullet copies them into its interpolation state), then the transform."""
    node = body.node
    if isinstance(node, BulletGhostNode):
        path = body.path
        kept = path.getTransform()
        path.setTransform(FAR_AWAY)
        path.setTransform(kept)
        return
    if not isinstance(node, BulletRigidBodyNode):
        return
    if saved is not None:
        node.setLinearVelocity(Vec3(*saved.linear))
        node.setAngularVelocity(Vec3(*saved.angular))
    if node.isKinematic():
        # Bullet keeps a kinematic body's last-step transform to derive its velocity; it is only
        # reset from the node while the body is not kinematic.
        node.setKinematic(False)
        node.setTransformDirty()
        node.setKinematic(True)
    else:
        node.setTransformDirty()


def _wake(body: Body, saved: BodyState | None) -> None:
    """Activation as captured: sleeping bodies asleep, awake ones awake with their timer."""
    node = body.node
    if not isinstance(node, BulletRigidBodyNode) or body.kind == STATIC or saved is None:
        return
    node.setDeactivationEnabled(saved.deactivation_enabled)
    if not saved.deactivation_enabled:
        return
    if saved.active:
        node.setActive(True, True)              # resets the timer: set it afterwards
        node.setDeactivationTime(saved.deactivation_time)
    else:
        node.setActive(False, True)


def _rebuild_joints(system: "PhysicsSystem", state: PhysicsState) -> None:
    world = system._world
    assert world is not None
    old_joints, system._joints = system._joints, {}
    for eid in sorted(old_joints):
        joint = world.get(eid, Joint)
        if joint is None:
            continue
        previous = old_joints[eid][0]
        saved = state.joints.get(eid) or _joint_state(previous)
        constraint = build_joint(world, system.bullet, eid, joint, system._bodies)
        if constraint is None:
            continue
        _set_joint_state(constraint, saved)
        system._joints[eid] = (constraint, eid, joint.target)


def _joint_state(constraint: "BulletConstraint") -> JointState:
    if isinstance(constraint, BulletSphericalConstraint):
        return JointState(_vec(constraint.getPivotInA()), _vec(constraint.getPivotInB()), constraint.isEnabled())
    return JointState(constraint.getFrameA(), constraint.getFrameB(), constraint.isEnabled())  # type: ignore[attr-defined]


def _set_joint_state(constraint: "BulletConstraint", saved: JointState) -> None:
    if isinstance(constraint, BulletSphericalConstraint):
        constraint.setPivotA(Vec3(*saved.frame_a))
        constraint.setPivotB(Vec3(*saved.frame_b))
    else:
        constraint.setFrames(saved.frame_a, saved.frame_b)  # type: ignore[attr-defined]
    constraint.setEnabled(saved.enabled)


def _vec(value: Iterable[float]) -> Vec:
    x, y, z = value
    return (x, y, z)
