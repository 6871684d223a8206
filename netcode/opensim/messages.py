"""Decode and encode Second Life message bodies from the template's layouts.

A body is the message number followed by its blocks (see ``template.py``). Each block layout is
turned once into a list of steps: runs of fixed-size fields read by one precompiled
``struct.Struct`` (the layout's format string, built from the data) and the Variable fields
between them. Decoding is bounded: every count is checked against the bytes that are left before
anything is allocated, so a lying count is refused at once. ``DecodeError`` names the message,
block and field, what was expected and what was there.
"""
from __future__ import annotations

import math
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from netcode.opensim.template import BlockLayout, MessageLayout, MessageTemplate, load_template

Blocks = dict[str, list[dict[str, Any]]]
_FORMATS = {"U8": "B", "U16": "H", "U32": "I", "U64": "Q", "S8": "b", "S16": "h", "S32": "i", "S64": "q",
            "F32": "f", "F64": "d", "LLVector3": "3f", "LLVector3d": "3d", "LLVector4": "4f", "LLQuaternion": "3f",
            "LLUUID": "16s", "BOOL": "B", "IPADDR": "4s", "IPPORT": "2s"}
_ITEMS = {"LLVector3": 3, "LLVector3d": 3, "LLVector4": 4, "LLQuaternion": 3}
ZERO_UUID = uuid.UUID(int=0)


class DecodeError(ValueError):
    """A body that does not match its layout: says where and what was expected."""


class UnknownMessage(DecodeError):
    """A message number the template does not know."""

    def __init__(self, wire: int) -> None:
        self.wire = wire
        super().__init__(f"unknown message number 0x{wire:X}")


@dataclass
class Message:
    """A decoded message: its name and blocks (block name -> list of field dicts)."""

    name: str
    blocks: Blocks = field(default_factory=dict)

    def block(self, name: str) -> dict[str, Any]:
        """The first instance of a block (Single blocks have exactly one)."""
        return self.blocks[name][0]


def quaternion(x: float, y: float, z: float) -> tuple[float, float, float, float]:
    """The unit quaternion whose x, y and z went on the wire (w is non-negative)."""
    return (x, y, z, math.sqrt(max(0.0, 1.0 - (x * x + y * y + z * z))))


_new, _set, _UUID, _UNKNOWN = object.__new__, object.__setattr__, uuid.UUID, uuid.SafeUUID.unknown


def fast_uuid(raw: bytes) -> uuid.UUID:
    """``uuid.UUID(bytes=raw)`` for a 16-byte string, without its argument checks (three times faster)."""
    value = _new(_UUID)
    _set(value, "int", int.from_bytes(raw, "big"))
    _set(value, "is_safe", _UNKNOWN)
    return value


def _converter(kind: str) -> Callable[[tuple[Any, ...]], Any] | None:
    if kind == "LLUUID":
        return lambda v: fast_uuid(v[0])
    if kind == "BOOL":
        return lambda v: bool(v[0])
    if kind == "IPPORT":
        return lambda v: int.from_bytes(v[0], "big")
    if kind == "IPADDR":
        return lambda v: ".".join(str(b) for b in v[0])
    if kind == "LLQuaternion":
        return lambda v: quaternion(*v)
    if kind in _ITEMS:
        return tuple
    return None


class _Run:
    """Consecutive fixed-size fields read (and written) by one Struct."""

    __slots__ = ("struct", "names", "spans", "converters", "kinds", "plain_names", "plain_items", "converted")

    def __init__(self, fields: list[Any]) -> None:
        self.struct = struct.Struct("<" + "".join(_FORMATS.get(f.kind, f"{f.size}s") for f in fields))
        self.names = tuple(f.name for f in fields)
        self.kinds = tuple(f.kind for f in fields)
        spans, at = [], 0
        for f in fields:
            n = _ITEMS.get(f.kind, 1)
            spans.append((at, at + n))
            at += n
        self.spans = tuple(spans)
        self.converters = tuple(_converter(f.kind) for f in fields)
        # plain fields (one struct item, no conversion) are zipped into the dict in one go
        plain = [(name, a) for name, (a, b), convert in zip(self.names, self.spans, self.converters) if convert is None]
        self.plain_names = tuple(name for name, _ in plain)
        self.plain_items = tuple(a for _, a in plain)
        self.converted = tuple((name, a, b, convert) for name, (a, b), convert
                               in zip(self.names, self.spans, self.converters) if convert is not None)


