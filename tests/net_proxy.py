"""A websocket proxy on 127.0.0.1 that the netcode tests start between clients and a server, to
give the path latency, jitter and loss.

Each message is delivered ``latency`` +- ``jitter`` seconds after it arrived (seeded random).
Messages the protocol sends unreliably (snapshots and inputs, kinds 0x82 and 0x02) may be lost
(``loss``) and may overtake each other and later reliable ones, never the handshake (a connection's
first message: on WebRTC they only flow once it is done); everything else (handshake, events,
pongs) arrives, in order, as over TCP.
"""
from __future__ import annotations

import asyncio
import heapq
import random
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

UNRELIABLE = (0x82, 0x02)


class LossyProxy:
    def __init__(self, upstream: str, latency: float = 0.05, jitter: float = 0.01, loss: float = 0.05,
                 seed: int = 1) -> None:
        self.upstream = upstream
        self.latency, self.jitter, self.loss = latency, jitter, loss
        self.random = random.Random(seed)
        self.dropped = 0
        self.relayed = 0
        self._server: Any = None
        self.port = 0

    async def start(self) -> int:
        self._server = await serve(self._handle, "127.0.0.1", 0, max_size=None, compression=None, ping_interval=None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, downstream: ServerConnection) -> None:
        try:
            async with connect(self.upstream, max_size=None, compression=None, ping_interval=None) as upstream:
                await asyncio.gather(self._pump(downstream, upstream), self._pump(upstream, downstream),
                                     return_exceptions=True)
        except (OSError, ConnectionClosed):
            pass

    async def _pump(self, source: Any, target: Any) -> None:
        heap: list[tuple[float, int, Any]] = []
        wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        last_reliable = first_at = 0.0
        done = False

        async def sender() -> None:
            while not (done and not heap):
                if not heap:
                    wake.clear()
                    await wake.wait()
                    continue
                due = heap[0][0]
                now = loop.time()
                if due > now:
                    wake.clear()
                    try:
                        await asyncio.wait_for(wake.wait(), due - now)
                    except asyncio.TimeoutError:
                        pass
                    continue
                _, _, data = heapq.heappop(heap)
                try:
                    await target.send(data)
                except ConnectionClosed:
                    return
            await target.close()

        task = loop.create_task(sender())
        count = 0
        try:
            async for data in source:
                unreliable = isinstance(data, bytes) and data[:1] and data[0] in UNRELIABLE
                if unreliable and self.random.random() < self.loss:
                    self.dropped += 1
                    continue
                at = loop.time() + max(0.0, self.latency + self.random.uniform(-self.jitter, self.jitter))
                if not unreliable:
                    at = last_reliable = max(at, last_reliable + 1e-6)
                elif count:
                    at = max(at, first_at + 1e-6)   # nothing overtakes the handshake (the first message)
                if not count:
                    first_at = at
                count += 1
                self.relayed += 1
                heapq.heappush(heap, (at, count, data))
                wake.set()
        except ConnectionClosed:
            pass
        finally:
            done = True
            wake.set()
            await task
