"""Putting a WorldSnapshot back into a World by reconciling, not rebuilding (see ``snapshot.py``).

The order of the steps matters: entities are destroyed, recreated and reparented first, then
transforms are put back (so systems building things for a recreated component see it where it
belongs), then components and fields, then the order of the World's dicts (creation order and
each component store's order decide iteration order, so they decide how a re-run unfolds),
then the World's own counters, and last every system's ``load_state``.
"""
from __future__ import annotations

from operator import is_
from typing import TYPE_CHECKING, Any, Iterable

from engine.core.component import Component
from engine.core.errors import StormError
from engine.core.events import FieldChanged
from engine.core.plain_data import detached, same_value
from engine.core.snapshot import WorldSnapshot, entity_children, field_getter, load_setting, parent_link, read_fields

if TYPE_CHECKING:
    from engine.core.world import World

_MISSING = object()
MAX_DESTROY_ROUNDS = 4


class SnapshotError(StormError):
    """A snapshot that cannot go back into this World; the World is left as it was."""


def restore_snapshot(world: "World", snap: WorldSnapshot) -> None:
    """Make ``world`` what it was when ``snap`` was taken (see the module docstrings)."""
    if snap.origin != world.origin:
        raise SnapshotError(
            f"cannot restore a snapshot of {snap.origin or 'a world built in code'!r} into "
            f"{world.origin or 'a world built in code'!r}: a snapshot only goes back into a World "
            f"built from the same origin; load that world first")
    classes = _current_classes(world, snap)
    _restore_entities(world, snap)
    _restore_transforms(world, snap)
    _restore_components(world, snap, classes)
    _restore_order(world, snap, classes)
    settings = {key: load_setting(saved, world.settings.get(key)) for key, saved in snap.settings.items()}
    world.settings.clear()
    world.settings.update(settings)
    world.prefab_instances.clear()
    world.prefab_instances.update((root, instance.clone()) for root, instance in snap.prefab_instances.items())
    world.name, world.seed, world.tick_rate = snap.name, snap.seed, snap.tick_rate
    world.random.setstate(snap.random_state)
    world.tick_count, world.time, world._next_id = snap.tick_count, snap.time, snap.next_id
    world._pending_destroy = dict.fromkeys(snap.pending_destroy)
    _restore_systems(world, snap)


def _current_classes(world: "World", snap: WorldSnapshot) -> dict[type[Component], type[Component]]:
    """Saved class -> the class to use now: the one this World registers under the same name (a
    hot-reloaded script's new class, or another runtime's copy of a pack script), else itself."""
    return {cls: world.registry.get(cls.type_name) or cls for cls in snap.field_names}


# -- entities ---------------------------------------------------------------------------------------
def _restore_entities(world: "World", snap: WorldSnapshot) -> None:
    """Destroy the entities made since, recreate the ones destroyed since, put parents back."""
    nodes, root = world._nodes, world.root
    misplaced = []
    for eid in snap.ids:
        node = nodes.get(eid)
        if node is None:
            continue
        parent, odd = parent_link(node, root, world, eid)
        wanted_odd = snap.parent_nodes.get(eid)
        if parent != snap.parents[eid] or (odd is None) != (wanted_odd is None) or (
                odd is not None and odd != wanted_odd):
            misplaced.append(eid)
            node.reparentTo(root)          # out of any subtree about to be destroyed
    world._pending_destroy = {}
    for _ in range(MAX_DESTROY_ROUNDS):           # an on_destroy may make entities of its own
        doomed = [eid for eid in nodes if eid not in snap.parents]
        if not doomed:
            break
        for eid in doomed:
            world.destroy(eid)
        world.flush_destroyed()
    recreated = []
    for eid in snap.ids:
        if eid not in nodes:
            world.create_entity(snap.names[eid], 0, eid)
            recreated.append(eid)
    moved = set(misplaced) | set(recreated)
    for eid in snap.ids:
        if eid in moved:
            _attach(world, eid, snap)
    if world._names != snap.names:
        for eid in snap.ids:
            if world._names.get(eid) != snap.names[eid]:
                world.set_name(eid, snap.names[eid])


