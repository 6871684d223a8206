"""The replicated-field table: every component field declared with ``replicate`` gets a small id
both sides share (sent in the welcome), and a wire kind saying how its quantised value travels.

Field id 0 is the entity's scale (three 32-bit floats); ids from 1 are declared fields. Floats
and vectors with a ``Replication.precision`` travel as whole steps (zig-zag varints), without
one as 64-bit floats; bools as a byte; whole numbers, flags and entity ids as zig-zag varints;
strings, enums and asset ids as UTF-8 text. A client checks each value it receives against its
own declaration of the field before it sets it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from engine.core.component import Component
from engine.core.fields import (
    AssetRef,
    Bool,
    ComponentName,
    EntityRef,
    Enum,
    Field,
    Float,
    Int,
    Replication,
    Str,
    Vector,
)
from netcode.wire import ByteReader, ByteWriter, ProtocolError

SCALE_FIELD = 0
MAX_TEXT = 4000
KINDS = ("bool", "int", "float", "vector", "text", "scale")


@dataclass(frozen=True)
class FieldEntry:
    """One replicated field: where it lives, how it travels, who may write it."""

    type_name: str
    name: str
    kind: str
    step: float = 0.0
    length: int = 0
    authority: str = "server"

    def describe(self) -> list[Any]:
        return [self.type_name, self.name, self.kind, self.step, self.length, self.authority]


def entry_for(type_name: str, name: str, declared: Field) -> FieldEntry | None:
    """The wire entry of a declared field, or None when its type cannot travel."""
    rep = declared.replicate
    if not isinstance(rep, Replication) or not rep.broadcast:
        return None                      # not replicated, or input only (owner to server)
    kind_type = declared.type
    if isinstance(kind_type, Bool):
        kind, length = "bool", 0
    elif isinstance(kind_type, (Int, EntityRef)):
        kind, length = "int", 0
    elif isinstance(kind_type, Float):
        kind, length = "float", 0
    elif isinstance(kind_type, Vector):
        kind, length = "vector", kind_type.length
    elif isinstance(kind_type, (Str, Enum, AssetRef, ComponentName)):
        kind, length = "text", 0
    else:
        return None
    return FieldEntry(type_name, name, kind, rep.precision, length, rep.authority)


class FieldSchema:
    """Field ids by (component type, field name), and the codec of their values."""

    def __init__(self, entries: Iterable[FieldEntry] = ()) -> None:
        self.entries: list[FieldEntry] = [FieldEntry("", "scale", "scale", 0.0, 3)]
        self._ids: dict[tuple[str, str], int] = {}
        self._by_class: dict[type, list[tuple[int, str, FieldEntry]]] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: FieldEntry) -> int:
        key = (entry.type_name, entry.name)
        fid = self._ids.get(key)
        if fid is None:
            if entry.kind not in KINDS or entry.kind == "scale" or not (entry.step >= 0 and math.isfinite(entry.step)):
                raise ValueError(f"field entry {entry}: not a wire kind")
            fid = self._ids[key] = len(self.entries)
            self.entries.append(entry)
        return fid

    def add_class(self, cls: type[Component]) -> list[FieldEntry]:
        """Give ids to a component class's replicated fields; returns the entries that are new."""
        new = []
        for name, declared in cls.fields.items():
            entry = entry_for(cls.type_name, name, declared)
            if entry is not None and (cls.type_name, name) not in self._ids:
                self.add(entry)
                new.append(entry)
        self._by_class.pop(cls, None)
        return new

    def fields_of(self, cls: type[Component]) -> list[tuple[int, str, FieldEntry]]:
        """(field id, field name, entry) of a class's replicated fields that have ids."""
        cached = self._by_class.get(cls)
        if cached is None:
            cached = self._by_class[cls] = [(self._ids[(cls.type_name, name)], name, self.entries[self._ids[(cls.type_name, name)]])
                                            for name in cls.fields if (cls.type_name, name) in self._ids]
        return cached

    def id_of(self, type_name: str, name: str) -> int | None:
        return self._ids.get((type_name, name))

    def has(self, fid: int) -> bool:
        return 0 <= fid < len(self.entries)

    def describe(self, start: int = 1) -> list[list[Any]]:
        return [entry.describe() for entry in self.entries[start:]]

    @classmethod
    def from_description(cls, rows: Any) -> "FieldSchema":
        """A schema from a welcome's table; ValueError for a malformed one."""
        schema = cls()
        schema.extend(rows)
        return schema

    def extend(self, rows: Any) -> None:
        if not isinstance(rows, list) or len(rows) > 10_000:
            raise ValueError("a list of at most 10000 field entries")
        for row in rows:
            if not (isinstance(row, list) and len(row) == 6 and all(isinstance(v, str) for v in (row[0], row[1], row[2], row[5]))
                    and isinstance(row[3], (int, float)) and not isinstance(row[3], bool)
                    and isinstance(row[4], int) and 0 <= row[4] <= 16 and row[5] in ("server", "owner")):
                raise ValueError(f"a field entry [type, field, kind, step, length, authority], got {str(row)[:80]}")
            self.add(FieldEntry(row[0][:200], row[1][:200], row[2], float(row[3]), row[4], row[5]))

    # -- values ---------------------------------------------------------------------------------
    def quantise(self, fid: int, value: Any) -> Any:
        """A runtime value in the form that travels and is compared (steps as whole numbers)."""
        entry = self.entries[fid]
        kind = entry.kind
        if kind == "float":
            return round(value / entry.step) if entry.step > 0 else float(value)
        if kind in ("vector", "scale"):
            if entry.step > 0:
                return tuple(round(v / entry.step) for v in value)
            return tuple(float(v) for v in value)
        if kind == "bool":
            return bool(value)
        if kind == "int":
            return int(value)
        return value

    def value_of(self, fid: int, quantised: Any) -> Any:
        """The runtime value a quantised one stands for."""
        entry = self.entries[fid]
        if entry.kind == "float" and entry.step > 0:
            return quantised * entry.step
        if entry.kind in ("vector", "scale") and entry.step > 0:
            return tuple(v * entry.step for v in quantised)
        return quantised

    def encode_value(self, out: ByteWriter, fid: int, value: Any) -> None:
        entry = self.entries[fid]
        kind = entry.kind
        if kind == "bool":
            out.u8(1 if value else 0)
        elif kind == "int":
            out.svarint(value)
        elif kind == "float":
            out.svarint(value) if entry.step > 0 else out.f64(value)
        elif kind == "vector":
            for v in value:
                out.svarint(v) if entry.step > 0 else out.f64(v)
        elif kind == "scale":
            for v in value:
                out.f32(v)
        else:
            out.text(value)

    def decode_value(self, reader: ByteReader, fid: int) -> Any:
        entry = self.entries[fid]
        kind, where = entry.kind, f"{entry.type_name}.{entry.name}"
        if kind == "bool":
            raw = reader.u8(where)
            if raw > 1:
                raise ProtocolError(f"{reader.where}.{where}", "0 or 1")
            return bool(raw)
        if kind == "int":
            return reader.svarint(where, 2**53)
        if kind == "float":
            return reader.svarint(where, 2**53) if entry.step > 0 else reader.f64(where)
        if kind == "vector":
            return tuple(reader.svarint(where, 2**53) if entry.step > 0 else reader.f64(where) for _ in range(entry.length))
        if kind == "scale":
            return tuple(float(reader.f32(where)) for _ in range(3))
        return reader.text(where, MAX_TEXT)
