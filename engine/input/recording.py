"""Input recordings: per-tick action values (not keys) with the tick rate and seed they were made at,
saved as JSON lines and replayed headless, tick by tick, to reproduce a session exactly.

The first line is a header, then one line per tick holding only what was not neutral::

    {"storm_input_recording": 1, "tick_rate": 60.0, "seed": 7, "ticks": 3, "actions": {"jump": "button", ...}}
    {}
    {"held": ["jump"], "vectors": {"move": [0.0, 1.0]}}
    {"axes": {"zoom": -0.5}}
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.errors import DataError
from engine.input.actions import NEUTRAL, ActionFrame
from engine.input.bindings import KINDS
from engine.packs.json_text import atomic_write, parse_json, read_text

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.input")

VERSION_KEY = "storm_input_recording"
CURRENT_VERSION = 1
HEADER_KEYS = (VERSION_KEY, "tick_rate", "seed", "ticks", "actions")
FRAME_KEYS = ("held", "axes", "vectors")


@dataclass
class Recording:
    """A recorded input session: one ActionFrame per tick, the tick rate and world seed, and the
    kind of each action of the map it was recorded with."""

    tick_rate: float
    seed: int
    actions: dict[str, str]
    frames: list[ActionFrame] = field(default_factory=list)

    def to_text(self) -> str:
        header = {VERSION_KEY: CURRENT_VERSION, "tick_rate": self.tick_rate, "seed": self.seed,
                  "ticks": len(self.frames), "actions": self.actions}
        lines = [json.dumps(header, allow_nan=False)]
        lines += [json.dumps(_frame_data(frame), allow_nan=False, separators=(", ", ": ")) for frame in self.frames]
        return "\n".join(lines) + "\n"

    def save(self, path: Path | str) -> None:
        """Write the recording atomically."""
        atomic_write(path, self.to_text())


def _frame_data(frame: ActionFrame) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if frame.held:
        data["held"] = sorted(frame.held)
    if frame.axes:
        data["axes"] = {name: frame.axes[name] for name in sorted(frame.axes)}
    if frame.vectors:
        data["vectors"] = {name: list(frame.vectors[name]) for name in sorted(frame.vectors)}
    return data


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _parse_frame(data: Any, source: str) -> ActionFrame:
    if not isinstance(data, dict):
        raise DataError(source, "", "an object with held, axes and vectors", data)
    for key in data:
        if key not in FRAME_KEYS:
            raise DataError(source, key, f"one of the keys {', '.join(FRAME_KEYS)}", key)
    held = data.get("held", [])
    if not isinstance(held, list) or not all(isinstance(n, str) for n in held):
        raise DataError(source, "held", "a list of action names", held)
    axes = data.get("axes", {})
    if not isinstance(axes, dict) or not all(_number(v) for v in axes.values()):
        raise DataError(source, "axes", "an object of action name -> number", axes)
    vectors = data.get("vectors", {})
    if not isinstance(vectors, dict) or not all(
            isinstance(v, list) and len(v) == 2 and all(_number(n) for n in v) for v in vectors.values()):
        raise DataError(source, "vectors", "an object of action name -> [x, y]", vectors)
    return ActionFrame(frozenset(held), {k: float(v) for k, v in axes.items()},
                       {k: (float(v[0]), float(v[1])) for k, v in vectors.items()})


def parse_recording(text: str, source: str) -> Recording:
    """Check recording text line by line; raises DataError naming the line and what was expected."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise DataError(source, "line 1", "a recording header line")
    header = parse_json(lines[0], f"{source}: line 1")
    if not isinstance(header, dict) or header.get(VERSION_KEY) != CURRENT_VERSION:
        raise DataError(source, "line 1", f"a header object with \"{VERSION_KEY}\": {CURRENT_VERSION}", header)
    for key in header:
        if key not in HEADER_KEYS:
            raise DataError(source, f"line 1: {key}", f"one of the keys {', '.join(HEADER_KEYS)}", key)
    tick_rate, seed, ticks, actions = (header.get(k) for k in ("tick_rate", "seed", "ticks", "actions"))
    if not _number(tick_rate) or not 1.0 <= tick_rate <= 1000.0:
        raise DataError(source, "line 1: tick_rate", "ticks per second from 1 to 1000", tick_rate)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise DataError(source, "line 1: seed", "a whole number", seed)
    if not isinstance(actions, dict) or not all(k in KINDS for k in actions.values()):
        raise DataError(source, "line 1: actions", "an object of action name -> button, axis or axis2", actions)
    if isinstance(ticks, bool) or not isinstance(ticks, int) or ticks != len(lines) - 1:
        raise DataError(source, "line 1: ticks", f"the number of tick lines that follow ({len(lines) - 1}); "
                                                 "the file may be cut short", ticks)
    frames = [_parse_frame(parse_json(line, f"{source}: line {n}"), f"{source}: line {n}")
              for n, line in enumerate(lines[1:], start=2)]
    return Recording(float(tick_rate), seed, dict(actions), frames)


def load_recording(path: Path | str) -> Recording:
    """Read a recording file; every failure is a DataError naming the file."""
    source = str(path)
    text = read_text(path)
    return parse_recording(text, source)


class Recorder:
    """Collects the action values of each tick into a Recording (the input system feeds it)."""

    def __init__(self, tick_rate: float, seed: int, actions: dict[str, str]) -> None:
        self.recording = Recording(tick_rate, seed, dict(actions))

    def add(self, frame: ActionFrame) -> None:
        self.recording.frames.append(frame)


class ReplaySource:
    """Hands out a recording's frames one per tick; finished after the last (then neutral input)."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.index = 0
        self.finished = not recording.frames

    def poll(self) -> ActionFrame:
        frames = self.recording.frames
        if self.index >= len(frames):
            self.finished = True
            return NEUTRAL
        frame = frames[self.index]
        self.index += 1
        self.finished = self.index >= len(frames)
        return frame


def replay(world: "World", recording: Recording | Path | str) -> int:
    """Play a recording through the world's input system, headless, until it ends; returns ticks run.

    Ticks use the recording's tick length, so a replay follows the same simulated time as the session.
    """
    from engine.input.input_system import InputSystem

    if not isinstance(recording, Recording):
        recording = load_recording(recording)
    system = world.system(InputSystem)
    if system is None:
        raise LookupError(f"world {world.name!r} has no InputSystem to replay input through")
    if world.seed != recording.seed:
        log.warning("input: replaying a recording made with seed %d in a world with seed %d; "
                    "results may differ", recording.seed, world.seed)
    previous = system.source
    source = ReplaySource(recording)
    system.set_source(source)
    dt = 1.0 / recording.tick_rate
    ticks = 0
    try:
        while not source.finished:
            world.tick(dt)
            ticks += 1
    finally:
        system.set_source(previous)
    return ticks
