"""Sculpted prims: a mesh from a sculpt map, a texture whose red, green and blue are a grid of x,
y and z positions in the prim's unit box (learnt from OpenSimulator's ``SculptMesh.cs``, BSD).

The map is sampled at most 32 x 32 quads (as a viewer's high level of detail samples a 64 x 64
map), rows from the image's top, and stitched by the sculpt type: a sphere closes around
(u) and pinches its first and last rows to the poles, a torus closes both ways, a cylinder
around, a plane not at all. Mirror (0x80) flips x. Closed shapes face outward whatever way the
map was drawn (the viewer's invert flag, 0x40, exists to fix maps drawn inside out); a plane
faces the way its rows and columns say, turned over by invert. One face: face 0.
"""
from __future__ import annotations

import numpy as np

from netcode.opensim.prim_mesh import PrimMesh, grid_normals, grid_triangles

SPHERE, TORUS, PLANE, CYLINDER, MESH = 1, 2, 3, 4, 5
INVERT, MIRROR = 0x40, 0x80
MAX_QUADS = 32 * 32


def sculpt_kind(sculpt_type: int) -> int:
    """The stitching of a sculpt type byte (SPHERE, TORUS, PLANE, CYLINDER; MESH: not a sculpt)."""
    kind = sculpt_type & 0x07
    return kind if kind in (SPHERE, TORUS, PLANE, CYLINDER, MESH) else SPHERE


def build_sculpt(width: int, height: int, rgba: bytes, sculpt_type: int) -> PrimMesh:
    """The mesh of a sculpt map (RGBA rows bottom to top, as decoded textures are)."""
    if width < 2 or height < 2 or len(rgba) < width * height * 4:
        raise ValueError(f"a sculpt map of {width}x{height} pixels and {len(rgba)} bytes")
    image = np.frombuffer(rgba, np.uint8, width * height * 4).reshape(height, width, 4)[::-1, :, :3]
    cols, rows = width, height
    while cols * rows > MAX_QUADS and cols > 1 and rows > 1:
        cols, rows = max(1, cols // 2), max(1, rows // 2)
    xs = np.minimum(np.round(np.arange(cols + 1) * (width / cols)).astype(int), width - 1)
    ys = np.minimum(np.round(np.arange(rows + 1) * (height / rows)).astype(int), height - 1)
    grid = image[ys][:, xs].astype(np.float64) / 255.0 - 0.5          # (rows + 1, cols + 1, 3)
    kind = sculpt_kind(sculpt_type)
    if sculpt_type & MIRROR:
        grid[..., 0] = -grid[..., 0]
    if kind != PLANE:
        grid[:, -1] = grid[:, 0]                                        # closed around
    if kind == SPHERE:
        grid[0, :] = grid[0, cols // 2]
        grid[-1, :] = grid[-1, cols // 2]
    if kind == TORUS:
        grid[-1, :] = grid[0, :]
    normals = -grid_normals(grid, kind != PLANE, kind == TORUS)
    triangles = grid_triangles(rows + 1, cols + 1)[:, ::-1]
    positions = grid.reshape(-1, 3)
    flip = bool(sculpt_type & INVERT) != bool(sculpt_type & MIRROR)
    if kind != PLANE:
        a, b, c = (positions[triangles[:, k]] for k in range(3))
        flip = float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) < 0.0    # inside out: turn it over
    if flip:
        triangles, normals = triangles[:, ::-1], -normals
    u, v = np.meshgrid(np.arange(cols + 1) / cols, 1.0 - np.arange(rows + 1) / rows)
    uvs = np.stack([u, v], -1).reshape(-1, 2)
    return PrimMesh(positions.astype(np.float32), normals.reshape(-1, 3).astype(np.float32), uvs.astype(np.float32),
                    np.ascontiguousarray(triangles).astype(np.uint32), {0: (0, len(triangles))})
