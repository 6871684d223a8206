"""Field declarations: one declaration per component field drives validation, saving, loading,
the editor inspector, network replication and the JSON schema language models and tools read.

A component class lists its fields as class attributes::

    class Spinner(Behaviour):
        speed = Field(Float(min=-720, max=720), 90.0, doc="degrees per second")

Values live in the instance's ``__dict__`` (plain attribute access, no descriptor on the hot
path); validation happens when data enters (files, editor, network), not on every assignment.
Besides its type and default a field says whether it is saved (runtime state is not), how an
inspector groups and steps it (``group``, ``unit``, ``step``), and how it replicates
(``Replication``: quantisation and who has authority).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Mapping, Sequence

import numpy as np

from engine.core.errors import FieldError


def f32(value: float) -> float:
    """The shortest decimal float that reads back to the same 32-bit float.

    Panda3D stores transforms as 32-bit floats; saving their shortest form keeps a
    load -> save round trip byte-identical.
    """
    value = float(value)
    if value.is_integer() and -16777216.0 < value < 16777216.0:  # whole numbers a float32 holds exactly
        return value if value != 0.0 else 0.0
    out = float(str(np.float32(value)))
    return 0.0 if out == 0.0 else out


def _number(value: Any) -> float | None:
    """The value as a finite float, or None when it is not a number JSON or a field allows."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    return None


def _is_text(value: str) -> bool:
    """Whether a string can be written as UTF-8 (a lone surrogate from a ``\\ud800`` escape cannot)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of this type's data (``to_data`` output, ``validate`` input)."""
        return {}

    def remap(self, value: Any, ids: Mapping[int, int]) -> Any:
        """The value with entity ids replaced through ``ids`` (copies of a subtree point at the
        copies); types that hold no entity ids return the value unchanged."""
        return value


def _bounds(schema: dict[str, Any], low: float | None, high: float | None) -> dict[str, Any]:
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


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
        number = _number(value)
        if number is None or (self.min is not None and number < self.min) or (
                self.max is not None and number > self.max):
            raise FieldError(self.describe(), value)
        return number

    def to_data(self, value: float) -> float | int:
        out = float(value)
        return int(out) if out.is_integer() and abs(out) < 2**53 else out

    def json_schema(self) -> dict[str, Any]:
        return _bounds({"type": "number"}, self.min, self.max)


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

    def json_schema(self) -> dict[str, Any]:
        return _bounds({"type": "integer"}, self.min, self.max)


@dataclass(frozen=True)
class Flags(Int):
    """A bit mask (collision layers, options): a whole number whose bit i means ``names[i]``
    when names are given; an inspector shows one checkbox per bit."""

    bits: int = 32
    names: tuple[str, ...] = ()
    name = "flags"

    def __init__(self, bits: int = 32, names: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "bits", bits)
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "min", 0)
        object.__setattr__(self, "max", 2**bits - 1)

    def describe(self) -> str:
        return f"a bit mask: a whole number from 0 to {2**self.bits - 1}"


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

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Str(FieldType):
    """A string, optionally limited in length."""

    max_length: int = 1000
    name = "str"

    def describe(self) -> str:
        return f"a string of at most {self.max_length} characters"

    def validate(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > self.max_length or not _is_text(value):
            raise FieldError(self.describe(), value)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length}


@dataclass(frozen=True)
class Enum(FieldType):
    """One string out of a fixed set (an editor shows a drop-down)."""

    choices: tuple[str, ...] = ()
    name = "enum"

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def validate(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise FieldError(self.describe(), value)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}


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
        low, high = self.min, self.max
        out = []
        for item in value:
            number = _number(item)
            if number is None or (low is not None and number < low) or (high is not None and number > high):
                raise FieldError(self.describe(), value)
            out.append(number)
        return tuple(out)

    def to_data(self, value: Sequence[float]) -> list[float | int]:
        return [int(v) if v.is_integer() and abs(v) < 2**53 else v for v in map(float, value)]

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": _bounds({"type": "number"}, self.min, self.max),
                "minItems": self.length, "maxItems": self.length}


def Vec3(min: float | None = None, max: float | None = None) -> Vector:
    """Three numbers."""
    return Vector(3, min, max)


@dataclass(frozen=True)
class ColorType(Vector):
    """An sRGB colour: red, green, blue (and alpha), each in [0, 1]; an inspector shows a colour picker."""

    name = "color"

    def describe(self) -> str:
        parts = "red, green, blue, alpha" if self.length == 4 else "red, green, blue"
        return f"a colour: a list of {self.length} numbers ({parts}), each in [0, 1]"


def Color(alpha: bool = True) -> ColorType:
    """Red, green, blue (and alpha), each in [0, 1]."""
    return ColorType(4 if alpha else 3, 0.0, 1.0)


COMPONENT_NAME = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|[a-z][a-z0-9_]*:[A-Za-z_][A-Za-z0-9_.]*)$")


