"""LLUDP packets: the 6-byte header, zero-coding (both ways) and appended acks.

    byte 0     flags: 0x80 zero-coded, 0x40 reliable, 0x20 resent, 0x10 acks appended
    bytes 1-4  sequence number (big-endian)
    byte 5     length of an extra header that follows (skipped)
    body       message number and blocks, zero-coded when the flag says so
    acks       (when flagged) big-endian U32 sequence numbers, then their count in the last byte

Zero-coding replaces each run of zero bytes by 0x00 and the run's length. Decoding stops with
``PacketError`` once the output would pass ``MAX_BODY`` bytes (an expansion bomb of 0x00 0xFF
pairs cannot make more than that), and a packet larger than ``MAX_WIRE`` is refused unread.
"""
from __future__ import annotations

from dataclasses import dataclass, field

FLAG_ZEROCODED = 0x80
FLAG_RELIABLE = 0x40
FLAG_RESENT = 0x20
FLAG_ACK = 0x10
HEADER_SIZE = 6
MAX_WIRE = 4096          # bytes on the wire (the Second Life viewer uses a 1200-byte MTU)
MAX_BODY = 8192          # bytes of a body after zero-decoding (the Linden message system's buffer)
MAX_APPENDED_ACKS = 255


class PacketError(ValueError):
    """A datagram that is not a well-formed packet: says what was expected."""


@dataclass
class Packet:
    """One packet: header flags and sequence, the (zero-decoded) body and the acks appended to it."""

    sequence: int
    body: bytes
    reliable: bool = False
    zerocoded: bool = False
    resent: bool = False
    acks: list[int] = field(default_factory=list)


_ZEROS = [bytes(n) for n in range(256)]


def zero_decode(data: bytes, start: int = 0, end: int | None = None, budget: int = MAX_BODY) -> bytes:
    """Expand a zero-coded span; raises PacketError past ``budget`` bytes, on a dangling 0x00 or on
    a run length of 0 (no encoder writes one)."""
    span = data[start:end]
    parts = span.split(b"\0")
    rest = parts[1:]
    if not rest:
        if len(span) > budget:
            raise PacketError(f"zero-coding expands past {budget} bytes")
        return span
    if not all(rest):
        raise PacketError("zero-coding has 0x00 with no run length (or a run of 0)")
    if len(span) + 253 * len(rest) > budget and len(span) - 2 * len(rest) + sum([p[0] for p in rest]) > budget:
        raise PacketError(f"zero-coding expands past {budget} bytes")
    zeros = _ZEROS
    return parts[0] + b"".join([zeros[p[0]] + p[1:] for p in rest])


def zero_encode(body: bytes) -> bytes:
    """Zero-code a body (runs of zeros become 0x00 and a length of at most 255)."""
    out = bytearray()
    pos, size = 0, len(body)
    while pos < size:
        zero = body.find(b"\0", pos)
        if zero < 0:
            out += body[pos:]
            break
        out += body[pos:zero]
        run = zero
        while run < size and body[run] == 0 and run - zero < 255:
            run += 1
        out += bytes((0, run - zero))
        pos = run
    return bytes(out)


def decode_packet(data: bytes) -> Packet:
    """Parse one datagram; raises PacketError naming what is wrong."""
    size = len(data)
    if size > MAX_WIRE:
        raise PacketError(f"a packet of at most {MAX_WIRE} bytes, got {size}")
    if size < HEADER_SIZE + 1:
        raise PacketError(f"a packet of at least {HEADER_SIZE + 1} bytes, got {size}")
    flags = data[0]
    sequence = int.from_bytes(data[1:5], "big")
    start = HEADER_SIZE + data[5]
    end = size
    acks: list[int] = []
    if flags & FLAG_ACK:
        count = data[end - 1]
        end -= 1 + 4 * count
        if end < start + 1:
            raise PacketError(f"{count} appended acks do not fit in a packet of {size} bytes")
        acks = [int.from_bytes(data[i:i + 4], "big") for i in range(end, end + 4 * count, 4)]
    if start >= end:
        raise PacketError(f"an extra header of {data[5]} bytes leaves no body in {size} bytes")
    body = zero_decode(data, start, end) if flags & FLAG_ZEROCODED else bytes(data[start:end])
    return Packet(sequence, body, bool(flags & FLAG_RELIABLE), bool(flags & FLAG_ZEROCODED),
                  bool(flags & FLAG_RESENT), acks)


def encode_packet(packet: Packet) -> bytes:
    """The datagram for a packet (the body zero-coded when ``zerocoded`` and it is shorter so)."""
    body = packet.body
    flags = 0
    if packet.zerocoded:
        coded = zero_encode(body)
        if len(coded) < len(body):
            body, flags = coded, FLAG_ZEROCODED
    if packet.reliable:
        flags |= FLAG_RELIABLE
    if packet.resent:
        flags |= FLAG_RESENT
    tail = b""
    if packet.acks:
        acks = packet.acks[:MAX_APPENDED_ACKS]
        flags |= FLAG_ACK
        tail = b"".join(a.to_bytes(4, "big") for a in acks) + bytes((len(acks),))
    return bytes((flags,)) + packet.sequence.to_bytes(4, "big") + b"\0" + body + tail
