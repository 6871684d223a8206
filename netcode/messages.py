"""The protocol's messages: one binary websocket (or data channel) message each, the first byte
its kind. docs/protocol.md is the spec; this module is its one implementation.

Clients send HELLO (first, once), INPUT, EVENT, PING, SIGNAL and BYE; servers send WELCOME,
SNAPSHOT, EVENT, PONG, SIGNAL and BYE. ``decode_client`` and ``decode_server`` turn bytes into
these dataclasses and raise ``ProtocolError`` for anything else: an unknown kind, a short or
long body, a field out of range, text that is not UTF-8, JSON that is not plain data.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union

from engine.core.errors import DataError
from engine.packs.json_text import parse_json
from netcode.input_layout import InputFrame, InputLayout, decode_frame, encode_frame
from netcode.wire import ByteReader, ByteWriter, ProtocolError

PROTOCOL_VERSION = 2
MAGIC = b"STRM"
MAX_CLIENT_MESSAGE = 64 * 1024      # bytes; larger messages close the connection (websocket max_size)
MAX_SERVER_MESSAGE = 4 * 1024 * 1024
MAX_INPUTS_PER_MESSAGE = 16         # a message repeats the last unacknowledged inputs (loss on unreliable paths)
MAX_CHAT = 500                      # characters of a chat line
MAX_JSON = 60 * 1024                # bytes of a command or RPC argument list from a client
MAX_REASON = 200
MAX_SDP = 60 * 1024

# kinds, client -> server
HELLO, INPUT, EVENT, PING, BYE, SIGNAL = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
# kinds, server -> client
WELCOME, SNAPSHOT, S_EVENT, PONG, S_BYE, S_SIGNAL = 0x81, 0x82, 0x83, 0x84, 0x85, 0x86
# event kinds
CHAT, SPAWN, DESPAWN, COMMAND, RPC, JOINED, LEFT, NOTICE, SCHEMA, VOICE_MUTE = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
EVENT_NAMES = {CHAT: "chat", SPAWN: "spawn", DESPAWN: "despawn", COMMAND: "command", RPC: "rpc",
               JOINED: "joined", LEFT: "left", NOTICE: "notice", SCHEMA: "schema", VOICE_MUTE: "voice_mute"}
CLIENT_EVENTS = (CHAT, COMMAND, RPC, VOICE_MUTE)
# close codes (BYE and the websocket close code 4000 + this)
BYE_NORMAL, BYE_PROTOCOL, BYE_AUTH, BYE_VERSION, BYE_RATE, BYE_TIMEOUT, BYE_FULL, BYE_REPLACED, BYE_SERVER = range(9)


@dataclass(frozen=True)
class Hello:
    token: str
    client: str = "storm"
    version: int = PROTOCOL_VERSION
    webrtc: bool = False
    tracked: bool = False     # a VR client: its input carries head and hand poses (TrackedPose)


@dataclass(frozen=True)
class Input:
    """``frames[i]`` is input number ``first_seq + i``; ``ack_tick`` the newest snapshot received."""

    ack_tick: int
    first_seq: int
    frames: tuple[InputFrame, ...]


@dataclass(frozen=True)
class Event:
    """A reliable, ordered event: ``seq`` counts from 1 in each direction without gaps."""

    seq: int
    kind: int
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ping:
    client_time: float


@dataclass(frozen=True)
class Pong:
    client_time: float
    server_time: float
    server_tick: int


@dataclass(frozen=True)
class Bye:
    code: int
    reason: str


@dataclass(frozen=True)
class Signal:
    """WebRTC negotiation over the websocket: ``kind`` "offer" or "answer", ``sdp`` the description."""

    kind: str
    sdp: str


@dataclass(frozen=True)
class Welcome:
    player: str
    entity: int
    tick: int
    tick_rate: float
    snapshot_rate: float
    resumed: bool
    setup: dict[str, Any]
    version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Snapshot:
    """``tick`` the server tick, ``baseline`` the tick it is a delta against (0: none), ``input_ack``
    the last input of this client the server has run (0: none); ``payload`` the codec's bytes."""

    tick: int
    baseline: int
    input_ack: int
    server_time: float
    payload: bytes


ClientMessage = Union[Hello, Input, Event, Ping, Bye, Signal]
ServerMessage = Union[Welcome, Snapshot, Event, Pong, Bye, Signal]


# -- encoding ---------------------------------------------------------------------------------------
def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def encode_hello(msg: Hello) -> bytes:
    return (ByteWriter().u8(HELLO).raw(MAGIC).u16(msg.version).text(msg.token).text(msg.client)
            .u8((1 if msg.webrtc else 0) | (2 if msg.tracked else 0)).bytes())


def encode_input(msg: Input, layout: InputLayout) -> bytes:
    out = ByteWriter().u8(INPUT).u32(msg.ack_tick).u32(msg.first_seq).u8(len(msg.frames))
    for frame in msg.frames:
        encode_frame(out, frame, layout)
    return out.bytes()


