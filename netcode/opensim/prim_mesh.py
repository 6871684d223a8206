"""Prim geometry as Second Life viewers build it: a profile (circle, square, triangle or half
circle; cut, hollowed with its own hole shape) swept along a path (a line with taper, top shear
and twist, or a circle with hole size, radius offset, revolutions, skew and taper), numpy arrays
in a unit box that the prim's scale stretches.

The sweep follows OpenSimulator's PrimMesher (``Meshmerizer/PrimMesher.cs``, BSD): its profile
orientations, hollow sizes and circle path. Faces are numbered as viewers number a prim's
texture faces: the top (path end) cap, the outer sides present (a box's four sides, a cylinder's
one), the hollow, the bottom (path begin) cap, then the profile cut's begin and end; circle
paths without an open end have no caps. Each side is a grid of rows along the path and columns
along the profile, its normals the cross product of the grid's two directions, so twist, taper
and shear light right; polygon sides are flat (their own vertices), circles smooth.

Counts are bounded: 24 sides to a circle, at most ``MAX_PATH_STEPS`` rows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from netcode.opensim.prim_shape import (
    EQUAL_TRIANGLE,
    HALF_CIRCLE,
    HOLE_CIRCLE,
    HOLE_SAME,
    HOLE_SQUARE,
    HOLE_TRIANGLE,
    SQUARE,
    ShapeParams,
)

CIRCLE_SIDES = 24
STEPS_PER_REVOLUTION = 24
MAX_PATH_STEPS = 192
_RADIUS = {3: 0.5, 4: math.sqrt(0.5)}         # a polygon's corners, so that it fills the unit box
_EPS = 1e-6


@dataclass
class PrimMesh:
    """A prim's triangles, sorted by face: ``faces[n]`` is (first triangle, count) of face n."""

    positions: np.ndarray          # (V, 3) float32
    normals: np.ndarray            # (V, 3) float32
    uvs: np.ndarray                # (V, 2) float32
    triangles: np.ndarray          # (T, 3) uint32
    faces: dict[int, tuple[int, int]]

    @property
    def face_count(self) -> int:
        return len(self.faces)

    def face_triangles(self, face: int) -> np.ndarray:
        first, count = self.faces[face]
        return self.triangles[first:first + count]


@dataclass
class _Ring:
    """A polygon's points from t = begin to end (t: the turn around it, 0..1)."""

    sides: int
    radius: float
    turn: float                    # the profile's rotation, in turns

    def at(self, ts: np.ndarray) -> np.ndarray:
        k = np.minimum(np.floor(ts * self.sides + _EPS), self.sides - 1)
        frac = ts * self.sides - k
        a0 = 2.0 * math.pi * (k / self.sides + self.turn)
        a1 = a0 + 2.0 * math.pi / self.sides
        p0 = np.stack([np.cos(a0), np.sin(a0)], -1)
        p1 = np.stack([np.cos(a1), np.sin(a1)], -1)
        return (p0 + (p1 - p0) * frac[:, None]) * self.radius

    def ts(self, begin: float, end: float) -> np.ndarray:
        corners = np.arange(math.floor(begin * self.sides) + 1, math.ceil(end * self.sides)) / self.sides
        corners = corners[(corners > begin + _EPS) & (corners < end - _EPS)]
        return np.concatenate([[begin], corners, [end]])

    def strips(self, begin: float, end: float, u_of: "np.ndarray | None" = None,
               reverse: bool = False) -> list[tuple[int, np.ndarray, np.ndarray, bool]]:
        """(side, points, u, closed) for each flat side of a polygon (3 or 4 sides), or one
        smooth strip for a circle; ``reverse``: walked from end to begin (a hollow's wall)."""
        ts = self.ts(begin, end)
        full = end - begin > 1.0 - _EPS
        if self.sides > 4:
            u = (u_of if u_of is not None else ts).copy()
            if reverse:
                ts, u = ts[::-1], 1.0 - u[::-1]
            return [(0, self.at(ts), u, full)]
        out = []
        for m in range(len(ts) - 1):
            a, b = ts[m], ts[m + 1]
            side = int(math.floor((a + b) * 0.5 * self.sides))
            pair = np.array([a, b])
            u = pair * self.sides - side
            if reverse:
                pair, u = pair[::-1], 1.0 - u[::-1]
            out.append((side, self.at(pair), u, False))
        if reverse:
            out.reverse()
        return out


