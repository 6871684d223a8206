"""The fixed-timestep simulation clock, decoupled from the render rate."""
from __future__ import annotations


class FixedClock:
    """Turns elapsed frame time into a whole number of fixed ticks plus a blend factor.

    ``advance(frame_seconds)`` returns how many ticks to run; ``alpha`` (0..1) tells the renderer
    how far it is between the last tick and the next one, for interpolation. Long stalls are
    capped at ``max_ticks_per_frame`` so a slow frame cannot start a spiral of ever longer frames.
    """

    def __init__(self, tick_rate: float = 60.0, max_ticks_per_frame: int = 8) -> None:
        if tick_rate <= 0:
            raise ValueError("tick_rate must be positive")
        self.tick_rate = tick_rate
        self.dt = 1.0 / tick_rate
        self.max_ticks_per_frame = max_ticks_per_frame
        self.accumulator = 0.0
        self.ticks = 0
        self.dropped_seconds = 0.0

    def advance(self, frame_seconds: float) -> int:
        self.accumulator += max(0.0, frame_seconds)
        count = int(self.accumulator / self.dt + 1e-9)
        if count > self.max_ticks_per_frame:
            self.dropped_seconds += (count - self.max_ticks_per_frame) * self.dt
            count = self.max_ticks_per_frame
            self.accumulator = self.dt * count
        self.accumulator -= count * self.dt
        if self.accumulator < 0:
            self.accumulator = 0.0
        self.ticks += count
        return count

    @property
    def alpha(self) -> float:
        return min(1.0, self.accumulator / self.dt)
