"""glTF models from packs, handed to Panda3D as bytes.

The model file is read through the content registry; every file it names (a ``.bin`` buffer, a
``.png`` texture) must lie in the same pack as the model (after ``..`` is resolved, never above
the pack's top), is read the same way, and is handed over in memory: buffers go straight into
panda3d-gltf's converter, external images become buffer views that the converter decodes from
bytes. No path reaches Panda3D, so it cannot open anything outside the pack (panda3d-gltf itself
would open a buffer's ``uri`` with Python's ``open`` relative to the real folder).

A buffer shorter than its ``byteLength`` is refused before conversion (Panda3D would read past
its end). Only ``.gltf`` and ``.glb`` are read from packs: ``.egg`` and ``.bam`` name textures
that Panda3D looks up along its model path, outside the pack.
"""
from __future__ import annotations

import dataclasses
import io
import posixpath
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from gltf import GltfSettings
from panda3d.core import ConfigVariableBool, ConfigVariableInt, ConfigVariableString, Filename, NodePath

from engine.core.errors import DataError
from engine.packs.json_text import parse_json_bytes
from engine.packs.path_rules import name_problem

if TYPE_CHECKING:
    from engine.packs.content import ContentRegistry
    from engine.packs.vfs import Pack

MODEL_SUFFIXES = (".gltf", ".glb")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".tga": "image/tga",
                ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff", ".webp": "image/webp"}


class ModelError(Exception):
    """A model that cannot load: the message names the file, the place in it and why."""


def load_gltf(content: "ContentRegistry", asset_id: str) -> NodePath:
    """The model of a glTF asset as a NodePath; raises ModelError (or DataError for a refused
    read) saying what is wrong."""
    hit = content.files.find(asset_id)
    if hit is None:
        raise ModelError(f"no enabled pack has {asset_id!r}")
    pack, name = hit
    assert pack.source is not None
    where = pack.source.display(name)
    data = content.files.read_in_pack(pack, name)
    gltf = _parse(data, where)
    buffers = gltf.setdefault("buffers", [])
    views = gltf.setdefault("bufferViews", [])
    if not isinstance(buffers, list) or not isinstance(views, list) or not isinstance(gltf.get("images", []), list):
        raise ModelError(f"{where}: buffers, bufferViews and images must be lists")
    folder = posixpath.dirname(name)
    filled: dict[int, bytes] = {}
    for index, buffer in enumerate(buffers):
        if not isinstance(buffer, dict):
            raise ModelError(f"{where}: buffers[{index}] must be an object")
        uri = buffer.get("uri")
        if uri is None or uri == "_glb_bin":
            blob = buffer.get("_glb_bin")
        elif isinstance(uri, str) and uri.startswith("data:"):
            continue
        else:
            blob = content.files.read_in_pack(pack, _companion(pack, folder, uri, where, f"buffers[{index}].uri"))
            filled[index] = blob
            del buffer["uri"]
        length = buffer.get("byteLength")
        if blob is not None and (not isinstance(length, int) or isinstance(length, bool) or len(blob) < length):
            raise ModelError(f"{where}: buffers[{index}] holds {len(blob)} bytes, fewer than its byteLength "
                             f"{length!r}")
    for index, image in enumerate(gltf.get("images", [])):
        uri = image.get("uri") if isinstance(image, dict) else None
        if not isinstance(uri, str) or uri.startswith("data:"):
            continue
        companion = _companion(pack, folder, uri, where, f"images[{index}].uri")
        blob = content.files.read_in_pack(pack, companion)
        filled[len(buffers)] = blob
        buffers.append({"byteLength": len(blob)})
        views.append({"buffer": len(buffers) - 1, "byteOffset": 0, "byteLength": len(blob)})
        suffix = posixpath.splitext(companion)[1].lower()
        gltf["images"][index] = {"bufferView": len(views) - 1, "name": image.get("name", companion),
                                 "mimeType": _IMAGE_TYPES.get(suffix, f"image/{suffix[1:]}")}
    return _convert(gltf, filled, f"/storm-packs/{pack.name}/{name}", where)


def _parse(data: bytes, where: str) -> dict[str, Any]:
    if data[:4] == b"glTF":
        from gltf.parseutils import parse_glb_data

        try:
            gltf = parse_glb_data(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - a damaged container, said in words
            raise ModelError(f"{where}: not a complete GLB file ({exc or type(exc).__name__})") from None
    else:
        try:
            gltf = parse_json_bytes(data, where)
        except DataError as exc:
            raise ModelError(str(exc)) from None
    if not isinstance(gltf, dict):
        raise ModelError(f"{where}: a glTF file is a JSON object")
    return gltf


def _companion(pack: "Pack", folder: str, uri: Any, where: str, field: str) -> str:
    """The pack file a model names, checked to lie inside the same pack."""
    if not isinstance(uri, str) or not uri:
        raise ModelError(f"{where}: {field}: expected a file name, got {uri!r}")
    shown = uri if len(uri) <= 80 else uri[:77] + "..."
    if _SCHEME.match(uri):
        raise ModelError(f"{where}: {field}: expected a file beside the model in pack {pack.name!r}, "
                         f"not a URL or a drive ({shown!r})")
    path = urllib.parse.unquote(uri)
    if path.startswith("/") or "\\" in path:
        raise ModelError(f"{where}: {field}: expected a relative path inside pack {pack.name!r}, got {shown!r}")
    joined = posixpath.normpath(posixpath.join(folder, path))
    problem = name_problem(joined)
    if problem:
        raise ModelError(f"{where}: {field}: expected a file inside pack {pack.name!r} ({problem}), got {shown!r}")
    assert pack.source is not None
    if joined not in pack.source.files:
        raise ModelError(f"{where}: {field}: names {joined!r}, which pack {pack.name!r} does not have "
                         "(a model's files must be in the same pack)")
    return joined


def _convert(gltf: dict[str, Any], filled: dict[int, bytes], name: str, where: str) -> NodePath:
    from gltf._converter import Converter

    converter = Converter(Filename(name), settings=gltf_settings())
    converter.buffers.update(filled)
    try:
        converter.update(gltf)
    except Exception as exc:  # noqa: BLE001 - panda3d-gltf raises many kinds on bad input
        raise ModelError(f"{where}: the glTF converter could not read it ({type(exc).__name__}: {exc})") from None
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
