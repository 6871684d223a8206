"""glTF files from strangers: every one loads, loads without a bad texture, or fails with one line
naming the file, the place inside it and what was expected; never a traceback or a crash.

The models are built here by hand (``GltfBuilder``): a quad, a textured quad, a Draco quad.
tests/gltf_fuzz_child.py mutates the same models by the thousand."""
from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from panda3d.core import NodePath

from engine.core.errors import DataError
from engine.data.world_check import check_world
from engine.host.runtime import create_runtime
from engine.packs.assets import PLACEHOLDER_COLOR, PLACEHOLDER_SIZE, AssetCache
from engine.packs.content import ContentRegistry, default_content
from engine.packs.gltf_files import ModelError, load_gltf, model_warnings
from engine.packs.sources import Budgets
from tests.conftest import write_json
from tests.pack_files import folder_pack, png
from tests.screenshots import rgb, shoot

MODEL = "models/thing.gltf"


class GltfBuilder:
    """A glTF document and its one buffer, written by hand so a test can break any part of it."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.doc: dict[str, Any] = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}],
                                    "nodes": [{"mesh": 0, "name": "thing"}], "meshes": [], "materials": [],
                                    "buffers": [], "bufferViews": [], "accessors": []}

    def view(self, data: bytes, **extra: Any) -> int:
        self.blob += bytes(-len(self.blob) % 4)
        self.doc["bufferViews"].append({"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data), **extra})
        self.blob += data
        return len(self.doc["bufferViews"]) - 1

    def accessor(self, values: np.ndarray, component_type: int, kind: str, **extra: Any) -> int:
        dtype = {5121: "<u1", 5123: "<u2", 5125: "<u4", 5126: "<f4", 5120: "<i1", 5122: "<i2"}[component_type]
        data = np.ascontiguousarray(values, dtype=dtype)
        entry = {"bufferView": self.view(data.tobytes()), "componentType": component_type,
                 "count": len(data), "type": kind, **extra}
        if kind == "VEC3" and component_type == 5126:
            entry["min"], entry["max"] = data.min(axis=0).tolist(), data.max(axis=0).tolist()
        self.doc["accessors"].append(entry)
        return len(self.doc["accessors"]) - 1

    def texture(self, image: dict[str, Any]) -> None:
        """Give the first material a base colour texture with this image entry."""
        self.doc["images"] = [image]
        self.doc["textures"] = [{"source": 0}]
        self.doc["materials"][0]["pbrMetallicRoughness"]["baseColorTexture"] = {"index": 0}

    def gltf(self, uri: str | None = None) -> dict[str, Any]:
        """The document with its buffer embedded as base64, or named ``uri`` (write ``self.blob`` there)."""
        doc = json.loads(json.dumps(self.doc))
        doc["buffers"] = [{"byteLength": len(self.blob), "uri": uri or
                           "data:application/octet-stream;base64," + base64.b64encode(bytes(self.blob)).decode()}]
        return doc

    def glb(self) -> bytes:
        doc = json.loads(json.dumps(self.doc))
        doc["buffers"] = [{"byteLength": len(self.blob)}]
        text = json.dumps(doc).encode()
        text += b" " * (-len(text) % 4)
        blob = bytes(self.blob) + bytes(-len(self.blob) % 4)
        body = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(blob), b"BIN\0") + blob
        return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


QUAD_POSITIONS = np.array([[0, 0, 0], [2, 0, 0], [2, 1, 0], [0, 1, 0]], dtype=np.float32)  # glTF: Y up


def quad(textured: bool = False, material: bool = True) -> GltfBuilder:
    """A 2 x 1 m quad facing +Z (glTF's axes): positions, normals, UVs, uint16 indices."""
    model = GltfBuilder()
    attributes = {"POSITION": model.accessor(QUAD_POSITIONS, 5126, "VEC3"),
                  "NORMAL": model.accessor(np.tile([0, 0, 1], (4, 1)), 5126, "VEC3"),
                  "TEXCOORD_0": model.accessor([[0, 1], [1, 1], [1, 0], [0, 0]], 5126, "VEC2")}
    indices = model.accessor(np.array([0, 1, 2, 0, 2, 3]).reshape(-1, 1), 5123, "SCALAR")
    primitive: dict[str, Any] = {"attributes": attributes, "indices": indices}
    if material:
        model.doc["materials"] = [{"pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1], "metallicFactor": 0}}]
        primitive["material"] = 0
    model.doc["meshes"] = [{"primitives": [primitive]}]
    if textured:
        model.texture({"bufferView": model.view(png(4, 2, 200)), "mimeType": "image/png"})
    return model


def draco_quad() -> tuple[GltfBuilder, bytes]:
    """The quad as a Draco-compressed primitive (KHR_draco_mesh_compression) in a .glb; also the
    Draco payload."""
    import DracoPy

    payload = DracoPy.encode(QUAD_POSITIONS, np.array([[0, 1, 2], [0, 2, 3]], dtype=np.uint32), preserve_order=True)
    model = GltfBuilder()
    view = model.view(payload)
    model.doc["accessors"] = [
        {"componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0], "max": [2, 1, 0]},
        {"componentType": 5125, "count": 6, "type": "SCALAR"}]
    model.doc["meshes"] = [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "extensions": {
        "KHR_draco_mesh_compression": {"bufferView": view, "attributes": {"POSITION": 0}}}}]}]
    model.doc["extensionsUsed"] = model.doc["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    return model, bytes(payload)


def mount(tmp_path: Path, files: dict[str, Any], budgets: Budgets | None = None) -> ContentRegistry:
    root = folder_pack(tmp_path / "packs" / "mod", "mod", files)
    content = ContentRegistry(budgets)
    content.add_pack(root)
    return content


def load(tmp_path: Path, files: dict[str, Any], asset: str = MODEL, budgets: Budgets | None = None) -> NodePath:
    return load_gltf(mount(tmp_path, files, budgets), f"mod:{asset}")


def refusal(tmp_path: Path, files: dict[str, Any], asset: str = MODEL) -> str:
    """The one-line message loading gives (the test fails if the model loads)."""
    with pytest.raises((ModelError, DataError)) as info:
        load(tmp_path, files, asset)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert asset.rsplit("/", 1)[-1] in message, message  # the file is named
    return message


def size_of(node: NodePath) -> tuple[float, float, float]:
    low, high = node.getTightBounds()
    return tuple(round(v, 4) for v in high - low)  # type: ignore[return-value]


# -- files a model names: inside its pack, there, and as long as it says -------------------------

def test_a_quad_loads_from_gltf_and_bin_and_from_glb(tmp_path: Path) -> None:
    model = quad(textured=True)
    node = load(tmp_path, {MODEL: model.gltf("thing.bin"), "models/thing.bin": bytes(model.blob),
                           "models/other.glb": model.glb()})
    assert size_of(node) == (2.0, 0.0, 1.0)  # Y-up turned Z-up
    assert node.findAllTextures().getNumTextures() == 1 and model_warnings(node) == []
    again = load(tmp_path / "again", {"models/other.glb": model.glb()}, "models/other.glb")
    assert size_of(again) == (2.0, 0.0, 1.0) and again.findAllTextures().getNumTextures() == 1


@pytest.mark.parametrize("uri, expected", [
    ("../../../outside.bin", "without '..'"),
    ("%2E%2E/%2E%2E/%2E%2E/outside.bin", "without '..'"),
    ("/etc/hostname", "a relative path inside pack 'mod'"),
    ("file:///etc/hostname", "not a URL or a drive"),
])
def test_a_buffer_outside_the_pack_is_refused(tmp_path: Path, uri: str, expected: str) -> None:
    (tmp_path / "outside.bin").write_bytes(bytes(quad().blob))
    message = refusal(tmp_path, {MODEL: quad().gltf(uri)})
    assert "buffers[0].uri" in message and expected in message


def test_a_symlinked_bin_that_leads_outside_the_pack_is_refused(tmp_path: Path) -> None:
    model = quad()
    (tmp_path / "outside.bin").write_bytes(bytes(model.blob))
    content = mount(tmp_path, {MODEL: model.gltf("thing.bin")})
    os.symlink(tmp_path / "outside.bin", tmp_path / "packs" / "mod" / "models" / "thing.bin")
    with pytest.raises((ModelError, DataError)) as info:
        load_gltf(content, f"mod:{MODEL}")
    assert "buffers[0].uri" in str(info.value) and "models/thing.bin" in str(info.value)


def test_a_missing_bin_is_named(tmp_path: Path) -> None:
    message = refusal(tmp_path, {MODEL: quad().gltf("thing.bin")})
    assert "buffers[0].uri: names 'models/thing.bin', which pack 'mod' does not have" in message


def test_a_bin_shorter_than_its_byte_length_is_refused(tmp_path: Path) -> None:
    model = quad()
    message = refusal(tmp_path, {MODEL: model.gltf("thing.bin"), "models/thing.bin": bytes(model.blob[:50])})
    assert f"buffers[0] holds 50 bytes, fewer than its byteLength {len(model.blob)}" in message


@pytest.mark.parametrize("cut, expected", [
    (7, "header: expected a GLB header of 12 bytes"),
    (16, "header.length: expected as many bytes as the header declares"),
    (None, "chunks[1] (BIN\\u0000): expected the"),  # the header's length cut with the file
    (20, "chunks[0] (JSON): expected the"),
])
def test_a_truncated_glb_is_refused_with_the_chunk_named(tmp_path: Path, cut: int | None, expected: str) -> None:
    data = quad().glb()
    if cut is None:
        data = data[:8] + struct.pack("<I", len(data) - 40) + data[12:-40]
    elif cut == 20:
        data = data[:8] + struct.pack("<I", 20) + data[12:20]
    else:
        data = data[:cut]
    message = refusal(tmp_path, {"models/thing.glb": data}, "models/thing.glb")
    assert expected in message, message


# -- accessors, views and indices inside what they point at --------------------------------------

def _set(path: str, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return change


@pytest.mark.parametrize("change, place, expected", [
    (_set("accessors.0.byteOffset", 40), "accessors[0]", "within bufferViews[0] (48 bytes)"),
    (_set("accessors.0.count", 5), "accessors[0]", "within bufferViews[0] (48 bytes)"),
    (_set("accessors.0.count", 2**31), "accessors[0]", "(count - 1) * stride"),
    (_set("accessors.0.count", -1), "accessors[0].count", "a whole number >= 1"),
    (_set("accessors.0.componentType", 5124), "accessors[0].componentType", "one of 5120"),
    (_set("accessors.0.type", "VEC7"), "accessors[0].type", "one of SCALAR"),
    (_set("bufferViews.0.byteLength", 10**9), "bufferViews[0]", "within buffers[0]"),
    (_set("bufferViews.0.byteStride", 8), "bufferViews[0].byteStride", "at least 12 bytes"),
    (_set("bufferViews.0.byteStride", 1000), "bufferViews[0].byteStride", "a number from 4 to 252"),
    (_set("accessors.1.count", 3), "meshes[0].primitives[0].attributes.NORMAL", "as many values as POSITION has (4)"),
    (_set("meshes.0.primitives.0.attributes.POSITION", 99), "meshes[0].primitives[0].attributes.POSITION",
     "an index into accessors (0 to 3)"),
    (_set("meshes.0.primitives.0.indices", 0), "meshes[0].primitives[0].indices", "SCALAR 5121, 5123 or 5125"),
    (_set("nodes.0.mesh", 1), "nodes[0].mesh", "an index into meshes (0 to 0)"),
    (_set("scenes.0.nodes", [0, 0]), "scenes[0].nodes", "each index once"),
    (_set("accessors.3.count", 5), "meshes[0].primitives[0].indices", "whole primitives of mode 4"),
    (_set("meshes.0.primitives.0.material", 3), "meshes[0].primitives[0].material", "an index into materials"),
])
def test_accessors_views_and_references_are_checked_before_panda3d(tmp_path: Path, change: Any, place: str,
                                                                   expected: str) -> None:
    doc = quad().gltf()
    change(doc)
    message = refusal(tmp_path, {MODEL: doc})
    assert f"{place}: expected" in message and expected in message, message


def test_an_index_past_the_last_vertex_is_refused(tmp_path: Path) -> None:
    model = quad()
    start = model.doc["bufferViews"][3]["byteOffset"]
    model.blob[start + 4:start + 6] = struct.pack("<H", 4)  # the quad has vertices 0..3
    message = refusal(tmp_path, {MODEL: model.gltf()})
    assert "meshes[0].primitives[0].indices: expected indices below the primitive's vertex count (4" in message
    assert message.endswith("got 4")


def test_a_vertex_at_nan_is_refused(tmp_path: Path) -> None:
    model = quad()
    model.blob[0:4] = struct.pack("<f", float("nan"))  # POSITION of vertex 0
    message = refusal(tmp_path, {MODEL: model.gltf()})
    assert "accessors[0]: expected finite numbers (it holds NaN or infinity)" in message


def test_an_absurd_count_without_a_buffer_view_is_refused_without_allocating(tmp_path: Path) -> None:
    doc = quad().gltf()
    doc["accessors"][1] = {"componentType": 5126, "count": 2**31, "type": "VEC3"}  # all zeros, by the rules
    message = refusal(tmp_path, {MODEL: doc})
    assert "NORMAL: expected as many values as POSITION has (4)" in message
    doc["accessors"] = [{**acc, "count": 2**31} if index < 3 else acc for index, acc in enumerate(doc["accessors"])]
    for acc in doc["accessors"][:3]:
        acc.pop("bufferView", None)
    assert "at most 2000000 vertices" in refusal(tmp_path / "2", {MODEL: doc})


@pytest.mark.parametrize("nodes, expected", [
    ([{"mesh": 0, "children": [2]}, {"children": [2]}, {}], "nodes[1].children: expected a node with one parent "
                                                             "(node 2 is already a child of nodes[0])"),
    ([{"mesh": 0, "children": [0]}], "nodes[0].children: expected a node that is not its own child"),
    ([{"mesh": 0, "children": [1]}, {"children": [2]}, {"children": [1]}],
     "nodes[2].children: expected a node with one"),
    ([{"mesh": 0}, {"children": [2]}, {"children": [1]}], "a node hierarchy without cycles"),
    ([{"mesh": 0, "children": [1]}] + [{"children": [i + 2]} for i in range(200)] + [{}],
     "a parent chain of at most 128"),
])
def test_the_node_hierarchy_must_be_a_shallow_tree(tmp_path: Path, nodes: list[Any], expected: str) -> None:
    doc = quad().gltf()
    doc["nodes"] = nodes
    assert expected in refusal(tmp_path, {MODEL: doc})


def test_interleaved_sparse_and_normalized_accessors_reach_panda3d_as_plain_data(tmp_path: Path) -> None:
    model = GltfBuilder()
    rows = np.zeros(4, dtype=[("pos", "<f4", 3), ("uv", "<u2", 2), ("color", "u1", 4)])
    rows["pos"], rows["uv"] = QUAD_POSITIONS, [[0, 65535], [65535, 65535], [65535, 0], [0, 0]]
    rows["color"] = [255, 0, 0, 255]
    view = model.view(rows.tobytes(), byteStride=rows.itemsize)
    lift = model.view(np.array([2], "<u2").tobytes() + bytes(2) + np.array([[2, 3, 0]], "<f4").tobytes())
    model.doc["accessors"] = [
        {"bufferView": view, "componentType": 5126, "count": 4, "type": "VEC3",
         "sparse": {"count": 1, "indices": {"bufferView": lift, "componentType": 5123},
                    "values": {"bufferView": lift, "byteOffset": 4}}},
        {"bufferView": view, "byteOffset": 12, "componentType": 5123, "normalized": True, "count": 4, "type": "VEC2"},
        {"bufferView": view, "byteOffset": 16, "componentType": 5121, "normalized": True, "count": 4, "type": "VEC4"}]
    model.doc["meshes"] = [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1, "COLOR_0": 2}}]}]
    model.doc["accessors"][0]["count"] = 3  # a triangle: vertices 0, 1 and the lifted 2
    model.doc["accessors"][1]["count"] = model.doc["accessors"][2]["count"] = 3
    node = load(tmp_path, {MODEL: model.gltf()})
    assert size_of(node) == (2.0, 0.0, 3.0)  # the sparse value moved vertex 2 to (2, 3, 0): Z-up (2, 0, 3)
    from panda3d.core import GeomVertexReader, InternalName

    vdata = node.findAllMatches("**/+GeomNode")[0].node().getGeom(0).getVertexData()
    uv, color = GeomVertexReader(vdata, InternalName.getTexcoordName("0")), GeomVertexReader(vdata, "color")
    assert tuple(uv.getData2()) == pytest.approx((0.0, 0.0))  # 65535 normalized is 1.0, flipped to V = 0
    assert tuple(color.getData4()) == pytest.approx((1.0, 0.0, 0.0, 1.0))


