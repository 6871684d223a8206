"""Walking an NPC towards, after or away from its goal entity, a tick at a time (simulation
code: it writes the CharacterController's input, or the node's position when there is none)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ai.components import NpcBrain

if TYPE_CHECKING:
    from engine.core.world import World

ARRIVE = 1.5    # metres: close enough for move_to
FOLLOW_GAP = 2.5


def steer(world: "World", eid: int, brain: NpcBrain, dt: float) -> None:
    """Move one NPC for ``dt`` seconds according to its goal; clears a goal that is reached or gone."""
    from engine.physics.components import CharacterController

    controller = world.get(eid, CharacterController)
    mode, goal = brain.goal_mode, brain.goal_entity
    direction = (0.0, 0.0)
    if mode != "none":
        if not goal or not world.exists(goal):
            brain.goal_mode, brain.goal_entity = "none", 0
        else:
            here, there = world.node(eid).getPos(world.root), world.node(goal).getPos(world.root)
            dx, dy = there.x - here.x, there.y - here.y
            distance = math.hypot(dx, dy)
            if mode == "move" and distance <= ARRIVE:
                brain.goal_mode = "none"
            elif mode == "flee" and distance >= brain.hearing:
                brain.goal_mode, brain.stance = "none", "calm"
            elif distance > 1e-6 and not (mode == "follow" and distance <= FOLLOW_GAP):
                sign = -1.0 if mode == "flee" else 1.0
                direction = (sign * dx / distance, sign * dy / distance)
    if controller is not None:
        scale = brain.speed / controller.walk_speed if controller.walk_speed > 0 else 0.0
        controller.local = False
        controller.move = (direction[0] * min(1.0, scale), direction[1] * min(1.0, scale), 0.0)
    elif direction != (0.0, 0.0):
        node = world.node(eid)
        step = brain.speed * dt
        node.setPos(world.root, node.getX(world.root) + direction[0] * step, node.getY(world.root) + direction[1] * step,
                    node.getZ(world.root))
    if direction != (0.0, 0.0):
        world.node(eid).setH(world.root, math.degrees(math.atan2(-direction[0], direction[1])))
