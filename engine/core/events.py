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
    """Publish/subscribe by event class. Handlers run synchronously, in subscription order.

    A handler may ask for component events (those with a ``component``) of some component
    classes only; the bus then calls it for those alone, from a dispatch list it keeps per
    (event class, component class), so a world with many systems pays for the ones that care.
    """

    def __init__(self) -> None:
        self._handlers: dict[type, list[tuple[Callable[[Any], None], tuple[type, ...] | None]]] = defaultdict(list)
        self._plans: dict[Any, list[Callable[[Any], None]]] = {}

    def subscribe(self, event_type: type[E], handler: Callable[[E], None],
                  only: tuple[type, ...] | None = None) -> Callable[[], None]:
        """Call ``handler`` for each event of ``event_type`` (with ``only``: whose ``component`` is
        an instance of one of those classes); returns a function that unsubscribes."""
        entry = (handler, tuple(only) if only is not None else None)
        self._handlers[event_type].append(entry)
        self._plans.clear()

        def unsubscribe() -> None:
            handlers = self._handlers.get(event_type, [])
            if entry in handlers:
                handlers.remove(entry)
                self._plans.clear()

        return unsubscribe

    def emit(self, event: Any) -> None:
        kind = type(event)
        component = getattr(event, "component", None)
        key = (kind, type(component))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = [handler for handler, only in self._handlers.get(kind, ())
                                       if only is None or isinstance(component, only)]
        for handler in plan:
            handler(event)

    def has_subscribers(self, event_type: type) -> bool:
        return bool(self._handlers.get(event_type))
