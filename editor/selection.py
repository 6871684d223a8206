"""What is selected: an ordered set of entity ids (the first is the primary, the one the gizmo and
the inspector's values follow), and the rule for what a click in the view selects.

Ids, not objects: an entity that goes away (undo of its creation, delete) simply drops out of
the selection (``prune``), and comes back in no form of stale reference.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from engine.core.entity_specs import member_index

if TYPE_CHECKING:
    from engine.core.world import World


class Selection:
    """The selected entities, in the order they were selected."""

    def __init__(self) -> None:
        self._ids: dict[int, None] = {}
        self.version = 0
        self.listeners: list[Callable[["Selection"], None]] = []

    @property
    def ids(self) -> list[int]:
        return list(self._ids)

    @property
    def primary(self) -> int:
        return next(iter(self._ids), 0)

    def __contains__(self, eid: object) -> bool:
        return eid in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def set(self, ids: Iterable[int]) -> None:
        new = dict.fromkeys(i for i in ids if i)
        if list(new) != list(self._ids):
            self._ids = new
            self._changed()

    def add(self, eid: int) -> None:
        if eid and eid not in self._ids:
            self._ids[eid] = None
            self._changed()

    def toggle(self, eid: int) -> None:
        if eid in self._ids:
            del self._ids[eid]
            self._changed()
        else:
            self.add(eid)

    def clear(self) -> None:
        self.set(())

    def prune(self, world: "World") -> None:
        """Forget entities that no longer exist."""
        alive = [eid for eid in self._ids if world.exists(eid)]
        if len(alive) != len(self._ids):
            self.set(alive)

    def _changed(self) -> None:
        self.version += 1
        for listener in list(self.listeners):
            listener(self)


def click_target(world: "World", hit: int, selection: Selection) -> int:
    """The entity a click on ``hit`` selects. A click on part of a prefab instance selects the
    instance (its root), as a placed prefab is one thing to move; clicking it again, with the
    instance already selected, selects the part itself. Other entities select themselves (a
    child entity, not its parent: the click names the node that was hit)."""
    if not hit:
        return 0
    member = member_index(world).get(hit)
    if member is None:
        return hit
    root = member[0]
    return hit if root in selection or hit in selection else root


def apply_click(world: "World", selection: Selection, hit: int, *, add: bool) -> None:
    """What a click does: select the target (or, with shift, add it / take it out); clicking
    nothing without shift clears the selection."""
    target = click_target(world, hit, selection)
    if add:
        if target:
            selection.toggle(target)
        return
    if not target:
        selection.clear()
    else:
        selection.set([target])
