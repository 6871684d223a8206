"""Drawing between ticks: moving entities are drawn where they were a fraction ``alpha`` of the
way from the previous tick to the current one, so motion looks smooth when the display rate and
the tick rate differ.

The simulation never sees it. Bodies ARE the entities' nodes (``engine/physics/bodies.py``), so
entity nodes are left alone: what moves is what is drawn, the non-entity children of a moving
entity (the mesh, an Actor, a light) and the App's camera, offset by the difference between the
interpolated and the current transform. The offsets come off again before the next tick runs.
Only entities that can move are followed (``PhysicsSystem.moving_bodies`` and the view's
entity); static entities cost nothing per frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from panda3d.bullet import BulletBodyNode
from panda3d.core import NodePath, TransformState

from engine.core.world import ENTITY_TAG, World
from engine.physics.system import PhysicsSystem


@dataclass(eq=False)
class _Visual:
    """A drawn node of a followed entity, and the transform the simulation gave it."""

    node: NodePath
    entity: int
    base: TransformState


def blend(previous: TransformState, current: TransformState, alpha: float) -> TransformState:
    """The transform ``alpha`` (0..1) of the way from ``previous`` to ``current``: positions and
    scales linearly, rotations along the shorter arc."""
    if alpha >= 1.0 or previous == current:
        return current
    pos = previous.getPos() + (current.getPos() - previous.getPos()) * alpha
    scale = previous.getScale() + (current.getScale() - previous.getScale()) * alpha
    start, end = previous.getQuat(), current.getQuat()
    if start.dot(end) < 0.0:
        end = -end
    quat = start + (end - start) * alpha
    quat.normalize()
    return TransformState.makePosQuatScale(pos, quat, scale)


class DrawInterpolator:
    """Offsets what is drawn of moving entities to their interpolated place (see the module doc).

    Per frame: ``restore`` before the frame's ticks, ``remember`` before each tick, ``settle``
    after them, then ``apply(alpha)``; ``drawn`` places something that rides with an entity (the
    App's camera).
    """

    def __init__(self) -> None:
        self._previous: dict[int, TransformState] = {}
        self._current: dict[int, TransformState] = {}
        self._corrections: dict[int, tuple[TransformState, TransformState]] = {}  # eid -> (drawn, current)
        self._visuals: list[_Visual] = []

    def restore(self) -> None:
        """Give every offset node back the transform the simulation gave it (before ticks run)."""
        for visual in self._visuals:
            if not visual.node.isEmpty():
                visual.node.setTransform(visual.base)
        self._visuals = []
        self._corrections = {}

    def reset(self) -> None:
        """Forget everything (another world is shown, or interpolation was turned off)."""
        self.restore()
        self._previous, self._current = {}, {}

    def remember(self, world: World, extra: Iterable[int] = ()) -> None:
        """Note where the entities that can move are before a tick runs."""
        root = world.root
        previous = {}
        for eid in self._followed(world, extra):
            previous[eid] = world.node(eid).getTransform(root)
        self._previous = previous

    def settle(self, world: World) -> None:
        """After a frame's ticks: note where the followed entities are now and find the drawn nodes
        of those that moved in the last tick."""
        root = world.root
        previous = self._previous
        current = {eid: world.node(eid).getTransform(root) for eid in previous if world.exists(eid)}
        current = {eid: now for eid, now in current.items() if now != previous[eid]}   # resting bodies: nothing to do
        self._current = current
        visuals = []
        for eid in current:
            stack = [world.node(eid)]
            while stack:
                for child in stack.pop().getChildren():
                    if child.hasTag(ENTITY_TAG):
                        if int(child.getTag(ENTITY_TAG)) not in previous:
                            stack.append(child)        # a child entity rides along: its drawn nodes move too
                    elif not isinstance(child.node(), BulletBodyNode):
                        visuals.append(_Visual(child, eid, child.getTransform()))
        self._visuals = visuals

    def apply(self, world: World, alpha: float) -> None:
        """Move the drawn nodes to ``alpha`` of the way from the previous tick to the current one."""
        corrections = {eid: (blend(self._previous[eid], current, alpha), current)
                       for eid, current in self._current.items()}
        self._corrections = corrections
        root = world.root
        for visual in self._visuals:
            if visual.node.isEmpty():
                continue
            correction = corrections[visual.entity]
            parent = visual.node.getParent().getTransform(root)
            net = parent.compose(visual.base)
            visual.node.setTransform(parent.invertCompose(self._shift(correction, net)))

    def drawn(self, entity: int, transform: TransformState) -> TransformState:
        """Where to draw something placed at ``transform`` (world-root space) that rides with ``entity``."""
        correction = self._corrections.get(entity)
        return transform if correction is None else self._shift(correction, transform)

    @staticmethod
    def _shift(correction: tuple[TransformState, TransformState], net: TransformState) -> TransformState:
        """``net`` moved from the entity's current frame into its drawn frame."""
        drawn, current = correction
        return drawn.compose(current.invertCompose(net))

    @staticmethod
    def _followed(world: World, extra: Iterable[int]) -> list[int]:
        physics = world.system(PhysicsSystem)
        followed = list(physics.moving_bodies()) if physics is not None else []
        followed += [eid for eid in extra if eid and eid not in followed and world.exists(eid)]
        return followed
