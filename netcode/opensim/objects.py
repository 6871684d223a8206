"""Region objects from ObjectUpdate (full), ObjectUpdateCompressed and ImprovedTerseObjectUpdate.

Each update becomes an ``ObjectState`` (full and compressed updates) or a ``TerseUpdate``
(position and rotation only). Byte layouts follow what OpenSimulator 0.9.2 writes
(``LLClientView``): the 60- or 76-byte motion block of full updates, the compressed block with
its flags, and the 44- or 60-byte terse block with 16-bit quantised motion. Every length is
checked before it is read; a block that does not decode raises ``ObjectError``.
"""
from __future__ import annotations

import logging
import math
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from netcode.opensim.messages import fast_uuid
from netcode.opensim.texture_entry import TextureEntry, TextureEntryError, decode_texture_entry

log = logging.getLogger("storm.opensim")
PCODE_PRIM, PCODE_AVATAR, PCODE_GRASS, PCODE_NEW_TREE, PCODE_TREE = 9, 47, 95, 111, 255
_F3 = struct.Struct("<3f")
_TERSE_Q = struct.Struct("<13H")


class ObjectError(ValueError):
    """An object update that does not decode: says which part and what was expected."""


@dataclass
class ObjectState:
    """What Storm keeps of one region object (a prim, an avatar, a tree)."""

    local_id: int
    full_id: uuid.UUID
    pcode: int
    parent_id: int = 0
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    path_curve: int = 16
    profile_curve: int = 1
    shape: dict[str, int] = field(default_factory=dict)
    entry: TextureEntry = field(default_factory=TextureEntry)
    name: str = ""
    text: str = ""
    sculpt: tuple[uuid.UUID, int] | None = None        # the sculpt map's texture and the sculpt type byte

    @property
    def is_avatar(self) -> bool:
        return self.pcode == PCODE_AVATAR

    @property
    def color(self) -> tuple[float, float, float, float]:
        return self.entry.color

    @property
    def texture(self) -> uuid.UUID | None:
        return self.entry.texture


@dataclass(frozen=True)
class TerseUpdate:
    """A terse update: where an object (or avatar) now is and how it is turned."""

    local_id: int
    position: tuple[float, float, float]
    rotation: tuple[float, float, float, float]
    avatar: bool


def _finite(values: tuple[float, ...], what: str) -> tuple[float, ...]:
    x, y, z = values        # comparisons with NaN are false, so NaN and infinities are refused here
    if not (-1e7 < x < 1e7 and -1e7 < y < 1e7 and -1e7 < z < 1e7):
        raise ObjectError(f"{what}: expected finite numbers, got {values}")
    return values


def _quat(x: float, y: float, z: float) -> tuple[float, float, float, float]:
    return (x, y, z, math.sqrt(max(0.0, 1.0 - (x * x + y * y + z * z))))


def _u16(value: int, span: float) -> float:
    return value / 65535.0 * 2.0 * span - span


def texture_entry(raw: bytes) -> TextureEntry:
    """The TextureEntry of an update; one that does not decode leaves the defaults (the object
    still shows, in white) and is logged (once, then every 1,000th)."""
    try:
        return decode_texture_entry(raw)
    except TextureEntryError as exc:
        _refused_entries[0] += 1
        if _refused_entries[0] == 1 or _refused_entries[0] % 1000 == 0:
            log.warning("opensim: a TextureEntry was refused (%d so far): %s", _refused_entries[0], exc)
        return TextureEntry()


_refused_entries = [0]


def name_values(text: bytes) -> dict[str, str]:
    """``FirstName STRING RW SV Test`` lines as a dict (bounded: at most 64 lines)."""
    out: dict[str, str] = {}
    for line in bytes(text).rstrip(b"\0").decode("utf-8", "replace").splitlines()[:64]:
        parts = line.split(" ", 4)
        if len(parts) == 5:
            out[parts[0]] = parts[4][:200]
    return out


