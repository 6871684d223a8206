"""The World's event bus and the events the engine itself emits."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

E = TypeVar("E")


@dataclass(frozen=True)
class EntityCreated:
    entity: int


@dataclass(frozen=True)
class EntityDestroyed:
    """Sent once per destroyed entity, after its components were removed."""

    entity: int
    name: str


@dataclass(frozen=True)
class ComponentAdded:
    entity: int
    component: Any


@dataclass(frozen=True)
class ComponentRemoved:
    entity: int
    component: Any


@dataclass(frozen=True)
class FieldChanged:
    """A field changed through ``World.set_field`` (editor, network, file reload)."""

    entity: int
    component: Any
    field: str


@dataclass(frozen=True)
class TransformChanged:
    """An entity's local transform was set by a command (simulation moves are not announced)."""

    entity: int


@dataclass(frozen=True)
class EntityReparented:
    """An entity moved under another parent (0: the world root)."""

    entity: int
    old_parent: int
    parent: int


@dataclass(frozen=True)
class CommandApplied:
    """A command was applied through ``World.apply`` (recorders, replication and the editor listen)."""

    command: Any
    inverse: Any


class EventBus:
    """Publish/subscribe by event class. Handlers run synchronously, in subscription order."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler`` for each event of ``event_type``; returns a function that unsubscribes."""
        self._handlers[event_type].append(handler)

        def unsubscribe() -> None:
            handlers = self._handlers.get(event_type, [])
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    def emit(self, event: Any) -> None:
        handlers = self._handlers.get(type(event))
        if handlers:
            for handler in list(handlers):
                handler(event)

    def has_subscribers(self, event_type: type) -> bool:
        return bool(self._handlers.get(event_type))
