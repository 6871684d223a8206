"""Exact in-memory snapshots of a World (``World.snapshot``) and putting them back (``World.restore``).

A snapshot holds the entity ids in creation order, names, parents (and the order of child
entities under each entity), each entity's component classes in order, every declared field
value of every component (runtime-only fields too), each node's TransformState (immutable in
Panda3D, so the object itself is kept: exact), prefab instances, settings, the random source,
tick count, time, the next id, and each system's ``save_state``. Nothing in it aliases live
mutable state: mutable field values are copied, so one snapshot can be restored many times.

Restoring reconciles rather than rebuilds: entities created since are destroyed, destroyed ones
come back with the same ids, components are added and removed to match (same order), only
fields whose value differs are written (each with one FieldChanged, so systems rebuild only
what changed), transforms and parents are put back, then every system's ``load_state`` runs.
A snapshot only goes back into a World built from the same origin (``World.origin``).

A snapshot is a sync point: systems may put their own state into a canonical form while it is
taken (the PhysicsSystem rebuilds its Bullet world, see ``engine/physics/sync_point.py``), so the
world that keeps running and any world restored from the snapshot continue identically.

Internals favour speed: per-class field getters (``operator.itemgetter``), identity checks
before value comparisons, and one pass over the entities; nothing is quadratic in their number.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, Callable

from panda3d.core import NodePath, TransformState

from engine.core.component import Component
from engine.core.plain_data import NOT_PLAIN, copy_plain, detached, detached_values
from engine.core.prefab_instances import PrefabInstance
from engine.core.world import ENTITY_TAG

if TYPE_CHECKING:
    from engine.core.world import World

Getter = Callable[[dict[str, Any]], tuple[Any, ...]]
_instance_dict = attrgetter("__dict__")


@dataclass(frozen=True, eq=False)
class WorldSnapshot:
    """The state of a World at one moment, made by ``World.snapshot()`` and put back by
    ``World.restore()``. Treat it as read-only; it is only meaningful to Worlds of ``origin``."""

    origin: str
    name: str
    seed: int
    tick_rate: float
    tick_count: int
    time: float
    next_id: int
    random_state: tuple[Any, ...]
    ids: tuple[int, ...]                                  # creation order
    names: dict[int, str]
    parents: dict[int, int]                               # 0: under the world root
    parent_nodes: dict[int, NodePath]                     # entities whose parent node is no entity's node
    child_order: dict[int, tuple[int, ...]]               # entity -> its child entities, in scene-graph order
    types: dict[int, list[type[Component]]]
    transforms: tuple[TransformState, ...]                # aligned with ids
    field_names: dict[type[Component], tuple[str, ...]]
    values: dict[type[Component], dict[int, tuple[Any, ...]]]   # in the order of the World's stores
    settings: dict[str, Any]
    prefab_instances: dict[int, PrefabInstance]
    pending_destroy: tuple[int, ...]
    systems: tuple[tuple[type, Any], ...]

    @property
    def entity_count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class _SavedComponent:
    """A component kept outside an entity (a World setting): its class and field values."""

    cls: type[Component]
    values: tuple[Any, ...]


def field_getter(names: tuple[str, ...]) -> Getter:
    """A function reading these fields from a component's ``__dict__`` as one tuple."""
    if not names:
        return lambda values: ()
    if len(names) == 1:
        only = names[0]
        return lambda values: (values[only],)
    return itemgetter(*names)  # type: ignore[return-value]


def read_fields(component: Component, names: tuple[str, ...], getter: Getter) -> tuple[Any, ...]:
    """The component's field values; a field missing from its ``__dict__`` reads as its default."""
    try:
        return getter(component.__dict__)
    except KeyError:
        fields = type(component).fields
        return tuple(component.__dict__.get(name, fields[name].default if name in fields else None)
                     for name in names)


