"""Field declarations: one declaration per component field drives validation, saving, loading,
the editor inspector and network replication.

A component class lists its fields as class attributes::

    class Spinner(Behaviour):
        speed = Field(Float(min=-720, max=720), 90.0, doc="degrees per second")

Values live in the instance's ``__dict__`` (plain attribute access, no descriptor on the hot
path); validation happens when data enters (files, editor, network), not on every assignment.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Sequence

import numpy as np

from engine.core.errors import FieldError


def f32(value: float) -> float:
    """The shortest decimal float that reads back to the same 32-bit float.

    Panda3D stores transforms as 32-bit floats; saving their shortest form keeps a
    load -> save round trip byte-identical.
    """
    out = float(str(np.float32(value)))
    return 0.0 if out == 0.0 else out


def _number(value: Any, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(expected, value)
    try:
        number = float(value)
    except OverflowError:
        raise FieldError(expected, value) from None
    if not math.isfinite(number):
        raise FieldError(expected, value)
    return number


class FieldType:
    """What a field holds: checks incoming data and turns values into JSON-ready data."""

    name = "any"

    def describe(self) -> str:
        return self.name

    def validate(self, value: Any) -> Any:
        """Return the value converted to its runtime form, or raise FieldError."""
        raise NotImplementedError

    def to_data(self, value: Any) -> Any:
        """Return a JSON-ready form of a runtime value."""
        return value


@dataclass(frozen=True)
class Float(FieldType):
    """A finite number, optionally bounded."""

    min: float | None = None
    max: float | None = None
    name = "float"

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"a number in [{self.min}, {self.max}]"
        if self.min is not None:
            return f"a number >= {self.min}"
        if self.max is not None:
            return f"a number <= {self.max}"
        return "a number"

    def validate(self, value: Any) -> float:
        number = _number(value, self.describe())
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise FieldError(self.describe(), value)
        return number

    def to_data(self, value: float) -> float | int:
        out = float(value)
        return int(out) if out.is_integer() and abs(out) < 2**53 else out


@dataclass(frozen=True)
class Int(FieldType):
    """A whole number, optionally bounded."""

    min: int | None = None
    max: int | None = None
    name = "int"

    def describe(self) -> str:
        bounds = Float(self.min, self.max).describe().replace("a number", "a whole number")
        return bounds

    def validate(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise FieldError(self.describe(), value)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise FieldError(self.describe(), value)
        return value


@dataclass(frozen=True)
class Bool(FieldType):
    """true or false."""

    name = "bool"

    def describe(self) -> str:
        return "true or false"

    def validate(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise FieldError(self.describe(), value)
        return value


@dataclass(frozen=True)
class Str(FieldType):
    """A string, optionally limited in length."""

    max_length: int = 1000
    name = "str"

    def describe(self) -> str:
        return f"a string of at most {self.max_length} characters"

    def validate(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > self.max_length:
            raise FieldError(self.describe(), value)
        return value


@dataclass(frozen=True)
class Enum(FieldType):
    """One string out of a fixed set (an editor shows a drop-down)."""

    choices: tuple[str, ...] = ()
    name = "enum"

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def validate(self, value: Any) -> str:
        if value not in self.choices:
            raise FieldError(self.describe(), value)
        return value


@dataclass(frozen=True)
class Vector(FieldType):
    """A fixed-length list of numbers (positions, directions, sizes), each optionally bounded."""

    length: int = 3
    min: float | None = None
    max: float | None = None
    name = "vector"

    def describe(self) -> str:
        each = Float(self.min, self.max).describe()
        return f"a list of {self.length} numbers, each {each}"

    def validate(self, value: Any) -> tuple[float, ...]:
        if not isinstance(value, (list, tuple)) or len(value) != self.length:
            raise FieldError(self.describe(), value)
        bound = Float(self.min, self.max)
        try:
            return tuple(bound.validate(v) for v in value)
        except FieldError:
            raise FieldError(self.describe(), value) from None

    def to_data(self, value: Sequence[float]) -> list[float | int]:
        return [Float().to_data(v) for v in value]


def Vec3(min: float | None = None, max: float | None = None) -> Vector:
    """Three numbers."""
    return Vector(3, min, max)


def Color() -> Vector:
    """Red, green, blue, alpha, each in [0, 1]."""
    return Vector(4, 0.0, 1.0)


@dataclass(frozen=True)
class AssetRef(FieldType):
    """A pack-qualified asset id such as ``base:models/crate.gltf`` or ``primitive:box``."""

    kind: str = "model"
    name = "asset"

    def describe(self) -> str:
        return f"a {self.kind} asset id like 'pack:path'"

    def validate(self, value: Any) -> str:
        from engine.core.asset_ids import parse_asset_id

        if not isinstance(value, str):
            raise FieldError(self.describe(), value)
        try:
            parse_asset_id(value)
        except ValueError:
            raise FieldError(self.describe(), value) from None
        return value


@dataclass(frozen=True)
class EntityRef(FieldType):
    """The id of another entity in the same world (0 means none)."""

    name = "entity"

    def describe(self) -> str:
        return "an entity id (a whole number, 0 for none)"

    def validate(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FieldError(self.describe(), value)
        return value


_MISSING = object()


@dataclass
class Field:
    """One declared component field: its type, default, description and flags."""

    type: FieldType
    default: Any
    doc: str = ""
    replicate: bool = False
    editable: bool = True
    name: str = dc_field(default="", init=False)

    def __post_init__(self) -> None:
        self.default = self.type.validate(self.default)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        # Only reached when the instance has no value yet (values live in __dict__).
        return self.default
