"""A region in a Storm World, fed the recorded session of a real OpenSimulator and hand-made
messages: terrain, entities for prims and avatars, moves, children placed from their root, kills,
refused updates that leave the World as it was, and a bounded inbox."""
from __future__ import annotations

import uuid
from typing import Iterator

import pytest

from engine.core.world import World
from engine.host.runtime import create_runtime
from engine.render.components import MeshRenderer
from engine.terrain.components import Terrain
from netcode.opensim.login import LoginReply
from netcode.opensim.messages import Message, MessageCodec
from netcode.opensim.packet import decode_packet
from netcode.opensim.region import MAX_INBOX, RegionSession, RegionSystem
from netcode.opensim.region_world import RegionObject
from tests.test_opensim_protocol import recorded

AGENT = uuid.UUID("00000000-0000-0000-0000-0000000000aa")
CODEC = MessageCodec()


Region = tuple[World, RegionSession, list[tuple[str, dict, bool]]]


def open_region(handshake: bool = False) -> Iterator[Region]:
    """A server-profile World with a RegionSession that records what it sends (no network);
    ``handshake``: as if RegionHandshake had been answered."""
    runtime = create_runtime()
    runtime.add_component_type(RegionObject)
    world = runtime.new_world(profile="server")
    reply = LoginReply(AGENT, uuid.uuid4(), uuid.uuid4(), 1, "127.0.0.1", 9000, "", 256000, 256000, "Test", "User", "")
    sent: list[tuple[str, dict, bool]] = []
    session = RegionSession(world, reply, lambda name, blocks, reliable: sent.append((name, blocks, reliable)))
    session.handshake = handshake
    world.add_system(RegionSystem(session))
    yield world, session, sent
    session.close()
    world.close()


@pytest.fixture
def region() -> Iterator[Region]:
    yield from open_region()


def feed(world: World, session: RegionSession, messages: list[Message]) -> None:
    for message in messages:
        session.receive(message)
    world.tick(1 / 60)


def prims(world: World) -> dict[int, RegionObject]:
    return {c.local_id: c for c in world.all_of(RegionObject).values()}


def full_update(local_id: int, position: tuple[float, float, float], parent: int = 0, path: int = 16,
                profile: int = 1, motion: bytes | None = None) -> Message:
    import struct

    block = {"ID": local_id, "FullID": uuid.uuid4(), "PCode": 9, "Scale": (1.0, 1.0, 1.0), "ParentID": parent,
             "PathCurve": path, "ProfileCurve": profile, "PathScaleX": 100, "PathScaleY": 100,
             "ObjectData": motion if motion is not None else struct.pack("<3f", *position) + bytes(24)
             + struct.pack("<3f", 0.0, 0.0, 0.7071068) + bytes(12),
             "TextureEntry": bytes(16) + b"\x00" + bytes((255, 0, 255, 0))}
    wire = CODEC.encode(Message("ObjectUpdate", {"RegionData": [{"RegionHandle": 1, "TimeDilation": 0}],
                                                 "ObjectData": [block]}))
    return CODEC.decode(wire)


def test_the_recorded_session_builds_terrain_water_avatar_and_prims(region) -> None:
    world, session, sent = region
    feed(world, session, [CODEC.decode(decode_packet(wire).body) for wire in recorded()])
    assert session.region_name == "TestRegion"
    assert session.terrain.entity and world.get(session.terrain.entity, Terrain) is not None
    assert world.get(session.terrain.water, MeshRenderer).model == "primitive:plane"
    assert sorted(c.shape for c in prims(world).values() if c.kind == "prim") == ["box", "cylinder", "sphere"]
    assert {c.shape for c in prims(world).values() if c.kind == "avatar"} == {"capsule"}
    assert session.mirror.local_avatar and world.name_of(session.mirror.local_avatar) == "Test User"
    assert ("RegionHandshakeReply", True) in [(name, reliable) for name, _, reliable in sent]
    assert all(not f.editable for f in RegionObject.fields.values()), "region objects are read-only in Storm"


