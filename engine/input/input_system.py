"""The input system: first in every tick, it turns the source's frame into this tick's actions.

It publishes the ``Actions`` as ``world.services["input"]``; behaviours read that and nothing
else. A source that fails is logged and reads as neutral input: the tick never stops for input.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.core.system import ORDER_INPUT, System
from engine.input.action_state import Actions
from engine.input.actions import NEUTRAL, ActionFrame
from engine.input.bindings import RawFrame

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.input.recording import Recorder, Recording
    from engine.input.sources import InputSource

log = logging.getLogger("storm.input")
SERVICE = "input"
MAX_WARNINGS = 100  # distinct bad-input messages logged per system; a hostile peer cannot flood the log


@dataclass(frozen=True)
class InputSourceFinished:
    """Sent on the world's event bus on the tick a source with an end (a replay) gave its last frame."""

    source: Any


class InputSystem(System):
    """Reads one frame from its source per tick, resolves it to action values, and records them if asked."""

    name = "input"
    order = ORDER_INPUT

    def __init__(self, actions: Actions, source: "InputSource | None" = None) -> None:
        self.actions = actions
        self.source = source
        self.recorder: "Recorder | None" = None
        self._world: "World | None" = None
        self._warned: set[str] = set()

    def set_source(self, source: "InputSource | None") -> None:
        """Switch where input comes from (None: neutral input, as on a server with no players)."""
        self.source = source

    def attach(self, world: "World") -> None:
        self._world = world
        world.services[SERVICE] = self.actions

    def detach(self, world: "World") -> None:
        if world.services.get(SERVICE) is self.actions:
            del world.services[SERVICE]
        self._world = None

    def update(self, world: "World", dt: float) -> None:
        frame = NEUTRAL
        source = self.source
        if source is not None and not source.finished:
            try:
                frame = self._to_actions(source.poll())
            except Exception:  # noqa: BLE001 - a broken device or file must not stop the tick
                if self._first_time(f"poll:{type(source).__name__}"):
                    log.exception("input: source %s failed; its input reads as neutral", type(source).__name__)
            if source.finished:
                world.events.emit(InputSourceFinished(source))
        self.actions.advance(frame)
        if self.recorder is not None:
            self.recorder.add(frame)

    def _to_actions(self, got: Any) -> ActionFrame:
        action_map = self.actions.map
        if isinstance(got, RawFrame):
            return action_map.resolve(got)
        frame, problems = action_map.sanitize(got)
        for what, message in problems:
            if self._first_time(what):
                log.error("input: %s sent %s; dropped (reported once)", type(self.source).__name__, message)
        return frame

    def _first_time(self, key: str) -> bool:
        if key in self._warned or len(self._warned) >= MAX_WARNINGS:
            return False
        self._warned.add(key)
        return True

    # -- snapshots ------------------------------------------------------------------------------
    def save_state(self, world: "World") -> Any:
        """The action values of the tick just run (what behaviours read until the next tick) and the
        buttons then held (what the next tick's pressed and released are measured against)."""
        return self.actions.save_state()

    def load_state(self, world: "World", state: Any) -> None:
        if state is not None:
            self.actions.load_state(state)

    # -- recording ------------------------------------------------------------------------------
    def start_recording(self) -> "Recorder":
        """Record this tick's action values from the next tick on; ``stop_recording`` hands them back."""
        from engine.input.recording import Recorder

        if self._world is None:
            raise RuntimeError("add the InputSystem to a world before recording")
        self.recorder = Recorder(self._world.tick_rate, self._world.seed, self.actions.map.kinds())
        return self.recorder

    def stop_recording(self) -> "Recording | None":
        recorder, self.recorder = self.recorder, None
        return recorder.recording if recorder is not None else None
