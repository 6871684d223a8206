"""Instant messages, teleports and sitting in a region World, fed hand-made messages through the
codec: IMs kept apart from chat, bounded and escaped in the log; teleports that end where the
region says, NaN and huge positions refused; landmarks parsed (and hostile ones refused); a sit
confirmed with AgentSit and a stand-up carried by AgentUpdate."""
from __future__ import annotations

import logging
import math
import struct
import uuid
from typing import Iterator

import pytest

from netcode.opensim.agent import STAND_UP
from netcode.opensim.messages import Message
from netcode.opensim.messaging import MAX_TEXT, escaped, im_blocks, session_of
from netcode.opensim.region import RegionSession
from netcode.opensim.region_world import RegionObject
from netcode.opensim.travel import Landmark, TravelError, parse_landmark, region_handle
from tests.test_opensim_region import AGENT, CODEC, Region, open_region

FRIEND = uuid.UUID("00000000-0000-0000-0000-0000000000bb")


def wire(name: str, blocks: dict) -> Message:
    """A message as it would arrive: encoded, then decoded."""
    return CODEC.decode(CODEC.encode(Message(name, blocks)))


@pytest.fixture
def region() -> Iterator[Region]:
    yield from open_region(handshake=True)


def feed(world, session: RegionSession, *messages: Message) -> None:
    for message in messages:
        session.receive(message)
    world.tick(1 / 60)


def im_from(text: bytes, dialog: int = 0, to: uuid.UUID = AGENT, name: bytes = b"Second Visitor\0") -> Message:
    blocks = im_blocks(FRIEND, uuid.UUID(int=0), to, "", "", (1.0, 2.0, 3.0), dialog)
    blocks["MessageBlock"][0].update(FromAgentName=name, Message=text)
    return wire("ImprovedInstantMessage", blocks)


def avatar_update(local_id: int, position: tuple[float, float, float], parent: int = 0) -> Message:
    motion = bytes(16) + struct.pack("<3f", *position) + bytes(48)
    block = {"ID": local_id, "FullID": AGENT, "PCode": 47, "Scale": (0.5, 0.5, 1.8), "ParentID": parent,
             "PathCurve": 16, "ProfileCurve": 1, "ObjectData": motion, "TextureEntry": b"",
             "NameValue": b"FirstName STRING RW SV Test\nLastName STRING RW SV User\0"}
    return wire("ObjectUpdate", {"RegionData": [{"RegionHandle": 1, "TimeDilation": 0}], "ObjectData": [block]})


def prim_update(local_id: int, full_id: uuid.UUID, position: tuple[float, float, float]) -> Message:
    block = {"ID": local_id, "FullID": full_id, "PCode": 9, "Scale": (1.0, 1.0, 1.0), "ParentID": 0,
             "PathCurve": 16, "ProfileCurve": 1, "ObjectData": struct.pack("<3f", *position) + bytes(48),
             "TextureEntry": b""}
    return wire("ObjectUpdate", {"RegionData": [{"RegionHandle": 1, "TimeDilation": 0}], "ObjectData": [block]})


# -- instant messages -------------------------------------------------------------------------------
def test_an_im_is_kept_apart_from_chat_and_escaped_in_the_log(region, caplog: pytest.LogCaptureFixture) -> None:
    world, session, _ = region
    with caplog.at_level(logging.INFO, "storm.opensim"):
        feed(world, session, im_from(b"hi\nFAKE LINE \x1b[31m red\0"))
    assert len(session.ims) == 1 and not session.chat
    im = session.ims[0]
    assert im.from_name == "Second Visitor" and im.from_id == FRIEND and im.text == "hi\nFAKE LINE \x1b[31m red"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[im]")]
    assert lines == ["[im] Second Visitor: hi\\nFAKE LINE \\x1b[31m red"]


