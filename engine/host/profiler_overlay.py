"""An on-screen list of per-system tick times (toggle with F3)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from direct.gui.OnscreenText import OnscreenText
from panda3d.core import TextNode

if TYPE_CHECKING:
    from engine.core.world import World


class ProfilerOverlay:
    """Shows ``World.system_ms`` and the frame time in the top-left corner."""

    def __init__(self, aspect2d, world: "World") -> None:  # type: ignore[no-untyped-def]
        self.world = world
        self.text = OnscreenText(text="", parent=aspect2d, pos=(-1.3, 0.9), scale=0.045, fg=(1, 1, 1, 1),
                                 bg=(0, 0, 0, 0.5), align=TextNode.ALeft, mayChange=True)
        self.visible = False
        self.text.hide()

    def toggle(self) -> None:
        self.visible = not self.visible
        self.text.show() if self.visible else self.text.hide()

    def update(self, frame_ms: float) -> None:
        if not self.visible:
            return
        lines = [f"frame {frame_ms:6.2f} ms   tick {self.world.tick_count}   entities {len(self.world.entities())}"]
        lines += [f"{name:<14}{ms:7.3f} ms" for name, ms in self.world.system_ms.items()]
        self.text.setText("\n".join(lines))

    def destroy(self) -> None:
        """Take the overlay off the screen for good."""
        self.text.destroy()
