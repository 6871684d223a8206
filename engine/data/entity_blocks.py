"""The entity block shared by world and prefab files (name, transform and components), checked
against the component declarations and turned into plain data (``engine.core.entity_specs``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from engine.core.component import ComponentRegistry
from engine.core.entity_specs import ComponentSpec, SpecError, TransformSpec, check_values, resolve_type
from engine.core.errors import DataError
from engine.core.fields import AssetRef
from engine.packs.sources import Budgets, budget_hint

if TYPE_CHECKING:
    from engine.packs.assets import AssetCache

MAX_NAME = 200


@dataclass
class LoadContext:
    """What parsing needs: the source name for errors, the component registry, optional asset checks."""

    source: str
    registry: ComponentRegistry
    assets: "AssetCache | None" = None  # when set, missing assets are errors (validate)
    budgets: Budgets = field(default_factory=Budgets)  # entities, depth, prefab_depth (and the files')
    counted: list[int] = field(default_factory=lambda: [0])  # entities so far, shared with inside()
    problems: list[DataError] | None = None  # when a list: collect every problem here (validate)

    def inside(self, source: str) -> "LoadContext":
        """The same context for another file (a prefab named from this one), counting with this one."""
        return LoadContext(source, self.registry, self.assets, self.budgets, self.counted, self.problems)

    def problem(self, error: DataError) -> None:
        """Report a problem that need not stop the parse: raised at once, or kept when collecting."""
        if self.problems is None:
            raise error
        self.problems.append(error)

    def count(self, where: str) -> None:
        """One more entity (a prefab member as it is expanded): refused past the entity budget,
        before a fan-out of prefabs can fill the memory."""
        self.counted[0] += 1
        if self.counted[0] > self.budgets.entities:
            raise DataError(self.source, where, f"a world of at most {self.budgets.entities} entities "
                                                f"({budget_hint('entities')})")

    def error(self, exc: SpecError, path: str, got: Any = None) -> DataError:
        """The DataError for a SpecError found at ``path`` in this file."""
        where = f"{path}.{exc.path}" if path and exc.path else (path or exc.path)
        return DataError(self.source, where, exc.message, got)


@dataclass
class EntityBlock:
    """One parsed, checked entity block."""

    name: str = ""
    transform: TransformSpec | None = None
    components: list[ComponentSpec] = field(default_factory=list)


def expect_keys(block: dict[str, Any], allowed: Iterable[str], ctx: LoadContext, path: str) -> None:
    allowed = tuple(allowed)
    if len(block) <= len(allowed) and all(key in allowed for key in block):
        return
    for key in block:
        if key not in allowed:
            raise DataError(ctx.source, f"{path}.{key}" if path else key, f"one of the keys {', '.join(allowed)}", key)


def parse_name(value: Any, ctx: LoadContext, path: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise DataError(ctx.source, path, f"a string of at most {MAX_NAME} characters", value)
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(ctx.source, path, "text without lone surrogates (\\ud800-\\udfff escapes)") from None
    return value


def parse_transform(data: Any, ctx: LoadContext, path: str) -> TransformSpec:
    try:
        return TransformSpec.from_data(data, "")
    except SpecError as exc:
        raise ctx.error(exc, path, _at(data, exc.path)) from None


def parse_components(data: Any, ctx: LoadContext, path: str) -> list[ComponentSpec]:
    """Check a ``{"Type": {field: value}}`` object against the registry and field declarations."""
    if not isinstance(data, dict):
        raise DataError(ctx.source, path, "an object mapping component types to their fields", data)
    return [parse_component(type_name, fields, ctx, f"{path}.{type_name}") for type_name, fields in data.items()]


def parse_component(type_name: str, fields: Any, ctx: LoadContext, where: str) -> ComponentSpec:
    try:
        cls = resolve_type(ctx.registry, type_name, "")
    except SpecError as exc:
        raise DataError(ctx.source, where, exc.message.rsplit(" (got ", 1)[0], type_name) from None
    try:
        values = check_values(cls, fields, "")
    except SpecError as exc:
        raise DataError(ctx.source, f"{where}.{exc.path}" if exc.path else where,
                        exc.message.rsplit(", got ", 1)[0], _at(fields, exc.path)) from None
    if ctx.assets is not None:
        check_assets(cls.type_name, cls.fields, values, ctx, where)
    return ComponentSpec(cls, values)


def _at(data: Any, key: str) -> Any:
    """The value an error is about: ``data[key]`` when there is one, else the key or the data."""
    if not key:
        return data
    if isinstance(data, dict):
        return data.get(key, key)
    return None


def check_assets(type_name: str, declared: dict[str, Any], values: dict[str, Any], ctx: LoadContext, where: str) -> None:
    """In validate mode, every asset a component names must exist and be of the declared kind."""
    assert ctx.assets is not None
    for name, value in values.items():
        kind = declared[name].type
        if isinstance(kind, AssetRef) and value != "":
            problem = ctx.assets.problem(value, kind.kind)
            if problem:
                raise DataError(ctx.source, f"{where}.{name}", f"an asset that exists ({problem})", value)


def parse_block(block: dict[str, Any], ctx: LoadContext, path: str) -> EntityBlock:
    name = parse_name(block.get("name", ""), ctx, f"{path}.name")
    transform = parse_transform(block["transform"], ctx, f"{path}.transform") if "transform" in block else None
    components = parse_components(block.get("components", {}), ctx, f"{path}.components")
    return EntityBlock(name, transform, components)
