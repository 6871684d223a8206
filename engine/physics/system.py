"""The PhysicsSystem: keeps a Bullet world in step with the World's physics components.

Each fixed tick it builds or rebuilds the bodies whose components changed, moves characters,
steps Bullet by exactly one substep of the tick length (deterministic), then reports trigger
and collision enter/exit events. Bodies are the entities' own nodes (see ``bodies.py``), so
transforms need no per-body copying. Headless and windowed runs take the same path.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

from panda3d.bullet import BulletRigidBodyNode, BulletWorld
from panda3d.core import PandaNode, Point3, Vec3, loadPrcFileData, unloadPrcFile

from engine.core.events import ComponentAdded, ComponentRemoved, EntityDestroyed, FieldChanged
from engine.core.system import ORDER_PHYSICS, System
from engine.physics.bodies import CHARACTER, DYNAMIC, KINEMATIC, TRIGGER, Body, BodyFactory, owner_of
from engine.physics.character import CharacterMotor
from engine.physics.components import ALL_LAYERS, CharacterController, Collider, Joint, RigidBody, Trigger
from engine.physics.contacts import COLLISION_METHODS, ContactTracker, defines
from engine.physics.joints import build_joint
from engine.physics.layers import CollisionGroups
from engine.physics.queries import PhysicsQueries, RayHit
from engine.physics.shapes import ShapeSpec
from engine.physics.sync_point import PhysicsState, apply, capture, rebuild, settle_nodes
from engine.render.components import MeshRenderer
from engine.scripting.behaviour import Behaviour

if TYPE_CHECKING:
    from panda3d.bullet import BulletConstraint

    from engine.core.world import World

DEFAULT_GRAVITY = (0.0, 0.0, -9.81)
BODY_COMPONENTS = (RigidBody, Collider, Trigger, CharacterController)
# CharacterController fields read every tick: changing them needs no rebuild.
MAX_FLUSH_ROUNDS = 4
LIVE_CONTROLLER_FIELDS = frozenset(("walk_speed", "run_speed", "jump_speed", "slope_limit", "step_height",
                                    "gravity_scale", "push_force", "move", "local", "run", "jump", "grounded",
                                    "vertical_speed"))


def new_bullet_world() -> BulletWorld:
    """A BulletWorld filtering by collision groups (needed for per-body layers and masks)."""
    page = loadPrcFileData("storm-physics", "bullet-filter-algorithm groups-mask")
    try:
        return BulletWorld()
    finally:
        unloadPrcFile(page)


class PhysicsSystem(System):
    """Simulates RigidBody, Collider, Trigger, CharacterController and Joint components with Bullet."""

    name = "physics"
    order = ORDER_PHYSICS

    def __init__(self, gravity: Sequence[float] | None = None) -> None:
        self.bullet = new_bullet_world()
        self.groups = CollisionGroups(self.bullet)
        self._default_gravity = tuple(float(g) for g in (gravity if gravity is not None else DEFAULT_GRAVITY))
        self._gravity_key: tuple[float, ...] = ()
        self._gravity = Vec3(*self._default_gravity)
        self._world: "World | None" = None
        self._bodies: dict[int, Body] = {}
        self._by_node: dict[PandaNode, Body] = {}
        self._member_owner: dict[int, int] = {}
        self._characters: list[Body] = []
        self._triggers: list[Body] = []
        self._joints: dict[int, tuple["BulletConstraint", int, int]] = {}
        self._dirty: set[int] = set()
        self._dirty_joints: set[int] = set()
        self._factory: BodyFactory | None = None
        self._motor: CharacterMotor | None = None
        self._tracker: ContactTracker | None = None
        self.queries = PhysicsQueries(self.bullet, self.groups, self._by_node)

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self, world: "World") -> None:
        self._world = world
        self._factory = BodyFactory(world, self.bullet, self.groups)
        self._motor = CharacterMotor(world, self.bullet, self.groups, self._by_node)
        self._tracker = ContactTracker(world, self.bullet, self._bodies, self._by_node)
        self._sync_gravity()
        self.listen(world, {ComponentAdded: self._on_added, ComponentRemoved: self._on_removed,
                            FieldChanged: self._on_changed, EntityDestroyed: self._on_destroyed},
                    (*BODY_COMPONENTS, Joint, Behaviour, MeshRenderer))

    def detach(self, world: "World") -> None:
        self.stop_listening()
        for eid in list(self._joints):
            self._drop_joint(eid)
        assert self._factory is not None
        for eid, body in sorted(self._bodies.items()):
            self._factory.remove(body, keep_entity=world.exists(eid))
        self._bodies.clear()
        self._by_node.clear()
        self._characters, self._triggers = [], []
        self._world = None

    # -- snapshots: a sync point (see sync_point.py) -------------------------------------------
    def save_state(self, world: "World") -> PhysicsState:
        """Capture what Bullet knows beyond the components, then rebuild Bullet from that capture
        alone, exactly as ``load_state`` will: contacts lose their warm starting for one tick."""
        self._ready()
        settle_nodes(self)
        state = capture(self)
        rebuild(self, state)
        return state

    def load_state(self, world: "World", state: PhysicsState | None) -> None:
        if state is not None:
            self._ready()
            apply(self, state)

    def _use_bullet(self, bullet: BulletWorld) -> None:
        """Switch every helper to another Bullet world (the sync point's fresh one)."""
        self.bullet = bullet
        self.groups.bind(bullet)
        self.queries._bullet = bullet
        for helper in (self._factory, self._motor, self._tracker):
            if helper is not None:
                helper.bullet = bullet

    # -- change tracking ------------------------------------------------------------------------
    def _on_added(self, event: ComponentAdded) -> None:
        component = event.component
        if isinstance(component, BODY_COMPONENTS):
            self._dirty.add(event.entity)
        elif isinstance(component, Joint):
            self._dirty_joints.add(event.entity)
        elif isinstance(component, Behaviour):
            self._update_listener(event.entity)

    def _on_removed(self, event: ComponentRemoved) -> None:
        self._on_added(ComponentAdded(event.entity, event.component))

    def _on_changed(self, event: FieldChanged) -> None:
        component = event.component
        if isinstance(component, CharacterController) and event.field in LIVE_CONTROLLER_FIELDS:
            return
        if isinstance(component, MeshRenderer):
            if event.field == "model" and self._world is not None and self._world.has(event.entity, Collider):
                self._dirty.add(event.entity)       # hull and mesh colliders follow the model
            return
        self._on_added(ComponentAdded(event.entity, component))

    def _on_destroyed(self, event: EntityDestroyed) -> None:
        eid = event.entity
        if eid in self._joints:
            self._drop_joint(eid)
        body = self._bodies.get(eid)
        if body is not None:
            self._drop_body(body, keep_entity=False)
        assert self._tracker is not None
        self._tracker.listeners.discard(eid)

    def _update_listener(self, eid: int) -> None:
        assert self._world is not None and self._tracker is not None
        listens = self._world.exists(eid) and any(
            isinstance(c, Behaviour) and any(defines(c, m) for m in COLLISION_METHODS)
            for c in self._world.components(eid))
        if listens:
            self._tracker.listeners.add(eid)
        else:
            self._tracker.listeners.discard(eid)

    def refresh(self, eid: int) -> None:
        """Rebuild an entity's body on the next tick (after changing fields without ``World.set_field``
        or reparenting a collider)."""
        self._dirty.add(eid)

    # -- building -------------------------------------------------------------------------------
    def flush(self) -> None:
        """Build, rebuild or remove the bodies and joints whose components changed."""
        world = self._world
        assert world is not None and self._factory is not None
        rebuilt = False
        for _ in range(MAX_FLUSH_ROUNDS):
            if not self._dirty:
                break
            dirty, self._dirty = self._dirty, set()
            owners: set[int] = set()
            for eid in dirty:
                previous = self._member_owner.pop(eid, None)
                if previous:
                    owners.add(previous)
                if world.exists(eid):
                    owner = owner_of(world, eid)
                    if owner:
                        owners.add(owner)
                    elif eid in self._bodies:
                        owners.add(eid)
            for owner in sorted(owners):
                self._rebuild(owner)
            rebuilt = rebuilt or bool(owners)
        if rebuilt:
            ordered = sorted(self._bodies.items())
            self._characters = [b for _, b in ordered if b.kind == CHARACTER]
            self._triggers = [b for _, b in ordered if b.kind == TRIGGER]
        joints, self._dirty_joints = self._dirty_joints, set()
        for eid in sorted(joints):
            self._build_joint(eid)

    def _ready(self) -> None:
        if self._dirty or self._dirty_joints:
            self.flush()

    def _rebuild(self, owner: int) -> None:
        world = self._world
        assert world is not None and self._factory is not None and self._tracker is not None
        self._release_joints_of(owner)
        old = self._bodies.pop(owner, None)
        if old is not None:
            self._by_node.pop(old.node, None)
            self._tracker.reporters.discard(owner)
        if not world.exists(owner):
            if old is not None:
                self._factory.remove(old, keep_entity=False)
            return
        body = self._factory.build(owner, old)
        members = set(body.members) if body is not None else set()
        if old is not None:
            # colliders that no longer belong here become bodies of their own (or join another)
            self._dirty.update(m for m in old.members if m != owner and m not in members)
        if body is None:
            return
        self._bodies[owner] = body
        self._by_node[body.node] = body
        for member in body.members:
            self._member_owner[member] = owner
            own = self._bodies.get(member) if member != owner else None
            if own is not None:
                self._drop_body(own, keep_entity=True)
        if body.reports:
            self._tracker.reporters.add(owner)
        for joint_eid, joint in world.all_of(Joint).items():
            if joint.target == owner or joint_eid == owner:
                self._dirty_joints.add(joint_eid)

    def _drop_body(self, body: Body, keep_entity: bool) -> None:
        assert self._factory is not None and self._tracker is not None
        self._release_joints_of(body.entity)
        self._bodies.pop(body.entity, None)
        self._by_node.pop(body.node, None)
        if body in self._characters:
            self._characters.remove(body)
        if body in self._triggers:
            self._triggers.remove(body)
        self._factory.remove(body, keep_entity)
        self._tracker.forget(body.entity)

    def _release_joints_of(self, owner: int) -> None:
        for joint_eid, (_constraint, a, b) in list(self._joints.items()):
            if owner in (a, b):
                self._drop_joint(joint_eid)
                self._dirty_joints.add(joint_eid)

    def _drop_joint(self, eid: int) -> None:
        record = self._joints.pop(eid, None)
        if record is not None:
            self.bullet.remove(record[0])

    def _build_joint(self, eid: int) -> None:
        world = self._world
        assert world is not None
        self._drop_joint(eid)
        joint = world.get(eid, Joint) if world.exists(eid) else None
        if joint is None:
            return
        constraint = build_joint(world, self.bullet, eid, joint, self._bodies)
        if constraint is not None:
            self._joints[eid] = (constraint, eid, joint.target)

    def _sync_gravity(self) -> None:
        world = self._world
        settings = world.settings.get("world") if world is not None else None
        wanted = getattr(settings, "gravity", None) or self._default_gravity
        key = tuple(wanted)
        if key == self._gravity_key:
            return
        self._gravity_key = key
        self._gravity = Vec3(*key)
        self.bullet.setGravity(self._gravity)
        if self._factory is not None:
            self._factory.gravity = Vec3(self._gravity)
            for body in self._bodies.values():
                if body.kind == DYNAMIC:
                    self._factory.apply_gravity(body)

    # -- the tick -------------------------------------------------------------------------------
    def update(self, world: "World", dt: float) -> None:
        self._sync_gravity()
        self._ready()
        if self._characters:
            motor, gravity = self._motor, self._gravity
            assert motor is not None
            for body in self._characters:
                controller = world.get(body.entity, CharacterController)
                if controller is not None:
                    motor.step(body, controller, dt, gravity)
        self.bullet.doPhysics(dt, 1, dt)
        tracker = self._tracker
        assert tracker is not None
        if self._triggers:
            tracker.scan_triggers(self._triggers)
        if tracker.reporters or tracker.listeners:
            tracker.scan_collisions()
        tracker.deliver()

    def step_character(self, eid: int, dt: float) -> bool:
        """Move one character by one tick now, as ``update`` would, without stepping Bullet (a
        network client replays its unacknowledged inputs this way); False when ``eid`` is none."""
        self._ready()
        body = self._bodies.get(eid)
        controller = self._world.get(eid, CharacterController) if self._world is not None else None
        if body is None or controller is None or body.kind != CHARACTER or self._motor is None:
            return False
        self._sync_gravity()
        self._motor.step(body, controller, dt, self._gravity)
        return True

    # -- bodies ---------------------------------------------------------------------------------
    def body(self, eid: int) -> Body | None:
        """The physics body record of an entity (built now if it is pending)."""
        self._ready()
        return self._bodies.get(eid)

    def body_count(self) -> int:
        return len(self._bodies)

    def attach_static(self, eid: int, node: BulletRigidBodyNode, layer: int = 0, mask: int = ALL_LAYERS,
                      surface: bool = False) -> None:
        """Simulate a static body another system built for entity ``eid`` (a terrain's surface, say;
        the node sits where it belongs in the scene graph): it collides by ``layer``/``mask`` and
        queries report it as ``eid``. ``surface``: a height surface (a terrain), which characters
        sweep with their capsule's end spheres when moving straight up or down (``character.py``).
        ``detach_static`` takes it out again."""
        from engine.physics.bodies import STATIC

        assert self._world is not None
        group = self.groups.group_for(layer, mask, fixed=True, surface=surface)
        group = self.groups.nearest_group(layer, True, surface) if group is None else group
        node.setIntoCollideMask(self.groups.into_mask(group))
        self._by_node[node] = Body(eid, STATIC, node, self._world.node(eid), group, attached=True)
        self.bullet.attach(node)

    def detach_static(self, node: BulletRigidBodyNode) -> None:
        """Take a body given to ``attach_static`` out of the simulation."""
        if self._by_node.pop(node, None) is not None:
            self.bullet.remove(node)

    def velocity(self, eid: int) -> tuple[float, float, float]:
        """Linear velocity of an entity's rigid body (zero for anything else)."""
        self._ready()
        body = self._bodies.get(eid)
        if body is None or not isinstance(body.node, BulletRigidBodyNode):
            return (0.0, 0.0, 0.0)
        return tuple(body.node.getLinearVelocity())  # type: ignore[return-value]

    def set_velocity(self, eid: int, velocity: Sequence[float]) -> None:
        body = self.body(eid)
        if body is not None and body.kind == DYNAMIC:
            body.node.setActive(True)
            body.node.setLinearVelocity(Vec3(*velocity))

    def apply_impulse(self, eid: int, impulse: Sequence[float], point: Sequence[float] | None = None) -> None:
        """Push a dynamic body: ``point`` (world space) defaults to its centre."""
        body = self.body(eid)
        if body is None or body.kind != DYNAMIC:
            return
        body.node.setActive(True)
        if point is None:
            body.node.applyCentralImpulse(Vec3(*impulse))
        else:
            offset = Point3(*point) - body.path.getPos(self._world.root)  # type: ignore[union-attr]
            body.node.applyImpulse(Vec3(*impulse), offset)

    # -- queries --------------------------------------------------------------------------------
    def raycast(self, start: Sequence[float], end: Sequence[float], layers: int = ALL_LAYERS, *,
                ignore: int | Iterable[int] | None = None, triggers: bool = False) -> RayHit | None:
        """The nearest hit along the segment (see ``PhysicsQueries.raycast``)."""
        self._ready()
        return self.queries.raycast(start, end, layers, ignore=ignore, triggers=triggers)

    def raycast_all(self, start: Sequence[float], end: Sequence[float], layers: int = ALL_LAYERS, *,
                    ignore: int | Iterable[int] | None = None, triggers: bool = False) -> list[RayHit]:
        self._ready()
        return self.queries.raycast_all(start, end, layers, ignore=ignore, triggers=triggers)

    def sweep(self, shape: ShapeSpec, start: Sequence[float], end: Sequence[float], layers: int = ALL_LAYERS, *,
              triggers: bool = False) -> RayHit | None:
        self._ready()
        return self.queries.sweep(shape, start, end, layers, triggers=triggers)

    def overlap(self, shape: ShapeSpec, center: Sequence[float], layers: int = ALL_LAYERS, *,
                rotation: Sequence[float] = (0.0, 0.0, 0.0), triggers: bool = False) -> list[int]:
        self._ready()
        return self.queries.overlap(shape, center, layers, rotation=rotation, triggers=triggers)

    # -- drawing between ticks ------------------------------------------------------------------
    def moving_bodies(self) -> list[int]:
        """Entities whose bodies can move from tick to tick (dynamic, kinematic, character), by id;
        what a renderer interpolates. Recomputed only after bodies were rebuilt or dropped (a
        rebuild makes a new ``_characters`` list, a drop shrinks ``_bodies``), so static bodies
        cost nothing per tick."""
        cached = getattr(self, "_moving", None)
        if cached is None or cached[0] is not self._characters or cached[1] != len(self._bodies):
            moving = [eid for eid, body in sorted(self._bodies.items()) if body.kind in (DYNAMIC, KINEMATIC, CHARACTER)]
            self._moving = cached = (self._characters, len(self._bodies), moving)
        return cached[2]
