"""Shared benchmark plumbing: JSON lines on stdout, progress on stderr, frame timing, workers.

Each benchmark prints one JSON object per line on stdout (the last line is its summary) and
human progress on stderr, so ``tail -n1`` of stdout is always machine-readable. Peers that
are process-global singletons (ShowBase, Ursina, esper) run in worker subprocesses; a worker
reports its result as one line starting with ``RESULT_MARKER`` so that whatever else the peer
prints on stdout (Ursina prints its folders) cannot be mistaken for it.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULT_MARKER = "STORM_BENCH_RESULT "


def emit(record: dict[str, Any]) -> None:
    """Print one JSON object as a single stdout line, flushed at once."""
    sys.stdout.write(json.dumps(record, sort_keys=False) + "\n")
    sys.stdout.flush()


def progress(message: str) -> None:
    """Human-readable progress, on stderr so it never mixes with the JSON on stdout."""
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on; absolute times only compare within one machine."""
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count() or 0, "processor": platform.processor() or platform.machine()}


def time_frames(step: Callable[[], Any], warmup: int, frames: int) -> dict[str, float]:
    """Call ``step`` ``warmup`` times untimed, then ``frames`` times, each timed on its own.

    Each frame is timed twice: CPU time of this process (``time.process_time``, which leaves
    out time the virtual machine's CPU was stolen by neighbours) and wall time
    (``time.perf_counter``). Returns the median CPU ms/frame (the headline figure), p10/p90 of
    CPU time, and the median and mean wall ms/frame.
    """
    for _ in range(warmup):
        step()
    wall, cpu = time.perf_counter, time.process_time
    wall_samples: list[float] = []
    cpu_samples: list[float] = []
    for _ in range(frames):
        wall_start, cpu_start = wall(), cpu()
        step()
        cpu_samples.append(cpu() - cpu_start)
        wall_samples.append(wall() - wall_start)
    cpu_samples.sort()
    return {
        "cpu_ms": statistics.median(cpu_samples) * 1000.0,
        "cpu_p10_ms": cpu_samples[len(cpu_samples) // 10] * 1000.0,
        "cpu_p90_ms": cpu_samples[(len(cpu_samples) * 9) // 10] * 1000.0,
        "wall_ms": statistics.median(wall_samples) * 1000.0,
        "wall_mean_ms": statistics.fmean(wall_samples) * 1000.0,
    }


def time_paired(first: Callable[[], Any], second: Callable[[], Any], frames: int) -> tuple[float, float]:
    """Alternate two frame functions ``frames`` times each; median CPU ms of each.

    Both see the same moments of a noisy machine, so their ratio is steadier than one taken
    between separate runs.
    """
    cpu = time.process_time
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(frames):
        for fn, out in ((first, samples[0]), (second, samples[1])):
            start = cpu()
            fn()
            out.append(cpu() - start)
    return statistics.median(samples[0]) * 1000.0, statistics.median(samples[1]) * 1000.0


def report_result(result: dict[str, Any]) -> None:
    """Called in a worker: hand the result to the parent process."""
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


def run_worker(module: str, args: list[str], timeout_s: float = 600.0) -> dict[str, Any]:
    """Run ``python -m module *args`` from the repository root and return its reported result.

    Raises RuntimeError naming the worker, with the tail of its output, when it fails or
    reports nothing.
    """
    command = [sys.executable, "-m", module, *args]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    tail = (completed.stdout + completed.stderr)[-2000:]
    raise RuntimeError(f"worker {' '.join(command[2:])} exited with {completed.returncode} "
                       f"and reported no result; its output ends with:\n{tail}")


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend, or None (with a note) when it is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        progress("matplotlib is not installed; no plot written")
        return None
    return plt


def save_figure(figure: Any, path: Path) -> str:
    """Lay out, write as PNG (making the folder), close; returns the path written."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return str(path)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` rounded to 3 places, or None when either is missing."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def gl_finish_function() -> Callable[[], Any] | None:
    """``glFinish`` of the current OpenGL context (libOpenGL through glvnd), or None."""
    import ctypes

    for name in ("libOpenGL.so.0", "libGL.so.1"):
        try:
            return ctypes.CDLL(name).glFinish
        except (OSError, AttributeError):
            continue
    return None
