"""The AnimationSystem: an Actor per Animator, its state picked from the motion, clips cross-faded;
and the PropAnimators' one clip each (``engine/animation/props.py``).

Everything follows the fixed tick: each clip is posed at a phase advanced by the tick's ``dt``
(``AnimControl.pose``, never ``play``/``loop`` with their wall clock), blend weights move
linearly over ``Animator.fade``, and the joints are updated every tick whether or not anything
renders, so a headless world gives the same poses as a windowed one.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from panda3d.core import AnimControl, NodePath, Point3

from engine.animation.components import CLIP_FIELDS, Animator, PropAnimator
from engine.animation.props import PropPlayer
from engine.animation.snapshot_state import load_animators, save_animators
from engine.core.events import ComponentAdded, ComponentRemoved, FieldChanged
from engine.core.system import ORDER_ANIMATION, System
from engine.packs.assets import AssetCache
from engine.physics.components import CharacterController
from engine.render.gltf_fixes import install_gltf_fixes
from engine.render.materials import apply_material_inputs

if TYPE_CHECKING:
    from direct.actor.Actor import Actor

    from engine.core.world import World

log = logging.getLogger("storm.animation")

PART = "modelRoot"           # the Actor part a single glTF character loads into
AIR_GRACE = 0.1              # seconds off the ground (not rising) before a fall counts as a jump
MIN_RATE, MAX_RATE = 0.25, 3.0
TELEPORT_SPEED = 100.0       # m/s: a faster move in one tick is a teleport and keeps the last speed
LOCOMOTION = "locomotion"    # walk and run share this phase, so feet stay in step through a fade
ONE_SHOT = "one-shot"        # seconds played of the clip started by play()
FADING = "fading-one-shot"   # seconds played of an ended one-shot while it fades out (holds its last frame)
REBUILD_FIELDS = frozenset(("model", *CLIP_FIELDS.values()))


@dataclass
class _Clip:
    """One animation of an Actor: its control and length."""

    control: AnimControl
    frames: int
    frame_rate: float

    @property
    def seconds(self) -> float:
        return self.frames / self.frame_rate


@dataclass
class _Live:
    """What the system keeps per Animator entity."""

    node: NodePath                       # the Actor, or the static model / placeholder shown instead
    actor: "Actor | None"
    clips: dict[str, _Clip]
    weights: dict[str, float] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)   # looping: 0..1; once: seconds played
    one_shot: str = ""
    one_shot_rate: float = 1.0
    fading_one_shot: str = ""            # an ended one-shot still fading out, posed at its last frame
    last_pos: Point3 | None = None
    speed: float = 0.0
    air_time: float = 0.0
    reported: set[tuple[str, str]] = field(default_factory=set)
    joints: dict[str, NodePath] = field(default_factory=dict)


class AnimationSystem(System):
    """Plays Animator components (builds their Actors, picks states, cross-fades and poses clips)
    and PropAnimator components (one clip each, through a PropPlayer)."""

    name = "animation"
    order = ORDER_ANIMATION

    def __init__(self, assets: AssetCache) -> None:
        self.assets = assets
        self.errors: list[str] = []
        self._world: "World | None" = None
        self._live: dict[int, _Live] = {}
        self.props = PropPlayer(assets, self._error)
        install_gltf_fixes()

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self, world: "World") -> None:
        self._world = world
        self.listen(world, {ComponentAdded: self._added, ComponentRemoved: self._removed, FieldChanged: self._changed},
                    (Animator, PropAnimator))

    def detach(self, world: "World") -> None:
        self.stop_listening()
        for eid in list(self._live):
            self._drop(eid)
        for eid in list(self.props.live):
            self.props.drop(eid)
        self._world = None

    def save_state(self, world: "World") -> dict:
        state: dict = save_animators(self._live)
        if self.props.live:
            state["props"] = self.props.save()
        return state

    def load_state(self, world: "World", state: dict | None) -> None:
        if state is not None:
            load_animators(self, state)
            self.props.load(world, state.get("props", {}))

    def _added(self, event: ComponentAdded) -> None:
        if isinstance(event.component, Animator):
            self._build(event.entity, event.component)
        elif isinstance(event.component, PropAnimator):
            assert self._world is not None
            self.props.build(self._world, event.entity, event.component, self._owner(event.entity))

    def _removed(self, event: ComponentRemoved) -> None:
        if isinstance(event.component, Animator):
            self._drop(event.entity)
        elif isinstance(event.component, PropAnimator):
            self.props.drop(event.entity)

    def _changed(self, event: FieldChanged) -> None:
        if isinstance(event.component, PropAnimator):
            assert self._world is not None
            self.props.changed(self._world, event.entity, event.component, event.field, self._owner(event.entity))
            return
        if not isinstance(event.component, Animator):
            return
        if event.field in REBUILD_FIELDS:
            self._drop(event.entity)
            self._build(event.entity, event.component)
        elif event.field == "heading" and event.entity in self._live:
            self._live[event.entity].node.setH(event.component.heading)

    # -- building -------------------------------------------------------------------------------
    def _owner(self, eid: int) -> str:
        assert self._world is not None
        name = self._world.name_of(eid)
        return f"entity {eid} ({name})" if name else f"entity {eid}"

    def _error(self, message: str) -> None:
        log.error(message)
        self.errors.append(message)

    def _build(self, eid: int, animator: Animator) -> None:
        assert self._world is not None
        owner = self._owner(eid)
        node = self.assets.model(animator.model, f"{owner} Animator.model")
        live = _Live(node, None, {})
        if not self.assets.failed(animator.model):   # a failed model already logged and shows a placeholder
            apply_material_inputs(node)
            live = self._make_actor(owner, animator, node)
        live.node.setName("animated")
        live.node.setH(animator.heading)
        live.node.reparentTo(self._world.node(eid))
        self._live[eid] = live
        if live.clips:
            for state in CLIP_FIELDS:
                self._clip_for(eid, live, animator, state)

    def _make_actor(self, owner: str, animator: Animator, node: NodePath) -> _Live:
        from direct.actor.Actor import Actor

        if node.find("**/+Character").isEmpty():
            self._error(f"{owner} Animator.model: {animator.model!r} has no skeleton (no skinned joints), "
                        "so it cannot animate; showing it still")
            return _Live(node, None, {})
        try:
            actor = Actor(node, copy=False)
        except Exception as exc:  # noqa: BLE001 - a broken model must not stop the world
            self._error(f"{owner} Animator.model: {animator.model!r} did not load as an animated model ({exc}); "
                        "showing it still")
            return _Live(node, None, {})
        clips: dict[str, _Clip] = {}
        for name in sorted(actor.getAnimNames()):
            control = actor.getAnimControl(name, PART)
            if control is not None and control.getNumFrames() > 0:
                clips[name] = _Clip(control, control.getNumFrames(), max(control.getFrameRate(), 1e-3))
        if not clips:
            self._error(f"{owner} Animator.model: {animator.model!r} has a skeleton but no animations; "
                        "showing it in its rest pose")
        actor.enableBlend(partName=PART)
        for name in clips:
            actor.setControlEffect(name, 0.0, PART)
        actor.update(force=True)
        return _Live(actor, actor, clips)

    def _clip_for(self, eid: int, live: _Live, animator: Animator, state: str) -> str:
        """The clip a state plays. A clip name the model lacks is reported once and the idle clip
        stands in ('' when that is missing too: the model keeps its pose)."""
        field_name = CLIP_FIELDS[state]
        clip = getattr(animator, field_name)
        if clip in live.clips:
            return clip
        if (field_name, clip) not in live.reported:
            live.reported.add((field_name, clip))
            self._error(f"{self._owner(eid)} Animator.{field_name}: the clip {clip!r} is not in {animator.model!r}; "
                        f"its clips are {', '.join(sorted(live.clips)) or 'none'}")
        return animator.idle_clip if state != "idle" and animator.idle_clip in live.clips else ""

    def _drop(self, eid: int) -> None:
        live = self._live.pop(eid, None)
        if live is None:
            return
        if live.actor is not None:
            live.actor.cleanup()
        if not live.node.isEmpty():
            live.node.removeNode()

    # -- the tick -------------------------------------------------------------------------------
    def update(self, world: "World", dt: float) -> None:
        root = world.root
        for eid, animator in world.query(Animator):
            live = self._live.get(eid)
            if live is None:
                continue
            pos = world.node(eid).getPos(root)
            if live.last_pos is not None and dt > 0:
                speed = math.hypot(pos.x - live.last_pos.x, pos.y - live.last_pos.y) / dt
                if speed < TELEPORT_SPEED:
                    live.speed = speed
            live.last_pos = pos
            state = self._pick_state(live, animator, world.get(eid, CharacterController), dt)
            if not live.clips:
                animator.current = live.one_shot or state
                continue
            if live.one_shot:
                target = animator.current = live.one_shot
            else:
                target = self._clip_for(eid, live, animator, state)
                animator.current = state
            if live.fading_one_shot and live.fading_one_shot == target:
                self._resume_as_state(live, animator)
            entered = self._fade(live, target, dt, animator.fade)
            if live.fading_one_shot and live.fading_one_shot not in live.weights:
                live.fading_one_shot = ""
                live.phases.pop(FADING, None)
            self._advance(live, animator, entered, dt)
            self._pose(live, animator)
        self.props.update(world, dt)

    def _pick_state(self, live: _Live, animator: Animator, controller: CharacterController | None,
                    dt: float) -> str:
        if controller is not None and not controller.grounded:
            live.air_time += dt
        else:
            live.air_time = 0.0
        if animator.state:
            return animator.state
        if controller is not None and not controller.grounded and (
                controller.vertical_speed > 0.0 or live.air_time >= AIR_GRACE):
            return "jump"
        if live.speed >= animator.run_threshold:
            return "run"
        if live.speed >= animator.walk_threshold:
            return "walk"
        return "idle"

    @staticmethod
    def _rate(animator: Animator, state: str, speed: float) -> float:
        """Walk and run play at speed / their clip speed while moving; everything else at rate 1."""
        clip_speed = {"walk": animator.walk_clip_speed, "run": animator.run_clip_speed}.get(state, 0.0)
        if clip_speed <= 0.0 or speed < animator.walk_threshold:
            return 1.0
        return min(max(speed / clip_speed, MIN_RATE), MAX_RATE)

    @staticmethod
    def _fade(live: _Live, target: str, dt: float, fade: float) -> list[str]:
        """Move the target's weight up by dt / fade, scaling the others so all sum to 1.

        Returns the clips that came in at weight 0 this tick (their phases restart)."""
        weights = live.weights
        entered = []
        if target and target not in weights:
            weights[target] = 0.0 if weights else 1.0
            entered.append(target)
        if not target:
            return entered
        step = dt / fade if fade > 0.0 else 1.0
        weights[target] = min(1.0, weights[target] + step)
        others = sum(w for clip, w in weights.items() if clip != target)
        scale = (1.0 - weights[target]) / others if others > 0.0 else 0.0
        for clip in list(weights):
            if clip != target:
                weights[clip] *= scale
                if weights[clip] < 1e-6:
                    del weights[clip]
        if len(weights) == 1:
            weights[target] = 1.0
        return entered

    def _advance(self, live: _Live, animator: Animator, entered: list[str], dt: float) -> None:
        """Move every weighted clip on by dt: loops by phase, once-clips by seconds played."""
        for clip in entered:
            key = self._phase_key(live, animator, clip)
            shared = key == LOCOMOTION and any(
                self._phase_key(live, animator, other) == LOCOMOTION for other in live.weights if other != clip)
            if not shared:
                live.phases[key] = 0.0
        cycles = 0.0    # locomotion: weighted cycles per second of walk and run
        weight = 0.0
        for clip, w in live.weights.items():
            key = self._phase_key(live, animator, clip)
            rate = self._clip_rate(live, animator, clip)
            if key == LOCOMOTION:
                cycles += w * rate / live.clips[clip].seconds
                weight += w
            elif not self._loops(live, animator, clip):
                live.phases[key] = live.phases.get(key, 0.0) + dt * rate
            else:
                live.phases[key] = (live.phases.get(key, 0.0) + dt * rate / live.clips[clip].seconds) % 1.0
        if weight > 0.0:
            live.phases[LOCOMOTION] = (live.phases.get(LOCOMOTION, 0.0) + dt * cycles / weight) % 1.0
        if live.one_shot and live.phases.get(ONE_SHOT, 0.0) >= live.clips[live.one_shot].seconds:
            live.fading_one_shot, live.one_shot = live.one_shot, ""
            live.phases[FADING] = live.phases.pop(ONE_SHOT)

    def _resume_as_state(self, live: _Live, animator: Animator) -> None:
        """The ended one-shot is the clip the motion wants now: it stays in from where it ended
        (its weight kept, its phase carried over) instead of fading out and back in from frame 0."""
        clip, played = live.fading_one_shot, live.phases.pop(FADING, 0.0)
        live.fading_one_shot = ""
        key = self._phase_key(live, animator, clip)
        if key == LOCOMOTION and any(self._phase_key(live, animator, other) == LOCOMOTION
                                     for other in live.weights if other != clip):
            return                                     # walk and run keep their shared phase
        if self._loops(live, animator, clip):
            live.phases[key] = (played / live.clips[clip].seconds) % 1.0
        else:
            live.phases[key] = played

    def _pose(self, live: _Live, animator: Animator) -> None:
        actor = live.actor
        assert actor is not None
        for clip, info in live.clips.items():
            w = live.weights.get(clip, 0.0)
            actor.setControlEffect(clip, w, PART)
            if w <= 0.0:
                continue
            key = self._phase_key(live, animator, clip)
            if self._loops(live, animator, clip):
                frame = live.phases.get(key, 0.0) * info.frames
            else:
                frame = min(live.phases.get(key, 0.0) * info.frame_rate, info.frames - 1)
            info.control.pose(frame)
        actor.update(force=True)  # nothing may render (headless): update the joints now

    # -- clip roles -----------------------------------------------------------------------------
    @staticmethod
    def _loops(live: _Live, animator: Animator, clip: str) -> bool:
        """Idle, walk and run clips loop; the jump clip and one-shots (also while an ended one
        fades out) play once and hold."""
        return clip not in (live.one_shot, live.fading_one_shot, animator.jump_clip)

    def _phase_key(self, live: _Live, animator: Animator, clip: str) -> str:
        if clip == live.one_shot:
            return ONE_SHOT
        if clip == live.fading_one_shot:
            return FADING
        if clip in (animator.walk_clip, animator.run_clip):
            return LOCOMOTION
        return clip

    def _clip_rate(self, live: _Live, animator: Animator, clip: str) -> float:
        if clip in (live.one_shot, live.fading_one_shot):
            return live.one_shot_rate
        if clip == animator.walk_clip:
            return self._rate(animator, "walk", live.speed)
        if clip == animator.run_clip:
            return self._rate(animator, "run", live.speed)
        return 1.0

    # -- what behaviours use --------------------------------------------------------------------
    def play(self, eid: int, clip: str, rate: float = 1.0) -> bool:
        """Play a clip once over whatever the motion picks (a state name plays that state's clip),
        cross-fading in and, when it ends, back out. False (and a warning) if the clip is unknown."""
        live = self._live.get(eid)
        animator = self._world.get(eid, Animator) if self._world is not None else None
        if live is None or animator is None:
            log.warning("AnimationSystem.play: entity %s has no Animator", eid)
            return False
        if clip in CLIP_FIELDS and clip not in live.clips:
            clip = getattr(animator, CLIP_FIELDS[clip])
        if clip not in live.clips:
            log.warning("%s: play(%r): no such clip in %r; its clips are %s", self._owner(eid), clip,
                        animator.model, ", ".join(sorted(live.clips)) or "none")
            return False
        live.one_shot, live.one_shot_rate = clip, max(rate, 1e-3)
        live.phases[ONE_SHOT] = 0.0
        if live.fading_one_shot == clip:               # the same clip again: it restarts
            live.fading_one_shot = ""
            live.phases.pop(FADING, None)
        return True

    def weights(self, eid: int) -> dict[str, float]:
        """Blend weight per clip now playing (they sum to 1); empty for a model that cannot animate."""
        live = self._live.get(eid)
        return dict(live.weights) if live is not None else {}

    def clips(self, eid: int) -> list[str]:
        """The clip names the entity's model has (an Animator's sorted, a PropAnimator's in the
        file's order)."""
        if eid in self.props.live:
            return self.props.clips(eid)
        live = self._live.get(eid)
        return sorted(live.clips) if live is not None else []

    def speed(self, eid: int) -> float:
        """The horizontal speed (m/s) the entity moved at during the last tick."""
        live = self._live.get(eid)
        return live.speed if live is not None else 0.0

    def joint(self, eid: int, name: str) -> NodePath | None:
        """A node that follows a joint of the entity's skeleton (attach a sword to ``hand_R``, read
        where a foot is); None when the model has no such joint."""
        live = self._live.get(eid)
        if live is None or live.actor is None:
            return None
        node = live.joints.get(name)
        if node is None:
            if live.actor.getPartBundle(PART).findChild(name) is None:
                return None
            node = live.actor.exposeJoint(None, PART, name)
            live.actor.update(force=True)
            live.joints[name] = node
        return node
