"""The World: entities as NodePaths, components attached to them, cached queries, systems, events.

Internals favour speed: component stores are plain dicts keyed by component class, query
results are cached lists invalidated only when a component of a queried class comes or goes.
"""
from __future__ import annotations

import itertools
import logging
import queue
import random
import time
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from panda3d.core import NodePath

from engine.core.component import Component, ComponentRegistry
from engine.core.errors import StormError
from engine.core.events import (
    CommandApplied,
    ComponentAdded,
    ComponentRemoved,
    EntityCreated,
    EntityDestroyed,
    EventBus,
    FieldChanged,
)
from engine.core.prefab_instances import PrefabInstance
from engine.core.system import System

if TYPE_CHECKING:
    from engine.core.commands import Command
    from engine.core.snapshot import WorldSnapshot

C = TypeVar("C", bound=Component)
log = logging.getLogger("storm.world")

ENTITY_TAG = "storm_id"


_SERIALS = itertools.count(1)


class World:
    """A running world. Entities are ints; each has a NodePath under ``root``."""

    def __init__(self, *, seed: int = 0, tick_rate: float = 60.0, name: str = "world",
                 registry: ComponentRegistry | None = None, root: NodePath | None = None) -> None:
        self.name = name
        self.root = root if root is not None else NodePath("world")
        self.registry = registry if registry is not None else ComponentRegistry()
        self.seed = seed
        self.random = random.Random(seed)
        self.tick_rate = tick_rate
        self.tick_count = 0
        self.time = 0.0
        self.structure_version = 0  # goes up when an entity is created, renamed, reparented or destroyed
        self.serial = next(_SERIALS)  # unique among the process's worlds (an id() may be reused)
        self.events = EventBus()
        self.settings: dict[str, Any] = {}
        self.origin = ""  # what the world was built from (a file's path and content hash); "" when built in code
        self.prefab_instances: dict[int, PrefabInstance] = {}  # by root entity
        self.prefab_edits: dict[str, dict[str, Any]] = {}  # prefab asset -> member -> type -> values applied
        self.services: dict[str, Any] = {}
        self.system_ms: dict[str, float] = {}
        self._nodes: dict[int, NodePath] = {}
        self._names: dict[int, str] = {}
        self._entity_types: dict[int, list[type[Component]]] = {}
        self._store: dict[type[Component], dict[int, Component]] = {}
        self._queries: dict[tuple[type[Component], ...], list[tuple[Any, ...]]] = {}
        self._queries_by_type: dict[type[Component], set[tuple[type[Component], ...]]] = {}
        self._systems: list[System] = []
        self._pending_destroy: dict[int, None] = {}  # insertion-ordered set
        self._dying: dict[int, None] = {}  # the entities destroy_now is removing
        self._inbox: "queue.SimpleQueue[Callable[[], None]]" = queue.SimpleQueue()
        self._next_id = 1

    # -- entities -----------------------------------------------------------------------------
    def create_entity(self, name: str = "", parent: int = 0, eid: int | None = None) -> int:
        """Create an entity (a NodePath under ``parent`` or the root) and return its id."""
        if eid is None:
            eid = self._next_id
        elif eid in self._nodes or eid <= 0:
            raise ValueError(f"entity id {eid} is taken or not positive")
        self._next_id = max(self._next_id, eid + 1)
        parent_node = self._nodes[parent] if parent else self.root
        node = parent_node.attachNewNode(name or f"entity{eid}")
        node.setTag(ENTITY_TAG, str(eid))
        self._nodes[eid] = node
        self._names[eid] = name
        self._entity_types[eid] = []
        self.structure_version += 1
        self.events.emit(EntityCreated(eid))
        return eid

    def next_id(self) -> int:
        """The id the next automatically numbered entity gets."""
        return self._next_id

    def reserve_ids(self, highest: int) -> None:
        """Make automatically numbered entities start above ``highest`` (ids a file will use)."""
        self._next_id = max(self._next_id, highest + 1)

    def destroy(self, eid: int) -> None:
        """Mark an entity (and its child entities) for destruction at the end of this tick."""
        if eid in self._nodes:
            self._pending_destroy[eid] = None

    def exists(self, eid: int) -> bool:
        return eid in self._nodes

    def node(self, eid: int) -> NodePath:
        return self._nodes[eid]

    def name_of(self, eid: int) -> str:
        return self._names.get(eid, "")

    def set_name(self, eid: int, name: str) -> None:
        self._names[eid] = name
        self._nodes[eid].setName(name or f"entity{eid}")
        self.structure_version += 1

    def entities(self) -> list[int]:
        """All entity ids, in creation order."""
        return list(self._nodes)

    def descendants(self, eid: int) -> list[int]:
        """The entity's descendant entities, parents before their children."""
        return [int(n.getTag(ENTITY_TAG)) for n in self._nodes[eid].findAllMatches(f"**/={ENTITY_TAG}")
                if n != self._nodes[eid]]

    def parent_of(self, eid: int) -> int:
        """The id of the nearest ancestor entity, 0 when the parent is the world root."""
        parent = self._nodes[eid].getParent()
        while not parent.isEmpty() and parent != self.root:
            if parent.hasTag(ENTITY_TAG):
                return int(parent.getTag(ENTITY_TAG))
            parent = parent.getParent()
        return 0

    def reparent(self, eid: int, parent: int) -> None:
        """Move an entity under another (0 = the root), keeping its world transform."""
        target = self._nodes[parent] if parent else self.root
        if parent and (parent == eid or self._nodes[eid].isAncestorOf(self._nodes[parent])):
            raise ValueError(f"cannot parent entity {eid} under its own descendant {parent}")
        self._nodes[eid].wrtReparentTo(target)
        self.structure_version += 1

    def entity_at_node(self, node: NodePath) -> int:
        """The entity that owns a node (for picking): the nearest tagged ancestor, or 0."""
        tagged = node.findNetTag(ENTITY_TAG)
        return int(tagged.getTag(ENTITY_TAG)) if not tagged.isEmpty() else 0

    def find(self, name: str) -> int:
        """The first entity with this name, or 0."""
        for eid, entity_name in self._names.items():
            if entity_name == name:
                return eid
        return 0

    # -- components ---------------------------------------------------------------------------
    def add(self, eid: int, component: C, index: int | None = None) -> C:
        """Attach a component (at ``index`` in the entity's component order, else last); replaces
        one of the same class."""
        cls = type(component)
        store = self._store.get(cls)
        if store is None:
            store = self._store[cls] = {}
        if eid in store:
            self.remove(eid, cls)
        component.entity = eid
        store[eid] = component
        types = self._entity_types[eid]
        if index is None or index >= len(types):
            types.append(cls)
        else:
            types.insert(max(0, index), cls)
        self._invalidate(cls)
        self.events.emit(ComponentAdded(eid, component))
        return component

    def remove(self, eid: int, cls: type[Component]) -> None:
        store = self._store.get(cls)
        if not store or eid not in store:
            return
        component = store.pop(eid)
        self._entity_types[eid].remove(cls)
        self._invalidate(cls)
        self.events.emit(ComponentRemoved(eid, component))

    def get(self, eid: int, cls: type[C]) -> C | None:
        store = self._store.get(cls)
        return store.get(eid) if store else None  # type: ignore[return-value]

    def has(self, eid: int, cls: type[Component]) -> bool:
        store = self._store.get(cls)
        return bool(store) and eid in store  # type: ignore[operator]

    def components(self, eid: int) -> list[Component]:
        """The components of an entity, in the order they were added."""
        return [self._store[cls][eid] for cls in self._entity_types.get(eid, ())]

    def existing_components(self) -> list[ComponentAdded]:
        """A ComponentAdded event per attached component, in creation order: a system added to a
        populated world feeds these to its handler to catch up."""
        return [ComponentAdded(eid, component) for eid in list(self._nodes) for component in self.components(eid)]

    def set_field(self, eid: int, component: Component, field: str, value: Any, validated: bool = False) -> None:
        """Validate (unless the caller already did) and set a field, then tell listeners
        (renderers, editor, replication)."""
        if validated:
            component.__dict__[field] = value
        else:
            component.set_field(field, value)
        self.events.emit(FieldChanged(eid, component, field))

    def component_index(self, eid: int, cls: type[Component]) -> int:
        """Where a component class is in the entity's component order."""
        return self._entity_types[eid].index(cls)

    def query(self, *classes: type[Component]) -> list[tuple[Any, ...]]:
        """Rows ``(entity, component, ...)`` for entities having every class; cached until they change.

        Do not mutate the returned list; iterate it directly in hot loops.
        """
        rows = self._queries.get(classes)
        if rows is not None:
            return rows
        stores = [self._store.get(cls, {}) for cls in classes]
        smallest = min(stores, key=len) if stores else {}
        rows = []
        for eid in smallest:
            if all(eid in store for store in stores):
                rows.append((eid, *[store[eid] for store in stores]))
        self._queries[classes] = rows
        for cls in classes:
            self._queries_by_type.setdefault(cls, set()).add(classes)
        return rows

    def all_of(self, cls: type[C]) -> dict[int, C]:
        """The live ``entity -> component`` dict for one class (read-only for callers)."""
        return self._store.get(cls, {})  # type: ignore[return-value]

    def replace_class(self, old: type[Component], new: type[Component]) -> None:
        """Move every component of ``old`` to ``new`` in place (hot reload keeps their state)."""
        store = self._store.pop(old, {})
        for eid, component in store.items():
            component.__class__ = new
            for name, declared in new.fields.items():  # fields the new code added get their defaults
                if name not in component.__dict__:
                    default = declared.default
                    setattr(component, name, list(default) if isinstance(default, list) else default)
            types = self._entity_types[eid]
            types[types.index(old)] = new
        self._store.setdefault(new, {}).update(store)
        self._invalidate(old)
        self._invalidate(new)

    def _invalidate(self, cls: type[Component]) -> None:
        keys = self._queries_by_type.get(cls)
        if keys:
            for key in keys:
                self._queries.pop(key, None)
            keys.clear()

    # -- systems and the tick -----------------------------------------------------------------
    def add_system(self, system: System) -> System:
        self._systems.append(system)
        self._systems.sort(key=lambda s: s.order)  # stable: equal orders keep insertion order
        system.attach(self)
        return system

    def remove_system(self, system: System) -> None:
        self._systems.remove(system)
        system.detach(self)

    def systems(self) -> list[System]:
        return list(self._systems)

    def system(self, cls: type) -> Any:
        """The first system of a class, or None."""
        for system in self._systems:
            if isinstance(system, cls):
                return system
        return None

    # -- commands -------------------------------------------------------------------------------
    def apply(self, command: "Command") -> "Command":
        """Apply an edit command now and return its inverse; a refused command raises
        CommandError and leaves the world as it was."""
        inverse = command.apply(self)
        if self.events.has_subscribers(CommandApplied):
            self.events.emit(CommandApplied(command, inverse))
        return inverse

    def post(self, item: "Command | Callable[[], None]") -> None:
        """Thread-safe: apply a command, or call ``fn``, at the start of the next tick (workers,
        network peers and NPCs hand their results back here). One that fails is logged with what
        it was, and the tick goes on."""
        self._inbox.put(item)

    def _run_posted(self) -> None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            try:
                if callable(item):
                    item()
                else:
                    self.apply(item)
            except StormError as exc:
                log.error("posted %s was refused: %s; the tick goes on", _describe(item), exc)
            except Exception:  # noqa: BLE001 - one bad result must not stop the world
                log.exception("posted %s raised; the tick goes on", _describe(item))

    def tick(self, dt: float | None = None) -> None:
        """Run one fixed tick: posted commands and results, then every system in order, then
        deferred destroys."""
        dt = 1.0 / self.tick_rate if dt is None else dt
        if not self._inbox.empty():
            self._run_posted()
        timings = self.system_ms
        clock = time.perf_counter
        for system in self._systems:
            start = clock()
            system.update(self, dt)
            timings[system.name] = (clock() - start) * 1000.0
        self.flush_destroyed()
        self.tick_count += 1
        self.time += dt

    def flush_destroyed(self) -> None:
        """Destroy the entities marked by ``destroy`` (children included), deepest first."""
        while self._pending_destroy:
            pending, self._pending_destroy = self._pending_destroy, {}
            self.destroy_now(list(pending))

    def destroy_now(self, eids: list[int], closing: bool = False) -> None:
        """Destroy entities and their descendants at once (commands; simulation code uses ``destroy``).
        ``closing``: every entity goes and the world with them (its root is emptied in one call)."""
        doomed: dict[int, None] = {}
        roots: list[int] = []
        for eid in eids:
            if eid not in self._nodes or eid in doomed:
                continue
            for child_id in reversed(self.descendants(eid)):
                doomed[child_id] = None
            doomed[eid] = None
            roots.append(eid)
        if not doomed:
            return
        everything = closing and len(doomed) == len(self._nodes)
        self.structure_version += 1
        self._dying = doomed
        try:
            for eid in doomed:
                for cls in list(reversed(self._entity_types.get(eid, []))):
                    self.remove(eid, cls)
            top = set(roots)
            for eid in doomed:
                name = self._names.pop(eid, "")
                self.prefab_instances.pop(eid, None)
                node = self._nodes.pop(eid)
                self._entity_types.pop(eid, None)
                self._pending_destroy.pop(eid, None)
                if eid in top and not everything and not node.isEmpty():
                    node.removeNode()  # its descendants go with it
                self.events.emit(EntityDestroyed(eid, name))
            if everything:
                self.root.node().removeAllChildren()  # one call instead of one per entity
        finally:
            self._dying = {}

    def being_destroyed(self, eid: int) -> bool:
        """Whether ``eid`` is going right now (its node goes with it: systems need not remove
        what they attached under it one node at a time)."""
        return eid in self._dying

    # -- snapshots ----------------------------------------------------------------------------------
    def snapshot(self) -> "WorldSnapshot":
        """An exact in-memory copy of this world's state, between ticks (see engine/core/snapshot.py).

        A sync point: systems put their own state into canonical form first (physics rebuilds its
        Bullet world; contacts lose their warm starting for one tick)."""
        from engine.core.snapshot import take_snapshot

        return take_snapshot(self)

    def restore(self, snapshot: "WorldSnapshot") -> None:
        """Put this world back to ``snapshot`` (taken from it, or from a world of the same origin);
        raises SnapshotError, changing nothing, for a snapshot of another origin."""
        from engine.core.snapshot_restore import restore_snapshot

        restore_snapshot(self, snapshot)

    def close(self) -> None:
        """Detach systems and remove every entity."""
        self._pending_destroy.clear()
        self.destroy_now([e for e in self._nodes if self._nodes[e].getParent() == self.root] or list(self._nodes),
                         closing=True)
        for system in list(reversed(self._systems)):
            system.detach(self)
        self._systems.clear()



def _describe(item: Any) -> str:
    """How the log names a posted item: the command as JSON-ish text, or the callable's name."""
    if callable(item):
        return f"callable {getattr(item, '__qualname__', repr(item))}"
    return repr(item)
