"""Instant messages: ImprovedInstantMessage out (to one avatar) and in, kept apart from local chat.

An IM names its sender (AgentID, FromAgentName), its receiver (ToAgentID), a dialog (0: a
message from an avatar; typing notices 41 and 42 and the other dialogs are counted, not
shown), a session id (the viewers' convention: sender XOR receiver) and the text. Incoming
text is bounded (``MAX_TEXT`` characters, names ``MAX_NAME``) and escaped when logged: control
characters and line breaks a hostile sender puts in cannot forge log lines.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from netcode.opensim.messages import Message

log = logging.getLogger("storm.opensim")
MAX_TEXT = 1024              # characters kept of an incoming message (viewers send at most 1,023 bytes)
MAX_NAME = 100
MAX_SEND = 1000              # characters sent (the Message field is Variable 2, viewers cap at 1,024 bytes)
MESSAGE_FROM_AGENT, TYPING_START, TYPING_STOP = 0, 41, 42
MESSAGE_FROM_OBJECT, BUSY_AUTO_RESPONSE, CONSOLE_AND_CHAT_HISTORY = 19, 20, 21
SHOWN = (MESSAGE_FROM_AGENT, MESSAGE_FROM_OBJECT, BUSY_AUTO_RESPONSE, CONSOLE_AND_CHAT_HISTORY)


@dataclass(frozen=True)
class InstantMessage:
    """One instant message heard (or sent) in the visit."""

    from_id: uuid.UUID
    from_name: str
    to_id: uuid.UUID
    text: str
    dialog: int
    session: uuid.UUID
    offline: bool
    incoming: bool = True
    to_name: str = ""


def escaped(text: str, limit: int = 300) -> str:
    """Text safe for one log line: control characters (line breaks among them) as escapes, bounded."""
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:limit])
    return out + ("..." if len(text) > limit else "")


def _text(raw: Any, limit: int) -> str:
    return bytes(raw).rstrip(b"\0").decode("utf-8", "replace")[:limit]


def session_of(a: uuid.UUID, b: uuid.UUID) -> uuid.UUID:
    """The IM session id viewers and OpenSimulator use between two avatars."""
    return uuid.UUID(int=a.int ^ b.int)


def read_im(message: Message) -> InstantMessage:
    """An InstantMessage from a decoded ImprovedInstantMessage (fields bounded, not trusted)."""
    data, block = message.block("AgentData"), message.block("MessageBlock")
    return InstantMessage(data["AgentID"], _text(block["FromAgentName"], MAX_NAME), block["ToAgentID"],
                          _text(block["Message"], MAX_TEXT), int(block["Dialog"]), block["ID"],
                          bool(block["Offline"]))


def im_blocks(agent_id: uuid.UUID, session_id: uuid.UUID, to_id: uuid.UUID, text: str, from_name: str,
              position: tuple[float, float, float], dialog: int = MESSAGE_FROM_AGENT) -> dict[str, list[dict[str, Any]]]:
    """The blocks of an ImprovedInstantMessage to one avatar (text cut to ``MAX_SEND`` characters)."""
    body = text[:MAX_SEND].encode("utf-8")[:1023]
    return {"AgentData": [{"AgentID": agent_id, "SessionID": session_id}], "MessageBlock": [{
        "FromGroup": False, "ToAgentID": to_id, "ParentEstateID": 0, "RegionID": None, "Position": position,
        "Offline": 0, "Dialog": dialog, "ID": session_of(agent_id, to_id), "Timestamp": int(time.time()) & 0xFFFFFFFF,
        "FromAgentName": from_name[:MAX_NAME].encode("utf-8")[:254] + b"\0", "Message": body + b"\0",
        "BinaryBucket": b"\0"}]}


def log_im(im: InstantMessage) -> None:
    """One escaped log line: ``[im] From Name: text`` (incoming) or ``[im] to Name: text``."""
    who = escaped(im.from_name, MAX_NAME) if im.incoming else f"to {escaped(im.to_name or str(im.to_id), MAX_NAME)}"
    log.info("[im] %s: %s", who, escaped(im.text))
