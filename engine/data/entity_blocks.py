"""The entity block shared by world and prefab files: name, transform and components, checked
against the component declarations and turned into entities."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.core.component import Component, ComponentRegistry, apply_data
from engine.core.errors import DataError, FieldError
from engine.core.fields import AssetRef, Vector, f32

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.packs.assets import AssetCache

TRANSFORM_KEYS = ("pos", "hpr", "scale")
TRANSFORM_DEFAULTS = {"pos": [0, 0, 0], "hpr": [0, 0, 0], "scale": [1, 1, 1]}
_VEC3 = Vector(3, -1e7, 1e7)


@dataclass
class Transform:
    """A local transform as written in files: position, heading-pitch-roll in degrees, scale.

    A part left out (None) keeps the node's current value: an override of a prefab member's
    ``pos`` leaves the prefab's rotation and scale alone.
    """

    pos: tuple[float, float, float] | None = None
    hpr: tuple[float, float, float] | None = None
    scale: tuple[float, float, float] | None = None


@dataclass
class LoadContext:
    """What parsing needs: the source name for errors, the component registry, optional asset checks."""

    source: str
    registry: ComponentRegistry
    assets: "AssetCache | None" = None  # when set, missing assets are errors (validate)


@dataclass
class ComponentSpec:
    cls: type[Component]
    data: dict[str, Any]


@dataclass
class EntityBlock:
    """One parsed, checked entity block."""

    name: str = ""
    transform: Transform | None = None
    components: list[ComponentSpec] = field(default_factory=list)


def expect_keys(block: dict[str, Any], allowed: tuple[str, ...], ctx: LoadContext, path: str) -> None:
    for key in block:
        if key not in allowed:
            raise DataError(ctx.source, f"{path}.{key}" if path else key, f"one of the keys {', '.join(allowed)}", key)


def parse_transform(data: Any, ctx: LoadContext, path: str) -> Transform:
    if not isinstance(data, dict):
        raise DataError(ctx.source, path, "an object with pos, hpr and/or scale", data)
    expect_keys(data, TRANSFORM_KEYS, ctx, path)
    values = {}
    for key in TRANSFORM_KEYS:
        if key in data:
            try:
                values[key] = _VEC3.validate(data[key])
            except FieldError as exc:
                raise DataError(ctx.source, f"{path}.{key}", exc.expected, data[key]) from None
    if "scale" in values and any(v == 0 for v in values["scale"]):
        raise DataError(ctx.source, f"{path}.scale", "three non-zero numbers", data["scale"])
    return Transform(**values)


def parse_components(data: Any, ctx: LoadContext, path: str) -> list[ComponentSpec]:
    """Check a ``{"Type": {field: value}}`` object against the registry and field declarations."""
    if not isinstance(data, dict):
        raise DataError(ctx.source, path, "an object mapping component types to their fields", data)
    specs = []
    for type_name, fields in data.items():
        where = f"{path}.{type_name}"
        try:
            cls = ctx.registry.resolve(type_name)
        except LookupError as exc:
            raise DataError(ctx.source, where, str(exc), type_name) from None
        specs.append(ComponentSpec(cls, check_fields(cls, fields, ctx, where)))
    return specs


def check_fields(cls: type[Component], fields: Any, ctx: LoadContext, where: str) -> dict[str, Any]:
    probe = cls()
    problems = apply_data(probe, fields)
    if problems:
        name, error = problems[0]
        raise DataError(ctx.source, f"{where}.{name}" if name else where, error.expected, error.got)
    if ctx.assets is not None:
        for name, declared in cls.fields.items():
            if isinstance(declared.type, AssetRef) and getattr(probe, name) != "":
                problem = ctx.assets.problem(getattr(probe, name), declared.type.kind)
                if problem:
                    raise DataError(ctx.source, f"{where}.{name}", f"an asset that exists ({problem})",
                                    getattr(probe, name))
    return dict(fields)


def parse_block(block: dict[str, Any], ctx: LoadContext, path: str) -> EntityBlock:
    name = block.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise DataError(ctx.source, f"{path}.name", "a string of at most 200 characters", name)
    transform = parse_transform(block["transform"], ctx, f"{path}.transform") if "transform" in block else None
    components = parse_components(block.get("components", {}), ctx, f"{path}.components")
    return EntityBlock(name, transform, components)


def apply_transform(world: "World", eid: int, transform: Transform) -> None:
    node = world.node(eid)
    if transform.pos is not None:
        node.setPos(*transform.pos)
    if transform.hpr is not None:
        node.setHpr(*transform.hpr)
    if transform.scale is not None:
        node.setScale(*transform.scale)


def add_components(world: "World", eid: int, specs: list[ComponentSpec]) -> None:
    for spec in specs:
        component = spec.cls()
        apply_data(component, spec.data)
        world.add(eid, component)


def transform_data(world: "World", eid: int) -> dict[str, Any]:
    """The entity's local transform as file data, leaving out parts that are at their default."""
    node = world.node(eid)
    out = {}
    for key, value in (("pos", node.getPos()), ("hpr", node.getHpr()), ("scale", node.getScale())):
        data = [_number(f32(v)) for v in value]
        if data != TRANSFORM_DEFAULTS[key]:
            out[key] = data
    return out


def components_data(world: "World", eid: int) -> dict[str, Any]:
    return {c.type_name: c.to_data() for c in world.components(eid)}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value
