"""The authoritative server: one headless World (the ``server`` profile) ticking at a fixed rate
inside an asyncio loop, and a websocket endpoint (``websockets.asyncio.server``) for players.

A connection starts with HELLO (protocol version and a signed token); the server answers
WELCOME, the map as SPAWN events, and from then on a SNAPSHOT every ``tick_rate /
snapshot_rate`` ticks, delta-encoded against what that client acknowledged. Inputs drive only
the player's own entity. Whatever a peer does wrong (bad bytes, a message too big, numbers out of
order, too many messages, silence) closes that peer alone, with the reason logged and sent;
a player who comes back within ``grace`` seconds gets their entity back.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from engine.core.commands import CommandError, command_from_json
from engine.core.edit_commands import DestroyEntity
from engine.core.world import World
from engine.input.input_system import InputSystem
from netcode import messages as m
from netcode.auth import AuthError, TokenAuthority
from netcode.input_layout import InputLayout, owner_fields
from netcode.lag_compensation import LagHistory
from netcode.permissions import refusal
from netcode.quantize import TransformSpec
from netcode.replication import InterestGrid, Replicator
from netcode.server_tick import ServerTick
from netcode.session import Limits, Session
from netcode.spawning import PlayerFactory, find_player_template
from netcode.tick_gc import TickCollector
from netcode.tracked_pose import TrackedPose
from netcode.wire import ProtocolError

log = logging.getLogger("storm.net")


@dataclass
class ServerConfig:
    """How a server runs; the defaults follow Valve's model (20 snapshots/s) at Storm's 60 ticks/s."""

    host: str = "127.0.0.1"
    port: int = 0
    tick_rate: float = 60.0
    snapshot_rate: float = 20.0
    grace: float = 30.0              # seconds a disconnected player's entity waits for them
    hello_timeout: float = 5.0       # seconds a new connection has to say HELLO
    stall_timeout: float = 10.0      # seconds of silence before a client is dropped
    max_players: int = 128
    budget_bytes: int | None = None  # snapshot packet budget (priority accumulation) per client
    interest: InterestGrid | None = None
    transform: TransformSpec = field(default_factory=TransformSpec)
    limits: Limits = field(default_factory=Limits)
    max_send_buffer: int = 4 * 1024 * 1024  # bytes waiting on a socket before the client counts as stalled


class NetServer:
    """Serves one world (see the module doc). ``start()`` / ``stop()`` inside a running loop."""

    def __init__(self, world: World, authority: TokenAuthority, config: ServerConfig | None = None,
                 recorder: Any = None) -> None:
        self.world = world
        self.authority = authority
        self.config = config or ServerConfig()
        self.recorder = recorder
        self.sessions: dict[str, Session] = {}
        self.closed_reasons: list[tuple[str, str]] = []   # (peer, reason) of every connection the server closed
        self.input_system: InputSystem = world.system(InputSystem)
        if self.input_system is None:
            raise ValueError(f"world {world.name!r} has no InputSystem: build it with a runtime's server profile")
        template = find_player_template(world)
        self.players = PlayerFactory(world, template)
        self.template = template
        if template:
            world.apply(DestroyEntity(template))
        self.replicator = Replicator(world, self.config.transform)
        world.registry.register(TrackedPose)
        self.replicator.schema.add_class(TrackedPose)
        base_fields = self._template_owner_fields()
        self.layout = InputLayout.from_map(self.input_system.actions.map, base_fields)
        # a VR client's input: the same, then its head and hand poses (a prefix of it is a desktop frame)
        self.tracked_layout = InputLayout.from_map(self.input_system.actions.map,
                                                   base_fields + owner_fields([TrackedPose()]))
        self.lag = LagHistory(world, self.config.tick_rate)
        self.ticker = ServerTick(self)
        self._server: Any = None
        self._tick_task: asyncio.Task | None = None
        self.port = 0
        self.on_tick: list[Callable[[int], None]] = []
        self.collector = TickCollector()      # garbage collection between ticks while serving

    def _template_owner_fields(self) -> list:
        root = self.players.specs[0] if self.players.specs else None
        components = [c.create() for c in root.components] if root is not None else []
        return owner_fields(components)

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> int:
        """Listen and start ticking; returns the port."""
        self._server = await serve(self._handle, self.config.host, self.config.port, max_size=m.MAX_CLIENT_MESSAGE,
                                   max_queue=64, compression=None, ping_interval=None,
                                   close_timeout=2.0)
        self.port = self._server.sockets[0].getsockname()[1]
        self.collector.start()
        self._tick_task = asyncio.get_running_loop().create_task(self._tick_loop())
        log.info("serving %r on ws://%s:%d (%g ticks/s, %g snapshots/s)", self.world.name, self.config.host,
                 self.port, self.config.tick_rate, self.config.snapshot_rate)
        return self.port

    async def stop(self) -> None:
        self.collector.stop()
        if self._tick_task is not None:
            self._tick_task.cancel()
            try:
                await self._tick_task
            except asyncio.CancelledError:
                pass
        for session in list(self.sessions.values()):
            if session.connection is not None:
                await self._close(session.connection, m.BYE_SERVER, "the server is stopping", session.player)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.replicator.close()
        webrtc = getattr(self, "webrtc", None)
        if webrtc is not None:
            await webrtc.close()
        if self.recorder is not None:
            self.recorder.close(self.world)

    async def _tick_loop(self) -> None:
        period = 1.0 / self.config.tick_rate
        next_tick = time.perf_counter()
        while True:
            try:
                self.ticker.tick()
                for hook in self.on_tick:
                    hook(self.world.tick_count)
            except Exception:  # noqa: BLE001 - one bad tick is logged; the server ticks on
                log.exception("net: tick %d failed; the server goes on", self.world.tick_count)
            self.collector.collect()
            next_tick += period
            delay = next_tick - time.perf_counter()
            if delay < -0.25:                      # far behind (a stall): do not race to catch up
                next_tick = time.perf_counter()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))

    # -- connections ------------------------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        peer = f"{ws.remote_address[0]}:{ws.remote_address[1]}" if ws.remote_address else "peer"
        session: Session | None = None
        try:
            session = await self._handshake(ws, peer)
            if session is None:
                return
            peer = f"{session.player}@{peer}"
            async for data in ws:
                reason = self.ticker.receive(session, data)
                if reason:
                    code, text = reason
                    self.ticker.disconnected(session)      # gone now, whatever the close handshake does
                    await self._close(ws, code, text, peer)
                    return
        except ConnectionClosed as exc:
            if exc.rcvd is not None and exc.rcvd.code == 1009:
                self._note(peer, "message too big")
            elif session is not None and session.connection is ws and exc.sent is not None and exc.sent.code == 1009:
                self._note(peer, f"a message over {m.MAX_CLIENT_MESSAGE} bytes")
        except Exception:  # noqa: BLE001 - nothing a peer does may stop the server
            log.exception("net: connection %s failed; closing it alone", peer)
            await self._close(ws, m.BYE_SERVER, "server error", peer)
        finally:
            if ws.close_code == 1009:
                self._note(peer, f"a message over {m.MAX_CLIENT_MESSAGE} bytes")
            if session is not None and session.connection is ws:
                self.ticker.disconnected(session)

    async def _handshake(self, ws: ServerConnection, peer: str) -> Session | None:
        try:
            first = await asyncio.wait_for(ws.recv(), self.config.hello_timeout)
        except asyncio.TimeoutError:
            await self._close(ws, m.BYE_TIMEOUT, f"no hello within {self.config.hello_timeout:g} s", peer)
            return None
        try:
            hello = m.decode_client(first, None)
        except ProtocolError as exc:
            await self._close(ws, m.BYE_PROTOCOL, str(exc), peer)
            return None
        if not isinstance(hello, m.Hello):
            await self._close(ws, m.BYE_PROTOCOL, "the first message must be hello", peer)
            return None
        if hello.version != m.PROTOCOL_VERSION:
            await self._close(ws, m.BYE_VERSION, f"protocol version {m.PROTOCOL_VERSION} (the client speaks "
                                                 f"{hello.version})", peer)
            return None
        try:
            grant = self.authority.verify(hello.token)
        except AuthError as exc:
            await self._close(ws, m.BYE_AUTH, f"token refused: {exc}", peer)
            return None
        if not grant.allows("play"):
            await self._close(ws, m.BYE_AUTH, "the token lacks the 'play' permission", peer)
            return None
        old = self.sessions.get(grant.player)
        if old is None and len(self.sessions) >= self.config.max_players:
            await self._close(ws, m.BYE_FULL, f"the server is full ({self.config.max_players} players)", peer)
            return None
        if old is not None and old.connection is not None:
            await self._close(old.connection, m.BYE_REPLACED, "the same player connected again", grant.player)
            self.ticker.disconnected(old)
        session = self.ticker.join(grant, ws, tracked=hello.tracked)
        await self.ticker.welcome(session, resumed=old is not None)
        return session

    async def _close(self, ws: ServerConnection, code: int, reason: str, peer: str) -> None:
        self._note(peer, reason)
        try:
            await ws.send(m.encode_bye(m.Bye(code, reason), from_server=True))
        except ConnectionClosed:
            pass
        await ws.close(4000 + code, reason[:120])

    def _note(self, peer: str, reason: str) -> None:
        if code_is_normal(reason):
            log.info("net: closed %s: %s", peer, reason)
        else:
            log.warning("net: closed %s: %s", peer, reason)
        self.closed_reasons.append((peer, reason))
        del self.closed_reasons[:-1000]

    def drop(self, session: Session, code: int, reason: str) -> None:
        """Close a session's connection from inside the tick (stalled, rate limit)."""
        ws = session.connection
        if ws is not None:
            asyncio.get_running_loop().create_task(self._close(ws, code, reason, session.player))
            self.ticker.disconnected(session)

    # -- commands from peers -------------------------------------------------------------------------
    def check_command(self, session: Session, data: Any) -> tuple[Any, str]:
        """A client's command and '' when it may run, else (None, why not)."""
        try:
            command = command_from_json(data, "command")
        except CommandError as exc:
            return None, str(exc)
        players = {s.entity for s in self.sessions.values()}
        reason = refusal(command, session.grant, players,
                         lambda eid: self.world.descendants(eid) if self.world.exists(eid) else [])
        return (None, reason) if reason else (command, "")


def code_is_normal(reason: str) -> bool:
    return reason in ("the server is stopping", "bye", "the same player connected again")
