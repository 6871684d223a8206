"""What ``storm serve`` and ``storm play --connect`` run (main.py parses, these do)."""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
from pathlib import Path
from typing import Any, Callable

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
            from netcode.voice import VoiceRelay
            from netcode.webrtc import WebRTCServer

            server.webrtc = WebRTCServer(server, voice=VoiceRelay())  # type: ignore[attr-defined]
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


def _voice_source() -> object:
    """The microphone (push-to-talk sends it), or None (listen only) where there is none;
    ``$STORM_VOICE_FILE`` names a sound file to talk with instead (a headless bot's voice)."""
    import os

    from netcode.voice_audio import FileSource, MicrophoneSource, VoiceError

    try:
        path = os.environ.get("STORM_VOICE_FILE")
        return FileSource(path) if path else MicrophoneSource()
    except VoiceError as exc:
        print(f"voice: {exc}; you can hear others but not talk", flush=True)
        return None


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
                       profile="game", interp_delay=interp_delay, name="storm play", webrtc=webrtc,
                       voice=webrtc, voice_source=_voice_source() if webrtc else None)
    net = _LoopThread()
    try:
        world = net.run(client.connect(), timeout=20)
        app = App(mode, size=size, title=f"Storm - {url}")
        app.load(world)
        try:
            report = app.run(frames=frames, paced=True)  # the server runs in real time
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


def play_vr_connected(url: str, token: str | None, player: str, mode: str = "auto", xr: str = "openxr",
                      frames: int | None = None, screenshot: str | None = None, timeline: str | None = None,
                      eye_size: tuple[int, int] | None = None, size: tuple[int, int] | None = None,
                      reference: str = "standing", profile: str | None = None, interp_delay: float = 0.1,
                      until: Callable[[Any], bool] | None = None, pbr: bool = True) -> int:
    """Join a server as a VR player (``storm vr --connect``): head and hands go to the others as an
    avatar, theirs show here. ``until(link)``, checked each frame, ends the session when true."""
    from engine.host.runtime import create_runtime
    from engine.packs.loading import open_content
    from engine.xr.cli import run_vr
    from netcode.client import NetClient
    from netcode.vr_link import LOCAL_IDS, NET_COMFORT, VRLink

    runtime = create_runtime(open_content(profile))
    client = NetClient(url, token or _authority().issue(player, DEFAULT_PERMISSIONS, ttl=3600), runtime,
                       profile="game", interp_delay=interp_delay, name="storm vr", tracked=True)
    net = _LoopThread()
    links: list[Any] = []

    def link(session: Any) -> Callable[[], None]:
        links.append(VRLink(client, session))
        return links[-1].close

    try:
        world = net.run(client.connect(), timeout=20)
        world.reserve_ids(LOCAL_IDS - 1)              # the rig's entities: numbers the server never gives
        try:
            code = run_vr(lambda _runtime: world, runtime, mode, xr, frames, screenshot, timeline, eye_size, size,
                          reference, comfort=NET_COMFORT, on_session=link, realtime=True,
                          until=(lambda: until(links[0])) if until is not None else None, pbr=pbr)
            state = client.state
            print(f"vr: played on {url} as {client.welcome.player if client.welcome else player}: "
                  f"{state.snapshots} snapshots, {state.predictor.corrections} corrections"
                  + (f"; disconnected: {client.closed_reason}" if client.closed else ""), flush=True)
        finally:
            net.run(client.close(), timeout=5)
    finally:
        net.stop()
    return code


def replay_session(path: str, seek: float = 0.0, speed: float = 0.0, show_transcript: bool = False,
                   window: bool = False, until: float | None = None) -> int:
    """Play a session recording back (headless, or in a window), or print its transcript."""
    import time

    from engine.host.runtime import create_runtime
    from netcode.recording import SessionReplay, is_session_recording, load_recording, transcript

    if not is_session_recording(path):
        raise SystemExit(f"error: {path}: not a session recording (an input recording needs the world first: "
                         "storm replay WORLD RECORDING)")
    recording = load_recording(path)
    if show_transcript:
        print("\n".join(transcript(recording)))
        return 0
    rate = float(recording.header["tick_rate"])
    start = int(recording.header["start"])
    stop = recording.end if until is None else min(recording.end, start + int(until * rate))

    def fresh() -> SessionReplay:
        return SessionReplay(recording, create_runtime(), profile="game" if window else "server")

    replay = fresh()
    replay.run(until=start + int(seek * rate))
    if window:
        return _watch(replay, fresh, speed or 1.0, stop, rate, start)
    period = 1.0 / (rate * speed) if speed > 0 else 0.0
    next_at = time.perf_counter()
    while replay.tick < stop and replay.step():
        if period:
            next_at += period
            time.sleep(max(0.0, next_at - time.perf_counter()))
    replay.run(until=stop) if replay.tick < stop else None
    verdict = "the same state as recorded" if not replay.mismatches else \
        f"{len(replay.mismatches)} digests differ (first at tick {replay.mismatches[0][0]})"
    print(f"replayed {replay.tick - start} ticks of {path} (headless): {verdict}")
    return 0 if not replay.mismatches else 3


def _watch(replay: Any, fresh: Any, speed: float, stop: int, rate: float, start: int) -> int:
    """A window on a replay: space pauses, + and - change speed, left and right seek 5 seconds."""
    import time

    from engine.host.app import App

    app = App("window", title="Storm replay")
    app.interpolate = False          # the replay runs the ticks; the App only draws
    app.load(replay.world)
    state = {"speed": speed, "paused": False, "seek": 0}
    app.base.accept("space", lambda: state.update(paused=not state["paused"]))
    app.base.accept("+", lambda: state.update(speed=min(16.0, state["speed"] * 2)))
    app.base.accept("=", lambda: state.update(speed=min(16.0, state["speed"] * 2)))
    app.base.accept("-", lambda: state.update(speed=max(0.125, state["speed"] / 2)))
    app.base.accept("arrow_right", lambda: state.update(seek=state["seek"] + 5))
    app.base.accept("arrow_left", lambda: state.update(seek=state["seek"] - 5))
    last = time.perf_counter()
    owed = 0.0
    try:
        while not app.window_closed() and replay.tick < stop:
            now = time.perf_counter()
            if state["seek"]:
                target = max(start, replay.tick + int(state["seek"] * rate))
                state["seek"] = 0
                if target < replay.tick:                       # back: from the start again (exact)
                    replay = fresh()
                    app.load(replay.world)
                replay.run(until=target)
            if not state["paused"]:
                owed += (now - last) * state["speed"] * rate
                for _ in range(min(int(owed), 32)):
                    replay.step()
                owed -= int(owed)
            last = now
            app.step(0.0)
            time.sleep(max(0.0, 1 / 60 - (time.perf_counter() - now)))
    finally:
        app.close()
    return 0
