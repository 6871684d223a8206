"""What a visitor types into the region's chat panel: a line of local chat, or a command.

``run_line(session, text)`` does it and returns a notice for the panel ("" when the line was
plain chat: the region echoes that back). Commands, as Second Life viewers spell most of them:

| typed | what happens |
| --- | --- |
| ``hello`` | said in local chat (heard within 20 m); ``/say /tp`` says a line starting with a slash |
| ``/shout hello``, ``/whisper hello`` | shouted (100 m) or whispered (10 m) |
| ``/5 hello`` | said on channel 5 (heard by scripts listening there, not echoed) |
| ``/im First Last: hello`` | an instant message to an avatar in view |
| ``/tp 60 70 [30]`` | a teleport within the region (z: where the avatar is now) |
| ``/sit [local id]`` | sit on that prim, or on the nearest one within 10 m |
| ``/stand`` | stand up |
| ``/help`` | the list of commands |

Every argument is checked (numbers finite, positions inside what ``Travel`` accepts, names of
avatars in view); a bad one gives a notice saying what was expected, never an exception.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from netcode.opensim.region import SHOUT, WHISPER
from netcode.opensim.travel import TravelError

if TYPE_CHECKING:
    from netcode.opensim.region import RegionSession

HELP = ("say a line, or: /shout TEXT, /whisper TEXT, /N TEXT (channel N), /im First Last: TEXT, "
        "/tp X Y [Z], /sit [ID], /stand, /help")
SIT_REACH_M = 10.0
MAX_CHANNEL = 2**31 - 1


def run_line(session: "RegionSession", text: str) -> str:
    """Do what a typed line asks (see the module doc); the notice to show, "" for plain chat."""
    text = text.strip()
    if not text:
        return ""
    if not text.startswith("/"):
        session.say(text)
        return ""
    word, _, rest = text[1:].partition(" ")
    rest = rest.strip()
    if word.isdigit():
        channel = int(word[:10])
        if channel > MAX_CHANNEL or not rest:
            return f"/{word[:12]}: expected a channel 0-{MAX_CHANNEL} and a line to say on it"
        session.say(rest, channel)
        return f"said on channel {channel}: {rest}" if channel else ""
    command = _COMMANDS.get(word.lower())
    if command is None:
        return f"unknown command /{word[:20]}; {HELP}"
    try:
        return command(session, rest)
    except (TravelError, ValueError, LookupError) as exc:
        return f"/{word.lower()}: {exc}"


def _shout(session: "RegionSession", rest: str) -> str:
    if not rest:
        return "/shout: expected a line to shout"
    session.say(rest, chat_type=SHOUT)
    return ""


def _whisper(session: "RegionSession", rest: str) -> str:
    if not rest:
        return "/whisper: expected a line to whisper"
    session.say(rest, chat_type=WHISPER)
    return ""


def _im(session: "RegionSession", rest: str) -> str:
    name, colon, message = rest.partition(":")
    name, message = " ".join(name.split()), message.strip()
    if not colon or not name or not message:
        return "/im: expected /im First Last: message"
    to = session.find_avatar(name)
    if to is None:
        return f"/im: no avatar named {name[:100]!r} in view"
    session.send_im(to, message, name)
    return ""


def _numbers(rest: str, least: int, most: int, what: str) -> list[float]:
    parts = rest.replace(",", " ").split()
    if not least <= len(parts) <= most:
        raise ValueError(f"expected {what}")
    try:
        values = [float(p[:32]) for p in parts]
    except ValueError:
        raise ValueError(f"expected {what}, got {rest[:60]!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"expected finite numbers: {what}")
    return values


def _tp(session: "RegionSession", rest: str) -> str:
    values = _numbers(rest, 2, 3, "/tp X Y [Z] (metres in the region)")
    z = values[2] if len(values) == 3 else session.position[2]
    position = (values[0], values[1], z)
    session.travel.teleport(position)
    return f"teleporting to ({position[0]:.0f}, {position[1]:.0f}, {position[2]:.0f})"


def nearest_prim(session: "RegionSession", reach: float = SIT_REACH_M) -> int:
    """The local id of the root prim nearest our avatar within ``reach`` metres (0: none)."""
    best, best_d = 0, reach
    px, py, pz = session.position
    for local_id, state in session.mirror.states.items():
        if state.is_avatar or state.parent_id:
            continue
        x, y, z = state.position
        d = math.dist((x, y, z), (px, py, pz))
        if d <= best_d:
            best, best_d = local_id, d
    return best


def _sit(session: "RegionSession", rest: str) -> str:
    if rest:
        local_id = int(_numbers(rest, 1, 1, "/sit [a prim's local id]")[0])
    else:
        local_id = nearest_prim(session)
        if not local_id:
            return f"/sit: no prim within {SIT_REACH_M:.0f} m to sit on"
    session.travel.sit(local_id)
    return f"sitting on {session.world.name_of(session.mirror.entity_of(local_id)) or local_id}"


def _stand(session: "RegionSession", rest: str) -> str:
    session.travel.stand()
    return "standing up"


def _help(session: "RegionSession", rest: str) -> str:
    return HELP


def _say(session: "RegionSession", rest: str) -> str:
    if not rest:
        return "/say: expected a line to say"
    session.say(rest)                  # as typed, even when it starts with a slash
    return ""


_COMMANDS = {"say": _say, "shout": _shout, "whisper": _whisper, "im": _im, "tp": _tp, "teleport": _tp, "sit": _sit,
             "stand": _stand, "help": _help}
