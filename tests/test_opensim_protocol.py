"""The OpenSimulator client's protocol layers on real data: the template, bodies, packets, terrain
patches and object updates, a recorded session replayed through the decoder, hostile packets
(truncated, oversized, zero-coding bombs, lying counts, unknown numbers) and a seeded fuzz run.
Nothing here needs the server; tests/test_opensim_server.py runs against it."""
from __future__ import annotations

import random
import struct
import uuid
from pathlib import Path

import pytest

from netcode.opensim.messages import DecodeError, Message, MessageCodec, UnknownMessage
from netcode.opensim.objects import ObjectError, from_compressed, from_full, from_terse
from netcode.opensim.packet import MAX_BODY, Packet, PacketError, decode_packet, encode_packet, zero_decode, zero_encode
from netcode.opensim.template import TemplateError, load_template, parse_template
from netcode.opensim.terrain_patch import LAND, PatchError, RegionHeights, decode_layer

DATA = Path(__file__).parent / "data" / "opensim"
AGENT = uuid.UUID("00000000-0000-0000-0000-0000000000aa")


def recorded() -> list[bytes]:
    data = (DATA / "session.lludp").read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (size,) = struct.unpack_from("<I", data, pos)
        out.append(data[pos + 4:pos + 4 + size])
        pos += 4 + size
    return out


@pytest.fixture(scope="module")
def codec() -> MessageCodec:
    return MessageCodec()


def test_template_has_the_messages_storm_speaks() -> None:
    template = load_template()
    assert len(template.by_name) > 300
    agent = template["AgentUpdate"]
    assert (agent.frequency, agent.number, agent.zerocoded) == ("High", 4, True)
    assert template["PacketAck"].wire_id == 0xFFFFFFFB
    assert template["UseCircuitCode"].wire_id == 0xFFFF0003
    layer = template["LayerData"].blocks[1].fields[0]
    assert (layer.kind, layer.size) == ("Variable", 2)


@pytest.mark.parametrize("text, where", [
    ("{ Foo Sometimes 1 NotTrusted Unencoded }", "line 1: expected a frequency"),
    ("{ Foo Low 1 NotTrusted Unencoded\n { Block Single\n { Field U33 } } }", "line 3: expected a field type"),
    ("{ Foo Low 1 NotTrusted Unencoded\n { Block Multiple 0 } }", "line 2: expected a block count"),
    ("{ Foo Low 1 NotTrusted Unencoded }\n{ Bar Low 1 NotTrusted Unencoded }", "defined twice"),
    ("{ Foo High 300 NotTrusted Unencoded }", "expected a High message number"),
    ("{ Foo Low 1 NotTrusted", "the text ends"),
])
def test_a_broken_template_names_the_line(text: str, where: str) -> None:
    with pytest.raises(TemplateError, match=where):
        parse_template(text, "test.msg")


def test_bodies_round_trip(codec: MessageCodec) -> None:
    message = Message("ChatFromViewer", {"AgentData": [{"AgentID": AGENT, "SessionID": AGENT}],
                                         "ChatData": [{"Message": "hello", "Type": 1, "Channel": -5}]})
    decoded = codec.decode(codec.encode(message))
    assert decoded.block("ChatData")["Message"] == b"hello\0"
    assert decoded.block("ChatData")["Channel"] == -5
    assert decoded.block("AgentData")["AgentID"] == AGENT
    update = codec.decode(codec.encode(Message("AgentUpdate", {"AgentData": [{
        "AgentID": AGENT, "SessionID": AGENT, "BodyRotation": (0.0, 0.0, 0.6, 0.8), "CameraCenter": (1.0, 2.0, 3.0),
        "ControlFlags": 0x2001}]})))
    data = update.block("AgentData")
    assert data["BodyRotation"] == pytest.approx((0.0, 0.0, 0.6, 0.8), abs=1e-6)
    assert data["CameraCenter"] == pytest.approx((1.0, 2.0, 3.0)) and data["ControlFlags"] == 0x2001


def test_zero_coding_round_trips_and_refuses_a_bomb() -> None:
    body = b"\x04" + bytes(300) + b"\x07\x00\x09" + bytes(5)
    coded = zero_encode(body)
    assert len(coded) < 20 and zero_decode(coded) == body
    bomb = b"\x00\xff" * 2000                       # 4000 bytes that would expand to 510,000
    with pytest.raises(PacketError, match=f"expands past {MAX_BODY}"):
        zero_decode(bomb)
    with pytest.raises(PacketError, match="no run length"):
        zero_decode(b"\x05\x00")


