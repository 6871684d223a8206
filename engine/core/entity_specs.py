"""Entities as plain data, and the one builder that turns that data into entities.

A loader's parse step, an undo record of a destroyed subtree, a copied subtree and a prefab
instance all come out as a list of ``EntitySpec``: ids, names, parents, local transforms,
components with validated values (in order) and prefab bookkeeping. ``build_entities`` creates
them; ``capture_subtree`` reads them back from a World; ``spec_to_json``/``spec_from_json`` carry
them through commands that travel as JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from panda3d.core import NodePath

from engine.core.component import Component, ComponentRegistry
from engine.core.errors import FieldError
from engine.core.fields import MAX_ENTITY_ID, EntityRef, Vector, f32
from engine.core.prefab_instances import PrefabInstance

if TYPE_CHECKING:
    from engine.core.world import World

TRANSFORM_KEYS = ("pos", "hpr", "scale")
TRANSFORM_DEFAULTS: dict[str, list[float]] = {"pos": [0, 0, 0], "hpr": [0, 0, 0], "scale": [1, 1, 1]}
TRANSFORM_VECTOR = Vector(3, -1e7, 1e7)
Vec = tuple[float, float, float]


def join(path: str, key: str) -> str:
    """``path.key``, or ``key`` at the top."""
    return f"{path}.{key}" if path else key


class SpecError(ValueError):
    """Bad entity data: ``path`` says where inside it, the message what was expected."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass
class TransformSpec:
    """A local transform as files write it; a part left out (None) keeps the node's value."""

    pos: Vec | None = None
    hpr: Vec | None = None
    scale: Vec | None = None

    def apply(self, node: NodePath) -> None:
        if self.pos is not None and self.hpr is not None and self.scale is not None:
            node.setPosHprScale(*self.pos, *self.hpr, *self.scale)
            return
        if self.pos is not None:
            node.setPos(*self.pos)
        if self.hpr is not None:
            node.setHpr(*self.hpr)
        if self.scale is not None:
            node.setScale(*self.scale)

    def to_data(self, skip_defaults: bool = True) -> dict[str, list[float]]:
        out = {}
        for key in TRANSFORM_KEYS:
            value = getattr(self, key)
            if value is None:
                continue
            data = [_number(v) for v in value]
            if not (skip_defaults and data == TRANSFORM_DEFAULTS[key]):
                out[key] = data
        return out

    @classmethod
    def of(cls, node: NodePath) -> "TransformSpec":
        """The node's whole local transform, rounded as files store it (32-bit floats)."""
        return cls(*(tuple(f32(v) for v in value) for value in (node.getPos(), node.getHpr(), node.getScale())))

    @classmethod
    def from_data(cls, data: Any, path: str = "transform") -> "TransformSpec":
        """Check an ``{"pos": [...], "hpr": [...], "scale": [...]}`` object; raises SpecError."""
        if not isinstance(data, dict):
            raise SpecError(path, "an object with pos, hpr and/or scale")
        validate = TRANSFORM_VECTOR.validate
        if len(data) == 3 and "pos" in data and "hpr" in data and "scale" in data:  # the usual, fast
            try:
                pos, hpr, scale = validate(data["pos"]), validate(data["hpr"]), validate(data["scale"])
            except FieldError:
                pass  # the loop below names the part
            else:
                if all(abs(v) >= 1e-30 for v in scale):
                    return cls(pos, hpr, scale)  # type: ignore[arg-type]
        values: dict[str, Vec] = {}
        for key, value in data.items():
            if key not in TRANSFORM_KEYS:
                raise SpecError(join(path, key), f"one of the keys {', '.join(TRANSFORM_KEYS)}")
            try:
                values[key] = TRANSFORM_VECTOR.validate(value)  # type: ignore[assignment]
            except FieldError as exc:
                raise SpecError(join(path, key), exc.expected) from None
        if "scale" in values and any(f32(v) == 0.0 for v in values["scale"]):
            raise SpecError(join(path, "scale"), "three non-zero numbers (32-bit floats: at least 1e-38 in size)")
        return cls(**values)


def transform_data(node: NodePath) -> dict[str, list[float]]:
    """A node's local transform as file data, parts at their default left out."""
    return TransformSpec.of(node).to_data()


@dataclass
class ComponentSpec:
    """A component type and validated runtime values for some of its fields."""

    cls: type[Component]
    values: dict[str, Any] = field(default_factory=dict)

    def create(self) -> Component:
        return self.cls.from_values(self.values)

    def to_data(self) -> dict[str, Any]:
        fields = self.cls.fields
        return {name: fields[name].type.to_data(value) for name, value in self.values.items()}


