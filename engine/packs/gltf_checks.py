"""What a glTF document must be before Panda3D's converter sees it.

panda3d-gltf trusts its input: an accessor past the end of its buffer, an index past the last
vertex, a child that is its own grandparent or a count of 2**31 makes the C++ side read out of
bounds, allocate without limit or loop forever. Everything it would follow is checked here
first, as data: every reference in range, every buffer view inside its buffer, every accessor
inside its view, the node hierarchy a tree, and the work the converter will do bounded. Each
refusal is one ModelError naming the file, the place (``accessors[3].count``) and what was
expected. Reading accessor values (indices, key times) is ``gltf_data``'s part.
"""
from __future__ import annotations

import math
import reprlib
from typing import Any, NoReturn

from engine.core.errors import StormError, printable
from engine.packs.gltf_schema import (
    COMPONENT_SIZES,
    CONVERTED,
    EXPECTED,
    INDEX_TYPES,
    LIGHT,
    SPEC,
    TYPE_COMPONENTS,
    attribute_types,
)

# Extensions a file may require: what panda3d-gltf reads, what Storm turns into plain glTF before
# it converts (Draco meshes decoded, quantized attributes made float) and what Storm's converter
# fixes read (unlit materials, engine.render.gltf_fixes).
SUPPORTED_REQUIRED = frozenset({"KHR_draco_mesh_compression", "KHR_mesh_quantization", "KHR_texture_transform",
                                "KHR_lights_punctual", "KHR_materials_ior", "KHR_materials_unlit"})
MAX_NODE_DEPTH = 128  # nodes in one parent chain (the converter walks it recursively, per node)
MAX_JOINTS = 1024  # joints of one skin
MAX_VERTICES = 2_000_000  # vertices over all primitives of one model (the converter loops over them in Python)
MAX_CLIP_SECONDS = 3600.0  # the last key time of an animation (the converter samples every clip at 30 fps)
MAX_CONVERTER_STEPS = 50_000_000  # skin and animation work the converter does in Python loops

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 40
_REPR.maxlist = _REPR.maxdict = 4
_REPR.maxlevel = 2
_MISSING = object()


class ModelError(StormError):
    """A model that cannot load: the message names the file, the place in it and why."""


def fail(where: str, place: str, expected: str, got: Any = _MISSING) -> NoReturn:
    """Raise the one message for a refused model: ``file: place: expected ..., got ...``."""
    shown = "" if got is _MISSING else f", got {printable(_REPR.repr(got), 80)}"
    raise ModelError(f"{printable(where)}: {place}: expected {expected}{shown}")


def element_size(component_type: int, kind: str) -> int:
    """Bytes of one accessor element; matrix columns start on 4-byte boundaries."""
    size = COMPONENT_SIZES[component_type]
    if kind.startswith("MAT"):
        rows = int(kind[3])
        column = rows * size
        return (column + (-column % 4)) * rows
    return size * TYPE_COMPONENTS[kind]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any, least: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


