"""Input sources: what the input system asks, once per tick, for the next frame of input.

A source returns either a ``RawFrame`` (physical keys, buttons, axes: resolved through the action
map's bindings) or an ``ActionFrame`` (action values handed over directly: replays, network
peers, XR controllers; checked against the map). ``finished`` turns True when a source with an
end (a script, a replay) has handed out its last frame.
"""
from __future__ import annotations

from typing import Iterable, Protocol, Union

from engine.input.actions import NEUTRAL, ActionFrame
from engine.input.bindings import RawFrame

Frame = Union[RawFrame, ActionFrame]


class InputSource(Protocol):
    """Anything that hands the input system one frame per tick."""

    finished: bool

    def poll(self) -> Frame:
        """The input for the tick about to run."""
        ...


class ScriptedSource:
    """A fixed list of frames, one per tick; after the last it is finished and hands out neutral input.

    Tests drive the real binding resolution with RawFrames here (``RawFrame(down=frozenset({"w"}))``).
    """

    def __init__(self, frames: Iterable[Frame]) -> None:
        self.frames: list[Frame] = list(frames)
        self.index = 0
        self.finished = not self.frames

    def poll(self) -> Frame:
        if self.index >= len(self.frames):
            self.finished = True
            return NEUTRAL
        frame = self.frames[self.index]
        self.index += 1
        self.finished = self.index >= len(self.frames)
        return frame


class DirectActionSource:
    """Action values set from code, held until changed: network input, XR controllers, tests.

    ``hold("jump")``, ``set_axis("zoom", 0.5)``, ``set_vector("move", (0, 1))``; ``clear()`` lets go
    of everything. Values are checked against the action map when the input system takes them.
    """

    finished = False

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._axes: dict[str, float] = {}
        self._vectors: dict[str, tuple[float, float]] = {}

    def hold(self, action: str, down: bool = True) -> None:
        if down:
            self._held.add(action)
        else:
            self._held.discard(action)

    def set_axis(self, action: str, value: float) -> None:
        self._axes[action] = value

    def set_vector(self, action: str, value: tuple[float, float]) -> None:
        self._vectors[action] = (value[0], value[1])

    def set_frame(self, frame: ActionFrame) -> None:
        """Replace every value at once (a network packet carries a whole frame)."""
        self._held = set(frame.held)
        self._axes = dict(frame.axes)
        self._vectors = dict(frame.vectors)

    def clear(self) -> None:
        self._held.clear()
        self._axes.clear()
        self._vectors.clear()

    def poll(self) -> ActionFrame:
        return ActionFrame(frozenset(self._held), dict(self._axes), dict(self._vectors))
