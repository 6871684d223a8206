"""The edit commands: create/destroy entities (with their subtree), add/remove components, set
fields, set transforms, reparent, rename, duplicate. Each checks everything, applies, and
returns its inverse (see commands.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.core.commands import Command, CommandError, Transaction, need_component, need_entity, need_type
from engine.core.component import Component
from engine.core.entity_specs import (
    EntitySpec,
    SpecError,
    TransformSpec,
    build_entities,
    capture_subtree,
    check_values,
    member_index,
    remap_specs,
    spec_from_json,
    spec_to_json,
)
from engine.core.events import EntityReparented, TransformChanged
from engine.core.fields import EntityRef

if TYPE_CHECKING:
    from engine.core.world import World

MAX_NAME = 200


def check_refs(world: "World", cls: type[Component], values: dict[str, Any], command: Command,
               pending: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """An entity reference to an existing entity must point at one that has what the field
    requires. (A reference may dangle: its target can be destroyed later, as in files.)"""
    for name in cls.entity_ref_fields:
        value = values.get(name)
        if not value or value in pending or not world.exists(value):
            continue
        kind = cls.fields[name].type
        assert isinstance(kind, EntityRef)
        if kind.requires:
            has = {type(c).type_name for c in world.components(value)}
            missing = [t for t in kind.requires if t not in has]
            if missing:
                raise CommandError(command, f"{cls.type_name}.{name}: entity {value} ({world.name_of(value)!r}) "
                                            f"has no {' or '.join(missing)}, which the field requires")


def check_name(name: Any, command: Command) -> str:
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise CommandError(command, f"a name of at most {MAX_NAME} characters, got {name!r}"[:200])
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise CommandError(command, "a name that is valid text (it holds a lone surrogate)") from None
    return name


@dataclass
class CreateEntity(Command):
    """Create entities from records (``entity_specs.spec_to_json`` form), parents before children.

    One record with id 0 gets the next free id. The inverse destroys what was created.
    """

    entities: list[Any] = field(default_factory=list)
    check: bool = True  # False: an undo record, put back as it was (references are not checked again)

    @classmethod
    def new(cls, name: str = "", parent: int = 0, components: dict[str, dict[str, Any]] | None = None,
            transform: dict[str, Any] | None = None, entity: int = 0) -> "CreateEntity":
        record: dict[str, Any] = {"id": entity, "name": name, "parent": parent,
                                  "components": [[t, v] for t, v in (components or {}).items()]}
        if transform:
            record["transform"] = transform
        return cls([record])

    def apply(self, world: "World") -> Command:
        records = self.entities
        if not isinstance(records, list) or not records:
            raise CommandError(self, "a non-empty list of entity records")
        if len(records) == 1 and isinstance(records[0], dict) and records[0].get("id") == 0:
            records = [dict(records[0], id=world.next_id())]
        try:
            specs = [spec_from_json(data, world.registry, f"entities[{i}]") for i, data in enumerate(records)]
        except SpecError as exc:
            raise CommandError(self, str(exc)) from None
        check_specs(world, specs, self, self.check)
        build_entities(world, specs)
        roots = [s.id for s in specs if s.parent not in {t.id for t in specs}]
        if len(roots) == 1:
            return DestroyEntity(roots[0])
        return Transaction("", [DestroyEntity(r) for r in reversed(roots)])

    def __str__(self) -> str:
        first = self.entities[0] if isinstance(self.entities, list) and self.entities else {}
        name = first.get("name", "") if isinstance(first, dict) else ""
        return f"CreateEntity({len(self.entities) if isinstance(self.entities, list) else '?'} entities, {name!r})"


def check_specs(world: "World", specs: list[EntitySpec], command: Command, refs: bool = True) -> None:
    """Ids free and unique, parents known, member records pointing at instances, references valid."""
    ids: set[int] = set()
    for spec in specs:
        if world.exists(spec.id) or spec.id in ids:
            raise CommandError(command, f"entity id {spec.id} is already taken")
        if spec.parent and spec.parent not in ids and not world.exists(spec.parent):
            raise CommandError(command, f"entity {spec.id}: no parent entity {spec.parent}")
        if spec.member_of is not None and spec.member_of[0] not in ids and spec.member_of[0] not in world.prefab_instances:
            raise CommandError(command, f"entity {spec.id}: no prefab instance with root {spec.member_of[0]}")
        check_name(spec.name, command)
        ids.add(spec.id)
    for spec in specs:
        for component in spec.components:
            if refs:
                check_refs(world, component.cls, component.values, command, ids)


@dataclass
class DestroyEntity(Command):
    """Destroy an entity and its descendants now; the inverse recreates them exactly (ids,
    components in order, every field, prefab records). Destroying a prefab member is saved
    as a removed member of its instance."""

    entity: int = 0

    def apply(self, world: "World") -> Command:
        eid = need_entity(world, self.entity, self)
        specs = capture_subtree(world, eid)
        records = [spec_to_json(spec) for spec in specs]
        doomed = {spec.id for spec in specs}
        for spec in specs:
            if spec.member_of is not None and spec.member_of[0] not in doomed:
                instance = world.prefab_instances.get(spec.member_of[0])
                if instance is not None:
                    instance.removed.add(spec.member_of[1])
        world.destroy_now([eid])
        return CreateEntity(records, check=False)


@dataclass
class AddComponent(Command):
    """Add a component with field values (file data) at ``index`` in the entity's order (None: last)."""

    entity: int = 0
    type: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    index: int | None = None
    check: bool = True  # False: an undo record (references are not checked again)

    def apply(self, world: "World") -> Command:
        eid = need_entity(world, self.entity, self)
        cls = need_type(world, self.type, self)
        if world.has(eid, cls):
            raise CommandError(self, f"entity {eid} already has a {self.type} component")
        try:
            values = check_values(cls, self.values, self.type)
        except SpecError as exc:
            raise CommandError(self, str(exc)) from None
        if self.check:
            check_refs(world, cls, values, self)
        if self.index is not None and (isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0):
            raise CommandError(self, f"an index of 0 or more, got {self.index!r}")
        world.add(eid, cls.from_values(values), self.index)
        return RemoveComponent(eid, self.type)


