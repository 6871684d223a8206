"""Contact and trigger bookkeeping after each Bullet step, and delivery of the resulting events.

Collision events cost a scan over Bullet's contact manifolds (about a microsecond per touching
pair), so the scan only runs while some body reports collisions: a Collider with
``report_collisions`` on, or an entity whose behaviour defines ``on_collision`` or
``on_collision_end``.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from panda3d.bullet import BulletWorld
from panda3d.core import PandaNode

from engine.physics.bodies import DYNAMIC, STATIC, TRIGGER, Body
from engine.physics.events import Collision, CollisionEnded, TriggerEntered, TriggerExited
from engine.scripting.behaviour import Behaviour

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.physics")
COLLISION_METHODS = ("on_collision", "on_collision_end")
TOUCH_DISTANCE = 0.001   # contact points farther apart than this are near misses, not touches


def defines(behaviour: Behaviour, method: str) -> bool:
    """Whether a behaviour's class provides ``method`` (the base class has none of these)."""
    return callable(getattr(type(behaviour), method, None))


class ContactTracker:
    """Turns Bullet's contact state into enter/exit events for collisions and triggers."""

    def __init__(self, world: "World", bullet: BulletWorld, bodies: dict[int, Body],
                 by_node: dict[PandaNode, Body]) -> None:
        self.world = world
        self.bullet = bullet
        self.bodies = bodies
        self.by_node = by_node
        self.reporters: set[int] = set()     # bodies whose Collider asks for collision events
        self.listeners: set[int] = set()     # entities with collision-handling behaviours
        self._touching: set[tuple[int, int]] = set()
        self._outbox: list[Any] = []

    def scan_collisions(self) -> None:
        """Find pairs that started or stopped touching on the last step (reporting bodies only)."""
        reporters = self.reporters
        if self.listeners:
            reporters = reporters | {eid for eid in self.listeners if eid in self.bodies}
        if not reporters and not self._touching:
            return
        by_node = self.by_node
        current: set[tuple[int, int]] = set()
        started: dict[tuple[int, int], Collision] = {}
        for manifold in self.bullet.getManifolds():
            count = manifold.getNumManifoldPoints()
            if not count:
                continue
            body_a = by_node.get(manifold.getNode0())
            body_b = by_node.get(manifold.getNode1())
            if body_a is None or body_b is None or (body_a.kind != DYNAMIC and body_b.kind != DYNAMIC):
                continue                                   # as in most engines: one side must be dynamic
            if body_a.entity not in reporters and body_b.entity not in reporters:
                continue
            swap = body_a.entity > body_b.entity
            key = (body_b.entity, body_a.entity) if swap else (body_a.entity, body_b.entity)
            if key in current:
                continue
            points = [manifold.getManifoldPoint(i) for i in range(count)]
            points = [p for p in points if p.getDistance() <= TOUCH_DISTANCE]
            if not points:
                continue
            current.add(key)
            if key in self._touching:
                continue
            impulses = [p.getAppliedImpulse() for p in points]
            best = points[impulses.index(max(impulses))]
            normal = tuple(best.getNormalWorldOnB())   # from B (node1) towards A (node0)
            if swap:
                normal = (-normal[0], -normal[1], -normal[2])
            started[key] = Collision(key[0], key[1], tuple(best.getPositionWorldOnB()), normal,  # type: ignore[arg-type]
                                     sum(impulses))
        for key in sorted(self._touching - current):
            self._outbox.append(CollisionEnded(*key))
        for key in sorted(started):
            self._outbox.append(started[key])
        self._touching = current

    def scan_triggers(self, triggers: list[Body]) -> None:
        """Compare who is inside each trigger with the last tick; queue enter and exit events.

        Bodies whose bounding boxes overlap the trigger (Bullet's broadphase) are the candidates;
        static and trigger bodies never count. Exact triggers then ask Bullet for real shape
        contacts with each moving candidate (``contactTestPair``; only whether there is a contact
        is read, as Panda3D's contact points refer to memory Bullet has already reused), so a
        trigger lying on a big triangle-mesh terrain costs nothing for the terrain.
        """
        for trigger in triggers:
            ghost = trigger.node
            inside: set[int] = set()
            for node in ghost.getOverlappingNodes():
                body = self.by_node.get(node)
                if body is None or body.kind in (STATIC, TRIGGER):
                    continue
                if not trigger.exact or self.bullet.contactTestPair(ghost, node).getNumContacts():
                    inside.add(body.entity)
            for entity in sorted(trigger.inside - inside):
                self._outbox.append(TriggerExited(trigger.entity, entity))
            for entity in sorted(inside - trigger.inside):
                self._outbox.append(TriggerEntered(trigger.entity, entity))
            trigger.inside = inside

    def forget(self, eid: int) -> None:
        """An entity's body is gone: its contacts end silently, it leaves every trigger."""
        self._touching = {key for key in self._touching if eid not in key}
        self.reporters.discard(eid)

    def deliver(self) -> None:
        """Emit queued events on the bus and call the behaviours of the entities involved."""
        outbox, self._outbox = self._outbox, []
        for event in outbox:
            self.world.events.emit(event)
            if isinstance(event, Collision):
                self._call(event.entity_a, "on_collision", event)
                self._call(event.entity_b, "on_collision", event.flipped())
            elif isinstance(event, CollisionEnded):
                self._call(event.entity_a, "on_collision_end", event)
                self._call(event.entity_b, "on_collision_end", CollisionEnded(event.entity_b, event.entity_a))
            elif isinstance(event, TriggerEntered):
                self._call(event.trigger, "on_trigger_enter", event)
                self._call(event.entity, "on_trigger_enter", event)
            elif isinstance(event, TriggerExited):
                self._call(event.trigger, "on_trigger_exit", event)
                self._call(event.entity, "on_trigger_exit", event)

    def _call(self, eid: int, method: str, event: Any) -> None:
        world = self.world
        if not world.exists(eid):
            return
        for component in world.components(eid):
            if not isinstance(component, Behaviour) or getattr(component, "_storm_failed", False):
                continue
            handler: Callable[[Any], None] | None = getattr(component, method, None)
            if handler is None:
                continue
            try:
                handler(event)
            except Exception:  # noqa: BLE001 - a broken script must not stop the world
                log.exception("script %s on entity %d (%s) raised in %s; the world keeps running",
                              component.type_name, eid, world.name_of(eid) or "unnamed", method)
