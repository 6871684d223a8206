"""VR through OpenXR: a tracking rig in the World, both eyes drawn per frame, controller actions
mapped onto Storm's input actions, teleport/turn/move/grab, and a simulated backend for machines
without a headset. See docs/vr.md."""
from engine.xr.poses import EyeView, Fov, HandControls, Pose, TrackingFrame
from engine.xr.rig import VR_PLAYER, XRRig, add_rig

__all__ = ["VR_PLAYER", "EyeView", "Fov", "HandControls", "Pose", "TrackingFrame", "XRRig", "add_rig"]
