"""OpenXR actions for Storm: one action set, suggested bindings for every listed profile, and
each frame's controller state read back as ``HandControls`` and grip/aim poses."""
from __future__ import annotations

import logging
from typing import Any

import xr

from engine.xr.bindings import PROFILES, XR_ACTIONS, binding_paths
from engine.xr.poses import HANDS, HandControls, Pose, from_openxr_orientation, from_openxr_position

log = logging.getLogger("storm.xr")
_TYPES = {"pose": xr.ActionType.POSE_INPUT, "float": xr.ActionType.FLOAT_INPUT,
          "vector2f": xr.ActionType.VECTOR2F_INPUT, "boolean": xr.ActionType.BOOLEAN_INPUT,
          "vibration": xr.ActionType.VIBRATION_OUTPUT}
_TRACKED = xr.SpaceLocationFlags.POSITION_VALID_BIT | xr.SpaceLocationFlags.ORIENTATION_VALID_BIT


def pose_from(location: Any) -> Pose | None:
    """A located space as a Pose in Panda3D's axes, or None when the runtime does not track it."""
    if (int(location.location_flags) & int(_TRACKED)) != int(_TRACKED):
        return None
    p, q = location.pose.position, location.pose.orientation
    return Pose(from_openxr_position(p.x, p.y, p.z), from_openxr_orientation(q.x, q.y, q.z, q.w))


class XRActions:
    """Storm's action set on an instance: actions made, bindings suggested (``accepted`` says,
    per profile, True or the runtime's reason for refusing), attached to a session by ``attach``."""

    def __init__(self, instance: Any) -> None:
        self.instance = instance
        self.hand_paths = {hand: xr.string_to_path(instance, f"/user/hand/{hand}") for hand in HANDS}
        self.action_set = xr.create_action_set(instance, xr.ActionSetCreateInfo(
            action_set_name="storm", localized_action_set_name="Storm", priority=0))
        self.actions: dict[str, Any] = {}
        for name, kind in XR_ACTIONS.items():
            self.actions[name] = xr.create_action(self.action_set, xr.ActionCreateInfo(
                action_type=_TYPES[kind], action_name=name, localized_action_name=name.replace("_", " "),
                subaction_paths=list(self.hand_paths.values())))
        self.accepted: dict[str, bool | str] = {}
        for profile in PROFILES:
            self.accepted[profile] = self._suggest(profile)
        self.session: Any = None
        self.grip_spaces: dict[str, Any] = {}
        self.aim_spaces: dict[str, Any] = {}

    def _suggest(self, profile: str) -> bool | str:
        bindings = [xr.ActionSuggestedBinding(self.actions[action], xr.string_to_path(self.instance, path))
                    for action, path in binding_paths(profile)]
        try:
            xr.suggest_interaction_profile_bindings(self.instance, xr.InteractionProfileSuggestedBinding(
                interaction_profile=xr.string_to_path(self.instance, profile), suggested_bindings=bindings))
        except xr.XrException as exc:
            log.warning("xr: the runtime refused the bindings for %s: %s", profile, exc)
            return f"{type(exc).__name__}: {exc}"
        return True

    def attach(self, session: Any) -> None:
        self.session = session
        for hand, path in self.hand_paths.items():
            self.grip_spaces[hand] = xr.create_action_space(session, xr.ActionSpaceCreateInfo(
                action=self.actions["grip_pose"], subaction_path=path))
            self.aim_spaces[hand] = xr.create_action_space(session, xr.ActionSpaceCreateInfo(
                action=self.actions["aim_pose"], subaction_path=path))
        xr.attach_session_action_sets(session, xr.SessionActionSetsAttachInfo(action_sets=[self.action_set]))

    def sync(self) -> bool:
        """Read the controllers for this frame; False while the session is not focused (the runtime
        then reports every input as inactive: a normal case, not an error)."""
        try:
            xr.sync_actions(self.session, xr.ActionsSyncInfo(
                active_action_sets=[xr.ActiveActionSet(self.action_set, xr.NULL_PATH)]))
        except xr.SessionNotFocused:
            return False
        return True

    def controls(self) -> dict[str, HandControls]:
        out = {}
        for hand, path in self.hand_paths.items():
            def state(name: str, getter: Any) -> Any:
                return getter(self.session, xr.ActionStateGetInfo(self.actions[name], path)).current_state

            stick = state("thumbstick", xr.get_action_state_vector2f)
            out[hand] = HandControls(
                trigger=float(state("trigger", xr.get_action_state_float)),
                squeeze=float(state("squeeze", xr.get_action_state_float)),
                thumbstick=(float(stick.x), float(stick.y)),
                thumbstick_click=bool(state("thumbstick_click", xr.get_action_state_boolean)),
                primary=bool(state("primary", xr.get_action_state_boolean)),
                secondary=bool(state("secondary", xr.get_action_state_boolean)),
                menu=bool(state("menu", xr.get_action_state_boolean)))
        return out

    def poses(self, base_space: Any, time: int) -> tuple[dict[str, Pose], dict[str, Pose]]:
        grips, aims = {}, {}
        for hand in HANDS:
            for spaces, out in ((self.grip_spaces, grips), (self.aim_spaces, aims)):
                pose = pose_from(xr.locate_space(spaces[hand], base_space, time))
                if pose is not None:
                    out[hand] = pose
        return grips, aims

    def haptic(self, hand: str, amplitude: float, seconds: float, frequency: float = 0.0) -> None:
        """Buzz a controller (no-op while unfocused)."""
        if self.session is None:
            return
        vibration = xr.HapticVibration(duration=int(seconds * 1e9), frequency=frequency, amplitude=amplitude)
        try:
            xr.apply_haptic_feedback(self.session, xr.HapticActionInfo(self.actions["haptic"], self.hand_paths[hand]),
                                     vibration)
        except xr.SessionNotFocused:
            pass

    def destroy(self) -> None:
        for space in [*self.grip_spaces.values(), *self.aim_spaces.values()]:
            xr.destroy_space(space)
        self.grip_spaces.clear()
        self.aim_spaces.clear()
        xr.destroy_action_set(self.action_set)