@dataclass
class RemoveComponent(Command):
    """Remove a component; the inverse puts it back at the same place with every field."""

    entity: int = 0
    type: str = ""

    def apply(self, world: "World") -> Command:
        eid = need_entity(world, self.entity, self)
        component = need_component(world, eid, self.type, self)
        index = world.component_index(eid, type(component))
        data = component.to_data(only_changed=True, saved_only=False)
        world.remove(eid, type(component))
        return AddComponent(eid, self.type, data, index, check=False)


@dataclass
class SetFields(Command):
    """Set one or more fields of one component (values as file data)."""

    entity: int = 0
    type: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    check: bool = True  # False: an undo record (references are not checked again)

    def apply(self, world: "World") -> Command:
        eid = need_entity(world, self.entity, self)
        component = need_component(world, eid, self.type, self)
        cls = type(component)
        try:
            values = check_values(cls, self.values, self.type)
        except SpecError as exc:
            raise CommandError(self, str(exc)) from None
        if self.check:
            check_refs(world, cls, values, self)
        fields = cls.fields
        state = component.__dict__
        old = {name: fields[name].type.to_data(state[name]) for name in values}
        for name, value in values.items():
            world.set_field(eid, component, name, value, validated=True)
        return SetFields(eid, self.type, old, check=False)

    def merges_with(self, other: Command) -> bool:
        return (isinstance(other, SetFields) and other.entity == self.entity and other.type == self.type
                and isinstance(other.values, dict) and other.values.keys() == self.values.keys())

    def __str__(self) -> str:
        names = ", ".join(self.values) if isinstance(self.values, dict) else "?"
        return f"SetFields(entity {self.entity}, {self.type}.{{{names}}})"


@dataclass
class SetTransform(Command):
    """Set parts of an entity's local transform (pos, hpr in degrees, scale); parts left None stay."""

    entity: int = 0
    pos: list[Any] | None = None
    hpr: list[Any] | None = None
    scale: list[Any] | None = None

    def apply(self, world: "World") -> Command:
        eid = need_entity(world, self.entity, self)
        given = {k: v for k, v in (("pos", self.pos), ("hpr", self.hpr), ("scale", self.scale)) if v is not None}
        try:
            new = TransformSpec.from_data(given)
        except SpecError as exc:
            raise CommandError(self, str(exc)) from None
        node = world.node(eid)
        current = TransformSpec.of(node)
        old = {key: list(getattr(current, key)) for key in given}
        new.apply(node)
        world.events.emit(TransformChanged(eid))
        return SetTransform(eid, **old)

    def merges_with(self, other: Command) -> bool:
        parts = ("pos", "hpr", "scale")
        return (isinstance(other, SetTransform) and other.entity == self.entity
                and all((getattr(other, p) is None) == (getattr(self, p) is None) for p in parts))


