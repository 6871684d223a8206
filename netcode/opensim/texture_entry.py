"""A prim's TextureEntry: which texture, colour and mapping each face has.

The layout (the Second Life viewer's ``LLTextureEntry::packTEMessage``, which OpenSimulator
writes through libopenmetaverse) is a run of sections, each a default value followed by
exceptions, a face bit mask (7 bits a byte, high bit: more bytes follow) and a value, ended by
a zero mask: textures (16-byte UUIDs), colours (4 bytes, each inverted), repeats U and V
(float32), offsets U and V (int16 / 32767), rotation (int16, 32768 a full turn), then
bytes for material, media and glow. Every read is checked against the bytes left; a section
that is missing at the end keeps its default (senders may stop after any section), a
section cut in the middle raises ``TextureEntryError``. At most ``MAX_FACES`` faces.
"""
from __future__ import annotations

import math
import struct
import uuid
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from netcode.opensim.messages import fast_uuid

MAX_FACES = 32
WHITE = (1.0, 1.0, 1.0, 1.0)
T = TypeVar("T")


class TextureEntryError(ValueError):
    """A TextureEntry that does not decode: says which section and what was expected."""


@dataclass(frozen=True)
class FaceLook:
    """How one face looks: its texture (None: none), colour and texture mapping."""

    texture: uuid.UUID | None = None
    color: tuple[float, float, float, float] = WHITE
    repeat: tuple[float, float] = (1.0, 1.0)
    offset: tuple[float, float] = (0.0, 0.0)
    rotation: float = 0.0                                        # radians


@dataclass
class TextureEntry:
    """The default face and the faces that differ from it (face number -> value)."""

    texture: uuid.UUID | None = None
    color: tuple[float, float, float, float] = WHITE
    repeat: tuple[float, float] = (1.0, 1.0)
    offset: tuple[float, float] = (0.0, 0.0)
    rotation: float = 0.0                                        # radians
    face_textures: dict[int, uuid.UUID] = field(default_factory=dict)
    face_colors: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    face_repeats: dict[int, tuple[float, float]] = field(default_factory=dict)
    face_offsets: dict[int, tuple[float, float]] = field(default_factory=dict)
    face_rotations: dict[int, float] = field(default_factory=dict)

    def texture_of(self, face: int) -> uuid.UUID | None:
        return self.face_textures.get(face, self.texture)

    def face(self, face: int) -> FaceLook:
        """How face ``face`` looks: its own values where it has them, the default's elsewhere."""
        return FaceLook(self.face_textures.get(face, self.texture), self.face_colors.get(face, self.color),
                        self.face_repeats.get(face, self.repeat), self.face_offsets.get(face, self.offset),
                        self.face_rotations.get(face, self.rotation))

    @property
    def look(self) -> FaceLook:
        """The default face's look."""
        return FaceLook(self.texture, self.color, self.repeat, self.offset, self.rotation)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, count: int, what: str) -> bytes:
        if self.pos + count > len(self.data):
            raise TextureEntryError(f"TextureEntry {what}: expected {count} bytes, {self.left()} are left")
        out = self.data[self.pos:self.pos + count]
        self.pos += count
        return out

    def mask(self, what: str) -> int:
        value = 0
        for _ in range(5):                               # 5 x 7 bits covers 32 faces
            byte = self.take(1, f"{what} face mask")[0]
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                return value
        raise TextureEntryError(f"TextureEntry {what}: a face mask longer than 5 bytes")


def _section(reader: _Reader, size: int, convert: Callable[[bytes], T], what: str) -> tuple[T, dict[int, T]] | None:
    """A default and its per-face exceptions; None when the entry ended before the section."""
    if reader.left() == 0:
        return None
    default = convert(reader.take(size, what))
    faces: dict[int, T] = {}
    for _ in range(MAX_FACES + 1):
        if reader.left() == 0:                           # the last section may omit its zero mask
            return default, faces
        mask = reader.mask(what)
        if mask == 0:
            return default, faces
        if mask >> MAX_FACES:
            raise TextureEntryError(f"TextureEntry {what}: a face mask beyond face {MAX_FACES - 1}")
        value = convert(reader.take(size, what))
        for face in range(MAX_FACES):
            if mask >> face & 1:
                faces[face] = value
    raise TextureEntryError(f"TextureEntry {what}: more than {MAX_FACES} exceptions")


