"""How one tick of a player's input travels: the action values of the server's action map and the
owner-authority fields of the player's entity, in an order both sides agree on at the handshake.

An ``InputFrame`` is what a client sends for one tick: the buttons held, axis and 2D values, its
player's heading, the values of the fields the player's entity lets its owner write
(``Replication(authority="owner")``, e.g. ``CharacterController.move``), and the server tick the
client was showing other entities at (lag compensation rewinds hit tests to it). Numbers are
quantised on the client *before* it simulates with them, so prediction and the server run on the
same values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from engine.core.component import Component
from engine.core.fields import Bool, Field, Float, Int, Replication, Vector
from engine.input.actions import ActionFrame, ActionMap
from engine.input.bindings import AXIS_KIND, BUTTON_KIND, VECTOR_KIND
from netcode.wire import ByteReader, ByteWriter, ProtocolError

MAX_BUTTONS = 64
MAX_AXES = 32
MAX_OWNER_FIELDS = 16
AXIS_SCALE = 32767  # axes and vectors: -1..1 as 16-bit signed steps
HEADING_STEPS = 65536  # heading: 360 degrees in 16 bits (0.0055 degree steps)
VIEW_TICK_STEPS = 256  # the view tick: whole ticks and 1/256ths


@dataclass(frozen=True)
class OwnerField:
    """One field a player's entity lets its owner write: component type, field name, its
    declaration (for validation) and the quantisation step."""

    type_name: str
    name: str
    declared: Field

    @property
    def step(self) -> float:
        rep = self.declared.replicate
        return rep.precision if isinstance(rep, Replication) else 0.0


def owner_fields(components: Sequence[Component]) -> list[OwnerField]:
    """The owner-authority fields of an entity's components, in component then declaration order
    (bools, ints, floats and vectors only: what input can carry)."""
    out = []
    for component in components:
        for name, declared in component.fields.items():
            rep = declared.replicate
            if isinstance(rep, Replication) and rep.authority == "owner" and isinstance(
                    declared.type, (Bool, Int, Float, Vector)):
                out.append(OwnerField(component.type_name, name, declared))
    return out[:MAX_OWNER_FIELDS]


def quantise(value: float, step: float) -> float:
    return round(value / step) * step if step > 0 else value


@dataclass(frozen=True)
class InputFrame:
    """One tick of one player's input (see the module doc)."""

    held: frozenset[str] = frozenset()
    axes: Mapping[str, float] = field(default_factory=dict)
    vectors: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    heading: float = 0.0
    owner: tuple[Any, ...] = ()
    view_tick: float = 0.0

    def actions(self) -> ActionFrame:
        return ActionFrame(self.held, dict(self.axes), dict(self.vectors))


def _axis_q(value: float) -> int:
    if not math.isfinite(value):
        return 0
    return max(-AXIS_SCALE, min(AXIS_SCALE, round(value * AXIS_SCALE)))


class InputLayout:
    """The agreed order of buttons, axes, vectors and owner fields (sent in the welcome)."""

    def __init__(self, buttons: Sequence[str], axes: Sequence[str], vectors: Sequence[str],
                 fields: Sequence[OwnerField] = ()) -> None:
        if len(buttons) > MAX_BUTTONS or len(axes) > MAX_AXES or len(vectors) > MAX_AXES:
            raise ValueError(f"an input layout has at most {MAX_BUTTONS} buttons and {MAX_AXES} axes and vectors")
        self.buttons = list(buttons)
        self.axes = list(axes)
        self.vectors = list(vectors)
        self.fields = list(fields)
        self._bit = {name: i for i, name in enumerate(self.buttons)}

    @classmethod
    def from_map(cls, action_map: ActionMap, fields: Sequence[OwnerField] = ()) -> "InputLayout":
        kinds = action_map.kinds()
        pick = lambda kind: sorted(name for name, k in kinds.items() if k == kind)  # noqa: E731
        return cls(pick(BUTTON_KIND)[:MAX_BUTTONS], pick(AXIS_KIND)[:MAX_AXES], pick(VECTOR_KIND)[:MAX_AXES], fields)

    def describe(self) -> dict[str, Any]:
        """What the welcome carries (field declarations are looked up by name on the client)."""
        return {"buttons": self.buttons, "axes": self.axes, "vectors": self.vectors,
                "fields": [[f.type_name, f.name] for f in self.fields]}

    def quantised(self, frame: InputFrame) -> InputFrame:
        """The frame as the server will decode it (what the client simulates with)."""
        return decode_frame(ByteReader(encode_frame(ByteWriter(), frame, self).bytes(), "input"), self)

    def owner_values(self, world_get: Any) -> tuple[Any, ...]:
        """The current values of the owner fields, read by ``world_get(type_name, field_name)``."""
        return tuple(world_get(f.type_name, f.name) for f in self.fields)


