"""The region's sky and sun: its Windlight day cycle, read from the ``EnvironmentSettings``
capability, and its time of day, from SimulatorViewerTimeMessage.

OpenSimulator (0.9.x) answers a GET of that capability with the legacy Windlight LLSD viewers
read: ``[{messageID, regionID}, day cycle track [[time 0-1, frame name], ...], {frame name: sky
settings}, water settings]`` (time 0 is midnight, 0.5 noon). Each frame maps onto Storm's own
gradient sky: ``blue_density`` is the colour straight up, ``blue_horizon`` lifted by
``haze_horizon`` towards white is the horizon, ``sunlight_color`` tints the sun, and
``sun_angle`` / ``east_angle`` place it. ``DayCycle.at(fraction)`` blends the two keyframes
around a time of day.

The time of day comes with each SimulatorViewerTimeMessage: a region that sends a SunDirection
places the sun itself; OpenSimulator's environment module sends a zero direction and encodes
the day fraction in ``SunPhase`` (the legacy viewers' mapping, undone by ``day_fraction``).

Every value is checked (lists of 3 or 4 finite numbers within ``MAX_COMPONENT``, angles
finite); anything else is refused with one ``SkyError`` saying where and what was expected, and
the region keeps Storm's default sky.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from netcode.opensim.caps import CapsError, get_llsd

MAX_COMPONENT = 10.0          # Windlight sliders go to about 3; anything past this is not a colour
MAX_FRAMES = 64
RETRIES = 4                   # the region answers 503 until our avatar is in it
RETRY_AFTER_S = 2.0

Rgb = tuple[float, float, float]
Vec3 = tuple[float, float, float]


class SkyError(ValueError):
    """Windlight settings that are not what the capability is documented to send."""


@dataclass(frozen=True)
class RegionSky:
    """What Storm draws of a region's sky at one time of day."""

    name: str
    sky_top: Rgb
    sky_horizon: Rgb
    sun_color: Rgb
    sun_direction: Vec3       # towards the sun, region frame (x east, y north, z up)


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


def _angle(frame: dict[str, Any], key: str, where: str) -> float:
    value = frame.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > 100.0:
        raise SkyError(f"{where}: {key}: expected an angle in radians, got {str(value)[:40]!r}")
    return float(value)


def _clamped(rgb: Any) -> Rgb:
    return tuple(round(min(1.0, max(0.0, c)), 4) for c in rgb)  # type: ignore[return-value]


def read_frame(frame: Any, name: str, where: str) -> RegionSky:
    """One Windlight sky frame as Storm draws it."""
    if not isinstance(frame, dict):
        raise SkyError(f"{where}: sky frame {name[:60]!r} is not a map of settings")
    at = f"{where}: sky frame {name[:60]!r}"
    density, horizon, sun = (_colour(frame, key, at) for key in ("blue_density", "blue_horizon", "sunlight_color"))
    haze = min(1.0, _number(frame, "haze_horizon", at))
    lifted = tuple(c + haze * (1.0 - min(1.0, c)) for c in horizon)
    brightest = max(max(sun), 1e-6)
    up, east = _angle(frame, "sun_angle", at), _angle(frame, "east_angle", at)
    # Windlight's light direction is (x, y up, z); a region's frame is x east, y north, z up
    direction = (math.cos(up) * math.cos(east), -math.cos(up) * math.sin(east), math.sin(up))
    return RegionSky(name[:100], _clamped(density), _clamped(lifted), _clamped(c / brightest for c in sun),
                     tuple(round(v, 4) for v in direction))  # type: ignore[arg-type]


@dataclass(frozen=True)
class DayCycle:
    """A region's day: sky keyframes at times of day (0 midnight, 0.5 noon), sorted."""

    keys: tuple[tuple[float, RegionSky], ...]

    def at(self, fraction: float) -> RegionSky:
        """The sky at a time of day, blended between the keyframes before and after it."""
        fraction %= 1.0
        keys = self.keys
        after = next((i for i, (t, _) in enumerate(keys) if t > fraction), 0)
        t0, a = keys[after - 1]
        t1, b = keys[after]
        span = (t1 - t0) % 1.0
        w = ((fraction - t0) % 1.0) / span if span > 1e-6 else 0.0
        if w < 1e-4 or a == b:
            return a

        def mix(p: tuple[float, ...], q: tuple[float, ...]) -> tuple[float, ...]:
            return tuple(round(x + (y - x) * w, 4) for x, y in zip(p, q))

        d = mix(a.sun_direction, b.sun_direction)
        norm = math.sqrt(sum(v * v for v in d)) or 1.0
        return RegionSky(a.name if w < 0.5 else b.name, mix(a.sky_top, b.sky_top), mix(a.sky_horizon, b.sky_horizon),
                         mix(a.sun_color, b.sun_color), tuple(round(v / norm, 4) for v in d))  # type: ignore[arg-type]


def read_windlight(reply: Any, where: str = "EnvironmentSettings") -> DayCycle | None:
    """The day cycle of a legacy Windlight reply (None: the region sends none, Storm keeps its own)."""
    if not isinstance(reply, list) or not reply:
        raise SkyError(f"{where}: expected an array, got {type(reply).__name__}")
    if len(reply) < 3:
        return None                          # only the message header: the region has no settings
    track, frames = reply[1], reply[2]
    if not isinstance(track, list) or not isinstance(frames, dict):
        raise SkyError(f"{where}: expected [header, day cycle track, sky frames, water], got "
                       f"[..., {type(track).__name__}, {type(frames).__name__}, ...]")
    if len(frames) > MAX_FRAMES or len(track) > MAX_FRAMES:
        raise SkyError(f"{where}: {max(len(frames), len(track))} sky frames, expected at most {MAX_FRAMES}")
    keys: dict[float, RegionSky] = {}
    for i, entry in enumerate(track):
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str)
                and isinstance(entry[0], (int, float)) and not isinstance(entry[0], bool)):
            raise SkyError(f"{where}: day cycle entry {i}: expected [time, frame name]")
        if entry[1] not in frames:
            raise SkyError(f"{where}: day cycle entry {i} names sky frame {entry[1][:60]!r}, which is not there")
        moment = float(entry[0]) if math.isfinite(entry[0]) and 0.0 <= entry[0] <= 1.0 else 0.0   # -1: a fixed sky
        keys[round(moment % 1.0, 6)] = read_frame(frames[entry[1]], entry[1], where)
    if not keys:
        if not frames:
            return None
        name = next(iter(frames))
        keys[0.0] = read_frame(frames[name], name, where)
    return DayCycle(tuple(sorted(keys.items())))


def day_fraction(sun_phase: float) -> float | None:
    """The time of day (0-1, 0.5 noon) OpenSimulator encodes in SunPhase for legacy viewers (None:
    not a phase it sends)."""
    if not math.isfinite(sun_phase) or not 0.0 <= sun_phase <= 2.0 * math.pi + 1e-4:
        return None
    p = sun_phase / math.pi
    if p <= 1.25:
        return (p + 1.0) / 3.0
    if p <= 1.5:
        return p - 0.5
    if p <= 1.75:
        return p - 1.5
    return (p - 1.0) / 3.0


def fetch_day_cycle(url: str) -> DayCycle | None:
    """GET the region's Windlight settings (retrying while the region answers 503) and read them."""
    for attempt in range(RETRIES):
        try:
            return read_windlight(get_llsd(url, timeout=10.0))
        except CapsError as exc:
            if "HTTP 503" not in str(exc) or attempt == RETRIES - 1:
                raise
        time.sleep(RETRY_AFTER_S)
    return None
