"""The Camera component: a viewpoint the screen can show, standing still or following an entity.

``mode`` picks what moves the camera. ``fixed`` (the default) leaves the entity's transform
alone; the other modes are placed every tick by the CameraSystem (``engine/camera/system.py``)
from the ``target`` entity and the ``look`` input action. See docs/camera.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.component import Component
from engine.core.fields import Bool, EntityRef, Enum, Field, Flags, Float, Int, Vec3
from engine.physics.components import ALL_LAYERS

if TYPE_CHECKING:
    from engine.core.world import World

FIXED, FIRST_PERSON, THIRD_PERSON, ORBIT = "fixed", "first_person", "third_person", "orbit"
CAMERA_MODES = (FIXED, FIRST_PERSON, THIRD_PERSON, ORBIT)
FOLLOW_MODES = (FIRST_PERSON, THIRD_PERSON)    # need a target; the player walks relative to them
MOVING_MODES = (FIRST_PERSON, THIRD_PERSON, ORBIT)
PITCH_LIMIT = 89.0


class Camera(Component):
    """A viewpoint; the active one with the highest priority is what the screen shows.

    In ``first_person``, ``third_person`` and ``orbit`` mode the CameraSystem places the entity
    each tick, after physics: yaw and pitch come from the ``look`` action (on the camera that is
    the view) and are runtime state, not saved; they start from the entity's own heading and
    pitch (first person: from the target's heading).
    """

    fov = Field(Float(10.0, 170.0), 60.0, doc="horizontal field of view in degrees")
    near = Field(Float(0.001, 100.0), 0.1, doc="near clip distance")
    far = Field(Float(1.0, 100000.0), 1000.0, doc="far clip distance")
    active = Field(Bool(), True, doc="can be the view")
    priority = Field(Int(-100, 100), 0, doc="the highest-priority active camera wins")
    mode = Field(Enum(CAMERA_MODES), FIXED,
                 doc="fixed: stays where it is placed; first_person: at the target's eyes, turning it; "
                     "third_person: behind and above the target; orbit: circles the target (or orbit_point)")
    target = Field(EntityRef(), 0,
                   doc="the entity followed (first/third person: required; orbit: 0 circles orbit_point)")
    height = Field(Float(-100.0, 100.0), 1.6,
                   doc="metres above the target's origin: first person: eye height; third person and orbit: "
                       "the point looked at")
    distance = Field(Float(0.0, 1000.0), 5.0,
                     doc="third person and orbit: metres from the point looked at, kept within "
                         "[min_distance, max_distance]")
    min_distance = Field(Float(0.0, 1000.0), 1.0,
                         doc="third person and orbit: the closest distance may be set to (walls may pull the "
                             "camera closer still)")
    max_distance = Field(Float(0.0, 1000.0), 20.0, doc="third person and orbit: the farthest distance may be set to")
    pitch_min = Field(Float(-PITCH_LIMIT, PITCH_LIMIT), -70.0,
                      doc="lowest pitch in degrees (negative looks down); at most pitch_max")
    pitch_max = Field(Float(-PITCH_LIMIT, PITCH_LIMIT), 70.0,
                      doc="highest pitch in degrees (positive looks up); at least pitch_min")
    look_sensitivity = Field(Float(0.0, 100.0), 10.0,
                             doc="degrees turned per unit of the look action in one tick (0: ignores look input)")
    invert_pitch = Field(Bool(), False, doc="look input up turns the view down")
    smoothing = Field(Float(0.0, 10.0), 0.0,
                      doc="seconds the followed point takes to close about 63% of a gap (0: rigid); worked out "
                          "per tick, so runs are reproducible")
    collide = Field(Bool(), True,
                    doc="third person and orbit: pull the camera in front of walls between it and the target")
    collide_radius = Field(Float(0.0, 10.0), 0.2, doc="metres kept between the camera and a wall it was pulled to")
    collide_mask = Field(Flags(32), ALL_LAYERS, doc="bit i set: bodies on collision layer i block the camera")
    auto_rotate = Field(Float(-3600.0, 3600.0), 0.0,
                        doc="orbit: degrees per second the camera circles by itself (positive: counter-clockwise "
                            "seen from above)")
    orbit_point = Field(Vec3(-1e5, 1e5), (0.0, 0.0, 0.0), doc="orbit without a target: the world point circled")
    capture_mouse = Field(Bool(), True,
                          doc="in a window, while this camera is the view and takes look input: hide the pointer "
                              "and hold it in the window (the pause action lets go)")


def active_camera(world: "World") -> int:
    """The entity of the active camera with the highest priority (ties: the first added), or 0."""
    best, best_key = 0, None
    for eid, camera in world.query(Camera):
        if camera.active and (best_key is None or camera.priority > best_key):
            best, best_key = eid, camera.priority
    return best
