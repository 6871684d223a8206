"""Prim meshes as Storm models: the ``opensim_prim`` model source a visit adds to the runtime's
assets, so a prim's entity draws its mesh through an ordinary ``MeshRenderer``.

``opensim_prim:<shape key>`` is a prim's whole mesh (one Geom: one draw), and
``opensim_prim:<shape key>/<face mask>`` the faces in a bit mask of it (a prim whose faces look
different draws each look as its own entity). ``opensim_prim:sculpt-<map uuid>-<type>`` is a
sculpted prim's mesh, made from a sculpt map handed in with ``add_map`` (a prim waiting for its
map draws ``primitive:sphere``). Each shape is built once while it is in the bounded cache
(``max_shapes``, least recently used first out, its models forgotten by the assets with it);
every model of a shape shares its vertex data, and the assets share each model among the
entities that show it: 1,000 identical boxes are one mesh. Sculpt maps kept are bounded too.
"""
from __future__ import annotations

import functools
import uuid
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING

import numpy as np
from panda3d.core import GeomVertexData, NodePath

from engine.packs.gltf_files import ModelError
from engine.packs.primitives import triangles_node, vertex_data
from netcode.opensim.prim_mesh import PrimMesh, build_mesh, face_count
from netcode.opensim.prim_shape import PrimShape
from netcode.opensim.sculpt_mesh import build_sculpt

if TYPE_CHECKING:
    from engine.packs.assets import AssetCache

PACK = "opensim_prim"


def model_id(shape: PrimShape, faces: int = 0) -> str:
    """The asset id of a shape's mesh (``faces``: a bit mask of the faces drawn; 0: all)."""
    return f"{PACK}:{shape.key()}" + (f"/{faces:x}" if faces else "")


@functools.lru_cache(maxsize=4096)
def faces_of(shape: PrimShape) -> int:
    """How many texture faces a shape has (counted from its parameters, nothing built)."""
    return face_count(shape.params())


def sculpt_id(texture_id: uuid.UUID, sculpt_type: int) -> str:
    """The asset id of a sculpted prim's mesh."""
    return f"{PACK}:sculpt-{texture_id.hex}-{sculpt_type & 0xFF:02x}"


def _parse_sculpt(path: str) -> tuple[uuid.UUID, int]:
    parts = path.split("-")
    if len(parts) != 3 or len(parts[1]) != 32 or len(parts[2]) != 2:
        raise ValueError("a sculpt mesh is sculpt-<32 hex digits>-<2 hex digits>")
    try:
        return uuid.UUID(hex=parts[1]), int(parts[2], 16)
    except ValueError:
        raise ValueError("a sculpt mesh is sculpt-<32 hex digits>-<2 hex digits>") from None


def _parse(path: str) -> tuple[PrimShape, int]:
    key, _, mask = path.partition("/")
    shape = PrimShape.from_key(key)
    if not mask:
        return shape, 0
    if len(mask) > 4 or not all(c in "0123456789abcdef" for c in mask):
        raise ValueError(f"a face mask is at most 4 lower-case hex digits, got {mask[:20]!r}")
    faces = int(mask, 16)
    if faces == 0 or faces >> faces_of(shape):
        raise ValueError(f"face mask {mask}: the shape has faces 0..{faces_of(shape) - 1}")
    return shape, faces


