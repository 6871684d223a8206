"""Simple motion behaviours for demo worlds: spin in place, bob up and down, orbit a point."""
from __future__ import annotations

import math

from engine.api import Behaviour, Field, Float, Vec3


class Spinner(Behaviour):
    """Turns the entity around its up axis."""

    speed = Field(Float(-3600.0, 3600.0), 90.0, doc="degrees per second (negative turns the other way)")

    def on_update(self, dt: float) -> None:
        self.node.setH(self.node.getH() + self.speed * dt)


class Bobber(Behaviour):
    """Moves the entity up and down around where it started."""

    height = Field(Float(0.0, 100.0), 0.5, doc="how far up and down, in metres")
    period = Field(Float(0.05, 600.0), 2.0, doc="seconds for one full cycle")

    def on_start(self) -> None:
        self._base_z = self.node.getZ()
        self._t = 0.0

    def on_update(self, dt: float) -> None:
        self._t += dt
        self.node.setZ(self._base_z + self.height * math.sin(2 * math.pi * self._t / self.period))


class Orbiter(Behaviour):
    """Circles the entity around a centre point in the XY plane."""

    center = Field(Vec3(), (0.0, 0.0, 1.0), doc="the point to circle around")
    radius = Field(Float(0.0, 10000.0), 3.0, doc="distance from the centre")
    speed = Field(Float(-3600.0, 3600.0), 45.0, doc="degrees per second")

    def on_start(self) -> None:
        self._angle = 0.0

    def on_update(self, dt: float) -> None:
        self._angle += math.radians(self.speed) * dt
        cx, cy, cz = self.center
        self.node.setPos(cx + self.radius * math.cos(self._angle), cy + self.radius * math.sin(self._angle), cz)
