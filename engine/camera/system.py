"""The CameraSystem: places first-person, third-person and orbit cameras each tick, after physics.

Each moving camera has a ``CameraRig``: yaw, pitch, the point it follows and its current
distance. That is runtime state, not saved: it starts from the camera entity's own heading and
pitch (first person: the target's heading) and is turned by the ``look`` action on the camera that
is the view, read from the input owner of the entity it follows. Everything here is per-tick arithmetic, Bullet rays and the fixed ``dt``, so a replay
places cameras exactly as the session did. Behaviours find the camera that follows their entity
with ``follow_view(world, entity)``. See docs/camera.md.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from panda3d.core import Point3, Vec3

from engine.camera.components import FIRST_PERSON, FOLLOW_MODES, MOVING_MODES, ORBIT, Camera, active_camera
from engine.core.events import ComponentRemoved, EntityDestroyed, FieldChanged
from engine.core.system import ORDER_CAMERA, System
from engine.input.input_system import InputSystem
from engine.physics.bodies import owner_of
from engine.physics.system import PhysicsSystem

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.camera")
LOOK_ACTION = "look"
RELEASE_ACTION = "pause"        # lets go of a captured pointer, and takes it back
RESTART_FIELDS = frozenset(("mode", "target"))


@dataclass
class CameraRig:
    """The runtime state of one moving camera (not saved): where it looks, the point it follows
    (smoothed) and how far from it the camera is (after walls pulled it in)."""

    mode: str
    yaw: float
    pitch: float
    pivot: Point3
    distance: float


@dataclass(frozen=True)
class CameraView:
    """What a behaviour needs from the camera following its entity: which camera, its mode, its angles."""

    camera: int
    mode: str
    yaw: float
    pitch: float


def forward(yaw: float, pitch: float) -> Vec3:
    """The unit direction a camera with this heading and pitch (degrees, Panda3D's HPR) looks along."""
    h, p = math.radians(yaw), math.radians(pitch)
    return Vec3(-math.sin(h) * math.cos(p), math.cos(h) * math.cos(p), math.sin(p))


def planar(yaw: float, x: float, y: float) -> tuple[float, float]:
    """A direction given as (x right, y forward) of heading ``yaw``, in world x and y."""
    h = math.radians(yaw)
    c, s = math.cos(h), math.sin(h)
    return x * c - y * s, x * s + y * c


def heading_of(x: float, y: float) -> float:
    """The heading (degrees) that faces along world direction (x, y)."""
    return math.degrees(math.atan2(-x, y))


def wrap_degrees(angle: float) -> float:
    """The same angle in [-180, 180)."""
    return (angle + 180.0) % 360.0 - 180.0


def turn_towards(current: float, goal: float, max_step: float) -> float:
    """Turn ``current`` towards ``goal`` the short way round by at most ``max_step`` degrees."""
    gap = wrap_degrees(goal - current)
    if abs(gap) <= max_step:
        return wrap_degrees(goal)
    return wrap_degrees(current + math.copysign(max_step, gap))


def smoothing_factor(smoothing: float, dt: float) -> float:
    """The share of a gap closed in one tick of ``dt`` with a time constant of ``smoothing`` seconds."""
    return 1.0 if smoothing <= 0.0 else 1.0 - math.exp(-dt / smoothing)


class CameraSystem(System):
    """Places every Camera whose mode is first_person, third_person or orbit, once per tick."""

    name = "camera"
    order = ORDER_CAMERA

    def __init__(self) -> None:
        self._world: "World | None" = None
        self._rigs: dict[int, CameraRig] = {}
        self._problems: dict[int, str] = {}      # camera -> the problem last reported for it
        self._captured: Any = None               # the input source whose pointer this system holds
        self._released = False                   # the player let go of the pointer (pause)

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self, world: "World") -> None:
        self._world = world
        self.listen(world, {ComponentRemoved: self._on_removed, EntityDestroyed: self._on_destroyed,
                            FieldChanged: self._on_changed}, (Camera,))

    def detach(self, world: "World") -> None:
        self.stop_listening()
        if self._captured is not None:
            self._captured.set_capture(False)
            self._captured = None
        self.reset()
        self._world = None

    def reset(self) -> None:
        """Forget every camera's yaw, pitch and followed point (a view jump, a teleport):
        each starts again from its entity's transform on the next tick."""
        self._rigs.clear()
        self._problems.clear()

    def save_state(self, world: "World") -> dict[str, Any]:
        """Each moving camera's yaw, pitch, smoothed point and distance, the problems already
        reported, and whether the player let go of the pointer."""
        rigs = {eid: (rig.mode, rig.yaw, rig.pitch, tuple(rig.pivot), rig.distance) for eid, rig in self._rigs.items()}
        return {"rigs": rigs, "problems": dict(self._problems), "released": self._released}

    def load_state(self, world: "World", state: dict[str, Any] | None) -> None:
        if state is None:
            return
        self._rigs = {eid: CameraRig(mode, yaw, pitch, Point3(*pivot), distance)
                      for eid, (mode, yaw, pitch, pivot, distance) in state["rigs"].items()}
        self._problems = dict(state["problems"])
        self._released = state["released"]

    def _on_removed(self, event: ComponentRemoved) -> None:
        if isinstance(event.component, Camera):
            self._rigs.pop(event.entity, None)
            self._problems.pop(event.entity, None)

    def _on_destroyed(self, event: EntityDestroyed) -> None:
        self._rigs.pop(event.entity, None)
        self._problems.pop(event.entity, None)

    def _on_changed(self, event: FieldChanged) -> None:
        if isinstance(event.component, Camera) and event.field in RESTART_FIELDS:
            self._rigs.pop(event.entity, None)   # a new mode or target starts from where the camera is

    # -- what behaviours read -------------------------------------------------------------------
    def rig(self, eid: int) -> CameraRig | None:
        """The runtime state of a moving camera (started on first use), or None when the camera is
        fixed, gone, or its fields are unusable (reported once)."""
        world = self._world
        camera = world.get(eid, Camera) if world is not None else None
        if world is None or camera is None or camera.mode not in MOVING_MODES:
            return None
        if not self._usable(world, eid, camera):
            return None
        rig = self._rigs.get(eid)
        if rig is None or rig.mode != camera.mode:
            rig = self._rigs[eid] = self._start(world, eid, camera)
        return rig

    def view_of(self, target: int) -> CameraView | None:
        """The enabled first- or third-person camera following ``target`` (the highest priority
        when there are several), as its mode and angles; None when none follows it."""
        world = self._world
        if world is None or not target:
            return None
        best, best_priority = 0, None
        for eid, camera in world.query(Camera):
            if (camera.active and camera.mode in FOLLOW_MODES and camera.target == target
                    and (best_priority is None or camera.priority > best_priority)):
                best, best_priority = eid, camera.priority
        rig = self.rig(best) if best else None
        return CameraView(best, rig.mode, rig.yaw, rig.pitch) if rig is not None else None

    # -- the tick -------------------------------------------------------------------------------
    def update(self, world: "World", dt: float) -> None:
        view = active_camera(world)
        look = self._look(world, view)
        physics = world.system(PhysicsSystem)
        for eid, camera in world.query(Camera):
            if camera.mode not in MOVING_MODES:
                self._rigs.pop(eid, None)
                self._problems.pop(eid, None)
                continue
            rig = self.rig(eid)
            if rig is None:
                continue                          # bad fields: reported, the camera stays where it is
            self._turn(rig, camera, look if eid == view else (0.0, 0.0), dt)
            self._place(world, eid, camera, rig, physics, dt)
        self._sync_capture(world, view)

    def _start(self, world: "World", eid: int, camera: Camera) -> CameraRig:
        root = world.root
        yaw, pitch, _roll = world.node(eid).getHpr(root)
        if camera.mode == FIRST_PERSON:
            yaw = world.node(camera.target).getH(root)
        pitch = min(max(pitch, camera.pitch_min), camera.pitch_max)
        distance = min(max(camera.distance, camera.min_distance), camera.max_distance)
        return CameraRig(camera.mode, wrap_degrees(yaw), pitch, self._goal(world, camera), distance)

    @staticmethod
    def _look(world: "World", view: int) -> tuple[float, float]:
        """This tick's look input, for the camera that is the view (when it takes look input): from
        the input owner of the entity it follows (the camera's own owner when it follows none)."""
        camera = world.get(view, Camera) if view else None
        system = world.system(InputSystem)
        if camera is None or system is None or camera.mode not in MOVING_MODES or camera.look_sensitivity <= 0:
            return 0.0, 0.0
        return system.actions_for(camera.target or view).vector(LOOK_ACTION)

    @staticmethod
    def _turn(rig: CameraRig, camera: Camera, look: tuple[float, float], dt: float) -> None:
        look_x, look_y = look
        if look_x or look_y:
            rig.yaw -= look_x * camera.look_sensitivity   # look right turns clockwise seen from above
            rig.pitch += (-look_y if camera.invert_pitch else look_y) * camera.look_sensitivity
        if camera.mode == ORBIT:
            rig.yaw += camera.auto_rotate * dt
        rig.yaw = wrap_degrees(rig.yaw)
        rig.pitch = min(max(rig.pitch, camera.pitch_min), camera.pitch_max)

    @staticmethod
    def _goal(world: "World", camera: Camera) -> Point3:
        """The point followed: the target's origin raised by ``height``, or the orbit point."""
        if camera.target:
            return world.node(camera.target).getPos(world.root) + Vec3(0.0, 0.0, camera.height)
        return Point3(*camera.orbit_point)

    def _place(self, world: "World", eid: int, camera: Camera, rig: CameraRig, physics: PhysicsSystem | None,
               dt: float) -> None:
        root = world.root
        follow = smoothing_factor(camera.smoothing, dt)
        goal = self._goal(world, camera)
        rig.pivot = goal if follow >= 1.0 else rig.pivot + (goal - rig.pivot) * follow
        hpr = Vec3(rig.yaw, rig.pitch, 0.0)
        if camera.mode == FIRST_PERSON:
            world.node(camera.target).setH(root, rig.yaw)   # first: the camera may be the target's child
            world.node(eid).setPosHpr(root, rig.pivot, hpr)
            return
        direction = forward(rig.yaw, rig.pitch)
        wanted = min(max(camera.distance, camera.min_distance), camera.max_distance)
        clear = self._clear_distance(world, eid, camera, rig.pivot, direction, wanted, physics)
        if clear < wanted and clear < rig.distance:
            rig.distance = clear                  # a wall: in front of it at once, never through it
        else:
            rig.distance += (clear - rig.distance) * follow
        world.node(eid).setPosHpr(root, rig.pivot - direction * rig.distance, hpr)

    @staticmethod
    def _clear_distance(world: "World", eid: int, camera: Camera, pivot: Point3, direction: Vec3, wanted: float,
                        physics: PhysicsSystem | None) -> float:
        """How far back from ``pivot`` the camera can be before something other than its target is in the way."""
        if not camera.collide or physics is None or wanted <= 0.0:
            return wanted
        ignore = {eid}
        if camera.target:
            ignore.add(camera.target)
            owner = owner_of(world, camera.target)
            if owner:
                ignore.add(owner)
        end = pivot - direction * (wanted + camera.collide_radius)
        hit = physics.raycast(pivot, end, camera.collide_mask, ignore=ignore)
        if hit is None:
            return wanted
        return max(0.0, min(wanted, hit.distance - camera.collide_radius))

    # -- bad input ------------------------------------------------------------------------------
    def _usable(self, world: "World", eid: int, camera: Camera) -> bool:
        problem = self._problem(world, eid, camera)
        if problem is None:
            self._problems.pop(eid, None)
            return True
        if self._problems.get(eid) != problem:
            self._problems[eid] = problem
            log.error("camera: entity %d (%s) %s; the camera stays where it is",
                      eid, world.name_of(eid) or "unnamed", problem)
        return False

    @staticmethod
    def _problem(world: "World", eid: int, camera: Camera) -> str | None:
        """What is wrong with a moving camera's fields, as ``Camera.<field>: ...``, or None."""
        if camera.pitch_min > camera.pitch_max:
            return (f"Camera.pitch_min: {camera.pitch_min:g} is above Camera.pitch_max {camera.pitch_max:g}; "
                    "expected pitch_min <= pitch_max")
        if camera.min_distance > camera.max_distance:
            return (f"Camera.min_distance: {camera.min_distance:g} is above Camera.max_distance "
                    f"{camera.max_distance:g}; expected min_distance <= max_distance")
        target = camera.target
        if target == eid:
            return f"Camera.target: {target} is the camera itself; expected another entity to follow"
        if not target:
            if camera.mode in FOLLOW_MODES:
                return f"Camera.target: mode {camera.mode!r} follows an entity; expected that entity's id, not 0"
            return None
        if not world.exists(target):
            return (f"Camera.target: entity {target} does not exist (never created, or destroyed); "
                    "expected the id of an entity in this world")
        if world.node(eid).isAncestorOf(world.node(target)):
            return (f"Camera.target: entity {target} is a child of the camera, so placing the camera would move it "
                    "too; expected an entity outside the camera")
        return None

    # -- the pointer ----------------------------------------------------------------------------
    def _sync_capture(self, world: "World", view: int) -> None:
        """Hold the pointer (relative mouse-look) while the view is a camera that takes look input,
        if the input source can; the pause action lets go of it and takes it back."""
        system = world.system(InputSystem)
        source = system.source if system is not None else None
        if self._captured is not None and self._captured is not source:
            self._captured.set_capture(False)    # the input source was swapped: give the old one its pointer back
            self._captured = None
        if not callable(getattr(source, "set_capture", None)):
            return
        camera = world.get(view, Camera) if view else None
        wants = (camera is not None and camera.mode in MOVING_MODES and camera.capture_mouse
                 and camera.look_sensitivity > 0)
        actions = world.services.get("input")
        if wants and actions is not None and actions.map.kind(RELEASE_ACTION) == "button" \
                and actions.pressed(RELEASE_ACTION):
            self._released = not self._released
        wants = wants and not self._released
        holding = self._captured is source
        if wants and not holding:
            source.set_capture(True)  # type: ignore[union-attr]
            self._captured = source
        elif not wants and holding:
            source.set_capture(False)  # type: ignore[union-attr]
            self._captured = None


def follow_view(world: "World", target: int) -> CameraView | None:
    """The first- or third-person camera following ``target`` in ``world``, or None (no such
    camera, no CameraSystem, or the camera's fields are unusable)."""
    system = world.system(CameraSystem)
    return system.view_of(target) if system is not None else None
