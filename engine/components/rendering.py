"""Components that put things on screen: meshes and lights (cameras live in camera.py)."""
from __future__ import annotations

from engine.component import Component
from engine.fields import AssetRef, Bool, Color, Enum, Field, Float, Int


class MeshRenderer(Component):
    """Draws a model (a file from a pack or a ``primitive:*``) at the entity, tinted by ``color``."""

    model = Field(AssetRef("model"), "primitive:box", doc="the model to draw", replicate=True)
    color = Field(Color(), (1.0, 1.0, 1.0, 1.0), doc="tint multiplied with the model's colours", replicate=True)
    cast_shadows = Field(Bool(), True, doc="whether the mesh casts shadows")
    visible = Field(Bool(), True, doc="hide without removing", replicate=True)


class Light(Component):
    """A light that lights the whole world from this entity's position and direction (+Y forward)."""

    kind = Field(Enum(("ambient", "directional", "point", "spot")), "directional", doc="the kind of light")
    color = Field(Color(), (1.0, 1.0, 1.0, 1.0), doc="light colour")
    intensity = Field(Float(0.0, 100.0), 1.0, doc="multiplies the colour")
    shadows = Field(Bool(), False, doc="casts shadows (directional, point, spot)")
    shadow_size = Field(Int(128, 8192), 1024, doc="shadow map size in pixels")
    shadow_extent = Field(Float(1.0, 1000.0), 30.0, doc="half-size of the area a directional shadow covers")
    range = Field(Float(0.1, 10000.0), 20.0, doc="distance at which a point or spot light fades out")
    spot_angle = Field(Float(1.0, 179.0), 45.0, doc="cone angle of a spot light in degrees")
