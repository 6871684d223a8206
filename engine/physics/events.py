"""Events the physics system emits on ``world.events`` and hands to behaviours."""
from __future__ import annotations

from dataclasses import dataclass

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class Collision:
    """Two bodies started touching during the last step.

    ``point`` is where (world space), ``normal`` points from ``entity_b`` towards ``entity_a``,
    ``impulse`` is the total impulse (newton-seconds) the solver applied between them on that
    step. A behaviour's ``on_collision`` receives a copy with its own entity as ``entity_a``.
    """

    entity_a: int
    entity_b: int
    point: Vec
    normal: Vec
    impulse: float

    def flipped(self) -> "Collision":
        """The same contact seen from ``entity_b``."""
        nx, ny, nz = self.normal
        return Collision(self.entity_b, self.entity_a, self.point, (-nx, -ny, -nz), self.impulse)


@dataclass(frozen=True)
class CollisionEnded:
    """Two bodies that touched no longer do (``on_collision_end`` on behaviours)."""

    entity_a: int
    entity_b: int


@dataclass(frozen=True)
class TriggerEntered:
    """``entity`` (a body or character) entered the trigger volume of ``trigger``."""

    trigger: int
    entity: int


@dataclass(frozen=True)
class TriggerExited:
    """``entity`` left the trigger volume of ``trigger`` (or stopped existing while inside)."""

    trigger: int
    entity: int