def test_packets_round_trip_with_appended_acks(codec: MessageCodec) -> None:
    body = codec.encode(Message("StartPingCheck", {"PingID": [{"PingID": 7, "OldestUnacked": 0}]}))
    wire = encode_packet(Packet(42, body, reliable=True, zerocoded=True, acks=[3, 99, 0xFFFFFFFF]))
    packet = decode_packet(wire)
    assert (packet.sequence, packet.reliable, packet.acks) == (42, True, [3, 99, 0xFFFFFFFF])
    assert codec.decode(packet.body).block("PingID")["PingID"] == 7


@pytest.mark.parametrize("wire, reason", [
    (b"\x00\x00\x00", "at least 7 bytes"),
    (b"\x00" * 5000, "at most 4096 bytes"),
    (b"\x10\x00\x00\x00\x01\x00\x01\x05", "5 appended acks do not fit"),
    (b"\x00\x00\x00\x00\x01\x09\x01", "leaves no body"),
    (b"\x80\x00\x00\x00\x01\x00" + b"\x00\xff" * 600, "expands past"),
])
def test_hostile_packets_are_refused(wire: bytes, reason: str) -> None:
    with pytest.raises(PacketError, match=reason):
        decode_packet(wire)


def test_lying_counts_and_unknown_numbers_are_refused(codec: MessageCodec) -> None:
    kill = codec.encode(Message("KillObject", {"ObjectData": [{"ID": 1}, {"ID": 2}]}))
    assert codec.decode(kill).blocks["ObjectData"] == [{"ID": 1}, {"ID": 2}]
    lying = kill[:1] + b"\xff" + kill[2:]                 # says 255 blocks, holds 2
    with pytest.raises(DecodeError, match="the count says 255 blocks"):
        codec.decode(lying)
    with pytest.raises(DecodeError, match="the count says 2 blocks of at least 4 bytes, 6 bytes are left"):
        codec.decode(kill[:-2])
    chat = codec.encode(Message("ChatFromViewer", {"AgentData": [{"AgentID": AGENT, "SessionID": AGENT}],
                                                   "ChatData": [{"Message": "a long line", "Type": 1}]}))
    with pytest.raises(DecodeError, match="ChatFromViewer.ChatData.Message: the length says 12 bytes"):
        codec.decode(chat[:-10])
    with pytest.raises(UnknownMessage, match="0xFFFF7777"):
        codec.decode(b"\xff\xff\x77\x77")


def test_a_recorded_session_replays_through_the_decoder(codec: MessageCodec) -> None:
    seen: dict[str, int] = {}
    heights = RegionHeights()
    prims, terse = [], []
    for wire in recorded():
        message = codec.decode(decode_packet(wire).body)
        seen[message.name] = seen.get(message.name, 0) + 1
        if message.name == "LayerData" and message.block("LayerID")["Type"] == LAND and not heights.complete:
            heights.apply(decode_layer(message.block("LayerData")["Data"])[1])    # the first full set of patches
        elif message.name == "ObjectUpdate":
            prims += [from_full(block) for block in message.blocks["ObjectData"]]
        elif message.name == "ImprovedTerseObjectUpdate":
            terse += [from_terse(block["Data"]) for block in message.blocks["ObjectData"]]
    assert {"RegionHandshake", "AgentMovementComplete", "LayerData", "ObjectUpdate", "LogoutReply"} <= set(seen)
    assert heights.complete
    # the default OpenSimulator island: sea floor at the edges, about 25 m at its centre
    assert heights.height_at(128, 128) == pytest.approx(25.0, abs=0.5)
    assert heights.height_at(2, 2) < 1.0
    avatar = next(p for p in prims if p.is_avatar)
    assert avatar.name == "Test User" and avatar.full_id == AGENT
    shapes = sorted({(p.path_curve, p.profile_curve & 0x0F, p.scale) for p in prims if not p.is_avatar})
    assert shapes == [(16, 0, (1.0, 1.0, 2.0)), (16, 1, (1.0, 2.0, 3.0)), (32, 5, (2.0, 2.0, 2.0))]
    assert terse and all(abs(sum(c * c for c in t.rotation) - 1.0) < 1e-3 for t in terse)


