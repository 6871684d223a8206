"""Test glTF models built in code: a small writer of glTF 2.0 files (``.gltf`` with the buffer as a
data URI or a ``.bin`` beside it, or ``.glb``) and the models the glTF feature tests look at.

The builder takes Storm's coordinates (Z up, metres, +Y away from a camera at -Y) and writes glTF's
Y-up ones, so a test says where things are the way a world file does. Every number is written as
float32 little-endian, as glTF wants; textures use nearest filtering so a pixel check that lands
inside one texel of a 2x2 image sees exactly that texel's colour.
"""
from __future__ import annotations

import base64
import json
import math
import struct
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from panda3d.core import PNMImage, StringStream

FLOAT, UBYTE, USHORT, UINT = 5126, 5121, 5123, 5125
NEAREST, LINEAR_FILTER = 9728, 9729
TYPES = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4", 16: "MAT4"}
DTYPES = {FLOAT: "<f4", UBYTE: "u1", USHORT: "<u2", UINT: "<u4"}

# the four texels of checker(): top-left, top-right, bottom-left, bottom-right (as seen on a plate)
RED, GREEN, BLUE, YELLOW = (1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0), (1.0, 1.0, 0.0, 1.0)


def to_gltf(v: Any) -> np.ndarray:
    """Storm (x, y, z), Z up, to glTF (x, z, -y), Y up: a rotation, so winding is kept."""
    a = np.asarray(v, dtype=np.float64)
    return np.stack([a[..., 0], a[..., 2], -a[..., 1]], axis=-1)


def quat_to_gltf(axis: Sequence[float], degrees: float) -> list[float]:
    """A rotation about a Storm axis as a glTF quaternion (x, y, z, w)."""
    axis_g = to_gltf(np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis))
    half = math.radians(degrees) / 2
    return [*(axis_g * math.sin(half)).tolist(), math.cos(half)]


def png(pixels: Any) -> bytes:
    """PNG bytes of an H x W x 3|4 array of 0..1 values; row 0 is the top of the picture."""
    a = np.asarray(pixels, dtype=np.float64)
    height, width, channels = a.shape
    image = PNMImage(width, height, channels)
    for y in range(height):
        for x in range(width):
            if channels == 4:
                image.setXelA(x, y, *a[y, x])
            else:
                image.setXel(x, y, *a[y, x])
    stream = StringStream()
    assert image.write(stream, "image.png")
    return bytes(stream.getData())


def blocks(rows: Sequence[Sequence[Sequence[float]]], size: int = 4) -> bytes:
    """A PNG of solid blocks of ``size`` x ``size`` texels (row 0 is the top): big enough that a
    pixel check at a block's centre sees its colour whether the texture is filtered or not."""
    return png(np.kron(np.asarray(rows, dtype=np.float64), np.ones((size, size, 1))))


def checker(*colors: Sequence[float]) -> bytes:
    """2 x 2 blocks: top-left, top-right, bottom-left, bottom-right (RGBA each)."""
    tl, tr, bl, br = colors or (RED, GREEN, BLUE, YELLOW)
    return blocks([[tl, tr], [bl, br]])