@dataclass(frozen=True)
class ComponentName(FieldType):
    """The name of a component type as world files write it (``CharacterController``,
    ``base:player.PlayerMover``); ``allow_empty`` lets '' mean "any" or "none"."""

    allow_empty: bool = True
    name = "component"

    def describe(self) -> str:
        return "a component type name like 'RigidBody' or 'pack:module.Class'" + (" (or '')" if self.allow_empty else "")

    def validate(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > 200:
            raise FieldError(self.describe(), value)
        if value == "" and self.allow_empty:
            return value
        if not COMPONENT_NAME.match(value):
            raise FieldError(self.describe(), value)
        return value

    def json_schema(self) -> dict[str, Any]:
        pattern = COMPONENT_NAME.pattern
        return {"type": "string", "maxLength": 200, "pattern": f"^$|{pattern}" if self.allow_empty else pattern}


# what each kind must be, and how it is checked: engine/packs/asset_kinds.py
ASSET_KINDS = ("model", "image", "sound", "prefab", "world", "actions", "persona", "data", "any")


@dataclass(frozen=True)
class AssetRef(FieldType):
    """A pack-qualified asset id such as ``base:models/crate.gltf`` or ``primitive:box``; ``kind``
    (one of ASSET_KINDS) says what the file must be, for checks and the editor's asset picker."""

    kind: str = "model"
    allow_empty: bool = False
    name = "asset"

    def __post_init__(self) -> None:
        if self.kind not in ASSET_KINDS:
            raise ValueError(f"asset kind {self.kind!r} is not one of {', '.join(ASSET_KINDS)}")

    def describe(self) -> str:
        return f"a {self.kind} asset id like 'pack:path'" + (" (or '' for none)" if self.allow_empty else "")

    def validate(self, value: Any) -> str:
        from engine.core.asset_ids import parse_asset_id

        if not isinstance(value, str):
            raise FieldError(self.describe(), value)
        if value == "" and self.allow_empty:
            return value
        try:
            parse_asset_id(value)
        except ValueError:
            raise FieldError(self.describe(), value) from None
        return value

    def json_schema(self) -> dict[str, Any]:
        pattern = "^[a-z][a-z0-9_]*:[^\\\\]+$"
        return {"type": "string", "pattern": f"^$|{pattern}" if self.allow_empty else pattern, "maxLength": 300}


MAX_ENTITY_ID = 2**31 - 1


@dataclass(frozen=True)
class EntityRef(FieldType):
    """The id of another entity in the same world (0 means none). ``requires`` names component
    types the target must have (checked when a world loads and when a command sets the field)."""

    requires: tuple[str, ...] = ()
    name = "entity"

    def describe(self) -> str:
        needs = f" with {' and '.join(self.requires)}" if self.requires else ""
        return f"an entity id{needs} (a whole number, 0 for none)"

    def validate(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ENTITY_ID:
            raise FieldError(self.describe(), value)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 0, "maximum": MAX_ENTITY_ID}

    def remap(self, value: Any, ids: Mapping[int, int]) -> Any:
        return ids.get(value, value) if value else value


AUTHORITIES = ("server", "owner")


@dataclass(frozen=True)
class Replication:
    """How a field travels over the network: ``precision`` is the quantisation step of numbers
    (0: sent exactly), ``authority`` who may write it (``server``, or the ``owner`` of the entity's
    input, for state a client predicts). ``broadcast=False`` (owner fields only): the value travels
    from its owner to the server in input and never back out in snapshots (others see what the
    server makes of it, e.g. a VR player's avatar)."""

    precision: float = 0.0
    authority: str = "server"
    broadcast: bool = True

    def __post_init__(self) -> None:
        if self.authority not in AUTHORITIES:
            raise ValueError(f"authority {self.authority!r} is not one of {', '.join(AUTHORITIES)}")
        if not self.broadcast and self.authority != "owner":
            raise ValueError("only owner-authority fields can stay out of snapshots (broadcast=False)")
        if not math.isfinite(self.precision) or self.precision < 0:
            raise ValueError("precision must be a finite number >= 0")


@dataclass
class Field:
    """One declared component field: its type, default, description and flags.

    ``saved``: written to world files (False for runtime state a system writes each tick);
    ``editable``: shown for editing in the inspector (False: shown read-only);
    ``group``, ``unit``, ``step``: how an inspector groups, labels and steps it;
    ``replicate``: None (not sent), True (exact, server authority) or a ``Replication``.
    """

    type: FieldType
    default: Any
    doc: str = ""
    replicate: "Replication | bool | None" = None
    editable: bool = True
    saved: bool = True
    group: str = ""
    unit: str = ""
    step: float | None = None
    name: str = dc_field(default="", init=False)

    def __post_init__(self) -> None:
        self.default = self.type.validate(self.default)
        if self.replicate is True:
            self.replicate = Replication()
        elif self.replicate is False:
            self.replicate = None

    @property
    def default_data(self) -> Any:
        """The default as file data."""
        return self.type.to_data(self.default)

    def json_schema(self) -> dict[str, Any]:
        """The field's JSON schema, with its description and default."""
        schema = dict(self.type.json_schema())
        if self.doc:
            schema["description"] = self.doc + (f" ({self.unit})" if self.unit else "")
        schema["default"] = self.default_data
        return schema

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        # Only reached when the instance has no value yet (values live in __dict__).
        return self.default