def test_updates_move_children_with_their_root_and_kills_remove_them(region) -> None:
    world, session, _ = region
    feed(world, session, [full_update(1, (10.0, 20.0, 30.0)), full_update(2, (2.0, 0.0, 0.0), parent=1)])
    root, child = session.mirror.entity_of(1), session.mirror.entity_of(2)
    # the root is turned 90 degrees about z: the child's +x offset becomes +y in the region
    assert tuple(world.node(child).getPos()) == pytest.approx((10.0, 22.0, 30.0), abs=1e-3)
    assert world.get(root, MeshRenderer).color == pytest.approx((0.0, 1.0, 0.0, 1.0), abs=1e-3)
    feed(world, session, [full_update(1, (50.0, 50.0, 30.0))])
    assert tuple(world.node(child).getPos()) == pytest.approx((50.0, 52.0, 30.0), abs=1e-3)
    kill = CODEC.decode(CODEC.encode(Message("KillObject", {"ObjectData": [{"ID": 1}]})))
    feed(world, session, [kill])
    assert not world.exists(root) and not world.exists(child) and prims(world) == {}


def test_killing_the_root_of_a_hostile_chain_of_5000_parents_removes_them_all(region) -> None:
    world, session, _ = region                 # each prim the child of the one before: no recursion limit hit
    for first in range(1, 5001, 1000):
        feed(world, session, [full_update(k, (1.0, 0.0, 0.0), parent=k - 1 if k > 1 else 0)
                              for k in range(first, first + 1000)])
    assert len(prims(world)) == 5000
    feed(world, session, [CODEC.decode(CODEC.encode(Message("KillObject", {"ObjectData": [{"ID": 1}]})))])
    assert prims(world) == {} and session.mirror.states == {} and session.mirror.entities == {}
    assert session.mirror.children == {}, "no empty sets left behind for the parents"
    import struct

    for k in range(10, 20):                                 # sculpted prims killed before their maps came
        update = full_update(k, (1.0, 0.0, 0.0))
        update.blocks["ObjectData"][0]["ExtraParams"] = bytes([1]) + struct.pack("<HI", 0x30, 17) + \
            uuid.uuid4().bytes + b"\x01"
        feed(world, session, [CODEC.decode(CODEC.encode(update))])
        assert len(session.mirror.sculpt_waiting) == 1
        feed(world, session, [CODEC.decode(CODEC.encode(Message("KillObject", {"ObjectData": [{"ID": k}]})))])
    assert session.mirror.sculpt_waiting == {}


def test_a_refused_update_leaves_the_world_as_it_was(region) -> None:
    world, session, _ = region
    feed(world, session, [full_update(5, (1.0, 1.0, 1.0))])
    before = sorted(world.entities())
    feed(world, session, [full_update(6, (0, 0, 0), motion=b"\x01" * 13),          # motion of a wrong size
                          full_update(7, (0, 0, 0), motion=b"\xff" * 60)])          # NaN everywhere
    assert sorted(world.entities()) == before
    assert session.counts["refused"] == 2


def test_the_inbox_is_bounded(region) -> None:
    world, session, _ = region
    message = CODEC.decode(CODEC.encode(Message("KillObject", {"ObjectData": [{"ID": 99}]})))
    for _ in range(MAX_INBOX + 500):
        session.receive(message)
    assert len(session.inbox) == MAX_INBOX and session.dropped == 500


def test_the_sun_shines_from_the_regions_sun_direction(region) -> None:
    from engine.render.components import Light

    world, session, _ = region

    def sun_at(direction: tuple[float, float, float]) -> Message:
        return CODEC.decode(CODEC.encode(Message("SimulatorViewerTimeMessage", {"TimeInfo": [{
            "SecPerDay": 14400, "SunDirection": direction, "SunAngVelocity": (0.0, 0.0, 0.0)}]})))

    feed(world, session, [sun_at((0.0, 0.6, 0.8))])
    light = world.get(session.sky.sun, Light)
    assert light is not None and light.kind == "directional" and light.intensity > 1.0
    forward = world.node(session.sky.sun).getQuat().getForward()
    assert tuple(forward) == pytest.approx((0.0, -0.6, -0.8), abs=1e-3)   # shining down, away from the sun
    feed(world, session, [sun_at((0.8, 0.0, -0.6))])                       # night: below the horizon
    assert tuple(world.node(session.sky.sun).getQuat().getForward()) == pytest.approx((-0.8, 0.0, 0.6), abs=1e-3)
    assert world.get(session.sky.sun, Light).intensity < 1.0