def _attach(world: "World", eid: int, snap: WorldSnapshot) -> None:
    node = world._nodes[eid]
    world.structure_version += 1
    odd = snap.parent_nodes.get(eid)
    if odd is not None:
        if odd.isEmpty():
            node.detachNode()
        else:
            node.reparentTo(odd)
        return
    parent = snap.parents[eid]
    node.reparentTo(world._nodes[parent] if parent else world.root)


def _restore_transforms(world: "World", snap: WorldSnapshot) -> None:
    nodes = world._nodes
    for eid, transform in zip(snap.ids, snap.transforms):
        node = nodes[eid]
        current = node.getTransform()
        if current.this != transform.this and current != transform:
            node.setTransform(transform)


# -- components -------------------------------------------------------------------------------------
def _restore_components(world: "World", snap: WorldSnapshot, classes: dict[type[Component], type[Component]]) -> None:
    entity_types, stores, emit = world._entity_types, world._store, world.events.emit
    getters = {cls: field_getter(names) for cls, names in snap.field_names.items()}
    for eid in snap.ids:
        saved_types = snap.types[eid]
        wanted = [classes[cls] for cls in saved_types]
        live = entity_types[eid]
        added: set[type[Component]] = set()
        if live != wanted:
            keep = set(wanted)
            for cls in reversed(list(live)):
                if cls not in keep:
                    world.remove(eid, cls)
            have = set(live)
            for saved_cls, cls in zip(saved_types, wanted):
                if cls not in have:
                    world.add(eid, _new_component(snap, saved_cls, cls, eid))
                    added.add(cls)
            live[:] = wanted
        for saved_cls, cls in zip(saved_types, wanted):
            if cls in added:
                continue
            component = stores[cls][eid]
            saved = snap.values[saved_cls][eid]
            names = snap.field_names[saved_cls]
            if cls is saved_cls and all(map(is_, read_fields(component, names, getters[saved_cls]), saved)):
                continue
            changed = _write_fields(component, cls, names, saved)
            for name in changed:
                emit(FieldChanged(eid, component, name))


def _new_component(snap: WorldSnapshot, saved_cls: type[Component], cls: type[Component], eid: int) -> Component:
    component = cls()
    _write_fields(component, cls, snap.field_names[saved_cls], snap.values[saved_cls][eid])
    return component


def _write_fields(component: Component, cls: type[Component], names: tuple[str, ...], saved: tuple[Any, ...]) -> list[str]:
    """Write the saved values that differ (fields the class no longer has are skipped)."""
    values = component.__dict__
    fields = cls.fields
    changed = []
    for name, value in zip(names, saved):
        if name not in fields:
            continue
        current = values.get(name, _MISSING)
        if current is value or (current is not _MISSING and same_value(current, value)):
            continue
        values[name] = detached(value)
        changed.append(name)
    return changed


# -- order ------------------------------------------------------------------------------------------
def _restore_order(world: "World", snap: WorldSnapshot, classes: dict[type[Component], type[Component]]) -> None:
    """Creation order, each store's order and each entity's child order as they were."""
    nodes = world._nodes
    if list(nodes) != list(snap.ids):
        for table in (world._nodes, world._names, world._entity_types):
            _reorder(table, snap.ids)
    for saved_cls, saved in snap.values.items():
        cls = classes[saved_cls]
        store = world._store.get(cls)
        if store is not None and list(store) != list(saved):
            _reorder(store, saved)
            world._invalidate(cls)
    for parent, order in snap.child_order.items():
        node = nodes[parent]
        if entity_children(node) != order:
            for child in order:
                nodes[child].reparentTo(node)      # to the end of the children, one after another


def _reorder(table: dict[int, Any], order: Iterable[int]) -> None:
    """Put a dict's keys in ``order`` in place; keys not in it (made by a script while the restore
    ran) go last."""
    ordered = {eid: table[eid] for eid in order if eid in table}
    ordered.update(table)
    table.clear()
    table.update(ordered)


def _restore_systems(world: "World", snap: WorldSnapshot) -> None:
    saved: dict[tuple[type, int], Any] = {}
    seen: dict[type, int] = {}
    for cls, state in snap.systems:
        saved[(cls, seen.get(cls, 0))] = state
        seen[cls] = seen.get(cls, 0) + 1
    seen.clear()
    for system in list(world._systems):
        key = (type(system), seen.get(type(system), 0))
        seen[type(system)] = key[1] + 1
        if key in saved:
            system.load_state(world, saved[key])