class PrimModels:
    """The ``opensim_prim`` model source (``AssetCache.add_source``): builds prim meshes from their
    asset ids and keeps a bounded number of shapes."""

    def __init__(self, assets: "AssetCache | None" = None, max_shapes: int = 2048, max_maps: int = 256) -> None:
        self.assets = assets
        self.max_shapes, self.max_maps = max_shapes, max_maps
        self.maps: OrderedDict[uuid.UUID, tuple[int, int, bytes]] = OrderedDict()   # sculpt maps: w, h, RGBA
        self.stats: Counter[str] = Counter()
        self._shapes: OrderedDict[str, tuple[PrimMesh, GeomVertexData]] = OrderedDict()
        self._ids: dict[str, set[str]] = {}              # shape key -> model ids built from it

    @classmethod
    def installed(cls, assets: "AssetCache") -> "PrimModels":
        """The source of ``assets``, added the first time it is asked for."""
        source = assets.source(PACK)
        if isinstance(source, PrimModels):
            return source
        models = cls(assets)
        assets.add_source(PACK, models)
        return models

    def add_map(self, texture_id: uuid.UUID, width: int, height: int, rgba: bytes) -> None:
        """A sculpt map arrived (decoded pixels, rows bottom to top); the oldest past the bound go."""
        self.maps[texture_id] = (width, height, rgba)
        self.maps.move_to_end(texture_id)
        while len(self.maps) > self.max_maps:
            old, _ = self.maps.popitem(last=False)
            for asset_id in self._ids.pop(f"sculpt-{old.hex}", ()):
                self._shapes.pop(asset_id.split(":", 1)[1], None)
                if self.assets is not None:
                    self.assets.forget(asset_id)

    def problem(self, path: str) -> str | None:
        try:
            if path.startswith("sculpt-"):
                if _parse_sculpt(path)[0] not in self.maps:
                    return "its sculpt map has not arrived"
            else:
                _parse(path)
        except ValueError as exc:
            return f"not a prim mesh: {exc}"
        return None

    def build(self, path: str) -> NodePath:
        if path.startswith("sculpt-"):
            return self._sculpt(path)
        try:
            shape, faces = _parse(path)
        except ValueError as exc:
            raise ModelError(f"not a prim mesh: {exc}") from None
        mesh, vdata = self._mesh(shape)
        chosen = [f for f in range(mesh.face_count) if not faces or faces >> f & 1]
        triangles = np.concatenate([mesh.face_triangles(f) for f in chosen])
        self._ids.setdefault(shape.key(), set()).add(f"{PACK}:{path}")
        self.stats["models"] += 1
        return triangles_node(vdata, triangles, f"prim {shape.name()}")

    def _sculpt(self, path: str) -> NodePath:
        try:
            texture_id, sculpt_type = _parse_sculpt(path)
            width, height, rgba = self.maps[texture_id]
            cached = self._shapes.get(path)
            if cached is None:
                mesh = build_sculpt(width, height, rgba, sculpt_type)
                cached = self._keep(path, (mesh, _vertex_data(mesh)))
                self.stats["sculpts"] += 1
            else:
                self._shapes.move_to_end(path)
        except (ValueError, KeyError) as exc:
            raise ModelError(f"not a sculpt mesh: {exc}") from None
        self._ids.setdefault(f"sculpt-{texture_id.hex}", set()).add(f"{PACK}:{path}")
        return triangles_node(cached[1], cached[0].triangles, "sculpt")

    def has(self, shape: PrimShape) -> bool:
        """Whether a shape's mesh is built and cached (drawing it costs no build)."""
        return shape.key() in self._shapes

    def mesh(self, shape: PrimShape) -> PrimMesh:
        """The mesh of a shape (built once while cached)."""
        return self._mesh(shape)[0]

    def _mesh(self, shape: PrimShape) -> tuple[PrimMesh, GeomVertexData]:
        key = shape.key()
        cached = self._shapes.get(key)
        if cached is not None:
            self._shapes.move_to_end(key)
            return cached
        mesh = build_mesh(shape.params())
        cached = self._keep(key, (mesh, _vertex_data(mesh)))
        self.stats["built"] += 1
        return cached

    def _keep(self, key: str, cached: tuple[PrimMesh, GeomVertexData]) -> tuple[PrimMesh, GeomVertexData]:
        """Cache a shape's or a sculpt's mesh; past ``max_shapes`` the oldest go, their models forgotten."""
        self._shapes[key] = cached
        while len(self._shapes) > self.max_shapes:
            old, _ = self._shapes.popitem(last=False)
            self.stats["evicted"] += 1
            if old.startswith("sculpt-"):                # one sculpt type of a map: its model only
                ids = {f"{PACK}:{old}"}
                self._ids.get(old.rsplit("-", 1)[0], set()).discard(f"{PACK}:{old}")
            else:
                ids = self._ids.pop(old, set())
            for asset_id in ids:
                if self.assets is not None:
                    self.assets.forget(asset_id)
        return cached


def _vertex_data(mesh: PrimMesh) -> GeomVertexData:
    return vertex_data("prim", mesh.positions, mesh.normals, mesh.uvs)
