"""The clips of a glTF file as a prop plays them: their names, lengths and node (TRS) channels.

panda3d-gltf turns skeletal and morph-target animation into Panda3D AnimBundles under the model's
Characters, but drops animation of plain nodes: a door on its hinge, a fan's blades, a bobbing
coin. Storm reads those channels here, from the same file through the content registry with the
model loader's own checks, and plays them on the model's nodes, interpolating between keys as
glTF says (LINEAR: straight line, rotations along the sphere; STEP; CUBICSPLINE: Hermite
curves), at any time, not resampled.

**Clip names.** A clip is named by the animation's ``name`` in the file; an animation without one
(or with an empty one) is ``anim<N>``, N its place in the file's ``animations`` list counted from
0: the name panda3d-gltf gives it, so an Animator and a PropAnimator see the same names. When
two animations share a name the first one keeps it and the other is left out (reported).
"""
from __future__ import annotations

import bisect
import math
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from panda3d.core import CS_default, CS_yup_right, LMatrix4, LQuaternion, NodePath

from engine.core.errors import DataError

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry

Vec = tuple[float, ...]
TRS_PATHS = ("translation", "rotation", "scale")


def clip_name(animation: Any, index: int) -> str:
    """The name Storm (and panda3d-gltf) give the ``index``-th animation of a file."""
    name = animation.get("name") if isinstance(animation, dict) else None
    return name if isinstance(name, str) and name else f"anim{index}"


@dataclass
class Track:
    """One channel of node animation: a node's translation, rotation or scale over time."""

    node: int
    path: str
    times: list[float]
    values: list[Vec]      # CUBICSPLINE: in-tangent, value, out-tangent per key
    interpolation: str

    def sample(self, t: float) -> Vec:
        times, values = self.times, self.values
        cubic = self.interpolation == "CUBICSPLINE"
        if t <= times[0] or len(times) == 1:
            return values[1] if cubic else values[0]
        last = len(times) - 1
        if t >= times[last]:
            return values[3 * last + 1] if cubic else values[last]
        i = bisect.bisect_right(times, t) - 1
        t0, t1 = times[i], times[i + 1]
        u = (t - t0) / (t1 - t0)
        if self.interpolation == "STEP":
            return values[i]
        if cubic:
            dt = t1 - t0
            p0, m0, m1, p1 = values[3 * i + 1], values[3 * i + 2], values[3 * i + 3], values[3 * i + 4]
            u2, u3 = u * u, u * u * u
            h00, h10, h01, h11 = 2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2
            out = tuple(h00 * a + h10 * dt * b + h01 * c + h11 * dt * d for a, b, c, d in zip(p0, m0, p1, m1))
            return _normalized(out) if self.path == "rotation" else out
        if self.path == "rotation":
            return slerp(values[i], values[i + 1], u)
        return tuple(a + (b - a) * u for a, b in zip(values[i], values[i + 1]))


def _normalized(q: Vec) -> Vec:
    length = math.sqrt(sum(c * c for c in q)) or 1.0
    return tuple(c / length for c in q)


def slerp(a: Vec, b: Vec, u: float) -> Vec:
    """Spherical interpolation of two (x, y, z, w) quaternions, the short way round."""
    dot = sum(x * y for x, y in zip(a, b))
    if dot < 0.0:
        b, dot = tuple(-c for c in b), -dot
    if dot > 0.9995:
        return _normalized(tuple(x + (y - x) * u for x, y in zip(a, b)))
    theta = math.acos(min(dot, 1.0))
    sa, sb = math.sin((1 - u) * theta), math.sin(u * theta)
    return _normalized(tuple((x * sa + y * sb) for x, y in zip(a, b)))


@dataclass
class Clip:
    """One animation of a file: its length and the node channels Storm plays itself."""

    name: str
    index: int
    seconds: float
    tracks: list[Track] = field(default_factory=list)