class GltfBuilder:
    """Builds one glTF document: accessors over one binary buffer, images, materials, meshes,
    nodes, skins and animations, written as .gltf (data URI or .bin) or .glb."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] = {"asset": {"version": "2.0", "generator": "storm tests.gltf_models"},
                                    "scene": 0, "scenes": [{"nodes": []}], "nodes": [], "meshes": [],
                                    "materials": [], "accessors": [], "bufferViews": []}
        self.blob = bytearray()
        self.files: dict[str, bytes] = {}   # files that go beside the model (external images)

    def _add(self, key: str, item: dict[str, Any]) -> int:
        self.doc.setdefault(key, []).append(item)
        return len(self.doc[key]) - 1

    def view(self, data: bytes, target: int | None = None) -> int:
        while len(self.blob) % 4:
            self.blob.append(0)
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.blob += data
        return self._add("bufferViews", view)

    def accessor(self, values: Any, component: int = FLOAT, target: int | None = None, bounds: bool = False,
                 normalized: bool = False, kind: str | None = None) -> int:
        a = np.asarray(values)
        width = 1 if a.ndim == 1 else int(np.prod(a.shape[1:]))
        data = np.ascontiguousarray(a.reshape(len(a), width) if a.ndim > 1 else a, dtype=DTYPES[component])
        accessor: dict[str, Any] = {"bufferView": self.view(data.tobytes(), target), "componentType": component,
                                    "count": len(a), "type": kind or TYPES[width]}
        if normalized:
            accessor["normalized"] = True
        if bounds:
            flat = data.reshape(len(a), width).astype(np.float64)
            accessor["min"], accessor["max"] = flat.min(axis=0).tolist(), flat.max(axis=0).tolist()
        return self._add("accessors", accessor)

    # -- materials ---------------------------------------------------------------------------------
    def image(self, data: bytes, how: str = "view", name: str = "image.png") -> int:
        """An image kept in a buffer view (``view``), as a data URI (``data``) or as a file beside
        the model (``file``: ``name`` is its file name)."""
        if how == "view":
            return self._add("images", {"bufferView": self.view(data), "mimeType": "image/png"})
        if how == "data":
            return self._add("images", {"uri": "data:image/png;base64," + base64.b64encode(data).decode()})
        self.files[name] = data
        return self._add("images", {"uri": name})

    def texture(self, image: int, nearest: bool = True) -> int:
        sampler = self._add("samplers", {"magFilter": NEAREST if nearest else LINEAR_FILTER,
                                         "minFilter": NEAREST if nearest else LINEAR_FILTER})
        return self._add("textures", {"source": image, "sampler": sampler})

    def material(self, color: Sequence[float] = (1, 1, 1, 1), metallic: float = 0.0, roughness: float = 1.0,
                 base: dict[str, Any] | int | None = None, name: str | None = None, **extra: Any) -> int:
        """A metal/rough material; ``base`` is a texture index or a full textureInfo; ``extra`` adds
        top-level keys as they are (normalTexture, alphaMode, doubleSided, extensions...)."""
        pbr: dict[str, Any] = {"baseColorFactor": list(color), "metallicFactor": metallic, "roughnessFactor": roughness}
        if base is not None:
            pbr["baseColorTexture"] = {"index": base} if isinstance(base, int) else base
        if "metal_rough" in extra:
            pbr["metallicRoughnessTexture"] = extra.pop("metal_rough")
        material: dict[str, Any] = {"pbrMetallicRoughness": pbr, **extra}
        if name is not None:
            material["name"] = name
        for ext in material.get("extensions", {}):
            if ext not in self.doc.setdefault("extensionsUsed", []):
                self.doc["extensionsUsed"].append(ext)
        return self._add("materials", material)

    # -- geometry ----------------------------------------------------------------------------------
    def mesh(self, positions: Any, normals: Any, indices: Any, material: int | None = None, *, uv0: Any = None,
             uv1: Any = None, colors: Any = None, joints: Any = None, weights: Any = None,
             targets: list[Any] | None = None, target_weights: list[float] | None = None,
             name: str | None = None) -> int:
        """One primitive; positions, normals (and morph target position offsets) in Storm space."""
        attributes = {"POSITION": self.accessor(to_gltf(positions), target=34962, bounds=True),
                      "NORMAL": self.accessor(to_gltf(normals), target=34962)}
        for key, value in (("TEXCOORD_0", uv0), ("TEXCOORD_1", uv1), ("COLOR_0", colors)):
            if value is not None:
                attributes[key] = self.accessor(value, target=34962)
        if joints is not None:
            attributes["JOINTS_0"] = self.accessor(joints, component=UBYTE, target=34962)
            attributes["WEIGHTS_0"] = self.accessor(weights, target=34962)
        primitive: dict[str, Any] = {"attributes": attributes,
                                     "indices": self.accessor(np.asarray(indices).ravel(), USHORT, target=34963)}
        if material is not None:
            primitive["material"] = material
        mesh: dict[str, Any] = {"primitives": [primitive]}
        if targets:
            primitive["targets"] = [{"POSITION": self.accessor(to_gltf(t), bounds=True)} for t in targets]
            mesh["weights"] = list(target_weights or [0.0] * len(targets))
        if name is not None:
            mesh["name"] = name
        return self._add("meshes", mesh)

    def node(self, name: str | None = None, *, mesh: int | None = None, translation: Sequence[float] | None = None,
             rotation: Sequence[float] | None = None, scale: Sequence[float] | None = None,
             children: Sequence[int] = (), skin: int | None = None, root: bool = True) -> int:
        """A node (``root``: listed in the scene); translation and scale in Storm axes, rotation a
        glTF quaternion (see quat_to_gltf)."""
        node: dict[str, Any] = {}
        if name is not None:
            node["name"] = name
        if mesh is not None:
            node["mesh"] = mesh
        if skin is not None:
            node["skin"] = skin
        if translation is not None:
            node["translation"] = to_gltf(translation).tolist()
        if rotation is not None:
            node["rotation"] = list(rotation)
        if scale is not None:
            node["scale"] = [scale[0], scale[2], scale[1]]
        if children:
            node["children"] = list(children)
        index = self._add("nodes", node)
        if root:
            self.doc["scenes"][0]["nodes"].append(index)
        return index

    def skin(self, joints: Sequence[int], inverse_binds: Any) -> int:
        """A skin over joint nodes; inverse bind matrices as glTF column-major 4x4s."""
        return self._add("skins", {"joints": list(joints),
                                   "inverseBindMatrices": self.accessor(np.asarray(inverse_binds).reshape(-1, 16),
                                                                        kind="MAT4")})

    def animation(self, channels: Sequence[tuple[int, str, Sequence[float], Any]], name: str | None = None,
                  interpolation: str = "LINEAR") -> int:
        """Channels of (node, path, times, values); values are written as given (glTF axes)."""
        samplers, targets = [], []
        for node, path, times, values in channels:
            samplers.append({"input": self.accessor(np.asarray(times, dtype=np.float64), bounds=True),
                             "output": self.accessor(np.asarray(values, dtype=np.float64)),
                             "interpolation": interpolation})
            targets.append({"sampler": len(samplers) - 1, "target": {"node": node, "path": path}})
        animation: dict[str, Any] = {"samplers": samplers, "channels": targets}
        if name is not None:
            animation["name"] = name
        return self._add("animations", animation)

    # -- writing -----------------------------------------------------------------------------------
    def document(self, buffer_uri: str | None = None) -> dict[str, Any]:
        doc = json.loads(json.dumps(self.doc))
        buffer: dict[str, Any] = {"byteLength": len(self.blob)}
        if buffer_uri is not None:
            buffer["uri"] = buffer_uri
        doc["buffers"] = [buffer]
        return {k: v for k, v in doc.items() if v != []}

    def write_gltf(self, path: Path, bin_file: bool = False) -> Path:
        """``path`` as .gltf: the buffer as a data URI, or as ``<stem>.bin`` beside it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if bin_file:
            (path.parent / f"{path.stem}.bin").write_bytes(bytes(self.blob))
            uri = f"{path.stem}.bin"
        else:
            uri = "data:application/octet-stream;base64," + base64.b64encode(bytes(self.blob)).decode()
        path.write_text(json.dumps(self.document(uri)), encoding="utf-8")
        self._write_files(path.parent)
        return path

    def write_glb(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.document()).encode()
        text += b" " * (-len(text) % 4)
        blob = bytes(self.blob) + b"\0" * (-len(self.blob) % 4)
        body = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(blob), b"BIN\0") + blob
        path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
        self._write_files(path.parent)
        return path

    def _write_files(self, folder: Path) -> None:
        for name, data in self.files.items():
            (folder / name).write_bytes(data)


