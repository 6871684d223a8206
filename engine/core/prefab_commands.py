"""Prefab commands: place an instance, revert a member to what the prefab says, and apply a
member's value to the prefab itself (every instance that does not override it follows).

The prefab files are read by the World's prefab service (``world.services["prefabs"]``, set
by the runtime); these commands use it through the small ``PrefabSource`` protocol, so the core
does not read files.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from engine.core.commands import Command, CommandError, Transaction, need_entity, need_type
from engine.core.edit_commands import (
    AddComponent,
    CreateEntity,
    DestroyEntity,
    RemoveComponent,
    Rename,
    SetFields,
    SetTransform,
    check_specs,
)
from engine.core.entity_specs import EntitySpec, TransformSpec, build_entities, member_index, transform_data
from engine.core.errors import StormError
from engine.core.prefab_instances import PrefabInstance

if TYPE_CHECKING:
    from engine.core.world import World

TRANSFORM_DEFAULTS = {"pos": [0, 0, 0], "hpr": [0, 0, 0], "scale": [1, 1, 1]}


class PrefabSource(Protocol):
    """Turns a prefab asset into entity specs for a world (implemented by the data layer)."""

    def instance_specs(self, world: "World", asset_id: str, root_id: int, parent: int, overrides: Any,
                       removed: Any, members: Any) -> list[EntitySpec]: ...


def _source(world: "World", command: Command) -> PrefabSource:
    source = world.services.get("prefabs")
    if source is None:
        raise CommandError(command, "this world has no prefab library (make worlds with Runtime.new_world)")
    return source


@dataclass
class InstantiatePrefab(Command):
    """Place a prefab: its root gets ``entity`` (0: the next free id) under ``parent``."""

    asset: str = ""
    parent: int = 0
    entity: int = 0
    transform: dict[str, Any] | None = None
    overrides: dict[str, Any] | None = None
    removed: list[str] | None = None
    members: dict[str, Any] | None = None

    def apply(self, world: "World") -> Command:
        source = _source(world, self)
        parent = need_entity(world, self.parent, self, "parent entity") if self.parent else 0
        root = self.entity or world.next_id()
        if world.exists(root):
            raise CommandError(self, f"entity id {root} is already taken")
        try:
            local = TransformSpec.from_data(self.transform) if self.transform else None
            specs = source.instance_specs(world, self.asset, root, parent, self.overrides or {}, self.removed,
                                          self.members or {})
        except (StormError, ValueError) as exc:
            raise CommandError(self, str(exc)) from None
        if local is not None:
            base = specs[0].transform or TransformSpec()
            specs[0].transform = TransformSpec(local.pos or base.pos, local.hpr or base.hpr, local.scale or base.scale)
        check_specs(world, specs, self)
        build_entities(world, specs)
        return DestroyEntity(root)


def find_member(world: "World", eid: int, key: str, command: Command) -> tuple[PrefabInstance, str]:
    """The instance and member key an entity plays (``eid`` is the root when ``key`` is given)."""
    instance = world.prefab_instances.get(eid)
    if instance is not None:
        key = key or next(k for k, v in instance.members.items() if v == eid)
    else:
        found = member_index(world).get(eid)
        if found is None:
            raise CommandError(command, f"entity {eid} is not part of a prefab instance")
        if key:
            raise CommandError(command, "give either a member entity, or the instance root and a member key")
        instance, key = world.prefab_instances[found[0]], found[1]
    if key not in instance.template:
        raise CommandError(command, f"prefab {instance.asset_id} has no member {key!r} "
                                    f"({', '.join(instance.template)})")
    return instance, key


@dataclass
class RevertOverride(Command):
    """Put a member back as the prefab gives it: one field, one component, or everything
    (components, transform, name); a removed member comes back with its id."""

    entity: int = 0
    key: str = ""
    type: str = ""
    field: str = ""

    def apply(self, world: "World") -> Command:
        need_entity(world, self.entity, self)
        instance, key = find_member(world, self.entity, self.key, self)
        base = instance.template[key]
        eid = instance.members[key]
        if key in instance.removed or not world.exists(eid):
            return world.apply(CreateEntity(_records(world, instance, key)))
        steps: list[Command] = []
        if self.type == "transform" or (not self.type and eid != instance.root):
            if eid != instance.root:
                parts = {p: base["transform"].get(p, TRANSFORM_DEFAULTS[p]) for p in TRANSFORM_DEFAULTS}
                current = transform_data(world.node(eid))
                if any(current.get(p, TRANSFORM_DEFAULTS[p]) != v for p, v in parts.items()):
                    steps.append(SetTransform(eid, parts["pos"], parts["hpr"], parts["scale"]))
        if not self.type and eid != instance.root and world.name_of(eid) != base["name"]:
            steps.append(Rename(eid, base["name"]))
        types = [self.type] if self.type and self.type != "transform" else \
            list(dict.fromkeys([*base["components"], *(c.type_name for c in world.components(eid))]))
        for order, type_name in enumerate(types):
            steps.extend(_revert_component(world, eid, type_name, base["components"], self.field, order, self))
        if not steps:
            raise CommandError(self, f"member {key!r} already matches the prefab")
        return world.apply(Transaction(f"revert {key}", steps))


def _revert_component(world: "World", eid: int, type_name: str, base: dict[str, Any], field_name: str, order: int,
                      command: Command) -> list[Command]:
    cls = need_type(world, type_name, command)
    current = world.get(eid, cls)
    prefab = base.get(type_name)
    if prefab is None:
        return [RemoveComponent(eid, type_name)] if current is not None and not field_name else []
    if current is None:
        return [AddComponent(eid, type_name, dict(prefab), order)] if not field_name else []
    names = [field_name] if field_name else [n for n, f in cls.fields.items() if f.saved]
    if field_name and field_name not in cls.fields:
        raise CommandError(command, f"{type_name} has no field {field_name!r}")
    values = {n: prefab.get(n, cls.fields[n].default_data) for n in names}
    changed = {n: v for n, v in values.items() if cls.fields[n].type.to_data(getattr(current, n)) != v}
    return [SetFields(eid, type_name, changed)] if changed else []


def _records(world: "World", instance: PrefabInstance, key: str) -> list[dict[str, Any]]:
    """Records recreating a removed member and the removed members under it, from the template."""
    keys = [key]
    for other, entry in instance.template.items():
        if entry.get("parent") in keys and other in instance.removed:
            keys.append(other)
    records = []
    for member_key in keys:
        entry = instance.template[member_key]
        parent = instance.members.get(entry.get("parent", ""), instance.root)
        records.append({"id": instance.members[member_key], "name": entry["name"], "parent": parent,
                        "transform": {p: entry["transform"].get(p, d) for p, d in TRANSFORM_DEFAULTS.items()},
                        "components": [[t, v] for t, v in entry["components"].items()],
                        "member_of": [instance.root, member_key]})
    return records


@dataclass
class ApplyOverride(Command):
    """Make a member's current value of a field (or of every field of a component) the prefab's:
    every instance of the prefab in this world that did not override it follows. The change is
    kept in ``world.prefab_edits`` until the data layer writes it into the prefab file."""

    entity: int = 0
    key: str = ""
    type: str = ""
    field: str = ""

    def apply(self, world: "World") -> Command:
        need_entity(world, self.entity, self)
        instance, key = find_member(world, self.entity, self.key, self)
        if "/" in key:
            raise CommandError(self, f"member {key!r} belongs to a nested prefab: apply it in that prefab")
        cls = need_type(world, self.type, self)
        component = world.get(instance.members[key], cls)
        if component is None:
            raise CommandError(self, f"member {key!r} has no {self.type} component to apply")
        names = [self.field] if self.field else [n for n, f in cls.fields.items() if f.saved]
        if self.field and self.field not in cls.fields:
            raise CommandError(self, f"{self.type} has no field {self.field!r}")
        values = {n: cls.fields[n].type.to_data(getattr(component, n)) for n in names}
        return world.apply(SetPrefabValues(instance.asset_id, key, self.type, values))


@dataclass
class SetPrefabValues(Command):
    """Set a prefab member's field values (file data) in every instance's template in this world;
    members still at the old prefab value follow. ``edits`` set: only put templates and
    ``world.prefab_edits`` back as they were (what undo does), nothing follows."""

    asset: str = ""
    key: str = ""
    type: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    edits: dict[str, Any] | None = None

    def apply(self, world: "World") -> Command:
        cls = need_type(world, self.type, self)
        instances = [i for i in world.prefab_instances.values() if i.asset_id == self.asset and self.key in i.template]
        if not instances:
            raise CommandError(self, f"no instance of {self.asset} with member {self.key!r} in this world")
        unknown = [n for n in self.values if n not in cls.fields]
        if unknown:
            raise CommandError(self, f"{self.type} has no field {unknown[0]!r}")
        old_template = instances[0].template[self.key]["components"].get(self.type, {})
        old = {n: old_template.get(n, cls.fields[n].default_data) for n in self.values}
        undo_followers: Command | None = None
        if self.edits is None:
            followers: list[Command] = []
            for instance in instances:
                eid = instance.members[self.key]
                component = world.get(eid, cls) if world.exists(eid) else None
                if component is None:
                    continue
                moved = {n: v for n, v in self.values.items()
                         if cls.fields[n].type.to_data(getattr(component, n)) == old[n] and v != old[n]}
                if moved:
                    followers.append(SetFields(eid, self.type, moved))
            undo_followers = Transaction("", followers).apply(world) if followers else None
        edits_before = copy.deepcopy(world.prefab_edits.get(self.asset, {}))
        for instance in instances:
            entry = instance.template[self.key]["components"].setdefault(self.type, {})
            for name, value in self.values.items():
                if value == cls.fields[name].default_data:
                    entry.pop(name, None)
                else:
                    entry[name] = value
        if self.edits is None:
            world.prefab_edits.setdefault(self.asset, {}).setdefault(self.key, {}).setdefault(self.type, {}).update(
                self.values)
        elif self.edits:
            world.prefab_edits[self.asset] = copy.deepcopy(self.edits)
        else:
            world.prefab_edits.pop(self.asset, None)
        restore = SetPrefabValues(self.asset, self.key, self.type, old, edits_before)
        if undo_followers is None:
            return restore
        return Transaction(f"apply {self.key} to {self.asset}", [restore, undo_followers])
