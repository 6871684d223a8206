"""Logging in to an OpenSimulator grid: XML-RPC ``login_to_simulator``.

The request is built and the answer parsed by the standard library's ``xmlrpc.client``; the
HTTP exchange is bounded (a timeout, at most ``MAX_REPLY`` bytes read), and every value the
grid answers with is checked for its type before it is used. The password goes over as ``$1$``
and its MD5, as every viewer sends it.
"""
from __future__ import annotations

import hashlib
import ipaddress
import urllib.error
import urllib.request
import uuid
import xmlrpc.client
from dataclasses import dataclass
from typing import Any

from engine.core.errors import StormError

MAX_REPLY = 4 * 1024 * 1024
CHANNEL = "Storm"
VERSION = "Storm 0.1"


class LoginError(StormError):
    """The grid refused the login, or answered something that is not a login reply."""


@dataclass(frozen=True)
class LoginReply:
    """What a successful login says: who we are, which simulator to open a circuit to, the seed capability."""

    agent_id: uuid.UUID
    session_id: uuid.UUID
    secure_session_id: uuid.UUID
    circuit_code: int
    sim_ip: str
    sim_port: int
    seed_capability: str
    region_x: int
    region_y: int
    first_name: str
    last_name: str
    message: str

    @property
    def region_handle(self) -> int:
        return (self.region_x << 32) | self.region_y


def password_hash(password: str) -> str:
    """``$1$`` followed by the MD5 of the password, in hex (the viewers' form)."""
    return "$1$" + hashlib.md5(password.encode("utf-8")).hexdigest()


def login_request(first: str, last: str, password: str, start: str = "last") -> bytes:
    params = {"first": first, "last": last, "passwd": password_hash(password), "start": start,
              "channel": CHANNEL, "version": VERSION, "platform": "Lin", "mac": "00:00:00:00:00:00",
              "id0": "00000000-0000-0000-0000-000000000000", "agree_to_tos": "true", "read_critical": "true",
              "options": []}
    return xmlrpc.client.dumps((params,), "login_to_simulator").encode("utf-8")


def login(uri: str, first: str, last: str, password: str, timeout: float = 30.0) -> LoginReply:
    """Log in; raises LoginError with the grid's own reason or what was wrong with its answer."""
    if not uri.startswith(("http://", "https://")):
        raise LoginError(f"{uri}: a login URI starting with http:// or https://")
    request = urllib.request.Request(uri, data=login_request(first, last, password),
                                     headers={"Content-Type": "text/xml"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the user's grid)
            raw = response.read(MAX_REPLY + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise LoginError(f"{uri}: cannot reach the login service: {getattr(exc, 'reason', exc)}") from None
    if len(raw) > MAX_REPLY:
        raise LoginError(f"{uri}: the login reply is larger than {MAX_REPLY} bytes")
    return parse_login_reply(raw, uri)


def parse_login_reply(raw: bytes, uri: str = "login") -> LoginReply:
    try:
        (reply,), _ = xmlrpc.client.loads(raw)
    except (xmlrpc.client.Fault, ValueError, TypeError) as exc:
        raise LoginError(f"{uri}: not an XML-RPC login reply: {str(exc)[:200]}") from None
    except Exception as exc:  # expat raises its own error types for malformed XML
        raise LoginError(f"{uri}: not an XML-RPC login reply ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(reply, dict):
        raise LoginError(f"{uri}: expected a struct as the login reply, got {type(reply).__name__}")
    if reply.get("login") != "true":
        reason = reply.get("message") or reply.get("reason") or "no reason given"
        raise LoginError(f"{uri}: the grid refused the login: {str(reason)[:300]}")

    def text(key: str, required: bool = True) -> str:
        value = reply.get(key, "")
        if not isinstance(value, str) or (required and not value):
            raise LoginError(f"{uri}: login reply field {key!r}: expected text, got {str(value)[:80]!r}")
        return value[:1024]

    def number(key: str, low: int, high: int) -> int:
        value: Any = reply.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise LoginError(f"{uri}: login reply field {key!r}: expected a whole number from {low} to {high}, "
                             f"got {str(value)[:80]!r}")
        return value

    def ident(key: str) -> uuid.UUID:
        try:
            return uuid.UUID(text(key))
        except ValueError:
            raise LoginError(f"{uri}: login reply field {key!r}: expected a UUID") from None

    sim_ip = text("sim_ip")
    try:
        ipaddress.IPv4Address(sim_ip)
    except ValueError:
        raise LoginError(f"{uri}: login reply field 'sim_ip': expected an IPv4 address, got {sim_ip[:80]!r}") from None
    return LoginReply(
        agent_id=ident("agent_id"), session_id=ident("session_id"), secure_session_id=ident("secure_session_id"),
        circuit_code=number("circuit_code", 0, 0xFFFFFFFF), sim_ip=sim_ip, sim_port=number("sim_port", 1, 65535),
        seed_capability=text("seed_capability", required=False), region_x=number("region_x", 0, 0xFFFFFFFF),
        region_y=number("region_y", 0, 0xFFFFFFFF), first_name=text("first_name", False).strip('"'),
        last_name=text("last_name", False).strip('"'), message=text("message", False))
