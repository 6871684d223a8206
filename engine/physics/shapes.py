"""Bullet shapes from Collider fields, from model geometry and from heightfield images.

Everything here raises ``ShapeError`` with a reason a person can act on; the caller adds the
entity and component to the message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from panda3d.bullet import (
    BulletBoxShape,
    BulletCapsuleShape,
    BulletConvexHullShape,
    BulletCylinderShape,
    BulletShape,
    BulletSphereShape,
    BulletTriangleMesh,
    BulletTriangleMeshShape,
    ZUp,
)
from panda3d.core import Geom, GeomNode, NodePath, PTA_int, PTA_LVecBase3f, TransformState, Vec3

from engine.packs.images import ImageFileError, read_image
from engine.physics.components import Collider
from engine.render.components import MeshRenderer

if TYPE_CHECKING:
    from engine.core.world import World

PRIMITIVE_SHAPES = ("box", "sphere", "capsule", "cylinder")
MIN_EXTENT = 1e-4
HULL_MARGIN = 0.01   # Bullet pads hulls by their margin (0.04 by default): things would float 4 cm up


class ShapeError(Exception):
    """A collider that cannot become a shape; the message says why."""


@dataclass(frozen=True)
class ShapeSpec:
    """A primitive shape by size, as a Collider or a query describes it (primitive conventions)."""

    kind: str = "sphere"
    size: tuple[float, float, float] = (1.0, 1.0, 1.0)
    radius: float = 0.5
    height: float = 1.0

    @classmethod
    def of(cls, collider: Collider) -> "ShapeSpec":
        return cls(collider.shape, tuple(collider.size), collider.radius, collider.height)  # type: ignore[arg-type]


def primitive_shape(spec: ShapeSpec, scale: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> BulletShape:
    """A box, sphere, capsule or cylinder shape, with ``scale`` baked into its size."""
    sx, sy, sz = (abs(s) for s in scale)
    if spec.kind == "box":
        half = Vec3(*(max(MIN_EXTENT, v * s / 2) for v, s in zip(spec.size, (sx, sy, sz))))
        return BulletBoxShape(half)
    radius = max(MIN_EXTENT, spec.radius * max(sx, sy, sz if spec.kind == "sphere" else 0.0))
    if spec.kind == "sphere":
        return BulletSphereShape(radius)
    height = max(MIN_EXTENT, spec.height * sz)
    if spec.kind == "capsule":
        if height < 2 * radius:
            raise ShapeError(f"capsule height {height:g} is less than twice its radius {radius:g}")
        return BulletCapsuleShape(radius, height - 2 * radius, ZUp)
    if spec.kind == "cylinder":
        return BulletCylinderShape(radius, height, ZUp)
    raise ShapeError(f"{spec.kind!r} is not a primitive shape ({', '.join(PRIMITIVE_SHAPES)})")


def inner_radius(spec: ShapeSpec) -> float:
    """Roughly the largest sphere inside the shape (sizes continuous collision detection)."""
    if spec.kind == "box":
        return max(MIN_EXTENT, min(spec.size) / 2)
    if spec.kind in ("sphere", "capsule", "cylinder"):
        return max(MIN_EXTENT, min(spec.radius, spec.height / 2) if spec.kind == "cylinder" else spec.radius)
    return 0.05


def model_of(world: "World", eid: int) -> NodePath | None:
    """The geometry drawn for an entity: the RenderSystem's ``mesh`` child, else its MeshRenderer's
    model loaded through the runtime's assets (or built, for ``primitive:*``), else None."""
    node = world.node(eid)
    drawn = node.find("mesh")
    if not drawn.isEmpty():
        return drawn
    renderer = world.get(eid, MeshRenderer)
    if renderer is None:
        return None
    runtime = world.services.get("runtime")
    if runtime is not None:
        return runtime.assets.model(renderer.model, f"entity {eid} ({world.name_of(eid)}) MeshRenderer.model")
    if renderer.model.startswith("primitive:"):
        from engine.packs.primitives import make_primitive

        try:
            return make_primitive(renderer.model.split(":", 1)[1])
        except KeyError:
            return None
    return None


