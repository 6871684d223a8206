"""Typing into an in-game text box: a gate that hands the game neutral input while the player
types, and the cleaning a typed (or pasted) line gets before anything else reads it.

Chat boxes of every kind use these (the NPC chat box, a visited region's chat panel): while a
box has the keyboard, W typed into it must not walk the player, and the key that closed the box
is not a game key either.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.input.sources import NEUTRAL

if TYPE_CHECKING:
    from engine.input.sources import Frame, InputSource

MAX_LINE = 200             # characters a typed line may have by default


def clean_line(text: str, limit: int = MAX_LINE) -> str:
    """A typed line as others will read it: printable characters only (control characters,
    newlines and escapes become spaces), whitespace folded, at most ``limit`` characters. A
    100 KB paste is cut before anything else looks at it."""
    text = text[: limit * 4]
    kept = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(kept.split())[:limit].strip()


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
