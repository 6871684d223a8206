"""Behaviours (script components) and the system that runs them each tick.

A behaviour is a component class in a pack's ``scripts/`` folder, named in world files as
``pack:module.Class``. It declares fields like any component and overrides any of
``on_start``, ``on_update(dt)`` and ``on_destroy``. An exception in a behaviour is logged with
the entity and script named, and that behaviour stops; the world keeps running.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from panda3d.core import NodePath

from engine.core.component import Component
from engine.core.events import ComponentAdded, ComponentRemoved
from engine.core.plain_data import NOT_PLAIN, copy_plain
from engine.core.system import ORDER_SCRIPTS, System

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.scripting.script_loader import ScriptLoader

log = logging.getLogger("storm.scripts")
NOT_STATE = frozenset(("entity", "world", "node"))   # attributes every behaviour has, never its own state


INPUT_FOR_SERVICE = "input_for"  # the input system's ``actions_for(entity)``


class Behaviour(Component):
    """Base class of script components. ``self.node`` is the entity's NodePath, ``self.world`` its
    World and ``self.actions`` the input actions of the player who owns the entity."""

    world: "World"
    node: NodePath

    @property
    def actions(self) -> Any:
        """This tick's input actions of the entity's owner (its InputOwner's player, else the local
        player): ``self.actions.vector("move")``. None in a world without an input system."""
        actions_for = self.world.services.get(INPUT_FOR_SERVICE)
        return actions_for(self.entity) if actions_for is not None else None

    def on_start(self) -> None:
        """Called once, at the start of the first tick after the behaviour was added."""

    def on_update(self, dt: float) -> None:
        """Called every fixed tick with the tick length in seconds."""

    def on_destroy(self) -> None:
        """Called when the behaviour or its entity is removed."""

    def save_state(self) -> dict[str, Any]:
        """This behaviour's own attributes (not its fields) for a World snapshot: by default a copy of
        every plain-data attribute (numbers, strings, bools, None, Point3/Vec3/Quat, and tuples,
        lists, dicts and sets of those); live objects (nodes, subscriptions, classes) are skipped."""
        fields = self.fields
        state = {}
        for name, value in self.__dict__.items():
            if name in fields or name in NOT_STATE:
                continue
            copied = copy_plain(value)
            if copied is not NOT_PLAIN:
                state[name] = copied
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        """Put back what ``save_state`` returned: plain-data attributes set since are removed, the
        saved ones set to copies (the snapshot stays reusable); live objects are left alone.
        Called on every restore, on the same object or on a new one that replaces a behaviour
        destroyed since (which gets no ``on_start``): a behaviour that keeps live objects (event
        subscriptions, say) overrides this to set them up again when they are missing."""
        fields = self.fields
        for name in [n for n, v in self.__dict__.items()
                     if n not in state and n not in fields and n not in NOT_STATE and copy_plain(v) is not NOT_PLAIN]:
            del self.__dict__[name]
        for name, value in state.items():
            self.__dict__[name] = copy_plain(value)


class ScriptSystem(System):
    """Starts, updates and stops behaviours; checks script files for changes and hot-reloads them."""

    name = "scripts"
    order = ORDER_SCRIPTS

    def __init__(self, loader: "ScriptLoader | None" = None, reload_every_ticks: int = 30) -> None:
        self.loader = loader
        self.reload_every_ticks = reload_every_ticks
        self._world: "World | None" = None
        self._live: dict[int, Behaviour] = {}
        self._starting: list[Behaviour] = []
        self._updates: list[Callable[[float], None]] = []
        self._dirty = False
        self._swaps_seen = 0

    def attach(self, world: "World") -> None:
        self._world = world
        if self.loader is not None:
            self._swaps_seen = self.loader.generation  # classes resolved from now on are the newest
        self.listen(world, {ComponentAdded: self._on_added, ComponentRemoved: self._on_removed}, (Behaviour,))

    def detach(self, world: "World") -> None:
        self.stop_listening()
        for behaviour in list(self._live.values()):
            self._call(behaviour, "on_destroy")
        self._live.clear()
        self._updates.clear()

    def _on_added(self, event: ComponentAdded) -> None:
        behaviour = event.component
        if isinstance(behaviour, Behaviour):
            assert self._world is not None
            behaviour.world = self._world
            behaviour.node = self._world.node(event.entity)
            self._starting.append(behaviour)

    def _on_removed(self, event: ComponentRemoved) -> None:
        behaviour = event.component
        if not isinstance(behaviour, Behaviour):
            return
        if behaviour in self._starting:
            self._starting.remove(behaviour)
            return
        if self._live.pop(id(behaviour), None) is not None:
            self._dirty = True
            self._call(behaviour, "on_destroy")

    def update(self, world: "World", dt: float) -> None:
        if self.loader is not None and world.tick_count % self.reload_every_ticks == 0:
            self.check_reloads()
        if self._starting:
            starting, self._starting = self._starting, []
            for behaviour in starting:
                self._live[id(behaviour)] = behaviour
                self._call(behaviour, "on_start")
            self._dirty = True
        if self._dirty:
            self._rebuild()
        remaining = iter(self._updates)  # one iterator: after a failure the loop resumes at the next one
        update = None
        while True:
            try:
                for update in remaining:
                    update(dt)
                break
            except Exception:  # noqa: BLE001 - a broken script must not stop the world
                self._fail(update.__self__, "on_update")  # type: ignore[union-attr]

    def check_reloads(self) -> int:
        """Reload changed script files through the loader (shared by every world of a runtime) and
        apply each swap this world has not applied yet, oldest first; returns how many."""
        if self.loader is None:
            return 0
        self.loader.reload_changed()
        self._swaps_seen, swaps = self.loader.swaps_since(self._swaps_seen)
        self.hot_reload(swaps)
        return len(swaps)

    def hot_reload(self, swaps: list[tuple[type, type]]) -> None:
        """Swap reloaded classes into the world; live behaviours keep their state."""
        if not swaps or self._world is None:
            return
        for old, new in swaps:
            self._world.replace_class(old, new)
            self._world.registry.register(new)
            log.info("hot-reloaded %s", new.type_name)
        self._dirty = True

    def _rebuild(self) -> None:
        self._updates = [b.on_update for b in self._live.values()
                         if type(b).on_update is not Behaviour.on_update and not getattr(b, "_storm_failed", False)]
        self._dirty = False

    def _call(self, behaviour: Behaviour, method: str, *args: Any) -> None:
        try:
            getattr(behaviour, method)(*args)
        except Exception:  # noqa: BLE001
            self._fail(behaviour, method)

    def _fail(self, behaviour: Behaviour, method: str) -> None:
        world = self._world
        name = world.name_of(behaviour.entity) if world else ""
        log.exception("script %s on entity %d (%s) raised in %s; the behaviour is stopped",
                      behaviour.type_name, behaviour.entity, name, method)
        behaviour._storm_failed = True  # type: ignore[attr-defined]
        self._dirty = True

    def live_count(self) -> int:
        return len(self._live)

    # -- snapshots ------------------------------------------------------------------------------
    def save_state(self, world: "World") -> dict[str, Any]:
        """Which behaviours have started (in update order), which are waiting to start, and each
        one's own ``save_state``; keyed by (entity, type name)."""
        started = [(b.entity, b.type_name) for b in self._live.values()]
        starting = [(b.entity, b.type_name) for b in self._starting]
        states = {}
        for behaviour in [*self._live.values(), *self._starting]:
            try:
                states[(behaviour.entity, behaviour.type_name)] = behaviour.save_state()
            except Exception:  # noqa: BLE001 - a broken script must not stop the snapshot
                log.exception("script %s on entity %d raised in save_state; its own state is not kept",
                              behaviour.type_name, behaviour.entity)
        return {"started": started, "starting": starting, "states": states}

    def load_state(self, world: "World", state: dict[str, Any] | None) -> None:
        """Started behaviours get their state back without ``on_start``; one that had not started
        at the snapshot but has since is stopped (``on_destroy``) and starts again next tick."""
        if state is None:
            return
        present = {(b.entity, b.type_name): b for b in [*self._live.values(), *self._starting]}
        was_started = set(state["started"])
        for key, behaviour in present.items():
            if key not in was_started and id(behaviour) in self._live:
                self._call(behaviour, "on_destroy")
        self._live = {id(b): b for b in (present.get(key) for key in state["started"]) if b is not None}
        self._starting = [b for b in (present.get(key) for key in state["starting"]) if b is not None]
        for key, behaviour in present.items():
            saved = state["states"].get(key)
            if saved is None:
                continue
            try:
                behaviour.load_state(saved)
            except Exception:  # noqa: BLE001
                self._fail(behaviour, "load_state")
        self._dirty = True
