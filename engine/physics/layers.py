"""Collision layers and masks on top of Bullet's group table.

Bullet (with Panda3D's ``groups-mask`` filter) lets two objects collide when a table entry for
their group bits is set. Storm gives each distinct (layer, mask, trigger) combination its own
group, so every body keeps its own mask exactly: A and B collide when A's mask has B's layer and
B's mask has A's layer. A world may use 32 such combinations; queries translate a layer mask
into the matching group bits.
"""
from __future__ import annotations

from panda3d.bullet import BulletWorld
from panda3d.core import BitMask32

MAX_GROUPS = 32


class CollisionGroups:
    """Allocates Bullet collision groups for (layer, mask, trigger) combinations of one world."""

    def __init__(self, world: BulletWorld) -> None:
        self._world = world
        self._combos: list[tuple[int, int, bool]] = []
        self._index: dict[tuple[int, int, bool], int] = {}
        self._query_cache: dict[tuple[int, bool], BitMask32] = {}

    def group_for(self, layer: int, mask: int, trigger: bool = False) -> int | None:
        """The group of this combination, made on first use; None when all 32 are taken."""
        key = (layer, mask, trigger)
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
        return group

    def bind(self, world: BulletWorld) -> None:
        """Serve another Bullet world (a snapshot's fresh one): the same groups, the same table."""
        self._world = world
        for group in range(len(self._combos)):
            self._set_flags(group)

    def _set_flags(self, group: int) -> None:
        layer, mask, trigger = self._combos[group]
        for other, (other_layer, other_mask, other_trigger) in enumerate(self._combos[:group + 1]):
            collide = bool(mask >> other_layer & 1) and bool(other_mask >> layer & 1)
            if trigger and other_trigger:
                collide = False
            self._world.setGroupCollisionFlag(group, other, collide)

    def nearest_group(self, layer: int) -> int:
        """A taken group on the same layer (or group 0) for when no new group can be made."""
        for group, (other_layer, _mask, trigger) in enumerate(self._combos):
            if other_layer == layer and not trigger:
                return group
        return 0

    def into_mask(self, group: int) -> BitMask32:
        return BitMask32.bit(group)

    def query_mask(self, layers: int, include_triggers: bool = False) -> BitMask32:
        """Group bits of every combination whose layer is in ``layers``."""
        key = (layers, include_triggers)
        cached = self._query_cache.get(key)
        if cached is not None:
            return cached
        bits = 0
        for group, (layer, _mask, trigger) in enumerate(self._combos):
            if layers >> layer & 1 and (include_triggers or not trigger):
                bits |= 1 << group
        out = BitMask32(bits)
        self._query_cache[key] = out
        return out

    def layer_of(self, group: int) -> int:
        return self._combos[group][0]

    def count(self) -> int:
        return len(self._combos)