@dataclass
class Reparent(Command):
    """Move an entity under another (0: the world root). ``keep_world`` keeps where it is in the
    world; ``transform`` (pos/hpr/scale data) sets its new local transform instead."""

    entity: int = 0
    parent: int = 0
    keep_world: bool = True
    transform: dict[str, Any] | None = None

    def apply(self, world: "World") -> Command:
        eid = need_entity(world, self.entity, self)
        parent = need_entity(world, self.parent, self, "parent entity") if self.parent else 0
        if parent and (parent == eid or parent in world.descendants(eid)):
            raise CommandError(self, f"entity {parent} is {eid} itself or inside it: that would make a cycle")
        member = member_index(world).get(eid)
        if member is not None:
            raise CommandError(self, f"entity {eid} is member {member[1]!r} of the prefab instance {member[0]}; "
                                     "move the instance root instead")
        try:
            local = TransformSpec.from_data(self.transform) if self.transform is not None else None
        except SpecError as exc:
            raise CommandError(self, str(exc)) from None
        node = world.node(eid)
        old_parent = world.parent_of(eid)
        old_local = TransformSpec.of(node).to_data(skip_defaults=False)
        target = world.node(parent) if parent else world.root
        if local is not None:
            node.reparentTo(target)
            local.apply(node)
        elif self.keep_world:
            node.wrtReparentTo(target)
        else:
            node.reparentTo(target)
        world.events.emit(EntityReparented(eid, old_parent, parent))
        return Reparent(eid, old_parent, False, old_local)


@dataclass
class Rename(Command):
    """Give an entity a new name."""

    entity: int = 0
    name: str = ""

    def apply(self, world: "World") -> Command:
        eid = need_entity(world, self.entity, self)
        name = check_name(self.name, self)
        old = world.name_of(eid)
        world.set_name(eid, name)
        return Rename(eid, old)


@dataclass
class Duplicate(Command):
    """Copy an entity and its subtree beside it, with new ids; entity references inside the copy
    point at the copies (the one mapper, ``entity_specs.remap_specs``)."""

    entity: int = 0

    def apply(self, world: "World") -> Command:
        eid = need_entity(world, self.entity, self)
        member = member_index(world).get(eid)
        if member is not None:
            raise CommandError(self, f"entity {eid} is member {member[1]!r} of prefab instance {member[0]}; "
                                     "duplicate the instance root")
        specs = copy_subtree(world, eid)
        return world.apply(CreateEntity([spec_to_json(s) for s in specs]))


def copy_records(world: "World", root: int) -> list[dict[str, Any]]:
    """An entity and its subtree as JSON records, for a clipboard (``Paste`` puts them back)."""
    return [spec_to_json(spec) for spec in capture_subtree(world, root)]


@dataclass
class Paste(Command):
    """Create a copy of clipboard records (``copy_records``) under ``parent`` with new ids; entity
    references inside the pasted subtree point at the pasted entities, the rest stay."""

    entities: list[Any] = field(default_factory=list)
    parent: int = 0

    def apply(self, world: "World") -> Command:
        if not isinstance(self.entities, list) or not self.entities:
            raise CommandError(self, "a non-empty list of entity records")
        if self.parent:
            need_entity(world, self.parent, self, "parent entity")
        try:
            specs = [spec_from_json(data, world.registry, f"entities[{i}]") for i, data in enumerate(self.entities)]
        except SpecError as exc:
            raise CommandError(self, str(exc)) from None
        first = world.next_id()
        ids = {spec.id: first + i for i, spec in enumerate(specs)}
        copies = remap_specs(specs, ids)
        inside = set(ids.values())
        for copy in copies:
            if copy.member_of is not None and copy.member_of[0] not in inside:
                copy.member_of = None  # a member pasted without its instance is a plain entity
            if copy.parent not in inside:
                copy.parent = self.parent
        return world.apply(CreateEntity([spec_to_json(c) for c in copies]))


def copy_subtree(world: "World", root: int, parent: int | None = None) -> list[EntitySpec]:
    """Specs of a copy of ``root``'s subtree with fresh ids (references inside remapped), placed
    under ``parent`` (default: beside the original)."""
    specs = capture_subtree(world, root)
    first = world.next_id()
    ids = {spec.id: first + i for i, spec in enumerate(specs)}
    copies = remap_specs(specs, ids)
    for copy in copies:
        copy.member_of = copy.member_of if copy.member_of and copy.member_of[0] in ids.values() else None
    if parent is not None:
        copies[0].parent = parent
    return copies