class DocumentCheck:
    """The checks of one document; ``where`` names its file in every message."""

    def __init__(self, doc: dict[str, Any], where: str) -> None:
        self.doc = doc
        self.where = where
        self.notes: list[str] = []  # what was left out, for the log

    def fail(self, place: str, expected: str, got: Any = _MISSING) -> NoReturn:
        fail(self.where, place, expected, got)

    def array(self, name: str) -> list[Any]:
        if name == "lights":
            holder = self.doc.get("extensions", {}).get("KHR_lights_punctual", {})
            return holder.get("lights", []) if isinstance(holder, dict) else []
        return self.doc.get(name, [])

    # -- shapes: every field the converter reads has the type it assumes -----------------------

    def shapes(self) -> None:
        doc = self.doc
        for name in (*SPEC, "cameras"):
            if not isinstance(doc.setdefault(name, []), list):
                self.fail(name, "a list", doc[name])
        for field in ("extensionsUsed", "extensionsRequired"):
            self.value(doc.get(field, []), "strlist", field)
        self.value(doc.get("extensions", {}), "obj", "extensions")
        lights = doc.get("extensions", {}).get("KHR_lights_punctual")
        if lights is not None:
            self.value(lights, ("obj", {"lights": ("objs", LIGHT)}), "extensions.KHR_lights_punctual")
        if "scene" in doc:
            self.value(doc["scene"], ("ref", "scenes"), "scene")
        for name, spec in SPEC.items():
            for index, item in enumerate(doc.get(name, [])):
                self.value(item, ("obj", spec), f"{name}[{index}]")

    def value(self, value: Any, kind: Any, place: str) -> None:
        if isinstance(kind, str):
            ok = {"int": lambda: _whole(value), "count": lambda: _whole(value, 1), "num": lambda: _number(value),
                  "num+": lambda: _number(value) and value > 0, "str": lambda: isinstance(value, str),
                  "bool": lambda: isinstance(value, bool), "obj": lambda: isinstance(value, dict),
                  "numlist": lambda: isinstance(value, list) and all(_number(v) for v in value),
                  "strlist": lambda: isinstance(value, list) and all(isinstance(v, str) for v in value)}[kind]()
            if not ok:
                self.fail(place, EXPECTED[kind], value)
            return
        tag, arg = kind
        if tag == "ref":
            size = len(self.array(arg))
            if not _whole(value) or value >= size:
                self.fail(place, f"an index into {arg} (0 to {size - 1})" if size else f"no reference ({arg} is empty)",
                          value)
        elif tag in ("refs", "refs+"):
            if not isinstance(value, list) or (tag == "refs+" and not value):
                self.fail(place, f"a {'non-empty ' if tag == 'refs+' else ''}list of indices into {arg}", value)
            for at, item in enumerate(value):
                self.value(item, ("ref", arg), f"{place}[{at}]")
            if len(set(value)) != len(value):
                self.fail(place, "each index once", value)
        elif tag == "nums":
            if not isinstance(value, list) or len(value) != arg or not all(_number(v) for v in value):
                self.fail(place, f"a list of {arg} finite numbers", value)
        elif tag == "enum":
            if isinstance(value, bool) or value not in arg:
                self.fail(place, "one of " + ", ".join(map(str, arg)), value)
        elif tag in ("objs", "objs+"):
            if not isinstance(value, list) or (tag == "objs+" and not value):
                self.fail(place, f"a {'non-empty ' if tag == 'objs+' else ''}list of objects", value)
            for at, item in enumerate(value):
                self.value(item, ("obj", arg), f"{place}[{at}]")
        elif tag == "obj":
            if not isinstance(value, dict):
                self.fail(place, "an object", value)
            for field, sub in arg.items():
                name = field.rstrip("!")
                if name in value:
                    self.value(value[name], sub, f"{place}.{name}")
                elif field.endswith("!"):
                    self.fail(place, f"a field {name!r}")

    def required_extensions(self) -> None:
        missing = [name for name in self.doc.get("extensionsRequired", []) if name not in SUPPORTED_REQUIRED]
        if missing:
            shown = ", ".join(printable(name, 60) for name in missing[:5])
            known = ", ".join(sorted(SUPPORTED_REQUIRED))
            self.fail("extensionsRequired", f"only extensions Storm can load ({known}); "
                                            f"this model needs {shown}, which Storm does not support")

    # -- data: views inside buffers, accessors inside views --------------------------------------

    def views(self, buffer_sizes: list[int]) -> None:
        for index, view in enumerate(self.doc.get("bufferViews", [])):
            end = view.get("byteOffset", 0) + view["byteLength"]
            size = buffer_sizes[view["buffer"]]
            if end > size:
                self.fail(f"bufferViews[{index}]", f"byteOffset + byteLength within buffers[{view['buffer']}] "
                                                   f"({size} bytes)", end)
            stride = view.get("byteStride")
            if stride is not None and not 4 <= stride <= 252:
                self.fail(f"bufferViews[{index}].byteStride", "a number from 4 to 252", stride)

    def accessors(self) -> None:
        views = self.doc.get("bufferViews", [])
        for index, acc in enumerate(self.doc.get("accessors", [])):
            place = f"accessors[{index}]"
            size = element_size(acc["componentType"], acc["type"])
            if "bufferView" in acc:
                view = views[acc["bufferView"]]
                stride = view.get("byteStride") or size
                if stride < size:
                    self.fail(f"bufferViews[{acc['bufferView']}].byteStride", f"at least {size} bytes (the element "
                                                                              f"size of {place})", stride)
                end = acc.get("byteOffset", 0) + (acc["count"] - 1) * stride + size
                if end > view["byteLength"]:
                    self.fail(place, f"byteOffset + (count - 1) * stride + element size within bufferViews"
                                     f"[{acc['bufferView']}] ({view['byteLength']} bytes)", end)
            sparse = acc.get("sparse")
            if sparse is not None:
                if sparse["count"] > acc["count"]:
                    self.fail(f"{place}.sparse.count", f"at most the accessor's count ({acc['count']})",
                              sparse["count"])
                for part, each in (("indices", COMPONENT_SIZES[sparse["indices"]["componentType"]]), ("values", size)):
                    view_index = sparse[part]["bufferView"]
                    end = sparse[part].get("byteOffset", 0) + sparse["count"] * each
                    if end > views[view_index]["byteLength"]:
                        self.fail(f"{place}.sparse.{part}", f"byteOffset + count * {each} within bufferViews"
                                                            f"[{view_index}] ({views[view_index]['byteLength']} "
                                                            "bytes)", end)

    # -- the node hierarchy: a tree, not too deep ------------------------------------------------

    def hierarchy(self) -> None:
        nodes = self.doc.get("nodes", [])
        parent: list[int | None] = [None] * len(nodes)
        for index, node in enumerate(nodes):
            for child in node.get("children", []):
                if child == index or parent[child] is not None:
                    why = "a node that is not its own child" if child == index else \
                        f"a node with one parent (node {child} is already a child of nodes[{parent[child]}])"
                    self.fail(f"nodes[{index}].children", why, child)
                parent[child] = index
        depth: list[int] = [0] * len(nodes)  # 0: not measured yet
        for start in range(len(nodes)):
            chain: list[int] = []
            at: int | None = start
            while at is not None and depth[at] == 0:
                if len(chain) > MAX_NODE_DEPTH:
                    self.fail(f"nodes[{start}]", f"a parent chain of at most {MAX_NODE_DEPTH} nodes (or a cycle: a "
                                                 "node that is its own ancestor)")
                chain.append(at)
                depth[at] = -1  # on the chain being walked
                at = parent[at]
            if at is not None and depth[at] == -1:
                self.fail(f"nodes[{at}]", "a node hierarchy without cycles (this node is its own ancestor)")
            base = depth[at] if at is not None else 0
            for offset, node_index in enumerate(reversed(chain), start=1):
                depth[node_index] = base + offset
            if base + len(chain) > MAX_NODE_DEPTH:
                self.fail(f"nodes[{start}]", f"a parent chain of at most {MAX_NODE_DEPTH} nodes", base + len(chain))
        for index, scene in enumerate(self.doc.get("scenes", [])):
            for root in [*scene.get("nodes", []), *scene.get("extras", {}).get("hidden_nodes", [])]:
                if parent[root] is not None:
                    self.fail(f"scenes[{index}].nodes", f"root nodes (node {root} is a child of nodes[{parent[root]}])")
        work = 0
        for index, skin in enumerate(self.doc.get("skins", [])):
            joints = skin["joints"]
            if len(joints) > MAX_JOINTS:
                self.fail(f"skins[{index}].joints", f"at most {MAX_JOINTS} joints", len(joints))
            work += len(nodes) * len(joints)
            if "inverseBindMatrices" in skin:
                acc = self.doc["accessors"][skin["inverseBindMatrices"]]
                if acc["type"] != "MAT4" or acc["componentType"] != 5126 or acc["count"] < len(joints):
                    self.fail(f"skins[{index}].inverseBindMatrices", f"an accessor of at least {len(joints)} float "
                                                                     "MAT4 matrices (one per joint)",
                              f"{acc['count']} x {acc['componentType']} {acc['type']}")
        if work > MAX_CONVERTER_STEPS:
            self.fail("skins", f"skins the converter can join in bounded time (nodes x joints at most "
                               f"{MAX_CONVERTER_STEPS})", work)

    # -- meshes: attributes of one length, indices of an index type ------------------------------

    def primitives(self) -> int:
        """Check every primitive; returns the vertices the converter will build."""
        accessors = self.doc.get("accessors", [])
        total = 0
        for mesh_index, mesh in enumerate(self.doc.get("meshes", [])):
            targets = None
            for prim_index, prim in enumerate(mesh["primitives"]):
                place = f"meshes[{mesh_index}].primitives[{prim_index}]"
                total += self.primitive(prim, place, accessors)
                count = len(prim.get("targets", []))
                if targets is not None and count != targets:
                    self.fail(f"{place}.targets", f"as many morph targets as the mesh's first primitive ({targets})",
                              count)
                targets = count
            weights = mesh.get("weights")
            if weights is not None and targets and len(weights) != targets:
                self.fail(f"meshes[{mesh_index}].weights", f"one weight per morph target ({targets})", len(weights))
            names = mesh.get("extras", {}).get("targetNames", [])
            if len(names) > max(targets or 0, len(weights or [])):
                self.fail(f"meshes[{mesh_index}].extras.targetNames", f"at most one name per morph target "
                                                                      f"({targets or 0})", len(names))
        if total > MAX_VERTICES:
            self.fail("meshes", f"at most {MAX_VERTICES} vertices over all primitives (split the model)", total)
        return total

    def primitive(self, prim: dict[str, Any], place: str, accessors: list[dict[str, Any]]) -> int:
        attributes = prim["attributes"]
        for semantic in list(attributes):
            if not CONVERTED.fullmatch(semantic):
                self.notes.append(f"{place}.attributes.{printable(semantic, 40)}: an attribute the converter does not "
                                  "keep; left out")
                del attributes[semantic]
        if "POSITION" not in attributes:
            self.fail(f"{place}.attributes", "a POSITION attribute")
        counts: dict[str, int] = {}
        for semantic, index in attributes.items():
            self.value(index, ("ref", "accessors"), f"{place}.attributes.{printable(semantic, 40)}")
            acc = accessors[index]
            allowed = attribute_types(semantic)
            if acc["type"] not in allowed[0] or acc["componentType"] not in allowed[1]:
                self.fail(f"{place}.attributes.{printable(semantic, 40)}",
                          f"an accessor of type {' or '.join(allowed[0])} with componentType "
                          f"{' or '.join(map(str, allowed[1]))} (accessors[{index}])",
                          f"{acc['componentType']} {acc['type']}")
            counts[semantic] = acc["count"]
        for target_index, target in enumerate(prim.get("targets", [])):
            for semantic, index in target.items():
                where = f"{place}.targets[{target_index}].{printable(semantic, 40)}"
                self.value(index, ("ref", "accessors"), where)
                if semantic not in ("POSITION", "NORMAL", "TANGENT") or accessors[index]["type"] != "VEC3":
                    self.fail(where, "a POSITION, NORMAL or TANGENT target of VEC3 values", semantic)
                counts[f"targets[{target_index}].{semantic}"] = accessors[index]["count"]
        vertices = counts["POSITION"]
        for semantic, count in counts.items():
            if count != vertices:
                self.fail(f"{place}.attributes.{printable(semantic, 40)}",
                          f"as many values as POSITION has ({vertices})",
                          count)
        mode = prim.get("mode", 4)
        if "indices" in prim:
            acc = accessors[prim["indices"]]
            if acc["type"] != "SCALAR" or acc["componentType"] not in INDEX_TYPES:
                self.fail(f"{place}.indices", "an accessor of SCALAR 5121, 5123 or 5125 (unsigned) indices",
                          f"{acc['componentType']} {acc['type']}")
            elements = acc["count"]
        else:
            elements = vertices
        need = {1: (2, 2), 3: (2, 1), 4: (3, 3), 5: (3, 1), 6: (3, 1)}.get(mode)
        if need is not None and (elements < need[0] or elements % need[1]):
            self.fail(f"{place}.{'indices' if 'indices' in prim else 'attributes.POSITION'}",
                      f"a count that makes whole primitives of mode {mode}", elements)
        return vertices

    # -- animations: channels that target nodes, samplers of matching accessors ------------------

    def animations(self) -> None:
        """Check every animation; channels the converter cannot follow (no node, or a path it does
        not know) are taken out, and said so in the notes."""
        accessors = self.doc.get("accessors", [])
        for anim_index, anim in enumerate(self.doc.get("animations", [])):
            samplers = anim["samplers"]
            kept = []
            for channel_index, channel in enumerate(anim["channels"]):
                place = f"animations[{anim_index}].channels[{channel_index}]"
                if channel["sampler"] >= len(samplers):
                    self.fail(f"{place}.sampler", f"an index into this animation's samplers (0 to {len(samplers) - 1})",
                              channel["sampler"])
                target = channel["target"]
                if "node" not in target or target["path"] not in ("translation", "rotation", "scale", "weights"):
                    shown = printable(str(target["path"]), 40)
                    self.notes.append(f"{place}: a target Storm does not animate ({shown}); "
                                 "left out")
                    continue
                kept.append(channel)
            anim["channels"] = kept
            for sampler_index, sampler in enumerate(samplers):
                place = f"animations[{anim_index}].samplers[{sampler_index}]"
                key_times = accessors[sampler["input"]]
                if key_times["type"] != "SCALAR" or key_times["componentType"] != 5126:
                    self.fail(f"{place}.input", "an accessor of SCALAR float key times",
                              f"{key_times['componentType']} {key_times['type']}")
            for channel_index, channel in enumerate(kept):
                self.channel(anim_index, channel_index, channel, samplers[channel["sampler"]], accessors)

    def channel(self, anim_index: int, channel_index: int, channel: dict[str, Any], sampler: dict[str, Any],
                accessors: list[dict[str, Any]]) -> None:
        place = f"animations[{anim_index}].samplers[{channel['sampler']}].output"
        path = channel["target"]["path"]
        values, keys = accessors[sampler["output"]], accessors[sampler["input"]]["count"]
        per_key = 3 if sampler.get("interpolation") == "CUBICSPLINE" else 1
        kind = {"translation": "VEC3", "scale": "VEC3", "rotation": "VEC4", "weights": "SCALAR"}[path]
        if path == "weights":
            node = self.doc["nodes"][channel["target"]["node"]]
            mesh = self.doc["meshes"][node["mesh"]] if "mesh" in node else None
            per_key *= len(mesh["primitives"][0].get("targets", [])) if mesh is not None else 0
            if not per_key:
                self.fail(f"animations[{anim_index}].channels[{channel_index}].target", "a node whose mesh has morph "
                                                                                       "targets, for weights")
        if values["type"] != kind or (values["componentType"] != 5126 and path in ("translation", "scale")):
            self.fail(place, f"an accessor of {kind} values for {path}", f"{values['componentType']} {values['type']}")
        if values["count"] != keys * per_key:
            self.fail(place, f"{keys * per_key} values ({per_key} per key time, {keys} key times)", values["count"])

