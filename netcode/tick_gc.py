"""Python's cyclic garbage collector, run between server ticks instead of inside them.

Automatic collection starts wherever allocations pass the collector's thresholds, so it lands
inside ticks: in ``tools/bench/server_load.py``'s server (64 players) a pass over the younger
generations took 4-9 ms of CPU and a full pass 19-28 ms. While a server runs, automatic
collection is off and ``collect`` runs a young pass (and older ones by the collector's own
thresholds) after each tick, in the time the loop would sleep anyway. What the
process holds when the server starts (the loaded world, content, modules) is frozen out of the
scans (``gc.freeze``): a full pass over the rest took 4-8 ms.
"""
from __future__ import annotations

import gc

_STATE = {"servers": 0, "was_enabled": True}   # one collector per process, shared by its servers


class TickCollector:
    """Moves the garbage collector's work between ticks for as long as a server runs (with more
    than one server in a process, until the last one stops)."""

    def __init__(self) -> None:
        self.active = False

    def start(self) -> None:
        """The first server: collect once, freeze what is left, turn automatic collection off."""
        if self.active:
            return
        self.active = True
        _STATE["servers"] += 1
        if _STATE["servers"] == 1:
            gc.collect()
            gc.freeze()
            _STATE["was_enabled"] = gc.isenabled()
            gc.disable()

    def collect(self) -> None:
        """Between ticks: the youngest generation, with the older ones when their counts have
        passed their thresholds (as the collector's own passes would). One young pass every tick
        keeps each one short: the collector's own trigger, an allocation count that the deaths of
        old objects pull down, let the youngest generation grow to 11,000 objects between passes."""
        if not self.active:
            return
        (_young, middle, old), (_limit0, limit1, limit2) = gc.get_count(), gc.get_threshold()
        gc.collect(2 if middle >= limit1 and old >= limit2 else 1 if middle >= limit1 else 0)

    def stop(self) -> None:
        """The last server: automatic collection as it was, frozen objects scanned again."""
        if not self.active:
            return
        self.active = False
        _STATE["servers"] -= 1
        if _STATE["servers"] == 0:
            gc.unfreeze()
            if _STATE["was_enabled"]:
                gc.enable()
