"""A real OpenSimulator for the OpenSimulator client's tests, built once from the vendored source.

``ensure_server_build()`` builds the vendored OpenSimulator 0.9.2.2 (``../shared/vendor``, beside
the repository, with its ``opensim_server.sh``) into a cache folder keyed by the tarball's
sha256, ``~/.cache/storm/opensim-<hash16>/``: built in a temporary folder beside it and renamed
into place only when complete, under a lock, with progress lines. ``OpenSimServer.start()`` copies
the built ``bin/`` into a fresh work folder and starts a standalone region there (SQLite, the
test avatar "Test User" / "testpass"), waits until logins are enabled (bounded; the script polls
the server's log) and gives the login URI and the console FIFO. The ``opensim_server`` fixture
yields a running one and stops it; the tier skips, with the reason, when the tarball or Mono is
absent.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT.parent / "shared" / "vendor"
TARBALL_GLOB = "opensim-*.tar.xz"
SCRIPT = "opensim_server.sh"
PACKAGES = ROOT / "tools" / "debian" / "opensim.packages"
FIRST, LAST, PASSWORD = "Test", "User", "testpass"
BUILD_TIMEOUT = 900.0
START_TIMEOUT = 150.0


class ServerUnavailable(Exception):
    """The vendored server cannot be built or started here; the message says what is missing."""


def _say(line: str) -> None:
    sys.stderr.write(f"[opensim] {line}\n")
    sys.stderr.flush()


def find_tarball(vendor: Path = VENDOR) -> Path | None:
    found = sorted(vendor.glob(TARBALL_GLOB)) if vendor.is_dir() else []
    return found[-1] if found else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "storm"


def ensure_server_build(tarball: Path | None = None) -> Path:
    """The folder of the built server (with ``bin/OpenSim.exe``), building it first when the cache lacks it."""
    tarball = tarball or find_tarball()
    if tarball is None:
        raise ServerUnavailable(f"no vendored OpenSimulator source ({VENDOR / TARBALL_GLOB})")
    script = tarball.parent / SCRIPT
    if not script.is_file():
        raise ServerUnavailable(f"no {SCRIPT} beside {tarball.name}")
    dest = cache_root() / f"opensim-{_sha256(tarball)[:16]}"
    if (dest / "bin" / "OpenSim.exe").is_file():
        return dest
    missing = [tool for tool in ("mono", "xbuild") if shutil.which(tool) is None]
    if missing:
        packages = " ".join(line.strip() for line in PACKAGES.read_text(encoding="utf-8").splitlines()
                            if line.strip() and not line.startswith("#"))
        raise ServerUnavailable(f"{', '.join(missing)} not found: sudo apt-get install -y --no-install-recommends "
                                f"{packages}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (dest.parent / f"{dest.name}.lock").open("w") as lock:   # two test runs at once build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (dest / "bin" / "OpenSim.exe").is_file():
            _build(script, dest)
    return dest


def _build(script: Path, dest: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=dest.name + ".building-", dir=dest.parent))
    try:
        _say(f"building OpenSimulator from {script.parent} (about a minute on 2 cores); log {work}/server/logs")
        started = time.monotonic()
        process = subprocess.Popen(["bash", str(script), "build", str(work / "server")], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        while True:
            try:
                out, _ = process.communicate(timeout=15)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() - started > BUILD_TIMEOUT:
                    process.kill()
                    raise ServerUnavailable(f"building OpenSimulator took more than {BUILD_TIMEOUT:.0f} s") from None
                _say(f"still building ({time.monotonic() - started:.0f} s)")
        if process.returncode != 0 or not (work / "server" / "bin" / "OpenSim.exe").is_file():
            raise ServerUnavailable(f"building OpenSimulator failed: {out[-2000:]}")
        os.rename(work / "server", dest)          # atomic: the cache folder exists only when complete
        _say(f"built in {time.monotonic() - started:.0f} s: {dest}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    """A port free for both TCP (the login service) and UDP (the region) on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise ServerUnavailable("no free port on 127.0.0.1")


@dataclass
class OpenSimServer:
    """A running standalone region: its login URI, console FIFO and log."""

    workdir: Path
    port: int
    script: Path
    _console_lock = threading.Lock()

    @property
    def login_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def console_fifo(self) -> Path:
        return self.workdir / "logs" / "console.fifo"

    @property
    def log_path(self) -> Path:
        return self.workdir / "logs" / "opensim.log"

    @classmethod
    def start(cls, build: Path, script: Path, workdir: Path) -> "OpenSimServer":
        shutil.copytree(build / "bin", workdir / "bin", symlinks=True)
        port = free_port()
        server = cls(workdir, port, script)
        done = subprocess.run(["bash", str(script), "start", str(workdir), str(port)], capture_output=True, text=True,
                              timeout=START_TIMEOUT)
        if done.returncode != 0:
            server.stop()
            raise ServerUnavailable(f"OpenSimulator did not start: {(done.stderr or done.stdout)[-1500:]}")
        return server

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def console(self, command: str, expect: str | None = None, timeout: float = 30.0) -> str:
        """Send a console command; with ``expect`` (a regular expression) wait, bounded, until the log
        written after the command matches it, and return the log text written since."""
        with self._console_lock:
            start = self.log_size()
            with self.console_fifo.open("w", encoding="utf-8") as fifo:
                fifo.write(command + "\n")
            if expect is None:
                return ""
            return self.wait_log(expect, start, timeout)

    def wait_log(self, pattern: str, start: int = 0, timeout: float = 30.0) -> str:
        """Poll the log (from byte ``start``) until ``pattern`` matches; the text since ``start``."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            with self.log_path.open("rb") as stream:
                stream.seek(start)
                text = stream.read().decode("utf-8", "replace")
            if regex.search(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"the server log did not show {pattern!r} within {timeout:g} s; it shows:\n"
                                     f"{text[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        subprocess.run(["bash", str(self.script), "stop", str(self.workdir)], capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def opensim_build() -> Path:
    """The built server (built on first use); the tier skips without the vendored source or Mono."""
    try:
        return ensure_server_build()
    except ServerUnavailable as exc:
        pytest.skip(f"no OpenSimulator for the OpenSimulator tests: {exc}")


@pytest.fixture(scope="session")
def opensim_server(opensim_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSimServer]:
    """A fresh standalone region on 127.0.0.1 for the session's OpenSimulator tests."""
    tarball = find_tarball()
    assert tarball is not None
    # visits (and the processes the tests start) keep fetched textures here, not in the user's cache
    os.environ.setdefault("STORM_OPENSIM_TEXTURE_CACHE", str(tmp_path_factory.mktemp("opensim-textures")))
    try:
        server = OpenSimServer.start(opensim_build, tarball.parent / SCRIPT, tmp_path_factory.mktemp("opensim"))
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()
