"""The App: runs a World in a window, offscreen (EGL buffer) or headless, on a fixed tick, and
draws it from a view provider (the active Camera entity by default), moving entities drawn
between ticks (``interpolation.py``). The run loop itself is in ``run_loop.py``."""
from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from panda3d.core import Filename, GraphicsWindow, PNMImage, loadPrcFileData

from engine.core.clock import FixedClock
from engine.core.errors import StormError
from engine.core.world import World
from engine.host.interpolation import DrawInterpolator
from engine.host.run_loop import PROGRESS_SECONDS, RunReport, Say, run_frames, say_to_stdout
from engine.host.view import DEFAULT_TRANSFORM, ActiveCameraView, View, ViewProvider
from engine.input import InputSystem
from engine.render.colors import srgb_to_linear
from engine.render.system import RenderSystem

log = logging.getLogger("storm.app")
MODES = ("window", "offscreen", "headless")
CLOSE_REQUEST_EVENT = "storm-window-close-request"


def pick_mode(requested: str = "auto") -> str:
    """``window`` when a display exists, else ``offscreen``; an explicit request wins."""
    if requested in MODES:
        return requested
    if sys.platform in ("win32", "darwin") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return "window"
    return "offscreen"


def _configure(mode: str, size: tuple[int, int], title: str) -> None:
    window_type = {"window": "onscreen", "offscreen": "offscreen", "headless": "none"}[mode]
    settings = [
        f"window-type {window_type}",
        f"win-size {size[0]} {size[1]}",
        f"window-title {title}",
        "sync-video false" if mode != "window" else "sync-video true",
        "notify-level-device fatal",
        "print-pipe-types false",
        "notify-level-display error",
        "framebuffer-multisample 1" if mode == "window" else "framebuffer-multisample 0",
        "multisamples 4" if mode == "window" else "multisamples 0",
        "audio-library-name null" if mode != "window" else "",
    ]
    if mode == "offscreen":
        settings.append("load-display p3headlessgl")
    loadPrcFileData("storm-app", "\n".join(s for s in settings if s))


