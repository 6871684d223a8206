"""Speech bubbles: an NPC's words, as they stream in, on a billboarded text node above its head.
A Panda3D TextNode in the scene graph works the same with a window, offscreen or headless."""
from __future__ import annotations

from typing import TYPE_CHECKING

from panda3d.core import NodePath, TextNode

if TYPE_CHECKING:
    from engine.core.world import World

HEIGHT = 2.3
WRAP = 16.0


class SpeechBubbles:
    """A SpeechListener (``ai.npc_system``) that draws each NPC's current line above it."""

    def __init__(self, world: "World") -> None:
        self.world = world
        self._nodes: dict[int, NodePath] = {}
        self._text: dict[int, str] = {}

    def _bubble(self, entity: int) -> TextNode | None:
        if not self.world.exists(entity):
            return None
        path = self._nodes.get(entity)
        if path is None or path.isEmpty():
            text = TextNode(f"speech-{entity}")
            text.setAlign(TextNode.ACenter)
            text.setWordwrap(WRAP)
            text.setCardColor(1, 1, 1, 0.85)
            text.setCardAsMargin(0.3, 0.3, 0.2, 0.2)
            text.setCardDecal(True)  # the letters drawn over the card, not fighting it for depth
            text.setTextColor(0.1, 0.1, 0.1, 1)
            path = self.world.node(entity).attachNewNode(text)
            path.setPos(0, 0, HEIGHT)
            path.setScale(0.25)
            path.setBillboardPointEye()
            path.setLightOff()
            path.setDepthOffset(1)
            self._nodes[entity] = path
        return path.node()  # type: ignore[return-value]

    def text_of(self, entity: int) -> str:
        """What the bubble shows now ('' when none)."""
        return self._text.get(entity, "")

    def word(self, entity: int, word: str) -> None:
        self._show(entity, (self._text.get(entity, "") + " " + word).strip())

    def line(self, entity: int, text: str) -> None:
        if text:
            self._show(entity, text)
        else:
            self.clear(entity)

    def clear(self, entity: int) -> None:
        self._text.pop(entity, None)
        path = self._nodes.pop(entity, None)
        if path is not None and not path.isEmpty():
            path.removeNode()

    def _show(self, entity: int, text: str) -> None:
        bubble = self._bubble(entity)
        if bubble is not None:
            self._text[entity] = text
            bubble.setText(text)