def _avatar_name(nv: bytes) -> str:
    values = name_values(nv)
    return " ".join(v for v in (values.get("FirstName", ""), values.get("LastName", "")) if v)


def from_full(block: dict[str, Any]) -> ObjectState:
    """An ObjectState from one ObjectData block of a full ObjectUpdate."""
    motion = block["ObjectData"]
    if len(motion) == 76:
        offset = 16                            # an avatar's collision plane comes first
    elif len(motion) == 60:
        offset = 0
    else:
        raise ObjectError(f"ObjectData: expected 60 or 76 bytes of motion, got {len(motion)}")
    position = _finite(_F3.unpack_from(motion, offset), "position")
    rotation = _quat(*_finite(_F3.unpack_from(motion, offset + 36), "rotation"))
    state = ObjectState(block["ID"], block["FullID"], block["PCode"], block["ParentID"], position, rotation,  # type: ignore[arg-type]
                        _finite(tuple(block["Scale"]), "scale"), block["PathCurve"], block["ProfileCurve"],  # type: ignore[arg-type]
                        _shape_of(block), texture_entry(block["TextureEntry"]))
    if state.is_avatar:
        state.name = _avatar_name(block["NameValue"])
    state.text = bytes(block["Text"]).rstrip(b"\0").decode("utf-8", "replace")[:255]
    state.sculpt = sculpt_of(bytes(block["ExtraParams"]))
    return state


EXTRA_SCULPT = 0x30


def sculpt_of(extra: bytes) -> tuple[uuid.UUID, int] | None:
    """The sculpt block of an object's ExtraParams (a count, then type, size and data each), or
    None; a block that runs past the bytes there is ignored, as the rest of the object is kept."""
    if not extra:
        return None
    cursor = _Cursor(extra)
    try:
        for _ in range(cursor.take(1, "extra parameter count")[0]):
            kind = int.from_bytes(cursor.take(2, "extra parameter type"), "little")
            data = cursor.take(int.from_bytes(cursor.take(4, "extra parameter size"), "little"), "extra parameter")
            if kind == EXTRA_SCULPT and len(data) >= 17:
                return fast_uuid(data[:16]), data[16]
    except ObjectError:
        return None
    return None


_SHAPE_KEYS = ("PathBegin", "PathEnd", "PathScaleX", "PathScaleY", "PathShearX", "PathShearY", "PathTwist",
               "PathTwistBegin", "PathRadiusOffset", "PathTaperX", "PathTaperY", "PathRevolutions", "PathSkew",
               "ProfileBegin", "ProfileEnd", "ProfileHollow")


def _shape_of(block: dict[str, Any]) -> dict[str, int]:
    return {key: block[key] for key in _SHAPE_KEYS}


_COMPRESSED_HEAD = struct.Struct("<16sIBBIBB3f3f3fI16s")
_COMPRESSED_SHAPE = struct.Struct("<BHHBBBBbbbbbBbBHHH")
HAS_ANGULAR_VELOCITY, HAS_PARENT, TREE, SCRATCH_PAD = 0x80, 0x20, 0x02, 0x01
HAS_TEXT, MEDIA_URL, HAS_PARTICLES, HAS_SOUND, HAS_NAME_VALUES, TEXTURE_ANIMATION = 0x04, 0x200, 0x08, 0x10, 0x100, 0x40


class _Cursor:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int, what: str) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise ObjectError(f"compressed update: expected {count} bytes of {what}, {len(self.data) - self.pos} left")
        out = self.data[self.pos:self.pos + count]
        self.pos += count
        return out

    def cstring(self, what: str, limit: int = 1024) -> bytes:
        end = self.data.find(b"\0", self.pos, self.pos + limit)
        if end < 0:
            raise ObjectError(f"compressed update: {what}: expected text ending in a zero byte")
        out = self.data[self.pos:end]
        self.pos = end + 1
        return out