def test_typing_notices_and_ims_for_someone_else_are_not_shown(region) -> None:
    world, session, _ = region
    feed(world, session, im_from(b"\0", dialog=41), im_from(b"not yours\0", to=uuid.uuid4()))
    assert not session.ims and session.counts["im_not_shown"] == 2


def test_incoming_text_and_names_are_bounded(region) -> None:
    world, session, _ = region
    feed(world, session, im_from(b"x" * 4000 + b"\0", name=b"N" * 250 + b"\0"))
    assert len(session.ims[0].text) == MAX_TEXT and len(session.ims[0].from_name) == 100
    assert escaped("a" * 1000).endswith("...") and len(escaped("a" * 1000)) == 303


def test_an_im_goes_out_to_one_avatar(region) -> None:
    world, session, sent = region
    session.send_im(FRIEND, "hello " * 400, "Second Visitor")
    name, blocks, reliable = sent[-1]
    block = blocks["MessageBlock"][0]
    assert name == "ImprovedInstantMessage" and reliable and block["ToAgentID"] == FRIEND and block["Dialog"] == 0
    assert block["ID"] == session_of(AGENT, FRIEND) and block["FromAgentName"] == b"Test User\0"
    assert len(block["Message"]) <= 1024
    CODEC.encode(Message(name, blocks))                             # it fits its template layout
    assert not session.ims[-1].incoming and session.ims[-1].to_name == "Second Visitor"


# -- teleports -------------------------------------------------------------------------------------
def teleport_local(position: tuple[float, float, float], agent: uuid.UUID = AGENT) -> Message:
    return wire("TeleportLocal", {"Info": [{"AgentID": agent, "LocationID": 0, "Position": position,
                                            "LookAt": (1.0, 0.0, 0.0), "TeleportFlags": 0}]})


def test_a_teleport_ends_where_the_region_says(region) -> None:
    world, session, sent = region
    feed(world, session, avatar_update(7, (128.0, 128.0, 25.0)))
    session.travel.teleport((60.0, 70.0, 30.0))
    name, blocks, _ = sent[-1]
    assert name == "TeleportLocationRequest" and blocks["Info"][0]["RegionHandle"] == session.reply.region_handle
    feed(world, session, wire("TeleportStart", {"Info": [{"TeleportFlags": 0}]}))
    assert session.travel.state == "teleporting"
    feed(world, session, teleport_local((60.0, 70.0, 31.5)))
    assert session.travel.state == "arrived" and session.position == pytest.approx((60.0, 70.0, 31.5))
    assert tuple(world.node(session.mirror.local_avatar).getPos()) == pytest.approx((60.0, 70.0, 31.5))


@pytest.mark.parametrize("bad", [(math.nan, 1.0, 1.0), (1.0, math.inf, 1.0), (1e30, 0.0, 0.0)])
def test_nan_and_huge_positions_are_refused(region, bad) -> None:
    world, session, _ = region
    with pytest.raises(TravelError):
        session.travel.teleport(bad)
    before = session.position
    feed(world, session, teleport_local(bad))
    assert session.position == before and session.counts["refused"] == 1 and session.travel.state != "arrived"


def test_other_agents_teleports_are_ignored_and_failures_say_why(region) -> None:
    world, session, _ = region
    before = session.position
    feed(world, session, teleport_local((10.0, 10.0, 10.0), agent=FRIEND))
    assert session.position == before
    session.travel.teleport((1.0, 2.0, 3.0))
    feed(world, session, wire("TeleportFailed", {"Info": [{"AgentID": AGENT, "Reason": b"No such region\0"}],
                                                 "AlertInfo": []}))
    assert session.travel.state == "failed" and session.travel.reason == "No such region"
    feed(world, session, wire("TeleportFinish", {"Info": [{
        "AgentID": AGENT, "LocationID": 0, "SimIP": "10.0.0.9", "SimPort": 9001, "RegionHandle": region_handle(512, 256),
        "SeedCapability": b"http://10.0.0.9/seed\0", "SimAccess": 13, "TeleportFlags": 0}]}))
    assert session.travel.state == "failed" and "another simulator" in session.travel.reason


