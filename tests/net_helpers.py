"""Helpers for the netcode tests: a demo-world server on 127.0.0.1 and clients joining it, all in
one asyncio loop; waits are bounded by tick counts, never by sleeping and hoping."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

from engine.host.runtime import Runtime, create_runtime
from netcode.auth import TokenAuthority
from netcode.client import NetClient
from netcode.hosting import open_world
from netcode.server import NetServer, ServerConfig

DEMO_WORLD = Path(__file__).resolve().parent.parent / "worlds" / "demo.world.json"
SECRET = b"storm-test-secret-0123456789abcdef"


async def start_server(world: str | Path = DEMO_WORLD, runtime: Runtime | None = None, recorder: Any = None,
                       **config: Any) -> NetServer:
    runtime = runtime or create_runtime()
    server = NetServer(open_world(str(world), runtime), TokenAuthority(SECRET), ServerConfig(**config), recorder=recorder)
    await server.start()
    return server


def token(player: str, permissions: tuple[str, ...] = ("play", "chat"), ttl: float = 600.0) -> str:
    return TokenAuthority(SECRET).issue(player, permissions, ttl=ttl)


async def join(server_or_url: NetServer | str, player: str, runtime: Runtime | None = None,
               permissions: tuple[str, ...] = ("play", "chat"), **options: Any) -> NetClient:
    url = server_or_url if isinstance(server_or_url, str) else f"ws://127.0.0.1:{server_or_url.port}"
    client = NetClient(url, token(player, permissions), runtime or create_runtime(), **options)
    await client.connect()
    return client


async def tick_until(clients: list[NetClient], done: Callable[[], bool], max_ticks: int = 600) -> int:
    """Tick every client in real time until ``done()`` or ``max_ticks``; returns the ticks run."""
    period = 1.0 / 60.0
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    for count in range(max_ticks):
        if done():
            return count
        for client in clients:
            if client.world is not None:
                client.world.tick(period)
        next_at += period
        await asyncio.sleep(max(0.0, next_at - loop.time()))
    return max_ticks


def run(coro: Any) -> Any:
    return asyncio.run(coro)
