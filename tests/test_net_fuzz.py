"""Fuzzing: decoders meet thousands of random and mutated messages (hypothesis), and a live
server takes thousands of seeded random and mutated messages from many peers over real sockets
while a good client keeps playing. Nothing but ProtocolError comes out of a decoder; the server
keeps ticking and serving the good client; every peer it closed has a logged reason."""
from __future__ import annotations

import asyncio
import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from engine.input.input_system import InputSystem
from engine.input.sources import DirectActionSource
from engine.physics.components import CharacterController
from netcode import messages as m
from netcode.field_schema import FieldEntry, FieldSchema
from netcode.input_layout import InputFrame, InputLayout, owner_fields
from netcode.quantize import TransformSpec
from netcode.session import Limits
from netcode.snapshot_codec import View, decode, encode
from netcode.wire import ProtocolError
from tests.net_helpers import join, run, start_server, tick_until, token

LAYOUT = InputLayout(["interact", "jump", "run"], [], ["look", "move"], owner_fields([CharacterController()]))
GOOD_FRAME = InputFrame(frozenset({"run"}), {}, {"move": (0.0, 1.0)}, 45.0, ((0.0, 1.0, 0.0), True, False), 3.0)
SAMPLES = [
    m.encode_hello(m.Hello("st1.a.b")),
    m.encode_input(m.Input(5, 1, (GOOD_FRAME, GOOD_FRAME)), LAYOUT),
    m.encode_event(m.Event(1, m.CHAT, {"text": "hello"}), from_server=False),
    m.encode_event(m.Event(1, m.COMMAND, {"json": {"command": "SetFields", "entity": 5, "type": "Light",
                                                   "values": {"intensity": 2}}}), from_server=False),
    m.encode_event(m.Event(1, m.RPC, {"entity": 49, "method": "open", "args": {"x": [1, 2]}}), from_server=False),
    m.encode_ping(m.Ping(1.5)),
    m.encode_signal(m.Signal("offer", "v=0\r\n"), from_server=False),
]
SERVER_SAMPLES = [
    m.encode_welcome(m.Welcome("ann", 7, 10, 60.0, 20.0, False, {"layout": {}})),
    m.encode_event(m.Event(1, m.SPAWN, {"json": [{"id": 3, "components": []}]}), from_server=True),
    m.encode_event(m.Event(2, m.DESPAWN, {"entities": [3, 4]}), from_server=True),
    m.encode_pong(m.Pong(1.0, 2.0, 3)),
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if choice < 0.4 and out:
            out[rng.randrange(len(out))] = rng.randrange(256)
        elif choice < 0.6 and out:
            del out[rng.randrange(len(out)):]
        elif choice < 0.8:
            out[rng.randrange(len(out) + 1):0] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif out:
            i = rng.randrange(len(out))
            out[i:i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x80\x80\x80\x80"])
    return bytes(out)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300),
                 st.tuples(st.sampled_from(SAMPLES + SERVER_SAMPLES), st.integers(0, 2**32)).map(
                     lambda pair: mutate(random.Random(pair[1]), pair[0]))))
def test_decoders_raise_only_protocol_errors(data: bytes) -> None:
    for decoder in (lambda d: m.decode_client(d, LAYOUT), lambda d: m.decode_client(d, None), m.decode_server):
        try:
            decoder(data)
        except ProtocolError:
            pass


SPEC = TransformSpec()
SCHEMA = FieldSchema([FieldEntry("Thing", "on", "bool"), FieldEntry("Thing", "name", "text"),
                      FieldEntry("Thing", "pos", "vector", 0.01, 3)])


def _view(seed: int, n: int) -> View:
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(5000, n, replace=False) + 1)
    from netcode.quantize import quantise_positions, quantise_quats

    q = rng.normal(size=(n, 4))
    largest, parts = quantise_quats(q, SPEC)
    fields = {int(e): {1: bool(e % 2), 2: f"n{e}", 3: (int(e), -1, 2)} for e in ids[:5]}
    return View(ids, quantise_positions(rng.uniform(-100, 100, (n, 3)), SPEC), largest, parts, fields)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(1, 60), st.booleans())
