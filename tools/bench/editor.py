"""Benchmark: the editor's 3D view against Panda3D drawing the same view, the naive copy path
beside it, and an idle editor's CPU.

One process opens the demo world in the editor (Dear PyGui under the X display, started as a
private Xvfb when there is none; ``--no-ui``: the view's Panda3D side alone, for machines with a
GPU and no X). For each size and shading mode it renders the same orbiting view, frame by frame
in turn:

* ``raw``: Panda3D draws the same view with the same shading into its own offscreen buffer,
  nothing read back: the floor;
* ``raw_finished``: the same, then ``glFinish``: the floor including the GPU's own time;
* ``view``: the editor's path without the UI: the same draw and the frame brought to RAM as the
  editor shows it, by the read back path (``pbo``: pixel buffers read a frame late; ``sync``:
  Panda3D's own copy to RAM) and copy mode (``byte``: 8-bit RGBA, which the view panel writes
  into an 8-bit texture; ``float``: a GPU pass writes the float32 a raw texture reads);
* ``naive``: the same draw, the 8-bit buffer read back (``getScreenshot``), then numpy flips rows,
  swaps red and blue and converts to float32 on the CPU (what the obvious code does);
* ``editor`` (with UI): one whole editor frame: the view's draw and read back, the frame handed
  to Dear PyGui (written into the 8-bit texture, or the raw texture's pointer) and the UI frame
  that shows it.

Each record says which read back path ran (``readback``: ``sync`` where pixel buffers were asked
for but are not usable, with ``readback_note`` saying why). The summary's headline keys
(``viewport_ms_<size>_<shading>``, ``raw_draw_ms_...``, ``viewport_ratio_vs_raw_draw_...``,
``<shading>_shading_fps_<size>``, ``readback``) are those of the editor's defaults: the ``pbo``
path where usable and the ``byte`` copy.

Then ``idle_cpu_percent``: ``main.py edit`` left alone for ``--idle-seconds``, CPU read from
``/proc``. Wall-clock medians (a GPU's waits show in wall time, not CPU time).

Usage (from the repository root)::

    .venv/bin/python -m tools.bench.editor [--sizes 1280x720,1920x1080] [--frames 40] [--no-ui]
        [--copies byte,float] [--readbacks pbo,sync]

stdout: JSON lines, the last one the summary. stderr: progress.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.bench.common import REPO_ROOT, emit, gl_finish_function, machine_info, progress, ratio  # noqa: E402

DEMO = REPO_ROOT / "worlds" / "demo.world.json"
KINDS_UI = ("raw", "view", "naive", "editor")
KINDS_NO_UI = ("raw", "view", "naive")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, default=DEMO, help="world to view (default: the demo)")
    parser.add_argument("--sizes", default="1280x720,1920x1080", help="view sizes WxH, comma-separated")
    parser.add_argument("--shadings", default="edit,full", help="shading modes to time (edit, full)")
    parser.add_argument("--frames", type=int, default=40, help="timed frames of each kind (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first (default %(default)s)")
    parser.add_argument("--copies", default="byte,float", help="view copy modes to time (byte, float)")
    parser.add_argument("--readbacks", default="pbo,sync", help="read back paths to time (pbo, sync)")
    parser.add_argument("--no-ui", action="store_true", help="no Dear PyGui: the view's Panda3D side alone")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle CPU measurement (0: skip)")
    return parser.parse_args(argv)


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def _ensure_display() -> subprocess.Popen[bytes] | None:
    """A private Xvfb when there is no X display (the editor needs one)."""
    if os.environ.get("DISPLAY"):
        return None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("no X display and no Xvfb: run with --no-ui, or install xvfb")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "2600x1500x24", "-nolisten", "tcp"],
                              pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        os.environ["DISPLAY"] = f":{ready.readline().strip()}"
    return server


class Bench:
    """The editor (or the view alone) and one frame function per kind."""

    def __init__(self, world: Path, ui: bool) -> None:
        import numpy as np

        self.np = np
        self.ui = ui
        if ui:
            from editor.driver import EditorDriver

            self.driver: Any = EditorDriver(world, size=(1500, 950))
            self.app = self.driver.app
            self.app.view.sync_size = lambda: None  # the benchmark sets the view size itself
            self.renderer = self.app.renderer
            self.camera = self.app.session.camera
        else:
            from editor.camera_control import OrbitCamera
            from editor.gl_contexts import NoUI
            from editor.viewport import ViewRenderer
            from engine.data.world_file import read_world
            from engine.host.runtime import create_runtime

            self.renderer = ViewRenderer(NoUI(), (1280, 720))
            self.camera = OrbitCamera()
            self.world = read_world(world, create_runtime())
            self.renderer.show(self.world, self.camera)
        self.camera.target, self.camera.distance, self.camera.pitch = self.camera.target * 0.0, 22.0, -25.0
        self.kinds: dict[str, Callable[[], Any]] = {"raw": self.raw, "view": self.view, "naive": self.naive}
        self._finish = gl_finish_function()
        if self._finish is not None:
            self.kinds["raw_finished"] = self.raw_finished
        if ui:
            self.kinds["editor"] = self.editor

    def configure(self, size: tuple[int, int], shading: str, copy: str, readback: str) -> None:
        self.renderer.set_readback(readback)
        self.renderer.set_copy_mode(copy)
        self.renderer.resize(size)
        self.renderer.set_shading(shading)
        self.camera.aspect = size[0] / size[1]
        if self.ui:
            self.app.view.show_frame()
            self.app.controller.size = (float(size[0]), float(size[1]))
        for _ in range(3):
            self.view()

    def _turn(self) -> None:
        self.camera.orbit(2.0, 0.0)
        self.renderer.request()

    def raw(self) -> None:
        self._turn()
        self.renderer.draw(read=False)

    def raw_finished(self) -> None:
        """The floor including the GPU's own time: draw, then wait until the GPU has finished."""
        self._turn()
        self.renderer.draw(read=False)
        self.finish()

    def finish(self) -> None:
        """Wait until the GPU has done everything asked of it (``glFinish`` on Panda3D's context)."""
        if self._finish is not None:
            self.renderer.contexts.to_panda(current=True)
            self._finish()
            self.renderer.contexts.to_ui()

    def view(self) -> Any:
        """The frame as the editor shows it: 8-bit (copy mode byte, written into an 8-bit texture)
        or the float32 array (copy mode float, a raw texture)."""
        self._turn()
        self.renderer.draw()
        frame = self.renderer.image_bytes()
        return frame if frame is not None else self.renderer.image()

    def naive(self) -> Any:
        self._turn()
        self.renderer.draw(read=False)
        renderer = self.renderer
        output = renderer.edit.buffer if renderer.shading == "edit" else renderer.app.base.win
        renderer.contexts.to_panda(current=True)
        texture = output.getScreenshot()
        renderer.contexts.to_ui()
        width, height = texture.getXSize(), texture.getYSize()
        pixels = self.np.frombuffer(memoryview(texture.getRamImage()), self.np.uint8).reshape(height, width, 4)
        return pixels[::-1, :, [2, 1, 0, 3]].astype(self.np.float32) * (1.0 / 255.0)

    def editor(self) -> None:
        self.camera.orbit(2.0, 0.0)   # the editor's loop sees the camera move and asks for a frame
        self.app.frame()

    def renderer_name(self) -> str:
        gsg = self.renderer.app.base.win.getGsg()
        return f"{gsg.getDriverVendor()} {gsg.getDriverRenderer()}".strip()

    def close(self) -> None:
        if self.ui:
            self.driver.close()
        else:
            self.renderer.close()