def encode_event(msg: Event, from_server: bool) -> bytes:
    out = ByteWriter().u8(S_EVENT if from_server else EVENT).u32(msg.seq).u8(msg.kind)
    data = msg.data
    if msg.kind == CHAT:
        if from_server:
            out.text(data["player"])
        out.text(data["text"])
    elif msg.kind == DESPAWN:
        ids = data["entities"]
        out.varint(len(ids))
        for eid in ids:
            out.varint(eid)
    elif msg.kind == RPC:
        out.varint(data["entity"]).text(data["method"]).text(_json(data.get("args", {})))
    elif msg.kind == JOINED:
        out.text(data["player"]).varint(data["entity"])
    elif msg.kind == LEFT:
        out.text(data["player"]).text(data.get("reason", ""))
    elif msg.kind == NOTICE:
        out.text(data["text"])
    elif msg.kind == VOICE_MUTE:
        out.text(data["player"]).u8(1 if data["muted"] else 0)
    else:  # SPAWN, COMMAND, SCHEMA: a JSON value
        out.text(_json(data["json"]))
    return out.bytes()


def encode_ping(msg: Ping) -> bytes:
    return ByteWriter().u8(PING).f64(msg.client_time).bytes()


def encode_pong(msg: Pong) -> bytes:
    return ByteWriter().u8(PONG).f64(msg.client_time).f64(msg.server_time).u32(msg.server_tick).bytes()


def encode_bye(msg: Bye, from_server: bool) -> bytes:
    return ByteWriter().u8(S_BYE if from_server else BYE).u16(msg.code).text(msg.reason[:MAX_REASON]).bytes()


def encode_signal(msg: Signal, from_server: bool) -> bytes:
    return ByteWriter().u8(S_SIGNAL if from_server else SIGNAL).text(msg.kind).text(msg.sdp).bytes()


def encode_welcome(msg: Welcome) -> bytes:
    return (ByteWriter().u8(WELCOME).u16(msg.version).text(msg.player).varint(msg.entity).u32(msg.tick)
            .f32(msg.tick_rate).f32(msg.snapshot_rate).u8(1 if msg.resumed else 0).text(_json(msg.setup)).bytes())


def encode_snapshot(msg: Snapshot) -> bytes:
    return (ByteWriter().u8(SNAPSHOT).u32(msg.tick).u32(msg.baseline).u32(msg.input_ack).f64(msg.server_time)
            .raw(msg.payload).bytes())


# -- decoding ---------------------------------------------------------------------------------------
def _parse(text: str, where: str) -> Any:
    try:
        return parse_json(text, where)
    except DataError as exc:
        raise ProtocolError(where, f"plain JSON ({exc.expected})") from None


def _kind_of(data: bytes, where: str) -> int:
    if not isinstance(data, (bytes, bytearray)):
        raise ProtocolError(where, "a binary message (got text)")
    if not data:
        raise ProtocolError(where, "a message kind byte (the message is empty)")
    return data[0]


def decode_client(data: bytes, layout: InputLayout | None) -> ClientMessage:
    """A message a client sent; ``layout`` is None before the handshake (INPUT is then refused)."""
    kind = _kind_of(data, "message")
    if kind == HELLO:
        r = ByteReader(data, "hello")
        r.u8("kind")
        if r._take(4, "magic") != MAGIC:
            raise ProtocolError("hello.magic", f"the bytes {MAGIC!r}")
        version, token, client, flags = r.u16("version"), r.text("token", 1024), r.text("client", 64), r.u8("flags")
        msg: ClientMessage = Hello(version=version, token=token, client=client, webrtc=bool(flags & 1),
                                   tracked=bool(flags & 2))
    elif kind == INPUT:
        if layout is None:
            raise ProtocolError("input", "a hello first (input before the handshake)")
        r = ByteReader(data, "input")
        r.u8("kind")
        ack, first, count = r.u32("ack_tick"), r.u32("first_seq"), r.u8("count")
        if not 1 <= count <= MAX_INPUTS_PER_MESSAGE:
            raise ProtocolError("input.count", f"1 to {MAX_INPUTS_PER_MESSAGE} frames")
        if first == 0 or first + count - 1 >= 2**32:
            raise ProtocolError("input.first_seq", "input numbers from 1 up")
        r.where = "input.frame"
        frames = tuple(decode_frame(r, layout) for _ in range(count))
        msg = Input(ack, first, frames)
    elif kind == EVENT:
        msg = _decode_event(data, from_server=False)
        return msg
    elif kind == PING:
        r = ByteReader(data, "ping")
        r.u8("kind")
        msg = Ping(r.f64("client_time"))
    elif kind == BYE:
        r = ByteReader(data, "bye")
        r.u8("kind")
        msg = Bye(r.u16("code"), r.text("reason", MAX_REASON * 4))
    elif kind == SIGNAL:
        r = ByteReader(data, "signal")
        r.u8("kind")
        what = r.text("type", 16)
        if what not in ("offer", "answer"):
            raise ProtocolError("signal.type", "offer or answer")
        msg = Signal(what, r.text("sdp", MAX_SDP))
    else:
        raise ProtocolError("message", f"a client message kind (1-6), got {kind}")
    r.end()
    return msg