# -- shapes -------------------------------------------------------------------------------------------

def plate(width: float = 1.0, height: float = 1.0, facing: str = "-y") -> dict[str, np.ndarray]:
    """A flat rectangle in the XZ plane facing -Y (towards a camera at -Y) or +Y; UV (0, 0) at its
    top-left corner as the camera sees the front, as glTF's UV origin is the image's top-left."""
    w, h = width / 2, height / 2
    positions = np.array([(-w, 0, h), (w, 0, h), (w, 0, -h), (-w, 0, -h)])
    uv = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], dtype=np.float64)
    normal = (0, -1, 0)
    indices = np.array([(0, 3, 2), (0, 2, 1)])   # counter-clockwise seen from -Y
    if facing == "+y":
        positions[:, 0] *= -1                     # seen from +Y, its top-left is still uv (0, 0)
        normal = (0, 1, 0)
    return {"positions": positions, "normals": np.tile(normal, (4, 1)), "indices": indices, "uv0": uv}


def box(size: float = 1.0) -> dict[str, np.ndarray]:
    """A cube of edge ``size`` centred on the origin (Storm's primitive box, scaled)."""
    from engine.packs.primitives import mesh_arrays

    positions, normals, uv, triangles = mesh_arrays("box")
    return {"positions": positions * size, "normals": normals, "indices": triangles, "uv0": uv}


