"""The 3D view's own Panda3D outputs, beside the App's window (which the full renderer draws into
through simplepbr's post pass):

* ``EditPass``: edit shading's one pass. A camera riding on the App's camera (same lens) draws the
  scene straight into an 8-bit sRGB buffer (the GPU encodes the linear colours on the way, as
  simplepbr's post pass would): no post pass, no float scene buffer, no shadow maps.
* ``ViewCopy``: a full-screen pass from the shaded image (the App's window or the edit pass) into
  a buffer that is read back: rows flipped (top row first, as Dear PyGui reads), 32-bit float
  (``float``) or 8-bit (``byte``) channels, red and blue swapped for Panda3D's own RAM copy
  (``swap``: it reads back BGRA), sRGB re-encoded when the source is an sRGB texture (sampling
  one decodes it).
"""
from __future__ import annotations

from panda3d.core import Camera as PandaCamera
from panda3d.core import (
    CardMaker,
    FrameBufferProperties,
    GraphicsOutput,
    GraphicsPipe,
    NodePath,
    OrthographicLens,
    Shader,
    Texture,
    WindowProperties,
)

from engine.host.app import App

EDIT_SORT = -5     # after shadow maps and simplepbr's scene buffer, before the copy
COPY_SORT = 100    # after everything else

_VERTEX = """#version 130
in vec4 p3d_Vertex;
in vec2 p3d_MultiTexCoord0;
uniform mat4 p3d_ModelViewProjectionMatrix;
out vec2 uv;
void main() {
    gl_Position = p3d_ModelViewProjectionMatrix * p3d_Vertex;
    uv = vec2(p3d_MultiTexCoord0.x, 1.0 - p3d_MultiTexCoord0.y);  // rows read back top first
}
"""
_FRAGMENT = """#version 130
uniform sampler2D p3d_Texture0;
uniform float swap;     // 1: red and blue swapped (Panda3D reads back BGRA: RGBA in memory)
uniform float encode;   // 1: the source is sRGB (sampling decoded it): encode again
in vec2 uv;
out vec4 colour;
void main() {
    vec4 c = texture(p3d_Texture0, uv);
    vec3 srgb = mix(c.rgb * 12.92, 1.055 * pow(c.rgb, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c.rgb));
    c.rgb = mix(c.rgb, srgb, encode);
    colour = mix(c, c.bgra, swap);
}
"""


def _buffer(app: App, name: str, sort: int, props: FrameBufferProperties, size: tuple[int, int]) -> GraphicsOutput:
    base = app.base
    buffer = base.graphicsEngine.makeOutput(base.pipe, name, sort, props, WindowProperties.size(*size),
                                            GraphicsPipe.BFRefuseWindow, base.win.getGsg(), base.win)
    if buffer is None:
        raise RuntimeError(f"this OpenGL driver gives no offscreen buffer for the editor view ({props})")
    return buffer


class EditPass:
    """Edit shading's buffer: the scene from the App's camera in one pass, 8-bit sRGB colour."""

    def __init__(self, app: App, size: tuple[int, int]) -> None:
        base = app.base
        self.app = app
        props = FrameBufferProperties()
        props.setRgbaBits(8, 8, 8, 8)
        props.setDepthBits(24)
        props.setSrgbColor(True)
        self.buffer = _buffer(app, "editor-edit", EDIT_SORT, props, size)
        self.texture = Texture("editor-edit-scene")
        self.buffer.addRenderTexture(self.texture, GraphicsOutput.RTMBindOrCopy, GraphicsOutput.RTPColor)
        self.srgb = self.buffer.getFbProperties().getSrgbColor()
        self.buffer.setClearColorActive(True)
        self.buffer.setClearDepthActive(True)
        camera = PandaCamera("editor-edit-camera")
        camera.setLens(base.camLens)   # the App's lens itself: fov, aspect and near/far follow
        camera.setScene(base.render)
        self.camera = base.cam.attachNewNode(camera)
        self.buffer.makeDisplayRegion().setCamera(self.camera)
        self.buffer.setActive(False)

    def prepare(self) -> None:
        """Before a frame: the App's background colour (the world sets it on the App's window)."""
        self.buffer.setClearColor(self.app.base.win.getClearColor())

    def resize(self, size: tuple[int, int]) -> None:
        self.buffer.setSize(*size)

    def destroy(self) -> None:
        self.buffer.clearRenderTextures()
        self.app.base.graphicsEngine.removeWindow(self.buffer)
        self.camera.removeNode()


class ViewCopy:
    """The pass into the buffer that is read back (see the module docstring)."""

    def __init__(self, app: App, size: tuple[int, int], mode: str, source: Texture, *, swap: bool, ram: bool) -> None:
        self.app = app
        self.mode = mode
        props = FrameBufferProperties()
        if mode == "float":
            props.setRgbaBits(32, 32, 32, 32)
            props.setFloatColor(True)
        else:
            props.setRgbaBits(8, 8, 8, 8)
        props.setDepthBits(0)
        self.buffer = _buffer(app, "editor-view", COPY_SORT, props, size)
        self.texture = Texture("editor-view")
        if mode == "float":
            self.texture.setup2dTexture(size[0], size[1], Texture.T_float, Texture.F_rgba32)
        else:
            self.texture.setup2dTexture(size[0], size[1], Texture.T_unsigned_byte, Texture.F_rgba8)
        self.buffer.addRenderTexture(self.texture, GraphicsOutput.RTMCopyRam if ram else GraphicsOutput.RTMBindOrCopy,
                                     GraphicsOutput.RTPColor)
        scene = NodePath("editor-copy")
        scene.setDepthTest(False)
        scene.setDepthWrite(False)
        cards = CardMaker("editor-copy")
        cards.setFrameFullscreenQuad()
        self.card = scene.attachNewNode(cards.generate())
        self.card.setShader(Shader.make(Shader.SL_GLSL, _VERTEX, _FRAGMENT))
        self.card.setShaderInput("swap", 1.0 if swap else 0.0)
        self.set_source(source, False)
        camera = PandaCamera("editor-copy")
        lens = OrthographicLens()
        lens.setFilmSize(2, 2)
        lens.setNearFar(-10, 10)
        camera.setLens(lens)
        self.buffer.makeDisplayRegion().setCamera(scene.attachNewNode(camera))
        self._scene_graph = scene

    def set_source(self, texture: Texture, srgb: bool) -> None:
        """Copy from ``texture`` (``srgb``: an sRGB texture, encoded again after sampling)."""
        self.source, self.srgb = texture, srgb
        self.card.setTexture(texture, 1)
        self.card.setShaderInput("encode", 1.0 if srgb else 0.0)

    def resize(self, size: tuple[int, int]) -> None:
        self.buffer.setSize(*size)

    def destroy(self) -> None:
        self.buffer.clearRenderTextures()
        self.app.base.graphicsEngine.removeWindow(self.buffer)
