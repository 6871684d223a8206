"""The terrain's drawn mesh: one Geom over the height grid, with normals, vertex colours and uvs.

Colours are picked in sRGB (as world files give them) and stored per vertex in linear light,
blended there, as the renderer lights in linear light (``engine.render.colors``).

Vertices and triangles follow ``engine.physics.shapes.grid_mesh_shape`` exactly (same float32
positions, same diagonal in every cell), so the drawn surface and the collision surface are the
same triangles.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from panda3d.core import (
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexArrayFormat,
    GeomVertexData,
    GeomVertexFormat,
    InternalName,
    Material,
    NodePath,
)

from engine.render.colors import srgb_to_linear

ROUGHNESS = 0.95   # ground is matte

_FORMAT: GeomVertexFormat | None = None


def vertex_format() -> GeomVertexFormat:
    """Float32 position, normal, RGBA colour and uv, interleaved (12 floats per vertex)."""
    global _FORMAT
    if _FORMAT is None:
        array = GeomVertexArrayFormat()
        array.addColumn(InternalName.getVertex(), 3, Geom.NT_float32, Geom.C_point)
        array.addColumn(InternalName.getNormal(), 3, Geom.NT_float32, Geom.C_normal)
        array.addColumn(InternalName.getColor(), 4, Geom.NT_float32, Geom.C_color)
        array.addColumn(InternalName.getTexcoord(), 2, Geom.NT_float32, Geom.C_texcoord)
        _FORMAT = GeomVertexFormat.registerFormat(GeomVertexFormat(array))
    return _FORMAT


def grid_positions(heights: np.ndarray, size: Sequence[float]) -> np.ndarray:
    """Vertex positions (rows * columns, 3), float32, centred on the origin; row 0 at +Y."""
    rows, width = heights.shape
    xs = (np.arange(width, dtype=np.float32) / (width - 1) - 0.5) * size[0]
    ys = (0.5 - np.arange(rows, dtype=np.float32) / (rows - 1)) * size[1]
    grid_x, grid_y = np.meshgrid(xs, ys)
    return np.stack([grid_x, grid_y, heights * size[2]], axis=-1).reshape(-1, 3).astype(np.float32)


def grid_triangles(rows: int, width: int) -> np.ndarray:
    """Triangle indices, counter-clockwise seen from above: (a, c, b) and (b, c, d) in each cell."""
    index = np.arange(rows * width, dtype=np.int32).reshape(rows, width)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, :-1].ravel(), index[1:, 1:].ravel()
    return np.stack([np.stack([a, c, b], 1), np.stack([b, c, d], 1)], 1).reshape(-1).astype(np.int32)


def grid_normals(heights: np.ndarray, size: Sequence[float]) -> np.ndarray:
    """Smooth vertex normals from the height gradient (central differences inside, one-sided at edges)."""
    rows, width = heights.shape
    z = heights.astype(np.float64) * size[2]
    dz_dx = np.gradient(z, size[0] / (width - 1), axis=1)
    dz_dy = -np.gradient(z, size[1] / (rows - 1), axis=0)      # rows run towards -Y
    normals = np.stack([-dz_dx, -dz_dy, np.ones_like(z)], axis=-1).reshape(-1, 3)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return normals.astype(np.float32)


def blend_colors(heights: np.ndarray, normals: np.ndarray, size: Sequence[float], color: Sequence[float],
                 blend_color: Sequence[float], blend: str, blend_range: Sequence[float]) -> np.ndarray:
    """Linear RGBA per vertex: ``color``, moving to ``blend_color`` over ``blend_range`` of slope or
    height (both given in sRGB)."""
    base = np.asarray(srgb_to_linear(color), np.float32)
    if blend == "none":
        return np.tile(base, (heights.size, 1))
    if blend == "slope":
        amount = np.degrees(np.arccos(np.clip(normals[:, 2], -1.0, 1.0)))
    else:
        amount = heights.reshape(-1).astype(np.float64) * size[2]
    start, end = blend_range
    t = np.clip((amount - start) / max(end - start, 1e-6), 0.0, 1.0)
    t = (t * t * (3.0 - 2.0 * t)).astype(np.float32)[:, None]
    return base + (np.asarray(srgb_to_linear(blend_color), np.float32) - base) * t


def build_mesh(heights: np.ndarray, size: Sequence[float], normals: np.ndarray, colors: np.ndarray,
               name: str = "terrain") -> NodePath:
    """A NodePath holding one Geom over the grid: positions, the given normals and linear colours, uvs
    over [0, 1], and a matte white material (the vertex colours are the ground's colour)."""
    rows, width = heights.shape
    positions = grid_positions(heights, size)
    u, v = np.meshgrid(np.arange(width, dtype=np.float32) / (width - 1),
                       1.0 - np.arange(rows, dtype=np.float32) / (rows - 1))
    uvs = np.stack([u, v], axis=-1).reshape(-1, 2)
    interleaved = np.hstack([positions, normals, colors.astype(np.float32), uvs]).astype(np.float32)
    vdata = GeomVertexData(name, vertex_format(), Geom.UHStatic)
    vdata.uncleanSetNumRows(len(positions))
    memoryview(vdata.modifyArray(0)).cast("B").cast("f")[:] = interleaved.ravel()
    triangles = GeomTriangles(Geom.UHStatic)
    triangles.setIndexType(Geom.NTUint32)
    handle = triangles.modifyVertices()
    indices = grid_triangles(rows, width)
    handle.uncleanSetNumRows(indices.size)
    memoryview(handle).cast("B").cast("I")[:] = indices.astype(np.uint32)
    geom = Geom(vdata)
    geom.addPrimitive(triangles)
    node = GeomNode(name)
    node.addGeom(geom)
    path = NodePath(node)
    material = Material(name)
    material.setBaseColor((1.0, 1.0, 1.0, 1.0))
    material.setRoughness(ROUGHNESS)
    material.setMetallic(0.0)
    path.setMaterial(material, 1)
    return path
