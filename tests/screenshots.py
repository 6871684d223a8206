"""Helpers for tests that play a world through main.py offscreen and read its pixels."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from panda3d.core import Filename, NodePath, PerspectiveLens, PNMImage, Point2, Point3

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 320, 180


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``main.py`` with these arguments from the repository root."""
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def entity(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in data["entities"] if e["name"] == name)


def project(world_data: dict[str, Any], point: tuple[float, float, float],
            size: tuple[int, int] = (WIDTH, HEIGHT)) -> tuple[int, int]:
    """Where a world point lands in the screenshot, from the entity named "Camera" in the world data."""
    camera = entity(world_data, "Camera")
    transform = camera.get("transform", {})
    node = NodePath("camera")
    node.setPosHpr(*transform.get("pos", [0, 0, 0]), *transform.get("hpr", [0, 0, 0]))
    lens = PerspectiveLens()
    lens.setAspectRatio(size[0] / size[1])
    lens.setFov(camera["components"]["Camera"].get("fov", 60))
    film = Point2()
    assert lens.project(node.getRelativePoint(NodePath(), Point3(*point)), film), point
    return int((film.x + 1) / 2 * size[0]), int((1 - film.y) / 2 * size[1])


def screenshot(world: Path, out: Path, frames: int = 2, size: tuple[int, int] = (WIDTH, HEIGHT)) -> PNMImage:
    """Play ``world`` offscreen for a few frames and return the last frame."""
    result = run_main("play", str(world), "--offscreen", "--frames", str(frames), "--size", f"{size[0]}x{size[1]}",
                      "--screenshot", str(out))
    assert result.returncode == 0, result.stderr
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(out)))
    assert (image.getXSize(), image.getYSize()) == size
    return image


def shoot(data: dict[str, Any], folder: Path, name: str, **kwargs: Any) -> PNMImage:
    """Write world data to ``folder/name.world.json`` and screenshot it."""
    path = folder / f"{name}.world.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return screenshot(path, folder / f"{name}.png", **kwargs)


def rgb(image: PNMImage, x: int, y: int) -> tuple[float, float, float]:
    c = image.getXel(x, y)
    return c[0], c[1], c[2]


def luminance(image: PNMImage, x: int, y: int, radius: int = 2) -> float:
    """Mean brightness of a small square of pixels around (x, y)."""
    total, count = 0.0, 0
    for px in range(x - radius, x + radius + 1):
        for py in range(y - radius, y + radius + 1):
            r, g, b = rgb(image, px, py)
            total += 0.2126 * r + 0.7152 * g + 0.0722 * b
            count += 1
    return total / count
