"""Systems: the per-tick work of a World, run in a declared order."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

if TYPE_CHECKING:
    from engine.core.world import World

# The tick order from DESIGN.md; plugins slot their systems between these numbers.
ORDER_INPUT = 100
ORDER_SCRIPTS = 200
ORDER_AI = 250
ORDER_PHYSICS = 300
ORDER_ANIMATION = 350
ORDER_CAMERA = 380  # follow and orbit cameras, placed after physics and animation moved their targets
ORDER_AUDIO = 400
ORDER_REPLICATION = 500


class System:
    """One step of the tick. ``order`` places it; equal orders keep the order they were added in."""

    name: ClassVar[str] = "system"
    order: ClassVar[int] = ORDER_SCRIPTS

    def attach(self, world: "World") -> None:
        """Called once when added to a world: subscribe to events, build caches."""

    def detach(self, world: "World") -> None:
        """Called once when removed from the world or the world closes."""

    def update(self, world: "World", dt: float) -> None:
        """Advance by one fixed tick of ``dt`` seconds."""

    def save_state(self, world: "World") -> Any:
        """Simulation state this system keeps outside components, for ``World.snapshot``
        (None: nothing). Must be independent of later ticks: copy, do not alias."""
        return None

    def load_state(self, world: "World", state: Any) -> None:
        """Put back what ``save_state`` returned; ``World.restore`` calls it after the world's
        entities, components and transforms are back."""

    def listen(self, world: "World", handlers: Mapping[type, Callable[[Any], None]],
               components: tuple[type, ...] | None = None) -> None:
        """Subscribe ``handlers`` (event type -> callable) to the world's events until
        ``stop_listening``; ``components`` limits component events (added, removed, field
        changed) to those component classes. A ComponentAdded handler first receives every
        matching component already in the world, so a system added to a populated world catches up."""
        from engine.core.events import ComponentAdded, ComponentRemoved, FieldChanged

        filtered = (ComponentAdded, ComponentRemoved, FieldChanged)
        self._subscriptions = [world.events.subscribe(kind, handler, components if kind in filtered else None)
                               for kind, handler in handlers.items()]
        added = handlers.get(ComponentAdded)
        if added is not None:
            for event in world.existing_components():
                if components is None or isinstance(event.component, components):
                    added(event)

    def stop_listening(self) -> None:
        """End the subscriptions ``listen`` made (safe to call twice)."""
        for unsubscribe in getattr(self, "_subscriptions", ()):
            unsubscribe()
        self._subscriptions = []
