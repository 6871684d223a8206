"""glTF models from packs, checked and handed to Panda3D as bytes.

The model file is read through the content registry; every file it names (a ``.bin`` buffer, a
``.png`` texture) must lie in the same pack as the model (after ``%20``-style escapes and ``..``
are resolved, never above the pack's top), is read the same way, and is handed over in memory.
No path reaches Panda3D, so it cannot open anything outside the pack (panda3d-gltf itself would
open a buffer's ``uri`` with Python's ``open`` relative to the real folder).

Before the converter runs, the document is checked (``gltf_checks``: references, buffer views,
accessors, the node tree, the converter's work bounded), Draco primitives are decoded
(``gltf_draco``), images are decoded within the pixel budget (``gltf_images``: a bad or missing
image drops its textures, not the model) and every accessor the converter reads is repacked
into one plain buffer (``gltf_data``). What the converter is then given cannot make its C++
side read out of bounds. Only ``.gltf`` and ``.glb`` are read from packs: ``.egg`` and ``.bam``
name textures that Panda3D looks up along its model path, outside the pack.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import io
import logging
import posixpath
import re
import struct
import urllib.parse
from typing import TYPE_CHECKING, Any, Callable

from gltf import GltfSettings
from gltf._converter import Converter
from panda3d.core import (
    ConfigVariableBool,
    ConfigVariableInt,
    ConfigVariableString,
    Filename,
    NodePath,
    PNMImage,
    SamplerState,
)

from engine.core.errors import DataError, printable
from engine.packs.gltf_checks import DocumentCheck, ModelError, fail
from engine.packs.gltf_data import Repack
from engine.packs.gltf_draco import decode_draco
from engine.packs.gltf_images import decode_images, stand_in_png
from engine.packs.json_text import parse_json_bytes
from engine.packs.path_rules import name_problem

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry
    from engine.packs.vfs import Pack

__all__ = ["MODEL_SUFFIXES", "ModelError", "gltf_settings", "load_gltf", "model_warnings"]

log = logging.getLogger("storm.assets")

MODEL_SUFFIXES = (".gltf", ".glb")
WARNINGS_TAG = "storm-model-warnings"  # on the model's root (kept in the import cache's .bam): one per line
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_STAND_IN = stand_in_png()
# Taken out before conversion: cameras (entities have Storm's), physics shapes (colliders are
# Storm's components) and the draft KHR_lights (not the KHR_lights_punctual that glTF kept).
_LEFT_OUT_EXTENSIONS = ("BLENDER_physics", "PANDA3D_physics_collision_shapes", "KHR_lights", "BP_physics_engine")


def load_gltf(content: "ContentRegistry", asset_id: str) -> NodePath:
    """The model of a glTF asset as a NodePath; raises ModelError (or DataError for a refused
    read) saying what is wrong. What loading left out (a texture whose image is missing) is in
    ``model_warnings`` of the result."""
    hit = content.files.find(asset_id)
    if hit is None:
        raise ModelError(f"no enabled pack has {asset_id!r}")
    pack, name = hit
    assert pack.source is not None
    where = pack.source.display(name)
    doc, glb_bin = _parse(content.files.read_in_pack(pack, name), where)
    folder = posixpath.dirname(name)

    def read(uri: Any, place: str) -> bytes:
        return content.files.read_in_pack(pack, _companion(content, pack, folder, uri, where, place))

    check = DocumentCheck(doc, where)
    check.shapes()
    check.required_extensions()
    buffers = _buffers(doc, glb_bin, read, where)
    check.views([buffer["byteLength"] for buffer in doc.get("buffers", [])])
    check.accessors()
    check.hierarchy()
    overrides = decode_draco(check, buffers)
    check.primitives()
    check.animations()
    images, warnings = decode_images(doc, buffers, read, where, content.budgets.pixels)
    settings = gltf_settings()
    blob = Repack(doc, buffers, where, overrides, fps=settings.animation_fps).run()
    del buffers, overrides
    _plain(doc, len(blob))
    if not doc.get("scenes"):
        warnings.append(f"{printable(where)}: scenes: expected a scene to show; the model is empty")
    for note in check.notes:
        log.debug("%s: %s", where, note)
    node = _convert(doc, blob, images, f"/storm-packs/{pack.name}/{name}", where, settings)
    if warnings:
        node.setTag(WARNINGS_TAG, "\n".join(warnings))
    return node


def model_warnings(node: NodePath) -> list[str]:
    """What loading left out of a model, each a message naming the file, the place and why."""
    text = node.getTag(WARNINGS_TAG) if not node.isEmpty() else ""
    return text.split("\n") if text else []


def _parse(data: bytes, where: str) -> tuple[dict[str, Any], bytes | None]:
    """The JSON document and, for a .glb file, its BIN chunk."""
    glb_bin = None
    if data[:4] == b"glTF":
        data, glb_bin = _glb_chunks(data, where)
    try:
        doc = parse_json_bytes(data, where)
    except DataError as exc:
        raise ModelError(str(exc)) from None
    if not isinstance(doc, dict):
        fail(where, "top level", "a JSON object (a glTF document)", type(doc).__name__)
    return doc, glb_bin


def _glb_chunks(data: bytes, where: str) -> tuple[bytes, bytes | None]:
    """The JSON and BIN chunks of a .glb file, every length checked against the file's."""
    if len(data) < 12:
        fail(where, "header", "a GLB header of 12 bytes", f"{len(data)} bytes")
    _magic, version, length = struct.unpack_from("<4sII", data)
    if version != 2:
        fail(where, "header.version", "GLB version 2", version)
    if length > len(data):
        fail(where, "header.length", f"as many bytes as the header declares ({length}); the file holds {len(data)} "
                                     "(cut short?)")
    at, chunks = 12, []
    while at < length:
        place = f"chunks[{len(chunks)}]"
        if at + 8 > length:
            fail(where, place, "a chunk header of 8 bytes", f"{length - at} bytes")
        size, kind = struct.unpack_from("<I4s", data, at)
        if at + 8 + size > length:
            fail(where, f"{place} ({printable(kind.decode('latin-1'))})",
                 f"the {size} bytes the chunk declares; {length - at - 8} remain (cut short?)")
        chunks.append((kind, data[at + 8:at + 8 + size]))
        at += 8 + size
    if not chunks or chunks[0][0] != b"JSON":
        fail(where, "chunks[0]", "a JSON chunk first")
    glb_bin = next((chunk for kind, chunk in chunks[1:] if kind == b"BIN\0"), None)
    return chunks[0][1].rstrip(b" \0"), glb_bin


