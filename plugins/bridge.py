"""The engine's world events, published on the plugin bus as ``storm:*`` events.

Only the kinds some plugin subscribed to are listened to: a world with no interested plugin pays
nothing per component event (the engine's event bus filters per subscriber for the same reason).
"""
from __future__ import annotations

from typing import Any, Callable

from engine.core.commands import command_to_json
from engine.core.events import (
    CommandApplied,
    ComponentAdded,
    ComponentRemoved,
    EntityCreated,
    EntityDestroyed,
    FieldChanged,
)
from engine.core.world import World
from plugins.events import ENGINE, PluginEventBus

# engine event class -> (bus event type, event -> data)
BRIDGED: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    EntityCreated: ("storm:entity_created", lambda e: {"entity": e.entity}),
    EntityDestroyed: ("storm:entity_destroyed", lambda e: {"entity": e.entity, "name": e.name}),
    ComponentAdded: ("storm:component_added", lambda e: {"entity": e.entity, "type": e.component.type_name}),
    ComponentRemoved: ("storm:component_removed", lambda e: {"entity": e.entity, "type": e.component.type_name}),
    FieldChanged: ("storm:field_changed", lambda e: {"entity": e.entity, "type": e.component.type_name,
                                                     "field": e.field}),
    CommandApplied: ("storm:command_applied", lambda e: {"command": command_to_json(e.command)}),
}


class WorldBridge:
    """Forwards one world's events to the bus, for the kinds the bus has subscribers for."""

    def __init__(self, world: World, bus: PluginEventBus) -> None:
        self.world = world
        self.bus = bus
        self._unsubscribe: dict[type, Callable[[], None]] = {}

    def update(self) -> None:
        """Listen to the kinds wanted now, stop listening to the others (after plugins (re)started)."""
        for kind, (name, convert) in BRIDGED.items():
            wanted = self.bus.wants(name)
            if wanted and kind not in self._unsubscribe:
                self._unsubscribe[kind] = self.world.events.subscribe(kind, self._forwarder(name, convert))
            elif not wanted and kind in self._unsubscribe:
                self._unsubscribe.pop(kind)()

    def _forwarder(self, name: str, convert: Callable[[Any], dict[str, Any]]) -> Callable[[Any], None]:
        bus = self.bus

        def forward(event: Any) -> None:
            bus.publish(name, convert(event), ENGINE)

        return forward

    def close(self) -> None:
        for unsubscribe in self._unsubscribe.values():
            unsubscribe()
        self._unsubscribe.clear()