@dataclass(frozen=True)
class _CompiledBlock:
    layout: BlockLayout
    steps: tuple[Any, ...]          # _Run or (name, prefix size)
    min_size: int


def _compile(block: BlockLayout) -> _CompiledBlock:
    steps: list[Any] = []
    pending: list[Any] = []
    for f in block.fields:
        if f.kind == "Variable":
            if pending:
                steps.append(_Run(pending))
                pending = []
            steps.append((f.name, f.size))
        else:
            pending.append(f)
    if pending:
        steps.append(_Run(pending))
    return _CompiledBlock(block, tuple(steps), block.min_size)


class MessageCodec:
    """Decodes bodies to ``Message`` and encodes ``Message`` to bodies, for every layout of a template."""

    def __init__(self, template: MessageTemplate | None = None) -> None:
        self.template = template or load_template()
        self._compiled: dict[str, tuple[_CompiledBlock, ...]] = {
            name: tuple(_compile(b) for b in layout.blocks) for name, layout in self.template.by_name.items()}

    def layout_at(self, body: bytes | memoryview) -> MessageLayout:
        """The layout named by the message number that starts ``body``."""
        size = len(body)
        if size < 1:
            raise DecodeError("an empty body (no message number)")
        if body[0] != 0xFF:
            wire = body[0]
        elif size < 2:
            raise DecodeError("a body that ends inside its message number")
        elif body[1] != 0xFF:
            wire = 0xFF00 | body[1]
        elif size < 4:
            raise DecodeError("a body that ends inside its message number")
        else:
            wire = 0xFFFF0000 | (body[2] << 8) | body[3]
        layout = self.template.by_wire_id.get(wire)
        if layout is None:
            raise UnknownMessage(wire)
        return layout

    def decode(self, body: bytes | memoryview) -> Message:
        """Decode one body; raises DecodeError (UnknownMessage for numbers the template lacks)."""
        layout = self.layout_at(body)
        data = bytes(body)
        pos = layout.id_size
        end = len(data)
        blocks: Blocks = {}
        for compiled in self._compiled[layout.name]:
            block = compiled.layout
            if block.quantity == "Variable":
                if pos >= end:
                    raise DecodeError(f"{layout.name}.{block.name}: expected a block count, the body ended")
                count = data[pos]
                pos += 1
                if count * compiled.min_size > end - pos:
                    raise DecodeError(f"{layout.name}.{block.name}: the count says {count} blocks of at least "
                                      f"{compiled.min_size} bytes, {end - pos} bytes are left")
            else:
                count = block.count
            items = []
            for _ in range(count):
                values, pos = self._decode_block(layout.name, compiled, data, pos, end)
                items.append(values)
            blocks[block.name] = items
        return Message(layout.name, blocks)

    @classmethod
    def _decode_block(cls, message: str, compiled: _CompiledBlock, data: bytes, pos: int,
                      end: int) -> tuple[dict[str, Any], int]:
        """The fast path: no checks inside (a short body raises in struct or indexing, or ends
        past ``end``); then the checked path names what was wrong."""
        start = pos
        values: dict[str, Any] = {}
        try:
            for step in compiled.steps:
                if step.__class__ is _Run:
                    raw = step.struct.unpack_from(data, pos)
                    pos += step.struct.size
                    if len(step.plain_items) == len(raw):
                        values.update(zip(step.plain_names, raw))
                    else:
                        values.update(zip(step.plain_names, [raw[a] for a in step.plain_items]))
                    for name, a, b, convert in step.converted:
                        values[name] = convert(raw[a:b])
                else:
                    name, prefix = step
                    if prefix == 1:
                        length = data[pos]
                        pos += 1
                    else:
                        length = data[pos] | (data[pos + 1] << 8)
                        pos += 2
                    values[name] = data[pos:pos + length]
                    pos += length
        except (struct.error, IndexError):
            pos = end + 1
        if pos <= end:
            return values, pos
        return cls._decode_checked(message, compiled, data, start, end)

    @staticmethod
    def _decode_checked(message: str, compiled: _CompiledBlock, data: bytes, pos: int,
                        end: int) -> tuple[dict[str, Any], int]:
        values: dict[str, Any] = {}
        for step in compiled.steps:
            if type(step) is _Run:
                size = step.struct.size
                if pos + size > end:
                    raise DecodeError(f"{message}.{compiled.layout.name}.{step.names[0]}: expected {size} bytes, "
                                      f"{end - pos} are left")
                raw = step.struct.unpack_from(data, pos)
                pos += size
                if len(step.plain_items) == len(raw):
                    values.update(zip(step.plain_names, raw))
                else:
                    values.update(zip(step.plain_names, [raw[a] for a in step.plain_items]))
                for name, a, b, convert in step.converted:
                    values[name] = convert(raw[a:b])
            else:
                name, prefix = step
                if pos + prefix > end:
                    raise DecodeError(f"{message}.{compiled.layout.name}.{name}: expected a {prefix}-byte length, "
                                      f"{end - pos} bytes are left")
                length = data[pos] if prefix == 1 else data[pos] | (data[pos + 1] << 8)
                pos += prefix
                if pos + length > end:
                    raise DecodeError(f"{message}.{compiled.layout.name}.{name}: the length says {length} bytes, "
                                      f"{end - pos} are left")
                values[name] = data[pos:pos + length]
                pos += length
        return values, pos

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, message: Message) -> bytes:
        """The body of a message; every block of the layout must be given (Variable ones may be empty)."""
        layout = self.template.by_name.get(message.name)
        if layout is None:
            raise DecodeError(f"no message {message.name!r} in the template")
        out = bytearray(_wire_bytes(layout))
        for compiled in self._compiled[layout.name]:
            block = compiled.layout
            items = message.blocks.get(block.name, [])
            if block.quantity == "Variable":
                if len(items) > 255:
                    raise DecodeError(f"{layout.name}.{block.name}: at most 255 blocks, got {len(items)}")
                out.append(len(items))
            elif len(items) != block.count:
                raise DecodeError(f"{layout.name}.{block.name}: expected {block.count} blocks, got {len(items)}")
            for values in items:
                for step in compiled.steps:
                    if type(step) is _Run:
                        out += step.struct.pack(*_flatten(layout.name, block.name, step, values))
                    else:
                        name, prefix = step
                        raw = _as_bytes(values.get(name, b""))
                        if len(raw) >= (1 << (8 * prefix)):
                            raise DecodeError(f"{layout.name}.{block.name}.{name}: at most "
                                              f"{(1 << (8 * prefix)) - 1} bytes, got {len(raw)}")
                        out += len(raw).to_bytes(prefix, "little") + raw
        return bytes(out)


