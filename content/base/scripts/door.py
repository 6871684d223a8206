"""Doors for level building: ``TriggeredDoor`` opens while someone stands in a trigger volume.

Put it on a door entity that is a kinematic RigidBody with a box Collider and a MeshRenderer,
and point ``trigger`` at an entity with a Trigger (and a Collider) around the doorway. The door
slides by ``open_offset`` and/or turns by ``open_angle`` about its own up axis (its origin is the
hinge), eased in and out, one fixed tick at a time. See docs/level-pieces.md.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from panda3d.core import Point3, Quat, Vec3

from engine.api import (
    Behaviour,
    Component,
    ComponentName,
    EntityRef,
    Field,
    Float,
    Trigger,
    TriggerEntered,
    TriggerExited,
    play_sound,
    trigger_occupants,
)
from engine.api import Vec3 as Vec3Field

log = logging.getLogger("storm.scripts")


class TriggeredDoor(Behaviour):
    """Opens when the first opener enters ``trigger``'s volume, closes when the last one has left.

    Openers are entities with the ``opened_by`` component (a CharacterController by default).
    Someone else entering while the door is open does not open it again; the next opening comes
    after everyone has left. An AudioSource on the door plays as it starts to open and to close.
    Changing ``trigger`` or ``opened_by`` while the world runs takes effect on the next update.
    """

    trigger = Field(EntityRef(requires=("Trigger",)), 0, doc="the entity whose Trigger volume opens the door")
    open_offset = Field(Vec3Field(-1e4, 1e4), (2.0, 0.0, 0.0),
                        doc="metres the door moves when open, along its own axes (its rotation, not its scale)")
    open_angle = Field(Float(-360.0, 360.0), 0.0, doc="degrees the door turns about its own up axis when open")
    speed = Field(Float(0.01, 1000.0), 2.0, doc="metres per second along open_offset")
    turn_speed = Field(Float(0.01, 36000.0), 90.0, doc="degrees per second while turning")
    opened_by = Field(ComponentName(), "CharacterController",
                      doc="component an entity needs to open the door, as named in world files "
                          "(e.g. 'base:player.PlayerMover'); empty: anything the trigger sees")

    def on_start(self) -> None:
        self.openness = 0.0            # 0 closed .. 1 open, before easing
        self.opening = False           # where the door is heading
        self.open_count = 0            # how many times it has started to open
        self.problem = ""              # why the door stays shut, when it does
        self._inside: set[int] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self._closed_pos = Point3(self.node.getPos())
        self._closed_quat = Quat(self.node.getQuat())
        self._watch()

    def on_destroy(self) -> None:
        self._stop_listening()

    def load_state(self, state: dict[str, Any]) -> None:
        """After a snapshot restore: the plain state (openness, who is inside...) comes back through
        the default hook; the live parts are set up again to match it without side effects: the
        opener type, and the trigger subscriptions, which a watching door without a problem has."""
        super().load_state(state)
        watching = getattr(self, "_watching", None)
        if watching is None:
            return                             # not started at the snapshot: on_start comes next
        self._opener = self.world.registry.get(watching[1]) if watching[1] else None
        listening = not self.problem
        if listening and not getattr(self, "_unsubscribe", None):
            self._subscribe()
        elif not listening:
            self._stop_listening()

    def _watch(self) -> None:
        """Check ``trigger`` and ``opened_by`` as they are now and listen to that trigger; whoever
        is already inside it counts, so the door opens or closes to match."""
        self._watching = (self.trigger, self.opened_by)
        self.problem = ""
        self._opener = self._opener_type()
        was_occupied = bool(self._inside)
        self._inside = set()
        self._stop_listening()
        if not self.problem and self._trigger_ok():
            self._subscribe()
            self._inside = {eid for eid in self._occupants() if eid != self.entity and self._opens(eid)}
        if self._inside and not was_occupied:
            self._head(True)
        elif was_occupied and not self._inside:
            self._head(False)

    def _subscribe(self) -> None:
        bus = self.world.events
        # looked up on the class at each event, so a hot reload's new code handles them
        self._unsubscribe = [bus.subscribe(TriggerEntered, lambda event: self._entered(event)),
                             bus.subscribe(TriggerExited, lambda event: self._exited(event))]

    def _occupants(self) -> set[int]:
        return trigger_occupants(self.world, self.trigger)

    def _stop_listening(self) -> None:
        for unsubscribe in getattr(self, "_unsubscribe", ()):
            unsubscribe()
        self._unsubscribe = []

    @property
    def is_open(self) -> bool:
        """Fully open."""
        return self.openness >= 1.0

    @property
    def is_closed(self) -> bool:
        """Fully shut."""
        return self.openness <= 0.0

    # -- who is in the doorway ------------------------------------------------------------------
    def _entered(self, event: TriggerEntered) -> None:
        if event.trigger != self.trigger or event.entity == self.entity or not self._opens(event.entity):
            return
        if not self._inside:
            self._head(True)
        self._inside.add(event.entity)

    def _exited(self, event: TriggerExited) -> None:
        if event.trigger != self.trigger or event.entity not in self._inside:
            return
        self._inside.discard(event.entity)
        if not self._inside:
            self._head(False)

    def _opens(self, entity: int) -> bool:
        return self._opener is None or self.world.has(entity, self._opener)

    def _head(self, opening: bool) -> None:
        self.opening = opening
        if opening:
            self.open_count += 1
        play_sound(self.world, self.entity)

    # -- moving ---------------------------------------------------------------------------------
    def on_update(self, dt: float) -> None:
        if (self.trigger, self.opened_by) != getattr(self, "_watching", None):
            self._watch()                  # changed while running (or code from before this check)
        if self._inside and not self.world.has(self.trigger, Trigger):
            self._inside.clear()
            self._head(False)
        target = 1.0 if self.opening else 0.0
        if self.openness == target:
            return
        step = self._rate() * dt
        self.openness = min(target, self.openness + step) if self.opening else max(target, self.openness - step)
        eased = self.openness * self.openness * (3.0 - 2.0 * self.openness)
        turn = Quat()
        turn.setHpr(Vec3(self.open_angle * eased, 0.0, 0.0))
        self.node.setPos(self._closed_pos + self._closed_quat.xform(Vec3(*self.open_offset)) * eased)
        self.node.setQuat(turn * self._closed_quat)

    def _rate(self) -> float:
        """Fraction of the full motion per second: the slower of sliding and turning sets it."""
        rates = []
        distance = Vec3(*self.open_offset).length()
        if distance > 0:
            rates.append(self.speed / distance)
        if self.open_angle:
            rates.append(self.turn_speed / abs(self.open_angle))
        return min(rates) if rates else float("inf")

    # -- checking the fields --------------------------------------------------------------------
    def _trigger_ok(self) -> bool:
        eid = self.trigger
        if not eid:
            why = "the field is 0 (none)"
        elif not self.world.exists(eid):
            why = f"entity {eid} does not exist"
        elif not self.world.has(eid, Trigger):
            why = f"entity {eid} ({self.world.name_of(eid)!r}) has no Trigger component"
        else:
            return True
        self._report("trigger", "an entity with a Trigger (and a Collider) around the doorway", why)
        return False

    def _opener_type(self) -> type[Component] | None:
        if not self.opened_by:
            return None
        try:
            return self.world.registry.resolve(self.opened_by)
        except LookupError:
            self._report("opened_by", "a component type name as in world files, like 'CharacterController'",
                         f"{self.opened_by!r} is not one")
            return None

    def _report(self, field: str, expected: str, why: str) -> None:
        self.problem = (f"entity {self.entity} ({self.world.name_of(self.entity)!r}) {self.type_name}.{field}: "
                        f"expected {expected}; {why}; the door stays shut")
        log.error(self.problem)
