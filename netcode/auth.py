"""Join tokens: who a player is and what they may do, signed by the server's secret (HMAC-SHA256).

A token is ``st1.<payload>.<signature>``, both parts base64url without padding. The payload is
JSON ``{"player": id, "perms": [...], "exp": unix seconds, "iat": unix seconds}``. The server
checks the signature (in constant time) before it parses anything, then the expiry; a forged,
altered, expired or malformed token is refused with a reason. Tokens are data: nothing in one is
ever run.

Permissions (``PERMISSIONS``): ``play`` (send input for one's own player), ``chat``, ``voice``,
``command`` (world commands on entities no player owns, see ``netcode.permissions``) and
``admin`` (any world command).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

from engine.core.errors import StormError

PREFIX = "st1"
PERMISSIONS = ("play", "chat", "voice", "command", "admin")
DEFAULT_PERMISSIONS = ("play", "chat", "voice")
PLAYER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_TOKEN_BYTES = 1024
MIN_SECRET_BYTES = 16


class AuthError(StormError):
    """A token the server refuses; the message says why (sent to the peer in the close reason)."""


@dataclass(frozen=True)
class Grant:
    """What a verified token grants: the player id, its permissions and when it expires."""

    player: str
    permissions: frozenset[str]
    expires: float

    def allows(self, permission: str) -> bool:
        return permission in self.permissions or "admin" in self.permissions


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise AuthError("the token is not base64url text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """Issues and verifies tokens with one secret (keep it on the server; 16 bytes or more)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = bytes(secret)

    @classmethod
    def random(cls) -> "TokenAuthority":
        """An authority with a fresh random secret (tokens die with the process)."""
        return cls(secrets.token_bytes(32))

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, f"{PREFIX}.{payload}".encode("ascii"), hashlib.sha256).digest())

    def issue(self, player: str, permissions: tuple[str, ...] | frozenset[str] = DEFAULT_PERMISSIONS,
              ttl: float = 3600.0, now: float | None = None) -> str:
        """A token for ``player`` with ``permissions``, valid for ``ttl`` seconds."""
        if not PLAYER_ID.match(player):
            raise ValueError(f"player id {player!r}: 1-64 letters, digits, '_', '.', '-'")
        unknown = set(permissions) - set(PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permissions {sorted(unknown)}; known: {', '.join(PERMISSIONS)}")
        issued = time.time() if now is None else now
        body = {"player": player, "perms": sorted(permissions), "exp": int(issued + ttl), "iat": int(issued)}
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{PREFIX}.{payload}.{self._sign(payload)}"

    def verify(self, token: str, now: float | None = None) -> Grant:
        """The grant of a valid token; raises AuthError saying what is wrong with it."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
            raise AuthError(f"a token of at most {MAX_TOKEN_BYTES} characters")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise AuthError(f"a token of the form {PREFIX}.<payload>.<signature>")
        _, payload, signature = parts
        if not hmac.compare_digest(self._sign(payload), signature):
            raise AuthError("the token's signature does not match this server's secret (forged or altered)")
        try:
            body = json.loads(_unb64(payload).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise AuthError("the token's payload is not JSON") from None
        if not isinstance(body, dict) or set(body) != {"player", "perms", "exp", "iat"}:
            raise AuthError("a token payload with player, perms, exp and iat")
        player, perms, expires = body["player"], body["perms"], body["exp"]
        if not isinstance(player, str) or not PLAYER_ID.match(player):
            raise AuthError("a player id of 1-64 letters, digits, '_', '.', '-'")
        if not isinstance(perms, list) or not all(isinstance(p, str) and p in PERMISSIONS for p in perms):
            raise AuthError(f"permissions from {', '.join(PERMISSIONS)}")
        if isinstance(expires, bool) or not isinstance(expires, int):
            raise AuthError("an expiry in whole unix seconds")
        if expires <= (time.time() if now is None else now):
            raise AuthError(f"a token that has not expired (it expired at {expires})")
        return Grant(player, frozenset(perms), float(expires))
