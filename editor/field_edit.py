"""From a value typed or dragged in the inspector to one command, through the field's own
declaration: ``FieldType.validate`` decides what is acceptable, so the inspector refuses exactly
what a world file would (out of range, wrong kind, text in a number field), with the
declaration's own words as the reason, and nothing changes.

Several selected entities edited at once make one ``Transaction`` (one undo step) of one
``SetFields`` per entity that has the component.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.core.commands import Command, Transaction
from engine.core.edit_commands import SetFields, SetTransform
from engine.core.errors import FieldError
from engine.core.fields import ColorType, Enum, Field, Float, Int, Vector, f32

if TYPE_CHECKING:
    from engine.core.world import World

TRANSFORM_PARTS = ("pos", "hpr", "scale")


class Refused(Exception):
    """A value the field does not accept; ``reason`` says why, in the declaration's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def coerce(declared: Field, value: Any) -> Any:
    """A widget's value as field data: text typed into a number field becomes a number when it
    reads as one; vectors are cut to the field's length; numbers round-trip through float32 when
    Panda3D keeps them so (nothing else is changed: validation decides)."""
    kind = declared.type
    if isinstance(value, str) and isinstance(kind, (Float, Int)):
        text = value.strip()
        try:
            number: Any = int(text) if isinstance(kind, Int) else float(text)
        except ValueError:
            raise Refused(f"expected {kind.describe()}, got the text {text[:40]!r}") from None
        return number
    if isinstance(kind, Vector) and isinstance(value, (list, tuple)):
        items = list(value)[: kind.length]
        if isinstance(kind, ColorType):
            return [round(float(v), 4) for v in items]
        return [f32(v) if isinstance(v, float) else v for v in items]
    if isinstance(kind, Float) and isinstance(value, float):
        return f32(value)
    return value


def check(declared: Field, value: Any) -> Any:
    """The value as file data if the field accepts it; raises Refused with the reason."""
    data = coerce(declared, value)
    try:
        return declared.type.to_data(declared.type.validate(data))
    except FieldError as exc:
        raise Refused(str(exc)) from None


def field_command(world: "World", ids: list[int], type_name: str, field_name: str, value: Any) -> Command:
    """One command setting ``type_name.field_name`` on every entity of ``ids`` that has the component."""
    cls = world.registry.get(type_name)
    if cls is None or field_name not in cls.fields:
        raise Refused(f"{type_name} has no field {field_name!r}")
    declared = cls.fields[field_name]
    if not declared.editable:
        raise Refused(f"{type_name}.{field_name} is set by the engine, not edited")
    data = check(declared, value)
    targets = [eid for eid in ids if world.exists(eid) and world.get(eid, cls) is not None]
    if not targets:
        raise Refused(f"no selected entity has a {type_name}")
    commands: list[Command] = [SetFields(eid, type_name, {field_name: data}) for eid in targets]
    if len(commands) == 1:
        return commands[0]
    return Transaction(f"set {type_name}.{field_name} on {len(commands)} entities", commands)


def transform_command(world: "World", ids: list[int], part: str, value: Any) -> Command:
    """Set one transform part (``pos``, ``hpr`` or ``scale``) on every entity of ``ids``."""
    if part not in TRANSFORM_PARTS:
        raise Refused(f"a transform part is one of {', '.join(TRANSFORM_PARTS)}")
    if not isinstance(value, (list, tuple)) or len(value) < 3:
        raise Refused(f"{part}: expected three numbers")
    numbers = []
    for item in list(value)[:3]:
        if isinstance(item, str):
            try:
                item = float(item)
            except ValueError:
                raise Refused(f"{part}: expected three numbers, got the text {item[:40]!r}") from None
        if isinstance(item, bool) or not isinstance(item, (int, float)) or item != item or abs(item) > 1e9:
            raise Refused(f"{part}: expected three finite numbers, got {item!r}")
        numbers.append(f32(item))
    if part == "scale" and any(n == 0 for n in numbers):
        raise Refused("scale: zero would flatten the entity to nothing (Panda3D cannot invert it)")
    targets = [eid for eid in ids if world.exists(eid)]
    if not targets:
        raise Refused("nothing is selected")
    commands: list[Command] = [SetTransform(eid, **{part: numbers}) for eid in targets]
    return commands[0] if len(commands) == 1 else Transaction(f"set {part} on {len(commands)} entities", commands)


def describe_field(declared: Field) -> str:
    """The tooltip: what the field is, its unit and what it accepts."""
    unit = f" ({declared.unit})" if declared.unit else ""
    doc = f"{declared.doc}{unit}\n" if declared.doc else unit
    return f"{doc}accepts {declared.type.describe()}".strip()


def enum_choices(declared: Field) -> tuple[str, ...]:
    return declared.type.choices if isinstance(declared.type, Enum) else ()