@dataclass
class EntitySpec:
    """One entity as data. ``instance`` marks the root of a prefab instance; ``member_of`` says
    which instance (root id) and member key an entity plays."""

    id: int
    name: str = ""
    parent: int = 0
    transform: TransformSpec | None = None
    components: list[ComponentSpec] = field(default_factory=list)
    instance: PrefabInstance | None = None
    member_of: tuple[int, str] | None = None


def build_entities(world: "World", specs: Sequence[EntitySpec]) -> None:
    """Create the entities with their ids, transforms, parents, prefab records and components.

    Parents are either in ``specs`` or already in the world. Components are added last, so
    systems reacting to them see the finished hierarchy.
    """
    later = []
    for spec in specs:
        parent = spec.parent
        if parent and not world.exists(parent):
            later.append(spec)
            parent = 0
        world.create_entity(spec.name, parent, spec.id)
        if spec.transform is not None:
            spec.transform.apply(world.node(spec.id))
    for spec in later:  # parents listed after their children
        world.node(spec.id).reparentTo(world.node(spec.parent))
    for spec in specs:
        if spec.instance is not None:
            world.prefab_instances[spec.id] = spec.instance
    for spec in specs:
        if spec.member_of is not None:
            instance = world.prefab_instances.get(spec.member_of[0])
            if instance is not None:
                instance.members[spec.member_of[1]] = spec.id
                instance.removed.discard(spec.member_of[1])
    for spec in specs:
        eid = spec.id
        for component in spec.components:
            world.add(eid, component.create())


def member_index(world: "World") -> dict[int, tuple[int, str]]:
    """Entity -> (instance root, member key) for every prefab member that is not a root."""
    index = {}
    for root, instance in world.prefab_instances.items():
        for key, eid in instance.members.items():
            if eid != root and key not in instance.removed:
                index[eid] = (root, key)
    return index


def subtree(world: "World", root: int) -> list[int]:
    """The entity and its descendants, parents before children."""
    return [root] + world.descendants(root)


def capture_subtree(world: "World", root: int) -> list[EntitySpec]:
    """An entity and its descendants as specs (every field, runtime state too), for undo and copies."""
    members = member_index(world)
    specs = []
    for eid in subtree(world, root):
        node = world.node(eid)
        components = [ComponentSpec(type(c), _values(c)) for c in world.components(eid)]
        instance = world.prefab_instances.get(eid)
        specs.append(EntitySpec(eid, world.name_of(eid), world.parent_of(eid), TransformSpec.of(node), components,
                                instance.clone() if instance is not None else None, members.get(eid)))
    return specs


def _values(component: Component) -> dict[str, Any]:
    state = component.__dict__
    out = {}
    for name, declared in component.fields.items():
        value = state[name]
        if value != declared.default:
            out[name] = list(value) if isinstance(value, list) else value
    return out


def remap_specs(specs: Iterable[EntitySpec], ids: Mapping[int, int]) -> list[EntitySpec]:
    """Copies of ``specs`` with entity ids (own, parents, entity-reference fields) mapped through
    ``ids``; ids not in the mapping stay. This is the one mapper copies and prefabs use."""
    specs = list(specs)
    classes = {c.cls.type_name: c.cls for spec in specs for c in spec.components}
    out = []
    for spec in specs:
        components = []
        for component in spec.components:
            fields = component.cls.fields
            values = {name: fields[name].type.remap(value, ids) for name, value in component.values.items()}
            components.append(ComponentSpec(component.cls, values))
        instance = None
        if spec.instance is not None:
            instance = spec.instance.clone()
            instance.root = ids.get(instance.root, instance.root)
            instance.members = {key: ids.get(eid, eid) for key, eid in instance.members.items()}
            for entry in instance.template.values():
                for type_name, data in entry["components"].items():
                    cls = classes.get(type_name)
                    if cls is not None:
                        for name in data:
                            declared = cls.fields.get(name)
                            if declared is not None and isinstance(declared.type, EntityRef):
                                data[name] = declared.type.remap(data[name], ids)
        member_of = (ids.get(spec.member_of[0], spec.member_of[0]), spec.member_of[1]) if spec.member_of else None
        out.append(EntitySpec(ids.get(spec.id, spec.id), spec.name, ids.get(spec.parent, spec.parent), spec.transform,
                              components, instance, member_of))
    return out


