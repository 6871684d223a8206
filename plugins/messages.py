"""The shapes of the messages a sandboxed plugin's process may send, checked by the host.

Every message from the child is hostile input: ``check_child_message`` returns it only when each
key has the type and size the protocol says, and raises ``MessageError`` (naming the key and
what was expected) otherwise; the host then stops the plugin. Unknown keys are dropped.

    ready     {"hooks": {name: line}, "confinement": {...}}
    result    {"id": int, "results": [any]}
    request   {"rid": int, "what": str, "args": {...}}
    log       {"level": "info"|"warning"|"error", "text": str}
    violation {"kind": "file"|"network"|"process", "message": str, "file": str, "line": int, "hook": str}
    error     {"id": int, "error": {"kind", "message", "file", "line", "hook", "traceback"}}
    stopped   {}
"""
from __future__ import annotations

import base64
from typing import Any

from plugins.hookspecs import SPECS
from plugins.reports import KINDS

MAX_TEXT = 2000
MAX_TRACEBACK = 8000
LOG_LEVELS = ("info", "warning", "error")
VIOLATIONS = ("file", "network", "process")


class MessageError(ValueError):
    """A message from a plugin's process that does not have the protocol's shape."""


def _int(message: dict[str, Any], key: str, where: str) -> int:
    value = message.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise MessageError(f"{where}.{key}: a whole number >= 0, got {str(value)[:60]}")
    return value


def _text(message: dict[str, Any], key: str, where: str, limit: int = MAX_TEXT) -> str:
    value = message.get(key, "")
    if not isinstance(value, str):
        raise MessageError(f"{where}.{key}: a string, got {type(value).__name__}")
    return value[:limit]


def _object(message: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = message.get(key)
    if not isinstance(value, dict):
        raise MessageError(f"{where}.{key}: an object, got {type(value).__name__}")
    return value


def _check_ready(message: dict[str, Any]) -> dict[str, Any]:
    hooks = _object(message, "hooks", "ready")
    for name, line in hooks.items():
        if name not in SPECS or isinstance(line, bool) or not isinstance(line, int):
            raise MessageError(f"ready.hooks: hook names of the plugin API with their lines, got {name[:60]!r}")
    confinement = _object(message, "confinement", "ready")
    gaps = confinement.get("gaps", [])
    if not isinstance(gaps, list) or not all(isinstance(g, str) for g in gaps):
        raise MessageError("ready.confinement.gaps: a list of strings")
    return {"op": "ready", "hooks": dict(hooks), "confinement": {
        "landlock_abi": confinement.get("landlock_abi") if isinstance(confinement.get("landlock_abi"), int) else 0,
        "net_namespace": confinement.get("net_namespace") is True, "seccomp": confinement.get("seccomp") is True,
        "gaps": [g[:200] for g in gaps[:20]]}}


def _check_error(message: dict[str, Any]) -> dict[str, Any]:
    error = _object(message, "error", "error")
    kind = error.get("kind")
    return {"op": "error", "id": _int(message, "id", "error"), "error": {
        "kind": kind if kind in KINDS else "raised",
        "message": _text(error, "message", "error.error"), "file": _text(error, "file", "error.error", 1000),
        "line": _int(error, "line", "error.error"), "hook": _text(error, "hook", "error.error", 100),
        "traceback": _text(error, "traceback", "error.error", MAX_TRACEBACK)}}


def check_child_message(message: dict[str, Any]) -> dict[str, Any]:
    """The message, checked and trimmed to the protocol's keys; raises MessageError."""
    op = message.get("op")
    if op == "result":
        results = message.get("results")
        if not isinstance(results, list):
            raise MessageError("result.results: a list")
        return {"op": op, "id": _int(message, "id", op), "results": results}
    if op == "request":
        what = _text(message, "what", op, 40)
        return {"op": op, "rid": _int(message, "rid", op), "what": what, "args": _object(message, "args", op)}
    if op == "log":
        level = message.get("level")
        return {"op": op, "level": level if level in LOG_LEVELS else "info", "text": _text(message, "text", op)}
    if op == "violation":
        kind = message.get("kind")
        if kind not in VIOLATIONS:
            raise MessageError(f"violation.kind: one of {', '.join(VIOLATIONS)}")
        return {"op": op, "kind": kind, "message": _text(message, "message", op),
                "file": _text(message, "file", op, 1000), "line": _int(message, "line", op),
                "hook": _text(message, "hook", op, 100)}
    if op == "error":
        return _check_error(message)
    if op == "ready":
        return _check_ready(message)
    if op == "stopped":
        return {"op": op}
    raise MessageError(f"op: one of result, request, log, violation, error, ready, stopped; got {str(op)[:40]!r}")


def encode_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Hook arguments ready for JSON: bytes become ``{"$bytes": base64}`` (the child turns them back)."""
    return {key: {"$bytes": base64.b64encode(value).decode("ascii")} if isinstance(value, (bytes, bytearray)) else value
            for key, value in kwargs.items()}
