"""Writes the demo world's heightmap: a 16-bit grey PNG built from numpy, the same bytes every run.

The layout, in metres on a 96 x 96 m terrain centred on the origin (white = 12 m):

- a flat play area around the centre at height 0 (black), where the demo's objects stand;
- a ramp of exactly ``SLOPE_DEGREES`` on the west side, from ``RAMP_START_X`` up to a plateau
  ``PLATEAU_HEIGHT`` high, ``RAMP_HALF_WIDTH`` either side of y = 0;
- gentle hills (seeded waves) rising around the edge, from ``HILLS_START`` out.

    python -m tools.assets.terrain_heightmap                      # content/base/terrain/demo_height.png
    python -m tools.assets.terrain_heightmap --out /tmp/height.png --seed 3
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TextIO

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "content" / "base" / "terrain" / "demo_height.png"
DEFAULT_SEED = 7

PIXELS = 257                          # grid points per side: 0.375 m apart over 96 m
SIZE = (96.0, 96.0, 12.0)             # Terrain.size to use with this image
SLOPE_DEGREES = 15.0                  # walkable: below CharacterController.slope_limit (45 by default)
RAMP_START_X = -16.5                  # the ramp leaves the flat ground here (on a grid line), rising towards -x
PLATEAU_HEIGHT = 3.0
RAMP_HALF_WIDTH = 6.0                 # full height within |y| <= this; shoulders fall off beyond
SHOULDER = 3.0
HILLS_START = 28.0                    # "distance" (a rounded square) from the centre where hills begin
HILLS_RISE = 18.0                     # metres over which they reach full height (steepest about 30 degrees)
HILL_HEIGHT = 7.0
PLATEAU_END_X = RAMP_START_X - PLATEAU_HEIGHT / math.tan(math.radians(SLOPE_DEGREES))


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def grid(pixels: int = PIXELS) -> tuple[np.ndarray, np.ndarray]:
    """World x and y of every pixel, as the Terrain places them (row 0 at +y, column 0 at -x)."""
    steps = np.arange(pixels, dtype=np.float64) / (pixels - 1)
    xs = (steps - 0.5) * SIZE[0]
    ys = (0.5 - steps) * SIZE[1]
    return np.meshgrid(xs, ys)


def hills(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Rolling hills around the edge: zero inside ``HILLS_START``, up to ``HILL_HEIGHT`` outside."""
    rng = np.random.default_rng(seed)
    waves = np.zeros_like(x)
    for _ in range(6):
        angle, wavelength, phase = rng.uniform(0, 2 * math.pi), rng.uniform(12.0, 30.0), rng.uniform(0, 2 * math.pi)
        waves += np.cos((x * math.cos(angle) + y * math.sin(angle)) * 2 * math.pi / wavelength + phase)
    waves = (waves - waves.min()) / (waves.max() - waves.min())
    distance = (np.abs(x) ** 4 + np.abs(y) ** 4) ** 0.25
    return HILL_HEIGHT * _smoothstep((distance - HILLS_START) / HILLS_RISE) * (0.65 + 0.35 * waves)


def ramp(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The west ramp and its plateau: a plane of ``SLOPE_DEGREES`` capped at ``PLATEAU_HEIGHT``."""
    rise = np.clip((RAMP_START_X - x) * math.tan(math.radians(SLOPE_DEGREES)), 0.0, PLATEAU_HEIGHT)
    across = 1.0 - _smoothstep((np.abs(y) - RAMP_HALF_WIDTH) / SHOULDER)
    return rise * across


def heights(seed: int = DEFAULT_SEED, pixels: int = PIXELS, progress: TextIO | None = None) -> np.ndarray:
    """Heights in metres on the pixel grid (row 0 is the +y edge)."""
    x, y = grid(pixels)
    _say(progress, f"[1/3] hills around the edge (seed {seed})")
    surface = hills(x, y, seed)
    _say(progress, f"[2/3] ramp of {SLOPE_DEGREES:g} degrees from x = {RAMP_START_X:g} to a "
                   f"{PLATEAU_HEIGHT:g} m plateau at x <= {PLATEAU_END_X:.2f}")
    return np.maximum(surface, ramp(x, y))


def write_heightmap(out: Path, seed: int = DEFAULT_SEED, pixels: int = PIXELS,
                    progress: TextIO | None = sys.stderr) -> Path:
    """Write the 16-bit grey PNG; returns its path."""
    surface = heights(seed, pixels, progress)
    values = np.clip(np.round(surface / SIZE[2] * 65535.0), 0, 65535).astype(np.uint16)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values).save(out, format="PNG")
    _say(progress, f"[3/3] {out}: {pixels}x{pixels} 16-bit grey, {out.stat().st_size / 1024:.1f} KiB, "
                   f"heights 0..{surface.max():.2f} m of {SIZE[2]:g}")
    return out


def _say(progress: TextIO | None, text: str) -> None:
    if progress is not None:
        print(text, file=progress, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the hills' waves")
    parser.add_argument("--pixels", type=int, default=PIXELS, help="pixels per side (at least 2)")
    args = parser.parse_args(argv)
    if args.pixels < 2:
        parser.error("--pixels must be at least 2")
    write_heightmap(args.out, args.seed, args.pixels)
    print(f"use it with Terrain size {list(SIZE)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
