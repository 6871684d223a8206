"""The simulated XR backend (``--xr simulated``): Storm's rig, actions and session states without
a runtime or a headset, driven by a scripted timeline (``engine.xr.timeline``) or, in a window,
by keyboard and mouse. Its eyes are two views ``eye_separation`` apart with a symmetric field
of view, drawn side by side. Tests press controller buttons through it (a real runtime's
simulated controllers keep theirs idle).

Keyboard and mouse (window, no timeline): the mouse turns the head; W/A/S/D is the left
thumbstick (smooth locomotion), Q/E the right one's x (snap turn), holding T aims a teleport
(released: go), holding G squeezes the right hand (grab), F is the right trigger, space is A.
"""
from __future__ import annotations

from typing import Any

from engine.xr.poses import EyeView, Fov, HandControls, Pose, TrackingFrame, stereo_eyes
from engine.xr.timeline import Timeline

STANDING_HEAD = Pose.from_hpr((0.0, 0.0, 1.7))
RESTING_HANDS = {"left": Pose.from_hpr((-0.2, 0.35, 1.25)), "right": Pose.from_hpr((0.2, 0.35, 1.25))}
# the states a runtime goes through at start and at exit
STARTING = ("ready", "synchronized", "visible", "focused")
STOPPING = ("visible", "synchronized", "stopping", "idle", "exiting")


class SimulatedBackend:
    """A session whose poses and inputs come from a timeline, keyboard and mouse, or stand still."""

    name = "simulated"

    def __init__(self, timeline: Timeline | None = None, eye_size: tuple[int, int] = (640, 720),
                 eye_separation: float = 0.064, fov: float = 90.0, reference: str = "standing") -> None:
        self.timeline = timeline
        self.eye_size = eye_size
        self.eye_separation = eye_separation
        self.fov = Fov.symmetric(fov, eye_size[0] / eye_size[1])
        self.reference = reference
        self.state = "idle"
        self.history: list[str] = ["idle"]
        self.exited = self.lost = False
        self.runtime_name, self.system_name = "Storm simulated XR", "Simulated HMD"
        self.frames_submitted = 0
        self.time = 0.0
        self._pending: list[str] = list(STARTING)
        self._base: Any = None
        self._head_hpr = [0.0, 0.0]
        self._in_frame = False

    def start(self, base: Any) -> None:
        self._base = base

    @property
    def uses_keyboard(self) -> bool:
        """Keyboard and mouse drive it (a window, no timeline)."""
        from panda3d.core import GraphicsWindow

        return self.timeline is None and self._base is not None and isinstance(self._base.win, GraphicsWindow)

    # -- states ---------------------------------------------------------------------------------
    def poll(self) -> None:
        """One state change per frame, as a runtime's events arrive."""
        if self._pending:
            self.state = self._pending.pop(0)
            self.history.append(self.state)
            if self.state == "exiting":
                self.exited = True

    @property
    def running(self) -> bool:
        return self.state in STARTING

    def request_exit(self) -> None:
        """Walk down from the current state as a runtime does: ... synchronized, stopping, idle, exiting."""
        if self._pending and self._pending[-1] == "exiting":
            return
        running = ("focused", "visible", "synchronized")
        below = running[running.index(self.state) + 1:] if self.state in running else ()
        self._pending = [*below, *(("stopping",) if self.state != "idle" else ()), "idle", "exiting"]
        if self.state == "idle":
            self._pending = ["exiting"]

    # -- frames ---------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move the simulated clock (the driver calls it once per frame)."""
        self.time += seconds
        timeline = self.timeline
        if timeline is not None and timeline.lose is not None and self.time >= timeline.lose and not self.lost:
            self._pending = []
            self.state = "loss_pending"             # the runtime lost the headset: the session is gone
            self.history.append(self.state)
            self.lost = self.exited = True
        elif timeline is not None and timeline.end is not None and self.time >= timeline.end and self.running:
            self.request_exit()

    def begin_frame(self) -> TrackingFrame | None:
        if not self.running:
            return None
        self._in_frame = True
        timeline = self.timeline
        if timeline is not None:
            head = timeline.pose("head", self.time) or STANDING_HEAD
            grips = {hand: timeline.pose(hand, self.time) or RESTING_HANDS[hand] for hand in RESTING_HANDS}
            controls = timeline.controls_at(self.time) if self.state == "focused" else {}
        else:
            head, grips, controls = self._from_devices()
        eyes: tuple[EyeView, EyeView] = stereo_eyes(head, self.eye_separation, self.fov)
        return TrackingFrame(head, eyes, grips, dict(grips), controls, self.time)

    def _from_devices(self) -> tuple[Pose, dict[str, Pose], dict[str, HandControls]]:
        base = self._base
        watcher = getattr(base, "mouseWatcherNode", None) if base is not None else None
        if watcher is None or not watcher.hasMouse():
            return STANDING_HEAD, dict(RESTING_HANDS), {}
        from panda3d.core import KeyboardButton, Point3

        mouse = watcher.getMouse()
        self._head_hpr = [-mouse.x * 120.0, mouse.y * 60.0]
        head = Pose.from_hpr(STANDING_HEAD.pos, (self._head_hpr[0], self._head_hpr[1], 0.0))

        def down(key: str) -> bool:
            return watcher.isButtonDown(KeyboardButton.asciiKey(key) if len(key) == 1 else KeyboardButton.space())

        from panda3d.core import LQuaternion

        turn = LQuaternion()
        turn.setHpr((self._head_hpr[0], 0.0, 0.0))
        grips = {}
        for hand, rest in RESTING_HANDS.items():
            offset = turn.xform(Point3(*rest.pos) - Point3(0, 0, 0))
            grips[hand] = Pose((offset.x, offset.y, rest.pos[2]), head.quat)
        left = HandControls(thumbstick=(float(down("d")) - float(down("a")), float(down("w")) - float(down("s"))))
        right = HandControls(trigger=float(down("f")), squeeze=float(down("g")), primary=down(" "),
                             thumbstick=(float(down("e")) - float(down("q")), 1.0 if down("t") else 0.0))
        return head, grips, {"left": left, "right": right}

    def submit_eyes(self, textures: list[Any], gsg: Any) -> None:
        """Nothing to hand over: the eyes stay in their textures (shown side by side)."""

    def end_frame(self) -> None:
        if self._in_frame:
            self._in_frame = False
            self.frames_submitted += 1

    def haptic(self, hand: str, amplitude: float = 0.5, seconds: float = 0.05) -> None:
        """No controller to buzz."""

    def close(self) -> None:
        self._base = None