def encode_frame(out: ByteWriter, frame: InputFrame, layout: InputLayout) -> ByteWriter:
    mask = 0
    for name in frame.held:
        bit = layout._bit.get(name)
        if bit is not None:
            mask |= 1 << bit
    out.varint(mask)
    for name in layout.axes:
        out.svarint(_axis_q(frame.axes.get(name, 0.0)))
    for name in layout.vectors:
        x, y = frame.vectors.get(name, (0.0, 0.0))
        out.svarint(_axis_q(x)).svarint(_axis_q(y))
    heading = frame.heading if math.isfinite(frame.heading) else 0.0
    out.u16(round((heading % 360.0) / 360.0 * HEADING_STEPS) % HEADING_STEPS)
    out.u32(max(0, min(2**32 - 1, round(frame.view_tick * VIEW_TICK_STEPS)))) if math.isfinite(frame.view_tick) else out.u32(0)
    values = frame.owner if len(frame.owner) == len(layout.fields) else tuple(f.declared.default for f in layout.fields)
    for spec, value in zip(layout.fields, values):
        _encode_value(out, spec, value)
    return out


def _encode_value(out: ByteWriter, spec: OwnerField, value: Any) -> None:
    kind = spec.declared.type
    if isinstance(kind, Bool):
        out.u8(1 if value else 0)
    elif isinstance(kind, Int):
        out.svarint(int(value))
    elif isinstance(kind, Float):
        _encode_number(out, float(value), spec.step)
    else:
        for item in value:
            _encode_number(out, float(item), spec.step)


def _encode_number(out: ByteWriter, value: float, step: float) -> None:
    if step > 0:
        out.svarint(round(value / step) if math.isfinite(value) else 0)
    else:
        out.f32(value if math.isfinite(value) else 0.0)


def decode_frame(reader: ByteReader, layout: InputLayout) -> InputFrame:
    """One frame; values are checked against the field declarations (ProtocolError names the field)."""
    mask = reader.varint("held", 2 ** len(layout.buttons) - 1 if layout.buttons else 0)
    held = frozenset(name for i, name in enumerate(layout.buttons) if mask >> i & 1)
    axes = {name: reader.svarint(f"axes.{name}", AXIS_SCALE) / AXIS_SCALE for name in layout.axes}
    vectors = {}
    for name in layout.vectors:
        x = reader.svarint(f"vectors.{name}.x", AXIS_SCALE) / AXIS_SCALE
        y = reader.svarint(f"vectors.{name}.y", AXIS_SCALE) / AXIS_SCALE
        length = math.hypot(x, y)
        vectors[name] = (x / length, y / length) if length > 1.0 else (x, y)
    heading = reader.u16("heading") / HEADING_STEPS * 360.0
    view_tick = reader.u32("view_tick") / VIEW_TICK_STEPS
    owner = tuple(_decode_value(reader, spec) for spec in layout.fields)
    return InputFrame(held, axes, vectors, heading, owner, view_tick)


def _decode_value(reader: ByteReader, spec: OwnerField) -> Any:
    kind = spec.declared.type
    where = f"{spec.type_name}.{spec.name}"
    if isinstance(kind, Bool):
        raw = reader.u8(where)
        if raw > 1:
            raise ProtocolError(f"{reader.where}.{where}", "0 or 1")
        return bool(raw)
    if isinstance(kind, Int):
        value: Any = reader.svarint(where, 2**53)
    elif isinstance(kind, Float):
        value = _decode_number(reader, where, spec.step)
    else:
        assert isinstance(kind, Vector)
        value = tuple(_decode_number(reader, f"{where}[{i}]", spec.step) for i in range(kind.length))
    try:
        return kind.validate(value)
    except Exception as exc:  # FieldError: out of the declared range
        raise ProtocolError(f"{reader.where}.{where}", getattr(exc, "expected", "a value the field allows")) from None


def _decode_number(reader: ByteReader, where: str, step: float) -> float:
    if step > 0:
        return reader.svarint(where, 2**53) * step
    return reader.f32(where)
