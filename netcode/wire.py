"""Byte-level reading and writing of protocol messages: fixed-width little-endian integers,
varints, zig-zag signed varints, 32/64-bit floats, length-prefixed UTF-8 strings and bytes.

Every read is bounded: a reader never reads past its buffer, a string or a byte field never
claims more than the limit the caller gives, and a varint never runs past 10 bytes. A violation
raises ``ProtocolError`` naming the message and the field, so the server can close that one peer
with a reason (see docs/protocol.md).
"""
from __future__ import annotations

import math
import struct

from engine.core.errors import StormError

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
MAX_VARINT_BYTES = 10


class ProtocolError(StormError):
    """A peer sent bytes that are not a valid message: ``where`` names the message and field."""

    def __init__(self, where: str, expected: str) -> None:
        self.where = where
        self.expected = expected
        super().__init__(f"{where}: expected {expected}")


class ByteWriter:
    """Builds a message body; ``bytes()`` gives the result."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts = bytearray()

    def u8(self, value: int) -> "ByteWriter":
        self._parts.append(value & 0xFF)
        return self

    def u16(self, value: int) -> "ByteWriter":
        self._parts += _U16.pack(value)
        return self

    def u32(self, value: int) -> "ByteWriter":
        self._parts += _U32.pack(value)
        return self

    def f32(self, value: float) -> "ByteWriter":
        self._parts += _F32.pack(value)
        return self

    def f64(self, value: float) -> "ByteWriter":
        self._parts += _F64.pack(value)
        return self

    def varint(self, value: int) -> "ByteWriter":
        if value < 0:
            raise ValueError("varint takes a value >= 0; use svarint for signed values")
        out = self._parts
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
        return self

    def svarint(self, value: int) -> "ByteWriter":
        return self.varint((value << 1) if value >= 0 else ((-value << 1) - 1))

    def blob(self, data: bytes) -> "ByteWriter":
        self.varint(len(data))
        self._parts += data
        return self

    def text(self, value: str) -> "ByteWriter":
        return self.blob(value.encode("utf-8"))

    def raw(self, data: bytes) -> "ByteWriter":
        self._parts += data
        return self

    def bytes(self) -> bytes:
        return bytes(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


class ByteReader:
    """Reads a message body written by ByteWriter; ``where`` prefixes every error."""

    __slots__ = ("data", "pos", "where")

    def __init__(self, data: bytes, where: str) -> None:
        self.data = data
        self.pos = 0
        self.where = where

    def _take(self, count: int, field: str) -> bytes:
        end = self.pos + count
        if count < 0 or end > len(self.data):
            raise ProtocolError(f"{self.where}.{field}", f"{count} more bytes (the message ends at byte {len(self.data)})")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def u8(self, field: str) -> int:
        return self._take(1, field)[0]

    def u16(self, field: str) -> int:
        return _U16.unpack(self._take(2, field))[0]

    def u32(self, field: str) -> int:
        return _U32.unpack(self._take(4, field))[0]

    def f32(self, field: str, finite: bool = True) -> float:
        value = _F32.unpack(self._take(4, field))[0]
        if finite and not math.isfinite(value):
            raise ProtocolError(f"{self.where}.{field}", "a finite number")
        return value

    def f64(self, field: str, finite: bool = True) -> float:
        value = _F64.unpack(self._take(8, field))[0]
        if finite and not math.isfinite(value):
            raise ProtocolError(f"{self.where}.{field}", "a finite number")
        return value

    def varint(self, field: str, limit: int = 2**63) -> int:
        value = shift = 0
        for _ in range(MAX_VARINT_BYTES):
            byte = self._take(1, field)[0]
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                if value > limit:
                    raise ProtocolError(f"{self.where}.{field}", f"a whole number of at most {limit}")
                return value
            shift += 7
        raise ProtocolError(f"{self.where}.{field}", f"a varint of at most {MAX_VARINT_BYTES} bytes")

    def svarint(self, field: str, limit: int = 2**62) -> int:
        raw = self.varint(field, 2 * limit + 1)
        return (raw >> 1) if not raw & 1 else -((raw + 1) >> 1)

    def blob(self, field: str, limit: int) -> bytes:
        size = self.varint(field)
        if size > limit:
            raise ProtocolError(f"{self.where}.{field}", f"at most {limit} bytes (it says {size})")
        return self._take(size, field)

    def text(self, field: str, limit: int) -> str:
        raw = self.blob(field, limit)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"{self.where}.{field}", f"UTF-8 text (bad byte at {exc.start})") from None

    def rest(self) -> bytes:
        chunk = self.data[self.pos:]
        self.pos = len(self.data)
        return chunk

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def end(self) -> None:
        """Refuse trailing bytes: a message is exactly as long as its fields."""
        if self.pos != len(self.data):
            raise ProtocolError(self.where, f"the message to end at byte {self.pos} (it has {len(self.data) - self.pos} "
                                            "more)")
