"""Clock sync: a client's estimate of the server's clock and tick from PING/PONG round trips.

Each PONG gives a sample: round trip ``rtt = now - client_time`` and offset
``server_time + rtt / 2 - now``. The estimate uses the sample with the smallest round trip of
the last ``window`` ones (queueing only ever adds delay, so the fastest trip is the most honest);
the tick estimate runs on from the server tick of that sample at the server's tick rate.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class ClockSample:
    rtt: float
    offset: float
    server_tick: int
    server_time: float


class ClockSync:
    """Keeps the last ``window`` samples; ``server_time(now)`` and ``server_tick(now)`` estimate the server's."""

    def __init__(self, tick_rate: float, window: int = 16) -> None:
        self.tick_rate = tick_rate
        self.samples: deque[ClockSample] = deque(maxlen=window)
        self._best: ClockSample | None = None

    def add(self, client_time: float, server_time: float, server_tick: int, now: float) -> ClockSample | None:
        """Take a PONG received at ``now`` (client clock); a reply to a ping from the future is ignored."""
        rtt = now - client_time
        if rtt < 0 or rtt > 30.0:
            return None
        sample = ClockSample(rtt, server_time + rtt / 2 - now, server_tick, server_time)
        self.samples.append(sample)
        self._best = min(self.samples, key=lambda s: s.rtt)
        return sample

    @property
    def ready(self) -> bool:
        return self._best is not None

    @property
    def rtt(self) -> float:
        """The smallest recent round trip in seconds (0 before the first sample)."""
        return self._best.rtt if self._best is not None else 0.0

    def server_time(self, now: float) -> float:
        return now + (self._best.offset if self._best is not None else 0.0)

    def server_tick(self, now: float) -> float:
        """The server tick running now, fractional (0 before the first sample)."""
        best = self._best
        if best is None:
            return 0.0
        return best.server_tick + (self.server_time(now) - best.server_time) * self.tick_rate
