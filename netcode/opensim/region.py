"""A region in a Storm World: the messages of a circuit applied at the start of each tick.

The circuit (on the network thread) puts decoded messages into a bounded inbox; the
``RegionSystem`` (first in the tick, on the World's thread) takes them out and applies them:
terrain patches into a height grid that becomes a Storm ``Terrain`` (drawn and collided, so it
is walkable), the water level as a plane, objects into entities (``region_world``), chat into a
bounded log, our own position. It then turns this tick's input actions into AgentUpdates. A
message that does not decode into the World is logged and skipped; the circuit goes on.
"""
from __future__ import annotations

import logging
import math
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from engine.core.system import ORDER_INPUT, System
from netcode.opensim.agent import RESEND_EVERY, STAND_UP, AgentControls, agent_update, controls_from_actions
from netcode.opensim.login import LoginReply
from netcode.opensim.messages import Message
from netcode.opensim.messaging import SHOWN, InstantMessage, escaped, im_blocks, log_im, read_im
from netcode.opensim.objects import ObjectError, from_compressed, from_full, from_terse
from netcode.opensim.region_sun import RegionSun
from netcode.opensim.region_terrain import HEIGHTMAP, PACK, RegionTerrain
from netcode.opensim.region_world import ObjectMirror
from netcode.opensim.terrain_patch import LAND, LAND_EXTENDED, PatchError, RegionHeights, decode_layer
from netcode.opensim.textures import RegionTextures
from netcode.opensim.travel import Travel, TravelError

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.opensim")
__all__ = ["HEIGHTMAP", "PACK", "ChatLine", "Heard", "RegionSession", "RegionSystem", "RegionTerrain"]
MAX_INBOX = 20000
MAX_PER_TICK = 4000
MAX_CHAT = 200
WHISPER, SAY, SHOUT = 0, 1, 2      # ChatFromViewer's Type
TERRAIN_EVERY = 1.0          # seconds between terrain rebuilds while patches keep coming
REZ_SHAPES = {"box": (0x10, 0x01), "cylinder": (0x10, 0x00), "sphere": (0x20, 0x05)}   # path, profile curves
Send = Callable[[str, dict[str, list[dict[str, Any]]], bool], None]


@dataclass(frozen=True)
class ChatLine:
    """One line of local chat heard in the region."""

    from_name: str
    message: str
    chat_type: int
    source_type: int
    source_id: str


@dataclass(frozen=True)
class Heard:
    """One line of what the visit heard, in arrival order: local chat (``chat``), an instant
    message received (``im``) or sent (``im_sent``: ``name`` is the receiver)."""

    kind: str
    name: str
    text: str