def _sides(profile: int) -> int:
    return {SQUARE: 4, EQUAL_TRIANGLE: 3}.get(profile, CIRCLE_SIDES)


def _profile(p: ShapeParams) -> tuple[_Ring, _Ring | None, float, float, bool]:
    """The outer ring, the hole's ring (None: not hollow), the t range and whether the profile
    has cut faces."""
    sides = _sides(p.profile)
    if p.circular:
        turn = {SQUARE: 0.125}.get(p.profile, 0.5)
    else:
        turn = -0.375 if p.profile == SQUARE else 0.0
    outer = _Ring(sides, _RADIUS.get(sides, 0.5), turn)
    if p.profile == HALF_CIRCLE:
        begin, end = 0.5 + 0.5 * p.profile_begin, 0.5 + 0.5 * p.profile_end
        cut = p.profile_end - p.profile_begin < 1.0 - _EPS or p.hollow > 0.0
    else:
        begin, end = p.profile_begin, p.profile_end
        cut = end - begin < 1.0 - _EPS
    hole = None
    if p.hollow > 0.0:
        hole_sides = {HOLE_SAME: sides, HOLE_CIRCLE: CIRCLE_SIDES, HOLE_SQUARE: 4, HOLE_TRIANGLE: 3}[p.hole]
        hollow = p.hollow
        if hole_sides == 4 and sides != 4:
            hollow = min(hollow, 0.7)             # a square hole's corners stay inside
        if sides == 3:
            hollow *= 0.5                         # a triangle does not fill its box (the viewer halves it)
        hole = _Ring(hole_sides, _RADIUS.get(hole_sides, 0.5) * hollow, turn)
    return outer, hole, begin, end, cut


@dataclass
class _Path:
    positions: np.ndarray          # (I, 3)
    rotations: np.ndarray          # (I, 3, 3)
    scales: np.ndarray             # (I, 2)
    v: np.ndarray                  # (I,) the texture's v: how far along the path
    closed: bool                   # the last row is the first (a whole circle): no caps


def _rot_z(angles: np.ndarray) -> np.ndarray:
    c, s = np.cos(angles), np.sin(angles)
    out = np.zeros((len(angles), 3, 3))
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1], out[:, 2, 2] = c, -s, s, c, 1.0
    return out


def _rot_x(angles: np.ndarray) -> np.ndarray:
    c, s = np.cos(angles), np.sin(angles)
    out = np.zeros((len(angles), 3, 3))
    out[:, 0, 0], out[:, 1, 1], out[:, 1, 2], out[:, 2, 1], out[:, 2, 2] = 1.0, c, -s, s, c
    return out


def _taper(taper: float, p: np.ndarray) -> np.ndarray:
    return 1.0 - p * taper if taper > 0 else 1.0 + (1.0 - p) * taper


def _line_path(p: ShapeParams) -> _Path:
    twist = p.twist_end - p.twist_begin
    steps = 1 + (int(abs(twist) * 3.66) if abs(twist) > 0.01 else 0)
    along = np.linspace(p.path_begin, p.path_end, steps + 1)
    positions = np.stack([p.shear[0] * along, p.shear[1] * along, along - 0.5], -1)
    scales = np.stack([_taper(p.taper[0], along), _taper(p.taper[1], along)], -1)
    return _Path(positions, _rot_z(p.twist_begin + twist * along), scales, along, False)


