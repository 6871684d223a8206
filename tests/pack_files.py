"""Helpers that make pack folders and zips for the pack tests: honest ones, and hand-made zips
whose headers say whatever a test wants (names zipfile would not write, lying sizes, symlinks)."""
from __future__ import annotations

import base64
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.assets.gltf_box import box_gltf

MiB = 1024 * 1024


def manifest(pack_id: str, kind: str = "content", extra: str = "") -> str:
    return f'schema = 1\nid = "{pack_id}"\nversion = "1.0.0"\nkind = "{kind}"\n{extra}'


def folder_pack(root: Path, pack_id: str, files: dict[str, Any], kind: str = "content", extra: str = "") -> Path:
    """A pack folder with a pack.toml and ``files`` (bytes as is, str as text, anything else as JSON)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.toml").write_text(manifest(pack_id, kind, extra), encoding="utf-8")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(json.dumps(content, indent=1), encoding="utf-8")
    return root


@dataclass
class Raw:
    """One entry of a hand-made zip. ``claim`` is the size the headers claim (default: the truth)."""

    name: str | bytes
    data: bytes = b""
    deflate: bool = False
    claim: int | None = None
    mode: int = 0o100644
    method: int | None = None
    flags: int = 0x800
    offset: int | None = None  # point the central record at another entry's local header


def raw_zip(path: Path, entries: list[Raw], manifest_text: str | None = None) -> Path:
    """Write a zip by hand: local headers, data, central directory, end record."""
    if manifest_text is not None:
        entries = [Raw("pack.toml", manifest_text.encode())] + entries
    body, central, offsets = bytearray(), bytearray(), []
    for entry in entries:
        name = entry.name if isinstance(entry.name, bytes) else entry.name.encode("utf-8")
        payload = entry.data
        method = entry.method if entry.method is not None else (8 if entry.deflate else 0)
        if entry.deflate:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            payload = packer.compress(entry.data) + packer.flush()
        size = len(entry.data) if entry.claim is None else entry.claim
        crc = zlib.crc32(entry.data)
        offset = len(body) if entry.offset is None else entry.offset
        offsets.append(offset)
        if entry.offset is None:
            body += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, entry.flags, method, 0, 33, crc, len(payload),
                                size, len(name), 0) + name + payload
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, entry.flags, method, 0, 33, crc,
                               len(payload), size, len(name), 0, 0, 0, 0, entry.mode << 16, offset) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(body), 0)
    path.write_bytes(bytes(body) + bytes(central) + end)
    return path


def deflated_zeros(total: int) -> bytes:
    """A raw deflate stream of ``total`` zero bytes (a multiple of 1 MiB), made in milliseconds:
    one fully flushed block of a MiB of zeros (about 1 KB), repeated, then an empty final block."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(b"\0" * MiB) + packer.flush(zlib.Z_FULL_FLUSH)
    return block * (total // MiB) + b"\x03\x00"


def bomb_zip(path: Path, expands_to: int, claim: int, manifest_text: str) -> Path:
    """A zip whose one entry inflates to ``expands_to`` zero bytes while its headers claim ``claim``."""
    stream = deflated_zeros(expands_to)
    entry = Raw("data/zeros.bin", stream, claim=claim, method=8)
    return raw_zip(path, [entry], manifest_text)


def box_with_files(size: float = 1.0, texture: str | None = None, buffer_uri: str = "box.bin") -> tuple[dict, bytes]:
    """A glTF box whose buffer is an external file (``buffer_uri``) and, with ``texture``, whose
    material uses an external image; returns the document and the buffer's bytes."""
    gltf = box_gltf(size=size)
    blob = base64.b64decode(gltf["buffers"][0]["uri"].split(",", 1)[1])
    gltf["buffers"][0]["uri"] = buffer_uri
    if texture is not None:
        gltf["images"] = [{"uri": texture}]
        gltf["textures"] = [{"source": 0}]
        gltf["materials"][0]["pbrMetallicRoughness"]["baseColorTexture"] = {"index": 0}
    return gltf, blob


def png(width: int, height: int, value: int = 128) -> bytes:
    """A grey PNG of the given size, made with Pillow."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height), value).save(out, format="PNG")
    return out.getvalue()
