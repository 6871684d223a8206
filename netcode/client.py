"""The client: a websocket connection (``websockets.asyncio.client``) and the systems that make a
local World follow the server's.

After the handshake the client builds an empty World of the profile it is asked for (``game``
to draw it, ``server`` for a headless bot) and fills it from the server's SPAWN events. Each
tick ``NetClientSystem`` (first in the tick) applies what arrived: events, snapshots (decoded
against the client's copy of the baseline, acknowledged in the next input), reconciliation of
the local player, and the interpolated place of every other networked entity;
``InputCaptureSystem`` (after scripts) turns the local player's input into the numbered,
quantised input it sends and predicts with; ``PredictionRecordSystem`` (after physics) keeps
what the prediction gave. Anything malformed from the server closes the connection with the
reason in ``closed_reason``; the world stays as it was.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from engine.core.errors import StormError
from engine.core.system import ORDER_INPUT, ORDER_PHYSICS, System
from netcode import messages as m
from netcode.avatar_view import AvatarViewSystem
from netcode.client_apply import ClientState
from netcode.tracked_pose import TrackedPose
from netcode.wire import ProtocolError

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.runtime import Runtime

log = logging.getLogger("storm.net")
INPUTS_PER_MESSAGE = 8


class NetError(StormError):
    """The client could not join: names the address and the reason."""


class NetClientSystem(System):
    name = "net_client"
    order = ORDER_INPUT - 10

    def __init__(self, client: "NetClient") -> None:
        self.client = client

    def update(self, world: "World", dt: float) -> None:
        self.client.state.before_tick(dt)


class InputCaptureSystem(System):
    name = "net_input"
    order = ORDER_PHYSICS - 10

    def __init__(self, client: "NetClient") -> None:
        self.client = client

    def update(self, world: "World", dt: float) -> None:
        self.client.state.capture_input()


class PredictionRecordSystem(System):
    name = "net_prediction"
    order = ORDER_PHYSICS + 10

    def __init__(self, client: "NetClient") -> None:
        self.client = client

    def update(self, world: "World", dt: float) -> None:
        self.client.state.after_physics()


class NetClient:
    """Joins ``url`` with ``token``; ``world`` is ready after ``await connect()``."""

    def __init__(self, url: str, token: str, runtime: "Runtime", *, profile: str = "server",
                 interp_delay: float = 0.1, max_extrapolation: float = 0.25, smoothing: float = 0.1,
                 name: str = "storm", webrtc: bool = False, ice_servers: list[str] | None = None,
                 webrtc_addresses: list[str] | None = None, voice: bool = False,
                 voice_source: Any = None, voice_bitrate: int = 24000, tracked: bool = False) -> None:
        self.url = url
        self.token = token
        self.runtime = runtime
        self.profile = profile
        self.options = {"interp_delay": interp_delay, "max_extrapolation": max_extrapolation, "smoothing": smoothing}
        self.name = name
        self.want_webrtc = webrtc
        self.ice_servers = ice_servers or []
        self.webrtc_addresses = webrtc_addresses
        self.want_voice = voice                  # voice chat on the WebRTC connection (needs webrtc)
        self.voice_source = voice_source         # a netcode.voice_audio source; None: listen only
        self.voice_bitrate = voice_bitrate
        self.tracked = tracked                   # a VR client: its input carries head and hand poses
        self.voice: Any = None
        self.ws: ClientConnection | None = None
        self.world: "World | None" = None
        self.state: ClientState = None  # type: ignore[assignment]
        self.welcome: m.Welcome | None = None
        self.inbox: deque[Any] = deque()
        self.closed_reason = ""
        self.closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._out: asyncio.Queue | None = None
        self._tasks: list[asyncio.Task] = []
        self.on_message: list[Callable[[Any], None]] = []
        self.webrtc: Any = None

    async def connect(self, timeout: float = 10.0) -> "World":
        """Handshake, build the world and start the reader and writer; NetError when refused."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.current_thread()
        try:
            self.ws = await asyncio.wait_for(connect(self.url, max_size=m.MAX_SERVER_MESSAGE, compression=None,
                                                     ping_interval=None, open_timeout=timeout), timeout)
        except (OSError, InvalidHandshake, InvalidURI, asyncio.TimeoutError) as exc:
            raise NetError(f"{self.url}: could not connect ({exc or type(exc).__name__})") from None
        await self.ws.send(m.encode_hello(m.Hello(self.token, self.name, webrtc=self.want_webrtc, tracked=self.tracked)))
        try:
            first = await asyncio.wait_for(self.ws.recv(), timeout)
            msg = m.decode_server(first)
        except ConnectionClosed as exc:
            raise NetError(f"{self.url}: refused: {exc.rcvd.reason if exc.rcvd else 'closed'}") from None
        except (ProtocolError, asyncio.TimeoutError) as exc:
            await self.ws.close()
            raise NetError(f"{self.url}: no welcome ({exc or 'timed out'})") from None
        if isinstance(msg, m.Bye):
            await self.ws.close()
            raise NetError(f"{self.url}: refused: {msg.reason}")
        if not isinstance(msg, m.Welcome) or msg.version != m.PROTOCOL_VERSION:
            await self.ws.close()
            got = (f"a welcome of protocol {msg.version}" if isinstance(msg, m.Welcome)
                   else f"{type(msg).__name__} (kind 0x{first[0]:02x})" if isinstance(first, bytes) and first
                   else type(msg).__name__)
            raise NetError(f"{self.url}: expected a welcome of protocol {m.PROTOCOL_VERSION} first, got {got}")
        self.welcome = msg
        world = self.runtime.new_world(seed=int(msg.setup.get("seed", 0)) if isinstance(msg.setup.get("seed"), int) else 0,
                                       tick_rate=msg.tick_rate, name=str(msg.setup.get("world", "world"))[:200],
                                       profile=self.profile)
        world.registry.register(TrackedPose)
        try:
            self.state = ClientState(self, world, msg, **self.options)
        except ValueError as exc:
            await self.ws.close()
            raise NetError(f"{self.url}: unusable welcome ({exc})") from None
        for system in (NetClientSystem(self), InputCaptureSystem(self), PredictionRecordSystem(self),
                       AvatarViewSystem(lambda: self.state.entity)):
            world.add_system(system)
        self.world = world
        self._out = asyncio.Queue()
        self._tasks = [self._loop.create_task(self._reader()), self._loop.create_task(self._writer())]
        if self.want_webrtc:
            from netcode.webrtc import WebRTCClient

            if self.want_voice:
                from netcode.voice import PushToTalkSystem, VoiceClient
                from netcode.voice_audio import output_for

                self.voice = VoiceClient(self.voice_source, output_for(world), self.voice_bitrate)
                world.add_system(PushToTalkSystem(self.voice))
            self.webrtc = WebRTCClient(self, self.ice_servers, self.webrtc_addresses, voice=self.voice)
            try:
                await self.webrtc.offer()
            except Exception as exc:  # noqa: BLE001 - no WebRTC here: the websocket carries everything
                log.warning("net: webrtc unavailable (%s); snapshots stay on the websocket", exc)
        return world

    async def _reader(self) -> None:
        assert self.ws is not None
        try:
            async for data in self.ws:
                self.inbox.append(data)
        except ConnectionClosed as exc:
            if not self.closed_reason and exc.rcvd is not None:
                self.closed_reason = exc.rcvd.reason or f"closed ({exc.rcvd.code})"
        finally:
            self.closed = True
            if not self.closed_reason:
                self.closed_reason = "the server closed the connection"

    async def _writer(self) -> None:
        assert self.ws is not None and self._out is not None
        while True:
            data = await self._out.get()
            if data is None:
                return
            try:
                await self.ws.send(data)
            except ConnectionClosed:
                return

    def send(self, data: bytes) -> None:
        """Thread-safe: queue a message for the server."""
        if self._out is None or self.closed or self._loop is None:
            return
        if threading.current_thread() is self._loop_thread:
            self._out.put_nowait(data)
        else:
            self._loop.call_soon_threadsafe(self._out.put_nowait, data)

    def fail(self, reason: str) -> None:
        """Close because the server sent something malformed (from inside the tick)."""
        if self.closed:
            return
        log.warning("net: closing the connection to %s: %s", self.url, reason)
        self.closed_reason = reason
        self.closed = True
        ws, loop = self.ws, self._loop
        if ws is not None and loop is not None:
            closing = ws.close(4000 + m.BYE_PROTOCOL, reason[:120])
            if threading.current_thread() is self._loop_thread:
                loop.create_task(closing)
            else:
                asyncio.run_coroutine_threadsafe(closing, loop)

    # -- convenience ------------------------------------------------------------------------------
    def chat(self, text: str) -> None:
        self.state.send_event(m.CHAT, {"text": text})

    def command(self, data: dict[str, Any]) -> None:
        self.state.send_event(m.COMMAND, {"json": data})

    def rpc(self, entity: int, method: str, args: dict[str, Any] | None = None) -> None:
        self.state.send_event(m.RPC, {"entity": entity, "method": method, "args": args or {}})

    def mute(self, player: str, muted: bool = True) -> None:
        """Stop (or start again) hearing ``player``'s voice: the server leaves them out of my mix."""
        self.state.send_event(m.VOICE_MUTE, {"player": player, "muted": muted})

    async def close(self, reason: str = "bye") -> None:
        if self.ws is not None and not self.closed:
            try:
                await self.ws.send(m.encode_bye(m.Bye(m.BYE_NORMAL, reason), from_server=False))
            except ConnectionClosed:
                pass
        self.closed = True
        if self._out is not None:
            self._out.put_nowait(None)
        if self.ws is not None:
            await self.ws.close()
        for task in self._tasks:
            task.cancel()
        if self.webrtc is not None:
            await self.webrtc.close()

    async def run(self, ticks: int, until: Callable[[], bool] | None = None) -> int:
        """Tick the world in real time (one tick per 1/tick_rate s) for at most ``ticks`` ticks, or
        until ``until()``; returns the ticks run. For bots and tests in one event loop."""
        assert self.world is not None
        period = 1.0 / self.world.tick_rate
        next_at = time.perf_counter()
        for count in range(ticks):
            if until is not None and until():
                return count
            self.world.tick(period)
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        return ticks