class App:
    """Owns the Panda3D ShowBase, the fixed clock and the loop that ticks and draws a World."""

    def __init__(self, mode: str = "auto", size: tuple[int, int] = (1280, 720), title: str = "Storm") -> None:
        self.mode = pick_mode(mode)
        self.size = size
        _configure(self.mode, size, title)
        from direct.showbase.ShowBase import ShowBase

        self.base = ShowBase()
        if self.mode != "headless" and self.base.win is None:
            log.warning("could not open a %s display; running headless (nothing is drawn)", self.mode)
            self.mode = "headless"
        if self.base.camera is None:  # headless: keep a camera node so camera logic runs the same way
            self.base.camera = self.base.render.attachNewNode("camera")
        self._close_requested = False
        if isinstance(self.base.win, GraphicsWindow):  # closing asks us (we stop, then close), not sys.exit
            self.base.win.setCloseRequestEvent(CLOSE_REQUEST_EVENT)
            self.base.accept(CLOSE_REQUEST_EVENT, self._on_close_request)
        self.world: World | None = None
        self.clock: FixedClock | None = None
        self.overlay = None
        self.view_provider: ViewProvider = ActiveCameraView()
        self.interpolator = DrawInterpolator()
        self._interpolate = True
        self._view_entity = 0
        self._lens_settings: tuple[float, float, float] | None = None
        self._environment_version = -1
        self._sky_light_key: tuple | None = None
        self.input_source = None
        self.pipeline = None
        if self.mode != "headless":
            from engine.render.pbr_pipeline import create_pipeline

            self.pipeline = create_pipeline(self.base, msaa_samples=4 if self.mode == "window" else 0)
        self.point_shadows = None
        self._point_lights: tuple[int, list] = (-1, [])
        if self.pipeline is not None:
            from engine.render.point_shadows import PointShadows

            self.point_shadows = PointShadows(self.base.win)

    def load(self, world: World) -> None:
        """Show a world (instead of the one shown before): its scene graph, camera, input, overlay."""
        if self.world is not None and self.world is not world:
            self._unload()
        self.world = world
        self._view_entity, self._lens_settings, self._environment_version = 0, None, -1
        self.interpolator.reset()
        self._point_lights = (-1, [])
        self.clock = FixedClock(world.tick_rate)
        world.root.reparentTo(self.base.render)
        settings = world.settings.get("world")
        if settings is not None and self.base.win is not None:
            self.base.setBackgroundColor(*(srgb_to_linear(settings.background) if self.pipeline else settings.background))
        if self.mode != "headless":
            from engine.host.profiler_overlay import ProfilerOverlay

            self.overlay = ProfilerOverlay(self.base.aspect2d, world)
        system = world.system(InputSystem)
        if system is not None and self.mode == "window":
            from engine.input.panda_source import PandaInputSource

            self.input_source = PandaInputSource(self.base, system.actions)
            system.set_source(self.input_source)
        self.base.disableMouse()
        self.base.camera.reparentTo(world.root)
        self._sync_view()

    # -- what is drawn --------------------------------------------------------------------------
    def set_view_provider(self, provider: ViewProvider | None) -> None:
        """Draw from ``provider``'s view from the next frame on (None: the active Camera entity again)."""
        self.view_provider = provider if provider is not None else ActiveCameraView()
        if self.world is not None:
            self._place_view()

    @property
    def interpolate(self) -> bool:
        """Draw moving entities between their last two ticks (on by default); the simulation is the
        same either way."""
        return self._interpolate

    @interpolate.setter
    def interpolate(self, on: bool) -> None:
        self._interpolate = bool(on)
        if not on:
            self.interpolator.reset()

    def _sync_view(self) -> None:
        """Bring what the renderer shows in line with the world: camera and lens, environment, point shadows."""
        self._place_view()
        self._apply_environment()
        self._follow_point_shadows()

    def _unload(self) -> None:
        """Take the shown world off the screen (the world itself lives on)."""
        assert self.world is not None
        self.interpolator.reset()
        self.base.camera.reparentTo(self.base.render)
        self.world.root.detachNode()
        if self.input_source is not None:
            self.input_source.close()
            self.input_source = None
        if self.overlay is not None:
            self.overlay.destroy()
            self.overlay = None

    def _apply_environment(self) -> None:
        """Hand the world's Environment (sky light, fog, exposure) to the renderer when it changed."""
        assert self.world is not None
        render_system = self.world.system(RenderSystem)
        if self.pipeline is None or render_system is None or render_system.environment_version == self._environment_version:
            return
        self._environment_version = render_system.environment_version
        env = render_system.environment
        from simplepbr import EnvMap

        from engine.render.sky import sky_cubemap

        sky_light = (env.sky_top, env.sky_horizon, env.ground, env.environment_light) if env is not None else None
        if sky_light != self._sky_light_key:  # filtering the sky for lighting takes a while: only when it changed
            self._sky_light_key = sky_light
            self.pipeline.env_map = None if sky_light is None else EnvMap(
                sky_cubemap(*sky_light[:3], size=16, scale=sky_light[3], linear=True),
                prefiltered_size=16, prefiltered_samples=8, blocking_prepare=True)
        fog = env is not None and env.fog and env.fog_density > 0.0
        if self.pipeline.enable_fog != fog:  # recompiles the shader: only when it changed
            self.pipeline.enable_fog = fog
        self.pipeline.exposure = env.exposure if env is not None else 0.0

    def _follow_point_shadows(self) -> None:
        """Keep a distance cube map for each point light that casts shadows (see point_shadows.py)."""
        assert self.world is not None
        render_system = self.world.system(RenderSystem)
        if self.point_shadows is None or render_system is None:
            return
        if self._point_lights[0] != render_system.point_shadow_version:
            self._point_lights = (render_system.point_shadow_version, render_system.point_shadow_lights())
        version, lights = self._point_lights
        self.point_shadows.sync(self.world.root, lights, version)

    def _place_view(self) -> None:
        """Put the App's camera where the view provider says, with its lens (set only when it changed)."""
        assert self.world is not None
        view: View | None = self.view_provider.view(self.world)
        camera = self.base.camera
        self._view_entity = view.entity if view is not None else 0
        if view is None:
            camera.setTransform(self.world.root, DEFAULT_TRANSFORM)
            self._lens_settings = None
            return
        transform = self.interpolator.drawn(view.entity, view.transform) if view.entity else view.transform
        camera.setTransform(self.world.root, transform)
        lens_settings = (view.fov, view.near, view.far)
        lens = self.base.camLens
        if lens is not None and lens_settings != self._lens_settings:
            lens.setFov(view.fov)
            lens.setNearFar(view.near, view.far)
        self._lens_settings = lens_settings

    # -- running --------------------------------------------------------------------------------
    def step(self, frame_seconds: float) -> int:
        """Advance the simulation by a frame's worth of time, then draw one frame; returns ticks run."""
        assert self.world is not None and self.clock is not None
        start = time.perf_counter()
        world, interpolator = self.world, self.interpolator if self._interpolate else None
        ticks = self.clock.advance(frame_seconds)
        if ticks and interpolator is not None:
            interpolator.restore()               # the simulation sees only what it made
        for _ in range(ticks):
            if interpolator is not None:
                interpolator.remember(world, (self._view_entity,))
            world.tick(self.clock.dt)
            actions = world.services.get("input")
            if self.overlay is not None and actions is not None and actions.pressed("toggle_profiler"):
                self.overlay.toggle()
        if interpolator is not None:
            if ticks:
                interpolator.settle(world)
            interpolator.apply(world, self.clock.alpha)
        self._sync_view()
        self.base.taskMgr.step()
        if self.overlay is not None:
            self.overlay.update((time.perf_counter() - start) * 1000.0)
        return ticks

    def run(self, frames: int | None = None, fps: float = 60.0, *, progress_seconds: float = PROGRESS_SECONDS,
            say: Say | None = say_to_stdout, paced: bool = False) -> RunReport:
        """Run until the window is closed, Ctrl+C, or ``frames`` frames of ``1/fps`` simulated seconds
        each (reproducible: simulated time does not depend on how fast this machine draws; ``paced``
        holds them to real time too, as a client of a server must). Says what it runs and, every
        ``progress_seconds``, how far it got (``say=None``: quiet)."""
        if self.world is None:
            raise StormError("nothing to run: load a world first (App.load)")
        return run_frames(self, frames, fps, progress_seconds, say, paced)

    def window_closed(self) -> bool:
        """The window was asked to close (or is gone); never true offscreen or headless."""
        win = self.base.win
        return self._close_requested or (isinstance(win, GraphicsWindow) and win.isClosed())

    def _on_close_request(self) -> None:
        self._close_requested = True

    def screenshot(self, path: Path | str) -> Path:
        """Render a fresh frame and write it as an image; needs a mode that renders."""
        if self.base.win is None:
            raise StormError("no screenshot in headless mode: nothing is rendered (use --offscreen or --window)")
        for _ in range(2):  # through the task manager, so the renderer's per-frame inputs are set
            self.base.taskMgr.step()
        image = PNMImage()
        if not self.base.win.getScreenshot(image):
            raise StormError("the renderer returned no image")
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        image.write(Filename.fromOsSpecific(str(out)))
        return out

    def close(self) -> None:
        if self.input_source is not None:
            self.input_source.close()
        if self.point_shadows is not None:
            self.point_shadows.destroy()
        if self.world is not None:
            self.world.close()
        self.base.destroy()
