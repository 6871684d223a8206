"""Hot reload of prefab files in a running world: a small system that notices changed prefab
files and lets every instance follow (``engine.data.prefab_reload``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.system import ORDER_SCRIPTS, System
from engine.data.prefab_files import PrefabLibrary
from engine.data.prefab_reload import reload_prefabs

if TYPE_CHECKING:
    from engine.core.world import World

ORDER_PREFAB_WATCH = ORDER_SCRIPTS - 10  # before behaviours run on the tick that sees the change


class PrefabWatchSystem(System):
    """Every ``every_ticks`` ticks, checks the prefab files this runtime has read; when one
    changed, the instances of the world's prefabs are brought up to date."""

    name = "prefab_watch"
    order = ORDER_PREFAB_WATCH

    def __init__(self, library: PrefabLibrary, every_ticks: int = 30) -> None:
        self.library = library
        self.every_ticks = every_ticks
        self.reloaded: list[str] = []

    def update(self, world: "World", dt: float) -> None:
        if world.tick_count % self.every_ticks or not world.prefab_instances:
            return
        if self.library.stale():
            self.reloaded += reload_prefabs(world, self.library)
