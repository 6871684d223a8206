"""The Camera component: a viewpoint the screen can show."""
from __future__ import annotations

from engine.component import Component
from engine.fields import Bool, Field, Float, Int


class Camera(Component):
    """A viewpoint; the active one with the highest priority is what the screen shows."""

    fov = Field(Float(10.0, 170.0), 60.0, doc="horizontal field of view in degrees")
    near = Field(Float(0.001, 100.0), 0.1, doc="near clip distance")
    far = Field(Float(1.0, 100000.0), 1000.0, doc="far clip distance")
    active = Field(Bool(), True, doc="can be the view")
    priority = Field(Int(-100, 100), 0, doc="the highest-priority active camera wins")
