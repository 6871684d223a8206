"""The App's run loop: frames until a stop, paced to real time, with a progress line now and then.

A window runs until it is closed; offscreen and headless run until Ctrl+C (SIGINT) or a frame
limit. Without vsync (offscreen, headless) frames are paced to ``fps`` with sleeps, so a run
neither spins a core nor runs the world faster than real time. With a frame limit each frame is
exactly ``1 / fps`` simulated seconds and nothing is paced: the run is the same on any machine,
unless ``paced`` asks for real time anyway (a client of a server, which runs in real time).
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from engine.host.app import App

PROGRESS_SECONDS = 3.0
FRAME_LIMIT, WINDOW_CLOSED, INTERRUPTED = "frame limit", "window closed", "Ctrl+C"
Say = Callable[[str], None]


def say_to_stdout(line: str) -> None:
    """Print a line at once, also when stdout is a pipe (a launcher, a test reading it)."""
    print(line, flush=True)


@dataclass(frozen=True)
class RunReport:
    """What a run did: frames drawn, ticks run, wall-clock seconds, and why it stopped."""

    frames: int
    ticks: int
    seconds: float
    stopped_by: str


class _StopFlag:
    """Set by Ctrl+C while the loop runs; a second Ctrl+C interrupts at once."""

    def __init__(self) -> None:
        self.reason = ""

    def interrupt(self, signum: int, frame: object) -> None:
        if self.reason == INTERRUPTED:
            raise KeyboardInterrupt
        self.reason = INTERRUPTED


@contextmanager
def _catch_sigint(flag: _StopFlag, task_manager: object) -> Iterator[None]:
    """Ctrl+C sets ``flag`` while the loop runs, also inside Panda3D's frame: its task manager puts
    its own ``keyboardInterruptHandler`` in place for each step (and raises afterwards), so ours
    stands in for it there."""
    if threading.current_thread() is not threading.main_thread():
        yield                                   # only the main thread may set signal handlers
        return
    previous = signal.signal(signal.SIGINT, flag.interrupt)
    setattr(task_manager, "keyboardInterruptHandler", flag.interrupt)
    try:
        yield
    finally:
        delattr(task_manager, "keyboardInterruptHandler")
        signal.signal(signal.SIGINT, previous)


def describe(app: "App") -> str:
    """One line saying which world runs, in which mode, and how it stops."""
    world = app.world
    assert world is not None
    source = f" from {world.origin}" if world.origin else ""
    size = f" {app.size[0]}x{app.size[1]}" if app.mode != "headless" else ""
    return f"playing world {world.name!r}{source} ({app.mode}{size}, {world.tick_rate:g} ticks/s)"


def run_frames(app: "App", frames: int | None, fps: float, progress_seconds: float = PROGRESS_SECONDS,
               say: Say | None = say_to_stdout, paced: bool = False) -> RunReport:
    """Step ``app`` until it is told to stop (see the module doc); returns what was run."""
    assert app.world is not None
    if fps <= 0:
        raise ValueError("fps must be positive")
    world = app.world
    period = 1.0 / fps
    pace = (frames is None or paced) and app.mode != "window"
    flag = _StopFlag()
    if say is not None:
        how = (f"for {frames} frames" if frames is not None else
               "until the window is closed or Ctrl+C" if app.mode == "window" else "until Ctrl+C")
        say(f"{describe(app)}; {how}")
    start = last = next_frame = time.perf_counter()
    ticks_at_start = world.tick_count
    count = 0
    mark = (start, 0)
    with _catch_sigint(flag, app.base.taskMgr):
        while not flag.reason:
            if frames is not None and count >= frames:
                flag.reason = FRAME_LIMIT
                break
            if app.window_closed():
                flag.reason = WINDOW_CLOSED
                break
            now = time.perf_counter()
            app.step(period if frames is not None else now - last)
            last = now
            count += 1
            if say is not None and now - mark[0] >= progress_seconds:
                fps_now = (count - mark[1]) / (now - mark[0])
                say(f"  {now - start:6.1f} s: {world.tick_count - ticks_at_start} ticks, {count} frames, "
                    f"{fps_now:.1f} fps")
                mark = (now, count)
            if pace:
                next_frame += period
                delay = next_frame - time.perf_counter()
                if delay > 0.0:
                    time.sleep(delay)
                elif delay < -period:
                    next_frame = time.perf_counter()   # fell behind: do not race to catch up
    report = RunReport(count, world.tick_count - ticks_at_start, time.perf_counter() - start, flag.reason)
    if say is not None and report.stopped_by != FRAME_LIMIT:
        say(f"stopped ({report.stopped_by}) after {report.frames} frames, {report.ticks} ticks, "
            f"{report.seconds:.1f} s")
    return report