def from_compressed(data: bytes) -> ObjectState:
    """An ObjectState from the Data of one ObjectUpdateCompressed block."""
    cursor = _Cursor(bytes(data))
    head = _COMPRESSED_HEAD.unpack(cursor.take(_COMPRESSED_HEAD.size, "the fixed part"))
    full_id, local_id, pcode, _state, _crc, _material, _click = head[:7]
    scale = _finite(head[7:10], "scale")
    position = _finite(head[10:13], "position")
    rotation = _quat(*_finite(head[13:16], "rotation"))
    flags = head[16]
    parent = 0
    text = b""
    if flags & HAS_ANGULAR_VELOCITY:
        cursor.take(12, "angular velocity")
    if flags & HAS_PARENT:
        parent = int.from_bytes(cursor.take(4, "parent id"), "little")
    if flags & TREE:
        cursor.take(1, "tree species")
    if flags & SCRATCH_PAD:
        cursor.take(cursor.take(1, "scratch pad size")[0], "scratch pad")
    if flags & HAS_TEXT:
        text = cursor.cstring("floating text")
        cursor.take(4, "text colour")
    if flags & MEDIA_URL:
        cursor.cstring("media URL")
    if flags & HAS_PARTICLES:
        cursor.take(86, "particle system")
    sculpt = None
    for _ in range(cursor.take(1, "extra parameter count")[0]):
        kind = int.from_bytes(cursor.take(2, "extra parameter type"), "little")
        data = cursor.take(int.from_bytes(cursor.take(4, "extra parameter size"), "little"), "extra parameter")
        if kind == EXTRA_SCULPT and len(data) >= 17:
            sculpt = (fast_uuid(data[:16]), data[16])
    if flags & HAS_SOUND:
        cursor.take(25, "sound")
    name_value = cursor.cstring("name values", 4096) if flags & HAS_NAME_VALUES else b""
    shape = _COMPRESSED_SHAPE.unpack(cursor.take(_COMPRESSED_SHAPE.size, "the prim shape"))
    entry = cursor.take(int.from_bytes(cursor.take(4, "texture entry size"), "little") & 0x7FFF, "texture entry")
    keys = ("PathBegin", "PathEnd", "PathScaleX", "PathScaleY", "PathShearX", "PathShearY", "PathTwist",
            "PathTwistBegin", "PathRadiusOffset", "PathTaperX", "PathTaperY", "PathRevolutions", "PathSkew")
    shape_values = dict(zip(keys, shape[1:14]))
    shape_values.update(ProfileBegin=shape[15], ProfileEnd=shape[16], ProfileHollow=shape[17])
    state = ObjectState(local_id, fast_uuid(full_id), pcode, parent, position, rotation, scale,  # type: ignore[arg-type]
                        shape[0], shape[14], shape_values, texture_entry(entry),
                        text=text.decode("utf-8", "replace")[:255], sculpt=sculpt)
    if state.is_avatar:
        state.name = _avatar_name(name_value)
    return state


def from_terse(data: bytes) -> TerseUpdate:
    """A TerseUpdate from the Data of one ImprovedTerseObjectUpdate block (44 or 60 bytes)."""
    data = bytes(data)
    if len(data) not in (44, 60):
        raise ObjectError(f"terse update: expected 44 or 60 bytes, got {len(data)}")
    local_id = int.from_bytes(data[0:4], "little")
    avatar = bool(data[5])
    offset = 6 + (16 if avatar else 0)
    if len(data) != offset + 38:
        raise ObjectError(f"terse update: {'an avatar' if avatar else 'an object'} takes {offset + 38} bytes, "
                          f"got {len(data)}")
    position = _finite(_F3.unpack_from(data, offset), "position")
    q = _TERSE_Q.unpack_from(data, offset + 12)
    x, y, z, w = (_u16(v, 1.0) for v in q[6:10])
    norm = math.sqrt(x * x + y * y + z * z + w * w) or 1.0
    return TerseUpdate(local_id, position, (x / norm, y / norm, z / norm, w / norm), avatar)  # type: ignore[arg-type]
