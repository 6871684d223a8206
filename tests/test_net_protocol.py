"""The wire protocol: every message round-trips, tokens are signed and expire, bad bytes are
refused with a reason naming the field, and clock sync estimates the server's clock."""
from __future__ import annotations

import pytest

from engine.physics.components import CharacterController
from netcode import messages as m
from netcode.auth import AuthError, TokenAuthority
from netcode.clock_sync import ClockSync
from netcode.input_layout import InputFrame, InputLayout, owner_fields
from netcode.wire import ByteReader, ByteWriter, ProtocolError


def layout() -> InputLayout:
    return InputLayout(["interact", "jump", "run"], ["zoom"], ["look", "move"], owner_fields([CharacterController()]))


def test_owner_fields_come_from_the_declarations() -> None:
    fields = owner_fields([CharacterController()])
    assert [(f.type_name, f.name) for f in fields] == [("CharacterController", "move"), ("CharacterController", "run"),
                                                       ("CharacterController", "jump")]
    assert fields[0].step == 0.01


def test_every_client_message_round_trips() -> None:
    lay = layout()
    frame = InputFrame(frozenset({"jump", "run"}), {"zoom": -0.5}, {"move": (0.6, 0.8), "look": (0.0, 0.0)}, 90.0,
                       ((0.6, 0.8, 0.0), True, False), 12.5)
    for msg in (m.Hello("st1.a.b", "bot", webrtc=True), m.Input(7, 3, (frame, frame)), m.Ping(1.25),
                m.Bye(m.BYE_NORMAL, "bye"), m.Signal("offer", "v=0"), m.Event(1, m.CHAT, {"text": "hi"}),
                m.Event(2, m.COMMAND, {"json": {"command": "SetFields", "entity": 5}}),
                m.Event(3, m.RPC, {"entity": 49, "method": "open", "args": {"fast": True}})):
        if isinstance(msg, m.Hello):
            data = m.encode_hello(msg)
        elif isinstance(msg, m.Input):
            data = m.encode_input(msg, lay)
        elif isinstance(msg, m.Ping):
            data = m.encode_ping(msg)
        elif isinstance(msg, m.Bye):
            data = m.encode_bye(msg, from_server=False)
        elif isinstance(msg, m.Signal):
            data = m.encode_signal(msg, from_server=False)
        else:
            data = m.encode_event(msg, from_server=False)
        back = m.decode_client(data, lay)
        if isinstance(msg, m.Input):
            got = back.frames[0]
            assert back.ack_tick == 7 and back.first_seq == 3 and len(back.frames) == 2
            assert got.held == frame.held and got.heading == pytest.approx(90.0)
            assert got.vectors["move"] == pytest.approx((0.6, 0.8), abs=1e-4)
            assert got.owner[0] == pytest.approx((0.6, 0.8, 0.0)) and got.owner[1:] == (True, False)
            assert got.view_tick == 12.5
        else:
            assert back == msg


def test_every_server_message_round_trips() -> None:
    welcome = m.Welcome("ann", 101, 600, 60.0, 20.0, False, {"layout": {"buttons": ["jump"]}})
    assert m.decode_server(m.encode_welcome(welcome)) == welcome
    snap = m.Snapshot(10, 4, 3, 1.5, b"\x01\x02")
    assert m.decode_server(m.encode_snapshot(snap)) == snap
    assert m.decode_server(m.encode_pong(m.Pong(1.0, 2.0, 99))) == m.Pong(1.0, 2.0, 99)
    for event in (m.Event(1, m.CHAT, {"player": "ann", "text": "hello"}), m.Event(2, m.DESPAWN, {"entities": [4, 9]}),
                  m.Event(3, m.SPAWN, {"json": [{"id": 4}]}), m.Event(4, m.JOINED, {"player": "bob", "entity": 7}),
                  m.Event(5, m.LEFT, {"player": "bob", "reason": "quit"}), m.Event(6, m.NOTICE, {"text": "x"})):
        assert m.decode_server(m.encode_event(event, from_server=True)) == event


def test_quantised_input_is_what_the_server_decodes() -> None:
    lay = layout()
    frame = InputFrame(frozenset(), {}, {"move": (0.123456, -0.5)}, 33.3333, ((0.123456, -0.5, 0.0), False, False))
    q = lay.quantised(frame)
    assert q.owner[0][0] == pytest.approx(0.12) and q.vectors["move"][0] == pytest.approx(0.123456, abs=1e-4)
    assert lay.quantised(q) == q  # a second round changes nothing: the client simulates what the server runs