@dataclass
class GltfClips:
    """What a prop needs of a glTF file's animations and node tree."""

    clips: dict[str, Clip] = field(default_factory=dict)   # in the file's order
    rest: dict[int, tuple[Vec, Vec, Vec]] = field(default_factory=dict)  # animated node -> T, R, S (glTF axes)
    names: dict[int, str] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    roots: list[int] = field(default_factory=list)
    joints: set[int] = field(default_factory=set)
    skeletons: set[int] = field(default_factory=set)   # nodes that become a Character
    z_up: bool = False
    problems: list[str] = field(default_factory=list)

    def matrix(self, node: int, values: dict[str, Vec]) -> LMatrix4:
        """The Panda3D transform of a node posed with ``values`` (path -> value) over its rest TRS,
        made the way panda3d-gltf makes a node's transform."""
        t, r, s = self.rest[node]
        t, r, s = values.get("translation", t), values.get("rotation", r), values.get("scale", s)
        mat = LMatrix4.scaleMat(*s)
        rotation = LMatrix4()
        LQuaternion(r[3], r[0], r[1], r[2]).extractToMatrix(rotation)
        mat *= rotation
        mat *= LMatrix4.translateMat(*t)
        if self.z_up:
            return mat
        return LMatrix4.convertMat(CS_default, CS_yup_right) * mat * LMatrix4.convertMat(CS_yup_right, CS_default)

    def node_paths(self, model: NodePath) -> dict[int, NodePath]:
        """Where each glTF node of the shown scene is in a loaded copy of the model (joints are
        the Characters' business and are not listed)."""
        found: dict[int, NodePath] = {}

        def walk(parent: NodePath, ids: list[int]) -> None:
            taken: dict[str, int] = {}
            for nid in ids:
                if nid in self.joints and nid not in self.skeletons:
                    walk(parent, self.children.get(nid, []))   # the converter hangs them on the joint's parent
                    continue
                name = self.names.get(nid, f"node{nid}")
                matches = [c for c in parent.getChildren() if c.getName() == name and _plain_or_character(c)]
                wrapped = [c.getChild(0) for c in parent.getChildren()
                           if c.getName() == f"{name}-parent" and c.getNumChildren() == 1]
                matches += [c for c in wrapped if c.getName() == name]
                k = taken.get(name, 0)
                taken[name] = k + 1
                if k < len(matches):
                    found[nid] = matches[k]
                    walk(matches[k], self.children.get(nid, []))

        walk(model, self.roots)
        return found


def _plain_or_character(node: NodePath) -> bool:
    kind = node.node().getClassType().getName()
    return kind in ("PandaNode", "Character")


def read_clips(content: "ContentRegistry", asset_id: str) -> GltfClips:
    """The clips of a glTF asset; a file that does not read gives no clips and one problem (the
    model loader says what is wrong with it in detail)."""
    from engine.packs.gltf_checks import ModelError

    out = GltfClips()
    try:
        doc, buffers, where = _document(content, asset_id)
    except (ModelError, DataError) as exc:
        out.problems.append(str(exc))
        return out
    from engine.packs.gltf_data import read_accessor, to_float

    nodes = doc.get("nodes", [])
    accessors = doc.get("accessors", [])
    from engine.packs.gltf_files import gltf_settings

    out.z_up = "BP_zup" in doc.get("extensionsUsed", []) or gltf_settings().skip_axis_conversion
    for nid, node in enumerate(nodes):
        out.names[nid] = node["name"] if "name" in node else f"node{nid}"
        out.children[nid] = list(node.get("children", []))
    scenes = doc.get("scenes", [])
    if scenes:
        scene = scenes[doc.get("scene", 0)]
        out.roots = [*scene.get("nodes", []), *scene.get("extras", {}).get("hidden_nodes", [])]
    for skin in doc.get("skins", []):
        out.joints.update(skin["joints"])
    out.skeletons = _skeleton_roots(doc)

    def values_of(index: int) -> list[Vec]:
        acc = accessors[index]
        array = to_float(read_accessor(doc, buffers, index, where), acc["componentType"], acc.get("normalized", False))
        return [tuple(float(v) for v in row) for row in array]

    for index, animation in enumerate(doc.get("animations", [])):
        name = clip_name(animation, index)
        if name in out.clips:
            out.problems.append(f"{where}: animations[{index}] is named {name!r} like an animation before it; "
                                "only the first is played")
            continue
        samplers = animation["samplers"]
        times_of = {s["input"]: [v[0] for v in values_of(s["input"])] for s in samplers}
        seconds = max((times[-1] for times in times_of.values() if times), default=0.0)
        clip = out.clips[name] = Clip(name, index, seconds)
        for channel in animation["channels"]:
            target, sampler = channel["target"], samplers[channel["sampler"]]
            nid, path = target["node"], target["path"]
            if path not in TRS_PATHS or nid in out.joints:
                continue                          # played by the model's Character (skeleton, morphs)
            if "matrix" in nodes[nid]:
                out.problems.append(f"{where}: animations[{index}] moves nodes[{nid}], which has a matrix (glTF "
                                    "animates only nodes given as translation, rotation and scale); left out")
                continue
            times = times_of[sampler["input"]]
            if times:
                clip.tracks.append(Track(nid, path, times, values_of(sampler["output"]),
                                         sampler.get("interpolation", "LINEAR")))
                out.rest[nid] = _rest(nodes[nid])
    return out


