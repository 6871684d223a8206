"""The region's sky: its Windlight settings, read from the ``EnvironmentSettings`` capability.

OpenSimulator (0.9.x) answers a GET of that capability with the legacy Windlight LLSD viewers
read: ``[{messageID, regionID}, day cycle track [[time, frame name], ...], {frame name: sky
settings}, water settings]``. Storm takes the frame the day cycle starts with and maps it onto
its own gradient sky (``Environment``): ``blue_density`` is the colour straight up,
``blue_horizon`` lifted by ``haze_horizon`` towards white is the horizon, and ``sunlight_color``
tints the region's sun. Every value is checked (lists of 3 or 4 finite numbers within
``MAX_COMPONENT``); anything else is refused with one ``SkyError`` saying where and what was
expected, and the region keeps Storm's default sky.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from netcode.opensim.caps import CapsError, get_llsd

log = logging.getLogger("storm.opensim")
MAX_COMPONENT = 10.0          # Windlight sliders go to about 3; anything past this is not a colour
MAX_FRAMES = 64
RETRIES = 4                   # the region answers 503 until our avatar is in it
RETRY_AFTER_S = 2.0

Rgb = tuple[float, float, float]


class SkyError(ValueError):
    """Windlight settings that are not what the capability is documented to send."""


@dataclass(frozen=True)
class RegionSky:
    """What Storm draws of a region's sky."""

    name: str
    sky_top: Rgb
    sky_horizon: Rgb
    sun_color: Rgb


def _colour(frame: dict[str, Any], key: str, where: str) -> Rgb:
    value = frame.get(key)
    if not isinstance(value, list) or len(value) not in (3, 4):
        raise SkyError(f"{where}: {key}: expected a list of 3 or 4 numbers, got {type(value).__name__}")
    rgb = []
    for i, v in enumerate(value[:3]):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or not 0.0 <= v <= MAX_COMPONENT:
            raise SkyError(f"{where}: {key}[{i}]: expected a number 0-{MAX_COMPONENT:g}, got {str(v)[:40]!r}")
        rgb.append(float(v))
    return rgb[0], rgb[1], rgb[2]


def _number(frame: dict[str, Any], key: str, where: str) -> float:
    """A Windlight scalar: sent as the first of four numbers (or, by some servers, on its own)."""
    value = frame.get(key)
    return _colour(frame if isinstance(value, list) else {key: [value, 0.0, 0.0]}, key, where)[0]


def _clamped(rgb: Rgb) -> Rgb:
    return tuple(round(min(1.0, max(0.0, c)), 4) for c in rgb)  # type: ignore[return-value]


def read_windlight(reply: Any, where: str = "EnvironmentSettings") -> RegionSky | None:
    """The sky of a legacy Windlight reply (None: the region sends none, Storm keeps its own)."""
    if not isinstance(reply, list) or not reply:
        raise SkyError(f"{where}: expected an array, got {type(reply).__name__}")
    if len(reply) < 3:
        return None                          # only the message header: the region has no settings
    track, frames = reply[1], reply[2]
    if not isinstance(track, list) or not isinstance(frames, dict):
        raise SkyError(f"{where}: expected [header, day cycle track, sky frames, water], got "
                       f"[..., {type(track).__name__}, {type(frames).__name__}, ...]")
    if len(frames) > MAX_FRAMES:
        raise SkyError(f"{where}: {len(frames)} sky frames, expected at most {MAX_FRAMES}")
    name = ""
    for i, entry in enumerate(track[:MAX_FRAMES]):
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str)):
            raise SkyError(f"{where}: day cycle entry {i}: expected [time, frame name]")
        if not name:
            name = entry[1]
    if not name and frames:
        name = next(iter(frames))
    frame = frames.get(name)
    if not isinstance(frame, dict):
        raise SkyError(f"{where}: the day cycle names sky frame {name[:60]!r}, which is not a map of settings")
    at = f"{where}: sky frame {name[:60]!r}"
    density, horizon, sun = (_colour(frame, key, at) for key in ("blue_density", "blue_horizon", "sunlight_color"))
    haze = min(1.0, _number(frame, "haze_horizon", at))
    lifted = tuple(c + haze * (1.0 - min(1.0, c)) for c in horizon)
    brightest = max(max(sun), 1e-6)
    return RegionSky(name[:100], _clamped(density), _clamped(lifted),  # type: ignore[arg-type]
                     _clamped(tuple(c / brightest for c in sun)))      # type: ignore[arg-type]


def fetch_region_sky(url: str, stopped: Callable[[], bool] = lambda: False) -> RegionSky | None:
    """GET the region's Windlight settings (retrying while the region answers 503) and read them."""
    for attempt in range(RETRIES):
        try:
            return read_windlight(get_llsd(url, timeout=10.0))
        except CapsError as exc:
            if "HTTP 503" not in str(exc) or attempt == RETRIES - 1 or stopped():
                raise
        time.sleep(RETRY_AFTER_S)
    return None
