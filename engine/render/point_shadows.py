"""Shadows from point lights: a cube map of distances to the light, rendered from its position.

simplepbr gives shadows to directional and spot lights only. For a point light with shadows,
Storm renders the distance from the light to everything around it into a six-face cube map
(``GraphicsOutput.makeCubeMap``) with a tiny shader, and the PBR fragment shader (see
``engine/render/pbr_pipeline.py``) compares each fragment's distance with it. Such lights get the
highest light priorities, so they come first in ``p3d_LightSource`` and the shader knows which
light each cube map belongs to. At most ``MAX_POINT_SHADOWS`` point lights cast shadows.
"""
from __future__ import annotations

from typing import Any

from panda3d.core import (
    BitMask32,
    CullFaceAttrib,
    FrameBufferProperties,
    LVecBase4f,
    NodePath,
    PTA_LVecBase4f,
    RenderState,
    SamplerState,
    Shader,
    ShaderAttrib,
    Texture,
)

MAX_POINT_SHADOWS = 2
POINT_SHADOW_PRIORITY = 1000  # above any light a world sets: shadowed point lights come first
LIGHT_SHADOW_CAMERAS = BitMask32.bit(1)  # the shadow cameras of directional and spot lights
POINT_SHADOW_CAMERAS = BitMask32.bit(2)  # the cube map cameras of point lights (a terrain hides from these alone)
SHADOW_CAMERAS = LIGHT_SHADOW_CAMERAS | POINT_SHADOW_CAMERAS  # every shadow camera: a mesh casting no shadow hides from it

_VERTEX = """#version 120
uniform mat4 p3d_ModelViewProjectionMatrix;
uniform mat4 p3d_ModelMatrix;
attribute vec4 p3d_Vertex;
varying vec3 v_world;
void main() {
    v_world = (p3d_ModelMatrix * p3d_Vertex).xyz;
    gl_Position = p3d_ModelViewProjectionMatrix * p3d_Vertex;
}
"""
_FRAGMENT = """#version 120
uniform vec4 storm_light;  // xyz: the light's world position, w: its range
varying vec3 v_world;
void main() {
    gl_FragColor = vec4(length(v_world - storm_light.xyz) / storm_light.w, 0.0, 0.0, 1.0);
}
"""

# GLSL added to simplepbr's fragment shader: the uniforms and the lookup.
FRAGMENT_DECLARATIONS = """
uniform int storm_point_count;
uniform vec4 storm_point_light[2];
uniform samplerCube storm_point_map0;
uniform samplerCube storm_point_map1;
float storm_point_shadow(samplerCube distances, vec4 light, vec3 normal) {
    // look up from a point nudged off the surface along its normal (by about two texels of a
    // 256-pixel map at that distance): surfaces the light grazes do not shadow themselves
    float distance = length(v_world_position - light.xyz);
    vec3 to_fragment = v_world_position + normal * (0.02 * distance) - light.xyz;
    float nearest = textureCubeLod(distances, to_fragment, 0.0).r * light.w;  // level 0: the map has no mipmaps
    return (distance < light.w && length(to_fragment) - 0.02 - 0.01 * distance > nearest) ? 0.0 : 1.0;
}
"""