# -- the models the feature tests show --------------------------------------------------------------

def srgb(value: float) -> float:
    """A linear value as the sRGB value a PNG stores for it."""
    return 12.92 * value if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055


def inverse_bind(translation: Sequence[float], rotation: Sequence[float] = (0.0, 0.0, 0.0, 1.0)) -> list[float]:
    """The glTF inverse bind matrix (column-major) of a joint whose transform in the world is
    ``translation`` (Storm axes) and ``rotation`` (a glTF quaternion), as Blender writes it."""
    x, y, z, w = rotation
    rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    world = np.eye(4)
    world[:3, :3], world[:3, 3] = rot, to_gltf(translation)
    return np.linalg.inv(world).T.ravel().tolist()


def plate_model(path: Path, material: Any = None, *, facing: str = "-y", glb: bool = False, bin_file: bool = False,
                **mesh: Any) -> Path:
    """One 1 x 1 m plate; ``material`` is material() keywords, or a callable that gets the builder
    and returns them (to add textures first); ``mesh`` overrides the plate's arrays."""
    b = GltfBuilder()
    kwargs = material(b) if callable(material) else dict(material or {})
    shape = plate(facing=facing)
    shape.update(mesh)
    positions, normals, indices = shape.pop("positions"), shape.pop("normals"), shape.pop("indices")
    b.node("plate", mesh=b.mesh(positions, normals, indices, b.material(**kwargs), **shape))
    return b.write_glb(path) if glb else b.write_gltf(path, bin_file=bin_file)


def cube_model(path: Path, edge: float, color: Sequence[float]) -> Path:
    b = GltfBuilder()
    shape = box(edge)
    b.node("cube", mesh=b.mesh(shape["positions"], shape["normals"], shape["indices"], b.material(color)))
    return b.write_gltf(path)


def pbr_plate(path: Path, maps: bool = True) -> Path:
    """A plate with a metal/rough material. With ``maps``: a metallic-roughness texture, a normal
    map whose top half tilts the normals sideways (bottom half flat), and an occlusion map on the
    second UV set, black in its left half, where UV1 mirrors UV0 left to right: the occluded half
    shows on the plate's *right*."""
    b = GltfBuilder()
    color = (0.6, 0.6, 0.6, 1.0)
    shape = plate()
    if not maps:
        b.node("plate", mesh=b.mesh(shape["positions"], shape["normals"], shape["indices"],
                                    b.material(color, roughness=0.8)))
        return b.write_gltf(path)
    tilted, flat = (0.985, 0.5, 0.62), (0.5, 0.5, 1.0)   # tilted: (0.97, 0, 0.24) in tangent space
    normal = b.texture(b.image(blocks([[tilted, tilted], [flat, flat]])))
    occlusion = b.texture(b.image(blocks([[(0, 0, 0), (1, 1, 1)], [(0, 0, 0), (1, 1, 1)]])))
    metal_rough = b.texture(b.image(blocks([[(1.0, 1.0, 0.0)] * 2] * 2)))
    material = b.material(color, roughness=0.8, metal_rough={"index": metal_rough},
                          normalTexture={"index": normal}, occlusionTexture={"index": occlusion, "texCoord": 1})
    uv1 = shape["uv0"].copy()
    uv1[:, 0] = 1 - uv1[:, 0]
    b.node("plate", mesh=b.mesh(shape["positions"], shape["normals"], shape["indices"], material, uv0=shape["uv0"],
                                uv1=uv1))
    return b.write_gltf(path)


