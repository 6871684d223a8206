"""The visited region's chat panel: local chat and instant messages on screen, and a line to type.

A ``ChatWindow`` (engine.ui) in the bottom-left corner that stays on screen, faded, with the
last lines heard (``RegionSession.heard``: local chat as ``Name: text``, IMs as ``[IM] Name:
text`` and ``[IM to Name] text``), teleport results and the answers to commands. The ``chat``
action (Enter or T) gives it the keyboard; Enter sends the line through ``chat_commands``
(chat, ``/im``, ``/tp``, ``/sit``, ``/stand``, ``/help``...), Esc gives the keyboard back.
While typing the avatar gets neutral controls, so W typed into the panel does not walk.
"""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from engine.ui.chat_window import ChatWindow
from netcode.opensim.chat_commands import run_line
from netcode.opensim.region import Heard

if TYPE_CHECKING:
    from netcode.opensim.region import RegionSession

LINES = 6


def shown(line: Heard) -> str:
    """How one heard line reads in the panel."""
    if line.kind == "im":
        return f"[IM] {line.name}: {line.text}"
    if line.kind == "im_sent":
        return f"[IM to {line.name}] {line.text}"
    if line.kind == "notice":
        return f"* {line.text}"
    return f"{line.name}: {line.text}"


class RegionChatPanel:
    """The chat panel of one visit, over the World its App shows (see the module doc)."""

    def __init__(self, base: Any, session: "RegionSession") -> None:
        self.session = session
        self.lines: deque[str] = deque(maxlen=LINES)
        self._seen = session.heard_count
        self._travel = (session.travel.state, session.travel.teleports)
        self.window = ChatWindow(base, session.world, self.send, lines=LINES, log_when_closed=True, width=1.9)
        self.window.on_tick = self.refresh
        self.window.opener = self.open
        self.refresh(force=True)

    @property
    def is_open(self) -> bool:
        return self.window.is_open

    def open(self) -> None:
        self.window.open()
        self.refresh(force=True)

    def close(self) -> None:
        self.window.close()
        self.refresh(force=True)

    def send(self, line: str) -> str:
        """A typed line: chat or a command (``chat_commands.run_line``); its notice is shown and returned."""
        notice = run_line(self.session, line)
        if notice:
            self.notice(notice)
        return notice

    def notice(self, text: str) -> None:
        self.lines.append(shown(Heard("notice", "", text)))
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        """Take in what was heard since the last refresh (and teleport results); redraw if anything came."""
        session = self.session
        new = min(session.heard_count - self._seen, len(session.heard))
        self._seen = session.heard_count
        for line in list(session.heard)[len(session.heard) - new:] if new > 0 else ():
            self.lines.append(shown(line))
        travel = session.travel
        if (travel.state, travel.teleports) != self._travel:
            self._travel = (travel.state, travel.teleports)
            if travel.state == "arrived" and travel.arrived_at is not None:
                x, y, z = travel.arrived_at
                self.lines.append(shown(Heard("notice", "", f"teleported to ({x:.0f}, {y:.0f}, {z:.0f})")))
            elif travel.state == "failed":
                self.lines.append(shown(Heard("notice", "", f"the teleport failed: {travel.reason}")))
            force = True
        if new > 0 or force:
            where = session.region_name or "the region"
            title = ("Say something, or /help  (Enter: send, Esc: close)" if self.is_open
                     else f"Local chat in {where}  (Enter or T: talk)")
            self.window.show(title, self.lines)

    def shown_text(self) -> str:
        return self.window.shown_text()

    def destroy(self) -> None:
        self.window.destroy()
