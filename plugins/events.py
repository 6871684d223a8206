"""The plugin event bus: typed events between the engine and plugins, in bounded queues.

An event type has a name (``storm:entity_created`` for the engine's own, ``<pack id>:<name>``
for a plugin's) and declared fields; ``publish`` checks the data against them, so a subscriber
never sees a shape it did not sign up for. Each subscriber has its own queue of ``capacity``
events: a slow subscriber (a sandboxed plugin that takes long per tick) cannot make memory grow
without bound. When its queue is full the oldest event is dropped and counted; the next delivery
starts with a ``storm:events_dropped`` event saying how many, the host logs a warning naming
the subscriber, and ``stats()`` keeps the totals.
"""
from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from engine.core.errors import FieldError
from engine.core.fields import FieldType, Int, Str

log = logging.getLogger("storm.plugins")
DEFAULT_CAPACITY = 256
MAX_EVENT_BYTES = 64 * 1024
DROPPED = "storm:events_dropped"


class EventError(ValueError):
    """An event or subscription the bus refuses: names the event type and what was expected."""


class JsonValue(FieldType):
    """Any JSON value of at most ``MAX_EVENT_BYTES`` bytes (event fields of type ``json``)."""

    name = "json"

    def describe(self) -> str:
        return f"JSON data of at most {MAX_EVENT_BYTES} bytes"

    def validate(self, value: Any) -> Any:
        try:
            size = len(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError, RecursionError):
            raise FieldError(self.describe(), value) from None
        if size > MAX_EVENT_BYTES:
            raise FieldError(self.describe(), f"{size} bytes")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class EventType:
    """A declared event type: its name, its fields (name -> type) and who declared it."""

    name: str
    fields: Mapping[str, FieldType]
    owner: str


@dataclass(frozen=True)
class Event:
    """One event as subscribers get it: JSON-ready ``data``; ``source`` is who published it."""

    type: str
    data: dict[str, Any]
    source: str
    size: int = 0  # bytes of its data as JSON (the host batches deliveries by size)


@dataclass
class Subscription:
    """One subscriber's queue and counters."""

    subscriber: str
    types: frozenset[str]
    capacity: int
    queue: deque[Event] = field(default_factory=deque)
    delivered: int = 0
    dropped: int = 0
    dropped_unreported: int = 0


ENGINE = "storm"
ENGINE_EVENTS = (
    EventType("storm:entity_created", {"entity": Int(0)}, ENGINE),
    EventType("storm:entity_destroyed", {"entity": Int(0), "name": Str(1000)}, ENGINE),
    EventType("storm:component_added", {"entity": Int(0), "type": Str(200)}, ENGINE),
    EventType("storm:component_removed", {"entity": Int(0), "type": Str(200)}, ENGINE),
    EventType("storm:field_changed", {"entity": Int(0), "type": Str(200), "field": Str(200)}, ENGINE),
    EventType("storm:command_applied", {"command": JsonValue()}, ENGINE),
    EventType(DROPPED, {"count": Int(0)}, ENGINE),
)


