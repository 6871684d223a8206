"""Runs a World in VR: the App, an XR backend (OpenXR or simulated), the rig, both eyes and the
frame loop that ties them together.

Each frame: the backend's events (state changes); the runtime's frame (poses at the predicted
display time); the rig's newest tracking and the VR player's actions handed to the world; the
eye cameras placed; ``App.step`` ticks the world and draws both eyes (and the mirror); a draw
callback copies the eyes into the runtime's swapchains; the frame ends. A frame limit, Ctrl+C or
a closed window asks the runtime to end the session, and the loop follows it through stopping
to exiting before anything is destroyed.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from panda3d.core import Camera, NodePath, PythonCallbackObject

from engine.core.world import World
from engine.host.app import App
from engine.input import DirectActionSource, InputSystem
from engine.xr.bindings import to_action_frame
from engine.xr.interaction import Comfort, XRGrabbed, XRInteractionSystem, XRReleased
from engine.xr.rig import VR_PLAYER, XRRig, XRRigSystem, XRView, add_rig
from engine.xr.stereo import StereoRenderer

log = logging.getLogger("storm.xr")
STOP_FRAMES = 600          # frames the runtime may take to walk a session down to exiting
MAX_WAIT_FRAMES = 1200     # frames to wait for a session to start before giving up


@dataclass
class VRReport:
    """What a VR run did: frames drawn by the App and submitted to the runtime, the session states
    in order, and why it stopped."""

    frames: int
    submitted: int
    states: list[str]
    stopped_by: str
    ticks: int
    extra: dict[str, Any] = field(default_factory=dict)


def spawn_point(world: World) -> tuple[tuple[float, float, float], float]:
    """Where the rig starts: under the active camera (on the ground), facing its heading."""
    from engine.camera.components import active_camera

    eid = active_camera(world)
    if not eid:
        return (0.0, -6.0, 0.0), 0.0
    node = world.node(eid)
    pos = node.getPos(world.root)
    return (pos.x, pos.y, 0.0), node.getH(world.root)


class ArcDrawing:
    """The teleport arc as a line in the scene (green onto a valid target, red otherwise); not an entity."""

    def __init__(self, root: NodePath) -> None:
        self.root = root
        self.path: NodePath | None = None
        self._key: tuple = ()

    def show(self, points: list[Any], valid: bool) -> None:
        key = (tuple(tuple(p) for p in points), valid)
        if key == self._key:
            return
        self._key = key
        self.destroy()
        if len(points) < 2:
            return
        from panda3d.core import LineSegs

        lines = LineSegs("xr-teleport-arc")
        lines.setThickness(3.0)
        lines.setColor(0.2, 0.9, 0.3, 1.0) if valid else lines.setColor(0.9, 0.2, 0.2, 1.0)
        lines.moveTo(points[0])
        for point in points[1:]:
            lines.drawTo(point)
        self.path = self.root.attachNewNode(lines.create())
        self.path.setLightOff(1)
        self.path.setShaderOff(1)

    def destroy(self) -> None:
        if self.path is not None:
            self.path.removeNode()
            self.path = None


class VRSession:
    """One VR run of ``world`` in ``app`` through ``backend`` (see the module doc)."""

    def __init__(self, app: App, world: World, backend: Any, comfort: Comfort | None = None,
                 pbr: bool = True) -> None:
        self.app, self.world, self.backend = app, world, backend
        backend.start(app.base)
        pos, heading = spawn_point(world)
        self.rig: XRRig = add_rig(world, pos, heading, reference=getattr(backend, "reference", "standing"))
        self.rig_system = world.add_system(XRRigSystem(self.rig))
        self.interaction = world.add_system(XRInteractionSystem(self.rig, comfort))
        self.source = DirectActionSource()
        self.input = world.system(InputSystem)
        if self.input is not None:
            self.input.add_player(VR_PLAYER, self.source)
            if getattr(backend, "uses_keyboard", False):
                self.input.set_source(None)   # the keys drive the simulated headset, not the desktop player
        app.set_view_provider(XRView(self.rig))
        self.stereo = StereoRenderer(app.base, world.node(self.rig.root), backend.eye_size, pbr=pbr)
        self.failure: BaseException | None = None
        self._submit_region = self._make_submit_region()
        self._arc = ArcDrawing(world.root)
        self._unsubscribe = [
            world.events.subscribe(XRGrabbed, lambda e: self._buzz(e.hand, 0.4, 0.03)),
            world.events.subscribe(XRReleased, lambda e: self._buzz(e.hand, 0.8, 0.06)),
        ]

    def _buzz(self, hand: str, amplitude: float, seconds: float) -> None:
        try:
            self.backend.haptic(hand, amplitude, seconds)
        except Exception as exc:  # noqa: BLE001 - a haptic pulse is never worth a crash
            log.debug("xr: haptic pulse failed: %s", exc)

    def _fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
            log.error("xr: %s: %s; leaving VR", type(exc).__name__, exc)

    def _make_submit_region(self) -> Any:
        """A display region drawn after both eyes whose draw callback hands them to the backend
        (Panda3D's GL context is current there)."""
        base = self.app.base
        region = base.win.makeDisplayRegion(0, 0.001, 0, 0.001)
        region.setSort(1000)
        region.setCamera(NodePath(Camera("xr-submit")))
        gsg = base.win.getGsg()

        def draw(data: Any) -> None:
            data.upcall()
            if self.failure is not None:
                return
            try:
                self.backend.submit_eyes(self.stereo.textures, gsg)
            except Exception as exc:  # noqa: BLE001 - a runtime failing mid-frame ends VR, not the process
                self._fail(exc)

        region.setDrawCallback(PythonCallbackObject(draw))
        return region

    def frame(self, seconds: float) -> None:
        """One frame of ``seconds`` simulated time."""
        backend = self.backend
        tracking = None
        if self.failure is None:
            try:
                backend.poll()
                if hasattr(backend, "advance"):
                    backend.advance(seconds)
                tracking = backend.begin_frame() if not backend.exited else None
            except Exception as exc:  # noqa: BLE001 - the runtime went away: back to the desktop
                self._fail(exc)
        if tracking is not None:
            self.rig.latest = tracking
            declared = set(self.input.actions.map.actions) if self.input is not None else set()
            self.source.set_frame(to_action_frame(tracking.controls, declared))
            self.stereo.place(tracking.eyes)
        self.stereo.follow_environment(self.app.pipeline)
        state = self.interaction.state
        self._arc.show(state.arc, state.target is not None)
        self.stereo.set_vignette(state.vignette)
        self.app.step(seconds)
        if self.failure is None:
            try:
                backend.end_frame()
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)

    def run(self, frames: int | None = None, fps: float = 60.0, say: Any = print, realtime: bool = False,
            until: Callable[[], bool] | None = None) -> VRReport:
        """Run until ``frames`` frames were drawn (then end the session properly), ``until()`` holds,
        the session ends, the window closes or Ctrl+C; returns what happened. A frame limit alone
        advances 1/fps simulated seconds a frame; without one, or with ``realtime`` (a networked
        session), frames follow the clock, at most ``fps`` a second."""
        world, backend = self.world, self.backend
        ticks_at_start, count, waited, stopped_by = world.tick_count, 0, 0, ""
        period = 1.0 / fps
        last = next_at = time.perf_counter()
        if say is not None:
            say(f"vr: {backend.name} ({getattr(backend, 'runtime_name', '')}, {getattr(backend, 'system_name', '')}), "
                f"eyes {backend.eye_size[0]}x{backend.eye_size[1]}; "
                + (f"for {frames} frames" if frames is not None else "until the session ends or Ctrl+C"))
        try:
            while not backend.exited and self.failure is None:
                if not stopped_by:
                    if frames is not None and count >= frames:
                        stopped_by = "frame limit"
                    elif until is not None and backend.running and until():
                        stopped_by = "done"
                    elif self.app.window_closed():
                        stopped_by = "window closed"
                    elif not backend.running and count == 0 and waited > MAX_WAIT_FRAMES:
                        stopped_by = "the session never started"
                    if stopped_by:
                        backend.request_exit()
                now = time.perf_counter()
                self.frame(period if frames is not None and not realtime else min(now - last, 0.25 if realtime else 0.1))
                last = now
                if realtime:
                    next_at = max(next_at + period, time.perf_counter() - period)   # behind: do not race
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                if backend.running and not stopped_by:
                    count += 1
                else:
                    waited += 1
                if stopped_by and waited > STOP_FRAMES + MAX_WAIT_FRAMES:
                    log.warning("xr: the runtime did not end the session; closing it anyway")
                    break
        except KeyboardInterrupt:
            stopped_by = "Ctrl+C"
        if self.failure is not None:
            stopped_by = f"XR failed ({type(self.failure).__name__}: {self.failure})"
        elif backend.lost and not stopped_by:
            stopped_by = "session lost"
        stopped_by = stopped_by or "session ended"
        report = VRReport(count, backend.frames_submitted, list(backend.history), stopped_by,
                          world.tick_count - ticks_at_start)
        if say is not None:
            say(f"vr: stopped ({stopped_by}) after {count} frames; session states: {' -> '.join(report.states)}")
        return report

    def close(self) -> None:
        """Take VR down: eyes, mirror, session (the App and world stay to be closed by their owner)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._arc.destroy()
        self.stereo.destroy()
        if self._submit_region is not None:
            self.app.base.win.removeDisplayRegion(self._submit_region)
            self._submit_region = None
        self.app.set_view_provider(None)
        if self.input is not None:
            self.input.remove_player(VR_PLAYER)
        self.backend.close()
