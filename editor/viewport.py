"""Panda3D draws the edited World offscreen; the image ends up in RAM as float32 RGBA, top row
first: exactly what a Dear PyGui raw texture reads, so the UI takes Panda3D's buffer as it is.

The engine's ``App`` (offscreen mode: an EGL buffer, the same renderer ``play`` uses) draws the
world from the editor camera (a view provider). A last pass on the GPU draws the App's colour
buffer into a 32-bit float buffer, swapping red and blue and flipping rows on the way (Panda3D
reads pixels back as BGRA, bottom row first), and that buffer is copied to RAM. The CPU then
converts nothing: no numpy pass, no ``astype``; Dear PyGui gets a pointer to Panda3D's RAM image
(``raw_texture`` keeps the pointer; Panda3D writes each new frame into the same array).

Shading: ``full`` is the game's renderer (simplepbr, shadows, the world's lights); ``edit`` is
cheap: shaders and the world's lights off below an override node, one light riding with the
camera plus an ambient one, and the shadow-map buffers switched off.

The view draws only when asked (``request``): after an edit, a camera move, a resize, or each
frame while Play runs.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from panda3d.core import (
    AmbientLight,
    CardMaker,
    DirectionalLight,
    FrameBufferProperties,
    GraphicsOutput,
    GraphicsPipe,
    NodePath,
    OrthographicLens,
    Shader,
    Texture,
    WindowProperties,
)
from panda3d.core import Camera as PandaCamera

from editor.gl_contexts import GLContexts, NoUI
from engine.host.app import App

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.view import ViewProvider

log = logging.getLogger("storm.editor")
SHADINGS = ("edit", "full")
COPY_MODES = ("float", "byte")
OVERRIDE = 1000  # attribute priority of the edit shading (above anything the world sets)

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
in vec2 uv;
out vec4 colour;
void main() {
    colour = texture(p3d_Texture0, uv).bgra;  // read back as BGRA: RGBA in memory
}
"""


class _ViewCopy:
    """The last pass: the App's colour buffer drawn (rows flipped, red and blue swapped) into a
    buffer that is copied to RAM: 32-bit float (``float``) or 8-bit (``byte``) channels."""

    def __init__(self, app: App, size: tuple[int, int], mode: str, scene: Texture | None = None) -> None:
        base = app.base
        self.app = app
        self.mode = mode
        if scene is None:
            scene = Texture("editor-scene")
            base.win.addRenderTexture(scene, GraphicsOutput.RTMBindOrCopy, GraphicsOutput.RTPColor)
        self.scene = scene
        props = FrameBufferProperties()
        if mode == "float":
            props.setRgbaBits(32, 32, 32, 32)
            props.setFloatColor(True)
        else:
            props.setRgbaBits(8, 8, 8, 8)
        props.setDepthBits(0)
        self.buffer = base.graphicsEngine.makeOutput(
            base.pipe, "editor-view", 100, props, WindowProperties.size(*size), GraphicsPipe.BFRefuseWindow,
            base.win.getGsg(), base.win)
        if self.buffer is None:
            raise RuntimeError("this OpenGL driver gives no 32-bit float buffer for the editor view")
        self.texture = Texture("editor-view")
        if mode == "float":
            self.texture.setup2dTexture(size[0], size[1], Texture.T_float, Texture.F_rgba32)
        else:
            self.texture.setup2dTexture(size[0], size[1], Texture.T_unsigned_byte, Texture.F_rgba8)
        self.buffer.addRenderTexture(self.texture, GraphicsOutput.RTMCopyRam, GraphicsOutput.RTPColor)
        scene = NodePath("editor-copy")
        scene.setDepthTest(False)
        scene.setDepthWrite(False)
        cards = CardMaker("editor-copy")
        cards.setFrameFullscreenQuad()
        card = scene.attachNewNode(cards.generate())
        card.setTexture(self.scene)
        card.setShader(Shader.make(Shader.SL_GLSL, _VERTEX, _FRAGMENT))
        camera = PandaCamera("editor-copy")
        lens = OrthographicLens()
        lens.setFilmSize(2, 2)
        lens.setNearFar(-10, 10)
        camera.setLens(lens)
        self.buffer.makeDisplayRegion().setCamera(scene.attachNewNode(camera))
        self._scene_graph = scene

    def resize(self, size: tuple[int, int]) -> None:
        self.buffer.setSize(*size)

    def destroy(self) -> None:
        self.buffer.clearRenderTextures()
        self.app.base.graphicsEngine.removeWindow(self.buffer)