@pytest.mark.parametrize("data, where", [
    (b"", "message"),
    (b"\x7f", "message"),
    (b"\x01XXXX\x01\x00", "hello.magic"),
    (m.encode_hello(m.Hello("t"))[:-2], "hello"),
    (m.encode_hello(m.Hello("t")) + b"\x00", "hello"),
    (b"\x02" + bytes(9), "input"),              # input before the handshake (no layout)
    (b"\x03\x01\x00\x00\x00\x02", "event.event"),  # a client may not send spawns
    (b"\x03\x01\x00\x00\x00\x01\x02\xff\xfe", "event.chat.text"),
    (b"\x06\x04oops\x00", "signal.type"),
])
def test_bad_client_bytes_are_refused_naming_the_place(data: bytes, where: str) -> None:
    with pytest.raises(ProtocolError) as info:
        m.decode_client(data, None if where == "input" else layout())
    assert info.value.where.startswith(where), info.value


def test_bad_input_values_are_refused() -> None:
    lay = layout()
    good = m.encode_input(m.Input(0, 1, (InputFrame(owner=((0.0, 0.0, 0.0), False, False)),)), lay)
    assert m.decode_client(good, lay).first_seq == 1
    too_many = bytearray(good)
    too_many[9] = m.MAX_INPUTS_PER_MESSAGE + 1
    with pytest.raises(ProtocolError, match="input.count"):
        m.decode_client(bytes(too_many), lay)
    # move far outside the field's declared range (Vec3(-1e3, 1e3)) is refused by the declaration
    out = ByteWriter().u8(m.INPUT).u32(0).u32(1).u8(1).varint(0).svarint(0).svarint(0).svarint(0).svarint(0).svarint(0)
    out.u16(0).u32(0).svarint(10**9).svarint(0).svarint(0).u8(0).u8(0)
    with pytest.raises(ProtocolError, match="CharacterController.move"):
        m.decode_client(out.bytes(), lay)
    bad_bool = bytearray(good)
    bad_bool[-1] = 7
    with pytest.raises(ProtocolError, match="CharacterController.jump"):
        m.decode_client(bytes(bad_bool), lay)


def test_reader_bounds() -> None:
    reader = ByteReader(ByteWriter().varint(5).raw(b"ab").bytes(), "x")
    with pytest.raises(ProtocolError, match="more bytes"):
        reader.blob("f", 100)
    with pytest.raises(ProtocolError, match="at most 3 bytes"):
        ByteReader(ByteWriter().blob(b"abcd").bytes(), "x").blob("f", 3)
    with pytest.raises(ProtocolError, match="varint"):
        ByteReader(b"\xff" * 11, "x").varint("f")
    assert ByteReader(ByteWriter().svarint(-12345).bytes(), "x").svarint("f") == -12345


def test_tokens_are_signed_and_expire() -> None:
    authority = TokenAuthority(b"s" * 32)
    token = authority.issue("ann", ("play", "chat"), ttl=60, now=1000.0)
    grant = authority.verify(token, now=1030.0)
    assert grant.player == "ann" and grant.allows("chat") and not grant.allows("command")
    with pytest.raises(AuthError, match="expired"):
        authority.verify(token, now=1061.0)
    with pytest.raises(AuthError, match="forged or altered"):
        TokenAuthority(b"t" * 32).verify(token, now=1030.0)
    prefix, payload, signature = token.split(".")
    forged = authority.issue("bob", ("admin",), now=1000.0).split(".")[1]
    with pytest.raises(AuthError, match="forged or altered"):
        authority.verify(f"{prefix}.{forged}.{signature}", now=1030.0)
    for junk in ("", "st1..", "x" * 5000, "st1.a.b.c", "st2.a.b"):
        with pytest.raises(AuthError):
            authority.verify(junk, now=1030.0)
    with pytest.raises(ValueError):
        authority.issue("not a valid id!")


def test_clock_sync_prefers_the_fastest_round_trip() -> None:
    clock = ClockSync(60.0)
    # the server clock runs 100 s ahead; one slow reply (queued 80 ms) must not spoil the estimate
    clock.add(client_time=1.0, server_time=101.05, server_tick=6063, now=1.18)
    clock.add(client_time=2.0, server_time=102.01, server_tick=6120, now=2.02)
    assert clock.rtt == pytest.approx(0.02)
    assert clock.server_time(3.0) == pytest.approx(103.0, abs=1e-9)
    assert clock.server_tick(3.0) == pytest.approx(6120 + 0.99 * 60)
    assert clock.add(client_time=5.0, server_time=0.0, server_tick=0, now=4.0) is None  # from the future
