"""Drives a CharacterController from input actions: move, run, jump, and turn with look or with
the camera that follows the player."""
from __future__ import annotations

import math

from engine.api import (
    FIRST_PERSON,
    Behaviour,
    CharacterController,
    Field,
    Float,
    follow_view,
    heading_of,
    planar,
    turn_towards,
)


class PlayerMover(Behaviour):
    """Reads the ``move``, ``run``, ``jump`` and ``look`` actions of the entity's input owner (its
    InputOwner's player, else the local player); never raw keys.

    With a first- or third-person Camera whose target is this entity, ``move`` is relative to
    the camera's yaw: first person, the camera turns the player (its yaw is the heading); third
    person, the player turns to face the way it walks, at ``face_speed``. Without one, ``move``
    is relative to the player's heading and the look action's x turns it at ``turn_speed``.
    """

    turn_speed = Field(Float(0.0, 3600.0), 480.0,
                       doc="without a follow camera: degrees per second the player turns at full look input")
    face_speed = Field(Float(0.0, 7200.0), 720.0,
                       doc="third-person camera: degrees per second the player turns to face where it walks")

    def on_update(self, dt: float) -> None:
        actions = self.actions
        controller = self.world.get(self.entity, CharacterController)
        if actions is None or controller is None:
            return
        move_x, move_y = actions.vector("move")
        view = follow_view(self.world, self.entity)
        if view is None:
            look_x, _look_y = actions.vector("look")
            self.node.setH(self.node.getH() - look_x * self.turn_speed * dt)
            controller.local = True
            controller.move = (move_x, move_y, 0.0)
        else:
            world_x, world_y = planar(view.yaw, move_x, move_y)
            controller.local = False
            controller.move = (world_x, world_y, 0.0)
            if view.mode != FIRST_PERSON and math.hypot(world_x, world_y) > 1e-3:
                root = self.world.root
                heading = turn_towards(self.node.getH(root), heading_of(world_x, world_y), self.face_speed * dt)
                self.node.setH(root, heading)
        controller.run = actions.held("run")
        if actions.pressed("jump"):
            controller.jump = True
