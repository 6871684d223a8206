"""The AnimationSystem's part of World snapshots: per Animator entity, the clip blend weights and
phases (in their order, which the cross-fade arithmetic follows), the one-shot playing or fading,
and the speed and air time the state choice reads. Restoring poses each Actor at once."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from panda3d.core import Point3

if TYPE_CHECKING:
    from engine.animation.system import AnimationSystem, _Live


@dataclass(frozen=True)
class AnimatorState:
    """One Animator's playback state."""

    weights: tuple[tuple[str, float], ...]
    phases: tuple[tuple[str, float], ...]
    one_shot: str
    one_shot_rate: float
    fading_one_shot: str
    last_pos: tuple[float, float, float] | None
    speed: float
    air_time: float
    reported: frozenset[tuple[str, str]]


def save_animators(live: dict[int, "_Live"]) -> dict[int, AnimatorState]:
    return {eid: AnimatorState(tuple(entry.weights.items()), tuple(entry.phases.items()), entry.one_shot,
                               entry.one_shot_rate, entry.fading_one_shot,
                               None if entry.last_pos is None else tuple(entry.last_pos),  # type: ignore[arg-type]
                               entry.speed, entry.air_time, frozenset(entry.reported))
            for eid, entry in live.items()}


def load_animators(system: "AnimationSystem", states: dict[int, AnimatorState]) -> None:
    from engine.animation.components import Animator

    world = system._world
    assert world is not None
    for eid, entry in system._live.items():
        saved = states.get(eid)
        if saved is None:
            continue
        entry.weights = dict(saved.weights)
        entry.phases = dict(saved.phases)
        entry.one_shot, entry.one_shot_rate, entry.fading_one_shot = (saved.one_shot, saved.one_shot_rate,
                                                                     saved.fading_one_shot)
        entry.last_pos = None if saved.last_pos is None else Point3(*saved.last_pos)
        entry.speed, entry.air_time = saved.speed, saved.air_time
        entry.reported = set(saved.reported)
        animator = world.get(eid, Animator)
        if entry.actor is not None and entry.clips and animator is not None:
            system._pose(entry, animator)
