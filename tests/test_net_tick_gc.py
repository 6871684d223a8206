"""Garbage collection between server ticks (netcode/tick_gc.py): while a server runs the collector
does not start on its own, the server's loop collects cyclic garbage after its ticks, and once
the last server stops the collector is back as it was."""
from __future__ import annotations

import asyncio
import gc
import weakref

from netcode.tick_gc import TickCollector
from tests.net_helpers import run, start_server


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _garbage() -> weakref.ref:
    """A reference cycle nothing else holds (only the cyclic collector frees it)."""
    return weakref.ref(_Cycle())


def test_the_collector_runs_only_when_asked_and_comes_back_as_it_was() -> None:
    was_enabled = gc.isenabled()
    first, second = TickCollector(), TickCollector()
    first.start()
    try:
        second.start()
        assert not gc.isenabled() and gc.get_freeze_count() > 0
        gone = _garbage()
        kept = [[] for _ in range(gc.get_threshold()[0] * 3)]   # past the threshold: it would have collected
        assert gone() is not None
        del kept
        first.collect()
        assert gone() is None
        first.stop()
        assert not gc.isenabled()                              # the second one still serves
        second.stop()
        assert gc.isenabled() == was_enabled and gc.get_freeze_count() == 0
    finally:
        first.stop()
        second.stop()
    assert gc.isenabled() == was_enabled


def test_a_running_server_collects_between_its_ticks() -> None:
    was_enabled = gc.isenabled()

    async def scenario() -> None:
        server = await start_server(tick_rate=60.0)
        try:
            assert not gc.isenabled()
            gone = _garbage()
            start = server.world.tick_count
            while server.world.tick_count < start + 3:
                await asyncio.sleep(0.005)
            assert gone() is None
        finally:
            await server.stop()
        assert gc.isenabled() == was_enabled and gc.get_freeze_count() == 0

    run(scenario())
