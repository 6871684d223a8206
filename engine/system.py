"""Systems: the per-tick work of a World, run in a declared order."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from engine.world import World

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
