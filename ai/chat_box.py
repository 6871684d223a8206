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

from direct.gui.DirectGui import DGG, DirectEntry, DirectFrame
from panda3d.core import TextNode

from ai.actions.registry import distance_between
from ai.components import NpcBrain
from engine.camera.components import Camera, active_camera
from engine.core.system import ORDER_INPUT, System
from engine.input import InputSystem
from engine.input.actions import NEUTRAL
from engine.physics.components import CharacterController

if TYPE_CHECKING:
    from ai.service import AiService
    from engine.core.world import World
    from engine.input.sources import Frame, InputSource

ACTION = "chat"            # the input action that opens the box (base:input/default.actions.json)
MAX_LINE = 200             # characters a player line may have (typed or pasted)
LOG_LINES = 6              # lines of conversation the box shows
REACH_M = 15.0             # how far away an NPC may be to be talked to
WRAP = 31.0                # characters per line in the log


def clean_line(text: str, limit: int = MAX_LINE) -> str:
    """A player's line as an NPC will hear it: printable characters only (control characters,
    newlines and escapes become spaces), whitespace folded, at most ``limit`` characters. A
    100 KB paste is cut before anything else looks at it."""
    text = text[: limit * 4]
    kept = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(kept.split())[:limit].strip()


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


class TypingGate:
    """An input source in front of the game's: hands the game neutral input while the player is
    typing, and for one more tick after (the key that closed the box is not a game key). It keeps
    reading the source it stands in front of, so keys typed are not delivered later."""

    def __init__(self, inner: "InputSource | None") -> None:
        self.inner = inner
        self.typing = False
        self._swallow = 0

    @property
    def finished(self) -> bool:
        return bool(getattr(self.inner, "finished", False))

    def poll(self) -> "Frame":
        frame = self.inner.poll() if self.inner is not None else NEUTRAL
        if self.typing:
            return NEUTRAL
        if self._swallow:
            self._swallow -= 1
            return NEUTRAL
        return frame

    def release(self) -> None:
        self.typing = False
        self._swallow = 1


class ChatKeys(System):
    """Right after input each tick: the ``chat`` action opens the box (the tick sees presses that
    a frame between two ticks would miss)."""

    name = "chat_box"
    order = ORDER_INPUT + 1

    def __init__(self, box: "ChatBox") -> None:
        self.box = box

    def update(self, world: "World", dt: float) -> None:
        actions = world.services.get("input")
        if actions is not None and not self.box.is_open and actions.pressed(ACTION):
            self.box.open()


class ChatBox:
    """The chat box of one world shown by one ShowBase (see the module doc). ``close_all`` takes
    it down again (the world's input source is put back)."""

    def __init__(self, base: Any, world: "World", service: "AiService") -> None:
        self.base, self.world, self.service = base, world, service
        self.target = 0
        self.log: "collections.deque[str]" = collections.deque(maxlen=LOG_LINES)
        self._reply: dict[int, str] = {}     # entity -> its line while it streams in
        self._input = world.system(InputSystem)
        self._source_before = self._input.source if self._input is not None else None
        self.gate = TypingGate(self._source_before)
        if self._input is not None:
            self._input.set_source(self.gate)
        self._npcs = service.system_of(world)
        self._npcs.listeners.append(self)
        self._keys = world.add_system(ChatKeys(self))
        self._build()

    # -- widgets --------------------------------------------------------------------------------
    def _build(self) -> None:
        parent = getattr(self.base, "a2dBottomLeft", None) or self.base.aspect2d
        self.frame = DirectFrame(parent=parent, frameColor=(0.05, 0.06, 0.08, 0.72), frameSize=(0, 1.5, 0, 0.66),
                                 pos=(0.04, 0, 0.04), state=DGG.NORMAL)
        self.title = TextNode("chat-title")
        self.title.setTextColor(1.0, 0.85, 0.45, 1)
        title = self.frame.attachNewNode(self.title)
        title.setPos(0.04, 0, 0.59)
        title.setScale(0.048)
        self.text = TextNode("chat-log")
        self.text.setWordwrap(WRAP)
        self.text.setTextColor(0.95, 0.95, 0.95, 1)
        log = self.frame.attachNewNode(self.text)
        log.setPos(0.04, 0, 0.51)
        log.setScale(0.045)
        self.entry = DirectEntry(parent=self.frame, scale=0.045, pos=(0.04, 0, 0.05), width=31, numLines=1, overflow=1,
                                 command=self.send, focus=0, frameColor=(1, 1, 1, 0.9),
                                 text_fg=(0.05, 0.05, 0.05, 1), initialText="")
        self.entry.guiItem.setMaxChars(MAX_LINE)
        self.frame.hide()

    @property
    def is_open(self) -> bool:
        return not self.frame.isHidden()

    def shown_text(self) -> str:
        """What the box shows now: the title line, then the conversation (for tests and tools)."""
        return self.title.getText() + "\n" + self.text.getText()

    def _render(self) -> None:
        lines = list(self.log)
        for entity, words in self._reply.items():
            if entity == self.target and words:
                lines.append(f"{self.world.name_of(entity) or 'NPC'}: {words} ...")
        self.text.setText("\n".join(lines[-LOG_LINES:]))
        who = self.world.name_of(self.target) if self.target and self.world.exists(self.target) else ""
        self.title.setText(f"Talking to {who}  (Enter: say, Esc: close)" if who
                           else "Nobody is near enough to hear you  (Esc: close)")

    # -- opening, sending, closing --------------------------------------------------------------
    def open(self, target: int = 0) -> None:
        """Show the box, talking to ``target`` (0: the nearest NPC), with the keyboard in its entry."""
        player = local_player(self.world)
        self.target = target if target and self.world.exists(target) else nearest_npc(self.world, player)
        self.gate.typing = True
        self.frame.show()
        self.entry.enterText("")
        self.entry["focus"] = 1
        self.base.accept("escape", self.close)
        self._render()

    def send(self, text: str) -> bool:
        """Say a typed line to the NPC the box talks to (cleaned and bounded first); True when an
        NPC heard it. The answer arrives later through ``line``."""
        line = clean_line(str(text))
        if self.is_open:
            self.entry.enterText("")
            self.entry["focus"] = 1   # Enter took the focus: keep typing
        if not line:
            return False
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
        if not self.is_open:
            return
        self.entry["focus"] = 0
        self.frame.hide()
        self.base.ignore("escape")
        self.gate.release()

    def destroy(self) -> None:
        """Take the box down: listeners, the ChatKeys system, and the world's own input source back."""
        self.close()
        if self in self._npcs.listeners:
            self._npcs.listeners.remove(self)
        if self._keys in self.world.systems():
            self.world.remove_system(self._keys)
        if self._input is not None and self._input.source is self.gate:
            self._input.set_source(self.gate.inner)
        self.frame.destroy()

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
