"""Accessor values read with numpy, and the one tightly packed buffer the converter is given.

Every accessor the converter will read (vertex attributes, morph targets, indices, inverse bind
matrices, animation keys) is read here (strides, sparse substitutions, Draco-decoded arrays
applied) and written again, alone in its own buffer view, with no stride and no offset:
interleaved views, padded rows, quantized or normalized integers (made float, as the glTF
rules say) and sparse accessors all reach panda3d-gltf as the plain case it handles. Values
are checked on the way: numbers finite, indices below the primitive's vertex count, key times
increasing, and the converter's sampling work bounded.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.packs.gltf_checks import MAX_CLIP_SECONDS, MAX_CONVERTER_STEPS, element_size, fail
from engine.packs.gltf_schema import COMPONENT_SIZES, TYPE_COMPONENTS

DTYPES = {5120: np.dtype("<i1"), 5121: np.dtype("<u1"), 5122: np.dtype("<i2"), 5123: np.dtype("<u2"),
          5125: np.dtype("<u4"), 5126: np.dtype("<f4")}
_NORMALIZED = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}
MAX_PACKED_BYTES = 512 * 1024 * 1024  # the vertex, index and key data of one model, as the converter gets it


def _strided(buf: bytes, start: int, count: int, stride: int, component_type: int, kind: str) -> np.ndarray:
    dtype, size = DTYPES[component_type], COMPONENT_SIZES[component_type]
    if kind.startswith("MAT"):
        rows = int(kind[3])
        column = rows * size + (-(rows * size) % 4)
        columns = [np.ndarray((count, rows), dtype, buffer=buf, offset=start + c * column, strides=(stride, size))
                   for c in range(rows)]
        return np.concatenate(columns, axis=1)
    return np.ndarray((count, TYPE_COMPONENTS[kind]), dtype, buffer=buf, offset=start, strides=(stride, size)).copy()


def read_accessor(doc: dict[str, Any], buffers: list[bytes], index: int, where: str,
                  overrides: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """The values of ``accessors[index]`` as a (count, components) array of its component type;
    the bounds were checked by ``DocumentCheck.accessors``."""
    if overrides and index in overrides:
        return overrides[index]
    acc = doc["accessors"][index]
    component_type, kind, count = acc["componentType"], acc["type"], acc["count"]
    views = doc["bufferViews"]
    if "bufferView" in acc:
        view = views[acc["bufferView"]]
        stride = view.get("byteStride") or element_size(component_type, kind)
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        out = _strided(buffers[view["buffer"]], start, count, stride, component_type, kind)
    else:
        out = np.zeros((count, TYPE_COMPONENTS[kind]), DTYPES[component_type])
    sparse = acc.get("sparse")
    if sparse is not None:
        n = sparse["count"]
        part = sparse["indices"]
        view = views[part["bufferView"]]
        at = _strided(buffers[view["buffer"]], view.get("byteOffset", 0) + part.get("byteOffset", 0), n,
                      COMPONENT_SIZES[part["componentType"]], part["componentType"], "SCALAR")[:, 0].astype(np.int64)
        if at.size and (at.min() < 0 or at.max() >= count or bool(np.any(np.diff(at) <= 0))):
            fail(where, f"accessors[{index}].sparse.indices",
                 f"increasing indices below the accessor's count ({count})")
        part = sparse["values"]
        view = views[part["bufferView"]]
        values = _strided(buffers[view["buffer"]], view.get("byteOffset", 0) + part.get("byteOffset", 0), n,
                          element_size(component_type, kind), component_type, kind)
        out[at] = values
    return out


def to_float(values: np.ndarray, component_type: int, normalized: bool) -> np.ndarray:
    """Integer values as float32, scaled to [0, 1] or [-1, 1] when ``normalized`` (glTF's rule)."""
    if values.dtype == np.float32:
        return values
    out = values.astype(np.float32)
    scale = _NORMALIZED.get(component_type) if normalized else None
    if scale is not None:
        out /= scale
        if component_type in (5120, 5122):
            np.maximum(out, -1.0, out=out)
    return out


_FLOAT_TYPES = {np.dtype("float32"): 5126, np.dtype("uint8"): 5121, np.dtype("uint16"): 5123,
                np.dtype("uint32"): 5125, np.dtype("int8"): 5120, np.dtype("int16"): 5122}


def component_type_of(values: np.ndarray) -> int:
    """The glTF component type of an array's dtype (any other dtype is made float32 first)."""
    return _FLOAT_TYPES.get(values.dtype.newbyteorder("="), 5126)


class Repack:
    """Builds the packed buffer: ``run`` rewrites ``doc`` in place and returns the buffer's bytes."""

    def __init__(self, doc: dict[str, Any], buffers: list[bytes], where: str,
                 overrides: dict[int, np.ndarray] | None = None, fps: int = 30) -> None:
        self.doc, self.buffers, self.where = doc, buffers, where
        self.overrides = overrides or {}
        self.fps = fps
        self.original: list[dict[str, Any]] = doc.get("accessors", [])
        self.accessors: list[dict[str, Any]] = list(self.original)
        self.views: list[dict[str, Any]] = []
        self.blob = bytearray()
        self._done: dict[tuple[int, str], int] = {}
        self._claimed: set[int] = set()
        self._largest: dict[int, int] = {}

    def run(self) -> bytes:
        for mesh_index, mesh in enumerate(self.doc.get("meshes", [])):
            for prim_index, prim in enumerate(mesh["primitives"]):
                self._primitive(prim, f"meshes[{mesh_index}].primitives[{prim_index}]")
        for skin in self.doc.get("skins", []):
            if "inverseBindMatrices" in skin:
                skin["inverseBindMatrices"] = self._use(skin["inverseBindMatrices"], "float")
        steps = 0
        for anim_index, anim in enumerate(self.doc.get("animations", [])):
            steps += self._animation(anim, anim_index)
            if steps > MAX_CONVERTER_STEPS:
                fail(self.where, f"animations[{anim_index}]", "animations the converter can sample in bounded "
                                                              f"time (frames x channels at most {MAX_CONVERTER_STEPS})",
                     steps)
        self.doc["accessors"] = self.accessors
        self.doc["bufferViews"] = self.views
        self.doc["buffers"] = [{"byteLength": max(len(self.blob), 4)}]
        return bytes(self.blob) or bytes(4)

    def _primitive(self, prim: dict[str, Any], place: str) -> None:
        taken: set[int] = set()
        attributes = prim["attributes"]
        for semantic in attributes:
            attributes[semantic] = self._use(attributes[semantic], "joints" if semantic == "JOINTS_0" else "float",
                                             taken)
        for target in prim.get("targets", []):
            for semantic in target:
                target[semantic] = self._use(target[semantic], "float", taken)
        if "indices" in prim:
            index = prim["indices"]
            prim["indices"] = self._use(index, "index")
            vertices = self.accessors[attributes["POSITION"]]["count"]
            largest = self._largest[prim["indices"]]
            if largest >= vertices:
                fail(self.where, f"{place}.indices", f"indices below the primitive's vertex count ({vertices}, the "
                                                     f"count of its POSITION accessor) in accessors[{index}]", largest)

    def _animation(self, anim: dict[str, Any], anim_index: int) -> int:
        longest, keys = 0.0, 0
        for sampler_index, sampler in enumerate(anim["samplers"]):
            times = read_accessor(self.doc, self.buffers, sampler["input"], self.where,
                                  self.overrides)[:, 0].astype(np.float64)
            place = f"animations[{anim_index}].samplers[{sampler_index}].input"
            if not np.all(np.isfinite(times)) or times[0] < 0 or bool(np.any(np.diff(times) <= 0)):
                fail(self.where, place, "key times that are finite, from 0 on and increasing (accessors"
                                        f"[{sampler['input']}])")
            if times[-1] > MAX_CLIP_SECONDS:
                fail(self.where, place, f"a last key time of at most {MAX_CLIP_SECONDS:.0f} seconds", float(times[-1]))
            longest = max(longest, float(times[-1]))
            keys += len(times)
            sampler["input"] = self._use(sampler["input"], "float")
            sampler["output"] = self._use(sampler["output"], "float")
        frames = max(math.ceil(longest * self.fps), 1)
        return frames * max(len(anim["channels"]), 1) + keys  # each frame of each channel is sampled

    def _use(self, index: int, role: str, taken: set[int] | None = None) -> int:
        new = self._done.get((index, role))
        if new is None:
            new = self._done[(index, role)] = self._pack(index, role)
        if taken is not None:
            if new in taken:  # one accessor named twice in a primitive: the converter needs two names
                self.accessors.append(dict(self.accessors[new]))
                new = len(self.accessors) - 1
            taken.add(new)
        return new

    def _pack(self, index: int, role: str) -> int:
        acc = self.original[index]
        components = TYPE_COMPONENTS[acc["type"]]
        if len(self.blob) + acc["count"] * components * 4 > MAX_PACKED_BYTES:
            fail(self.where, f"accessors[{index}]", f"vertex, index and key data of at most {MAX_PACKED_BYTES} bytes "
                                                    "in one model", len(self.blob) + acc["count"] * components * 4)
        values = read_accessor(self.doc, self.buffers, index, self.where, self.overrides)
        component_type = component_type_of(values) if index in self.overrides else acc["componentType"]
        largest = 0
        if role == "float":
            values = to_float(values, component_type, bool(acc.get("normalized", False)))
            component_type = 5126
            if not np.isfinite(values).all():  # NaN bounds and transforms trip Panda3D's and Bullet's asserts later
                fail(self.where, f"accessors[{index}]", "finite numbers (it holds NaN or infinity)")
        elif role == "index":
            largest = int(values.max()) if values.size else 0
        data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes()
        self.blob += bytes(-len(self.blob) % 4)
        self.views.append({"buffer": 0, "byteOffset": len(self.blob), "byteLength": max(len(data), 1)})
        self.blob += data
        packed = {"bufferView": len(self.views) - 1, "componentType": component_type, "count": len(values),
                  "type": acc["type"]}
        if index not in self._claimed:  # the first use keeps the accessor's number; another role gets a new one
            self._claimed.add(index)
            self.accessors[index] = packed
            new = index
        else:
            self.accessors.append(packed)
            new = len(self.accessors) - 1
        if role == "index":
            self._largest[new] = largest
        return new
