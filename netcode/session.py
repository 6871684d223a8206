"""One connected (or recently disconnected) player on the server: its grant, its entity, the
inputs waiting for the tick, the views it was sent and which it acknowledged, and its limits.

Inputs wait in a short queue and the tick takes one each (a client cannot run faster than the
server by sending more); a client whose queue runs dry keeps its last input. Views sent are
kept for ``HISTORY`` ticks: the newest one the client acknowledged is the next baseline, and an
older acknowledged one predicts from it.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.input.sources import DirectActionSource
from netcode.auth import Grant
from netcode.input_layout import InputFrame
from netcode.snapshot_codec import View

HISTORY = 64            # snapshots kept per client for baselines
MAX_QUEUED_INPUTS = 12  # inputs waiting for ticks; more are dropped (a client ahead of the server)
MAX_INPUT_LEAD = 240    # an input number this far past the last one run is out of order


def previous_for(base: int, acked: list[int], held: Any) -> int:
    """The view positions are predicted from: the newest acknowledged one (still ``held``) before
    the baseline, 0 when there is none. The shortest span follows the motion best (measured with
    tools/bench/snapshots.py: 3% fewer bytes than a span as long as the baseline's age)."""
    older = [t for t in acked if t < base and t in held]
    return max(older) if older else 0


class RateLimit:
    """A token bucket: ``rate`` per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self, cost: float = 1.0, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True


@dataclass
class Limits:
    """Per-client limits: messages and bytes per second, chat lines, commands."""

    messages: tuple[float, float] = (240.0, 480.0)
    bytes: tuple[float, float] = (256 * 1024.0, 512 * 1024.0)
    chat: tuple[float, float] = (3.0, 8.0)
    commands: tuple[float, float] = (20.0, 40.0)


@dataclass(eq=False)
class Session:
    """A player's state on the server (see the module doc)."""

    grant: Grant
    entity: int
    source: DirectActionSource
    limits: Limits = field(default_factory=Limits)
    connection: Any = None
    connected: bool = True
    left_at: float = 0.0
    last_heard: float = field(default_factory=time.monotonic)
    inputs: deque = field(default_factory=deque)
    received_seq: int = 0        # the newest input number received
    applied_seq: int = 0         # the input the last tick ran
    current: InputFrame | None = None
    sent: dict[int, View] = field(default_factory=dict)
    acked: list[int] = field(default_factory=list)
    ack_tick: int = 0
    events_in: int = 0           # the last event number received
    events_out: int = 0          # the last event number sent
    known: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))   # networked entities it has
    known_all: set[int] = field(default_factory=set)                           # every entity it has
    known_version: int = -1      # the replicator's version ``known`` was worked out at
    bytes_out: int = 0
    priority: dict[int, float] = field(default_factory=dict)
    layout: Any = None           # the InputLayout its input is decoded with (VR clients' carries poses)

    def __post_init__(self) -> None:
        self.message_rate = RateLimit(*self.limits.messages)
        self.byte_rate = RateLimit(*self.limits.bytes)
        self.chat_rate = RateLimit(*self.limits.chat)
        self.command_rate = RateLimit(*self.limits.commands)

    @property
    def player(self) -> str:
        return self.grant.player

    def take_inputs(self, first_seq: int, frames: tuple[InputFrame, ...]) -> str:
        """Queue the frames not seen yet; returns '' or why the numbering is out of order."""
        last = first_seq + len(frames) - 1
        if first_seq > self.received_seq + 1 + MAX_INPUT_LEAD // 2 or last > self.applied_seq + MAX_INPUT_LEAD:
            return (f"input numbers out of order: {first_seq}..{last} after {self.received_seq} "
                    f"(the server has run up to {self.applied_seq})")
        if last <= self.received_seq:
            return ""                                 # a repeat (redundant copies on a lossy path)
        start = max(first_seq, self.received_seq + 1)
        if start > self.received_seq + 1 and self.inputs:  # a gap: lost inputs are filled with the last one
            self.inputs.extend([(seq, self.inputs[-1][1]) for seq in range(self.received_seq + 1, start)])
        for seq in range(start, last + 1):
            self.inputs.append((seq, frames[seq - first_seq]))
        self.received_seq = last
        while len(self.inputs) > MAX_QUEUED_INPUTS:
            self.inputs.popleft()
        return ""

    def next_input(self) -> InputFrame | None:
        """The input for this tick: the next queued one, else the last one again."""
        if self.inputs:
            self.applied_seq, self.current = self.inputs.popleft()
        return self.current

    def acknowledge(self, tick: int) -> str:
        """Take the client's newest received snapshot tick; '' or why it cannot be."""
        if tick == 0 or tick <= self.ack_tick:
            return ""
        if tick not in self.sent:
            newest = max(self.sent, default=0)
            if tick > newest:
                return f"an acknowledgement of snapshot {tick}, which was never sent (newest {newest})"
            return ""                                 # too old: forgotten already
        self.ack_tick = tick
        self.acked.append(tick)
        del self.acked[:-HISTORY]
        return ""

    def baselines(self, now_tick: int) -> tuple[int, int]:
        """(baseline tick, previous tick) to encode against; 0 when there is none."""
        base = self.ack_tick if self.ack_tick in self.sent else 0
        if not base:
            return 0, 0
        return base, previous_for(base, self.acked, self.sent)

    def remember(self, tick: int, view: View) -> None:
        self.sent[tick] = view
        for old in [t for t in self.sent if t <= tick - HISTORY]:
            del self.sent[old]
