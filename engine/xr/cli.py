"""``storm vr``: play a world in VR through OpenXR or the simulated backend (main.py calls ``run_vr``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from engine.core.errors import StormError

BACKENDS = ("openxr", "simulated")


def make_backend(kind: str, timeline: str | None = None, eye_size: tuple[int, int] | None = None,
                 reference: str = "standing") -> Any:
    """The backend named ``kind``; the simulated one reads ``timeline`` when given."""
    if kind == "openxr":
        from engine.xr.session import OpenXRBackend

        return OpenXRBackend(reference=reference)
    if kind == "simulated":
        from engine.xr.simulated import SimulatedBackend
        from engine.xr.timeline import load_timeline

        return SimulatedBackend(load_timeline(timeline) if timeline else None, eye_size or (640, 720),
                                reference=reference)
    raise StormError(f"unknown XR backend {kind!r}; expected one of {', '.join(BACKENDS)}")


def run_vr(open_world: Callable[[Any], Any], runtime: Any, mode: str, kind: str, frames: int | None,
           screenshot: str | None, timeline: str | None = None, eye_size: tuple[int, int] | None = None,
           size: tuple[int, int] | None = None, reference: str = "standing", comfort: Any = None,
           on_session: Callable[[Any], Callable[[], None]] | None = None, realtime: bool = False,
           until: Callable[[], bool] | None = None, pbr: bool = True) -> int:
    """Open the world (``open_world(runtime)``), the App and VR, run, screenshot, close. 0 when done.

    ``on_session(session)`` is called once VR is set up and returns what to call before it is
    taken down (a networked session links the rig to its player so); ``realtime`` and ``until``
    go to ``VRSession.run``; ``pbr=False`` draws the eyes without the PBR pipeline (faster)."""
    from engine.host.app import App
    from engine.xr.driver import VRSession

    if mode == "headless":
        raise StormError("vr needs rendering: use a window or --offscreen")
    backend = make_backend(kind, timeline, eye_size, reference)
    world = open_world(runtime)
    if size is None:
        width, height = eye_size or getattr(backend, "eye_size", (0, 0))
        width, height = (width, height) if width and height else (640, 720)   # a runtime says its size later
        size = (min(2 * width, 1920), min(height, 1080))
    app = App(mode, size=size, title="Storm VR")
    session = None
    unlink: Callable[[], None] | None = None
    try:
        app.load(world)
        if app.base.win is None:
            raise StormError("vr needs rendering, and no display or offscreen buffer could be opened")
        session = VRSession(app, world, backend, comfort, pbr=pbr)
        unlink = on_session(session) if on_session is not None else None
        report = session.run(frames, realtime=realtime, until=until)
        if report.stopped_by.startswith(("session lost", "XR failed")) and (frames is None or report.frames < frames):
            if unlink is not None:
                unlink()
                unlink = None
            session.close()
            session = None
            print(f"vr: {report.stopped_by}; the world goes on in the desktop view"
                  + (" (close the window to quit)" if app.mode == "window" else ""))
            app.run(frames=None if frames is None else frames - report.frames)
        if screenshot:
            print(f"screenshot: {app.screenshot(Path(screenshot))}")
        print(f"vr: {report.frames} frames, {report.submitted} submitted, {report.ticks} ticks ({app.mode})")
    finally:
        if unlink is not None:
            unlink()
        if session is not None:
            session.close()
        else:
            backend.close()
        app.close()
    return 0
