"""The Animator component: a skinned model whose clips follow how the entity moves."""
from __future__ import annotations

from engine.core.component import Component
from engine.core.fields import AssetRef, Enum, Field, Float, Str

STATES = ("idle", "walk", "run", "jump")
CLIP_FIELDS = {state: f"{state}_clip" for state in STATES}  # state -> the Animator field naming its clip


class Animator(Component):
    """Draws a skinned glTF model (use it instead of a MeshRenderer) and plays its clips.

    Each tick the AnimationSystem picks a state: ``jump`` while a CharacterController is off the
    ground, else ``run``, ``walk`` or ``idle`` by horizontal speed, and cross-fades to that
    state's clip over ``fade`` seconds. Walk and run play faster or slower with speed.
    ``current`` is written by the system; scripts read it, or call
    ``AnimationSystem.play(entity, clip)`` for a one-shot.
    """

    model = Field(AssetRef("model"), "base:models/character.gltf", doc="a skinned model with its clips",
                  replicate=True)
    idle_clip = Field(Str(100), "idle", doc="clip played standing still")
    walk_clip = Field(Str(100), "walk", doc="clip played walking (loops; starts on the same foot as run)")
    run_clip = Field(Str(100), "run", doc="clip played running (loops; starts on the same foot as walk)")
    jump_clip = Field(Str(100), "jump", doc="clip played in the air (plays once and holds its last frame)")
    walk_threshold = Field(Float(0.0, 1000.0), 0.3, doc="horizontal m/s from which the character walks")
    run_threshold = Field(Float(0.0, 1000.0), 6.0, doc="horizontal m/s from which the character runs")
    walk_clip_speed = Field(Float(0.0, 1000.0), 4.0,
                            doc="m/s at which the walk clip plays at rate 1 (0: always rate 1)")
    run_clip_speed = Field(Float(0.0, 1000.0), 8.0,
                           doc="m/s at which the run clip plays at rate 1 (0: always rate 1)")
    fade = Field(Float(0.0, 10.0), 0.2, doc="seconds a cross-fade between clips takes (0: cut)")
    heading = Field(Float(-360.0, 360.0), 0.0,
                    doc="degrees added to the model's heading (180 turns a model that faces -Y)")
    state = Field(Enum(("", *STATES)), "", doc="force a state; '' picks it from the motion", replicate=True)
    current = Field(Str(100), "idle", doc="the state (or one-shot clip) playing now, written by the system",
                    editable=False, saved=False, replicate=True)
