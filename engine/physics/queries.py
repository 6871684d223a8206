"""Raycast, sweep and overlap queries against a world's bodies, by collision layer.

``layers`` is a bit mask of collision layers (bit i: layer i); triggers are left out unless
``triggers=True``. Results name entities, never Bullet nodes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from panda3d.bullet import BulletGhostNode, BulletWorld
from panda3d.core import PandaNode, Point3, TransformState, Vec3

from engine.physics.bodies import Body
from engine.physics.components import ALL_LAYERS
from engine.physics.layers import CollisionGroups
from engine.physics.shapes import ShapeSpec, primitive_shape

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class RayHit:
    """Where a ray or sweep first touched an entity's body."""

    entity: int
    point: Vec
    normal: Vec
    fraction: float
    distance: float


def _ignored(ignore: int | Iterable[int] | None) -> frozenset[int]:
    if ignore is None:
        return frozenset()
    if isinstance(ignore, int):
        return frozenset((ignore,))
    return frozenset(ignore)


class PhysicsQueries:
    """Queries over one Bullet world; the PhysicsSystem exposes these as its own methods."""

    def __init__(self, bullet: BulletWorld, groups: CollisionGroups, by_node: dict[PandaNode, Body]) -> None:
        self._bullet = bullet
        self._groups = groups
        self._by_node = by_node

    def raycast(self, start: Sequence[float], end: Sequence[float], layers: int = ALL_LAYERS, *,
                ignore: int | Iterable[int] | None = None, triggers: bool = False) -> RayHit | None:
        """The nearest body the segment ``start``-``end`` touches, or None."""
        skip = _ignored(ignore)
        if not skip:
            result = self._bullet.rayTestClosest(Point3(*start), Point3(*end),
                                                 self._groups.query_mask(layers, triggers))
            if not result.hasHit():
                return None
            body = self._by_node.get(result.getNode())
            if body is None:
                return None
            return self._ray_hit(body, result.getHitPos(), result.getHitNormal(), result.getHitFraction(), start, end)
        hits = self.raycast_all(start, end, layers, ignore=skip, triggers=triggers)
        return hits[0] if hits else None

    def raycast_all(self, start: Sequence[float], end: Sequence[float], layers: int = ALL_LAYERS, *,
                    ignore: int | Iterable[int] | None = None, triggers: bool = False) -> list[RayHit]:
        """Every body along the segment, nearest first (one hit per entity)."""
        skip = _ignored(ignore)
        result = self._bullet.rayTestAll(Point3(*start), Point3(*end), self._groups.query_mask(layers, triggers))
        hits: dict[int, RayHit] = {}
        for hit in result.getHits():
            body = self._by_node.get(hit.getNode())
            if body is None or body.entity in skip:
                continue
            ray_hit = self._ray_hit(body, hit.getHitPos(), hit.getHitNormal(), hit.getHitFraction(), start, end)
            known = hits.get(body.entity)
            if known is None or ray_hit.fraction < known.fraction:
                hits[body.entity] = ray_hit
        return sorted(hits.values(), key=lambda h: (h.fraction, h.entity))

    def sweep(self, shape: ShapeSpec, start: Sequence[float], end: Sequence[float], layers: int = ALL_LAYERS, *,
              triggers: bool = False) -> RayHit | None:
        """The first body a convex shape (box, sphere, capsule or cylinder) hits moving from start to end.

        Bodies the shape already overlaps at ``start`` are not reported.
        """
        bullet_shape = primitive_shape(shape)
        result = self._bullet.sweepTestClosest(bullet_shape, TransformState.makePos(Point3(*start)),
                                               TransformState.makePos(Point3(*end)),
                                               self._groups.query_mask(layers, triggers), 0.0)
        if not result.hasHit():
            return None
        body = self._by_node.get(result.getNode())
        if body is None:
            return None
        return self._ray_hit(body, result.getHitPos(), result.getHitNormal(), result.getHitFraction(), start, end)

    def overlap(self, shape: ShapeSpec, center: Sequence[float], layers: int = ALL_LAYERS, *,
                rotation: Sequence[float] = (0.0, 0.0, 0.0), triggers: bool = False) -> list[int]:
        """Entities whose bodies overlap a shape placed at ``center`` (sorted ids).

        Raises ShapeError for a shape that is not a box, sphere, capsule or cylinder.
        """
        bullet_shape = primitive_shape(shape)
        probe = BulletGhostNode("storm-overlap-probe")
        probe.addShape(bullet_shape)
        probe.setTransform(TransformState.makePosHpr(Point3(*center), Vec3(*rotation)))
        query = self._groups.query_mask(layers, triggers)
        found: set[int] = set()
        # only the nodes of each contact are read: Panda3D's contact-test points are not safe to read
        for contact in self._bullet.contactTest(probe, False).getContacts():
            other = contact.getNode1() if contact.getNode0() == probe else contact.getNode0()
            body = self._by_node.get(other)
            if body is None or not (query & body.node.getIntoCollideMask()).getWord():
                continue
            found.add(body.entity)
        return sorted(found)

    @staticmethod
    def _ray_hit(body: Body, point: Point3, normal: Vec3, fraction: float, start: Sequence[float],
                 end: Sequence[float]) -> RayHit:
        length = (Point3(*end) - Point3(*start)).length()
        return RayHit(body.entity, tuple(point), tuple(normal), fraction, fraction * length)  # type: ignore[arg-type]
