"""Physics components: rigid bodies, colliders, triggers, character controllers and joints.

An entity with a ``Collider`` and nothing else is a static body. Colliders on child entities
(without a body of their own) are extra shapes of the nearest ancestor's RigidBody or Trigger,
so one body can have several shapes.
"""
from __future__ import annotations

from engine.core.component import Component
from engine.core.fields import AssetRef, Bool, EntityRef, Enum, Field, Flags, Float, Int, Replication, Vec3

ALL_LAYERS = 0xFFFFFFFF
COLLIDER_SHAPES = ("box", "sphere", "capsule", "cylinder", "hull", "mesh", "heightfield")
JOINT_KINDS = ("hinge", "ball", "fixed", "slider")


class RigidBody(Component):
    """Makes the entity a simulated body. Its shapes come from Colliders on it and on its children.

    Dynamic bodies move the entity; kinematic bodies follow the entity's transform and push
    dynamic bodies out of their way; ``mass`` 0 (not kinematic) makes a static body.
    """

    mass = Field(Float(0.0, 1e6), 1.0, doc="0 makes the body static", unit="kg")
    friction = Field(Float(0.0, 100.0), 0.5, doc="surface friction coefficient")
    restitution = Field(Float(0.0, 1.0), 0.0, doc="bounciness: 0 absorbs, 1 bounces back fully")
    linear_damping = Field(Float(0.0, 1.0), 0.0, doc="fraction of linear speed lost per second")
    angular_damping = Field(Float(0.0, 1.0), 0.05, doc="fraction of spin lost per second")
    kinematic = Field(Bool(), False, doc="moved by its transform (scripts, animation), not by forces")
    gravity_scale = Field(Float(-100.0, 100.0), 1.0, doc="multiplies the world's gravity for this body")
    ccd = Field(Bool(), False, doc="continuous collision detection: fast bodies do not pass through thin ones")


class Collider(Component):
    """A collision shape, placed at ``offset``/``rotation`` in the entity's space.

    Sizes follow the primitives: box ``size`` is the full size; sphere, capsule and cylinder use
    ``radius``; capsule ``height`` includes the caps. ``hull`` and ``mesh`` take their geometry
    from the entity's MeshRenderer model (``mesh`` only on static or kinematic bodies);
    ``heightfield`` reads a grey image (white = ``size`` z) spread over ``size`` x and y.
    """

    shape = Field(Enum(COLLIDER_SHAPES), "box", doc="the kind of shape")
    size = Field(Vec3(0.0, 1e5), (1.0, 1.0, 1.0), doc="box: full size; heightfield: x, y extent and height")
    radius = Field(Float(0.0, 1e5), 0.5, doc="sphere, capsule and cylinder radius")
    height = Field(Float(0.0, 1e5), 1.0, doc="capsule (caps included) and cylinder height, along Z")
    offset = Field(Vec3(-1e5, 1e5), (0.0, 0.0, 0.0), doc="shape position in the entity's space")
    rotation = Field(Vec3(-360.0, 360.0), (0.0, 0.0, 0.0), doc="shape heading, pitch, roll in degrees")
    heightfield = Field(AssetRef("image", allow_empty=True), "",
                        doc="heightfield: image asset id such as 'pack:terrain/height.png'")
    layer = Field(Int(0, 31), 0, doc="the collision layer this body is on", replicate=True, group="collision")
    mask = Field(Flags(32), ALL_LAYERS, doc="bit i set: collides with layer i", replicate=True, group="collision")
    report_collisions = Field(Bool(), False, doc="emit Collision events for this body's contacts")


class Trigger(Component):
    """Turns the entity's Colliders into a trigger volume: nothing bumps into it, it reports
    bodies and characters entering and leaving (TriggerEntered/TriggerExited, on_trigger_enter/exit)."""

    exact = Field(Bool(), True, doc="test real shapes, not just bounding boxes")


