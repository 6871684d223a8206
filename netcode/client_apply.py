"""What a client does with what the server sends, and what it sends back, tick by tick (the
systems of ``client.py`` call in here). See client.py for the order of a tick."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from panda3d.core import Quat

from engine.camera.components import Camera
from engine.core.commands import CommandError, command_from_json
from engine.core.edit_commands import CreateEntity, DestroyEntity
from engine.core.errors import FieldError
from engine.input.actions import NEUTRAL
from engine.physics.components import CharacterController
from netcode import messages as m
from netcode.clock_sync import ClockSync
from netcode.field_schema import SCALE_FIELD, FieldSchema
from netcode.input_layout import InputFrame, InputLayout, OwnerField
from netcode.interpolation import Interpolator
from netcode.prediction import PlayerState, Predictor
from netcode.quantize import TransformSpec, positions_of, quats_of
from netcode.snapshot_codec import View, decode, prediction_spacing
from netcode.spawning import puppet_records
from netcode.wire import ProtocolError

if TYPE_CHECKING:
    from engine.core.world import World
    from netcode.client import NetClient

log = logging.getLogger("storm.net")
VIEWS_KEPT = 160
MAX_CLIENT_ENTITIES = 200_000
MAX_MESSAGES_PER_TICK = 2000
PING_SECONDS = 1.0


def layout_from(setup: dict[str, Any], world: "World") -> InputLayout:
    data = setup.get("layout")
    if not isinstance(data, dict):
        raise ValueError("the welcome has no input layout")
    names = []
    for key in ("buttons", "axes", "vectors"):
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 64 for v in value):
            raise ValueError(f"layout.{key}: a list of action names")
        names.append(value)
    fields = []
    for row in data.get("fields", []):
        if not (isinstance(row, list) and len(row) == 2 and all(isinstance(v, str) for v in row)):
            raise ValueError("layout.fields: [component type, field] pairs")
        cls = world.registry.get(row[0])
        if cls is None or row[1] not in cls.fields:
            raise ValueError(f"layout.fields: this client has no field {row[0]}.{row[1]}")
        fields.append(OwnerField(row[0], row[1], cls.fields[row[1]]))
    return InputLayout(names[0], names[1], names[2], fields)


class ClientState:
    """The client's half of the protocol over its World (see client.py)."""

    def __init__(self, client: "NetClient", world: "World", welcome: m.Welcome, interp_delay: float = 0.1,
                 max_extrapolation: float = 0.25, smoothing: float = 0.1) -> None:
        setup = welcome.setup
        self.client = client
        self.world = world
        self.entity = welcome.entity
        self.template = setup.get("template") if isinstance(setup.get("template"), int) else 0
        self.layout = layout_from(setup, world)
        self.schema = FieldSchema.from_description(setup.get("schema", []))
        self.spec = TransformSpec.from_description(setup.get("transform"))
        self.permissions = [p for p in setup.get("permissions", []) if isinstance(p, str)]
        self.tick_rate = welcome.tick_rate
        self.interpolator = Interpolator(welcome.tick_rate, interp_delay, max_extrapolation)
        self.clock = ClockSync(welcome.tick_rate)
        self.predictor = Predictor(world, self.entity, self.layout, smoothing=smoothing)
        self.views: dict[int, View] = {}
        self.ack_tick = 0
        self.newest_tick = welcome.tick
        self.newest_at = time.monotonic()
        self.events_in = 0
        self.events_out = 0
        self.chat: list[tuple[str, str]] = []
        self.notices: list[str] = []
        self.players: dict[str, int] = {}
        self.snapshots = 0
        self.bytes_in = 0
        self._last_ping = 0.0
        self._warned: set[str] = set()

    # -- sending ----------------------------------------------------------------------------------
    def send_event(self, kind: int, data: dict[str, Any]) -> None:
        self.events_out += 1
        self.client.send(m.encode_event(m.Event(self.events_out, kind, data), from_server=False))

    # -- the tick ---------------------------------------------------------------------------------
    def before_tick(self, dt: float) -> None:
        inbox = self.client.inbox
        for _ in range(min(len(inbox), MAX_MESSAGES_PER_TICK)):
            data = inbox.popleft()
            if self.client.closed and self.client.closed_reason.startswith("server sent"):
                break
            self.bytes_in += len(data) if isinstance(data, (bytes, bytearray)) else 0
            try:
                self._handle(data)
            except ProtocolError as exc:
                self.client.fail(f"server sent a bad message: {exc}")
                inbox.clear()
                break
        now = time.monotonic()
        if now - self._last_ping >= PING_SECONDS and not self.client.closed:
            self._last_ping = now
            self.client.send(m.encode_ping(m.Ping(now)))
        self._place_remote(now)
        self.predictor.smooth(dt)

    def server_tick(self, now: float) -> float:
        if self.clock.ready:
            return self.clock.server_tick(now)
        return self.newest_tick + (now - self.newest_at) * self.tick_rate

    def render_tick(self, now: float | None = None) -> float:
        return self.interpolator.render_tick(self.server_tick(time.monotonic() if now is None else now))

    def _place_remote(self, now: float) -> None:
        world = self.world
        for eid, (pos, quat) in self.interpolator.sample(self.render_tick(now)).items():
            if eid != self.entity and world.exists(eid):
                node = world.node(eid)
                node.setPos(float(pos[0]), float(pos[1]), float(pos[2]))
                node.setQuat(Quat(float(quat[0]), float(quat[1]), float(quat[2]), float(quat[3])))

    def capture_input(self) -> None:
        world, eid = self.world, self.entity
        if not world.exists(eid) or self.client.closed:
            return
        actions = world.services.get("input")
        action_frame = actions.frame() if actions is not None else NEUTRAL
        by_type = {type(c).type_name: c for c in world.components(eid)}
        owner = tuple(getattr(by_type[f.type_name], f.name) if f.type_name in by_type else f.declared.default
                      for f in self.layout.fields)
        frame = self.layout.quantised(InputFrame(action_frame.held, dict(action_frame.axes), dict(action_frame.vectors),
                                                 world.node(eid).getH(world.root), owner, max(0.0, self.render_tick())))
        self.predictor.apply(frame)
        seq = self.predictor.next_input(frame)
        frames = self.predictor.unacked(m.MAX_INPUTS_PER_MESSAGE // 2)
        if frames:
            first = frames[0][0]
            self.client.send(m.encode_input(m.Input(self.ack_tick, first, tuple(f for _, f in frames)), self.layout))
        del seq

    def after_physics(self) -> None:
        self.predictor.record()

    # -- what arrives -----------------------------------------------------------------------------
    def _handle(self, data: Any) -> None:
        msg = m.decode_server(data)
        for hook in self.client.on_message:
            hook(msg)
        if isinstance(msg, m.Snapshot):
            self._snapshot(msg)
        elif isinstance(msg, m.Event):
            if msg.seq != self.events_in + 1:
                raise ProtocolError("event.seq", f"event {self.events_in + 1} next (got {msg.seq})")
            self.events_in = msg.seq
            self._event(msg)
        elif isinstance(msg, m.Pong):
            self.clock.add(msg.client_time, msg.server_time, msg.server_tick, time.monotonic())
        elif isinstance(msg, m.Bye):
            self.client.closed_reason = msg.reason
        elif isinstance(msg, m.Signal):
            if self.client.webrtc is not None:
                self.client.webrtc.on_signal(msg)
        else:
            raise ProtocolError("message", "no second welcome")

    def _snapshot(self, msg: m.Snapshot) -> None:
        base = self.views.get(msg.baseline) if msg.baseline else None
        if msg.baseline and base is None:
            self._warn("baseline", f"snapshot {msg.tick} is against {msg.baseline}, which this client does not have")
            return
        ahead, behind = prediction_spacing(msg.payload)
        previous = self.views.get(msg.baseline - behind) if ahead else None
        if ahead and previous is None:
            self._warn("previous", f"snapshot {msg.tick} predicts from {msg.baseline - behind}, which this client lacks")
            return
        view, updates = decode(msg.payload, base, self.spec, self.schema, previous)
        self.views[msg.tick] = view
        for old in [t for t in self.views if t <= msg.tick - VIEWS_KEPT]:
            del self.views[old]
        self.ack_tick = max(self.ack_tick, msg.tick)
        self.snapshots += 1
        if msg.tick < self.newest_tick:
            return                                 # late (an unordered path): kept as a baseline only
        self.newest_tick, self.newest_at = msg.tick, time.monotonic()
        self._apply_fields(updates)
        if not len(view):
            return
        pos = positions_of(view.pos, self.spec)
        quats = quats_of(view.largest, view.parts, self.spec)
        own = view.ids == self.entity
        self.interpolator.add(float(msg.tick), view.ids[~own], pos[~own], quats[~own])
        if own.any() and msg.input_ack:
            row = int(np.flatnonzero(own)[0])
            fields = view.fields.get(self.entity, {})
            grounded_id = self.schema.id_of("CharacterController", "grounded")
            speed_id = self.schema.id_of("CharacterController", "vertical_speed")
            grounded = bool(fields.get(grounded_id, False)) if grounded_id is not None else False
            speed = self.schema.value_of(speed_id, fields[speed_id]) if speed_id in fields else 0.0
            state = PlayerState(tuple(pos[row]), tuple(quats[row]), grounded, speed)
            self.predictor.reconcile(msg.input_ack, state, 1.0 / self.tick_rate)

    def _apply_fields(self, updates: list[tuple[int, int, Any]]) -> None:
        world = self.world
        for eid, fid, value in updates:
            if not world.exists(eid):
                continue
            entry = self.schema.entries[fid]
            if fid == SCALE_FIELD:
                if eid != self.entity and all(abs(v) > 1e-12 for v in value):
                    world.node(eid).setScale(*value)
                continue
            if eid == self.entity and entry.type_name == "CharacterController":
                continue                           # predicted here; reconciliation sets it
            cls = world.registry.get(entry.type_name)
            component = world.get(eid, cls) if cls is not None else None
            declared = cls.fields.get(entry.name) if cls is not None else None
            if component is None or declared is None:
                continue
            try:
                checked = declared.type.validate(self.schema.value_of(fid, value))
            except FieldError as exc:
                self._warn(f"field:{fid}", f"entity {eid} {entry.type_name}.{entry.name}: {exc}; not applied")
                continue
            if getattr(component, entry.name) != checked:
                world.set_field(eid, component, entry.name, checked, validated=True)

    def _event(self, event: m.Event) -> None:
        world, kind, data = self.world, event.kind, event.data
        if kind == m.SPAWN:
            records = [r for r in puppet_records(data["json"], self.entity)
                       if not (isinstance(r, dict) and isinstance(r.get("id"), int) and world.exists(r["id"]))]
            if len(world.entities()) + len(records) > MAX_CLIENT_ENTITIES:
                raise ProtocolError("event.spawn", f"at most {MAX_CLIENT_ENTITIES} entities in all")
            if records:
                try:
                    world.apply(CreateEntity(records))
                except CommandError as exc:
                    self._warn("spawn", f"spawn refused: {exc}")
                self._retarget_cameras()
        elif kind == m.DESPAWN:
            for eid in data["entities"]:
                self.interpolator.forget(eid)
                if world.exists(eid):
                    world.apply(DestroyEntity(eid))
        elif kind == m.COMMAND:
            try:
                world.apply(command_from_json(data["json"], "server command"))
            except CommandError as exc:
                self._warn("command", f"a command from the server was refused here: {exc}")
        elif kind == m.CHAT:
            self.chat.append((data["player"], data["text"]))
        elif kind == m.JOINED:
            self.players[data["player"]] = data["entity"]
        elif kind == m.LEFT:
            self.players.pop(data["player"], None)
        elif kind == m.NOTICE:
            self.notices.append(data["text"])
            log.info("net: server notice: %s", data["text"])
        elif kind == m.SCHEMA:
            try:
                self.schema.extend(data["json"])
            except ValueError as exc:
                raise ProtocolError("event.schema", str(exc)) from None

    def _retarget_cameras(self) -> None:
        """Cameras that followed the server's player template follow this client's player."""
        world = self.world
        if not self.template or not world.exists(self.entity):
            return
        for eid, camera in world.query(Camera):
            if camera.target == self.template:
                world.set_field(eid, camera, "target", self.entity, validated=True)

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned and len(self._warned) < 100:
            self._warned.add(key)
            log.warning("net: %s", message)

    def own_controller(self) -> CharacterController | None:
        return self.world.get(self.entity, CharacterController)
