"""Collision layers and masks on top of Bullet's group table.

Bullet (with Panda3D's ``groups-mask`` filter) lets two objects collide when a table entry for
their group bits is set. Storm gives each distinct combination of layer, mask and kind its own
group, so every body keeps its own mask exactly: A and B collide when A's mask has B's layer and
B's mask has A's layer. Queries translate a layer mask into the matching group bits. A world may
use 32 combinations. The kinds:

- ``trigger``: two triggers never collide.
- ``fixed``: bodies Bullet does not move (static, kinematic, characters). Two of them never
  collide: neither would respond, and Panda3D's filter, unlike Bullet's own, would otherwise let
  Bullet compute their contacts every step (64 characters standing on a terrain: about 1 ms a
  step). Characters still meet them through their own sweeps, triggers still see them.
- ``surface``: a terrain (fixed too), so that the character motor can sweep terrains apart from
  everything else (see ``character.py``).
"""
from __future__ import annotations

from typing import NamedTuple

from panda3d.bullet import BulletWorld
from panda3d.core import BitMask32

MAX_GROUPS = 32


class _Combo(NamedTuple):
    layer: int
    mask: int
    trigger: bool
    fixed: bool
    surface: bool


class CollisionGroups:
    """Allocates Bullet collision groups for (layer, mask, kind) combinations of one world."""

    def __init__(self, world: BulletWorld) -> None:
        self._world = world
        self._combos: list[_Combo] = []
        self._index: dict[_Combo, int] = {}
        self._query_cache: dict[tuple[int, bool], BitMask32] = {}
        self._surfaces = BitMask32(0)

    def group_for(self, layer: int, mask: int, trigger: bool = False, fixed: bool = False,
                  surface: bool = False) -> int | None:
        """The group of this combination, made on first use; None when all 32 are taken.
        ``fixed``: a body Bullet does not move; ``surface``: a terrain's (fixed)."""
        key = _Combo(layer, mask, trigger, (fixed or surface) and not trigger, surface and not trigger)
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
        if key.surface:
            self._surfaces = self._surfaces | BitMask32.bit(group)
        return group

    def bind(self, world: BulletWorld) -> None:
        """Serve another Bullet world (a snapshot's fresh one): the same groups, the same table."""
        self._world = world
        for group in range(len(self._combos)):
            self._set_flags(group)

    def _set_flags(self, group: int) -> None:
        me = self._combos[group]
        for other, them in enumerate(self._combos[:group + 1]):
            collide = bool(me.mask >> them.layer & 1) and bool(them.mask >> me.layer & 1)
            if (me.trigger and them.trigger) or (me.fixed and them.fixed):
                collide = False
            self._world.setGroupCollisionFlag(group, other, collide)

    def nearest_group(self, layer: int, fixed: bool = False, surface: bool = False) -> int:
        """A taken group on the same layer (or group 0) for when no new group can be made: one of
        the same kind if there is one, else one of moving bodies (it collides with everything its
        mask allows), else any."""
        same_layer = [group for group, combo in enumerate(self._combos) if combo.layer == layer and not combo.trigger]
        for wanted in (lambda c: c.fixed == (fixed or surface) and c.surface == surface, lambda c: not c.fixed):
            for group in same_layer:
                if wanted(self._combos[group]):
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
        for group, combo in enumerate(self._combos):
            if layers >> combo.layer & 1 and (include_triggers or not combo.trigger):
                bits |= 1 << group
        out = BitMask32(bits)
        self._query_cache[key] = out
        return out

    def surfaces(self) -> BitMask32:
        """Group bits of the terrain surfaces' groups."""
        return self._surfaces

    def layer_of(self, group: int) -> int:
        return self._combos[group].layer

    def count(self) -> int:
        return len(self._combos)