def _wire_bytes(layout: MessageLayout) -> bytes:
    if layout.frequency == "High":
        return bytes([layout.number])
    if layout.frequency == "Medium":
        return bytes([0xFF, layout.number])
    if layout.frequency == "Low":
        return b"\xff\xff" + layout.number.to_bytes(2, "big")
    return layout.number.to_bytes(4, "big")


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8") + b"\0"
    return bytes(value)


def _flatten(message: str, block: str, run: _Run, values: dict[str, Any]) -> list[Any]:
    flat: list[Any] = []
    for name, kind in zip(run.names, run.kinds):
        value = values.get(name)
        if kind == "LLUUID":
            flat.append((value or ZERO_UUID).bytes if isinstance(value, uuid.UUID) or value is None else bytes(value))
        elif kind == "LLQuaternion":
            x, y, z, w = value if value is not None else (0.0, 0.0, 0.0, 1.0)
            sign = -1.0 if w < 0 else 1.0
            flat.extend((x * sign, y * sign, z * sign))
        elif kind in _ITEMS:
            flat.extend(value if value is not None else (0.0,) * _ITEMS[kind])
        elif kind == "IPPORT":
            flat.append(int(value or 0).to_bytes(2, "big"))
        elif kind == "IPADDR":
            flat.append(bytes(int(p) for p in str(value or "0.0.0.0").split(".")))
        elif kind == "Fixed":
            flat.append(bytes(value or b""))
        elif kind in ("F32", "F64"):
            flat.append(float(value or 0.0))
        else:
            flat.append(int(value or 0))
    return flat
