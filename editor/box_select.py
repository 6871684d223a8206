"""Box select: a left drag that starts on empty space in the 3D view draws a rectangle; on release
the entities whose visible bounds, projected into the view, overlap it are selected (Shift adds
them to the selection). A large object is selected when any part of it shows in the box, wherever
its origin is: that includes a ground plane under the box (lock it, L, to box select on top of it,
as Unity's pickability toggles and Blender's selectability are used).

An entity's bounds are those of its own geometry (the GeomNodes whose nearest entity is it, not
those of entities under it): for each, Panda3D's tight bounds in the GeomNode's own space, an
oriented box whose eight corners go through the view's lens; the part behind the near plane is
cut off, and the convex outline of what is left is tested against the rectangle (separating
axes), so a long thin object seen at a slant is not selected by a box beside it. An entity without
geometry (an empty, a light, a camera) is selected by its origin. Geometry hidden in the game
(``MeshRenderer.visible`` off) does not count, as a click does not see it. A part of a placed prefab
selects the instance, as a click does; hidden and locked entities (``visibility``) are left out.

One pass over the world's GeomNodes (Panda3D finds them) and one over the entities. A GeomNode
whose cached bounding volume (Panda3D keeps it) is nowhere near the box costs eight projections;
only those near it have their vertices read for the tight bounds (about 5 ms for 65k vertices).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from panda3d.core import (
    BoundingBox,
    BoundingSphere,
    BoundingVolume,
    Lens,
    Mat4,
    NodePath,
    Point2,
    Point3,
    TransformState,
    Vec3,
)

from engine.core.entity_specs import member_index

if TYPE_CHECKING:
    from engine.core.world import World

Rect = tuple[float, float, float, float]  # view pixels: x0, y0, x1, y1 (any corners)
Pixel = tuple[float, float]
EDGES = ((0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 3), (2, 6), (3, 7), (4, 5), (4, 6), (5, 7), (6, 7))


def normalised(rect: Rect) -> Rect:
    x0, y0, x1, y1 = rect
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def corners(low: Point3, high: Point3) -> list[Point3]:
    """The eight corners of a box, corner i taking x, y, z from ``high`` where bit 0, 1, 2 of i is set."""
    return [Point3(high.x if i & 1 else low.x, high.y if i & 2 else low.y, high.z if i & 4 else low.z)
            for i in range(8)]


class _Projector:
    """Camera-space points to view pixels, through the lens, cut at its near plane."""

    def __init__(self, lens: Lens, size: tuple[float, float]) -> None:
        self.lens = lens
        self.near = lens.getNear() * 1.001  # just in front of the near plane: projects finitely
        self.size = size

    def pixel(self, point: Point3) -> Pixel:
        film = Point2()
        self.lens.project(point, film)  # fills film even outside the frame (the result says which)
        return (film.x + 1.0) * 0.5 * self.size[0], (1.0 - film.y) * 0.5 * self.size[1]

    def outline(self, points: list[Point3], to_camera: Mat4) -> list[Pixel]:
        """The outline in the view (``hull``) of a box given by its corners and the matrix to camera space."""
        return hull(self.box([to_camera.xformPoint(p) for p in points]))

    def box(self, points: list[Point3]) -> list[Pixel]:
        """The pixels of a box's corners (camera space) in front of the near plane and of the points
        where its edges cross that plane: their convex hull is the box's outline in the view."""
        near = self.near
        out = [self.pixel(p) for p in points if p.y >= near]
        if len(out) in (0, 8):
            return out
        for a, b in EDGES:
            pa, pb = points[a], points[b]
            if (pa.y >= near) != (pb.y >= near):
                t = (near - pa.y) / (pb.y - pa.y)
                out.append(self.pixel(pa + (pb - pa) * t))
        return out


def hull(points: Iterable[Pixel]) -> list[Pixel]:
    """Convex hull (Andrew's monotone chain), counter-clockwise in x-right / y-up terms."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: Pixel, a: Pixel, b: Pixel) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Pixel] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Pixel] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def overlaps(outline: list[Pixel], rect: Rect) -> bool:
    """Whether a convex outline (``hull``'s order; one point, a segment or a polygon) and a
    normalised rectangle share any point: separating axes (the rectangle's two, each edge's normal)."""
    if not outline:
        return False
    x0, y0, x1, y1 = rect
    xs, ys = [p[0] for p in outline], [p[1] for p in outline]
    if max(xs) < x0 or min(xs) > x1 or max(ys) < y0 or min(ys) > y1:
        return False
    if len(outline) < 2:
        return True
    box = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    edges = list(zip(outline, outline[1:] + outline[:1])) if len(outline) > 2 else [(outline[0], outline[1])]
    for (ax, ay), (bx, by) in edges:
        sides = [(bx - ax) * (cy - ay) - (by - ay) * (cx - ax) for cx, cy in box]
        if all(s < 0 for s in sides) or (len(outline) == 2 and all(s > 0 for s in sides)):
            return False  # every corner of the rectangle is outside this edge
    return True


def _rough(volume: BoundingVolume) -> tuple[Point3, Point3] | None:
    """A box around a bounding volume, or None when there is none to use (infinite, another kind)."""
    if volume.isInfinite():
        return None
    if isinstance(volume, BoundingSphere):
        centre, r = volume.getCenter(), volume.getRadius()
        return centre - Vec3(r, r, r), centre + Vec3(r, r, r)
    if isinstance(volume, BoundingBox):
        return volume.getMin(), volume.getMax()
    return None


def _geometry_shows(geom: NodePath, to_camera: Mat4, projector: _Projector, area: Rect) -> bool | None:
    """Whether a GeomNode's tight bounds show in the box; None when it has no vertices. Its cached
    bounding volume answers first (no vertex is read for geometry far from the box)."""
    volume = geom.node().getBounds()  # in the GeomNode's own space, kept by Panda3D until it changes
    if volume.isEmpty():
        return None
    rough = _rough(volume)
    if rough is not None and not overlaps(projector.outline(corners(*rough), to_camera), area):
        return False
    tight = geom.getTightBounds(geom)
    if not tight:
        return None
    return overlaps(projector.outline(corners(*tight), to_camera), area)


def entities_in_rect(world: "World", lens: Lens, camera: TransformState, size: tuple[float, float], rect: Rect,
                     accept: Callable[[int], bool] = lambda eid: True) -> list[int]:
    """The entities (prefab members as their instance) whose visible bounds show inside ``rect``, in
    id order."""
    area = normalised(rect)
    members = member_index(world)
    root = world.root
    projector = _Projector(lens, size)
    to_camera = camera.getInverse().getMat()
    shown: dict[int, bool] = {}  # entity with visible geometry of its own -> some of it shows in the box
    for geom in root.findAllMatches("**/+GeomNode"):
        owner = world.entity_at_node(geom)
        if not owner or shown.get(owner) or geom.isHidden():
            continue
        inside = _geometry_shows(geom, geom.getMat(root) * to_camera, projector, area)
        if inside is not None:
            shown[owner] = shown.get(owner, False) or inside
    out: dict[int, None] = {}
    for eid in world.entities():
        if eid in shown:
            inside = shown[eid]
        else:  # no geometry of its own: its origin
            local = to_camera.xformPoint(world.node(eid).getPos(root))
            inside = local.y >= projector.near and overlaps([projector.pixel(local)], area)
        if not inside or not accept(eid):
            continue
        member = members.get(eid)
        target = member[0] if member is not None else eid
        if accept(target):
            out[target] = None
    return list(out)
