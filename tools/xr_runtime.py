"""Build the vendored Monado OpenXR runtime once, for the VR tests; say where its runtime JSON is.

Monado (the open-source OpenXR runtime) is not packaged for Debian 12, so the test tooling
builds it from the source tarball in ``../shared/vendor`` (beside the repository, when present)
into a cache folder keyed by the tarball's sha256: ``~/.cache/storm/monado-<hash16>/``. The
build happens in a temporary folder next to it and is renamed into place only when complete, so
an interrupted build is never taken for a finished one. Progress lines go to stderr.

It is built with its null compositor and simulated HMD and controllers only (no hardware
drivers, no service): the runtime runs inside the process that opens it, headless-capable, so
tests drive a real OpenXR session without a headset. Users with a headset use their own runtime.

    python -m tools.xr_runtime          # build (if needed) and print the runtime JSON path
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT.parent / "shared" / "vendor"
TARBALL_GLOB = "monado-*.tar.xz"
RUNTIME_JSON = Path("share") / "openxr" / "1" / "openxr_monado.json"
PACKAGES = ROOT / "tools" / "debian" / "vr.packages"
DRIVERS_OFF = ("NS", "WMR", "TWRAP", "ROKID", "RIFT_S", "HDK", "HYDRA", "PSMV", "PSSENSE", "REMOTE", "VIVE",
               "QWERTY", "ARDUINO", "DAYDREAM", "DEPTHAI", "EUROC", "HANDTRACKING", "ILLIXR", "OHMD", "OPENGLOVES",
               "REALSENSE", "SURVIVE", "ULV2", "VF", "XREAL_AIR", "SIMULAVR", "STEAMVR_LIGHTHOUSE", "BLUBUR_S1",
               "PSVR", "NREAL_AIR", "SAMPLE", "ANDROID")
CMAKE_FLAGS = (
    "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF", "-DXRT_BUILD_SAMPLES=OFF", "-DBUILD_DOC=OFF",
    "-DXRT_FEATURE_SERVICE=OFF", "-DXRT_MODULE_IPC=OFF", "-DXRT_MODULE_COMPOSITOR_MAIN=ON",
    "-DXRT_MODULE_COMPOSITOR_NULL=ON", "-DXRT_HAVE_XCB=ON", "-DXRT_HAVE_WAYLAND=OFF", "-DXRT_HAVE_SDL2=OFF",
    "-DXRT_HAVE_OPENCV=OFF", "-DXRT_HAVE_GST=OFF", "-DXRT_HAVE_DBUS=OFF", "-DXRT_HAVE_SYSTEMD=OFF",
    "-DXRT_MODULE_MONADO_CLI=OFF", "-DXRT_MODULE_MONADO_GUI=OFF", "-DXRT_MODULE_AUX_VIVE=OFF",
    "-DXRT_FEATURE_STEAMVR_PLUGIN=OFF", "-DXRT_BUILD_DRIVER_SIMULATED=ON",
    *(f"-DXRT_BUILD_DRIVER_{name}=OFF" for name in DRIVERS_OFF),
)
# What a process needs in its environment to open the built runtime with simulated devices.
RUN_ENV = {"XRT_COMPOSITOR_NULL": "1", "SIMULATED_ENABLE": "1", "SIMULATED_LEFT": "simple",
           "SIMULATED_RIGHT": "simple", "XRT_LOG": "error", "XR_LOADER_DEBUG": "none"}


class RuntimeUnavailable(Exception):
    """The vendored runtime cannot be built here; the message says what is missing."""


def _say(line: str) -> None:
    sys.stderr.write(f"[monado] {line}\n")
    sys.stderr.flush()


def find_tarball(vendor: Path = VENDOR) -> Path | None:
    """The vendored Monado source tarball, or None when this checkout has none beside it."""
    found = sorted(vendor.glob(TARBALL_GLOB)) if vendor.is_dir() else []
    return found[-1] if found else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storm"


def missing_packages(packages: Path = PACKAGES) -> list[str]:
    """The Debian packages of ``tools/debian/vr.packages`` that are not installed (all of them
    when dpkg is absent)."""
    names = [line.strip() for line in packages.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    if shutil.which("dpkg-query") is None:
        return names
    missing = []
    for name in names:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
        if "install ok installed" not in done.stdout:
            missing.append(name)
    return missing


def _run(command: list[str], cwd: Path, log: Path, say: Callable[[str], None]) -> None:
    """Run a build step, its output into ``log``; ninja's ``[n/m]`` lines become progress."""
    with log.open("a", encoding="utf-8") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert process.stdout is not None
        last = 0.0
        for line in process.stdout:
            out.write(line)
            if line.startswith("[") and "/" in line.split("]")[0] and time.monotonic() - last > 10.0:
                say(line.split("]")[0] + "]")
                last = time.monotonic()
        if process.wait() != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeUnavailable(f"building Monado failed ({' '.join(command[:2])}); log {log}:\n{tail}")


