"""The World: entities as NodePaths, components, cached queries, deferred destroy, events, systems."""
from __future__ import annotations

import threading

import pytest

from engine.core.component import Component
from engine.core.events import ComponentAdded, ComponentRemoved, EntityDestroyed
from engine.core.fields import Field, Float, Int
from engine.core.system import System
from engine.core.world import World


class Health(Component):
    hp = Field(Int(0, 1000), 100, doc="hit points")


class Speed(Component):
    value = Field(Float(0, 50), 1.0)


def test_entity_is_a_nodepath_under_its_parent() -> None:
    world = World()
    parent = world.create_entity("parent")
    child = world.create_entity("child", parent=parent)
    world.node(parent).setPos(10, 0, 0)
    world.node(child).setPos(1, 0, 0)
    assert world.node(child).getPos(world.root).x == pytest.approx(11)
    assert world.parent_of(child) == parent
    assert world.entity_at_node(world.node(child).attachNewNode("mesh")) == child


def test_components_add_get_remove() -> None:
    world = World()
    eid = world.create_entity("knight")
    health = world.add(eid, Health(hp=50))
    assert world.get(eid, Health) is health and health.entity == eid
    assert world.get(eid, Speed) is None
    world.remove(eid, Health)
    assert world.get(eid, Health) is None and world.components(eid) == []


def test_query_returns_entities_with_all_components_and_follows_changes() -> None:
    world = World()
    a, b, c = (world.create_entity(n) for n in "abc")
    world.add(a, Health())
    world.add(a, Speed())
    world.add(b, Health())
    world.add(c, Speed())
    assert [row[0] for row in world.query(Health, Speed)] == [a]
    first = world.query(Health, Speed)
    assert world.query(Health, Speed) is first  # cached
    world.add(b, Speed(value=3))
    rows = world.query(Health, Speed)
    assert sorted(row[0] for row in rows) == [a, b]
    assert all(isinstance(h, Health) and isinstance(s, Speed) for _, h, s in rows)
    world.remove(a, Health)
    assert [row[0] for row in world.query(Health, Speed)] == [b]


def test_destroy_is_deferred_to_the_end_of_the_tick_and_takes_children() -> None:
    world = World()
    parent = world.create_entity("parent")
    child = world.create_entity("child", parent=parent)
    world.add(child, Health())
    seen_during_tick: list[bool] = []

    class Destroyer(System):
        name = "destroyer"

        def update(self, w: World, dt: float) -> None:
            w.destroy(parent)
            seen_during_tick.append(w.exists(parent) and w.exists(child))

    world.add_system(Destroyer())
    destroyed: list[int] = []
    world.events.subscribe(EntityDestroyed, lambda e: destroyed.append(e.entity))
    world.tick()
    assert seen_during_tick == [True]
    assert not world.exists(parent) and not world.exists(child)
    assert sorted(destroyed) == sorted([parent, child])
    assert world.query(Health) == []


def test_events_for_components_added_and_removed() -> None:
    world = World()
    log: list[tuple[str, int, str]] = []
    world.events.subscribe(ComponentAdded, lambda e: log.append(("added", e.entity, type(e.component).__name__)))
    world.events.subscribe(ComponentRemoved, lambda e: log.append(("removed", e.entity, type(e.component).__name__)))
    eid = world.create_entity()
    world.add(eid, Health())
    world.destroy(eid)
    world.flush_destroyed()
    assert log == [("added", eid, "Health"), ("removed", eid, "Health")]


def test_systems_run_in_declared_order_and_are_timed() -> None:
    world = World()
    order: list[str] = []

    def make(name: str, position: int) -> System:
        cls = type(name, (System,), {"name": name, "order": position,
                                     "update": lambda self, w, dt: order.append(self.name)})
        return cls()

    world.add_system(make("physics", 300))
    world.add_system(make("input", 100))
    world.add_system(make("scripts", 200))
    world.tick()
    assert order == ["input", "scripts", "physics"]
    assert set(world.system_ms) == {"input", "scripts", "physics"}
    assert all(ms >= 0 for ms in world.system_ms.values())


def test_results_posted_from_a_worker_thread_apply_at_the_start_of_a_tick() -> None:
    world = World()
    eid = world.create_entity()
    worker = threading.Thread(target=lambda: world.post(lambda: world.add(eid, Health(hp=7))))
    worker.start()
    worker.join()
    assert world.get(eid, Health) is None
    world.tick()
    health = world.get(eid, Health)
    assert health is not None and health.hp == 7


def test_seeded_random_source_is_reproducible() -> None:
    assert [World(seed=5).random.random() for _ in range(3)] == [World(seed=5).random.random() for _ in range(3)]
    assert World(seed=5).random.random() != World(seed=6).random.random()


def test_reparenting_under_own_child_is_refused() -> None:
    world = World()
    parent = world.create_entity()
    child = world.create_entity(parent=parent)
    with pytest.raises(ValueError):
        world.reparent(parent, child)


def test_the_structure_version_moves_with_names_parents_and_lifetimes_only() -> None:
    from engine.core.snapshot import take_snapshot
    from engine.core.snapshot_restore import restore_snapshot

    world = World()
    seen = [world.structure_version]

    def moved() -> bool:
        seen.append(world.structure_version)
        return seen[-1] > seen[-2]

    a = world.create_entity("a")
    b = world.create_entity("b")
    assert moved()
    world.node(a).setPos(1, 2, 3)                  # a transform is not structure
    world.tick(1 / 60)
    assert not moved()
    world.set_name(a, "renamed")
    assert moved()
    world.reparent(b, a)
    assert moved()
    snap = take_snapshot(world)
    world.reparent(b, 0)
    assert moved()
    restore_snapshot(world, snap)                  # b back under a
    assert moved() and world.parent_of(b) == a
    world.destroy(b)
    world.flush_destroyed()
    assert moved()
    assert World().serial != world.serial
