"""A chat window: a panel with a title, the last lines of a conversation and a one-line entry.

The ``chat`` input action (Enter or T by default) opens the entry, Enter sends the typed line
(cleaned and bounded by ``engine.input.typing.clean_line``) to ``on_send``, Esc closes it.
While the entry has the keyboard the game gets neutral input: the window puts a ``TypingGate``
in front of the world's input source and takes it away again in ``destroy``. With
``log_when_closed`` the conversation stays on screen (faded) while nobody types, as a region's
local chat does; otherwise the whole panel hides.

What the window shows is set from outside (``show``): it reads nothing itself. Lines are made
printable before they are drawn (a sender cannot draw control characters), wrapped, and only
the last ``lines`` are kept.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from direct.gui.DirectGui import DGG, DirectEntry, DirectFrame
from panda3d.core import TextNode

from engine.core.system import ORDER_INPUT, System
from engine.input import InputSystem
from engine.input.typing import MAX_LINE, TypingGate, clean_line

if TYPE_CHECKING:
    from engine.core.world import World

ACTION = "chat"            # the input action that opens the entry (base:input/default.actions.json)
WRAP = 31.0                # characters per line in the log
SHOWN_LINE = 300           # characters of one received line drawn at most


def drawable(node: TextNode, text: str, known: dict[str, bool]) -> str:
    """``text`` with each character ``node``'s font cannot draw as ``?``: Panda3D writes a warning
    for every such character each time the text is set, so a sender's line of emoji or of a
    script the font lacks would flood stderr at every refresh. ``known`` caches the answers."""
    out = []
    for ch in text:
        drawn = known.get(ch)
        if drawn is None:
            if len(known) >= 4096:
                known.clear()
            drawn = known[ch] = ch == "\n" or node.hasCharacter(ch)
        out.append(ch if drawn else "?")
    return "".join(out)


class ChatKeys(System):
    """Right after input each tick: the ``chat`` action opens the window (the tick sees presses
    that a frame between two ticks would miss); then the window's ``on_tick`` runs."""

    name = "chat_window"
    order = ORDER_INPUT + 1

    def __init__(self, window: "ChatWindow") -> None:
        self.window = window

    def update(self, world: "World", dt: float) -> None:
        actions = world.services.get("input")
        if actions is not None and not self.window.is_open and actions.pressed(ACTION):
            self.window.opener()
        if self.window.on_tick is not None:
            self.window.on_tick()


class ChatWindow:
    """A chat panel over one world shown by one ShowBase (see the module doc)."""

    def __init__(self, base: Any, world: "World", on_send: Callable[[str], None], *, lines: int = 6,
                 log_when_closed: bool = False, max_chars: int = MAX_LINE, width: float = 1.5) -> None:
        self.base, self.world, self.on_send = base, world, on_send
        self.lines, self.log_when_closed, self.max_chars, self.width = lines, log_when_closed, max_chars, width
        self.opener: Callable[[], None] = self.open        # what the chat action calls (a user may pick first)
        self.on_tick: Callable[[], None] | None = None     # called each tick (to refresh what is shown)
        self._input = world.system(InputSystem)
        self.gate = TypingGate(self._input.source if self._input is not None else None)
        if self._input is not None:
            self._input.set_source(self.gate)
        self._keys = world.add_system(ChatKeys(self))
        self._glyphs: dict[str, bool] = {}                 # characters seen: whether the font draws them
        self._build()
        self._typing = False
        self._closed_look()

    def _build(self) -> None:
        parent = getattr(self.base, "a2dBottomLeft", None) or self.base.aspect2d
        height = 0.2 + 0.075 * self.lines
        self.frame = DirectFrame(parent=parent, frameColor=(0.05, 0.06, 0.08, 0.72),
                                 frameSize=(0, self.width, 0, height), pos=(0.04, 0, 0.04), state=DGG.NORMAL)
        self.title = TextNode("chat-title")
        self.title.setTextColor(1.0, 0.85, 0.45, 1)
        title = self.frame.attachNewNode(self.title)
        title.setPos(0.04, 0, height - 0.07)
        title.setScale(0.048)
        self.text = TextNode("chat-log")
        self.text.setWordwrap(WRAP * self.width / 1.5)
        self.text.setTextColor(0.95, 0.95, 0.95, 1)
        log = self.frame.attachNewNode(self.text)
        log.setPos(0.04, 0, height - 0.15)
        log.setScale(0.045)
        self.entry = DirectEntry(parent=self.frame, scale=0.045, pos=(0.04, 0, 0.05),
                                 width=31 * self.width / 1.5, numLines=1, overflow=1, command=self.send, focus=0,
                                 frameColor=(1, 1, 1, 0.9), text_fg=(0.05, 0.05, 0.05, 1), initialText="")
        self.entry.guiItem.setMaxChars(self.max_chars)

    def _closed_look(self) -> None:
        self.entry.hide()
        if self.log_when_closed:
            self.frame.show()
            self.frame["frameColor"] = (0.05, 0.06, 0.08, 0.35)
        else:
            self.frame.hide()

    @property
    def is_open(self) -> bool:
        """True while the entry has the keyboard."""
        return self._typing

    def show(self, title: str, lines: Iterable[str]) -> None:
        """Set the title and the conversation (the last ``lines`` of them are drawn, printable only,
        a character the font has no glyph for as ``?``)."""
        self.title.setText(drawable(self.title, clean_line(title, SHOWN_LINE), self._glyphs))
        kept = [clean_line(str(line), SHOWN_LINE) for line in lines]
        self.text.setText(drawable(self.text, "\n".join(kept[-self.lines:]), self._glyphs))

    def shown_text(self) -> str:
        """What the window shows now: the title line, then the conversation (for tests and tools)."""
        return self.title.getText() + "\n" + self.text.getText()

    def open(self) -> None:
        """Show the window with the keyboard in its entry."""
        self._typing = True
        self.gate.typing = True
        self.frame["frameColor"] = (0.05, 0.06, 0.08, 0.72)
        self.frame.show()
        self.entry.show()
        self.entry.enterText("")
        self.entry["focus"] = 1
        self.base.accept("escape", self.close)

    def send(self, text: str) -> None:
        """The entry's Enter: hand the cleaned line to ``on_send`` (nothing for an empty line)."""
        line = clean_line(str(text), self.max_chars)
        if self.is_open:
            self.entry.enterText("")
            self.entry["focus"] = 1   # Enter took the focus: keep typing
        if line:
            self.on_send(line)

    def close(self) -> None:
        """Give the keyboard back to the game (the log stays when ``log_when_closed``)."""
        if not self._typing:
            return
        self._typing = False
        self.entry["focus"] = 0
        self.base.ignore("escape")
        self.gate.release()
        self._closed_look()

    def destroy(self) -> None:
        """Take the window down: the ChatKeys system and the world's own input source back."""
        self.close()
        if self._keys in self.world.systems():
            self.world.remove_system(self._keys)
        if self._input is not None and self._input.source is self.gate:
            self._input.set_source(self.gate.inner)
        self.frame.destroy()