def _buffers(doc: dict[str, Any], glb_bin: bytes | None, read: Callable[[Any, str], bytes],
             where: str) -> list[bytes]:
    """The bytes of every buffer: the .glb BIN chunk, base64 data, or a file of the same pack."""
    out = []
    for index, buffer in enumerate(doc.get("buffers", [])):
        place = f"buffers[{index}]"
        uri = buffer.get("uri")
        if uri is None:
            if index != 0 or glb_bin is None:
                fail(where, place, "a uri (only the first buffer of a .glb file has none: the file's BIN chunk)")
            blob = glb_bin
        elif uri.startswith("data:"):
            info, _, payload = uri[5:].partition(",")
            try:
                if not info.endswith(";base64"):
                    raise ValueError(info)
                blob = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                fail(where, f"{place}.uri", "a data URI of base64 bytes ('data:application/octet-stream;base64,...')")
        else:
            blob = read(uri, f"{place}.uri")
        length = buffer["byteLength"]
        if len(blob) < length:
            raise ModelError(f"{printable(where)}: {place} holds {len(blob)} bytes, fewer than its byteLength {length} "
                             "(a file cut short, or not the model's)")
        out.append(blob)
    return out


def _companion(content: "ContentRegistry", pack: "Pack", folder: str, uri: Any, where: str, field: str) -> str:
    """The pack file a model names, checked to lie inside the same pack."""
    if not isinstance(uri, str) or not uri:
        raise ModelError(f"{printable(where)}: {field}: expected a file name, got {printable(repr(uri), 80)}")
    shown = printable(repr(uri if len(uri) <= 80 else uri[:77] + "..."), 90)
    if _SCHEME.match(uri):
        raise ModelError(f"{printable(where)}: {field}: expected a file beside the model in pack {pack.name!r}, "
                         f"not a URL or a drive ({shown})")
    path = urllib.parse.unquote(uri)
    if path.startswith("/") or "\\" in path:
        raise ModelError(f"{printable(where)}: {field}: expected a relative path inside pack {pack.name!r}, "
                         f"got {shown}")
    joined = posixpath.normpath(posixpath.join(folder, path))
    problem = name_problem(joined)
    if problem:
        raise ModelError(f"{printable(where)}: {field}: expected a file inside pack {pack.name!r} ({problem}), "
                         f"got {shown}")
    if not content.files.has_in_pack(pack, joined):
        raise ModelError(f"{printable(where)}: {field}: names {printable(repr(joined), 90)}, which pack {pack.name!r} "
                         "does not have (a model's files must be in the same pack)")
    return joined


