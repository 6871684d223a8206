"""A private Xvfb server for tests that need a real X display (windows, Dear PyGui, XTEST input).

Use the fixture by importing it into a test module (``from tests.xvfb import x_display``); each
module gets its own server, gone when the module's tests end. ``child_env`` is the environment a
child process needs to draw on it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start_xvfb(screen: str = "640x480x24") -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb on a free display; returns the process and its display name (``:N``) once it
    takes connections."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb is not installed: run `sudo apt-get install -y xvfb xauth` "
                    "(./storm installs it when run as root)")
    read_fd, write_fd = os.pipe()
    # -noreset: an X server restarts when its last client leaves, resetting a connection made just then
    server = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp",
                               "-noreset"],
                              pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        number = ready.readline().strip()  # Xvfb writes the display number once it accepts clients
    if not number:
        code = server.wait(timeout=10)
        pytest.fail(f"Xvfb exited with {code} before it was ready")
    return server, f":{number}"


def stop_xvfb(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    """A private 640x480 Xvfb server; its display name."""
    server, display = start_xvfb()
    try:
        yield display
    finally:
        stop_xvfb(server)


@pytest.fixture(scope="module")
def big_x_display() -> Iterator[str]:
    """A private Xvfb server with room for a whole editor window (1600x1000)."""
    server, display = start_xvfb("1600x1000x24")
    try:
        yield display
    finally:
        stop_xvfb(server)


def child_env(display: str, home: Path | None = None) -> dict[str, str]:
    """The environment of a child process that draws on ``display`` (and imports the repository);
    with ``home``, its Storm folder and user settings live there (``home/storm``, ``home/config``)."""
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(ROOT))
    env.pop("WAYLAND_DISPLAY", None)
    if home is not None:
        env["STORM_HOME"] = str(home / "storm")
        env["XDG_CONFIG_HOME"] = str(home / "config")
        env.pop("STORM_PACKS_DIR", None)
    return env


def run_child_report(module: str, folder: Path, display: str, timeout: float) -> dict:
    """Run ``python -m module folder`` on the display (its own Storm folder in ``folder``); the JSON
    object its last stdout line reports. Fails the test with the child's output when it fails."""
    import json
    import sys

    completed = subprocess.run([sys.executable, "-m", module, str(folder)], cwd=Path(__file__).resolve().parent.parent,
                               env=child_env(display, folder), capture_output=True, text=True, timeout=timeout)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])