def _geoms(model: NodePath) -> list[tuple[Geom, TransformState]]:
    """Every Geom under ``model`` with its transform relative to ``model``'s parent."""
    found = []
    paths = list(model.findAllMatches("**/+GeomNode"))
    if isinstance(model.node(), GeomNode):
        paths.insert(0, model)
    parent_ts = model.getTransform()
    for path in paths:
        ts = parent_ts.compose(path.getTransform(model)) if path != model else parent_ts
        node = path.node()
        for index in range(node.getNumGeoms()):
            found.append((node.getGeom(index), ts))
    return found


def geometry_shape(kind: str, model: NodePath, place: TransformState) -> BulletShape:
    """A convex hull (``hull``) or static triangle mesh (``mesh``) of the model's triangles.

    ``place`` maps the model's parent space (the collider entity) into the body's space,
    scale included; the shape is added to the body with an identity transform.
    """
    geoms = _geoms(model)
    if kind == "hull":
        hull = BulletConvexHullShape()
        points = 0
        for geom, ts in geoms:
            hull.addGeom(geom, place.compose(ts))
            points += geom.getVertexData().getNumRows()
        if points < 4:
            raise ShapeError("the model has no geometry to wrap a hull around")
        hull.setMargin(HULL_MARGIN)
        return hull
    mesh = BulletTriangleMesh()
    for geom, ts in geoms:
        mesh.addGeom(geom, False, place.compose(ts))
    if mesh.getNumTriangles() == 0:
        raise ShapeError("the model has no triangles")
    return BulletTriangleMeshShape(mesh, dynamic=False)


def heightfield_shape(world: "World", collider: Collider, place: TransformState) -> BulletShape:
    """A static triangle mesh from a grey image: white is ``size`` z high, centred on the entity."""
    asset_id = collider.heightfield
    if not asset_id:
        raise ShapeError("shape 'heightfield' needs the field heightfield: an image asset id like 'pack:height.png'")
    runtime = world.services.get("runtime")
    if runtime is None:
        raise ShapeError(f"no runtime service to load {asset_id!r} from content packs")
    try:
        found = runtime.content.has(asset_id) or runtime.content.resolve(asset_id)
    except ValueError as exc:
        raise ShapeError(str(exc)) from None
    if not found:
        raise ShapeError(f"heightfield image {asset_id!r} was not found in the enabled packs")
    try:
        image = read_image(runtime.content, asset_id)
    except ImageFileError as exc:
        raise ShapeError(f"heightfield image {asset_id!r}: {exc}") from None
    width, rows = image.getXSize(), image.getYSize()
    if width < 2 or rows < 2:
        raise ShapeError(f"heightfield image {asset_id!r} must be at least 2x2 pixels")
    heights = np.array([[image.getBright(x, y) for x in range(width)] for y in range(rows)], np.float32)
    return grid_mesh_shape(heights, collider.size, place)


def grid_mesh_shape(heights: np.ndarray, size: Any, place: TransformState) -> BulletShape:
    """A static triangle mesh over a grid of heights in [0, 1] (row 0 is the far, +Y edge)."""
    rows, width = heights.shape
    xs = (np.arange(width, dtype=np.float32) / (width - 1) - 0.5) * size[0]
    ys = (0.5 - np.arange(rows, dtype=np.float32) / (rows - 1)) * size[1]
    grid_x, grid_y = np.meshgrid(xs, ys)
    points = np.stack([grid_x, grid_y, heights * size[2]], axis=-1).reshape(-1, 3).astype(np.float32)
    index = np.arange(rows * width, dtype=np.int32).reshape(rows, width)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, :-1].ravel(), index[1:, 1:].ravel()
    triangles = np.stack([np.stack([a, c, b], 1), np.stack([b, c, d], 1)], 1).reshape(-1).astype(np.int32)
    mat = place.getMat()
    homogeneous = np.hstack([points, np.ones((len(points), 1), np.float32)])
    panda_mat = np.array([[mat.getCell(r, c) for c in range(4)] for r in range(4)], np.float32)
    points = (homogeneous @ panda_mat)[:, :3].astype(np.float32)
    pta_points = PTA_LVecBase3f.emptyArray(len(points))
    memoryview(pta_points).cast("B").cast("f")[:] = points.ravel()
    pta_index = PTA_int.emptyArray(len(triangles))
    memoryview(pta_index).cast("B").cast("i")[:] = triangles
    mesh = BulletTriangleMesh()
    mesh.addArray(pta_points, pta_index, False)
    return BulletTriangleMeshShape(mesh, dynamic=False)