# -- JSON form (commands) -------------------------------------------------------------------------
def spec_to_json(spec: EntitySpec) -> dict[str, Any]:
    out: dict[str, Any] = {"id": spec.id, "name": spec.name, "parent": spec.parent}
    if spec.transform is not None:
        out["transform"] = spec.transform.to_data(skip_defaults=False)
    out["components"] = [[c.cls.type_name, c.to_data()] for c in spec.components]
    if spec.instance is not None:
        inst = spec.instance
        out["prefab"] = {"asset": inst.asset_id, "members": dict(inst.members), "template": inst.template,
                         "removed": sorted(inst.removed)}
    if spec.member_of is not None:
        out["member_of"] = [spec.member_of[0], spec.member_of[1]]
    return out


def spec_from_json(data: Any, registry: ComponentRegistry, path: str) -> EntitySpec:
    """Check one entity record from a command; raises SpecError naming the place and expectation."""
    if not isinstance(data, dict):
        raise SpecError(path, "an entity object")
    for key in data:
        if key not in ("id", "name", "parent", "transform", "components", "prefab", "member_of"):
            raise SpecError(f"{path}.{key}", "one of the keys id, name, parent, transform, components, prefab, member_of")
    eid = _entity_id(data.get("id"), f"{path}.id", allow_zero=False)
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise SpecError(f"{path}.name", "a string of at most 200 characters")
    parent = _entity_id(data.get("parent", 0), f"{path}.parent", allow_zero=True)
    transform = TransformSpec.from_data(data["transform"], f"{path}.transform") if "transform" in data else None
    components = parse_component_list(data.get("components", []), registry, f"{path}.components")
    instance = _instance_from_json(data["prefab"], eid, f"{path}.prefab") if "prefab" in data else None
    member_of = None
    if "member_of" in data:
        raw = data["member_of"]
        if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[1], str)):
            raise SpecError(f"{path}.member_of", "[instance root id, member key]")
        member_of = (_entity_id(raw[0], f"{path}.member_of[0]", allow_zero=False), raw[1])
    return EntitySpec(eid, name, parent, transform, components, instance, member_of)


def parse_component_list(data: Any, registry: ComponentRegistry, path: str) -> list[ComponentSpec]:
    """``[["Type", {field: value}], ...]`` checked against the registry and the declarations."""
    if not isinstance(data, list):
        raise SpecError(path, "a list of [component type, fields] pairs")
    specs, seen = [], set()
    for index, item in enumerate(data):
        where = f"{path}[{index}]"
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            raise SpecError(where, "a [component type, fields] pair")
        cls = resolve_type(registry, item[0], where)
        if cls in seen:
            raise SpecError(where, f"each component type once per entity ({item[0]} twice)")
        seen.add(cls)
        specs.append(ComponentSpec(cls, check_values(cls, item[1], where)))
    return specs


def resolve_type(registry: ComponentRegistry, type_name: str, path: str) -> type[Component]:
    try:
        return registry.resolve(type_name)
    except LookupError as exc:
        raise SpecError(path, f"{exc} (got {type_name!r})") from None


def check_values(cls: type[Component], data: Any, path: str) -> dict[str, Any]:
    """Validate ``{field: value}`` data against a component's declarations; returns runtime values."""
    if not isinstance(data, dict):
        raise SpecError(path, f"an object of {cls.type_name} field values")
    fields = cls.fields
    values = {}
    for name, value in data.items():
        declared = fields.get(name)
        if declared is None:
            raise SpecError(join(path, name), f"a field of {cls.type_name} ({', '.join(fields) or 'none'})")
        try:
            values[name] = declared.type.validate(value)
        except FieldError as exc:
            raise SpecError(join(path, name), f"{exc.expected}, got {_short(value)}") from None
    return values


def _instance_from_json(data: Any, root: int, path: str) -> PrefabInstance:
    if not isinstance(data, dict) or not isinstance(data.get("asset"), str):
        raise SpecError(path, "an object with asset, members, template and removed")
    members = data.get("members", {})
    if not isinstance(members, dict):
        raise SpecError(f"{path}.members", "an object mapping member keys to entity ids")
    checked = {str(k): _entity_id(v, f"{path}.members.{k}", allow_zero=False) for k, v in members.items()}
    template = data.get("template", {})
    removed = data.get("removed", [])
    if not isinstance(template, dict) or not isinstance(removed, list) or not all(isinstance(k, str) for k in removed):
        raise SpecError(path, "template as an object and removed as a list of member keys")
    return PrefabInstance(data["asset"], root, checked, template, set(removed))


def _entity_id(value: Any, path: str, allow_zero: bool) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_ENTITY_ID:
        raise SpecError(path, f"an entity id from {low} to {MAX_ENTITY_ID}")
    return value


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
