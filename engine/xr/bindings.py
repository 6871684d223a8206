"""Controller input: the OpenXR actions Storm declares, their suggested bindings for the common
interaction profiles, and how controller inputs become Storm's own input actions.

Storm declares one action set (``storm``) with, for each hand (subaction paths
``/user/hand/left`` and ``/user/hand/right``): grip and aim poses, trigger, squeeze, thumbstick
(a Vive trackpad stands in), thumbstick click, primary (A/X), secondary (B/Y), menu and a haptic
output. ``PROFILES`` suggests bindings for Khronos simple, Oculus/Meta Touch, Valve Index, HTC
Vive and HP Reverb G2 controllers; the runtime picks the profile of the controllers it has.

``to_action_frame`` maps controls onto the desktop's actions (the base pack's action map:
``move``, ``jump``, ``run``, ``interact``, ``pause``), so a world's behaviours work in VR unchanged.
Locomotion-only controls (teleport, snap turn, grab) are read by ``engine.xr.interaction``.
"""
from __future__ import annotations

from typing import Mapping

from engine.input.actions import ActionFrame
from engine.xr.poses import HandControls

# Storm's XR actions: name -> kind (pose, float, vector2f, boolean, vibration)
XR_ACTIONS: dict[str, str] = {
    "grip_pose": "pose", "aim_pose": "pose", "trigger": "float", "squeeze": "float", "thumbstick": "vector2f",
    "thumbstick_click": "boolean", "primary": "boolean", "secondary": "boolean", "menu": "boolean",
    "haptic": "vibration",
}

_COMMON = {"grip_pose": "input/grip/pose", "aim_pose": "input/aim/pose", "haptic": "output/haptic"}


def _both(**per_hand: str) -> dict[str, dict[str, str]]:
    table = {name: path for name, path in {**_COMMON, **per_hand}.items()}
    return {"left": dict(table), "right": dict(table)}


def _sided(common: dict[str, str], left: dict[str, str], right: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"left": {**_COMMON, **common, **left}, "right": {**_COMMON, **common, **right}}


_STICK = {"trigger": "input/trigger/value", "squeeze": "input/squeeze/value", "thumbstick": "input/thumbstick",
          "thumbstick_click": "input/thumbstick/click"}

# interaction profile path -> hand -> Storm action -> component path (under /user/hand/<hand>/)
PROFILES: dict[str, dict[str, dict[str, str]]] = {
    "/interaction_profiles/khr/simple_controller": _both(trigger="input/select/click", menu="input/menu/click"),
    "/interaction_profiles/oculus/touch_controller": _sided(
        _STICK, {"primary": "input/x/click", "secondary": "input/y/click", "menu": "input/menu/click"},
        {"primary": "input/a/click", "secondary": "input/b/click"}),
    "/interaction_profiles/valve/index_controller": _both(
        **_STICK, primary="input/a/click", secondary="input/b/click"),
    "/interaction_profiles/htc/vive_controller": _both(
        trigger="input/trigger/value", squeeze="input/squeeze/click", thumbstick="input/trackpad",
        thumbstick_click="input/trackpad/click", menu="input/menu/click"),
    "/interaction_profiles/hp/mixed_reality_controller": _sided(
        {**_STICK, "menu": "input/menu/click"}, {"primary": "input/x/click", "secondary": "input/y/click"},
        {"primary": "input/a/click", "secondary": "input/b/click"}),
}


def binding_paths(profile: str) -> list[tuple[str, str]]:
    """(Storm action, full input path) pairs suggested for ``profile``."""
    pairs = []
    for hand, table in PROFILES[profile].items():
        for action, component in table.items():
            pairs.append((action, f"/user/hand/{hand}/{component}"))
    return pairs


PRESS = 0.5


def to_action_frame(controls: Mapping[str, HandControls], declared: set[str]) -> ActionFrame:
    """Storm's input actions from both controllers: the left thumbstick moves, A jumps, the right
    trigger interacts, the left thumbstick click runs, menu pauses. Only actions the world's map
    declares are set."""
    left, right = controls.get("left", HandControls()), controls.get("right", HandControls())
    held = set()
    if right.primary:
        held.add("jump")
    if right.trigger >= PRESS:
        held.add("interact")
    if left.thumbstick_click:
        held.add("run")
    if left.menu or right.menu:
        held.add("pause")
    vectors = {"move": left.thumbstick} if left.thumbstick != (0.0, 0.0) else {}
    return ActionFrame(frozenset(held & declared), {},
                       {name: value for name, value in vectors.items() if name in declared})
