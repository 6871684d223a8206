"""World-wide settings: the ``settings`` block of a world file, kept as ``world.settings["world"]``."""
from __future__ import annotations

from engine.core.component import Component
from engine.core.fields import Color, Field, Float, Int, Str, Vec3


class WorldSettings(Component):
    """World-wide settings stored in the file's ``settings`` block."""

    seed = Field(Int(0, 2**31 - 1), 0, doc="seed of the world's random source")
    tick_rate = Field(Float(1.0, 1000.0), 60.0, doc="fixed simulation ticks per second", unit="Hz")
    background = Field(Color(), (0.5, 0.6, 0.7, 1.0), doc="colour behind everything")
    description = Field(Str(2000), "", doc="what this world is, for people browsing worlds")
    gravity = Field(Vec3(-1000.0, 1000.0), (0.0, 0.0, -9.81), doc="world gravity (Z is up)", unit="m/s^2")
