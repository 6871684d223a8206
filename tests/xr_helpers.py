"""The real OpenXR runtime for VR tests: Monado, built once from the vendored source.

``monado_runtime`` (session-scoped) builds the runtime into the cache (``tools/xr_runtime.py``)
the first time and returns its manifest; when the vendored source or the Debian packages it needs
are absent the tier skips with the reason. ``runtime_child_env`` is the environment of a child
process that opens it with simulated HMD and controllers. Sessions run in child processes: the
runtime raises a thread to real-time priority and is one per process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.xr_runtime import RuntimeUnavailable, ensure_runtime, runtime_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def monado_runtime() -> Path:
    """The built Monado's runtime JSON (built on first use; the tier skips without its source)."""
    try:
        return ensure_runtime()
    except RuntimeUnavailable as exc:
        pytest.skip(f"no OpenXR runtime for the VR tests: {exc}")


def runtime_child_env(manifest: Path, display: str | None = None) -> dict[str, str]:
    """A child's environment: the repository importable, the runtime selected, simulated devices on."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **runtime_env(manifest))
    env.pop("WAYLAND_DISPLAY", None)
    if display is not None:
        env["DISPLAY"] = display
    else:
        env.pop("DISPLAY", None)
    return env


def run_xr_child(args: list[str], env: dict[str, str], timeout: float = 240.0) -> tuple[subprocess.CompletedProcess[str],
                                                                                        dict]:
    """Run ``python -m tests.xr_session_child ARGS``; the process and the JSON object its last stdout
    line reports (empty when it printed none)."""
    done = subprocess.run([sys.executable, "-m", "tests.xr_session_child", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    lines = [line for line in done.stdout.strip().splitlines() if line.startswith("{")]
    return done, (json.loads(lines[-1]) if lines else {})