def _color(raw: bytes) -> tuple[float, float, float, float]:
    r, g, b, a = (1.0 - c / 255.0 for c in raw)
    return (r, g, b, a)


def _repeat(value: float) -> float:
    return value if math.isfinite(value) and abs(value) < 1e4 else 1.0   # NaN or huge: one repeat


def _float(raw: bytes) -> float:
    return _repeat(struct.unpack("<f", raw)[0])


def _short(raw: bytes) -> float:
    return struct.unpack("<h", raw)[0] / 32767.0


def _turn(raw: bytes) -> float:
    return struct.unpack("<h", raw)[0] / 32768.0 * 2.0 * math.pi


_PLAIN = struct.Struct("<16sx4sxfxfxhxhxhx")          # every section a default and its zero mask
_PLAIN_ENDS = (16, 21, 26, 31, 34, 37, 40)               # where those zero masks are


def decode_texture_entry(data: bytes) -> TextureEntry:
    """The TextureEntry of an object update (empty: the defaults); raises TextureEntryError."""
    data = bytes(data)
    if len(data) >= _PLAIN.size and not any(data[i] for i in _PLAIN_ENDS):
        return _plain(data)                              # the usual prim: no per-face values (fast path)
    reader = _Reader(data)
    entry = TextureEntry()
    textures = _section(reader, 16, fast_uuid, "textures")
    if textures is None:
        return entry
    entry.texture, entry.face_textures = textures
    colors = _section(reader, 4, _color, "colours")
    if colors is None:
        return entry
    entry.color, entry.face_colors = colors
    parts = [_section(reader, size, convert, what) for size, convert, what in (
        (4, _float, "repeat U"), (4, _float, "repeat V"), (2, _short, "offset U"), (2, _short, "offset V"),
        (2, _turn, "rotation"))]
    if parts[0] and parts[1]:
        entry.repeat = (parts[0][0], parts[1][0])
        entry.face_repeats = _pairs(parts[0], parts[1])
    if parts[2] and parts[3]:
        entry.offset = (parts[2][0], parts[3][0])
        entry.face_offsets = _pairs(parts[2], parts[3])
    if parts[4]:
        entry.rotation, entry.face_rotations = parts[4]
    return entry


def _pairs(us: tuple[float, dict[int, float]], vs: tuple[float, dict[int, float]]) -> dict[int, tuple[float, float]]:
    """Per-face (u, v) from the u and v sections: a face named in either takes the other's default."""
    return {face: (us[1].get(face, us[0]), vs[1].get(face, vs[0])) for face in sorted(set(us[1]) | set(vs[1]))}


def _plain(data: bytes) -> TextureEntry:
    texture, color, ru, rv, ou, ov, rotation = _PLAIN.unpack_from(data)
    entry = TextureEntry(fast_uuid(texture), _color(color))
    if ru != 1.0 or rv != 1.0:
        entry.repeat = (_repeat(ru), _repeat(rv))
    if ou or ov:
        entry.offset = (ou / 32767.0, ov / 32767.0)
    if rotation:
        entry.rotation = rotation / 32768.0 * 2.0 * math.pi
    return entry


def encode_texture_entry(texture: uuid.UUID, color: tuple[float, float, float, float] = WHITE,
                         faces: dict[int, uuid.UUID] | None = None,
                         face_colors: dict[int, tuple[float, float, float, float]] | None = None) -> bytes:
    """A TextureEntry with a default texture and colour (and per-face textures and colours):
    what a viewer sends in ObjectImage to retexture its own prim."""
    out = bytearray(texture.bytes)
    for face, face_texture in sorted((faces or {}).items()):
        out += _mask_bytes(1 << face) + face_texture.bytes
    out.append(0)
    out += _color_bytes(color)
    for face, face_color in sorted((face_colors or {}).items()):
        out += _mask_bytes(1 << face) + _color_bytes(face_color)
    out += b"\0"
    for packed in (struct.pack("<f", 1.0), struct.pack("<f", 1.0), bytes(2), bytes(2), bytes(2), b"\0", b"\0",
                   b"\0"):
        out += packed + b"\0"
    return bytes(out)


def _color_bytes(color: tuple[float, float, float, float]) -> bytes:
    return bytes(255 - round(min(1.0, max(0.0, c)) * 255) for c in color)


def _mask_bytes(mask: int) -> bytes:
    groups = []
    while True:
        groups.append(mask & 0x7F)
        mask >>= 7
        if not mask:
            break
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])
