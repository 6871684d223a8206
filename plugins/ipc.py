"""The pipe between the plugin host and a sandboxed plugin: length-prefixed JSON over a Unix
socket pair.

A message is a 4-byte big-endian length and that many bytes of UTF-8 JSON holding one object.
Only JSON, never a Python object format: both sides read strict JSON (no NaN or Infinity) of at
most ``max_message`` bytes; anything else is a ``ProtocolError`` naming what was wrong, and the
host treats the other side's bytes as hostile input (``plugins.messages`` checks the shapes).
This module imports nothing of the engine: the sandbox's process uses it too.
"""
from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

HEADER = struct.Struct(">I")
MAX_MESSAGE = 1 << 20  # 1 MiB
_RECEIVE_CHUNK = 1 << 16


class ProtocolError(Exception):
    """Bytes that are not a valid message, or a message over the size limit."""


class ChannelClosed(ProtocolError):
    """The other side closed the pipe (it exited or was stopped)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # made once: building one costs more than a small message


def encode(message: dict[str, Any], max_message: int = MAX_MESSAGE) -> bytes:
    """One framed message; raises ProtocolError when it cannot be JSON or is too large."""
    try:
        body = _ENCODER.encode(message).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"a message of JSON data ({exc})") from None
    if len(body) > max_message:
        raise ProtocolError(f"a message of at most {max_message} bytes, got {len(body)}")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    """The object in one message body; raises ProtocolError."""
    try:
        data = _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ProtocolError(f"a message of UTF-8 JSON ({str(exc)[:200]})") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"a JSON object as the message, got {type(data).__name__}")
    return data


class Channel:
    """One end of the pipe. ``receive`` waits until ``deadline`` (a ``time.monotonic`` value;
    None: for ever) and raises TimeoutError past it."""

    def __init__(self, sock: socket.socket, max_message: int = MAX_MESSAGE) -> None:
        self.sock = sock
        self.max_message = max_message
        self._buffer = bytearray()

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.sock.sendall(encode(message, self.max_message))
        except (BrokenPipeError, ConnectionResetError):
            raise ChannelClosed("the other side closed the pipe") from None

    def receive(self, deadline: float | None = None) -> dict[str, Any]:
        while True:
            if len(self._buffer) >= HEADER.size:
                (length,) = HEADER.unpack_from(self._buffer)
                if length > self.max_message:
                    raise ProtocolError(f"a message of at most {self.max_message} bytes, got a header saying {length}")
                end = HEADER.size + length
                if len(self._buffer) >= end:
                    body = bytes(self._buffer[HEADER.size:end])
                    del self._buffer[:end]
                    return decode(body)
            self._fill(deadline)

    def _fill(self, deadline: float | None) -> None:
        if deadline is None:
            self.sock.settimeout(None)
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no message before the deadline")
            self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(_RECEIVE_CHUNK)
        except socket.timeout:
            raise TimeoutError("no message before the deadline") from None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ChannelClosed("the other side closed the pipe")
        self._buffer += chunk

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