class ViewRenderer:
    """The Panda3D side of the 3D view: draws on request, hands out the float32 RGBA image."""

    def __init__(self, contexts: GLContexts | NoUI, size: tuple[int, int], copy: str = "float") -> None:
        self.contexts = contexts
        self.size = (max(16, size[0]), max(16, size[1]))
        contexts.to_panda()
        self.app = App("offscreen", size=self.size, title="Storm editor")
        if self.app.base.win is None:
            raise RuntimeError("Panda3D could not open an offscreen buffer (EGL) for the editor view")
        if copy not in COPY_MODES:
            raise ValueError(f"copy is one of {', '.join(COPY_MODES)}, not {copy!r}")
        self.copy = _ViewCopy(self.app, self.size, copy)
        self._floats: Any = None
        self._pool: Any = None
        base = self.app.base
        self.shade = base.render.attachNewNode("editor-shading")
        self.overlay = self.shade.attachNewNode("editor-overlay")  # grid, selection: drawn, never saved
        self.headlight = base.camera.attachNewNode(DirectionalLight("editor-headlight"))
        self.headlight.node().setColor((0.75, 0.75, 0.72, 1.0))
        self.headlight.setHpr(25, -35, 0)
        self.ambient = self.shade.attachNewNode(AmbientLight("editor-ambient"))
        self.ambient.node().setColor((0.3, 0.3, 0.34, 1.0))
        self.shading = ""
        self.world: "World | None" = None
        self.frames = 0
        self._wanted = True
        contexts.to_ui()
        self.set_shading("edit")

    # -- what is shown ----------------------------------------------------------------------------
    def show(self, world: "World", camera: "ViewProvider") -> None:
        """Draw ``world`` (instead of the one shown before) from ``camera``."""
        self.contexts.to_panda()
        try:
            self.app.load(world)
            self.app.set_view_provider(camera)
            world.root.reparentTo(self.shade)
            self.headlight.reparentTo(self.app.base.camera)
        finally:
            self.contexts.to_ui()
        self.world = world
        self.request()

    def set_camera(self, provider: "ViewProvider | None") -> None:
        """Draw from ``provider`` (None: the world's active Camera entity, as the game does)."""
        self.app.set_view_provider(provider)
        self.request()

    def set_shading(self, mode: str) -> None:
        if mode not in SHADINGS:
            raise ValueError(f"shading is one of {', '.join(SHADINGS)}, not {mode!r}")
        if mode == self.shading:
            return
        self.shading = mode
        shade = self.shade
        if mode == "edit":
            shade.setShaderOff(OVERRIDE)
            shade.setMaterialOff(OVERRIDE)  # fixed-function lighting then takes vertex colours and tints
            shade.setLightOff(OVERRIDE)
            shade.setLight(self.headlight, OVERRIDE)
            shade.setLight(self.ambient, OVERRIDE)
        else:
            shade.clearShader()
            shade.clearMaterial()
            shade.clearLight()
        self.request()

    def _shadow_buffers(self, active: bool) -> None:
        """Switch the shadow-map buffers (every output that is not the view's own) on or off."""
        engine = self.app.base.graphicsEngine
        pipeline = self.app.pipeline
        own = {self.app.base.win, self.copy.buffer, *(getattr(getattr(pipeline, "_filtermgr", None), "buffers", []))}
        for i in range(engine.getNumWindows()):
            output = engine.getWindow(i)
            if output not in own and output.isActive() != active:
                output.setActive(active)

    # -- drawing ------------------------------------------------------------------------------------
    def request(self) -> None:
        """Draw again at the next chance (something changed)."""
        self._wanted = True

    @property
    def wanted(self) -> bool:
        return self._wanted

    def draw(self, seconds: float = 0.0) -> int:
        """Draw one frame (running ``seconds`` of simulation first: Play); returns ticks run."""
        self.contexts.to_panda()
        try:
            self._shadow_buffers(self.shading == "full")
            ticks = self.app.step(seconds)
            self._shadow_buffers(self.shading == "full")
        finally:
            self.contexts.to_ui()
        self._wanted = False
        self.frames += 1
        return ticks

    def image(self) -> Any:
        """The last frame: a buffer of width * height * 4 float32 (RGBA, top row first), or None
        before the first frame (or while a resize has not been drawn yet)."""
        texture = self.copy.texture
        if not texture.hasRamImage():
            return None
        data = texture.getRamImage()
        pixels = self.size[0] * self.size[1] * 4
        if self.copy.mode == "float":
            return data if len(data) == pixels * 4 else None
        if len(data) != pixels:
            return None
        return self._to_floats(data, pixels)

    def set_copy_mode(self, mode: str) -> None:
        """``float``: the GPU writes float32 and RAM gets exactly what Dear PyGui reads (best where
        reading back is a memcpy: software rendering); ``byte``: a quarter of the bytes cross the
        bus and threads turn them into float32 (best on a GPU with many cores)."""
        if mode not in COPY_MODES:
            raise ValueError(f"copy is one of {', '.join(COPY_MODES)}, not {mode!r}")
        if mode == self.copy.mode:
            return
        self.contexts.to_panda()
        try:
            self.copy.destroy()
            self.copy = _ViewCopy(self.app, self.size, mode, self.copy.scene)
        finally:
            self.contexts.to_ui()
        self.request()

    def _to_floats(self, data: Any, pixels: int) -> Any:
        """8-bit RGBA to float32 in [0, 1], in a buffer kept between frames (so Dear PyGui's
        pointer stays valid), the rows split over threads (numpy lets go of the GIL)."""
        import numpy as np

        if self._floats is None or self._floats.size != pixels:
            self._floats = np.empty(pixels, np.float32)
        source = np.frombuffer(memoryview(data), np.uint8)
        target = self._floats
        scale = np.float32(1.0 / 255.0)
        workers = min(8, os.cpu_count() or 1)
        if workers == 1 or pixels < 1 << 18:
            np.multiply(source, scale, out=target)
            return target
        if self._pool is None:
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="storm-view-copy")
        step = -(-pixels // workers) // 4 * 4
        futures = [self._pool.submit(np.multiply, source[a:a + step], scale, out=target[a:a + step])
                   for a in range(0, pixels, step)]
        for future in futures:
            future.result()
        return target

    def resize(self, size: tuple[int, int]) -> None:
        size = (max(16, int(size[0])), max(16, int(size[1])))
        if size == self.size:
            return
        self.size = size
        base = self.app.base
        self.contexts.to_panda()
        try:
            base.win.setSize(*size)
            manager = getattr(self.app.pipeline, "_filtermgr", None)
            if manager is not None:
                manager.resizeBuffers()
            self.copy.resize(size)
            if base.camLens is not None:
                base.camLens.setAspectRatio(size[0] / size[1])
        finally:
            self.contexts.to_ui()
        self.request()

    @property
    def lens(self) -> Any:
        return self.app.base.camLens

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        self.contexts.to_panda()
        try:
            self.app.close()
        finally:
            self.contexts.release_egl()
