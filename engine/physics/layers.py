"""Collision layers and masks on top of Bullet's group table.

Bullet (with Panda3D's ``groups-mask`` filter) lets two objects collide when a table entry for
their group bits is set. Storm gives each distinct (layer, mask, trigger) combination its own
group, so every body keeps its own mask exactly: A and B collide when A's mask has B's layer and
B's mask has A's layer. A world may use 32 such combinations; queries translate a layer mask
into the matching group bits. Terrain surfaces get groups of their own (``surface``: they
collide exactly as other bodies of their layer and mask), so that the character motor can sweep
them apart from everything else (see ``character.py``).
"""
from __future__ import annotations

from panda3d.bullet import BulletWorld
from panda3d.core import BitMask32

MAX_GROUPS = 32


class CollisionGroups:
    """Allocates Bullet collision groups for (layer, mask, trigger) combinations of one world."""

    def __init__(self, world: BulletWorld) -> None:
        self._world = world
        self._combos: list[tuple[int, int, bool, bool]] = []
        self._index: dict[tuple[int, int, bool, bool], int] = {}
        self._query_cache: dict[tuple[int, bool], BitMask32] = {}
        self._surfaces = BitMask32(0)

    def group_for(self, layer: int, mask: int, trigger: bool = False, surface: bool = False) -> int | None:
        """The group of this combination, made on first use; None when all 32 are taken.
        ``surface``: a terrain's (a height surface)."""
        key = (layer, mask, trigger, surface)
        group = self._index.get(key)
        if group is not None:
            return group
        if len(self._combos) >= MAX_GROUPS:
            return None
        group = len(self._combos)
        self._combos.append(key)
        self._index[key] = group
        self._set_flags(group)
        self._query_cache.clear()
        if surface:
            self._surfaces = self._surfaces | BitMask32.bit(group)
        return group

    def bind(self, world: BulletWorld) -> None:
        """Serve another Bullet world (a snapshot's fresh one): the same groups, the same table."""
        self._world = world
        for group in range(len(self._combos)):
            self._set_flags(group)

    def _set_flags(self, group: int) -> None:
        layer, mask, trigger, _surface = self._combos[group]
        for other, (other_layer, other_mask, other_trigger, _other_surface) in enumerate(self._combos[:group + 1]):
            collide = bool(mask >> other_layer & 1) and bool(other_mask >> layer & 1)
            if trigger and other_trigger:
                collide = False
            self._world.setGroupCollisionFlag(group, other, collide)

    def nearest_group(self, layer: int, surface: bool = False) -> int:
        """A taken group on the same layer (or group 0) for when no new group can be made
        (one of the same kind, surface or not, when there is one)."""
        same_layer = [group for group, (other_layer, _mask, trigger, _surface) in enumerate(self._combos)
                      if other_layer == layer and not trigger]
        for group in same_layer:
            if self._combos[group][3] == surface:
                return group
        return same_layer[0] if same_layer else 0

    def into_mask(self, group: int) -> BitMask32:
        return BitMask32.bit(group)

    def query_mask(self, layers: int, include_triggers: bool = False) -> BitMask32:
        """Group bits of every combination whose layer is in ``layers``."""
        key = (layers, include_triggers)
        cached = self._query_cache.get(key)
        if cached is not None:
            return cached
        bits = 0
        for group, (layer, _mask, trigger, _surface) in enumerate(self._combos):
            if layers >> layer & 1 and (include_triggers or not trigger):
                bits |= 1 << group
        out = BitMask32(bits)
        self._query_cache[key] = out
        return out

    def surfaces(self) -> BitMask32:
        """Group bits of the terrain surfaces' groups."""
        return self._surfaces

    def layer_of(self, group: int) -> int:
        return self._combos[group][0]

    def count(self) -> int:
        return len(self._combos)
