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
import shutil
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from panda3d.core import Filename, Texture

from engine.core.edit_commands import CreateEntity, DestroyEntity, SetFields, SetTransform
from engine.core.system import ORDER_INPUT, System
from netcode.opensim.agent import RESEND_EVERY, AgentControls, agent_update, controls_from_actions
from netcode.opensim.login import LoginReply
from netcode.opensim.messages import Message
from netcode.opensim.objects import ObjectError, from_compressed, from_full, from_terse
from netcode.opensim.region_world import ObjectMirror
from netcode.opensim.terrain_patch import LAND, LAND_EXTENDED, PatchError, RegionHeights, decode_layer

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.opensim")
PACK = "opensim_region"
HEIGHTMAP = f"{PACK}:terrain/height.png"
MAX_INBOX = 20000
MAX_PER_TICK = 4000
MAX_CHAT = 200
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


class RegionTerrain:
    """The region's ground as a Storm Terrain read from a 16-bit heightmap in a private pack folder."""

    def __init__(self, world: "World", heights: RegionHeights) -> None:
        self.world = world
        self.heights = heights
        self.root = Path(tempfile.mkdtemp(prefix="storm-opensim-"))
        (self.root / "terrain").mkdir()
        (self.root / "pack.toml").write_text(f'schema = 1\nid = "{PACK}"\nversion = "1.0.0"\nkind = "content"\n'
                                             'name = "The visited region (made by Storm)"\n', encoding="utf-8")
        self.entity = 0
        self.water = 0
        self.built_at = 0.0
        self._added = False

    def rebuild(self) -> None:
        grid = np.empty((self.heights.size + 1, self.heights.size + 1), np.float32)
        grid[:-1, :-1] = self.heights.heights
        grid[-1, :-1] = self.heights.heights[-1]
        grid[:, -1] = grid[:, -2]
        low, high = float(grid.min()), float(grid.max())
        span = max(high - low, 0.01)
        self._write((grid - low) / span)
        runtime = self.world.services.get("runtime")
        if runtime is None:
            return
        if not self._added:
            runtime.content.add_pack(self.root)
            self._added = True
        centre = self.heights.size / 2.0
        size = [float(self.heights.size), float(self.heights.size), round(span, 4)]
        if not self.entity:
            inverse = self.world.apply(CreateEntity.new("region terrain", 0, {"Terrain": {
                "heightmap": HEIGHTMAP, "size": size, "max_grid": self.heights.size + 1}},
                {"pos": [centre, centre, round(low, 4)]}))
            assert isinstance(inverse, DestroyEntity)
            self.entity = inverse.entity
        else:
            self.world.apply(SetTransform(self.entity, [centre, centre, round(low, 4)]))
            self.world.apply(SetFields(self.entity, "Terrain", {"size": size}))
            from engine.terrain.system import TerrainSystem

            terrain = self.world.system(TerrainSystem)
            if terrain is not None:
                terrain.rebuild(self.entity)
        self.built_at = time.monotonic()

    def _write(self, normalised: np.ndarray) -> None:
        """A 16-bit grey PNG, written in one copy through a Texture (a Texture's RAM image runs
        bottom to top, so row 0, the region's y = 0, is the image's bottom row: its -Y edge)."""
        rows, cols = normalised.shape
        texture = Texture("region heights")
        texture.setup2dTexture(cols, rows, Texture.T_unsigned_short, Texture.F_luminance)
        texture.setRamImage(np.rint(normalised * 65535).astype("<u2").tobytes())
        path = self.root / "terrain" / "height.png"
        temporary = path.with_suffix(".tmp.png")
        if not texture.write(Filename.fromOsSpecific(str(temporary))):
            raise OSError(f"could not write {temporary}")
        temporary.replace(path)

    def set_water(self, height: float) -> None:
        size = float(self.heights.size)
        transform = {"pos": [size / 2, size / 2, round(height, 4)], "scale": [size, size, 1.0]}
        if not self.water:
            inverse = self.world.apply(CreateEntity.new("region water", 0, {"MeshRenderer": {
                "model": "primitive:plane", "color": [0.15, 0.35, 0.55, 0.65], "cast_shadows": False}}, transform))
            assert isinstance(inverse, DestroyEntity)
            self.water = inverse.entity
        else:
            self.world.apply(SetTransform(self.water, transform["pos"]))

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class RegionSession:
    """What one visit knows of its region, shared by the network thread (``receive``) and the World's."""

    def __init__(self, world: "World", reply: LoginReply, send: Send) -> None:
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
        self.sun = 0
        self.sun_direction: tuple[float, float, float] = (0.0, 0.0, 1.0)

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
        for _ in range(min(len(self.inbox), MAX_PER_TICK)):
            message = self.inbox.popleft()
            self.counts[message.name] += 1
            handler = self._handlers.get(message.name)
            if handler is None:
                continue
            try:
                handler(self, message)
            except (ObjectError, PatchError, KeyError, ValueError, TypeError) as exc:
                self.counts["refused"] += 1
                log.warning("opensim: %s not applied to the world: %s", message.name, exc)
        if self.terrain_dirty and (self.heights.complete or time.monotonic() - self.terrain.built_at > TERRAIN_EVERY):
            self.terrain_dirty = False
            self.terrain.rebuild()

    def _region_handshake(self, message: Message) -> None:
        info = message.block("RegionInfo")
        self.region_name = bytes(info["SimName"]).rstrip(b"\0").decode("utf-8", "replace")[:100]
        self.water_height = float(info["WaterHeight"])
        self.terrain.set_water(self.water_height)
        self.send("RegionHandshakeReply", {"AgentData": [self._agent()], "RegionInfo": [{"Flags": 0}]}, True)
        self.handshake = True

    def _movement_complete(self, message: Message) -> None:
        data = message.block("Data")
        self.position = tuple(data["Position"])  # type: ignore[assignment]
        look = data["LookAt"]
        if abs(look[0]) + abs(look[1]) > 1e-3:
            self.controls.yaw = math.atan2(look[1], look[0])

    def _sun(self, message: Message) -> None:
        """The region's sun: a directional light shining from SunDirection (dim below the horizon)."""
        x, y, z = message.block("TimeInfo")["SunDirection"]
        if not all(math.isfinite(v) for v in (x, y, z)) or abs(x) + abs(y) + abs(z) < 1e-6:
            return
        hpr = [round(math.degrees(math.atan2(x, -y)), 2), round(math.degrees(math.atan2(-z, math.hypot(x, y))), 2), 0.0]
        intensity = 2.5 if z > 0 else 0.3
        if not self.sun:
            inverse = self.world.apply(CreateEntity.new("region sun", 0, {"Light": {
                "kind": "directional", "intensity": intensity}}, {"hpr": hpr}))
            assert isinstance(inverse, DestroyEntity)
            self.sun = inverse.entity
            self.sun_direction = (x, y, z)
            return
        old = self.sun_direction
        if abs(old[0] - x) + abs(old[1] - y) + abs(old[2] - z) > 0.01:   # about half a degree
            self.sun_direction = (x, y, z)
            self.world.apply(SetTransform(self.sun, None, hpr))
            self.world.apply(SetFields(self.sun, "Light", {"intensity": intensity}))

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
            self.position = state.position

    def _terse(self, message: Message) -> None:
        for block in message.blocks["ObjectData"]:
            try:
                update = from_terse(block["Data"])
            except ObjectError as exc:
                self.counts["refused"] += 1
                log.warning("opensim: a terse update was refused: %s", exc)
                continue
            self.mirror.move(update.local_id, update.position, update.rotation)
            if self.mirror.entity_of(update.local_id) and \
                    self.mirror.entity_of(update.local_id) == self.mirror.local_avatar:
                self.position = update.position

    def _cached(self, message: Message) -> None:
        ids = [{"CacheMissType": 0, "ID": block["ID"]} for block in message.blocks["ObjectData"]]
        for start in range(0, len(ids), 255):
            self.send("RequestMultipleObjects", {"AgentData": [self._agent()], "ObjectData": ids[start:start + 255]},
                      True)

    def _kill(self, message: Message) -> None:
        for block in message.blocks["ObjectData"]:
            self.mirror.kill(block["ID"])

    def _chat(self, message: Message) -> None:
        data = message.block("ChatData")
        line = ChatLine(bytes(data["FromName"]).rstrip(b"\0").decode("utf-8", "replace")[:100],
                        bytes(data["Message"]).rstrip(b"\0").decode("utf-8", "replace")[:1024],
                        data["ChatType"], data["SourceType"], str(data["SourceID"]))
        self.chat.append(line)
        if line.message and line.chat_type in (0, 1, 2):           # whisper, say, shout (not typing starts)
            log.info("[chat] %s: %s", line.from_name, line.message)

    _handlers: dict[str, Callable[["RegionSession", Message], None]] = {
        "RegionHandshake": _region_handshake, "AgentMovementComplete": _movement_complete,
        "LayerData": _layer_data, "ObjectUpdate": _object_update,
        "ObjectUpdateCompressed": _object_update_compressed, "ImprovedTerseObjectUpdate": _terse,
        "ObjectUpdateCached": _cached, "SimulatorViewerTimeMessage": _sun, "KillObject": _kill, "ChatFromSimulator": _chat,
    }

    # -- what the avatar does -------------------------------------------------------------------
    def _agent(self) -> dict[str, Any]:
        return {"AgentID": self.reply.agent_id, "SessionID": self.reply.session_id}

    def say(self, text: str, channel: int = 0) -> None:
        """Say a line in local chat (type 1: normal, heard within 20 m)."""
        self.send("ChatFromViewer", {"AgentData": [self._agent()], "ChatData": [
            {"Message": text[:1000], "Type": 1, "Channel": channel}]}, True)

    def rez(self, shape: str, position: tuple[float, float, float], scale: tuple[float, float, float]) -> None:
        """Ask the simulator to make a prim (``box``, ``cylinder`` or ``sphere``) at a region position."""
        path, profile = REZ_SHAPES[shape]
        self.send("ObjectAdd", {"AgentData": [dict(self._agent(), GroupID=None)], "ObjectData": [{
            "PCode": 9, "Material": 3, "AddFlags": 0, "PathCurve": path, "ProfileCurve": profile, "PathScaleX": 100,
            "PathScaleY": 100, "BypassRaycast": 1, "RayStart": position, "RayEnd": position,
            "RayEndIsIntersection": 1, "Scale": scale, "Rotation": (0.0, 0.0, 0.0, 1.0), "State": 0}]}, True)

    def drive(self, move: tuple[float, float], turn: float, jump_pressed: bool, jump_held: bool) -> None:
        """This tick's input actions: send an AgentUpdate when the controls changed, or now and then."""
        self.controls = controls_from_actions(self.controls, move, turn, jump_pressed, jump_held)
        now = time.monotonic()
        turned = abs(turn) > 1e-6
        if self.controls.flags != self._sent_flags or turned or now - self._sent_at >= RESEND_EVERY:
            self._sent_at, self._sent_flags = now, self.controls.flags
            self.send("AgentUpdate", agent_update(self.reply.agent_id, self.reply.session_id, self.controls,
                                                  self.position), False)

    def close(self) -> None:
        self.terrain.close()


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
