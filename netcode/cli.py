"""What ``storm serve`` and ``storm play --connect`` run (main.py parses, these do)."""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from netcode.auth import DEFAULT_PERMISSIONS, PERMISSIONS, TokenAuthority

log = logging.getLogger("storm.net")


def _authority() -> TokenAuthority:
    from netcode.hosting import server_secret

    return TokenAuthority(server_secret())


def serve(world: str, host: str = "127.0.0.1", port: int = 7777, tick: float = 60.0, snapshot_rate: float = 20.0,
          record: str | None = None, interest: float | None = None, budget: int | None = None,
          tokens_for: list[str] | None = None, webrtc: bool = False, seconds: float | None = None,
          profile: str | None = None) -> int:
    """Run a server until Ctrl+C (or ``seconds``); prints a join token per name in ``tokens_for``."""
    from engine.host.runtime import create_runtime
    from engine.packs.loading import open_content
    from netcode.hosting import open_world
    from netcode.replication import InterestGrid
    from netcode.server import NetServer, ServerConfig

    runtime = create_runtime(open_content(profile))
    server_world = open_world(world, runtime)
    server_world.tick_rate = tick
    authority = _authority()
    config = ServerConfig(host=host, port=port, tick_rate=tick, snapshot_rate=snapshot_rate,
                          interest=InterestGrid(interest) if interest else None, budget_bytes=budget)
    recorder = None
    if record:
        from netcode.recording import SessionRecorder

        recorder = SessionRecorder(record, server_world, world, config)

    async def main() -> None:
        server = NetServer(server_world, authority, config, recorder=recorder)
        if webrtc:
            from netcode.webrtc import WebRTCServer

            server.webrtc = WebRTCServer(server)  # type: ignore[attr-defined]
        bound = await server.start()
        print(f"serving {world} on ws://{host}:{bound} ({tick:g} ticks/s, {snapshot_rate:g} snapshots/s); Ctrl+C stops",
              flush=True)
        for name in tokens_for or []:
            print(f"  token for {name}: {authority.issue(name, DEFAULT_PERMISSIONS, ttl=24 * 3600)}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
        try:
            if seconds is None:
                await stop.wait()
            else:
                try:
                    await asyncio.wait_for(stop.wait(), seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            await server.stop()
            ticks = server.ticker.tick_ms
            if ticks:
                ordered = sorted(ticks)
                print(f"stopped after {server_world.tick_count} ticks; tick p50 {ordered[len(ordered) // 2]:.2f} ms, "
                      f"p99 {ordered[int(len(ordered) * 0.99)]:.2f} ms", flush=True)
            if record:
                print(f"recorded session: {record}", flush=True)

    asyncio.run(main())
    return 0


def issue_token(player: str, permissions: list[str] | None, ttl: float) -> str:
    perms = tuple(permissions or DEFAULT_PERMISSIONS)
    unknown = [p for p in perms if p not in PERMISSIONS]
    if unknown:
        raise SystemExit(f"error: unknown permissions {unknown}; known: {', '.join(PERMISSIONS)}")
    return _authority().issue(player, perms, ttl=ttl)


class _LoopThread:
    """An asyncio loop in a background thread (the App's frames run on the main thread)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="storm-net", daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def play_connected(url: str, token: str | None, player: str, mode: str = "auto", size: tuple[int, int] = (1280, 720),
                   frames: int | None = None, interp_delay: float = 0.1, screenshot: str | None = None,
                   profile: str | None = None, webrtc: bool = False) -> int:
    """Join a server and play in a window (or offscreen/headless) until closed or ``frames``."""
    from engine.host.app import App, pick_mode
    from engine.host.runtime import create_runtime
    from engine.packs.loading import open_content
    from netcode.client import NetClient

    audio = "openal" if pick_mode(mode) == "window" else "null"
    runtime = create_runtime(open_content(profile), audio=audio)
    client = NetClient(url, token or _authority().issue(player, DEFAULT_PERMISSIONS, ttl=3600), runtime,
                       profile="game", interp_delay=interp_delay, name="storm play", webrtc=webrtc)
    net = _LoopThread()
    try:
        world = net.run(client.connect(), timeout=20)
        app = App(mode, size=size, title=f"Storm - {url}")
        app.load(world)
        try:
            report = app.run(frames=frames)
            if screenshot:
                print(f"screenshot: {app.screenshot(Path(screenshot))}")
            state = client.state
            print(f"played {report.ticks} ticks on {url} as {client.welcome.player if client.welcome else player}: "
                  f"{state.snapshots} snapshots, {state.predictor.corrections} corrections"
                  + (f"; disconnected: {client.closed_reason}" if client.closed else ""))
        finally:
            app.close()
            net.run(client.close(), timeout=5)
    finally:
        net.stop()
    return 0
