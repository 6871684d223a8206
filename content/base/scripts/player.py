"""Drives a CharacterController from input actions: move, run, jump, turn with look."""
from __future__ import annotations

from engine.behaviour import Behaviour
from engine.fields import Field, Float
from engine.physics.components import CharacterController


class PlayerMover(Behaviour):
    """Reads the ``move``, ``run``, ``jump`` and ``look`` actions; never raw keys."""

    turn_speed = Field(Float(0.0, 3600.0), 120.0, doc="degrees per second at full look input")

    def on_update(self, dt: float) -> None:
        actions = self.world.services.get("input")
        controller = self.world.get(self.entity, CharacterController)
        if actions is None or controller is None:
            return
        move_x, move_y = actions.vector("move")
        look_x, _look_y = actions.vector("look")
        self.node.setH(self.node.getH() - look_x * self.turn_speed * dt)
        controller.local = True
        controller.move = (move_x, move_y, 0.0)
        controller.run = actions.held("run")
        if actions.pressed("jump"):
            controller.jump = True