def _decode_event(data: bytes, from_server: bool) -> Event:
    r = ByteReader(data, "event")
    r.u8("kind")
    seq, kind = r.u32("seq"), r.u8("event")
    r.where = f"event.{EVENT_NAMES.get(kind, kind)}"
    if not from_server and kind not in CLIENT_EVENTS:
        raise ProtocolError("event.event", "chat (1), command (4), rpc (5) or voice_mute (10)")
    if kind == CHAT:
        payload: dict[str, Any] = {}
        if from_server:
            payload["player"] = r.text("player", 64)
        text = r.text("text", MAX_CHAT * 4)
        if len(text) > MAX_CHAT or not text.isprintable():
            raise ProtocolError(f"{r.where}.text", f"at most {MAX_CHAT} printable characters")
        payload["text"] = text
    elif kind == RPC:
        entity, method = r.varint("entity", 2**31 - 1), r.text("method", 64)
        if not method.isidentifier():
            raise ProtocolError(f"{r.where}.method", "a method name (letters, digits, _)")
        args = _parse(r.text("args", MAX_JSON), f"{r.where}.args")
        if not isinstance(args, dict):
            raise ProtocolError(f"{r.where}.args", "an object of named arguments")
        payload = {"entity": entity, "method": method, "args": args}
    elif kind == COMMAND:
        payload = {"json": _parse(r.text("json", MAX_SERVER_MESSAGE if from_server else MAX_JSON), f"{r.where}.json")}
    elif not from_server and kind == VOICE_MUTE:
        payload = {"player": r.text("player", 64), "muted": r.u8("muted")}
        if payload["muted"] > 1:
            raise ProtocolError(f"{r.where}.muted", "0 or 1")
        payload["muted"] = bool(payload["muted"])
    elif from_server and kind in (SPAWN, SCHEMA):
        payload = {"json": _parse(r.text("json", MAX_SERVER_MESSAGE), f"{r.where}.json")}
    elif from_server and kind == DESPAWN:
        count = r.varint("count", 1_000_000)
        payload = {"entities": [r.varint("entity", 2**31 - 1) for _ in range(count)]}
    elif from_server and kind == JOINED:
        payload = {"player": r.text("player", 64), "entity": r.varint("entity", 2**31 - 1)}
    elif from_server and kind == LEFT:
        payload = {"player": r.text("player", 64), "reason": r.text("reason", MAX_REASON * 4)}
    elif from_server and kind == NOTICE:
        payload = {"text": r.text("text", 4096)}
    else:
        raise ProtocolError("event.event", f"a known event kind, got {kind}")
    r.end()
    return Event(seq, kind, payload)


def decode_server(data: bytes, layout: InputLayout | None = None) -> ServerMessage:
    """A message a server sent (a client treats these as hostile too)."""
    kind = _kind_of(data, "message")
    if kind == S_EVENT:
        return _decode_event(data, from_server=True)
    r = ByteReader(data, "server")
    r.u8("kind")
    if kind == WELCOME:
        r.where = "welcome"
        msg: ServerMessage = Welcome(version=r.u16("version"), player=r.text("player", 64),
                                     entity=r.varint("entity", 2**31 - 1), tick=r.u32("tick"),
                                     tick_rate=r.f32("tick_rate"), snapshot_rate=r.f32("snapshot_rate"),
                                     resumed=bool(r.u8("resumed")), setup={})
        setup = _parse(r.text("setup", MAX_SERVER_MESSAGE), "welcome.setup")
        if not isinstance(setup, dict):
            raise ProtocolError("welcome.setup", "an object")
        msg = Welcome(msg.player, msg.entity, msg.tick, msg.tick_rate, msg.snapshot_rate, msg.resumed, setup, msg.version)
        if not (1 <= msg.tick_rate <= 1000 and 0 < msg.snapshot_rate <= msg.tick_rate):
            raise ProtocolError("welcome.tick_rate", "1-1000 ticks/s and a snapshot rate up to the tick rate")
    elif kind == SNAPSHOT:
        r.where = "snapshot"
        return Snapshot(r.u32("tick"), r.u32("baseline"), r.u32("input_ack"), r.f64("server_time"), r.rest())
    elif kind == PONG:
        r.where = "pong"
        msg = Pong(r.f64("client_time"), r.f64("server_time"), r.u32("server_tick"))
    elif kind == S_BYE:
        r.where = "bye"
        msg = Bye(r.u16("code"), r.text("reason", MAX_REASON * 4))
    elif kind == S_SIGNAL:
        r.where = "signal"
        msg = Signal(r.text("type", 16), r.text("sdp", MAX_SDP))
    else:
        raise ProtocolError("message", f"a server message kind, got {kind}")
    r.end()
    return msg