class RegionSession:
    """What one visit knows of its region, shared by the network thread (``receive``) and the World's."""

    def __init__(self, world: "World", reply: LoginReply, send: Send, textures: RegionTextures | None = None) -> None:
        self.world = world
        self.reply = reply
        self.send = send
        self.inbox: deque[Message] = deque()
        self.dropped = 0
        self.heights = RegionHeights()
        self.terrain = RegionTerrain(world, heights=self.heights)
        self.terrain_dirty = False
        self.mirror = ObjectMirror(world, str(reply.agent_id))
        self.chat: deque[ChatLine] = deque(maxlen=MAX_CHAT)
        self.counts: Counter[str] = Counter()
        self.region_name = ""
        self.water_height = 20.0
        self.position: tuple[float, float, float] = (128.0, 128.0, 25.0)
        self.controls = AgentControls()
        self.moving = False
        self._sent_at = 0.0
        self._sent_flags = -1
        self.handshake = False
        self.sky = RegionSun(world)        # the region sky and sun entities, the day cycle
        self.ims: deque[InstantMessage] = deque(maxlen=MAX_CHAT)
        self.heard: deque[Heard] = deque(maxlen=MAX_CHAT)   # chat and IMs together, for a chat panel
        self.heard_count = 0                                  # lines ever added to ``heard``
        self.textures = textures
        if textures is not None:
            self.mirror.on_removed = textures.forget
            self.mirror.want_map = textures.want_pixels          # sculpt maps, fetched as textures are
            textures.on_pixels = lambda texture_id, d: self.mirror.map_arrived(texture_id, d.width, d.height, d.rgba)
        self.travel = Travel(self)
        self.stand_up = 0                  # AgentUpdates still to carry AGENT_CONTROL_STAND_UP
        self.avatar_local_id = 0
        self._more: dict[str, Callable[[Message], None]] = {**self.travel.handlers(),
                                                            "ImprovedInstantMessage": self._im}

    # -- the network thread ---------------------------------------------------------------------
    def receive(self, message: Message) -> None:
        """Queue a message for the next tick (bounded: past MAX_INBOX the message is dropped and counted)."""
        if len(self.inbox) >= MAX_INBOX:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("opensim: the region inbox is full (%d); %d messages dropped", MAX_INBOX, self.dropped)
            return
        self.inbox.append(message)

    # -- the World's thread ---------------------------------------------------------------------
    def apply_pending(self) -> None:
        for state in self.mirror.begin_tick():       # prims whose meshes wait for a tick's budget
            self._seen(state)
        for _ in range(min(len(self.inbox), MAX_PER_TICK)):
            message = self.inbox.popleft()
            self.counts[message.name] += 1
            handler = self._handlers.get(message.name)
            more = self._more.get(message.name) if handler is None else None
            if handler is None and more is None:
                continue
            try:
                if handler is not None:
                    handler(self, message)
                elif more is not None:
                    more(message)
            except (ObjectError, PatchError, TravelError, KeyError, ValueError, TypeError) as exc:
                self.counts["refused"] += 1
                log.warning("opensim: %s not applied to the world: %s", message.name, exc)
        if self.terrain_dirty and (self.heights.complete or time.monotonic() - self.terrain.built_at > TERRAIN_EVERY):
            self.terrain_dirty = False
            self.terrain.rebuild()
        if self.textures is not None:
            self.textures.update()
        self.sky.update()

    def _region_handshake(self, message: Message) -> None:
        info = message.block("RegionInfo")
        self.region_name = bytes(info["SimName"]).rstrip(b"\0").decode("utf-8", "replace")[:100]
        self.water_height = float(info["WaterHeight"])
        self.terrain.set_water(self.water_height)
        self.sky.make_sky()                # Storm's default sky until the region's is read
        self.send("RegionHandshakeReply", {"AgentData": [self.agent_block()], "RegionInfo": [{"Flags": 0}]}, True)
        self.handshake = True

    def _movement_complete(self, message: Message) -> None:
        data = message.block("Data")
        self.position = tuple(data["Position"])  # type: ignore[assignment]
        look = data["LookAt"]
        if abs(look[0]) + abs(look[1]) > 1e-3:
            self.controls.yaw = math.atan2(look[1], look[0])

    def _sun(self, message: Message) -> None:
        self.sky.time_message(message)

    def _layer_data(self, message: Message) -> None:
        kind = message.block("LayerID")["Type"]
        if kind not in (LAND, LAND_EXTENDED):
            return                         # wind and clouds are not drawn
        _, patches = decode_layer(message.block("LayerData")["Data"], self.heights.patches)
        self.heights.apply(patches)
        self.terrain_dirty = True

    def _object_update(self, message: Message) -> None:
        for block in message.blocks["ObjectData"]:
            try:
                self._seen(from_full(block))
            except ObjectError as exc:
                self.counts["refused"] += 1
                log.warning("opensim: an ObjectUpdate block was refused: %s", exc)

    def _object_update_compressed(self, message: Message) -> None:
        for block in message.blocks["ObjectData"]:
            try:
                self._seen(from_compressed(block["Data"]))
            except ObjectError as exc:
                self.counts["refused"] += 1
                log.warning("opensim: an ObjectUpdateCompressed block was refused: %s", exc)

    def _seen(self, state: Any) -> None:
        self.mirror.upsert(state)
        if state.is_avatar and str(state.full_id) == str(self.reply.agent_id):
            self.avatar_local_id = state.local_id
            self.position = self.mirror.world_transform(state)[0]    # a seated avatar is placed from its seat
            self.travel.seated(state.parent_id)
        elif self.textures is not None and not state.is_avatar:
            for entity, look in self.mirror.looks_of(state.local_id):     # the prim's and its faces' entities
                self.textures.show(entity, look)

    def _terse(self, message: Message) -> None:
        for block in message.blocks["ObjectData"]:
            try:
                update = from_terse(block["Data"])
            except ObjectError as exc:
                self.counts["refused"] += 1
                log.warning("opensim: a terse update was refused: %s", exc)
                continue
            self.mirror.move(update.local_id, update.position, update.rotation)
            if update.local_id == self.avatar_local_id and update.local_id in self.mirror.states:
                self.position = self.mirror.world_transform(self.mirror.states[update.local_id])[0]

    def _cached(self, message: Message) -> None:
        ids = [{"CacheMissType": 0, "ID": block["ID"]} for block in message.blocks["ObjectData"]]
        for start in range(0, len(ids), 255):
            self.send("RequestMultipleObjects", {"AgentData": [self.agent_block()], "ObjectData": ids[start:start + 255]},
                      True)

    def _kill(self, message: Message) -> None:
        for block in message.blocks["ObjectData"]:
            self.mirror.kill(block["ID"])

    def _im(self, message: Message) -> None:
        im = read_im(message)
        if im.dialog not in SHOWN or str(im.to_id) not in (str(self.reply.agent_id), str(uuid.UUID(int=0))):
            self.counts["im_not_shown"] += 1          # typing notices, group and inventory offers, strays
            return
        self.ims.append(im)
        self._hear("im", im.from_name, im.text)
        log_im(im)

    def _hear(self, kind: str, name: str, text: str) -> None:
        self.heard.append(Heard(kind, name, text))
        self.heard_count += 1

    def _chat(self, message: Message) -> None:
        data = message.block("ChatData")
        line = ChatLine(bytes(data["FromName"]).rstrip(b"\0").decode("utf-8", "replace")[:100],
                        bytes(data["Message"]).rstrip(b"\0").decode("utf-8", "replace")[:1024],
                        data["ChatType"], data["SourceType"], str(data["SourceID"]))
        self.chat.append(line)
        if line.message and line.chat_type in (WHISPER, SAY, SHOUT):     # not typing starts and stops
            log.info("[chat] %s: %s", escaped(line.from_name, 100), escaped(line.message))
            self._hear("chat", line.from_name, line.message)

    _handlers: dict[str, Callable[["RegionSession", Message], None]] = {
        "RegionHandshake": _region_handshake, "AgentMovementComplete": _movement_complete,
        "LayerData": _layer_data, "ObjectUpdate": _object_update,
        "ObjectUpdateCompressed": _object_update_compressed, "ImprovedTerseObjectUpdate": _terse,
        "ObjectUpdateCached": _cached, "SimulatorViewerTimeMessage": _sun, "KillObject": _kill, "ChatFromSimulator": _chat,
    }

    # -- what the avatar does -------------------------------------------------------------------
    def agent_block(self) -> dict[str, Any]:
        return {"AgentID": self.reply.agent_id, "SessionID": self.reply.session_id}

    def moved_to(self, position: tuple[float, float, float]) -> None:
        """The region put our avatar here (a teleport): show it there before its next update."""
        self.position = position
        state = self.mirror.states.get(self.avatar_local_id)
        if state is not None:
            state.parent_id = 0
            self.mirror.move(state.local_id, position, state.rotation)

    def find_avatar(self, name: str) -> uuid.UUID | None:
        """The UUID of an avatar in view by its name ("First Last"), or None."""
        for state in self.mirror.states.values():
            if state.is_avatar and state.name == name:
                return state.full_id
        return None

    def send_im(self, to_id: uuid.UUID, text: str, to_name: str = "") -> None:
        """Send an instant message to one avatar (by UUID); kept in ``ims`` as sent."""
        name = f"{self.reply.first_name} {self.reply.last_name}".strip()
        self.send("ImprovedInstantMessage", im_blocks(self.reply.agent_id, self.reply.session_id, to_id, text, name,
                                                      self.position), True)
        sent = InstantMessage(self.reply.agent_id, name, to_id, text[:1000], 0, uuid.UUID(int=0), False, False,
                              to_name)
        self.ims.append(sent)
        self._hear("im_sent", to_name or str(to_id), sent.text)
        log_im(sent)

    def say(self, text: str, channel: int = 0, chat_type: int = SAY) -> None:
        """Say a line in local chat: ``SAY`` is heard within 20 m, ``WHISPER`` 10 m, ``SHOUT`` 100 m."""
        if chat_type not in (WHISPER, SAY, SHOUT):
            raise ValueError(f"chat type {chat_type}: expected {WHISPER} (whisper), {SAY} (say) or {SHOUT} (shout)")
        self.send("ChatFromViewer", {"AgentData": [self.agent_block()], "ChatData": [
            {"Message": text[:1000], "Type": chat_type, "Channel": channel}]}, True)

    def rez(self, shape: str, position: tuple[float, float, float], scale: tuple[float, float, float]) -> None:
        """Ask the simulator to make a prim (``box``, ``cylinder`` or ``sphere``) at a region position."""
        path, profile = REZ_SHAPES[shape]
        self.send("ObjectAdd", {"AgentData": [dict(self.agent_block(), GroupID=None)], "ObjectData": [{
            "PCode": 9, "Material": 3, "AddFlags": 0, "PathCurve": path, "ProfileCurve": profile, "PathScaleX": 100,
            "PathScaleY": 100, "BypassRaycast": 1, "RayStart": position, "RayEnd": position,
            "RayEndIsIntersection": 1, "Scale": scale, "Rotation": (0.0, 0.0, 0.0, 1.0), "State": 0}]}, True)

    def drive(self, move: tuple[float, float], turn: float, jump_pressed: bool, jump_held: bool) -> None:
        """This tick's input actions: send an AgentUpdate when the controls changed, or now and then."""
        self.controls = controls_from_actions(self.controls, move, turn, jump_pressed, jump_held)
        now = time.monotonic()
        turned = abs(turn) > 1e-6
        if self.controls.flags != self._sent_flags or turned or self.stand_up or now - self._sent_at >= RESEND_EVERY:
            self._sent_at, self._sent_flags = now, self.controls.flags
            blocks = agent_update(self.reply.agent_id, self.reply.session_id, self.controls, self.position)
            if self.stand_up:
                self.stand_up -= 1
                blocks["AgentData"][0]["ControlFlags"] |= STAND_UP
            self.send("AgentUpdate", blocks, False)

    def close(self) -> None:
        self.terrain.close()
        if self.textures is not None:
            self.textures.close()


class RegionSystem(System):
    """Applies a RegionSession's messages at the start of each tick, then sends the avatar's controls."""

    name = "opensim_region"
    order = ORDER_INPUT + 5            # after the input system sampled this tick's actions

    def __init__(self, session: RegionSession) -> None:
        self.session = session

    def update(self, world: "World", dt: float) -> None:
        session = self.session
        session.apply_pending()
        if not session.handshake:
            return
        from engine.input import InputSystem

        inputs = world.system(InputSystem)
        if inputs is None:
            session.drive((0.0, 0.0), 0.0, False, False)
            return
        actions = inputs.actions
        session.drive(actions.vector("move"), actions.vector("look")[0], actions.pressed("jump"),
                      actions.held("jump"))
