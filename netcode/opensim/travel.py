"""Going places: teleports (to a position in the region, or to a landmark: a region and a
position) and sitting on a prim.

Teleport: TeleportLocationRequest (region handle, position, look-at) out; within the region
OpenSimulator answers TeleportStart then TeleportLocal with where it put the avatar (it lifts
a position under the ground onto it), and TeleportFailed with a reason when it will not. A
TeleportFinish names another simulator: Storm does not follow into other regions yet, so it
says so and stays. Sitting: AgentRequestSit (the prim's UUID) out; the region answers
AvatarSitResponse, Storm confirms with AgentSit, and the avatar's next update names the prim
as its parent; standing up is AGENT_CONTROL_STAND_UP in the next AgentUpdates. Every position
that arrives is checked (finite, within ``MAX_COORDINATE``) before it is used.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from netcode.opensim.messages import Message

if TYPE_CHECKING:
    from netcode.opensim.region import RegionSession

log = logging.getLogger("storm.opensim")
MAX_COORDINATE = 1e6           # metres; a region is at most a few thousand a side
MAX_LANDMARK_BYTES = 2048
REGION_UNIT = 256              # region handles count metres; regions sit on a 256 m grid
_LANDMARK_LINE = re.compile(r"^([a-z_]{1,32}) (.{1,200})$")


class TravelError(ValueError):
    """A teleport or sit that cannot be asked for, or a landmark that does not parse."""


def checked_position(values: Any, what: str) -> tuple[float, float, float]:
    """Three finite coordinates within MAX_COORDINATE; raises TravelError."""
    try:
        x, y, z = (float(v) for v in values)
    except (TypeError, ValueError):
        raise TravelError(f"{what}: expected three numbers, got {str(values)[:80]}") from None
    if not all(-MAX_COORDINATE < v < MAX_COORDINATE for v in (x, y, z)):   # NaN fails every comparison
        raise TravelError(f"{what}: expected finite coordinates within {MAX_COORDINATE:g} m, got {(x, y, z)}")
    return (x, y, z)


def region_handle(x_metres: int, y_metres: int) -> int:
    """The handle of the region whose south-west corner is at these global metres."""
    return (x_metres << 32) | y_metres


@dataclass(frozen=True)
class Landmark:
    """A place: a region (by handle, and id when known) and a position in it."""

    region_handle: int
    position: tuple[float, float, float]
    region_id: uuid.UUID | None = None

    @property
    def region_corner(self) -> tuple[int, int]:
        return self.region_handle >> 32, self.region_handle & 0xFFFFFFFF


def parse_landmark(data: bytes) -> Landmark:
    """A landmark asset (``Landmark version 2`` then ``region_id``, ``local_pos`` and
    ``region_handle`` lines); raises TravelError naming the line."""
    if len(data) > MAX_LANDMARK_BYTES:
        raise TravelError(f"landmark: more than {MAX_LANDMARK_BYTES} bytes")
    try:
        text = bytes(data).rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        raise TravelError("landmark: not ASCII text") from None
    lines = text.splitlines()
    if not lines or not re.fullmatch(r"Landmark version [12]", lines[0].strip()):
        raise TravelError("landmark: expected 'Landmark version 2' on the first line")
    values: dict[str, str] = {}
    for number, line in enumerate(lines[1:16], 2):
        found = _LANDMARK_LINE.match(line.strip())
        if found is None:
            if line.strip():
                raise TravelError(f"landmark line {number}: expected 'key value', got {line[:60]!r}")
            continue
        values[found.group(1)] = found.group(2)
    if "local_pos" not in values or "region_handle" not in values:
        raise TravelError("landmark: expected local_pos and region_handle lines")
    position = checked_position(values["local_pos"].split(), "landmark local_pos")
    if not values["region_handle"].isdigit() or int(values["region_handle"]) >= 1 << 64:
        raise TravelError(f"landmark region_handle: expected an unsigned 64-bit number, got "
                          f"{values['region_handle'][:40]!r}")
    handle = int(values["region_handle"])
    if (handle >> 32) % REGION_UNIT or (handle & 0xFFFFFFFF) % REGION_UNIT:
        raise TravelError(f"landmark region_handle {handle}: not on the {REGION_UNIT} m region grid")
    region_id = None
    if "region_id" in values:
        try:
            region_id = uuid.UUID(values["region_id"].strip())
        except ValueError:
            raise TravelError(f"landmark region_id: expected a UUID, got {values['region_id'][:40]!r}") from None
    return Landmark(handle, position, region_id)


class Travel:
    """The visit's teleports and seat (the World's thread; messages come through the session)."""

    def __init__(self, session: "RegionSession") -> None:
        self.session = session
        self.state = ""                     # "", requested, teleporting, arrived, failed
        self.reason = ""
        self.arrived_at: tuple[float, float, float] | None = None
        self.teleports = 0
        self.seat = 0                       # local id of the prim we sit on (0: standing)
        self.sit_target: uuid.UUID | None = None

    def teleport(self, position: tuple[float, float, float], handle: int | None = None,
                 look_at: tuple[float, float, float] = (1.0, 0.0, 0.0)) -> None:
        """Ask to be moved to ``position`` of the region ``handle`` (default: this one)."""
        position = checked_position(position, "teleport position")
        look_at = checked_position(look_at, "teleport look-at")
        session = self.session
        self.state, self.reason, self.arrived_at = "requested", "", None
        session.send("TeleportLocationRequest", {"AgentData": [session.agent_block()], "Info": [{
            "RegionHandle": session.reply.region_handle if handle is None else handle, "Position": position,
            "LookAt": look_at}]}, True)

    def teleport_to_landmark(self, landmark: Landmark) -> None:
        self.teleport(landmark.position, landmark.region_handle)

    def sit(self, local_id: int) -> None:
        """Ask to sit on a prim the region described (by its local id)."""
        state = self.session.mirror.states.get(local_id)
        if state is None or state.is_avatar:
            raise TravelError(f"no prim {local_id} in the region to sit on")
        self.sit_target = state.full_id
        self.session.send("AgentRequestSit", {"AgentData": [self.session.agent_block()], "TargetObject": [{
            "TargetID": state.full_id, "Offset": (0.0, 0.0, 0.0)}]}, True)

    def stand(self) -> None:
        """Stand up (AGENT_CONTROL_STAND_UP in the next few AgentUpdates)."""
        self.sit_target = None
        self.session.stand_up = 3

    def seated(self, parent: int) -> None:
        """Our avatar's update named its parent: the seat (0: standing)."""
        if parent != self.seat:
            log.info("opensim: %s", f"sitting on {parent}" if parent else "standing")
        self.seat = parent

    # -- what the region says -------------------------------------------------------------------
    def _ours(self, agent: Any) -> bool:
        return str(agent) == str(self.session.reply.agent_id)

    def _start(self, message: Message) -> None:
        if self.state == "requested":
            self.state = "teleporting"

    def _local(self, message: Message) -> None:
        info = message.block("Info")
        if not self._ours(info["AgentID"]):
            return
        position = checked_position(info["Position"], "TeleportLocal position")
        self.state, self.arrived_at = "arrived", position
        self.teleports += 1
        self.seat = 0
        self.session.moved_to(position)
        log.info("opensim: teleported to %s", tuple(round(v, 2) for v in position))

    def _failed(self, message: Message) -> None:
        if not self._ours(message.block("Info")["AgentID"]):
            return
        reason = bytes(message.block("Info")["Reason"]).rstrip(b"\0").decode("utf-8", "replace")[:200]
        self.state, self.reason = "failed", reason or "the region gave no reason"
        log.warning("opensim: the teleport failed: %r", self.reason)

    def _finish(self, message: Message) -> None:
        info = message.block("Info")
        if not self._ours(info["AgentID"]):
            return
        self.state = "failed"
        self.reason = (f"the region sent us to another simulator ({info['SimIP']}:{info['SimPort']}, region "
                       f"{info['RegionHandle'] >> 32},{info['RegionHandle'] & 0xFFFFFFFF}); Storm does not "
                       "follow into other regions yet")
        log.warning("opensim: %s", self.reason)

    def _sit_response(self, message: Message) -> None:
        target = message.block("SitObject")["ID"]
        checked_position(message.block("SitTransform")["SitPosition"], "AvatarSitResponse position")
        if self.sit_target is None:
            return                                       # not a seat we asked for (the reply names the root)
        self.sit_target = target
        self.session.send("AgentSit", {"AgentData": [self.session.agent_block()]}, True)

    def handlers(self) -> dict[str, Callable[[Message], None]]:
        return {"TeleportStart": self._start, "TeleportLocal": self._local, "TeleportFailed": self._failed,
                "TeleportFinish": self._finish, "AvatarSitResponse": self._sit_response}
