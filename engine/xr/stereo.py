"""Both eyes of a head-mounted view, drawn by Panda3D into two textures each frame.

Each eye is an offscreen buffer sharing the App's graphics context, with its own camera under
the rig's tracking-space node and an asymmetric lens (``poses.apply_fov``), drawn through Storm's
PBR pipeline (``engine.render.pbr_pipeline.create_pipeline``, one per eye: scene culled for each
camera, tone-mapped into 8-bit sRGB-encoded colour). The scene graph is synced once per frame
for both. The desktop window becomes the mirror: both eye textures side by side (what
``--screenshot`` writes), the mono camera switched off.
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

from panda3d.core import (
    BitMask32,
    Camera,
    CardMaker,
    FrameBufferProperties,
    GraphicsOutput,
    NodePath,
    PerspectiveLens,
    PNMImage,
    Texture,
    TransparencyAttrib,
)

from engine.xr.poses import EyeView, apply_fov

EYE_NAMES = ("left", "right")
EYE_MASK_BITS = (22, 23)       # each eye's camera sees its own vignette card, nothing else does
VIGNETTE_DISTANCE = 0.06       # metres in front of the eye (beyond the near plane)


def vignette_texture(size: int = 128, inner: float = 0.55) -> Texture:
    """Transparent in the middle, black towards the edges."""
    image = PNMImage(size, size, 4)
    for y in range(size):
        for x in range(size):
            r = ((x / (size - 1) * 2 - 1) ** 2 + (y / (size - 1) * 2 - 1) ** 2) ** 0.5
            alpha = min(1.0, max(0.0, (r - inner) / (1.0 - inner)))
            image.setXelA(x, y, 0.0, 0.0, 0.0, alpha)
    texture = Texture("xr-vignette")
    texture.load(image)
    return texture


class StereoRenderer:
    """Two eye cameras and buffers of ``size`` (width, height) each, placed under ``tracking``."""

    def __init__(self, base: Any, tracking: NodePath, size: tuple[int, int], near: float = 0.05,
                 far: float = 1000.0, pbr: bool = True, mirror: bool = True) -> None:
        self.base = base
        self.size = size
        self.near, self.far = near, far
        self.tracking = tracking
        self.textures: list[Texture] = []
        self.buffers: list[GraphicsOutput] = []
        self.cameras: list[NodePath] = []
        self.pipelines: list[Any] = []
        self._mirror: list[NodePath] = []
        self.vignettes: list[NodePath] = []
        self._vignette_texture = vignette_texture()
        for index, name in enumerate(EYE_NAMES):
            self._make_eye(index, name, pbr)
        if mirror:
            self.show_mirror()

    def _make_eye(self, index: int, name: str, pbr: bool) -> None:
        base = self.base
        props = FrameBufferProperties()
        props.setRgbaBits(8, 8, 8, 8)
        props.setDepthBits(24)
        texture = Texture(f"xr-eye-{name}")
        buffer = base.win.makeTextureBuffer(f"xr-eye-{name}", self.size[0], self.size[1], texture, False, props)
        if buffer is None:
            raise RuntimeError(f"could not make a {self.size[0]}x{self.size[1]} buffer for the {name} eye")
        buffer.setSort(base.win.getSort() - 20 + index)
        buffer.setClearColorActive(True)
        buffer.setClearColor(base.win.getClearColor())
        lens = PerspectiveLens()
        node = Camera(f"xr-eye-{name}", lens)
        camera = self.tracking.attachNewNode(node)
        region = buffer.makeDisplayRegion()
        region.setCamera(camera)
        pipeline = None
        if pbr and getattr(base, "pipeline_enabled", True):
            from engine.render.pbr_pipeline import create_pipeline

            shim = SimpleNamespace(render=base.render, win=buffer, cam=camera, taskMgr=base.taskMgr)
            pipeline = create_pipeline(shim)
        mask = BitMask32.bit(EYE_MASK_BITS[index])
        node.setCameraMask(mask)
        maker = CardMaker(f"xr-vignette-{name}")
        maker.setFrame(-1, 1, -1, 1)
        card = camera.attachNewNode(maker.generate())
        card.setTexture(self._vignette_texture)
        card.setTransparency(TransparencyAttrib.M_alpha)
        card.setShaderOff(10)
        card.setLightOff(10)
        card.setDepthTest(False)
        card.setDepthWrite(False)
        card.setBin("fixed", 100)
        card.hide(BitMask32.allOn())
        card.show(mask)
        card.setColorScale(1, 1, 1, 0)
        card.stash()
        self.vignettes.append(card)
        self.textures.append(texture)
        self.buffers.append(buffer)
        self.cameras.append(camera)
        self.pipelines.append(pipeline)

    # -- each frame -----------------------------------------------------------------------------
    def place(self, eyes: tuple[EyeView, EyeView]) -> None:
        """Put both eye cameras where the runtime says, with its per-eye asymmetric projection."""
        clear = self.base.win.getClearColor()
        for camera, buffer, eye, card in zip(self.cameras, self.buffers, eyes, self.vignettes):
            camera.setPosQuat(eye.pose.pos, eye.pose.quat)
            apply_fov(camera.node().getLens(), eye.fov, self.near, self.far)
            buffer.setClearColor(clear)
            fov, d = eye.fov, VIGNETTE_DISTANCE    # the card covers exactly the eye's frustum at distance d
            l, r, u, b = (math.tan(a) * d for a in (fov.left, fov.right, fov.up, fov.down))
            card.setPos((l + r) / 2, d, (u + b) / 2)
            card.setScale((r - l) / 2, 1, (u - b) / 2)

    def set_vignette(self, strength: float) -> None:
        """Darken the edges of both eyes by ``strength`` (0: none, 1: full): a comfort aid while
        the rig moves smoothly."""
        for card in self.vignettes:
            if strength <= 0.0:
                card.stash()
            else:
                card.unstash()
                card.setColorScale(1, 1, 1, min(1.0, strength))

    def follow_environment(self, main_pipeline: Any) -> None:
        """Give each eye the main pipeline's exposure (the environment's)."""
        if main_pipeline is None:
            return
        for pipeline in self.pipelines:
            if pipeline is not None and pipeline.exposure != main_pipeline.exposure:
                pipeline.exposure = main_pipeline.exposure

    def set_eyes_active(self, left: bool = True, right: bool = True) -> None:
        """Draw only some eyes (the benchmark's mono frame draws the left one)."""
        for buffer, pipeline, on in zip(self.buffers, self.pipelines, (left, right)):
            buffer.setActive(on)
            for inner in getattr(getattr(pipeline, "_filtermgr", None), "buffers", []):
                inner.setActive(on)     # the pipeline draws the scene into its own buffer first

    # -- the desktop mirror ---------------------------------------------------------------------
    def show_mirror(self) -> None:
        """Show both eyes side by side in the App's window instead of its mono camera."""
        base = self.base
        if base.cam is not None:
            base.cam.node().setActive(False)
        for index, texture in enumerate(self.textures):
            card = CardMaker(f"xr-mirror-{EYE_NAMES[index]}")
            card.setFrame(-1.0 + index, 0.0 + index, -1.0, 1.0)
            path = base.render2d.attachNewNode(card.generate())
            path.setTexture(texture)
            path.setBin("background", 0)
            path.setDepthWrite(False)
            path.setDepthTest(False)
            self._mirror.append(path)

    def destroy(self) -> None:
        for path in self._mirror:
            path.removeNode()
        self._mirror.clear()
        mine = [p for p in self.pipelines if p is not None]
        for task in self.base.taskMgr.getTasksNamed("simplepbr update"):
            if getattr(getattr(task, "getFunction", lambda: None)(), "__self__", None) in mine:
                self.base.taskMgr.remove(task)
        for pipeline in mine:
            try:
                pipeline._filtermgr.cleanup()   # simplepbr has no public teardown
            except Exception:  # noqa: BLE001 - tearing down a half-made pipeline
                pass
        self.pipelines.clear()
        for buffer in self.buffers:
            self.base.graphicsEngine.removeWindow(buffer)
        for camera in self.cameras:
            camera.removeNode()
        self.buffers.clear()
        self.cameras.clear()
        if self.base.cam is not None:
            self.base.cam.node().setActive(True)
