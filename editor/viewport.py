"""Panda3D draws the edited World offscreen; the image ends up in RAM as float32 RGBA, top row
first: exactly what a Dear PyGui raw texture reads, so the UI takes the array as it is.

The engine's ``App`` (offscreen mode: an EGL buffer, the same renderer ``play`` uses) draws the
world from the editor camera (a view provider). Shading:

* ``full`` is the game's renderer: simplepbr (shadow maps, the world's lights, its post pass)
  into the App's window, the full terrain meshes;
* ``edit`` is cheap: one pass straight into an 8-bit sRGB buffer (``view_passes.EditPass``), no
  post pass, no shadow maps (those buffers are switched off), shaders and the world's lights off
  below an override node with one light riding with the camera plus an ambient one, and each
  terrain drawn from a coarse copy (``edit_terrain``; picking still hits the full mesh). Play
  draws the full terrain in either shading.

The frame reaches RAM through ``view_readback``: pixel buffer objects read a frame late (path
``pbo``, through PyOpenGL) or, where those are not usable, Panda3D's own synchronous copy of a
GPU pass that flips rows and swaps red and blue (path ``sync``); ``readback_path`` says which.
Copy mode ``byte`` brings 8-bit channels to RAM and threads convert them, ``float`` has the GPU
write float32.

The view draws only when asked (``request``): after an edit, a camera move, a resize, or each
frame while Play runs; with the ``pbo`` path a frame read but not shown yet is ``pending`` and
``collect`` shows it (the editor's loop does so once the view is still).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from panda3d.core import AmbientLight, DirectionalLight, GraphicsOutput, Texture

from editor.edit_terrain import CoarseTerrains
from editor.gl_contexts import GLContexts, NoUI
from editor.view_passes import EditPass, ViewCopy
from editor.view_readback import PATHS, PboReadback, SyncReadback, open_pbo_readback
from editor.visibility import EDITOR_HIDDEN
from engine.host.app import App

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.view import ViewProvider

log = logging.getLogger("storm.editor")
SHADINGS = ("edit", "full")
COPY_MODES = ("byte", "float")
DEFAULT_COPY = "byte"
READBACKS = ("auto", *PATHS)
OVERRIDE = 1000  # attribute priority of the edit shading (above anything the world sets)


class ViewRenderer:
    """The Panda3D side of the 3D view: draws on request, hands out the float32 RGBA image."""

    def __init__(self, contexts: GLContexts | NoUI, size: tuple[int, int], copy: str = DEFAULT_COPY,
                 readback: str = "auto") -> None:
        if copy not in COPY_MODES:
            raise ValueError(f"copy is one of {', '.join(COPY_MODES)}, not {copy!r}")
        if readback not in READBACKS:
            raise ValueError(f"readback is one of {', '.join(READBACKS)}, not {readback!r}")
        self.contexts = contexts
        self.size = (max(16, size[0]), max(16, size[1]))
        contexts.to_panda()
        self.app = App("offscreen", size=self.size, title="Storm editor")
        base = self.app.base
        if base.win is None:
            raise RuntimeError("Panda3D could not open an offscreen buffer (EGL) for the editor view")
        self.scene = Texture("editor-scene")   # the full renderer's image (the App's window)
        base.win.addRenderTexture(self.scene, GraphicsOutput.RTMBindOrCopy, GraphicsOutput.RTPColor)
        self.edit = EditPass(self.app, self.size)
        self._asked = readback
        self.readback: PboReadback | SyncReadback = SyncReadback(copy)
        self.readback_note = ""
        self.copy = ViewCopy(self.app, self.size, copy, self.scene, swap=True, ram=True)
        self.terrains = CoarseTerrains()
        self.shade = base.render.attachNewNode("editor-shading")
        self.overlay = self.shade.attachNewNode("editor-overlay")  # grid, selection: drawn, never saved
        self.headlight = base.camera.attachNewNode(DirectionalLight("editor-headlight"))
        self.headlight.node().setColor((0.75, 0.75, 0.72, 1.0))
        self.headlight.setHpr(25, -35, 0)
        self.ambient = self.shade.attachNewNode(AmbientLight("editor-ambient"))
        self.ambient.node().setColor((0.3, 0.3, 0.34, 1.0))
        self.shading = ""
        self.world: "World | None" = None
        self.playing = False   # PlayMode says: the full terrain while Play runs
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

    @property
    def readback_path(self) -> str:
        """``pbo`` or ``sync``: how frames reach RAM (see the module docstring)."""
        return self.readback.path

    # -- the outputs ----------------------------------------------------------------------------------
    def _outputs(self, read: bool) -> None:
        """Switch on what this frame draws: the edit pass or the full renderer (the App's window,
        simplepbr's buffers, the shadow maps), and the copy pass where the read back needs it."""
        engine = self.app.base.graphicsEngine
        edit = self.shading == "edit"
        wanted = {self.edit.buffer: edit, self.copy.buffer: read and self.readback.needs_copy_pass}
        for i in range(engine.getNumWindows()):
            output = engine.getWindow(i)
            active = wanted.get(output)
            if active is None:
                if output.getName().startswith("editor-"):
                    continue   # the editor's other buffers (thumbnails) switch themselves
                active = not edit
            if output.isActive() != active:
                output.setActive(active)
        source, srgb = (self.edit.texture, self.edit.srgb) if edit else (self.scene, False)
        if self.copy.source is not source or self.copy.srgb != srgb:
            self.copy.set_source(source, srgb)
        camera = self.edit.camera.node()
        mask = EDITOR_HIDDEN if self.terrains.coarse else self.app.base.cam.node().getCameraMask()
        if camera.getCameraMask() != mask:
            camera.setCameraMask(mask)   # coarse terrain: the full meshes hide from this bit
        if edit:
            self.edit.prepare()

    def _source(self) -> Texture:
        """What the read back reads: the copy pass's output, or the shaded scene itself."""
        if self.readback.needs_copy_pass:
            return self.copy.texture
        return self.edit.texture if self.shading == "edit" else self.scene

    def _open_readback(self) -> bool:
        """After a frame (Panda3D's context current): the pixel buffer path if asked for and usable;
        True when it was switched to now."""
        if self._asked == "sync" or isinstance(self.readback, PboReadback):
            return False
        pbo, why = open_pbo_readback(self.app.base.win.getGsg(), self.readback.copy)
        if pbo is None:
            self._asked = "sync"   # asked once: the reason stays in readback_note
            self.readback_note = why
            log.info("the 3D view reads frames back synchronously: %s", why)
            return False
        self._use(pbo)
        return True

    def _use(self, readback: PboReadback | SyncReadback) -> None:
        """Read back through ``readback`` from now on (Panda3D's context current)."""
        self.readback.close()
        self.readback = readback
        source = self.copy.source
        self.copy.destroy()
        self.copy = ViewCopy(self.app, self.size, readback.copy, source, swap=readback.swap, ram=readback.ram)

    # -- drawing ------------------------------------------------------------------------------------
    def request(self) -> None:
        """Draw again at the next chance (something changed)."""
        self._wanted = True

    @property
    def wanted(self) -> bool:
        return self._wanted

    @property
    def pending(self) -> bool:
        """A frame is drawn but not shown yet (``collect`` shows it)."""
        return self.readback.pending

    def sync_terrains(self) -> None:
        """Coarse terrain copies made or dropped, and the ones this frame draws chosen (each draw
        does it; the editor calls it earlier too, before the selection tint looks for meshes)."""
        self.terrains.sync(self.world, self.shading == "edit" and not self.playing)

    def draw(self, seconds: float = 0.0, read: bool = True) -> int:
        """Draw one frame (running ``seconds`` of simulation first: Play); returns ticks run.
        ``read``: bring it to RAM (a benchmark's floor draws without)."""
        self._wanted = False   # a request made while drawing asks for the next frame
        self.contexts.to_panda()
        try:
            self.sync_terrains()
            self._outputs(read)
            ticks = self.app.step(seconds)
            self._outputs(read)   # buffers made during the frame (a new shadow map) follow the shading
            self.contexts.remember_panda()
            if read:
                if self._open_readback() and self.readback.needs_copy_pass:
                    self.request()   # its copy pass is new: it draws from the next frame on
                else:
                    self._read()
        finally:
            self.contexts.to_ui()
        self.frames += 1
        return ticks

    def _read(self) -> None:
        try:
            self.readback.read(self._source(), self.size)
        except Exception as exc:  # noqa: BLE001 - a driver that refuses pixel buffers: the sync path
            if self.readback.path == "sync":
                raise
            self.readback_note = f"pixel buffer read back failed ({exc})"
            log.warning("the 3D view reads frames back synchronously from now on: %s", self.readback_note)
            self._asked = "sync"
            self._use(SyncReadback(self.readback.copy))
            self.request()

    def collect(self) -> None:
        """Show the frame drawn last (the view is still: no new frame is wanted)."""
        if not self.readback.pending:
            return
        self.contexts.to_panda(current=True)
        try:
            self.readback.collect()
        finally:
            self.contexts.to_ui()

    def image(self) -> Any:
        """The last frame shown: a buffer of width * height * 4 float32 (RGBA, top row first), or
        None before the first frame (or while a resize has not been drawn yet)."""
        return self.readback.frame.floats(self.size)

    def image_bytes(self) -> Any:
        """The same frame as 8-bit RGBA (width * height * 4 bytes, top row first) with copy mode
        ``byte``, else None."""
        return self.readback.frame.bytes(self.size)

    def set_copy_mode(self, mode: str) -> None:
        """``byte``: 8-bit channels reach RAM and threads turn them into float32 (a quarter of the
        bytes); ``float``: the GPU writes float32 (no CPU pass with the sync path)."""
        if mode not in COPY_MODES:
            raise ValueError(f"copy is one of {', '.join(COPY_MODES)}, not {mode!r}")
        if mode != self.readback.copy:
            self._switch(self._asked if self.readback.path == "sync" else "auto", mode)

    def set_readback(self, path: str) -> None:
        """``pbo`` (when usable, else ``sync`` and ``readback_note`` says why), ``auto`` (the same)
        or ``sync``, from the next frame on."""
        if path not in READBACKS:
            raise ValueError(f"readback is one of {', '.join(READBACKS)}, not {path!r}")
        if path != self._asked:
            self._switch(path, self.readback.copy)

    def _switch(self, path: str, copy: str) -> None:
        """The sync path now; the next frame opens the pixel buffer path when ``path`` asks for it."""
        self._asked = path if path == "sync" else "auto"
        self.readback_note = ""
        self.contexts.to_panda(current=True)
        try:
            self._use(SyncReadback(copy))
        finally:
            self.contexts.to_ui()
        self.request()

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
            self.edit.resize(size)
            self.copy.resize(size)
            self.readback.discard()
            if base.camLens is not None:
                base.camLens.setAspectRatio(size[0] / size[1])
        finally:
            self.contexts.to_ui()
        self.request()

    @property
    def lens(self) -> Any:
        return self.app.base.camLens

    def close(self) -> None:
        self.terrains.clear()
        self.contexts.to_panda(current=True)
        try:
            self.readback.close()
            self.app.close()
        finally:
            self.contexts.release_egl()
