"""Procedural primitive meshes (``primitive:box`` and friends): a demo needs nothing downloaded.

Sizes are unit-ish and centred on the origin, Z up: box 1x1x1, sphere and cylinder radius 0.5
(cylinder height 1), capsule radius 0.5 and height 2, plane 1x1 facing +Z.
"""
from __future__ import annotations

import math

import numpy as np
from panda3d.core import Geom, GeomNode, GeomTriangles, GeomVertexData, GeomVertexFormat, NodePath

Mesh = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # positions, normals, uvs, triangles

PRIMITIVES = ("box", "sphere", "capsule", "cylinder", "plane")


def _box() -> Mesh:
    pos, nrm, uv, tri = [], [], [], []
    for axis in range(3):
        for sign in (1.0, -1.0):
            normal = np.zeros(3)
            normal[axis] = sign
            u_axis, v_axis = [a for a in range(3) if a != axis]
            if sign < 0:
                u_axis, v_axis = v_axis, u_axis
            base = len(pos)
            for u, v in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
                p = normal * 0.5
                p[u_axis], p[v_axis] = u, v
                pos.append(p)
                nrm.append(normal)
                uv.append((u + 0.5, v + 0.5))
            u_vec, v_vec = np.eye(3)[u_axis], np.eye(3)[v_axis]
            if np.dot(np.cross(u_vec, v_vec), normal) > 0:  # counter-clockwise seen from outside
                tri += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
            else:
                tri += [(base, base + 2, base + 1), (base, base + 3, base + 2)]
    return np.array(pos), np.array(nrm), np.array(uv), np.array(tri)


def _lathe(profile: list[tuple[float, float, float, float]], segments: int = 24) -> Mesh:
    """Revolve (radius, z, normal_r, normal_z) rows around Z."""
    pos, nrm, uv = [], [], []
    rows = len(profile)
    for i, (r, z, nr, nz) in enumerate(profile):
        for j in range(segments + 1):
            a = 2 * math.pi * j / segments
            c, s = math.cos(a), math.sin(a)
            pos.append((r * c, r * s, z))
            nrm.append((nr * c, nr * s, nz))
            uv.append((j / segments, i / (rows - 1)))
    tri = []
    for i in range(rows - 1):
        for j in range(segments):
            a = i * (segments + 1) + j
            b = a + segments + 1
            tri += [(a, a + 1, b + 1), (a, b + 1, b)]
    return np.array(pos, float), np.array(nrm, float), np.array(uv, float), np.array(tri)


def _sphere(radius: float = 0.5, rings: int = 16, z_offsets: tuple[float, float] = (0.0, 0.0)) -> list:
    profile = []
    for i in range(rings + 1):
        phi = -math.pi / 2 + math.pi * i / rings
        nr, nz = math.cos(phi), math.sin(phi)
        offset = z_offsets[0] if i <= rings // 2 else z_offsets[1]
        profile.append((radius * nr, radius * nz + offset, nr, nz))
    return profile


def _cylinder() -> Mesh:
    profile = [(0.0, -0.5, 0, -1), (0.5, -0.5, 0, -1), (0.5, -0.5, 1, 0), (0.5, 0.5, 1, 0),
               (0.5, 0.5, 0, 1), (0.0, 0.5, 0, 1)]
    return _lathe(profile)


def _plane() -> Mesh:
    pos = np.array([(-0.5, -0.5, 0), (0.5, -0.5, 0), (0.5, 0.5, 0), (-0.5, 0.5, 0)], float)
    nrm = np.tile([0.0, 0.0, 1.0], (4, 1))
    uv = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], float)
    return pos, nrm, uv, np.array([(0, 1, 2), (0, 2, 3)])


def mesh_arrays(kind: str) -> Mesh:
    """Positions, normals, uvs and triangle indices of a primitive; raises KeyError if unknown."""
    if kind == "box":
        return _box()
    if kind == "sphere":
        return _lathe(_sphere())
    if kind == "capsule":
        return _lathe(_sphere(0.5, 16, (-0.5, 0.5)))
    if kind == "cylinder":
        return _cylinder()
    if kind == "plane":
        return _plane()
    raise KeyError(f"no primitive {kind!r}; primitives are {', '.join(PRIMITIVES)}")


def make_primitive(kind: str) -> NodePath:
    """A new NodePath holding the primitive's mesh."""
    pos, nrm, uv, tri = mesh_arrays(kind)
    return triangles_node(vertex_data(kind, pos, nrm, uv), tri, kind)


def vertex_data(name: str, positions: np.ndarray, normals: np.ndarray, uvs: np.ndarray) -> GeomVertexData:
    """A static vertex table (position, normal, uv) filled from arrays in one copy."""
    vdata = GeomVertexData(name, GeomVertexFormat.getV3n3t2(), Geom.UHStatic)
    vdata.uncleanSetNumRows(len(positions))
    interleaved = np.hstack([positions, normals, uvs]).astype(np.float32)
    memoryview(vdata.modifyArray(0)).cast("B").cast("f")[:] = interleaved.ravel()
    return vdata


def triangles_node(vdata: GeomVertexData, triangles: np.ndarray, name: str) -> NodePath:
    """A GeomNode drawing ``triangles`` (rows of three vertex indices) of a vertex table (which
    several nodes may share)."""
    prim = GeomTriangles(Geom.UHStatic)
    prim.setIndexType(Geom.NTUint32)
    handle = prim.modifyVertices()
    handle.uncleanSetNumRows(triangles.size)
    memoryview(handle).cast("B").cast("I")[:] = triangles.astype(np.uint32).ravel()
    geom = Geom(vdata)
    geom.addPrimitive(prim)
    node = GeomNode(name)
    node.addGeom(geom)
    return NodePath(node)