class PluginEventBus:
    """Typed events, one bounded queue per subscriber. Not thread-safe: the tick owns it."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._types: dict[str, EventType] = {t.name: t for t in ENGINE_EVENTS}
        self._subscriptions: dict[str, Subscription] = {}
        self._by_type: dict[str, list[Subscription]] = {}

    def declare(self, event_type: EventType) -> None:
        """Add an event type; a name another owner declared is refused."""
        known = self._types.get(event_type.name)
        if known is not None and known.owner != event_type.owner:
            raise EventError(f"event type {event_type.name!r} is already declared by {known.owner!r}")
        self._types[event_type.name] = event_type

    def forget(self, owner: str) -> None:
        """Remove the event types an owner declared (a plugin that stopped)."""
        self._types = {name: t for name, t in self._types.items() if t.owner != owner or owner == ENGINE}

    def subscribe(self, subscriber: str, types: Iterable[str], capacity: int | None = None) -> Subscription:
        """Queue events of ``types`` for ``subscriber`` (replacing its earlier subscription).
        Types not declared yet are accepted: a plugin may load before the one that publishes them."""
        self.unsubscribe(subscriber)
        subscription = Subscription(subscriber, frozenset(types), capacity or self.capacity)
        self._subscriptions[subscriber] = subscription
        for name in subscription.types:
            self._by_type.setdefault(name, []).append(subscription)
        return subscription

    def unsubscribe(self, subscriber: str) -> None:
        old = self._subscriptions.pop(subscriber, None)
        if old is not None:
            for name in old.types:
                self._by_type[name] = [s for s in self._by_type.get(name, []) if s is not old]

    def wants(self, type_name: str) -> bool:
        """Whether anyone subscribed to this type (the engine bridge asks before building an event)."""
        return bool(self._by_type.get(type_name))

    def publish(self, type_name: Any, data: Any, source: str) -> int:
        """Check ``data`` against the type's fields and queue it for each subscriber; returns how
        many queues got it. Raises EventError for an unknown type, a type of another owner or bad data."""
        event_type = self._types.get(type_name) if isinstance(type_name, str) else None
        if event_type is None:
            raise EventError(f"an event type declared with storm_event_types, got {str(type_name)[:80]!r}")
        if event_type.owner != source and source != ENGINE:
            raise EventError(f"event type {type_name!r} belongs to {event_type.owner!r}; only it may publish it")
        checked = self._check(event_type, data)
        event = Event(type_name, checked, source, len(json.dumps(checked)) + len(type_name) + len(source))
        subscribers = self._by_type.get(type_name, ())
        for subscription in subscribers:
            queue = subscription.queue
            if len(queue) >= subscription.capacity:
                queue.popleft()
                subscription.dropped += 1
                subscription.dropped_unreported += 1
            queue.append(event)
        return len(subscribers)

    def _check(self, event_type: EventType, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise EventError(f"{event_type.name}: data as an object of {', '.join(event_type.fields) or 'no fields'}")
        unknown = [key for key in data if key not in event_type.fields]
        if unknown:
            raise EventError(f"{event_type.name}: no field {str(unknown[0])[:60]!r}; fields are "
                             f"{', '.join(event_type.fields) or 'none'}")
        out: dict[str, Any] = {}
        for name, kind in event_type.fields.items():
            if name not in data:
                raise EventError(f"{event_type.name}: field {name!r} is missing ({kind.describe()})")
            try:
                out[name] = kind.to_data(kind.validate(data[name]))
            except FieldError as exc:
                raise EventError(f"{event_type.name}.{name}: {exc}") from None
        return out

    def drain(self, subscriber: str) -> list[Event]:
        """The subscriber's queued events, oldest first, after a ``storm:events_dropped`` event
        when some were lost since the last drain."""
        subscription = self._subscriptions.get(subscriber)
        if subscription is None or (not subscription.queue and not subscription.dropped_unreported):
            return []
        events = list(subscription.queue)
        subscription.queue.clear()
        if subscription.dropped_unreported:
            lost = subscription.dropped_unreported
            subscription.dropped_unreported = 0
            log.warning("event subscriber %r is too slow: %d events were dropped (queue of %d; %d in all)",
                        subscriber, lost, subscription.capacity, subscription.dropped)
            events.insert(0, Event(DROPPED, {"count": lost}, ENGINE))
        subscription.delivered += len(events)
        return events

    def stats(self) -> dict[str, dict[str, int]]:
        """Per subscriber: events ``delivered``, ``dropped`` in all, ``queued`` now, ``capacity``."""
        return {name: {"delivered": s.delivered, "dropped": s.dropped, "queued": len(s.queue), "capacity": s.capacity}
                for name, s in self._subscriptions.items()}
