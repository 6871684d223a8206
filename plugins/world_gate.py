"""The gate between a plugin and the world: every request a plugin makes (from its sandbox over
the pipe, or in process through the same ``WorldAccess``) is checked here against the plugin's
permissions and answered with plain JSON data.

Arguments are hostile input: each is checked for type and range before the world is touched, and
anything wrong is a ``RequestError`` saying what was expected. Commands arrive as JSON and go
through ``command_from_json`` and ``World.apply``/``World.post``, like every other edit.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import engine.core.edit_commands  # noqa: F401 - registers the command types command_from_json reads
import engine.core.prefab_commands  # noqa: F401
from engine.core.commands import CommandError, command_from_json, command_to_json
from engine.core.component import Component
from engine.core.schema import component_schema
from engine.core.world import World
from plugins.api import CommandRefused, PermissionDenied, RequestError
from plugins.events import EventError, PluginEventBus

log = logging.getLogger("storm.plugins")
MAX_LIMIT = 100_000
MAX_QUERY_TYPES = 16

# request -> the permission it needs ("" for none)
NEEDS = {"info": "world_read", "entities": "world_read", "entity": "world_read", "query": "world_read",
         "get": "world_read", "components": "world_read", "transform": "world_read", "schema": "world_read",
         "apply": "world_write", "post": "world_write", "publish": ""}


class WorldGate:
    """Answers one plugin's requests against whichever world ``world()`` returns now."""

    def __init__(self, plugin_id: str, permissions: tuple[str, ...], world: Callable[[], World | None],
                 bus: PluginEventBus) -> None:
        self.plugin_id = plugin_id
        self.permissions = frozenset(permissions)
        self.world = world
        self.bus = bus
        self.denied = 0  # requests refused for want of a permission

    def handle(self, what: str, args: dict[str, Any]) -> Any:
        """The answer to one request; raises PermissionDenied, CommandRefused or RequestError."""
        if not isinstance(what, str) or what not in NEEDS:
            raise RequestError(f"a request among {', '.join(NEEDS)}, got {str(what)[:40]!r}")
        if not isinstance(args, dict):
            raise RequestError(f"{what}: arguments as an object")
        needed = NEEDS[what]
        if needed and needed not in self.permissions:
            self.denied += 1
            log.warning("plugin %r asked to %s without the %s permission; refused", self.plugin_id, what, needed)
            raise PermissionDenied(f"plugin {self.plugin_id!r} has no {needed} permission (add it under [permissions] "
                                   f"in pack.toml, with a reason) so it may not {what}")
        if what == "publish":
            return self._publish(args)
        world = self.world()
        if world is None:
            raise RequestError(f"{what}: no world is running")
        return getattr(self, "_" + what)(world, args)

    # -- reading -------------------------------------------------------------------------------------
    def _info(self, world: World, args: dict[str, Any]) -> dict[str, Any]:
        return {"name": world.name, "tick": world.tick_count, "time": world.time, "entities": len(world.entities())}

    def _entities(self, world: World, args: dict[str, Any]) -> list[int]:
        return world.entities()[: _limit(args)]

    def _entity(self, world: World, args: dict[str, Any]) -> dict[str, Any] | None:
        eid = _entity_id(args)
        if not world.exists(eid):
            return None
        return {"id": eid, "name": world.name_of(eid), "parent": world.parent_of(eid),
                "components": [c.type_name for c in world.components(eid)]}

    def _query(self, world: World, args: dict[str, Any]) -> list[int]:
        types = args.get("types")
        if not isinstance(types, list) or not 1 <= len(types) <= MAX_QUERY_TYPES:
            raise RequestError(f"query: types, a list of 1 to {MAX_QUERY_TYPES} component type names")
        classes = tuple(_component_type(world, name) for name in types)
        limit = _limit(args)
        return [row[0] for row in world.query(*classes)[:limit]]

    def _get(self, world: World, args: dict[str, Any]) -> dict[str, Any] | None:
        eid = _entity_id(args)
        cls = _component_type(world, args.get("type"))
        component = world.get(eid, cls) if world.exists(eid) else None
        return component.to_data(only_changed=False, saved_only=False) if component is not None else None

    def _components(self, world: World, args: dict[str, Any]) -> dict[str, dict[str, Any]]:
        eid = _entity_id(args)
        if not world.exists(eid):
            raise RequestError(f"components: no entity {eid}")
        return {c.type_name: c.to_data(only_changed=False, saved_only=False) for c in world.components(eid)}

    def _transform(self, world: World, args: dict[str, Any]) -> dict[str, list[float]]:
        eid = _entity_id(args)
        if not world.exists(eid):
            raise RequestError(f"transform: no entity {eid}")
        node = world.node(eid)
        return {"pos": list(node.getPos()), "hpr": list(node.getHpr()), "scale": list(node.getScale())}

    def _schema(self, world: World, args: dict[str, Any]) -> dict[str, Any]:
        return component_schema(_component_type(world, args.get("type")), editable_only=False)

    # -- writing -------------------------------------------------------------------------------------
    def _command(self, args: dict[str, Any]) -> Any:
        try:
            return command_from_json(args.get("command"), source=f"plugin {self.plugin_id!r}")
        except CommandError as exc:
            raise CommandRefused(str(exc)) from None

    def _apply(self, world: World, args: dict[str, Any]) -> dict[str, Any]:
        command = self._command(args)
        try:
            inverse = world.apply(command)
        except CommandError as exc:
            raise CommandRefused(str(exc)) from None
        return command_to_json(inverse)

    def _post(self, world: World, args: dict[str, Any]) -> None:
        world.post(self._command(args))

    def _publish(self, args: dict[str, Any]) -> int:
        try:
            return self.bus.publish(args.get("type"), args.get("data", {}), source=self.plugin_id)
        except EventError as exc:
            raise RequestError(str(exc)) from None


def _limit(args: dict[str, Any]) -> int:
    value = args.get("limit", 10_000)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LIMIT:
        raise RequestError(f"limit: a whole number from 0 to {MAX_LIMIT}")
    return value


def _entity_id(args: dict[str, Any]) -> int:
    value = args.get("entity")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**53:
        raise RequestError(f"entity: an entity id (a whole number > 0), got {str(value)[:40]}")
    return value


def _component_type(world: World, name: Any) -> type[Component]:
    """A registered component class by name (never loads code: resolvers are not asked)."""
    if not isinstance(name, str) or len(name) > 200:
        raise RequestError("type: a component type name")
    cls = world.registry.get(name)
    if cls is None:
        raise RequestError(f"type: unknown component type {name!r}; known: {', '.join(world.registry.names())[:500]}")
    return cls