class CharacterController(Component):
    """A walking capsule moved by sweeps: walks, runs, jumps, climbs steps and walkable slopes,
    and pushes dynamic bodies. The entity's origin is at its feet.

    Input fields (``move``, ``run``, ``jump``) are set by scripts or input actions each tick;
    ``jump`` is consumed. ``grounded`` and ``vertical_speed`` are state the controller writes.
    """

    radius = Field(Float(0.05, 100.0), 0.4, doc="capsule radius")
    height = Field(Float(0.1, 100.0), 1.8, doc="capsule height, caps included")
    walk_speed = Field(Float(0.0, 1000.0), 4.0, doc="metres per second when walking")
    run_speed = Field(Float(0.0, 1000.0), 8.0, doc="metres per second when running")
    jump_speed = Field(Float(0.0, 1000.0), 5.0, doc="upward speed when a jump starts")
    slope_limit = Field(Float(0.0, 89.0), 45.0, doc="steepest walkable slope in degrees")
    step_height = Field(Float(0.0, 10.0), 0.35, doc="tallest step climbed without jumping")
    gravity_scale = Field(Float(-100.0, 100.0), 1.0, doc="multiplies the world's gravity")
    push_force = Field(Float(0.0, 1e6), 300.0, doc="newtons pushing dynamic bodies in the way (0: none)")
    layer = Field(Int(0, 31), 0, doc="the collision layer the character is on")
    mask = Field(Flags(32), ALL_LAYERS, doc="bit i set: collides with layer i")
    move = Field(Vec3(-1e3, 1e3), (0.0, 0.0, 0.0), doc="desired direction (x, y); length above 1 is cut to 1",
                 saved=False, group="input", replicate=Replication(0.01, "owner"))
    local = Field(Bool(), False, doc="move is relative to the entity's heading rather than the world")
    run = Field(Bool(), False, doc="use run_speed", saved=False, group="input", replicate=Replication(authority="owner"))
    jump = Field(Bool(), False, doc="jump on the next tick if grounded (the controller clears it)", saved=False,
                 group="input", replicate=Replication(authority="owner"))
    grounded = Field(Bool(), False, doc="standing on walkable ground (written by the controller)",
                     editable=False, saved=False, group="state", replicate=True)
    vertical_speed = Field(Float(-1e6, 1e6), 0.0, doc="current upward speed (written by the controller)",
                           editable=False, saved=False, group="state", unit="m/s", replicate=Replication(0.01))


class Joint(Component):
    """Connects this entity's RigidBody to ``target``'s body (0: to a fixed point in the world).

    ``anchor`` and ``axis`` are in this entity's space. Limits: hinge in degrees around the axis,
    slider in metres along it, ball: ``limit_max`` is the swing cone half-angle in degrees.
    """

    kind = Field(Enum(JOINT_KINDS), "hinge", doc="hinge, ball, fixed or slider")
    target = Field(EntityRef(requires=("RigidBody",)), 0,
                   doc="the entity whose body this one is joined to (0: the world)")
    anchor = Field(Vec3(-1e5, 1e5), (0.0, 0.0, 0.0), doc="joint point in this entity's space")
    axis = Field(Vec3(-1.0, 1.0), (0.0, 0.0, 1.0), doc="hinge or slider axis in this entity's space")
    limits = Field(Bool(), False, doc="apply limit_min and limit_max")
    limit_min = Field(Float(-1e5, 1e5), -45.0, doc="lower limit (degrees for hinge, metres for slider)")
    limit_max = Field(Float(-1e5, 1e5), 45.0, doc="upper limit (degrees for hinge and ball, metres for slider)")
    collide_connected = Field(Bool(), False, doc="let the two joined bodies collide with each other")
    break_impulse = Field(Float(0.0, 1e9), 0.0, doc="impulse that breaks the joint (0: unbreakable)")


PHYSICS_COMPONENTS = (RigidBody, Collider, Trigger, CharacterController, Joint)