def _circle_path(p: ShapeParams) -> _Path:
    twist = p.twist_end - p.twist_begin
    per_turn = STEPS_PER_REVOLUTION * (4 if abs(twist) > 3 * math.pi else 2 if abs(twist) > 1.5 * math.pi else 1)
    per_turn = min(per_turn, int(MAX_PATH_STEPS / p.revolutions))
    start = 2 * math.pi * p.path_begin * p.revolutions - p.shear[1] * 0.9
    stop = 2 * math.pi * p.path_end * p.revolutions - p.shear[1] * 0.9
    step = 2 * math.pi / per_turn
    inner = np.arange(math.floor(start / step) + 1, math.ceil(stop / step)) * step
    angles = np.concatenate([[start], inner[(inner > start + 1e-4) & (inner < stop - 1e-4)], [stop]])
    along = angles / (2 * math.pi * p.revolutions)
    through = (angles - start) / (stop - start)
    hole_x, hole_y = p.hole_size
    taper_x = _taper(p.taper[0], along) if abs(p.taper[0]) > 0.01 else np.ones(len(along))
    taper_y = _taper(p.taper[1], along) if abs(p.taper[1]) > 0.01 else np.ones(len(along))
    scales = np.stack([(1.0 - abs(p.skew)) * hole_x * taper_x, hole_y * taper_y], -1)
    radius = 1.0 - p.radius_offset * along if p.radius_offset > 0.001 else 1.0 + p.radius_offset * (1.0 - along)
    skew_start = p.path_begin * 2.0 * p.skew - p.skew
    total_skew = p.skew * 2.0 * (p.path_end - p.path_begin)
    x = 0.5 * (skew_start + total_skew * through) + np.sin(angles) * p.shear[0] * (0.25 + 0.5 * (0.5 - hole_y))
    y = (1.0 + abs(p.shear[1]) * 0.25) * np.cos(angles) * (0.5 - hole_y * 0.5) * radius
    z = np.sin(angles + p.shear[1]) * (0.5 - hole_y * 0.5) * radius
    rotations = _rot_x(angles + p.shear[1]) @ _rot_z(p.twist_begin + twist * along)
    return _Path(np.stack([x, y, z], -1), rotations, scales, along, _closed(p))


def _closed(p: ShapeParams) -> bool:
    """Whether the path comes back to where it began (a whole circle, nothing changing on the way)."""
    return p.circular and not (p.path_begin > 0 or p.path_end < 1 or p.taper != (0.0, 0.0) or p.skew
                               or p.twist_end != p.twist_begin or p.radius_offset or p.revolutions > 1.0)


def face_count(p: ShapeParams) -> int:
    """How many faces ``build_mesh`` makes of a shape, without building it."""
    outer, hole, begin, end, cut = _profile(p)
    sides = {side for side, _xy, _u, _closed_strip in outer.strips(begin, end)}
    return len(sides) + (hole is not None) + (0 if _closed(p) else 2) + (2 if cut else 0)


def _place(path: _Path, rows: np.ndarray | slice, xy: np.ndarray) -> np.ndarray:
    """Profile points ``xy`` (J, 2) on path rows: (I, J, 3)."""
    scales, rotations, positions = path.scales[rows], path.rotations[rows], path.positions[rows]
    local = np.zeros((len(scales), len(xy), 3))
    local[..., 0] = xy[None, :, 0] * scales[:, None, 0]
    local[..., 1] = xy[None, :, 1] * scales[:, None, 1]
    return np.einsum("iab,ijb->ija", rotations, local) + positions[:, None, :]


def _delta(grid: np.ndarray, axis: int, closed: bool) -> np.ndarray:
    """Central differences along an axis (one-sided at open ends; a closed axis's last point is its first)."""
    n = grid.shape[axis]
    if n < 2:
        return np.zeros_like(grid)
    take = lambda idx: np.take(grid, idx, axis=axis)  # noqa: E731
    ahead = np.minimum(np.arange(n) + 1, n - 1)
    behind = np.maximum(np.arange(n) - 1, 0)
    if closed and n > 2:
        ahead[-1], behind[0] = 1, n - 2
    return take(ahead) - take(behind)


def grid_normals(grid: np.ndarray, closed_j: bool, closed_i: bool) -> np.ndarray:
    """Normals of a grid; where a point (nearly) stays put along one direction (a sphere's pole, a
    side's edge on the path's axis, a top tapered to a line) it takes a neighbour's."""
    along_j, along_i = _delta(grid, 1, closed_j), _delta(grid, 0, closed_i)
    normals = np.cross(along_j, along_i)
    still_j, still_i = np.linalg.norm(along_j, axis=-1), np.linalg.norm(along_i, axis=-1)
    bad = (still_j <= 1e-4 * still_j.max()) | (still_i <= 1e-4 * still_i.max())
    for axis, shift in ((1, 1), (1, -1), (0, 1), (0, -1), (1, 2), (1, -2)):
        if not bad.any():
            break
        normals[bad] = np.roll(normals, shift, axis=axis)[bad]
        bad = bad & np.roll(bad, shift, axis=axis)
    normals[bad] = (0.0, 0.0, 1.0)
    return normals / np.maximum(np.linalg.norm(normals, axis=-1), 1e-12)[..., None]