def _rest(node: dict[str, Any]) -> tuple[Vec, Vec, Vec]:
    return (tuple(node.get("translation", (0.0, 0.0, 0.0))), tuple(node.get("rotation", (0.0, 0.0, 0.0, 1.0))),
            tuple(node.get("scale", (1.0, 1.0, 1.0))))


def _skeleton_roots(doc: dict[str, Any]) -> set[int]:
    """The nodes panda3d-gltf makes Characters of: per skin, the deepest node above every joint
    and every mesh skinned by it (its own rule, in ``Converter.load_skin``)."""
    nodes = doc.get("nodes", [])
    parent: dict[int, int] = {c: p for p, node in enumerate(nodes) for c in node.get("children", [])}
    roots = set()
    for skin_index, skin in enumerate(doc.get("skins", [])):
        members = [i for i, node in enumerate(nodes) if i in skin["joints"] or node.get("skin") == skin_index]
        paths = []
        for member in members:
            path = [member]
            while path[0] in parent:
                path.insert(0, parent[path[0]])
            paths.append(path)
        if not paths:
            continue
        common = paths[0]
        for path in paths[1:]:
            k = 0
            while k < min(len(common), len(path)) and common[k] == path[k]:
                k += 1
            common = common[:k]
        if common:
            roots.add(common[-1])
    return roots


def _document(content: "ContentRegistry", asset_id: str) -> tuple[dict[str, Any], list[bytes], str]:
    """The checked document and buffers of a glTF asset, read as the model loader reads them."""
    # The loader's own parsing, companion rule and checks (engine/packs/gltf_files.py), so a file
    # is read here exactly as far as it is safe to read there.
    from engine.packs import gltf_files
    from engine.packs.gltf_checks import DocumentCheck, ModelError

    hit = content.files.find(asset_id)
    if hit is None:
        raise ModelError(f"no enabled pack has {asset_id!r}")
    pack, name = hit
    assert pack.source is not None
    where = pack.source.display(name)
    doc, glb_bin = gltf_files._parse(content.files.read_in_pack(pack, name), where)
    folder = posixpath.dirname(name)

    def read(uri: Any, place: str) -> bytes:
        return content.files.read_in_pack(pack, gltf_files._companion(content, pack, folder, uri, where, place))

    check = DocumentCheck(doc, where)
    check.shapes()
    buffers = gltf_files._buffers(doc, glb_bin, read, where)
    check.views([buffer["byteLength"] for buffer in doc.get("buffers", [])])
    check.accessors()
    check.hierarchy()
    check.animations()
    return doc, buffers, where
