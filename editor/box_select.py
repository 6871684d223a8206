"""Box select: a left drag that starts on empty space in the 3D view draws a rectangle; on release
the entities whose origin, projected into the view, lies inside it are selected (Shift adds them
to the selection). A part of a placed prefab selects the instance, as a click does; hidden and
locked entities are left out. One pass over the entities, one projection each.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from panda3d.core import Lens, TransformState

from editor.picking import project
from engine.core.entity_specs import member_index

if TYPE_CHECKING:
    from engine.core.world import World

Rect = tuple[float, float, float, float]  # view pixels: x0, y0, x1, y1 (any corners)


def normalised(rect: Rect) -> Rect:
    x0, y0, x1, y1 = rect
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def entities_in_rect(world: "World", lens: Lens, camera: TransformState, size: tuple[float, float], rect: Rect,
                     accept: Callable[[int], bool] = lambda eid: True) -> list[int]:
    """The entities (prefab members as their instance) whose origin shows inside ``rect``, in id order."""
    x0, y0, x1, y1 = normalised(rect)
    members = member_index(world)
    root = world.root
    out: dict[int, None] = {}
    for eid in world.entities():
        film = project(lens, camera, world.node(eid).getPos(root))
        if film is None:
            continue
        px, py = (film[0] + 1.0) * 0.5 * size[0], (1.0 - film[1]) * 0.5 * size[1]
        if not (x0 <= px <= x1 and y0 <= py <= y1) or not accept(eid):
            continue
        member = members.get(eid)
        target = member[0] if member is not None else eid
        if accept(target):
            out[target] = None
    return list(out)