def test_landmarks_parse_and_hostile_ones_are_refused() -> None:
    region_id = uuid.uuid4()
    text = f"Landmark version 2\nregion_id {region_id}\nlocal_pos 12.5 200 31.25\nregion_handle " \
           f"{region_handle(256000, 256000)}\n".encode()
    landmark = parse_landmark(text)
    assert landmark == Landmark(region_handle(256000, 256000), (12.5, 200.0, 31.25), region_id)
    assert landmark.region_corner == (256000, 256000)
    for bad, why in [(b"Landmark version 2\nlocal_pos nan 1 1\nregion_handle 0\n", "finite"),
                     (b"Landmark version 2\nlocal_pos 1 1 1\nregion_handle 257\n", "region grid"),
                     (b"Landmark version 2\nlocal_pos 1 1\nregion_handle 0\n", "three numbers"),
                     (b"Landmark version 2\nlocal_pos 1 1 1\nregion_handle 99999999999999999999999\n", "64-bit"),
                     (b"Landmark version 2\nlocal_pos 1 1 1\n", "expected local_pos and region_handle"),
                     (b"Notecard\n", "first line"), ("Landmark version 2\nr\u00e9gion".encode(), "ASCII"),
                     (b"Landmark version 2\n" + b"x" * 5000, "more than")]:
        with pytest.raises(TravelError, match=why):
            parse_landmark(bad)


# -- sitting ---------------------------------------------------------------------------------------
def test_sitting_is_confirmed_and_standing_up_rides_the_agent_update(region) -> None:
    world, session, sent = region
    seat_id = uuid.uuid4()
    feed(world, session, avatar_update(7, (128.0, 128.0, 25.0)), prim_update(9, seat_id, (130.0, 128.0, 25.0)))
    feed(world, session, wire("AvatarSitResponse", {"SitObject": [{"ID": seat_id}], "SitTransform": [{
        "AutoPilot": True, "SitPosition": (0.0, 0.0, 0.5), "SitRotation": (0.0, 0.0, 0.0, 1.0),
        "CameraEyeOffset": (0.0, 0.0, 0.0), "CameraAtOffset": (0.0, 0.0, 0.0), "ForceMouselook": False}]}))
    assert "AgentSit" not in [name for name, _, _ in sent], "a sit nobody asked for is not confirmed"
    session.travel.sit(9)
    assert sent[-1][0] == "AgentRequestSit" and sent[-1][1]["TargetObject"][0]["TargetID"] == seat_id
    feed(world, session, wire("AvatarSitResponse", {"SitObject": [{"ID": seat_id}], "SitTransform": [{
        "AutoPilot": True, "SitPosition": (0.0, 0.0, 0.5), "SitRotation": (0.0, 0.0, 0.0, 1.0),
        "CameraEyeOffset": (0.0, 0.0, 0.0), "CameraAtOffset": (0.0, 0.0, 0.0), "ForceMouselook": False}]}))
    assert sent[-1][0] == "AgentSit"
    feed(world, session, avatar_update(7, (0.0, 0.0, 0.8), parent=9))
    assert session.travel.seat == 9 and session.position == pytest.approx((130.0, 128.0, 25.8))
    assert world.get(session.mirror.local_avatar, RegionObject).parent_id == 9
    session.travel.stand()
    world.tick(1 / 60)
    updates = [blocks for name, blocks, _ in sent if name == "AgentUpdate"]
    assert updates and updates[-1]["AgentData"][0]["ControlFlags"] & STAND_UP
    feed(world, session, avatar_update(7, (131.0, 128.0, 25.0)))
    assert session.travel.seat == 0
    with pytest.raises(TravelError, match="no prim"):
        session.travel.sit(12345)