# -- images: checked from the header, and a bad one drops its texture, not the model -------------

def _huge_png(width: int, height: int) -> bytes:
    """A PNG header declaring a huge image, with almost no data after it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + data


@pytest.mark.parametrize("image, files, expected", [
    ({"uri": "wood.png"}, {}, "images[0].uri: names 'models/wood.png', which pack 'mod' does not have"),
    ({"uri": "../../../outside.png"}, {}, "images[0].uri: expected a file inside pack 'mod'"),
    ({"uri": "wood.png"}, {"models/wood.png": b"not an image at all"}, "images[0]: expected an image Panda3D can read"),
    ({"uri": "wood.png"}, {"models/wood.png": png(64, 64)[:60]}, "images[0]: expected a whole image"),
    ({"uri": "wood.png"}, {"models/wood.png": _huge_png(30000, 30000)}, "30000x30000 pixels, more than the"),
    ({"uri": "data:image/png;base64,AAAA"}, {}, "images[0]: expected an image Panda3D can read"),
])
def test_a_bad_or_missing_image_drops_the_texture_not_the_model(tmp_path: Path, image: dict[str, Any],
                                                                files: dict[str, Any], expected: str) -> None:
    model = quad()
    model.texture(image)
    cache = AssetCache(mount(tmp_path, {MODEL: model.gltf(), **files}))
    node = cache.model(f"mod:{MODEL}")
    assert not cache.failed(f"mod:{MODEL}") and size_of(node) == (2.0, 0.0, 1.0)
    assert node.findAllTextures().getNumTextures() == 0
    (warning,) = cache.warnings_for(f"mod:{MODEL}")
    assert expected in warning and "the model loads without textures[0]" in warning and "\n" not in warning
    if "pixels" in expected:
        assert "raise it with --budget pixels=N" in warning


def test_a_png_whose_chunk_claims_two_gigabytes_is_dropped_at_once(tmp_path: Path) -> None:
    image = bytearray(png(4, 2))
    image[33:37] = struct.pack(">I", 0x7F000012)  # the length of the chunk after IHDR: libpng would read for seconds
    model = quad()
    model.texture({"bufferView": model.view(bytes(image)), "mimeType": "image/png"})
    node = load(tmp_path, {MODEL: model.gltf()})
    assert node.findAllTextures().getNumTextures() == 0
    assert "images[0]: expected a whole image, got a PNG whose chunks run past its end" in model_warnings(node)[0]


def test_a_decoded_image_keeps_its_samplers_filters_and_wrap(tmp_path: Path) -> None:
    from panda3d.core import SamplerState

    model = quad(textured=True)
    model.doc["samplers"] = [{"magFilter": 9728, "minFilter": 9728, "wrapS": 33071, "wrapT": 33648}]
    model.doc["textures"][0]["sampler"] = 0
    (texture,) = load(tmp_path, {MODEL: model.gltf()}).findAllTextures()
    assert (texture.getXSize(), texture.getYSize()) == (4, 2) and texture.getRamImage().getData()[:1] == b"\xc8"
    assert texture.getMinfilter() == texture.getMagfilter() == SamplerState.FT_nearest
    assert (texture.getWrapU(), texture.getWrapV()) == (SamplerState.WM_clamp, SamplerState.WM_mirror)


def test_the_pixel_budget_is_the_content_registrys(tmp_path: Path) -> None:
    model = quad(textured=True)  # a 4 x 2 image
    node = load(tmp_path, {MODEL: model.gltf()}, budgets=Budgets(pixels=7))
    assert node.findAllTextures().getNumTextures() == 0
    assert "4x2 pixels, more than the 7-pixel budget" in model_warnings(node)[0]


# -- extensions: Draco decoded, the rest required named ------------------------------------------

def test_a_draco_compressed_model_loads(tmp_path: Path) -> None:
    model, _payload = draco_quad()
    node = load(tmp_path, {"models/thing.glb": model.glb()}, "models/thing.glb")
    assert size_of(node) == pytest.approx((2.0, 0.0, 1.0), abs=1e-3)  # Draco quantizes positions
    geom = node.findAllMatches("**/+GeomNode")[0].node().getGeom(0)
    assert geom.getPrimitive(0).getNumPrimitives() == 2  # two triangles (flat normals made, so no shared rows)


@pytest.mark.parametrize("damage", ["flip", "cut", "zeros"])
def test_a_damaged_draco_payload_is_named(tmp_path: Path, damage: str) -> None:
    model, payload = draco_quad()
    start = model.doc["bufferViews"][0]["byteOffset"]
    if damage == "flip":
        model.blob[start:start + 5] = b"XXXXX"
    elif damage == "zeros":
        model.blob[start:start + len(payload)] = bytes(len(payload))
    else:
        model.doc["bufferViews"][0]["byteLength"] = 12
    message = refusal(tmp_path, {"models/thing.glb": model.glb()}, "models/thing.glb")
    assert "meshes[0].primitives[0].extensions.KHR_draco_mesh_compression" in message
    assert "Draco data that decodes" in message or "components, as accessors" in message


def test_an_unsupported_required_extension_is_named(tmp_path: Path) -> None:
    doc = quad().gltf()
    doc["extensionsRequired"] = ["KHR_texture_transform", "EXT_meshopt_compression"]
    message = refusal(tmp_path, {MODEL: doc})
    assert "extensionsRequired: expected only extensions Storm can load" in message
    assert "this model needs EXT_meshopt_compression, which Storm does not support" in message


# -- animations: key times and counts ------------------------------------------------------------

def animated_quad(times: list[float]) -> GltfBuilder:
    """The quad with a translation clip on its node, keys at ``times``."""
    model = quad()
    keys = model.accessor(np.array(times).reshape(-1, 1), 5126, "SCALAR")
    moves = model.accessor(np.zeros((len(times), 3)), 5126, "VEC3")
    model.doc["animations"] = [{"channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}}],
                                "samplers": [{"input": keys, "output": moves}]}]
    return model


@pytest.mark.parametrize("change, expected", [
    (lambda doc: None, None),
    (_set("animations.0.samplers.0.input", 1), "animations[0].samplers[0].input: expected an accessor of SCALAR float"),
    (_set("animations.0.samplers.0.output", 0), "animations[0].samplers[0].output: expected 3 values (1 per key time"),
    (_set("animations.0.channels.0.sampler", 1), "animations[0].channels[0].sampler: expected an index into this"),
    (_set("animations.0.channels.0.target.path", "weights"), "a node whose mesh has morph targets, for weights"),
])
def test_animation_samplers_must_match_their_channels(tmp_path: Path, change: Any, expected: str | None) -> None:
    doc = animated_quad([0.0, 0.5, 1.0]).gltf()
    change(doc)
    if expected is None:
        load(tmp_path, {MODEL: doc})
    else:
        assert expected in refusal(tmp_path, {MODEL: doc})


@pytest.mark.parametrize("times, expected", [
    ([0.0, 1.0, 0.5], "key times that are finite, from 0 on and increasing"),
    ([-1.0, 0.0, 1.0], "key times that are finite, from 0 on and increasing"),
    ([0.0, 1.0, 1e9], "a last key time of at most 3600 seconds"),
])
def test_animation_key_times_must_increase_and_stay_bounded(tmp_path: Path, times: list[float], expected: str) -> None:
    message = refusal(tmp_path, {MODEL: animated_quad(times).gltf()})
    assert "animations[0].samplers[0].input: expected" in message and expected in message


def test_the_skinned_character_loads_and_its_mangled_skin_is_named(tmp_path: Path) -> None:
    from tools.assets.gltf_character import character_gltf

    doc = character_gltf()
    assert load(tmp_path, {"models/hero.gltf": doc}, "models/hero.gltf").find("**/+Character") is not None
    doc["skins"][0]["joints"].append(doc["skins"][0]["joints"][0])
    message = refusal(tmp_path / "2", {"models/hero.gltf": doc}, "models/hero.gltf")
    assert "skins[0].joints: expected each index once" in message


# -- what the player sees of a model that fails --------------------------------------------------

def test_the_placeholder_keeps_its_size_under_a_tiny_scale(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = AssetCache(mount(tmp_path, {MODEL: quad().gltf("thing.bin")}))
    root = NodePath("render")
    entity = root.attachNewNode("entity")
    entity.setScale(1e-3)
    shown = cache.model(f"mod:{MODEL}", owner="entity 4 (Statue)", parent=entity)
    assert shown.getName() == f"missing:mod:{MODEL}" and tuple(shown.getColor()) == PLACEHOLDER_COLOR
    low, high = shown.getTightBounds(root)
    assert tuple(high - low) == pytest.approx((PLACEHOLDER_SIZE,) * 3)
    (error,) = cache.errors
    assert error.startswith(f"asset 'mod:{MODEL}' (used by entity 4 (Statue)): ") and "\n" not in error
    assert "names 'models/thing.bin', which pack 'mod' does not have" in error
    assert error.endswith("showing a placeholder")


def test_a_failed_model_on_a_thousandth_scale_entity_is_seen_as_magenta(tmp_path: Path) -> None:
    data = {"storm_world": 2, "name": "tiny", "entities": [
        {"id": 1, "name": "Camera", "transform": {"pos": [0, -6, 0]}, "components": {"Camera": {}}},
        {"id": 2, "name": "Sun", "transform": {"hpr": [0, -45, 0]}, "components": {"Light": {"kind": "directional"}}},
        {"id": 3, "name": "Statue", "transform": {"scale": [0.001, 0.001, 0.001]},
         "components": {"MeshRenderer": {"model": "base:models/lost_statue.gltf"}}}]}
    image = shoot(data, tmp_path, "tiny")
    red, green, blue = rgb(image, image.getXSize() // 2, image.getYSize() // 2)
    assert red > 0.6 and blue > 0.6 and green < 0.3, (red, green, blue)


# -- validate reports what a load would --------------------------------------------------------

def test_validate_names_each_broken_model_and_the_missing_texture(tmp_path: Path) -> None:
    textured = quad()
    textured.texture({"uri": "bark.png"})
    truncated = quad().glb()
    draco, _ = draco_quad()
    required = quad().gltf()
    required["extensionsRequired"] = ["KHR_gaussian_splatting"]
    spaced = quad()
    files = {"models/no_bin.gltf": quad().gltf("no_bin.bin"),
             "models/no_texture.gltf": textured.gltf(),
             "models/cut.glb": truncated[:len(truncated) - 30],
             "models/draco.glb": draco.glb(),
             "models/required.gltf": required,
             "models/my model.bin": bytes(spaced.blob),
             "models/spaced.gltf": spaced.gltf("my%20model.bin"),
             "models/misspelt.gltf": spaced.gltf("my%20modle.bin")}
    root = folder_pack(tmp_path / "packs" / "mod", "mod", files)
    content = default_content()
    content.add_pack(root)
    names = ["no_bin.gltf", "no_texture.gltf", "cut.glb", "draco.glb", "required.gltf", "spaced.gltf", "misspelt.gltf"]
    path = write_json(tmp_path / "models.world.json", {"storm_world": 2, "name": "models", "entities": [
        {"id": i + 1, "name": name, "components": {"MeshRenderer": {"model": f"mod:models/{name}"}}}
        for i, name in enumerate(names)]})
    report = check_world(path, create_runtime(content))
    found = {p.path.split("(", 1)[1].split(")", 1)[0]: str(p) for p in report.problems}
    assert set(found) == {"no_bin.gltf", "no_texture.gltf", "cut.glb", "required.gltf", "misspelt.gltf"}, found
    assert "names 'models/no_bin.bin', which pack 'mod' does not have" in found["no_bin.gltf"]
    assert "it loads without part of itself" in found["no_texture.gltf"]
    assert "images[0].uri: names 'models/bark.png'" in found["no_texture.gltf"]
    assert "chunks[1] (BIN\\u0000): expected the" in found["cut.glb"] or "header.length" in found["cut.glb"]
    assert "needs KHR_gaussian_splatting, which Storm does not support" in found["required.gltf"]
    assert "names 'models/my modle.bin', which pack 'mod' does not have" in found["misspelt.gltf"]
    assert all("\n" not in message for message in found.values())


def test_converter_messages_are_kept_out_of_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load(tmp_path, {MODEL: quad(material=False).gltf()})  # panda3d-gltf prints a warning for no material
    assert capsys.readouterr().out == ""


def test_every_message_is_one_line_for_a_scrambled_document(tmp_path: Path) -> None:
    doc = quad().gltf()
    doc["nodes"][0]["name"] = "evil\nok: all fine"
    doc["meshes"][0]["primitives"][0]["attributes"]["POSITION\nfake"] = 0
    node = load(tmp_path, {MODEL: doc})  # an unknown attribute is left out, not fatal
    assert size_of(node) == (2.0, 0.0, 1.0)
    doc["accessors"][0]["count"] = "4\nok"
    message = refusal(tmp_path / "2", {MODEL: doc})
    assert "accessors[0].count: expected a whole number >= 1, got '4\\nok'" in message