def test_terrain_patches_refuse_what_does_not_fit() -> None:
    with pytest.raises(PatchError, match="patches of 16x16"):
        decode_layer(struct.pack("<HBB", 264, 32, LAND) + b"\x00" * 8)
    with pytest.raises(PatchError, match="ends"):
        decode_layer(struct.pack("<HBB", 264, 16, LAND) + b"\x88\x00")
    # quant, dc, range, then patch ids x=31 (outside 16 patches)
    bits = "10001000" + "0" * 32 + "0" * 16 + format(31 << 5, "010b")[::-1][::-1]
    raw = int(bits.ljust(((len(bits) + 7) // 8) * 8, "0"), 2).to_bytes((len(bits) + 7) // 8, "big")
    with pytest.raises(PatchError):
        decode_layer(struct.pack("<HBB", 264, 16, LAND) + raw)


def test_object_blocks_refuse_bad_lengths() -> None:
    with pytest.raises(ObjectError, match="44 or 60 bytes"):
        from_terse(b"\x00" * 10)
    with pytest.raises(ObjectError, match="the fixed part"):
        from_compressed(b"\x00" * 20)


def _mutate(rng: random.Random, wire: bytes) -> bytes:
    data = bytearray(wire)
    kind = rng.randrange(6)
    if kind == 0 and len(data) > 1:
        return bytes(data[:rng.randrange(1, len(data))])                  # truncated
    if kind == 1:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)            # flipped bytes
    elif kind == 2:
        data[0] |= rng.choice((0x80, 0x10, 0x90))                          # lying flags
    elif kind == 3:
        pos = rng.randrange(len(data))
        data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == 4:
        data += b"\x00\xff" * rng.randint(1, 3000)                          # zero-coding bomb tail
    else:
        data[6:6] = bytes([rng.randrange(256)])                            # a message number shifted
    return bytes(data)


def test_fuzzed_packets_decode_cleanly_or_are_refused(codec: MessageCodec) -> None:
    rng = random.Random(1414)
    packets = recorded()
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(5000):
        wire = _mutate(rng, rng.choice(packets))
        try:
            packet = decode_packet(wire)
            message = codec.decode(packet.body)
            if message.name == "LayerData":
                decode_layer(message.block("LayerData")["Data"])
            elif message.name == "ObjectUpdate":
                for block in message.blocks["ObjectData"]:
                    from_full(block)
            elif message.name == "ImprovedTerseObjectUpdate":
                for block in message.blocks["ObjectData"]:
                    from_terse(block["Data"])
            assert len(packet.body) <= MAX_BODY
            outcomes["decoded"] += 1
        except (PacketError, DecodeError, PatchError, ObjectError):
            outcomes["refused"] += 1
    assert outcomes["decoded"] > 500 and outcomes["refused"] > 500


def compressed_block(local_id: int = 77, parent: int = 5, text: bytes = b"hello") -> bytes:
    """A compressed object block as OpenSimulator's LLClientView writes one (with a parent and text)."""
    full_id = uuid.UUID(int=0x1234)
    head = struct.pack("<16sIBBIBB3f3f3fI16s", full_id.bytes, local_id, 9, 0, 1, 3, 0, 1.0, 2.0, 3.0,
                       10.0, 20.0, 30.0, 0.0, 0.0, 0.0, 0x20 | 0x04, bytes(16))
    tail = struct.pack("<I", parent) + text + b"\0" + bytes((255, 255, 255, 255)) + b"\x00"
    shape = struct.pack("<BHHBBBBbbbbbBbBHHH", 0x20, 0, 0, 100, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, 0, 0, 0)
    entry = bytes(16) + b"\x00" + bytes((0, 255, 255, 0))                # red, colours stored inverted
    return head + tail + shape + struct.pack("<I", len(entry)) + entry


def test_compressed_object_updates_decode() -> None:
    state = from_compressed(compressed_block())
    assert (state.local_id, state.parent_id, state.pcode) == (77, 5, 9)
    assert state.position == (10.0, 20.0, 30.0) and state.scale == (1.0, 2.0, 3.0)
    assert (state.path_curve, state.profile_curve, state.text) == (0x20, 0x05, "hello")
    assert state.color == pytest.approx((1.0, 0.0, 0.0, 1.0))
    with pytest.raises(ObjectError, match="floating text"):
        from_compressed(compressed_block(text=b"x" * 2000)[:-40])