def skinned_bar(path: Path) -> Path:
    """A skinned bar 0.3 x 0.15 x 1 m laid out as Blender exports one: an ``Armature`` node (moved
    up 0.5 m and turned 90 degrees about Z) holding two bones and the skinned mesh, whose vertices
    are where the bind pose puts them (the inverse bind matrices undo each bone's place in the
    world). The lower half follows ``lower``, the upper half ``upper`` (0.5 m above it). In its
    bind pose the bar stands from z = 0.5 to 1.5, centred on x = y = 0, 0.3 m wide along X."""
    b = GltfBuilder()
    shape = box(1.0)
    positions = shape["positions"] * (0.3, 0.15, 1.0) + (0, 0, 1.0)
    joints = np.zeros((len(positions), 4))
    joints[positions[:, 2] > 1.0, 0] = 1
    weights = np.tile((1.0, 0, 0, 0), (len(positions), 1))
    mesh = b.mesh(positions, shape["normals"], shape["indices"], b.material((0.9, 0.5, 0.1, 1)), joints=joints,
                  weights=weights)
    turn = quat_to_gltf((0, 0, 1), 90)
    top = b.node("upper", translation=(0, 0, 0.5), root=False)
    bottom = b.node("lower", children=[top], root=False)
    skin = b.skin([bottom, top], [inverse_bind((0, 0, 0.5), turn), inverse_bind((0, 0, 1.0), turn)])
    bar = b.node("bar", mesh=mesh, skin=skin, root=False)
    b.node("Armature", translation=(0, 0, 0.5), rotation=turn, children=[bottom, bar])
    return b.write_gltf(path)


def prop_model(path: Path) -> Path:
    """A prop with four clips, each moving something else: ``slide`` moves the ``door`` node 2 m
    along +X in 1 s (two keys), an unnamed clip (``anim1``) turns ``fan`` 180 degrees about Z in
    2 s, ``rise`` lifts the ``flag`` plate's morph target from weight 0 to 1 in 1 s, and ``lift``
    raises the skinned bar's ``upper`` bone 1 m in 1 s."""
    b = GltfBuilder()
    red = b.material((0.8, 0.2, 0.2, 1))
    shape = box(0.5)
    cube = b.mesh(shape["positions"], shape["normals"], shape["indices"], red)
    door = b.node("door", mesh=cube)
    fan = b.node("fan", mesh=cube, translation=(0, 0, 2))
    flat = plate()
    flag_mesh = b.mesh(flat["positions"], flat["normals"], flat["indices"], red,
                       targets=[np.tile((0.0, 0.0, 1.0), (4, 1))])
    flag = b.node("flag", mesh=flag_mesh, translation=(3, 0, 0))
    bar = box(1.0)
    positions = bar["positions"] * (0.3, 0.3, 1.0) + (-3, 0, 0.5)
    joints = np.zeros((len(positions), 4))
    joints[positions[:, 2] > 0.5, 0] = 1
    skinned = b.mesh(positions, bar["normals"], bar["indices"], red, joints=joints,
                     weights=np.tile((1.0, 0, 0, 0), (len(positions), 1)))
    upper = b.node("upper", translation=(0, 0, 0.5), root=False)
    lower = b.node("lower", children=[upper], root=False)
    skin = b.skin([lower, upper], [inverse_bind((-3, 0, 0)), inverse_bind((-3, 0, 0.5))])
    body = b.node("bar", mesh=skinned, skin=skin, root=False)
    b.node("Armature", translation=(-3, 0, 0), children=[lower, body])
    b.animation([(door, "translation", [0.0, 1.0], to_gltf([(0, 0, 0), (2, 0, 0)]))], name="slide")
    b.animation([(fan, "rotation", [0.0, 1.0, 2.0],
                  [quat_to_gltf((0, 0, 1), 0), quat_to_gltf((0, 0, 1), 90), quat_to_gltf((0, 0, 1), 180)])])
    b.animation([(flag, "weights", [0.0, 1.0], [0.0, 1.0])], name="rise")
    b.animation([(upper, "translation", [0.0, 1.0], to_gltf([(0, 0, 0.5), (0, 0, 1.5)]))], name="lift")
    return b.write_gltf(path)
