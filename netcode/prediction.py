"""Client-side prediction of the local player, and reconciliation with the server.

Each tick the client runs its own player's input at once (its behaviours and the character
motor, exactly as the server will: the owner-authority values it sends are quantised first) and
remembers the state that gave. When a snapshot says which input the server has run and where
that left the player, the client compares: within ``tolerance`` nothing happens; otherwise it
takes the server's state and replays the inputs the server has not run yet
(``PhysicsSystem.step_character``), and the difference between where the player was drawn and
where it now is becomes a visual offset that fades over ``smoothing`` seconds (larger than
``snap_distance``: no fading, a jump). The simulation itself never lags behind a correction.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from panda3d.core import NodePath, Quat, Vec3

from engine.core.world import ENTITY_TAG
from engine.physics.components import CharacterController
from engine.physics.system import PhysicsSystem
from netcode.input_layout import InputFrame, InputLayout

if TYPE_CHECKING:
    from engine.core.world import World

MAX_PENDING = 256


@dataclass(frozen=True)
class PlayerState:
    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float]
    grounded: bool
    vertical_speed: float


class Predictor:
    """The local player's unacknowledged inputs and predicted states (see the module doc)."""

    def __init__(self, world: "World", entity: int, layout: InputLayout, tolerance: float = 0.02,
                 smoothing: float = 0.1, snap_distance: float = 2.0) -> None:
        self.world = world
        self.entity = entity
        self.layout = layout
        self.tolerance = tolerance
        self.smoothing = smoothing
        self.snap_distance = snap_distance
        self.pending: OrderedDict[int, InputFrame] = OrderedDict()
        self.states: OrderedDict[int, PlayerState] = OrderedDict()
        self.seq = 0
        self.acked = 0
        self.corrections = 0
        self.replayed = 0
        self.last_error = 0.0
        self.offset = Vec3(0, 0, 0)
        self._visuals: list[tuple[NodePath, Vec3]] = []

    # -- each tick ------------------------------------------------------------------------------
    def apply(self, frame: InputFrame) -> None:
        """Put an input's owner values and heading on the player (what the server does with it)."""
        world = self.world
        if not world.exists(self.entity):
            return
        by_type = {type(c).type_name: c for c in world.components(self.entity)}
        for spec, value in zip(self.layout.fields, frame.owner):
            component = by_type.get(spec.type_name)
            if component is not None:
                component.__dict__[spec.name] = value
        world.node(self.entity).setH(world.root, frame.heading)

    def next_input(self, frame: InputFrame) -> int:
        """Number and keep this tick's (quantised) input; returns its number."""
        self.seq += 1
        self.pending[self.seq] = frame
        while len(self.pending) > MAX_PENDING:
            self.pending.popitem(last=False)
        return self.seq

    def unacked(self, limit: int) -> list[tuple[int, InputFrame]]:
        """The newest inputs the server has not run, oldest first, at most ``limit``."""
        items = [(seq, f) for seq, f in self.pending.items() if seq > self.acked]
        return items[-limit:]

    def record(self) -> None:
        """After physics: the state this tick's input led to."""
        state = self.state()
        if state is not None and self.seq:
            self.states[self.seq] = state
            while len(self.states) > MAX_PENDING:
                self.states.popitem(last=False)

    def state(self) -> PlayerState | None:
        world = self.world
        if not world.exists(self.entity):
            return None
        node = world.node(self.entity)
        p, q = node.getPos(), node.getQuat()
        controller = world.get(self.entity, CharacterController)
        return PlayerState((p.x, p.y, p.z), (q.getR(), q.getI(), q.getJ(), q.getK()),
                           controller.grounded if controller else False,
                           controller.vertical_speed if controller else 0.0)

    # -- reconciliation -------------------------------------------------------------------------
    def reconcile(self, acked: int, server: PlayerState, dt: float) -> bool:
        """Compare the server's state after input ``acked`` with the prediction; correct and replay
        when they differ. Returns whether a correction was made."""
        if acked < self.acked:
            return False
        self.acked = acked
        predicted = self.states.get(acked)
        for old in [s for s in self.pending if s <= acked]:
            del self.pending[old]
        for old in [s for s in self.states if s < acked]:
            del self.states[old]
        if predicted is None or not self.world.exists(self.entity):
            return False
        error = math.dist(predicted.pos, server.pos)
        self.last_error = error
        if error <= self.tolerance and predicted.grounded == server.grounded:
            return False
        world = self.world
        node = world.node(self.entity)
        before = node.getPos(world.root)
        node.setPos(*server.pos)
        node.setQuat(Quat(*server.quat))
        controller = world.get(self.entity, CharacterController)
        if controller is not None:
            controller.grounded, controller.vertical_speed = server.grounded, server.vertical_speed
        physics = world.system(PhysicsSystem)
        self.states[acked] = server
        for seq, frame in list(self.pending.items()):
            self.apply(frame)
            if physics is not None:
                physics.step_character(self.entity, dt)
            self.replayed += 1
            state = self.state()
            if state is not None:
                self.states[seq] = state
        after = node.getPos(world.root)
        jump = before - after
        self.offset = self.offset + jump if jump.length() < self.snap_distance else Vec3(0, 0, 0)
        self.corrections += 1
        return True

    # -- smoothing ------------------------------------------------------------------------------
    def smooth(self, dt: float) -> None:
        """Fade the visual offset and place the player's drawn parts (not its body) by it."""
        world = self.world
        if not world.exists(self.entity):
            return
        node = world.node(self.entity)
        if not self._visuals or any(v.isEmpty() for v, _ in self._visuals):
            self._visuals = [(child, child.getPos()) for child in node.getChildren() if not child.hasTag(ENTITY_TAG)]
        fade = math.exp(-dt / self.smoothing) if self.smoothing > 0 else 0.0
        self.offset = self.offset * fade
        if self.offset.length() < 1e-4:
            self.offset = Vec3(0, 0, 0)
        local = node.getRelativeVector(world.root, self.offset)
        for child, base in self._visuals:
            child.setPos(base + local)