def test_mutated_snapshots_raise_only_protocol_errors(seed: int, n: int, against_base: bool) -> None:
    base = _view(seed, n)
    current = _view(seed + 1, n)
    payload = encode(current, base if against_base else None, SPEC, SCHEMA).payload
    rng = random.Random(seed)
    for _ in range(4):
        try:
            decode(mutate(rng, payload), base if rng.random() < 0.5 else None, SPEC, SCHEMA)
        except ProtocolError:
            pass


async def fuzz_peer(url: str, index: int, rng: random.Random, layout: InputLayout, budget: int) -> int:
    """One hostile peer: a valid hello, then messages until the server closes it or ``budget`` is spent."""
    sent = 0
    try:
        async with connect(url, max_size=None, compression=None, ping_interval=None, close_timeout=1) as ws:
            hello = m.encode_hello(m.Hello(token(f"fuzz{index}", ("play", "chat", "command"))))
            await ws.send(hello if rng.random() < 0.9 else mutate(rng, hello))
            sent += 1
            event_seq = input_seq = 0
            for _ in range(budget):
                roll = rng.random()
                if roll < 0.35:                      # a valid input with random values inside the ranges
                    input_seq += 1
                    frame = InputFrame(frozenset(rng.sample(layout.buttons, rng.randint(0, len(layout.buttons)))), {},
                                       {v: (rng.uniform(-1, 1), rng.uniform(-1, 1)) for v in layout.vectors},
                                       rng.uniform(-720, 720),
                                       tuple(f.declared.default for f in layout.fields), rng.uniform(0, 1e6))
                    data = m.encode_input(m.Input(0, input_seq, (frame,)), layout)
                elif roll < 0.5:                     # chat, commands and RPCs in order, with odd contents
                    event_seq += 1
                    kind = rng.choice([m.CHAT, m.COMMAND, m.RPC])
                    payload = {"text": "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 40)))} \
                        if kind == m.CHAT else {"json": rng.choice([{"command": "DestroyEntity", "entity": rng.randint(0, 99)},
                                                                     {"command": "Nope"}, [1, 2], {"command": "SetFields",
                                                                     "entity": 21, "type": "MeshRenderer",
                                                                     "values": {"color": [2, 2, 2, 2]}}])} \
                        if kind == m.COMMAND else {"entity": rng.randint(0, 100), "method": "open", "args": {"a": 1}}
                    data = m.encode_event(m.Event(event_seq, kind, payload), from_server=False)
                elif roll < 0.6:
                    data = m.encode_ping(m.Ping(rng.uniform(-1e9, 1e9)))
                elif roll < 0.9:                     # a mutated message of any kind
                    data = mutate(rng, rng.choice(SAMPLES))
                else:                                # random bytes
                    data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
                await ws.send(data)
                sent += 1
                if rng.random() < 0.2:
                    await asyncio.sleep(0)
    except (ConnectionClosed, OSError):
        pass
    return sent


def test_a_good_client_keeps_playing_through_thousands_of_hostile_messages() -> None:
    async def scenario() -> None:
        server = await start_server(grace=0.0, limits=Limits(messages=(10_000.0, 10_000.0),
                                                             commands=(10_000.0, 10_000.0)))
        try:
            good = await join(server, "good")
            source = DirectActionSource()
            source.set_vector("move", (0.3, 0.3))
            good.world.system(InputSystem).set_source(source)
            await tick_until([good], lambda: good.state.snapshots > 3, 300)
            snapshots_before, ticks_before = good.state.snapshots, server.world.tick_count
            rng = random.Random(12)
            url = f"ws://127.0.0.1:{server.port}"
            total = 0
            done = False

            async def fuzz() -> None:
                nonlocal total, done
                for wave in range(12):
                    counts = await asyncio.gather(*(fuzz_peer(url, wave * 10 + i, random.Random(rng.random()),
                                                              server.layout, 60) for i in range(10)))
                    total += sum(counts)
                done = True

            await asyncio.gather(fuzz(), tick_until([good], lambda: done, 6000))
            assert total >= 2000, total
            assert not good.closed, good.closed_reason
            assert good.state.snapshots > snapshots_before + 10
            assert server.world.tick_count > ticks_before + 30
            await tick_until([good], lambda: len([s for s in server.sessions if s.startswith("fuzz")]) == 0, 600)
            assert list(server.sessions) == ["good"]
            closed = [r for p, r in server.closed_reasons if p.startswith("fuzz")]
            assert len(closed) > 50 and all(closed)
            await good.close()
        finally:
            await server.stop()
    run(scenario())