class PointShadowMap:
    """The distance cube map of one point light, re-rendered every frame by six cameras."""

    def __init__(self, window: Any, light: NodePath, size: int, light_range: float, hidden_from: BitMask32) -> None:
        fbp = FrameBufferProperties()
        fbp.setFloatColor(True)
        fbp.setRgbaBits(32, 0, 0, 0)
        fbp.setDepthBits(24)
        self.rig = light.attachNewNode("point-shadow-rig")
        self.buffer = window.makeCubeMap("storm-point-shadow", size, self.rig, hidden_from, False, fbp)
        if self.buffer is None:
            raise RuntimeError("the display cannot render a cube map for point light shadows")
        self.buffer.setSort(-30)  # before the scene is drawn
        for index in range(self.buffer.getNumDisplayRegions()):
            # every face clears its own colour (nothing there: as far as the range reaches) and its
            # depth; the six faces share one depth buffer, so without this a face would be
            # depth-tested against the face drawn before it
            region = self.buffer.getDisplayRegion(index)
            region.setClearColorActive(True)
            region.setClearColor((1.0, 1.0, 1.0, 1.0))
            region.setClearDepthActive(True)
        self.texture: Texture = self.buffer.getTexture()
        self.texture.setMinfilter(SamplerState.FT_nearest)
        self.texture.setMagfilter(SamplerState.FT_nearest)
        self.light = light
        self.range = light_range
        self._shader = Shader.make(Shader.SL_GLSL, _VERTEX, _FRAGMENT)
        self._placed: LVecBase4f | None = None
        for camera in self.rig.getChildren():  # makeCubeMap turns them the way OpenGL reads the faces
            camera.node().getLens().setNearFar(0.05, light_range)
        self.update()

    def vector(self) -> LVecBase4f:
        """The light's world position and range, as the shaders read them."""
        pos = self.light.getPos(self.light.getTop())
        return LVecBase4f(pos.x, pos.y, pos.z, self.range)

    def update(self) -> None:
        """Tell the six cameras where the light is, when it moved."""
        placed = self.vector()
        if placed == self._placed:
            return
        self._placed = placed
        state = RenderState.make(ShaderAttrib.make(self._shader, 1).setShaderInput("storm_light", placed),
                                 CullFaceAttrib.make(CullFaceAttrib.M_cull_none), 1)  # the nearest surface, either side
        for camera in self.rig.getChildren():
            camera.node().setInitialState(state)

    def destroy(self) -> None:
        self.buffer.getEngine().removeWindow(self.buffer)
        self.rig.removeNode()


def empty_cube_map() -> Texture:
    """A 1-pixel cube map bound where no point light casts shadows (every sampler needs a texture)."""
    texture = Texture("storm-no-point-shadow")
    texture.setupCubeMap(1, Texture.T_float, Texture.F_r32)
    texture.setClearColor((1.0, 1.0, 1.0, 1.0))
    return texture


class PointShadows:
    """Keeps one PointShadowMap per shadowed point light a RenderSystem lists, and hands their
    cube maps and positions to the PBR shader through shader inputs on the world's root."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.maps: dict[int, PointShadowMap] = {}
        self._empty = empty_cube_map()
        self._root: NodePath | None = None
        self._version = -1

    def sync(self, root: NodePath, lights: list[tuple[int, NodePath, int, float]], version: int) -> None:
        """Build or drop cube maps when the list of lights changed, follow moved lights, bind inputs."""
        if root is not self._root or version != self._version:
            self._root, self._version = root, version
            wanted = {eid: (node, size, reach) for eid, node, size, reach in lights[:MAX_POINT_SHADOWS]}
            for eid in list(self.maps):
                shadow = self.maps[eid]
                if eid not in wanted or wanted[eid][0] != shadow.light or shadow.range != wanted[eid][2]:
                    self.maps.pop(eid).destroy()
            for eid, (node, size, reach) in wanted.items():
                if eid not in self.maps:
                    self.maps[eid] = PointShadowMap(self.window, node, size, reach, POINT_SHADOW_CAMERAS)
        ordered = [self.maps[eid] for eid, *_rest in lights if eid in self.maps]
        for shadow in ordered:
            shadow.update()
        root.setShaderInput("storm_point_count", len(ordered))
        vectors = [shadow.vector() for shadow in ordered] + [LVecBase4f(0, 0, 0, 1)] * MAX_POINT_SHADOWS
        root.setShaderInput("storm_point_light", PTA_LVecBase4f(vectors[:MAX_POINT_SHADOWS]))
        for k in range(MAX_POINT_SHADOWS):
            root.setShaderInput(f"storm_point_map{k}", ordered[k].texture if k < len(ordered) else self._empty)

    def destroy(self) -> None:
        for shadow in self.maps.values():
            shadow.destroy()
        self.maps.clear()
