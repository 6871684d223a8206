"""Playing PropAnimator components: one clip of a glTF model, looping or once, on the fixed tick.

A clip can move three kinds of things, and one clip may move all three at once:

- plain nodes (translation, rotation, scale): sampled from the file's keys at the clip's time
  (``gltf_clips``) and set on the model's nodes;
- a skeleton, and
- morph-target weights: both turned by panda3d-gltf into AnimBundles under the model's
  Characters, bound here to an AnimControl each and posed at the clip's time (Panda3D blends
  between the converter's 30 samples a second; ``engine.render.gltf_fixes`` makes those samples
  follow the keys).

Everything follows the tick's ``dt`` and the joints are updated every tick, drawn or not, so a
headless world poses its props exactly as a windowed one does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from panda3d.core import AnimControl, NodePath, PartBundle

from engine.animation.components import PropAnimator
from engine.animation.gltf_clips import GltfClips, read_clips
from engine.packs.assets import AssetCache
from engine.render.components import UNITS
from engine.render.materials import apply_material_inputs

if TYPE_CHECKING:
    from engine.core.world import World

REBUILD_FIELDS = frozenset(("model", "unit"))


@dataclass
class _Prop:
    """What the player keeps per PropAnimator entity."""

    node: NodePath
    info: GltfClips
    paths: dict[int, NodePath]                     # glTF node -> its node in this copy of the model
    controls: dict[str, list[AnimControl]]         # clip -> its bound skeleton / morph animations
    bundles: list[PartBundle]
    clip: str = ""                                 # the clip playing ('' : none)
    time: float = 0.0
    reported: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class PropState:
    """One PropAnimator's playback, for World snapshots."""

    clip: str
    time: float
    reported: frozenset[str]


class PropPlayer:
    """Builds, plays and poses the AnimationSystem's PropAnimator entities."""

    def __init__(self, assets: AssetCache, error: Callable[[str], None]) -> None:
        self.assets = assets
        self.error = error
        self.live: dict[int, _Prop] = {}
        self._clips: dict[str, GltfClips] = {}     # per model: read once

    # -- building -------------------------------------------------------------------------------
    def build(self, world: "World", eid: int, prop: PropAnimator, owner: str) -> None:
        node = self.assets.model(prop.model, f"{owner} PropAnimator.model")
        info = GltfClips()
        if not self.assets.failed(prop.model):
            apply_material_inputs(node)
            if prop.unit != "m":
                node.setScale(UNITS[prop.unit])
            if not prop.model.startswith("primitive:"):
                info = self._clips.get(prop.model) or self._clips.setdefault(prop.model,
                                                                             read_clips(self.assets.content, prop.model))
            for problem in info.problems:
                self.error(f"{owner} PropAnimator.model: {problem}")
            if not info.clips and not info.problems:
                self.error(f"{owner} PropAnimator.model: {prop.model!r} has no animations; showing it still")
        node.setName("prop")
        node.reparentTo(world.node(eid))
        controls, bundles = _bind(node)
        live = self.live[eid] = _Prop(node, info, info.node_paths(node) if info.clips else {}, controls, bundles)
        self._start(live, prop, owner)

    def drop(self, eid: int) -> None:
        live = self.live.pop(eid, None)
        if live is not None and not live.node.isEmpty():
            live.node.removeNode()

    def changed(self, world: "World", eid: int, prop: PropAnimator, field_name: str, owner: str) -> None:
        if field_name in REBUILD_FIELDS:
            self.drop(eid)
            self.build(world, eid, prop, owner)
        elif field_name == "clip" and eid in self.live:
            self._start(self.live[eid], prop, owner)

    def _start(self, live: _Prop, prop: PropAnimator, owner: str) -> None:
        """Play ``prop.clip`` from its beginning (the first clip for ''); an unknown name is
        reported once and the model keeps its rest pose."""
        wanted = prop.clip or next(iter(live.info.clips), "")
        live.clip, live.time = "", 0.0
        if wanted in live.info.clips:
            live.clip = wanted
        elif prop.clip and live.info.clips and prop.clip not in live.reported:
            live.reported.add(prop.clip)
            self.error(f"{owner} PropAnimator.clip: the clip {prop.clip!r} is not in {prop.model!r}; its clips are "
                       f"{', '.join(live.info.clips)}")
        prop.time = 0.0
        self._pose(live, prop)

    # -- the tick -------------------------------------------------------------------------------
    def update(self, world: "World", dt: float) -> None:
        for eid, prop in world.query(PropAnimator):
            live = self.live.get(eid)
            if live is None or not live.clip:
                continue
            if prop.playing and dt > 0.0:
                seconds = live.info.clips[live.clip].seconds
                live.time += dt * prop.speed
                if seconds <= 0.0:
                    live.time = 0.0
                elif prop.loop:
                    live.time %= seconds
                else:
                    live.time = min(live.time, seconds)
            prop.time = live.time
            self._pose(live, prop)

    def _pose(self, live: _Prop, prop: PropAnimator) -> None:
        clip = live.info.clips.get(live.clip)
        if clip is None:
            return
        posed: dict[int, dict[str, tuple[float, ...]]] = {}
        for track in clip.tracks:
            posed.setdefault(track.node, {})[track.path] = track.sample(live.time)
        for nid, values in posed.items():
            path = live.paths.get(nid)
            if path is not None:
                path.setMat(live.info.matrix(nid, values))
        for control in live.controls.get(live.clip, ()):
            frames = control.getNumFrames()
            frame = live.time * control.getFrameRate()
            control.pose(frame % frames if prop.loop else min(frame, frames - 1))
        for bundle in live.bundles:
            bundle.forceUpdate()                   # nothing may render (headless): move the joints now

    # -- what the system hands on -----------------------------------------------------------------
    def clips(self, eid: int) -> list[str]:
        live = self.live.get(eid)
        return list(live.info.clips) if live is not None else []

    def save(self) -> dict[int, PropState]:
        return {eid: PropState(live.clip, live.time, frozenset(live.reported)) for eid, live in self.live.items()}

    def load(self, world: "World", states: dict[int, PropState]) -> None:
        for eid, live in self.live.items():
            saved, prop = states.get(eid), world.get(eid, PropAnimator)
            if saved is None or prop is None:
                continue
            live.clip = saved.clip if saved.clip in live.info.clips else ""
            live.time, live.reported = saved.time, set(saved.reported)
            prop.time = live.time
            self._pose(live, prop)


def _bind(model: NodePath) -> tuple[dict[str, list[AnimControl]], list[PartBundle]]:
    """An AnimControl per clip per Character of the model (panda3d-gltf puts each clip's
    AnimBundle under the Character it moves), and the Characters' bundles."""
    controls: dict[str, list[AnimControl]] = {}
    bundles = []
    for character in model.findAllMatches("**/+Character"):
        bundle = character.node().getBundle(0)
        bundles.append(bundle)
        for found in character.findAllMatches("**/+AnimBundleNode"):
            anim = found.node().getBundle()
            control = bundle.bindAnim(anim, -1)
            if control is not None:
                controls.setdefault(anim.getName(), []).append(control)
    return controls, bundles
