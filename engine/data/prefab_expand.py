"""Prefab instances as plain data: a prefab (with its nested prefabs) expanded into entity specs
with stable ids, this instance's overrides applied and its removed members left out.

An instance in a world file::

    {"id": 7, "prefab": "base:prefabs/lamp.prefab.json", "members": {"pillar": 8, "globe": 9},
     "overrides": {"globe": {"MeshRenderer": {"color": [1, 0, 0, 1]}, "Light": null}},
     "removed": ["pillar"]}

``members`` keeps each member's entity id across saves (a member without one gets a new id);
an override of ``null`` removes that component; ``removed`` leaves members (and what hangs
under them) out. Nested members are addressed as ``outer/inner``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from engine.core.entity_specs import ComponentSpec, EntitySpec, TransformSpec
from engine.core.errors import DataError
from engine.core.prefab_instances import PrefabInstance
from engine.data.entity_blocks import LoadContext, parse_component, parse_name, parse_transform
from engine.data.prefab_files import PrefabLibrary
from engine.packs.sources import budget_hint


def expand_instance(library: PrefabLibrary, asset_id: Any, ctx: LoadContext, path: str, *, root_id: int, parent: int,
                    member_ids: dict[str, int], allocate: Callable[[], int], overrides: Any = None,
                    overrides_path: str = "", removed: Any = None, removed_path: str = "",
                    stack: tuple[str, ...] = ()) -> list[EntitySpec]:
    """The specs of one instance, root first; the root spec carries the ``PrefabInstance`` record
    and every other spec says which member it plays. Members without an id in ``member_ids``
    get one from ``allocate`` (in prefab order, so the same file always gives the same ids)."""
    removed_keys = _removed(removed, ctx, removed_path or _beside(path, "removed"))
    expanded = _expand(library, asset_id, ctx, path, root_id, parent, member_ids, allocate, stack)
    by_key, parents = expanded.by_key, expanded.parents
    _apply_overrides(by_key, overrides, ctx, overrides_path or _beside(path, "overrides"))
    dropped: set[str] = set()
    for key in by_key:
        if key != expanded.root_key and (key in removed_keys or parents[key] in dropped):
            dropped.add(key)
    template = {key: _template(spec, parents[key]) for key, spec in expanded.template_specs.items()}
    instance = PrefabInstance(expanded.asset_id, root_id, {key: spec.id for key, spec in by_key.items()}, template,
                              {key for key in removed_keys if key in by_key})
    specs = [spec for key, spec in by_key.items() if key not in dropped]
    specs[0].instance = instance
    for key, spec in by_key.items():
        if key != expanded.root_key:
            spec.member_of = (root_id, key)
    return specs


def _beside(path: str, name: str) -> str:
    return f"{path.rsplit('.', 1)[0]}.{name}" if "." in path else name


@dataclass
class _Expanded:
    asset_id: str
    root_key: str
    by_key: dict[str, EntitySpec]  # every member, in prefab order, outer/inner keys for nested ones
    parents: dict[str, str]  # member key -> parent member key ('' for the root)
    template_specs: dict[str, EntitySpec]  # copies before this instance's overrides


def _expand(library: PrefabLibrary, asset_id: Any, ctx: LoadContext, path: str, root_id: int, parent: int,
            member_ids: dict[str, int], allocate: Callable[[], int], stack: tuple[str, ...]) -> _Expanded:
    limit = ctx.budgets.prefab_depth
    if len(stack) >= limit:
        raise DataError(ctx.source, path, f"prefabs nested at most {limit} deep ({budget_hint('prefab_depth')})",
                        asset_id)
    prefab = library.load(asset_id, ctx, path, stack)
    by_key: dict[str, EntitySpec] = {}
    parents: dict[str, str] = {}
    for index, member in enumerate(prefab.members):
        key = member.key
        if index and member.parent not in by_key:
            continue  # under a member a nested prefab's own file removed
        eid = root_id if index == 0 else member_ids.get(key) or allocate()
        parent_id = by_key[member.parent].id if member.parent else parent
        if not member.nested:
            ctx.count(f"{path} (member {key})")
            components = [ComponentSpec(c.cls, dict(c.values)) for c in member.block.components]
            by_key[key] = EntitySpec(eid, member.block.name, parent_id, copy.copy(member.block.transform), components)
            parents[key] = member.parent
            continue
        inner_ctx = ctx.inside(prefab.source)
        inner_ids = {k[len(key) + 1:]: v for k, v in member_ids.items() if k.startswith(key + "/")}
        nested = expand_instance(library, member.nested, inner_ctx, f"{member.path}.prefab", root_id=eid,
                                 parent=parent_id, member_ids=inner_ids, allocate=allocate, overrides=member.overrides,
                                 overrides_path=f"{member.path}.overrides", removed=member.removed,
                                 removed_path=f"{member.path}.removed", stack=stack + (prefab.asset_id,))
        root = nested[0]
        nested_instance = root.instance
        assert nested_instance is not None
        if member.block.name:
            root.name = member.block.name
        root.transform = _merged(root.transform, member.block.transform)
        root.instance = None
        by_key[key] = root
        parents[key] = member.parent
        for spec in nested[1:]:
            assert spec.member_of is not None
            inner_key = spec.member_of[1]
            spec.member_of = None
            by_key[f"{key}/{inner_key}"] = spec
            inner_parent = nested_instance.template[inner_key]["parent"]
            parents[f"{key}/{inner_key}"] = key if inner_parent == next(iter(nested_instance.template)) \
                else f"{key}/{inner_parent}"
    ids = {key: spec.id for key, spec in by_key.items()}
    for member in prefab.members:
        spec = by_key.get(member.key)
        if spec is None:
            continue
        for (type_name, field_name), target in member.refs.items():
            for component in spec.components:
                if component.cls.type_name == type_name and target in ids:
                    component.values[field_name] = ids[target]
    template_specs = {key: EntitySpec(s.id, s.name, s.parent, s.transform,
                                      [ComponentSpec(c.cls, dict(c.values)) for c in s.components])
                      for key, s in by_key.items()}
    return _Expanded(prefab.asset_id, prefab.members[0].key, by_key, parents, template_specs)


def _removed(removed: Any, ctx: LoadContext, path: str) -> set[str]:
    if removed is None:
        return set()
    if not isinstance(removed, list) or not all(isinstance(k, str) for k in removed):
        raise DataError(ctx.source, path, "a list of member keys", removed)
    return set(removed)


def _merged(base: TransformSpec | None, over: TransformSpec | None) -> TransformSpec | None:
    if over is None:
        return copy.copy(base)
    if base is None:
        return copy.copy(over)
    return TransformSpec(over.pos if over.pos is not None else base.pos, over.hpr if over.hpr is not None else base.hpr,
                         over.scale if over.scale is not None else base.scale)


def _template(spec: EntitySpec, parent_key: str) -> dict[str, Any]:
    """A member as the prefab gives it, in file-data form (what saving compares against)."""
    components = {}
    for component in spec.components:
        fields = component.cls.fields
        data = {}
        for name, value in component.values.items():
            declared = fields[name]
            if not declared.saved:
                continue
            value_data = declared.type.to_data(value)
            if value_data != declared.default_data:
                data[name] = value_data
        components[component.cls.type_name] = {n: data[n] for n in fields if n in data}
    transform = spec.transform.to_data() if spec.transform is not None else {}
    return {"parent": parent_key, "name": spec.name, "transform": transform, "components": components}


def _apply_overrides(by_key: dict[str, EntitySpec], overrides: Any, ctx: LoadContext, path: str) -> None:
    if overrides is None:
        return
    if not isinstance(overrides, dict):
        raise DataError(ctx.source, path, "an object mapping member keys to overrides", overrides)
    for key, override in overrides.items():
        where = f"{path}.{key}"
        spec = by_key.get(key)
        if spec is None:
            raise DataError(ctx.source, where, f"a member key of the prefab ({', '.join(by_key)})", key)
        if not isinstance(override, dict):
            raise DataError(ctx.source, where, "an object of component overrides, a name and/or a transform", override)
        for type_name, data in override.items():
            if type_name == "transform":
                spec.transform = _merged(spec.transform, parse_transform(data, ctx, f"{where}.transform"))
            elif type_name == "name":
                spec.name = parse_name(data, ctx, f"{where}.name")
            elif data is None:
                spec.components = [c for c in spec.components if c.cls.type_name != type_name]
            else:
                parsed = parse_component(type_name, data, ctx, f"{where}.{type_name}")
                existing = next((c for c in spec.components if c.cls is parsed.cls), None)
                if existing is None:
                    spec.components.append(parsed)
                else:
                    existing.values.update(parsed.values)
