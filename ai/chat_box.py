"""The in-game chat box: the player presses the ``chat`` action (Enter or T by default), types a
line to the nearest NPC, and reads its answer, here and in the NPC's speech bubble; Esc closes it.

While the box has the keyboard the game gets neutral input (``TypingGate`` stands in front of the
local player's input source), so W typed into the box does not walk the player. What the player
types is bounded (``MAX_LINE`` characters, printable only) before the AI service hears it; the
NPC's words arrive through the NpcSystem's speech listeners (``word``, ``line``, ``clear``) after
the speech filter, streamed word by word. Nothing here waits for a model: ``AiService.talk``
returns at once and the answer comes back at a later tick start.

Panda3D's DirectGUI draws it on ``aspect2d``, the same with a window or offscreen (a screenshot
shows it); keys reach the entry only in a window.
"""
from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

from ai.actions.registry import distance_between
from ai.components import NpcBrain
from engine.camera.components import Camera, active_camera
from engine.input.typing import MAX_LINE, TypingGate, clean_line  # noqa: F401 - MAX_LINE, TypingGate: re-exported
from engine.physics.components import CharacterController
from engine.ui.chat_window import ChatWindow

if TYPE_CHECKING:
    from ai.service import AiService
    from engine.core.world import World

LOG_LINES = 6              # lines of conversation the box shows
REACH_M = 15.0             # how far away an NPC may be to be talked to


def local_player(world: "World") -> int:
    """The entity the local player plays: the active camera's target, else the first character
    controller, else 0 (someone unseen)."""
    camera = active_camera(world)
    if camera:
        target = world.get(camera, Camera).target
        if target and world.exists(target):
            return target
    rows = world.query(CharacterController)
    return rows[0][0] if rows else 0


def nearest_npc(world: "World", player: int, reach: float = REACH_M) -> int:
    """The NPC closest to ``player`` within ``reach`` metres and its own hearing (0: none)."""
    best, best_d = 0, float("inf")
    for eid, brain in world.query(NpcBrain):
        if eid == player:
            continue
        d = distance_between(world, eid, player) if player and world.exists(player) else 0.0
        if d <= min(reach, max(brain.hearing, 0.1)) and d < best_d:
            best, best_d = eid, d
    return best


class ChatBox:
    """The chat box of one world shown by one ShowBase (see the module doc): a ``ChatWindow``
    talking to the nearest NPC. ``destroy`` takes it down again (the world's input source is put back)."""

    def __init__(self, base: Any, world: "World", service: "AiService") -> None:
        self.base, self.world, self.service = base, world, service
        self.target = 0
        self.log: "collections.deque[str]" = collections.deque(maxlen=LOG_LINES)
        self._reply: dict[int, str] = {}     # entity -> its line while it streams in
        self.window = ChatWindow(base, world, self._say, lines=LOG_LINES)
        self.window.opener = self.open
        self.gate = self.window.gate
        self._npcs = service.system_of(world)
        self._npcs.listeners.append(self)

    @property
    def entry(self) -> Any:
        return self.window.entry

    @property
    def is_open(self) -> bool:
        return self.window.is_open

    def shown_text(self) -> str:
        """What the box shows now: the title line, then the conversation (for tests and tools)."""
        return self.window.shown_text()

    def _render(self) -> None:
        lines = list(self.log)
        for entity, words in self._reply.items():
            if entity == self.target and words:
                lines.append(f"{self.world.name_of(entity) or 'NPC'}: {words} ...")
        who = self.world.name_of(self.target) if self.target and self.world.exists(self.target) else ""
        self.window.show(f"Talking to {who}  (Enter: say, Esc: close)" if who
                         else "Nobody is near enough to hear you  (Esc: close)", lines)

    # -- opening, sending, closing --------------------------------------------------------------
    def open(self, target: int = 0) -> None:
        """Show the box, talking to ``target`` (0: the nearest NPC), with the keyboard in its entry."""
        player = local_player(self.world)
        self.target = target if target and self.world.exists(target) else nearest_npc(self.world, player)
        self.window.open()
        self._render()

    def send(self, text: str) -> bool:
        """Say a typed line to the NPC the box talks to (cleaned and bounded first); True when an
        NPC heard it. The answer arrives later through ``line``."""
        line = clean_line(str(text))
        self.window.send("")                 # the entry empties and keeps the focus
        return self._say(line) if line else False

    def _say(self, line: str) -> bool:
        if not self.target or not self.world.exists(self.target):
            self.target = nearest_npc(self.world, local_player(self.world))
        self.log.append(f"You: {line}")
        heard = self.service.talk(self.world, self.target, line, local_player(self.world)) if self.target else []
        if not heard:
            self.log.append("(nobody heard you)")
        self._render()
        return bool(heard)

    def close(self) -> None:
        """Hide the box and give the keyboard back to the game."""
        self.window.close()

    def destroy(self) -> None:
        """Take the box down: listeners, the window and the world's own input source back."""
        if self in self._npcs.listeners:
            self._npcs.listeners.remove(self)
        self.window.destroy()

    # -- what NPCs say (an NpcSystem speech listener) -------------------------------------------
    def word(self, entity: int, word: str) -> None:
        self._reply[entity] = (self._reply.get(entity, "") + " " + word).strip()
        if entity == self.target and self.is_open:
            self._render()

    def line(self, entity: int, text: str) -> None:
        self._reply.pop(entity, None)
        if text and entity == self.target:
            self.log.append(f"{self.world.name_of(entity) or 'NPC'}: {text}")
        if self.is_open:
            self._render()

    def clear(self, entity: int) -> None:
        self._reply.pop(entity, None)