def time_kinds(bench: Bench, frames: int, warmup: int) -> dict[str, dict[str, float]]:
    """Each kind once per round, in turn, so all of them see the same moments of a noisy machine;
    between two kinds (untimed) the GPU finishes, so no kind pays for the one before (``raw``
    returns before the GPU, or llvmpipe's threads, have drawn)."""
    kinds = bench.kinds
    for _ in range(warmup):
        for fn in kinds.values():
            fn()
            bench.finish()
    wall: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(frames):
        for name, fn in kinds.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            wall[name].append((time.perf_counter() - w) * 1000.0)
            cpu[name].append((time.process_time() - c) * 1000.0)
            bench.finish()
    return {name: {"wall_ms": round(statistics.median(wall[name]), 3), "cpu_ms": round(statistics.median(cpu[name]), 3)}
            for name in kinds}


def idle_cpu(world: Path, seconds: float) -> float | None:
    """CPU percent of one core an idle ``main.py edit`` uses over ``seconds``."""
    if seconds <= 0 or not os.environ.get("DISPLAY"):
        return None
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"storm-bench-editor-{os.getpid()}.log"
    with log.open("w") as err:
        child = subprocess.Popen([sys.executable, str(REPO_ROOT / "main.py"), "edit", str(world)], cwd=REPO_ROOT,
                                 stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while "opened " not in log.read_text(errors="replace") and time.monotonic() < deadline:
            if child.poll() is not None:
                return None
            time.sleep(0.2)
        time.sleep(2.0)  # it goes idle half a second after the last change

        def used() -> float:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        start, began = used(), time.monotonic()
        time.sleep(seconds)
        return round((used() - start) / (time.monotonic() - began) * 100.0, 2)
    finally:
        child.kill()
        child.wait(timeout=30)
        log.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    from editor.viewport import DEFAULT_COPY

    args = parse_args(argv)
    ui = not args.no_ui
    server = _ensure_display() if ui else None
    summary: dict[str, Any] = {"benchmark": "editor", "ui": ui, "world": args.world.name, **machine_info()}
    try:
        bench = Bench(args.world, ui)
        summary["renderer"] = bench.renderer_name()
        try:
            combos = [(s, c, r) for s in args.shadings.split(",") for c in args.copies.split(",")
                      for r in args.readbacks.split(",")]
            for size_text in args.sizes.split(","):
                size = _size(size_text)
                for shading, copy, readback in combos:
                    progress(f"{size_text} {shading} {copy} {readback}: {args.frames} frames of {', '.join(bench.kinds)}")
                    bench.configure(size, shading, copy, readback)
                    times = time_kinds(bench, args.frames, args.warmup)
                    path = bench.renderer.readback_path
                    record = {"size": size_text, "shading": shading, "copy": copy, "readback": path,
                              "readback_note": bench.renderer.readback_note, **times}
                    emit(record)
                    shown = times["editor" if ui else "view"]["wall_ms"]
                    key = f"{size_text}_{shading}_{copy}_{readback}"
                    figures = {"viewport_ms": shown, "raw_draw_ms": times["raw"]["wall_ms"],
                               "view_copy_ms": times["view"]["wall_ms"], "naive_copy_ms": times["naive"]["wall_ms"],
                               "viewport_ratio_vs_raw_draw": ratio(shown, times["raw"]["wall_ms"])}
                    if "raw_finished" in times:
                        figures["raw_draw_finished_ms"] = times["raw_finished"]["wall_ms"]
                    fps = round(1000.0 / shown, 1) if shown else None
                    for name, value in figures.items():
                        summary[f"{name}_{key}"] = value
                    summary[f"fps_{key}"] = fps
                    if copy == DEFAULT_COPY and readback == "pbo":   # the editor's own defaults: headline figures
                        summary["readback"], summary["readback_note"] = path, bench.renderer.readback_note
                        for name, value in figures.items():
                            summary[f"{name}_{size_text}_{shading}"] = value
                        summary[f"{shading}_shading_fps_{size_text}"] = fps
        finally:
            bench.close()
        summary["idle_cpu_percent"] = idle_cpu(args.world, args.idle_seconds) if ui else None
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    emit(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
