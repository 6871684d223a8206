"""What is under the mouse in the 3D view: a ray from the editor camera through the pixel, tested
against the geometry the renderer draws (Panda3D's CollisionTraverser into visible GeomNodes),
nearest first; the hit node belongs to the nearest entity above it (``World.entity_at_node``),
so a child entity, a prefab member or a model's sub-node each name the right entity. Geometry
that belongs to no entity (the sky) and hidden nodes are skipped, and so are entities the
caller does not accept (the editor's hidden and locked ones).

Points are given in *film* coordinates: x and y from -1 (left, bottom) to 1 (right, top).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from panda3d.core import (
    CollisionHandlerQueue,
    CollisionNode,
    CollisionRay,
    CollisionTraverser,
    GeomNode,
    Lens,
    NodePath,
    Point2,
    Point3,
    TransformState,
    Vec3,
)

if TYPE_CHECKING:
    from engine.core.world import World


@dataclass(frozen=True)
class Ray:
    """A ray in the world root's space."""

    origin: Point3
    direction: Vec3


def film_point(x: float, y: float, width: float, height: float) -> tuple[float, float]:
    """Pixel (x right, y down, from the view's top-left corner) to film coordinates."""
    return (2.0 * x / max(width, 1.0) - 1.0, 1.0 - 2.0 * y / max(height, 1.0))


def view_ray(lens: Lens, camera: TransformState, film: tuple[float, float]) -> Ray:
    """The ray through a film point of a camera at ``camera`` (world-root space)."""
    near, far = Point3(), Point3()
    lens.extrude(Point2(*film), near, far)
    matrix = camera.getMat()
    origin = matrix.xformPoint(near)
    direction = matrix.xformVec(far - near)
    direction.normalize()
    return Ray(origin, direction)


def project(lens: Lens, camera: TransformState, point: Point3) -> tuple[float, float] | None:
    """Film coordinates of a world-root point, or None when it is behind the camera."""
    local = camera.getInverse().getMat().xformPoint(point)
    if local.y <= lens.getNear():
        return None
    film = Point2()
    lens.project(local, film)
    return (film.x, film.y)


@dataclass(frozen=True)
class Hit:
    entity: int
    point: Point3  # where the ray met the surface, world-root space


def pick(world: "World", ray: Ray, accept: Callable[[int], bool] | None = None) -> Hit | None:
    """The nearest visible surface of an entity along ``ray``; entities ``accept`` refuses (hidden
    or locked in the editor) are looked through."""
    holder = NodePath("editor-pick")
    ray_node = CollisionNode("editor-pick-ray")
    ray_node.addSolid(CollisionRay(ray.origin, ray.direction))
    ray_node.setFromCollideMask(GeomNode.getDefaultCollideMask())
    ray_node.setIntoCollideMask(0)
    ray_path = holder.attachNewNode(ray_node)
    holder.reparentTo(world.root)
    try:
        queue = CollisionHandlerQueue()
        traverser = CollisionTraverser("editor-pick")
        traverser.addCollider(ray_path, queue)
        traverser.traverse(world.root)
        queue.sortEntries()
        for i in range(queue.getNumEntries()):
            entry = queue.getEntry(i)
            into = entry.getIntoNodePath()
            if into.isHidden():
                continue
            eid = world.entity_at_node(into)
            if eid and (accept is None or accept(eid)):
                return Hit(eid, entry.getSurfacePoint(world.root))
        return None
    finally:
        holder.removeNode()
