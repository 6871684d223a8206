"""The local avatar's controls: Storm's input actions turned into AgentUpdate messages.

``move`` (axis2) walks forward and back (y) and sideways (x); ``look`` x turns the body;
``jump`` pressed toggles flying, and held while flying rises. The simulator moves the avatar
(it is authoritative) and reports where it is in terse updates. An AgentUpdate goes out when
the controls change and at least ``RESEND_EVERY`` seconds apart otherwise, as viewers do.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

AT_POS, AT_NEG, LEFT_POS, LEFT_NEG, UP_POS, UP_NEG = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
FLY = 0x2000
STAND_UP = 0x10000
RESEND_EVERY = 0.25
TURN_DEGREES_PER_UNIT = 2.0        # ``look`` x of 1 turns the body this many degrees in a tick


@dataclass
class AgentControls:
    """What the avatar is asked to do: control flags, the body's heading and whether it flies."""

    yaw: float = 0.0               # radians, 0 = facing +x (east), counter-clockwise
    flags: int = 0
    flying: bool = False

    def rotation(self) -> tuple[float, float, float, float]:
        return (0.0, 0.0, math.sin(self.yaw / 2.0), math.cos(self.yaw / 2.0))

    def forward(self) -> tuple[float, float, float]:
        return (math.cos(self.yaw), math.sin(self.yaw), 0.0)


def controls_from_actions(controls: AgentControls, move: tuple[float, float], turn: float, jump_pressed: bool,
                          jump_held: bool) -> AgentControls:
    """The next controls from this tick's actions."""
    yaw = controls.yaw - math.radians(turn * TURN_DEGREES_PER_UNIT)
    flying = (not controls.flying) if jump_pressed else controls.flying
    flags = 0
    x, y = move
    if y > 0.3:
        flags |= AT_POS
    elif y < -0.3:
        flags |= AT_NEG
    if x > 0.3:
        flags |= LEFT_NEG          # right
    elif x < -0.3:
        flags |= LEFT_POS
    if flying:
        flags |= FLY
        if jump_held:
            flags |= UP_POS
    return AgentControls(math.remainder(yaw, 2 * math.pi), flags, flying)


def agent_update(agent_id: uuid.UUID, session_id: uuid.UUID, controls: AgentControls,
                 position: tuple[float, float, float], far: float = 128.0) -> dict[str, list[dict[str, Any]]]:
    """The blocks of one AgentUpdate: body and head facing ``controls.yaw``, the camera behind the avatar."""
    fx, fy, _ = controls.forward()
    rotation = controls.rotation()
    px, py, pz = position
    return {"AgentData": [{
        "AgentID": agent_id, "SessionID": session_id, "BodyRotation": rotation, "HeadRotation": rotation,
        "State": 0, "CameraCenter": (px - 3.0 * fx, py - 3.0 * fy, pz + 1.5), "CameraAtAxis": (fx, fy, 0.0),
        "CameraLeftAxis": (-fy, fx, 0.0), "CameraUpAxis": (0.0, 0.0, 1.0), "Far": far,
        "ControlFlags": controls.flags, "Flags": 0}]}
