"""Components that put things on screen: meshes, lights and the environment (cameras live in camera.py)."""
from __future__ import annotations

from engine.core.component import Component
from engine.core.fields import AssetRef, Bool, Color, Enum, Field, Float, Int

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001}  # a model file's unit -> metres


class MeshRenderer(Component):
    """Draws a model (a file from a pack or a ``primitive:*``) at the entity, tinted by ``color``."""

    model = Field(AssetRef("model"), "primitive:box", doc="the model to draw", replicate=True)
    unit = Field(Enum(tuple(UNITS)), "m", doc="the unit the model file is measured in: cm or mm scale it to metres")
    color = Field(Color(), (1.0, 1.0, 1.0, 1.0), doc="tint multiplied with the model's colours", replicate=True)
    roughness = Field(Float(0.0, 1.0), 0.8, doc="primitives: 0 = mirror-smooth, 1 = matte (files keep their own)")
    metallic = Field(Float(0.0, 1.0), 0.0, doc="primitives: 0 = plastic/wood/stone, 1 = metal (files keep their own)")
    cast_shadows = Field(Bool(), True, doc="whether the mesh casts shadows")
    visible = Field(Bool(), True, doc="hide without removing", replicate=True)


class Light(Component):
    """A light that lights the whole world from this entity's position and direction (+Y forward)."""

    kind = Field(Enum(("ambient", "directional", "point", "spot")), "directional", doc="the kind of light")
    color = Field(Color(), (1.0, 1.0, 1.0, 1.0), doc="light colour")
    intensity = Field(Float(0.0, 100.0), 1.0, doc="multiplies the colour")
    shadows = Field(Bool(), False, doc="casts shadows (directional, spot, and up to two point lights per world)")
    shadow_size = Field(Int(128, 8192), 1024, doc="shadow map size in pixels")
    shadow_extent = Field(Float(1.0, 1000.0), 30.0, doc="half-size of the area a directional shadow covers")
    range = Field(Float(0.1, 10000.0), 20.0, doc="distance at which a point or spot light fades out")
    spot_angle = Field(Float(1.0, 179.0), 45.0, doc="cone angle of a spot light in degrees")


class Environment(Component):
    """The world's sky, environment light, fog and exposure; one per world (the lowest id wins)."""

    sky = Field(Bool(), True, doc="draw a gradient sky behind everything")
    sky_top = Field(Color(), (0.22, 0.42, 0.8, 1.0), doc="sky colour straight up")
    sky_horizon = Field(Color(), (0.72, 0.8, 0.9, 1.0), doc="sky colour at the horizon")
    ground = Field(Color(), (0.32, 0.3, 0.27, 1.0), doc="colour below the horizon")
    environment_light = Field(Float(0.0, 10.0), 0.4, doc="how strongly the sky lights everything (image-based light)")
    fog = Field(Bool(), False, doc="fade distant things into the fog colour")
    fog_color = Field(Color(), (0.72, 0.8, 0.9, 1.0), doc="fog colour (match the horizon for a seamless look)")
    fog_density = Field(Float(0.0, 0.5), 0.004, doc="exponential fog density per metre: 0.002 light haze, 0.01 thick fog, 0.05 pea soup")
    exposure = Field(Float(-10.0, 10.0), 0.0, doc="camera exposure in stops (+1 = twice as bright)")
