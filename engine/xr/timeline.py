"""Scripted XR timelines: head and hand poses and controller inputs over time, as JSON data.

::

    {"storm_xr_timeline": 1,
     "keys": [
       {"time": 0.0, "head": {"pos": [0, 0, 1.7], "hpr": [0, 0, 0]},
        "right": {"pos": [0.2, 0.4, 1.2]}},
       {"time": 1.0, "right": {"pos": [0.2, 0.6, 1.3]},
        "controls": {"right": {"squeeze": 1.0}}}],
     "end": 3.0}

Poses are in the tracking space (Panda3D axes: Z up, +Y forward, metres; ``hpr`` in degrees)
and are interpolated linearly between the keys that name that part; ``controls`` (per hand:
trigger, squeeze, thumbstick [x, y], thumbstick_click, primary, secondary, menu) hold from
their key until the next key that gives controls. ``end`` (seconds) stops the session then;
``lose`` (seconds) loses it then, as a runtime does when the headset goes away.
Files are read through the packs' bounded reader; a bad file raises one DataError naming the
file, the place inside it and what was expected.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panda3d.core import LQuaternion

from engine.core.errors import DataError
from engine.packs.json_text import read_json
from engine.xr.poses import HANDS, HandControls, Pose

VERSION_KEY = "storm_xr_timeline"
MAX_KEYS = 100_000
MAX_FILE_BYTES = 8 * 1024 * 1024
PARTS = ("head", *HANDS)
_CONTROL_FLOATS = ("trigger", "squeeze")
_CONTROL_BOOLS = ("thumbstick_click", "primary", "secondary", "menu")


@dataclass
class Timeline:
    """Keys per part (time, pose) and control changes (time, per-hand controls), sorted by time."""

    poses: dict[str, list[tuple[float, Pose]]] = field(default_factory=lambda: {p: [] for p in PARTS})
    controls: list[tuple[float, dict[str, HandControls]]] = field(default_factory=list)
    end: float | None = None
    lose: float | None = None

    def pose(self, part: str, time: float) -> Pose | None:
        keys = self.poses.get(part) or []
        if not keys:
            return None
        if time <= keys[0][0]:
            return keys[0][1]
        for (t0, a), (t1, b) in zip(keys, keys[1:]):
            if time <= t1:
                return _lerp(a, b, (time - t0) / (t1 - t0) if t1 > t0 else 1.0)
        return keys[-1][1]

    def controls_at(self, time: float) -> dict[str, HandControls]:
        current: dict[str, HandControls] = {}
        for t, controls in self.controls:
            if t > time:
                break
            current = controls
        return current


def _lerp(a: Pose, b: Pose, f: float) -> Pose:
    pos = tuple(x + (y - x) * f for x, y in zip(a.pos, b.pos))
    qa, qb = LQuaternion(*a.quat), LQuaternion(*b.quat)
    if qa.dot(qb) < 0:
        qb = -qb
    q = qa * (1.0 - f) + qb * f
    q.normalize()
    return Pose(pos, (q.getR(), q.getI(), q.getJ(), q.getK()))  # type: ignore[arg-type]


def _number(value: Any, source: str, path: str, low: float = -1e5, high: float = 1e5) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise DataError(source, path, f"a number from {low:g} to {high:g}", value)
    return float(value)


def _vector(value: Any, source: str, path: str, size: int, low: float = -1e5, high: float = 1e5) -> tuple:
    if not isinstance(value, list) or len(value) != size:
        raise DataError(source, path, f"a list of {size} numbers", value)
    return tuple(_number(v, source, f"{path}[{i}]", low, high) for i, v in enumerate(value))


def _keys_only(data: dict, allowed: tuple[str, ...], source: str, path: str) -> None:
    for key in data:
        if key not in allowed:
            raise DataError(source, f"{path}.{key}" if path else key, f"one of {', '.join(allowed)}")


def _pose(data: Any, source: str, path: str) -> Pose:
    if not isinstance(data, dict):
        raise DataError(source, path, "an object with pos and hpr", data)
    _keys_only(data, ("pos", "hpr"), source, path)
    pos = _vector(data.get("pos", [0, 0, 0]), source, f"{path}.pos", 3)
    hpr = _vector(data.get("hpr", [0, 0, 0]), source, f"{path}.hpr", 3, -3600.0, 3600.0)
    return Pose.from_hpr(pos, hpr)  # type: ignore[arg-type]


def _hand_controls(data: Any, source: str, path: str) -> HandControls:
    if not isinstance(data, dict):
        raise DataError(source, path, "an object of controller inputs", data)
    _keys_only(data, (*_CONTROL_FLOATS, "thumbstick", *_CONTROL_BOOLS), source, path)
    values: dict[str, Any] = {}
    for name in _CONTROL_FLOATS:
        if name in data:
            values[name] = _number(data[name], source, f"{path}.{name}", 0.0, 1.0)
    if "thumbstick" in data:
        values["thumbstick"] = _vector(data["thumbstick"], source, f"{path}.thumbstick", 2, -1.0, 1.0)
    for name in _CONTROL_BOOLS:
        if name in data:
            if not isinstance(data[name], bool):
                raise DataError(source, f"{path}.{name}", "true or false", data[name])
            values[name] = data[name]
    return HandControls(**values)


def parse_timeline(data: Any, source: str) -> Timeline:
    """A Timeline from decoded JSON; DataError (naming ``source``) when it is not one."""
    if not isinstance(data, dict):
        raise DataError(source, "", "a JSON object with storm_xr_timeline and keys", data)
    _keys_only(data, (VERSION_KEY, "keys", "end", "lose"), source, "")
    if data.get(VERSION_KEY) != 1:
        raise DataError(source, VERSION_KEY, "1 (the timeline format version)", data.get(VERSION_KEY))
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS:
        raise DataError(source, "keys", f"a list of 1 to {MAX_KEYS} keys", type(keys).__name__)
    timeline = Timeline()
    last = -math.inf
    for index, key in enumerate(keys):
        path = f"keys[{index}]"
        if not isinstance(key, dict):
            raise DataError(source, path, "an object with a time", key)
        _keys_only(key, ("time", *PARTS, "controls"), source, path)
        time = _number(key.get("time"), source, f"{path}.time", 0.0, 1e6)
        if time < last:
            raise DataError(source, f"{path}.time", f"a time not before the previous key's ({last:g})", time)
        last = time
        for part in PARTS:
            if part in key:
                timeline.poses[part].append((time, _pose(key[part], source, f"{path}.{part}")))
        if "controls" in key:
            controls = key["controls"]
            if not isinstance(controls, dict):
                raise DataError(source, f"{path}.controls", "an object with left and/or right", controls)
            _keys_only(controls, HANDS, source, f"{path}.controls")
            timeline.controls.append((time, {hand: _hand_controls(value, source, f"{path}.controls.{hand}")
                                             for hand, value in controls.items()}))
    if "end" in data:
        timeline.end = _number(data["end"], source, "end", 0.0, 1e6)
    if "lose" in data:
        timeline.lose = _number(data["lose"], source, "lose", 0.0, 1e6)
    return timeline


def load_timeline(path: Path | str) -> Timeline:
    """Read a timeline file through the bounded reader."""
    return parse_timeline(read_json(path, MAX_FILE_BYTES), str(path))