def grid_triangles(rows: int, cols: int) -> np.ndarray:
    index = np.arange(rows * cols).reshape(rows, cols)
    a, b, c, d = index[:-1, :-1], index[:-1, 1:], index[1:, 1:], index[1:, :-1]
    return np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])


Part = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]       # positions, normals, uvs, triangles


def _side(path: _Path, xy: np.ndarray, u: np.ndarray, closed: bool) -> Part:
    grid = _place(path, slice(None), xy)
    normals = grid_normals(grid, closed, path.closed)
    rows, cols = grid.shape[:2]
    uv = np.stack(np.broadcast_arrays(u[None, :], path.v[:, None]), -1)
    return grid.reshape(-1, 3), normals.reshape(-1, 3), uv.reshape(-1, 2), grid_triangles(rows, cols)


def _cap(path: _Path, row: int, outer: _Ring, hole: _Ring | None, begin: float, end: float, top: bool) -> Part:
    if hole is None:
        ts = outer.ts(begin, end)
        xy = np.concatenate([outer.at(ts), [[0.0, 0.0]]])
        k = np.arange(len(ts) - 1)
        triangles = np.stack([k, k + 1, np.full(len(k), len(ts))], -1)
    else:
        ts = np.unique(np.concatenate([outer.ts(begin, end), hole.ts(begin, end)]))
        xy = np.concatenate([outer.at(ts), hole.at(ts)])
        triangles = grid_triangles(2, len(ts))
    if not top:
        triangles = triangles[:, ::-1]
    positions = _place(path, slice(row, row + 1), xy)[0]
    normal = path.rotations[row] @ np.array([0.0, 0.0, 1.0 if top else -1.0])
    uv = np.stack([0.5 + xy[:, 0], 0.5 + xy[:, 1] if top else 0.5 - xy[:, 1]], -1)
    return positions, np.tile(normal, (len(xy), 1)), uv, triangles


def build_mesh(p: ShapeParams) -> PrimMesh:
    """The mesh of a prim shape (see the module's docstring)."""
    outer, hole, begin, end, cut = _profile(p)
    path = _circle_path(p) if p.circular else _line_path(p)
    caps = not path.closed
    u_scale = (lambda ts: (ts - 0.5) * 2.0) if p.profile == HALF_CIRCLE else (lambda ts: ts)
    outer_strips = outer.strips(begin, end, u_scale(outer.ts(begin, end)))
    parts: list[tuple[int, Part]] = []
    number = 1 if caps else 0
    numbers: dict[int, int] = {}
    for side, xy, u, closed in outer_strips:
        if side not in numbers:
            numbers[side] = number
            number += 1
        parts.append((numbers[side], _side(path, xy, u, closed)))
    if hole is not None:
        for _side_index, xy, u, closed in hole.strips(begin, end, u_scale(hole.ts(begin, end)), reverse=True):
            parts.append((number, _side(path, xy, u, closed)))
        number += 1
    if caps:
        parts.append((0, _cap(path, len(path.v) - 1, outer, hole, begin, end, True)))
        parts.append((number, _cap(path, 0, outer, hole, begin, end, False)))
        number += 1
    if cut:
        start, stop = outer.at(np.array([begin])), outer.at(np.array([end]))
        inner_start = hole.at(np.array([begin])) if hole is not None else np.zeros((1, 2))
        inner_stop = hole.at(np.array([end])) if hole is not None else np.zeros((1, 2))
        across = np.array([0.0, 1.0])
        parts.append((number, _side(path, np.concatenate([inner_start, start]), across, False)))
        parts.append((number + 1, _side(path, np.concatenate([stop, inner_stop]), across, False)))
    return _assemble(parts)


def _assemble(parts: list[tuple[int, Part]]) -> PrimMesh:
    parts.sort(key=lambda item: item[0])
    positions, normals, uvs, triangles = [], [], [], []
    faces: dict[int, tuple[int, int]] = {}
    base = first = 0
    for face, (pos, nrm, uv, tri) in parts:
        positions.append(pos)
        normals.append(nrm)
        uvs.append(uv)
        triangles.append(tri + base)
        start, count = faces.get(face, (first, 0))
        faces[face] = (start, count + len(tri))
        base += len(pos)
        first += len(tri)
    return PrimMesh(np.concatenate(positions).astype(np.float32), np.concatenate(normals).astype(np.float32),
                    np.concatenate(uvs).astype(np.float32), np.concatenate(triangles).astype(np.uint32), faces)

