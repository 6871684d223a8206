"""Benchmark: one Storm server (the demo world, its own process) and N headless bots on loopback.

Bots are protocol-level clients (no World of their own, so that 128 fit beside the server on two
cores): each joins with a token, then every server tick sends one input walking its player
towards one of the demo's physics crates (and through it: bots push crates), acknowledging the
newest snapshot it received. The server reports its tick times (p50, p99) and the bytes it sent
each client per second. Goal (issue 12): 64 clients at 30 Hz with p99 tick under 10 ms.

Usage::

    .venv/bin/python -m tools.bench.server_load [--clients 16,64,128] [--tick 30] [--seconds 8] [--profile F]

stdout: one JSON line per client count, the last line the summary (keys ``clients``,
``tick_p99_ms``, ``bytes_per_client_s`` for the largest count, and ``runs`` with all of them).
Each run also has ``tick_cpu_p50_ms`` / ``tick_cpu_p99_ms`` (the tick thread's CPU time: on a
shared machine wall times include other processes), ``snapshot_ms_per_client_p50`` (CPU time of
the snapshot step per client due) and ``transform_sections_shared`` (how many clients' transform
sections were reused from another client's with the same baseline), ``tick_cpu_sections_ms_p50``
(the tick's CPU time by part: inputs, world, gather, snapshots, other; ``ServerTick.section_cpu_ms``)
and ``systems_ms_p50`` (the world's systems that take 0.05 ms or more, wall time each).
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import multiprocessing
import random
import statistics
import struct
import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.bench.common import emit, machine_info, progress  # noqa: E402

SECRET = b"server-load-bench-secret-0123456789"
WORLD = Path(__file__).resolve().parents[2] / "worlds" / "demo.world.json"
CRATES = [(5.5, -3.0), (6.6, -3.0), (6.05, -3.0), (5.5, -1.9), (6.6, -1.9), (4.4, -3.0)]


def serve(port_out: "multiprocessing.Queue", stats_out: "multiprocessing.Queue", tick: float, seconds: float,
          warmup: float, snapshot_rate: float, profile: str = "") -> None:
    """The server process: serve for warmup + seconds, then report tick times and bytes sent
    (``profile``: a file for cProfile's statistics of the measured seconds; times are then slower)."""
    import logging

    from engine.host.runtime import create_runtime
    from netcode.auth import TokenAuthority
    from netcode.hosting import open_world
    from netcode.server import NetServer, ServerConfig

    logging.disable(logging.WARNING)

    async def main() -> None:
        world = open_world(str(WORLD), create_runtime())
        world.tick_rate = tick
        server = NetServer(world, TokenAuthority(SECRET), ServerConfig(port=0, tick_rate=tick,
                                                                       snapshot_rate=min(snapshot_rate, tick),
                                                                       max_players=512))
        port_out.put(await server.start())
        systems: dict[str, list[float]] = {}
        sections: dict[str, list[float]] = {}
        server.on_tick.append(lambda _tick: ([systems.setdefault(name, []).append(ms)
                                              for name, ms in world.system_ms.items()],
                                             [sections.setdefault(name, []).append(ms)
                                              for name, ms in server.ticker.section_cpu_ms.items()]))
        await asyncio.sleep(warmup)
        systems.clear()
        sections.clear()
        server.ticker.tick_ms.clear()
        server.ticker.tick_cpu_ms.clear()
        cpu_ms = server.ticker.tick_cpu_ms          # CPU time of the tick: what other processes take is left out
        snapshots = server.ticker.snapshots
        snapshots.per_client_ms.clear()
        hits0, misses0 = snapshots.cache.hits, snapshots.cache.misses
        sent = {player: s.bytes_out for player, s in server.sessions.items()}
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        ticks = sorted(server.ticker.tick_ms)
        per_client = sorted(snapshots.per_client_ms)
        hits, misses = snapshots.cache.hits - hits0, snapshots.cache.misses - misses0
        rates = [(s.bytes_out - sent[p]) / elapsed for p, s in server.sessions.items() if p in sent]
        connected = sum(1 for s in server.sessions.values() if s.connected)
        stats_out.put({"ticks": len(ticks), "tick_p50_ms": round(ticks[len(ticks) // 2], 3) if ticks else None,
                       "tick_p99_ms": round(ticks[min(len(ticks) - 1, int(len(ticks) * 0.99))], 3) if ticks else None,
                       "tick_max_ms": round(ticks[-1], 3) if ticks else None,
                       "tick_cpu_p50_ms": round(sorted(cpu_ms)[len(cpu_ms) // 2], 3) if cpu_ms else None,
                       "tick_cpu_p99_ms": round(sorted(cpu_ms)[min(len(cpu_ms) - 1, int(len(cpu_ms) * 0.99))], 3) if cpu_ms else None,
                       "connected_at_end": connected, "bytes_per_client_s": round(statistics.mean(rates), 1) if rates else 0,
                       "ticks_per_s": round(len(ticks) / elapsed, 2),
                       "snapshot_ms_per_client_p50": round(per_client[len(per_client) // 2], 3) if per_client else None,
                       "transform_sections_shared": round(hits / max(1, hits + misses), 3),
                       "tick_cpu_sections_ms_p50": {name: round(statistics.median(ms), 3) for name, ms in sections.items()},
                       "systems_ms_p50": {name: round(statistics.median(ms), 3) for name, ms in systems.items()
                                          if statistics.median(ms) >= 0.05}})
        await server.stop()

    asyncio.run(main())


async def bot(url: str, index: int, tick: float, stop_at: float, rng: random.Random) -> int:
    """One protocol-level player; returns snapshots received."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from netcode import messages as m
    from netcode.auth import TokenAuthority
    from netcode.client_apply import layout_from
    from netcode.input_layout import InputFrame

    token = TokenAuthority(SECRET).issue(f"bot{index}", ("play",))
    snapshots = 0
    async with connect(url, max_size=None, compression=None, ping_interval=None) as ws:
        await ws.send(m.encode_hello(m.Hello(token, "bench bot")))
        welcome = m.decode_server(await ws.recv())
        from engine.host.runtime import create_runtime

        layout = layout_from(welcome.setup, _world_for_layout(create_runtime))
        newest = [0]

        async def reader() -> None:
            nonlocal snapshots
            try:
                async for data in ws:
                    if data[0] == m.SNAPSHOT:
                        snapshots += 1
                        newest[0] = max(newest[0], struct.unpack_from("<I", data, 1)[0])
            except ConnectionClosed:
                pass

        task = asyncio.get_running_loop().create_task(reader())
        seq = 0
        target = rng.choice(CRATES)
        angle = rng.uniform(0, 360)
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while loop.time() < stop_at and not task.done():
            seq += 1
            if seq % int(tick * 3) == 0:
                target = rng.choice(CRATES)
            heading = angle if seq % int(tick * 6) < tick else math.degrees(math.atan2(-(target[0]), target[1] + 7.0))
            owner = tuple((0.0, 1.0, 0.0) if f.name == "move" else f.declared.default for f in layout.fields)
            frame = InputFrame(frozenset(), {}, {"move": (0.0, 1.0)}, heading % 360.0, owner)
            try:
                await ws.send(m.encode_input(m.Input(newest[0], seq, (frame,)), layout))
            except ConnectionClosed:
                break
            next_at += 1.0 / tick
            await asyncio.sleep(max(0.0, next_at - loop.time()))
        task.cancel()
    return snapshots


_WORLD = []


def _world_for_layout(make_runtime):
    """A bare world whose registry knows the built-in components (what the layout's fields name)."""
    if not _WORLD:
        _WORLD.append(make_runtime().new_world(profile="server"))
    return _WORLD[0]


def run(clients: int, tick: float, seconds: float, snapshot_rate: float, profile: str = "") -> dict[str, object]:
    ctx = multiprocessing.get_context("spawn")
    port_q, stats_q = ctx.Queue(), ctx.Queue()
    warmup = 3.0 + clients * 0.02
    proc = ctx.Process(target=serve, args=(port_q, stats_q, tick, seconds, warmup, snapshot_rate,
                                                       f"{profile}.{clients}" if profile else ""))
    proc.start()
    port = port_q.get(timeout=120)
    url = f"ws://127.0.0.1:{port}"
    rng = random.Random(clients)

    async def bots() -> list[int]:
        stop_at = asyncio.get_running_loop().time() + warmup + seconds + 0.5
        return await asyncio.gather(*(bot(url, i, tick, stop_at, random.Random(rng.random())) for i in range(clients)),
                                    return_exceptions=True)

    results = asyncio.run(bots())
    stats = stats_q.get(timeout=120)
    proc.join(30)
    failed = [r for r in results if isinstance(r, BaseException)]
    record = {"clients": clients, "tick_hz": tick, **stats, "bots_failed": len(failed),
              "snapshots_per_bot": round(statistics.mean([r for r in results if isinstance(r, int)] or [0]), 1)}
    if failed:
        record["first_failure"] = repr(failed[0])[:200]
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="16,64,128")
    parser.add_argument("--tick", type=float, default=30.0)
    parser.add_argument("--snapshot-rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--profile", default="", help="write the server's cProfile statistics to PROFILE.<clients>")
    args = parser.parse_args(argv)
    runs = []
    for count in (int(c) for c in args.clients.split(",")):
        progress(f"{count} bots at {args.tick:g} Hz for {args.seconds:g} s")
        record = run(count, args.tick, args.seconds, args.snapshot_rate, args.profile)
        emit(record)
        runs.append(record)
    last = runs[-1]
    emit({"clients": last["clients"], "tick_p99_ms": last["tick_p99_ms"], "bytes_per_client_s": last["bytes_per_client_s"],
          "tick_hz": args.tick, "goal": "64 clients at 30 Hz, p99 tick under 10 ms",
          "runs": runs, "machine": machine_info()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
