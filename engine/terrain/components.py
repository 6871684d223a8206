"""The Terrain component: ground drawn and collided from a grey heightmap image."""
from __future__ import annotations

from engine.core.component import Component
from engine.core.fields import AssetRef, Bool, Color, Enum, Field, Int, Vec3, Vector

BLEND_MODES = ("none", "slope", "height")
MAX_GRID_LIMIT = 4097


class Terrain(Component):
    """A ground surface from a grey heightmap image (8- or 16-bit PNG, white = ``size`` z high).

    The image spreads over ``size`` x and y, centred on the entity; black is the entity's own
    height, row 0 of the image is the far (+Y) edge. It is drawn as one mesh with vertex colours
    and, with ``collide``, is also a static physics surface built from the very same triangles.
    """

    heightmap = Field(AssetRef("image"), "base:terrain/demo_height.png",
                      doc="grey image asset id such as 'pack:terrain/height.png' (8- or 16-bit PNG)")
    size = Field(Vec3(0.0, 1e5), (96.0, 96.0, 12.0),
                 doc="x and y extent in metres, and the height of white (black is the entity's height)")
    max_grid = Field(Int(2, MAX_GRID_LIMIT), 513,
                     doc="most grid points along a side; bigger images are sampled down (drawing and collision alike)")
    color = Field(Color(), (0.35, 0.5, 0.3, 1.0), doc="ground colour")
    blend_color = Field(Color(), (0.52, 0.48, 0.42, 1.0), doc="second colour, blended in by slope or height")
    blend = Field(Enum(BLEND_MODES), "slope",
                  doc="none: color only; slope: blend_color on steep ground; height: blend_color on high ground")
    blend_range = Field(Vector(2, 0.0, 1e5), (20.0, 35.0),
                        doc="where the blend goes from color to blend_color: degrees of slope, or metres of height")
    point_shadows = Field(Bool(), False,
                          doc="cast point lights' shadows too (off: a lantern's six-face shadow map skips the ground; "
                              "the sun's shadow always has it)", group="rendering")
    collide = Field(Bool(), True, doc="a static physics surface matching the drawn one")
    layer = Field(Int(0, 31), 0, doc="collision layer of the surface (it collides with every layer)", group="collision")