def parent_link(node: NodePath, root: NodePath, world: "World", eid: int) -> tuple[int, NodePath | None]:
    """An entity's parent entity (0: the root) and, when its parent node is neither the root nor an
    entity's node (a joint node, say, or detached), that node too."""
    parent = node.getParent()
    if parent.isEmpty():
        return 0, parent
    tag = parent.getTag(ENTITY_TAG)
    if tag:
        return int(tag), None
    if parent == root:
        return 0, None
    return world.parent_of(eid), parent


def take_snapshot(world: "World") -> WorldSnapshot:
    """Capture ``world`` (see the module docstring). Systems save first: a system that puts itself
    into canonical form (physics) may move nodes before their transforms are read."""
    systems = tuple((type(system), system.save_state(world)) for system in world._systems)
    root = world.root
    nodes = world._nodes
    ids = tuple(nodes)
    parents: dict[int, int] = {}
    parent_nodes: dict[int, NodePath] = {}
    for eid, node in nodes.items():
        parent, odd = parent_link(node, root, world, eid)
        parents[eid] = parent
        if odd is not None:
            parent_nodes[eid] = odd
    field_names: dict[type[Component], tuple[str, ...]] = {}
    values: dict[type[Component], dict[int, tuple[Any, ...]]] = {}
    for cls, store in world._store.items():
        if store:
            names = field_names[cls] = tuple(cls.fields)
            values[cls] = _store_values(store, names)
    return WorldSnapshot(
        origin=world.origin, name=world.name, seed=world.seed, tick_rate=world.tick_rate,
        tick_count=world.tick_count, time=world.time, next_id=world._next_id,
        random_state=world.random.getstate(), ids=ids, names=dict(world._names), parents=parents,
        parent_nodes=parent_nodes, child_order=_child_order(world, parents, parent_nodes),
        types={eid: list(types) for eid, types in world._entity_types.items()},
        transforms=tuple(node.getTransform() for node in nodes.values()), field_names=field_names,
        values=values, settings={key: _save_setting(value) for key, value in world.settings.items()},
        prefab_instances={root_id: instance.clone() for root_id, instance in world.prefab_instances.items()},
        pending_destroy=tuple(world._pending_destroy), systems=systems)


def _store_values(store: dict[int, Component], names: tuple[str, ...]) -> dict[int, tuple[Any, ...]]:
    """Every component's field values in one class's store, in store order (C-level loops)."""
    getter = field_getter(names)
    try:
        read = list(map(getter, map(_instance_dict, store.values())))
    except KeyError:                               # a component missing a field: read one by one
        read = [read_fields(component, names, getter) for component in store.values()]
    return dict(zip(store, map(detached_values, read)))


def entity_children(node: NodePath) -> tuple[int, ...]:
    """The ids of the entities directly under ``node``, in scene-graph order."""
    out = []
    for child in node.getChildren():
        tag = child.getTag(ENTITY_TAG)
        if tag:
            out.append(int(tag))
    return tuple(out)


def _child_order(world: "World", parents: dict[int, int], parent_nodes: dict[int, NodePath]) -> dict[int, tuple[int, ...]]:
    """Child entity order under each entity that has child entities (deletion walks it)."""
    holders = {parent for eid, parent in parents.items() if parent and eid not in parent_nodes}
    return {parent: entity_children(world._nodes[parent]) for parent in sorted(holders)}


def _save_setting(value: Any) -> Any:
    if isinstance(value, Component):
        names = tuple(type(value).fields)
        return _SavedComponent(type(value), detached_values(read_fields(value, names, field_getter(names))))
    copied = copy_plain(value)
    return detached(value) if copied is NOT_PLAIN else copied


def load_setting(saved: Any, live: Any) -> Any:
    """The live value a saved setting becomes: a component setting is written into the live
    component of the same class (others keep a reference to it), else into a new one."""
    if not isinstance(saved, _SavedComponent):
        return detached(saved)
    component = live if type(live) is saved.cls else saved.cls()
    component.__dict__.update(zip(saved.cls.fields, (detached(v) for v in saved.values)))
    return component
