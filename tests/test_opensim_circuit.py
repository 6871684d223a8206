"""The LLUDP circuit against a hostile simulator: a real UDP socket on 127.0.0.1 that sends what a
test tells it (reliable packets, pings, duplicates, garbage, bombs, stray acks, floods) and
records what the circuit sends back."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from netcode.opensim.circuit import Circuit, CircuitLimits
from netcode.opensim.messages import Message, MessageCodec
from netcode.opensim.packet import FLAG_RESENT, Packet, decode_packet, encode_packet

CODEC = MessageCodec()
AGENT = uuid.UUID(int=0xAA)


class FakeSimulator(asyncio.DatagramProtocol):
    """A UDP endpoint that records every packet the circuit sends it."""

    def __init__(self) -> None:
        self.received: list[tuple[int, Packet, Message]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.peer: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.peer = addr
        packet = decode_packet(data)
        self.received.append((data[0], packet, CODEC.decode(packet.body)))

    def send_raw(self, data: bytes) -> None:
        assert self.transport is not None and self.peer is not None
        self.transport.sendto(data, self.peer)

    def send(self, sequence: int, name: str, blocks: dict[str, Any], reliable: bool = False,
             acks: list[int] | None = None) -> None:
        self.send_raw(encode_packet(Packet(sequence, CODEC.encode(Message(name, blocks)), reliable=reliable,
                                           zerocoded=CODEC.template[name].zerocoded, acks=acks or [])))

    def named(self, name: str) -> list[tuple[int, Packet, Message]]:
        return [r for r in self.received if r[2].name == name]


async def until(check: Any, timeout: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def connected(limits: CircuitLimits | None = None) -> tuple[FakeSimulator, Circuit, list[Message]]:
    loop = asyncio.get_running_loop()
    _, sim = await loop.create_datagram_endpoint(FakeSimulator, local_addr=("127.0.0.1", 0))
    address = sim.transport.get_extra_info("sockname")[:2]
    heard: list[Message] = []
    circuit = Circuit(address, heard.append, CODEC, limits)
    await circuit.open()
    circuit.send("UseCircuitCode", {"CircuitCode": [{"Code": 7, "SessionID": AGENT, "ID": AGENT}]}, reliable=True)
    assert await until(lambda: sim.peer is not None)
    return sim, circuit, heard


def test_reliable_packets_are_resent_until_acked_and_stray_acks_are_ignored() -> None:
    async def run() -> None:
        sim, circuit, _ = await connected(CircuitLimits(resend_after=0.2, resend_tries=10))
        assert await until(lambda: len(sim.named("UseCircuitCode")) >= 2, 3), "no resend"
        flags, packet, _ = sim.named("UseCircuitCode")[-1]
        assert flags & FLAG_RESENT and packet.sequence == 1
        sim.send(1, "PacketAck", {"Packets": [{"ID": 1}, {"ID": 4242}]})
        await asyncio.sleep(0.3)
        count = len(sim.named("UseCircuitCode"))
        await asyncio.sleep(0.6)
        assert len(sim.named("UseCircuitCode")) == count, "resent after its ack"
        assert circuit.stats["stray_acks"] == 1 and not circuit.closed.is_set()
        circuit.close("test over")
    asyncio.run(run())


def test_reliable_packets_are_acked_duplicates_dropped_and_pings_answered() -> None:
    async def run() -> None:
        sim, circuit, heard = await connected()
        for _ in range(3):                      # the same reliable packet three times (a resend storm)
            sim.send(5, "KillObject", {"ObjectData": [{"ID": 9}]}, reliable=True)
        sim.send(6, "StartPingCheck", {"PingID": [{"PingID": 33, "OldestUnacked": 0}]})
        assert await until(lambda: sim.named("CompletePingCheck"), 3)
        assert sim.named("CompletePingCheck")[0][2].block("PingID")["PingID"] == 33

        def acked() -> set[int]:
            out = set()
            for _, packet, message in sim.received:
                out.update(packet.acks)
                if message.name == "PacketAck":
                    out.update(b["ID"] for b in message.blocks["Packets"])
            return out

        assert await until(lambda: 5 in acked(), 3)
        assert [m.name for m in heard].count("KillObject") == 1
        assert circuit.stats["duplicates"] == 2
        circuit.close("test over")
    asyncio.run(run())


def test_hostile_datagrams_are_counted_and_the_circuit_survives() -> None:
    async def run() -> None:
        sim, circuit, heard = await connected()
        hostile = [b"", b"\x01", b"\x00" * 9000, b"\x80\x00\x00\x00\x09\x00" + b"\x00\xff" * 700,
                   b"\x00\x00\x00\x00\x0a\x00\xff\xff\x77\x77", b"\x00\x00\x00\x00\x0b\x00\x10\x05",
                   b"\x10\x00\x00\x00\x0c\x00\x01\xee"]
        for data in hostile:
            sim.send_raw(data)
        sim.send(20, "KillObject", {"ObjectData": [{"ID": 1}]})
        assert await until(lambda: any(m.name == "KillObject" for m in heard), 3)
        assert circuit.stats["malformed"] >= 4 and circuit.stats["unknown"] == 1
        assert not circuit.closed.is_set()
        circuit.close("test over")
    asyncio.run(run())


def test_a_flood_of_garbage_closes_the_circuit_with_a_reason() -> None:
    async def run() -> None:
        sim, circuit, _ = await connected(CircuitLimits(max_malformed_per_second=50))
        for i in range(400):
            sim.send_raw(bytes([0, 0, 0, 1, i & 0xFF, 0, 0xFF]))
        assert await until(circuit.closed.is_set, 5)
        assert "malformed packets in a second" in circuit.closed_reason
    asyncio.run(run())


def test_memory_stays_bounded_under_a_flood_of_reliable_packets() -> None:
    async def run() -> None:
        limits = CircuitLimits(max_pending_acks=64, remembered=128, max_packets_per_second=100_000)
        sim, circuit, heard = await connected(limits)
        for seq in range(1, 3001):
            sim.send(seq, "KillObject", {"ObjectData": [{"ID": seq}]}, reliable=True)
            if seq % 100 == 0:
                await asyncio.sleep(0.005)          # let the loop read (the kernel drops what overflows)
        assert await until(lambda: circuit.stats["received"] >= 1000, 10), dict(circuit.stats)
        assert len(circuit._pending_acks) <= 64 and len(circuit._seen) <= 128
        assert not circuit.closed.is_set()
        circuit.close("test over")
    asyncio.run(run())


@pytest.mark.parametrize("per_second", [200])
def test_packets_past_the_rate_limit_are_dropped(per_second: int) -> None:
    async def run() -> None:
        sim, circuit, heard = await connected(CircuitLimits(max_packets_per_second=per_second))
        for seq in range(1, 1001):
            sim.send(seq, "KillObject", {"ObjectData": [{"ID": seq}]})
        assert await until(lambda: circuit.stats["flood"] > 0, 5)
        assert len(heard) <= per_second * 2
        circuit.close("test over")
    asyncio.run(run())