def build(tarball: Path, dest: Path, say: Callable[[str], None] = _say) -> None:
    """Unpack ``tarball``, configure, build and install Monado into ``dest`` (which must not exist)."""
    jobs = str(max(1, os.cpu_count() or 1))
    work = Path(tempfile.mkdtemp(prefix=dest.name + ".building-", dir=dest.parent))
    try:
        say(f"unpacking {tarball.name}")
        with tarfile.open(tarball) as archive:
            archive.extractall(work / "src", filter="data")
        source = next(p for p in (work / "src").iterdir() if p.is_dir())
        install = work / "install"
        log = work / "build.log"
        started = time.monotonic()
        say(f"configuring (cmake); log {log}")
        _run(["cmake", "-S", str(source), "-B", str(work / "build"), f"-DCMAKE_INSTALL_PREFIX={install}",
              *CMAKE_FLAGS], work, log, say)
        say(f"compiling with {jobs} jobs (about 3 minutes on 2 free cores)")
        _run(["cmake", "--build", str(work / "build"), "--parallel", jobs], work, log, say)
        _run(["cmake", "--install", str(work / "build")], work, log, say)
        if not (install / RUNTIME_JSON).is_file():
            raise RuntimeUnavailable(f"the Monado build installed no {RUNTIME_JSON}; log {log}")
        shutil.copy(log, install / "build.log")
        os.rename(install, dest)              # atomic: the cache folder exists only when complete
        say(f"built in {time.monotonic() - started:.0f} s: {dest}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure_runtime(tarball: Path | None = None, say: Callable[[str], None] = _say) -> Path:
    """The path of the built runtime's JSON manifest, building it first when the cache lacks it.
    Raises RuntimeUnavailable naming what is missing (the tarball, Debian packages, a failed build)."""
    tarball = tarball or find_tarball()
    if tarball is None:
        raise RuntimeUnavailable(f"no vendored Monado source ({VENDOR / TARBALL_GLOB})")
    root = cache_root()
    dest = root / f"monado-{sha256_of(tarball)[:16]}"
    manifest = dest / RUNTIME_JSON
    if manifest.is_file():
        return manifest
    missing = missing_packages()
    if missing:
        raise RuntimeUnavailable("Debian packages needed to build Monado are missing: "
                                 f"sudo apt-get install -y --no-install-recommends {' '.join(missing)}")
    root.mkdir(parents=True, exist_ok=True)
    with (root / f"{dest.name}.lock").open("w") as lock:   # two test runs at once build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.is_file():
            build(tarball, dest, say)
    return manifest


def runtime_env(manifest: Path) -> dict[str, str]:
    """Environment variables that make the OpenXR loader open this runtime with simulated devices."""
    return {"XR_RUNTIME_JSON": str(manifest), **RUN_ENV}


def main() -> int:
    try:
        print(ensure_runtime())
    except RuntimeUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