def _plain(doc: dict[str, Any], stand_in_at: int) -> None:
    """Leave the converter only what it reads safely: each image the shared 1x1 stand-in (the
    decoded one replaces it; it follows the packed data at ``stand_in_at``), no cameras, no
    physics shapes, no draft lights."""
    doc["buffers"][0]["byteLength"] = stand_in_at + len(_STAND_IN)
    doc["bufferViews"].append({"buffer": 0, "byteOffset": stand_in_at, "byteLength": len(_STAND_IN)})
    stand_in = len(doc["bufferViews"]) - 1
    doc["images"] = [{"bufferView": stand_in, "mimeType": "image/png",
                      **({"name": image["name"]} if isinstance(image.get("name"), str) else {})}
                     for image in doc.get("images", [])]
    doc.pop("cameras", None)
    for holder in (doc, *doc.get("nodes", [])):
        extensions = holder.get("extensions", {})
        for name in _LEFT_OUT_EXTENSIONS:
            extensions.pop(name, None)
        holder.pop("camera", None)
    if not doc.get("scenes"):
        doc.pop("scenes", None)
    for scene in doc.get("scenes", []):
        scene.setdefault("nodes", [])


class _Converter(Converter):
    """panda3d-gltf's converter, given the images Storm decoded instead of decoding them again."""

    def __init__(self, filepath: Filename, settings: GltfSettings, images: dict[int, PNMImage]) -> None:
        super().__init__(filepath, settings=settings)
        self._images = images

    def load_texture(self, texid: int, gltf_tex: dict[str, Any], gltf_data: dict[str, Any]) -> None:
        super().load_texture(texid, gltf_tex, gltf_data)
        image = self._images.get(gltf_tex.get("source", -1))
        texture = self.textures.get(texid)
        if image is not None and texture is not None:
            sampler, name = SamplerState(texture.getDefaultSampler()), texture.getName()  # load() resets both
            texture.load(image)
            texture.setDefaultSampler(sampler)
            texture.setName(name)


def _convert(doc: dict[str, Any], blob: bytes, images: dict[int, PNMImage], name: str, where: str,
             settings: GltfSettings) -> NodePath:
    converter = _Converter(Filename(name), settings, images)
    converter.buffers[0] = blob + _STAND_IN
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):  # the converter prints its warnings
            converter.update(doc)
    except RecursionError:
        raise ModelError(f"{printable(where)}: expected a model the converter can walk (it nests too deeply)") from None
    except Exception as exc:  # noqa: BLE001 - panda3d-gltf raises many kinds on what the checks let through
        raise ModelError(f"{printable(where)}: the glTF converter could not read it "
                         f"({type(exc).__name__}: {printable(str(exc), 160)})") from None
    for line in said.getvalue().splitlines()[:50]:
        log.debug("%s: converter: %s", where, line)
    return NodePath(converter.active_scene.node())


def gltf_settings() -> GltfSettings:
    """panda3d-gltf's settings, read from the same config variables its loader plugin reads."""
    settings = GltfSettings()
    kinds = {"str": ConfigVariableString, "bool": ConfigVariableBool, "int": ConfigVariableInt}
    for field in dataclasses.fields(settings):
        kind = kinds.get(field.type if isinstance(field.type, str) else getattr(field.type, "__name__", ""))
        if kind is not None:
            name = "gltf-" + field.name.replace("_", "-")
            setattr(settings, field.name, kind(name, getattr(settings, field.name)).getValue())
    return settings
