"""The server's per-tick work and per-message handling, apart from the sockets (server.py).

Each tick: every player's next input goes to their action source (the input system reads it)
and, after the scripts, their owner-authority fields and heading go onto their own entity
(``OwnerInputSystem``); the world ticks; the rewind history records; sessions past their grace
or silent too long go; then, every snapshot interval, each client gets the entities it may see
(spawned and despawned as they come into and leave its area) and a snapshot against its baseline.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from engine.core.edit_commands import DestroyEntity
from engine.core.events import EntityCreated, EntityDestroyed
from engine.core.system import ORDER_PHYSICS, System
from engine.input.sources import DirectActionSource
from netcode import messages as m
from netcode.auth import Grant
from netcode.avatar_server import AvatarPoseSystem
from netcode.session import Session
from netcode.snapshot_sender import SnapshotSender
from netcode.spawning import chunk_records, subtree_records
from netcode.tracked_pose import TrackedPose
from netcode.wire import ProtocolError

if TYPE_CHECKING:
    from engine.core.world import World
    from netcode.server import NetServer

log = logging.getLogger("storm.net")
MAX_QUEUED_SENDS = 256   # messages waiting for one client's socket; past that it counts as stalled


def call_rpc(world: "World", player: str, data: dict[str, Any]) -> None:
    """``rpc_<method>(player, **args)`` on the first behaviour of the entity that has one."""
    eid, method = data["entity"], "rpc_" + data["method"]
    if not world.exists(eid):
        return
    for component in world.components(eid):
        handler = getattr(type(component), method, None)
        if callable(handler):
            try:
                handler(component, player, **data["args"])
            except Exception as exc:  # noqa: BLE001 - a script's RPC must not stop the tick
                log.warning("net: rpc %s on entity %d from %s failed: %s", method, eid, player, exc)
            return


def peer_name(session: Session) -> str:
    """``player@host:port`` (the player alone when the address is unknown), for log lines."""
    address = getattr(session.connection, "remote_address", None)
    return f"{session.player}@{address[0]}:{address[1]}" if address else session.player


class OwnerInputSystem(System):
    """After scripts, before physics: each player's owner-authority field values and heading from
    their input go onto their own entity (values were checked against the declarations when the
    input was decoded)."""

    name = "net_owner_input"
    order = ORDER_PHYSICS - 10

    def __init__(self, players: Callable[[], Iterable[tuple[int, Any]]], layout: Callable[[], Any]) -> None:
        self.players = players          # () -> (entity, this tick's InputFrame or None) per player
        self.layout = layout

    def update(self, world: "World", dt: float) -> None:
        layout = self.layout()
        for eid, frame in self.players():
            if frame is None or not world.exists(eid):
                continue
            by_type = {type(c).type_name: c for c in world.components(eid)}
            for spec, value in zip(layout.fields, frame.owner):
                component = by_type.get(spec.type_name)
                if component is not None:
                    component.__dict__[spec.name] = value
            world.node(eid).setH(world.root, frame.heading)


class ServerTick:
    """See the module doc; one per NetServer."""

    def __init__(self, server: "NetServer") -> None:
        self.server = server
        world = server.world
        self.world = world
        world.add_system(OwnerInputSystem(lambda: [(s.entity, s.current) for s in server.sessions.values()],
                                          lambda: server.tracked_layout))   # a desktop frame is a prefix of it
        world.add_system(AvatarPoseSystem(lambda: {s.entity: (s.player, peer_name(s)) for s in server.sessions.values()
                                                   if s.connected}))
        self._created: list[int] = []
        self._destroyed: list[int] = []
        world.events.subscribe(EntityCreated, lambda e: self._created.append(e.entity))
        world.events.subscribe(EntityDestroyed, lambda e: self._destroyed.append(e.entity))
        self._queues: dict[int, asyncio.Queue] = {}
        self.snapshot_every = max(1, round(server.config.tick_rate / server.config.snapshot_rate))
        self.tick_ms: list[float] = []
        self.tick_cpu_ms: list[float] = []
        self.section_cpu_ms: dict[str, float] = {}   # the last tick's CPU ms by part (see ``tick``)
        self.snapshots = SnapshotSender(self)

    # -- joining and leaving ----------------------------------------------------------------------
    def join(self, grant: Grant, ws: Any, tracked: bool = False) -> Session:
        """A player's session, new or resumed; ``tracked``: a VR client (its input carries poses)."""
        server = self.server
        session = server.sessions.get(grant.player)
        if session is None or not self.world.exists(session.entity):
            source = DirectActionSource()
            entity = server.players.spawn(self.world, grant.player)
            session = Session(grant, entity, source, server.config.limits)
            server.sessions[grant.player] = session
            server.input_system.add_player(grant.player, source)
            self.record("join", grant.player, entity)
            self.broadcast(m.JOINED, {"player": grant.player, "entity": entity}, skip=session)
        pose = self.world.get(session.entity, TrackedPose)
        if tracked and pose is None:
            self.world.add(session.entity, TrackedPose())
        elif not tracked and pose is not None:
            self.world.set_field(session.entity, pose, "tracked", 0, validated=True)   # back on a desktop
        previous, session.layout = session.layout, server.tracked_layout if tracked else server.layout
        if (previous is server.tracked_layout) != tracked:
            self.record("vr", grant.player, tracked)
        session.grant = grant
        session.connection = ws
        session.connected = True
        session.last_heard = time.monotonic()
        session.sent.clear()
        session.acked.clear()
        session.ack_tick = session.events_in = session.events_out = 0
        session.received_seq = session.applied_seq = 0
        session.inputs.clear()
        session.known = np.zeros(0, np.int64)
        session.known_version = -1
        queue: asyncio.Queue = asyncio.Queue()
        self._queues[id(session)] = queue
        asyncio.get_running_loop().create_task(self._writer(ws, queue))
        return session

    async def _writer(self, ws: Any, queue: asyncio.Queue) -> None:
        from websockets.exceptions import ConnectionClosed

        while True:
            data = await queue.get()
            if data is None:
                return
            try:
                await ws.send(data)
            except ConnectionClosed:
                return

    def send(self, session: Session, data: bytes, droppable: bool = False) -> None:
        queue = self._queues.get(id(session))
        if queue is None or not session.connected:
            return
        if droppable and queue.qsize() > 4:
            return                                 # a snapshot behind others: the next one replaces it
        if queue.qsize() > MAX_QUEUED_SENDS:
            self.server.drop(session, m.BYE_TIMEOUT, "stalled: not reading what the server sends")
            return
        session.bytes_out += len(data)
        queue.put_nowait(data)

    def send_event(self, session: Session, kind: int, data: dict[str, Any]) -> None:
        session.events_out += 1
        event = m.Event(session.events_out, kind, data)
        self.send(session, m.encode_event(event, from_server=True))

    def record(self, what: str, player: str, data: Any = None) -> None:
        """Hand one happening to the session recorder (joins, leaves, chat, commands, RPCs)."""
        if self.server.recorder is not None:
            self.server.recorder.event(self.world.tick_count, what, player, data)

    def broadcast(self, kind: int, data: dict[str, Any], skip: Session | None = None) -> None:
        for session in self.server.sessions.values():
            if session is not skip and session.connected:
                self.send_event(session, kind, data)

    async def welcome(self, session: Session, resumed: bool) -> None:
        server = self.server
        setup = {"layout": session.layout.describe(), "schema": server.replicator.schema.describe(),
                 "transform": server.config.transform.describe(), "template": server.template,
                 "permissions": sorted(session.grant.permissions), "world": self.world.name,
                 "seed": self.world.seed}
        welcome = m.Welcome(session.player, session.entity, self.world.tick_count, server.config.tick_rate,
                            server.config.snapshot_rate, resumed, setup)
        self.send(session, m.encode_welcome(welcome))
        self.snapshots.update_known(session, None, first=True)

    def disconnected(self, session: Session) -> None:
        if not session.connected:
            return
        session.connected = False
        session.connection = None
        session.left_at = time.monotonic()
        session.source.clear()
        session.current = None
        self.record("off", session.player)
        webrtc = getattr(self.server, "webrtc", None)
        if webrtc is not None:
            webrtc.forget(session)
        queue = self._queues.pop(id(session), None)
        if queue is not None:
            queue.put_nowait(None)

    def _expire(self, session: Session, reason: str) -> None:
        server = self.server
        server.sessions.pop(session.player, None)
        server.input_system.remove_player(session.player)
        if self.world.exists(session.entity):
            self.world.apply(DestroyEntity(session.entity))
        self.record("leave", session.player)
        self.broadcast(m.LEFT, {"player": session.player, "reason": reason})

    # -- messages ---------------------------------------------------------------------------------
    def receive(self, session: Session, data: Any) -> tuple[int, str] | None:
        """Handle one message; returns (close code, reason) when the client must go."""
        session.last_heard = time.monotonic()
        size = len(data) if isinstance(data, (bytes, bytearray, str)) else 0
        if not session.message_rate.take() or not session.byte_rate.take(size):
            return m.BYE_RATE, "rate limit: too many messages or bytes per second"
        try:
            msg = m.decode_client(data, session.layout or self.server.layout)
        except ProtocolError as exc:
            return m.BYE_PROTOCOL, str(exc)
        if isinstance(msg, m.Input):
            reason = session.acknowledge(msg.ack_tick) or session.take_inputs(msg.first_seq, msg.frames)
            return (m.BYE_PROTOCOL, reason) if reason else None
        if isinstance(msg, m.Ping):
            self.send(session, m.encode_pong(m.Pong(msg.client_time, time.monotonic(), self.world.tick_count)))
            return None
        if isinstance(msg, m.Event):
            return self._event(session, msg)
        if isinstance(msg, m.Bye):
            return m.BYE_NORMAL, "bye"
        if isinstance(msg, m.Signal):
            webrtc = getattr(self.server, "webrtc", None)
            if webrtc is None:
                self.send_event(session, m.NOTICE, {"text": "webrtc is not offered by this server"})
            else:
                webrtc.on_signal(session, msg)
            return None
        return m.BYE_PROTOCOL, "hello: sent twice (the handshake is over)"

    def _event(self, session: Session, event: m.Event) -> tuple[int, str] | None:
        if event.seq != session.events_in + 1:
            return m.BYE_PROTOCOL, f"event numbers out of order: {event.seq} after {session.events_in}"
        session.events_in = event.seq
        grant = session.grant
        if event.kind == m.CHAT:
            if not grant.allows("chat"):
                self.send_event(session, m.NOTICE, {"text": "chat needs the 'chat' permission"})
            elif not session.chat_rate.take():
                self.send_event(session, m.NOTICE, {"text": "chat rate limit: line dropped"})
            else:
                self.record("chat", session.player, event.data["text"])
                self.broadcast(m.CHAT, {"player": session.player, "text": event.data["text"]})
            return None
        if not session.command_rate.take():
            return m.BYE_RATE, "rate limit: too many commands per second"
        if event.kind == m.VOICE_MUTE:
            voice = getattr(getattr(self.server, "webrtc", None), "voice", None)
            if voice is not None:
                voice.mute(session.player, event.data["player"], event.data["muted"])
            return None
        if event.kind == m.COMMAND:
            command, reason = self.server.check_command(session, event.data["json"])
            if command is None:
                self.send_event(session, m.NOTICE, {"text": f"command refused: {reason}"})
                return None
            self.world.post(lambda: self._apply_command(session, command, event.data["json"]))
            return None
        self.world.post(lambda: self._rpc(session, event.data))
        return None

    def _apply_command(self, session: Session, command: Any, data: Any) -> None:
        from engine.core.commands import CommandError

        try:
            self.world.apply(command)
        except CommandError as exc:
            if session.connected:
                self.send_event(session, m.NOTICE, {"text": f"command refused: {exc}"})
            return
        self.record("command", session.player, data)
        self.broadcast(m.COMMAND, {"json": data})

    def _rpc(self, session: Session, data: dict[str, Any]) -> None:
        """``rpc_<method>(player, **args)`` on a behaviour of the entity, when it has one."""
        self.record("rpc", session.player, data)
        call_rpc(self.world, session.player, data)

    # -- the tick ---------------------------------------------------------------------------------
    def tick(self) -> None:
        start, cpu = time.perf_counter(), time.thread_time()
        server, world = self.server, self.world
        recorder = server.recorder
        for session in server.sessions.values():
            previous = session.current
            frame = session.next_input() if session.connected else None
            if frame is not None:
                session.source.set_frame(frame.actions())
                if recorder is not None and frame is not previous:
                    recorder.input(world.tick_count, session.player, frame)
        inputs_done = time.thread_time()
        world.tick()
        world_done = time.thread_time()
        server.lag.record(world.tick_count)
        self._housekeeping()
        self._spawns()
        schema_rows = server.replicator.new_schema_entries
        if schema_rows:
            self.broadcast(m.SCHEMA, {"json": schema_rows})
            server.replicator.new_schema_entries = []
        every = self.snapshot_every
        due = [s for s in server.sessions.values() if s.connected and (world.tick_count + s.entity) % every == 0]
        gather_start = gather_done = time.thread_time()
        if due:                                    # clients take turns: the work spreads over the ticks
            gathered = server.replicator.gather(world.tick_count)
            gather_done = time.thread_time()
            self.snapshots.send(gathered, due)
        snapshots_done = time.thread_time()
        if recorder is not None:
            recorder.tick(world)
        end = time.thread_time()
        self.tick_ms.append((time.perf_counter() - start) * 1000.0)
        self.tick_cpu_ms.append((end - cpu) * 1000.0)   # without time lost to other processes
        self.section_cpu_ms = {"inputs": (inputs_done - cpu) * 1000.0, "world": (world_done - inputs_done) * 1000.0,
                               "gather": (gather_done - gather_start) * 1000.0,
                               "snapshots": (snapshots_done - gather_done) * 1000.0,
                               "other": (end - snapshots_done + gather_start - world_done) * 1000.0}
        del self.tick_ms[:-10000], self.tick_cpu_ms[:-10000]

    def _housekeeping(self) -> None:
        now = time.monotonic()
        config = self.server.config
        for session in list(self.server.sessions.values()):
            if session.connected and now - session.last_heard > config.stall_timeout:
                self.server.drop(session, m.BYE_TIMEOUT, f"timed out: nothing for {config.stall_timeout:g} s")
            elif not session.connected and now - session.left_at > config.grace:
                self._expire(session, f"did not come back within {config.grace:g} s")

    def _spawn_children(self, created: list[int]) -> None:
        """Subtrees created under entities a client already has (a VR player's avatar parts) go to
        that client as SPAWN events, parents first."""
        world = self.world
        made = set(created)
        tops = [eid for eid in created if world.parent_of(eid) != 0 and world.parent_of(eid) not in made]
        if not tops:
            return
        records = {eid: subtree_records(world, eid) for eid in tops}
        for session in self.server.sessions.values():
            if not session.connected:
                continue
            mine = [records[eid] for eid in tops if world.parent_of(eid) in session.known_all
                    and eid not in session.known_all]
            for chunk in chunk_records(mine):
                self.send_event(session, m.SPAWN, {"json": chunk})
            for group in mine:
                session.known_all.update(r["id"] for r in group)
            if mine:
                session.known_version = -1          # its networked set grew: worked out again before the snapshot

    def _spawns(self) -> None:
        """Tell clients about entities created and destroyed this tick (networked roots only to
        those who can see them: the snapshot step spawns those)."""
        world = self.world
        created, self._created = self._created, []
        destroyed, self._destroyed = self._destroyed, []
        gone = [eid for eid in destroyed if not world.exists(eid)]
        if gone:
            for session in self.server.sessions.values():
                if session.connected:
                    mine = [eid for eid in gone if eid in session.known_all]
                    if mine:
                        self.send_event(session, m.DESPAWN, {"entities": mine})
                        session.known_all.difference_update(mine)
                        session.known = session.known[~np.isin(session.known, mine)]
        created = [eid for eid in dict.fromkeys(created) if world.exists(eid)]
        roots = [eid for eid in created if world.parent_of(eid) == 0]
        self.server.replicator.refresh()
        self._spawn_children(created)
        static = [eid for eid in roots if eid not in self.server.replicator.networked]
        if static:
            records = [subtree_records(world, eid) for eid in static]
            for session in self.server.sessions.values():
                if session.connected:
                    for chunk in chunk_records(records):
                        self.send_event(session, m.SPAWN, {"json": chunk})
                    for group in records:
                        session.known_all.update(r["id"] for r in group)
