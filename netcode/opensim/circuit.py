"""The LLUDP circuit to a simulator, over asyncio UDP.

It numbers and sends packets, acknowledges the simulator's reliable ones (appended to outgoing
packets, or in PacketAck), resends its own reliable packets until they are acknowledged (a few
tries, then it gives up and logs), drops duplicates, answers StartPingCheck with
CompletePingCheck, and hands every decoded message to ``on_message`` (on the loop's thread).

Everything that arrives is hostile: a datagram from another address, a malformed packet, an
unknown message number, an ack for a packet never sent, a flood. Each is counted in ``stats``
and logged (once per kind of problem, then every ``LOG_EVERY``); past the limits the circuit
closes with ``closed_reason`` saying why. Memory is bounded by the limits below.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from netcode.opensim.messages import DecodeError, Message, MessageCodec, UnknownMessage
from netcode.opensim.packet import Packet, PacketError, decode_packet, encode_packet

log = logging.getLogger("storm.opensim")
LOG_EVERY = 1000


@dataclass(frozen=True)
class CircuitLimits:
    """The bounds a circuit keeps to, whatever the simulator sends."""

    resend_after: float = 1.0         # seconds before a reliable packet is sent again
    resend_tries: int = 4             # sends of one reliable packet before giving up on it
    max_unacked: int = 512            # our reliable packets waiting for acks
    max_pending_acks: int = 1024      # their reliable packets we still have to ack
    remembered: int = 4096            # sequence numbers remembered to drop duplicates
    max_packets_per_second: int = 5000
    max_malformed_per_second: int = 200
    appended_acks: int = 32           # acks appended to one outgoing packet


class Circuit(asyncio.DatagramProtocol):
    """One circuit to one simulator address; ``await open()`` then ``send()``; ``await logout()`` or ``close()``."""

    def __init__(self, address: tuple[str, int], on_message: Callable[[Message], None],
                 codec: MessageCodec | None = None, limits: CircuitLimits | None = None,
                 recorder: Callable[[bytes], None] | None = None) -> None:
        self.address = address
        self.codec = codec or MessageCodec()
        self.limits = limits or CircuitLimits()
        self.on_message = on_message
        self.recorder = recorder
        self.stats: Counter[str] = Counter()
        self.closed_reason = ""
        self.last_received = 0.0
        self._transport: asyncio.DatagramTransport | None = None
        self._sequence = 0
        self._unacked: OrderedDict[int, list[Any]] = OrderedDict()    # seq -> [datagram body packet, sent at, tries]
        self._pending_acks: OrderedDict[int, None] = OrderedDict()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._recently_acked: OrderedDict[int, None] = OrderedDict()
        self._window = (0.0, 0, 0)          # second start, packets, malformed
        self._logged: Counter[str] = Counter()
        self._timer: asyncio.Task[None] | None = None
        self._logout_reply: asyncio.Event | None = None
        self.closed = asyncio.Event()

    # -- lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, remote_addr=self.address)
        self._timer = loop.create_task(self._tick())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def error_received(self, exc: Exception) -> None:
        self._note("socket", f"socket error from {self.address}: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed_reason:
            self.closed_reason = f"the socket closed ({exc})" if exc else "the socket closed"
        self.closed.set()

    def close(self, reason: str) -> None:
        """Close the circuit, saying why (logged once)."""
        if self.closed_reason and self.closed.is_set():
            return
        if not self.closed_reason:
            self.closed_reason = reason
            log.info("circuit to %s:%d closed: %s", *self.address, reason)
        if self._timer is not None:
            self._timer.cancel()
        if self._transport is not None:
            self._transport.close()
        self.closed.set()

    async def logout(self, agent_id: Any, session_id: Any, timeout: float = 5.0) -> bool:
        """Ask the simulator to log us out and wait (bounded) for LogoutReply; True when it came."""
        if self.closed.is_set():
            return False
        self._logout_reply = asyncio.Event()
        self.send("LogoutRequest", {"AgentData": [{"AgentID": agent_id, "SessionID": session_id}]}, reliable=True)
        try:
            await asyncio.wait_for(self._logout_reply.wait(), timeout)
            replied = True
        except asyncio.TimeoutError:
            replied = False
        self.close("logged out" if replied else f"logged out (no LogoutReply within {timeout:g} s)")
        return replied

    # -- sending --------------------------------------------------------------------------------
    def send(self, name: str, blocks: dict[str, list[dict[str, Any]]], reliable: bool = False) -> int:
        """Encode and send a message; returns its sequence number (0 when the circuit is closed)."""
        if self._transport is None or self.closed.is_set():
            return 0
        layout = self.codec.template[name]
        body = self.codec.encode(Message(name, blocks))
        self._sequence += 1
        packet = Packet(self._sequence, body, reliable=reliable, zerocoded=layout.zerocoded,
                        acks=self._take_acks(self.limits.appended_acks))
        if reliable:
            if len(self._unacked) >= self.limits.max_unacked:
                dropped, _ = self._unacked.popitem(last=False)
                self._note("unacked", f"more than {self.limits.max_unacked} reliable packets unacknowledged; "
                                      f"gave up on packet {dropped}")
            self._unacked[packet.sequence] = [packet, time.monotonic(), 1]
        self._write(packet)
        self.stats["sent"] += 1
        return packet.sequence

    def _write(self, packet: Packet) -> None:
        assert self._transport is not None
        self._transport.sendto(encode_packet(packet))

    def _take_acks(self, limit: int) -> list[int]:
        acks = []
        while self._pending_acks and len(acks) < limit:
            acks.append(self._pending_acks.popitem(last=False)[0])
        return acks

    async def _tick(self) -> None:
        try:
            while not self.closed.is_set():
                await asyncio.sleep(0.1)
                self._flush_acks()
                self._resend()
        except asyncio.CancelledError:
            pass

    def _flush_acks(self) -> None:
        while self._pending_acks and not self.closed.is_set():
            acks = self._take_acks(255)
            self.send("PacketAck", {"Packets": [{"ID": seq} for seq in acks]})

    def _resend(self) -> None:
        now = time.monotonic()
        for seq, entry in list(self._unacked.items()):
            packet, sent_at, tries = entry
            if now - sent_at < self.limits.resend_after:
                continue
            if tries >= self.limits.resend_tries:
                del self._unacked[seq]
                self._note("lost", f"reliable packet {seq} was not acknowledged after {tries} sends; gave up")
                continue
            packet.resent = True
            packet.acks = []
            entry[1], entry[2] = now, tries + 1
            self._write(packet)
            self.stats["resent"] += 1

    # -- receiving ------------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr[:2] != self.address:
            self._note("stranger", f"a datagram from {addr[0]}:{addr[1]}, not the simulator; dropped")
            return
        now = time.monotonic()
        start, packets, malformed = self._window
        if now - start >= 1.0:
            start, packets, malformed = now, 0, 0
        packets += 1
        self._window = (start, packets, malformed)
        if packets > self.limits.max_packets_per_second:
            self._note("flood", f"more than {self.limits.max_packets_per_second} packets in a second; dropping")
            return
        self.last_received = now
        if self.recorder is not None:
            self.recorder(data)
        try:
            packet = decode_packet(data)
        except PacketError as exc:
            self._malformed(f"packet refused: {exc}")
            return
        self.stats["received"] += 1
        for seq in packet.acks:
            self._acked(seq)
        if packet.reliable:
            if len(self._pending_acks) >= self.limits.max_pending_acks:
                self._pending_acks.popitem(last=False)
                self._note("ack-backlog", "too many acks owed; the oldest is dropped (the simulator resends)")
            self._pending_acks[packet.sequence] = None
        if packet.sequence in self._seen:
            self.stats["duplicates"] += 1
            return
        self._seen[packet.sequence] = None
        if len(self._seen) > self.limits.remembered:
            self._seen.popitem(last=False)
        try:
            message = self.codec.decode(packet.body)
        except UnknownMessage as exc:
            self.stats["unknown"] += 1
            self._note(f"unknown:{exc.wire}", f"{exc}; skipped")
            return
        except DecodeError as exc:
            self._malformed(f"message refused: {exc}")
            return
        self._handle(message)

    def _malformed(self, reason: str) -> None:
        self.stats["malformed"] += 1
        start, packets, malformed = self._window
        self._window = (start, packets, malformed + 1)
        self._note("malformed", f"from {self.address[0]}:{self.address[1]}: {reason}")
        if malformed + 1 > self.limits.max_malformed_per_second:
            self.close(f"more than {self.limits.max_malformed_per_second} malformed packets in a second "
                       f"(last: {reason})")

    def _acked(self, seq: int) -> None:
        if self._unacked.pop(seq, None) is not None:
            self._recently_acked[seq] = None
            if len(self._recently_acked) > 256:
                self._recently_acked.popitem(last=False)
        elif seq in self._recently_acked:
            self.stats["duplicate_acks"] += 1         # a resend crossed its ack: both get acked
        else:
            self.stats["stray_acks"] += 1
            self._note("stray-ack", f"an ack for packet {seq}, which is not waiting for one; ignored")

    def _handle(self, message: Message) -> None:
        name = message.name
        if name == "PacketAck":
            for item in message.blocks["Packets"]:
                self._acked(item["ID"])
        elif name == "StartPingCheck":
            ping = message.block("PingID")
            self.send("CompletePingCheck", {"PingID": [{"PingID": ping["PingID"]}]})
        elif name == "LogoutReply" and self._logout_reply is not None:
            self._logout_reply.set()
        self.stats[name] += 1
        try:
            self.on_message(message)
        except Exception:  # a consumer's bug must not take the circuit down silently
            log.exception("handling %s from %s:%d failed", name, *self.address)

    def _note(self, kind: str, text: str) -> None:
        seen = self._logged[kind]
        self._logged[kind] += 1
        self.stats[kind.split(":")[0]] += 1 if kind in ("stranger", "flood", "lost", "unacked") else 0
        if seen == 0 or seen % LOG_EVERY == 0:
            log.warning("opensim %s:%d: %s%s", *self.address, text, f" ({seen + 1} times)" if seen else "")
