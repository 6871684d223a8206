"""A procedural sky: a gradient cube map (zenith, horizon, ground) drawn behind everything.

The same cube map lights the world (simplepbr's image-based light), so a blue sky tints shadows
blue and a red dusk warms everything, without an image file.
"""
from __future__ import annotations

import numpy as np
from panda3d.core import BitMask32, NodePath, Texture

from engine.render.colors import srgb_to_linear

# Direction of each texel of each face, per the OpenGL cube map table (+X, -X, +Y, -Y, +Z, -Z).
_FACES = (
    lambda sc, tc: (np.ones_like(sc), -tc, -sc),
    lambda sc, tc: (-np.ones_like(sc), -tc, sc),
    lambda sc, tc: (sc, np.ones_like(sc), tc),
    lambda sc, tc: (sc, -np.ones_like(sc), -tc),
    lambda sc, tc: (sc, -tc, np.ones_like(sc)),
    lambda sc, tc: (-sc, -tc, -np.ones_like(sc)),
)


def sky_colours(up: np.ndarray, top: tuple[float, ...], horizon: tuple[float, ...],
                ground: tuple[float, ...]) -> np.ndarray:
    """RGB for directions whose world-up component is ``up`` (-1..1): a smooth sky, a quick fall to ground."""
    top_a, horizon_a, ground_a = (np.asarray(c[:3], dtype=np.float32) for c in (top, horizon, ground))
    sky_t = np.sqrt(np.clip(up, 0.0, 1.0))[..., None]
    ground_t = np.clip(-up * 8.0, 0.0, 1.0)[..., None]
    return np.where(up[..., None] >= 0.0, horizon_a + (top_a - horizon_a) * sky_t,
                    horizon_a + (ground_a - horizon_a) * ground_t)


def sky_cubemap(top: tuple[float, ...], horizon: tuple[float, ...], ground: tuple[float, ...],
                size: int = 32, scale: float = 1.0, linear: bool = False) -> Texture:
    """A ``size``-pixel cube map of the gradient (sRGB colours in), Panda3D's +Z up.

    For showing, texels stay sRGB and the texture says so (the GPU decodes them); with
    ``linear`` they are stored in linear light times ``scale``, for lighting maths on the CPU.
    """
    if linear:
        top, horizon, ground = (srgb_to_linear(c[:3]) for c in (top, horizon, ground))
    texture = Texture("storm-sky")
    texture.setupCubeMap(size, Texture.T_unsigned_byte, Texture.F_rgb if linear else Texture.F_srgb)
    centres = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    sc, tc = np.meshgrid(centres, centres)  # rows follow t, as OpenGL stores them
    faces = []
    for direction in _FACES:
        x, y, z = direction(sc, tc)
        up = z / np.sqrt(x * x + y * y + z * z)
        rgb = np.clip(sky_colours(up, top, horizon, ground) * (scale if linear else 1.0), 0.0, 1.0)
        faces.append((rgb[..., ::-1] * 255.0 + 0.5).astype(np.uint8))  # Panda3D stores BGR
    texture.setRamImage(np.stack(faces).tobytes())
    texture.setWrapU(Texture.WM_clamp)
    texture.setWrapV(Texture.WM_clamp)
    texture.setMinfilter(Texture.FT_linear)
    texture.setMagfilter(Texture.FT_linear)
    return texture


def sky_node(cubemap: Texture, hidden_from: BitMask32) -> NodePath:
    """A screen-filling quad that shows the cube map in every view direction, drawn first.

    ``hidden_from`` are the camera bits (shadow cameras) that must not see it.
    """
    from simplepbr.utils import make_skybox

    node = make_skybox(cubemap)
    node.setName("sky")
    node.hide(hidden_from)
    return node
