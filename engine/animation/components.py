"""The animation components: the Animator (a skinned character whose clips follow how the entity
moves) and the PropAnimator (a model playing one clip: doors, fans, flags, chests)."""
from __future__ import annotations

from engine.core.component import Component
from engine.core.fields import AssetRef, Bool, Enum, Field, Float, Str
from engine.render.components import UNITS

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


class PropAnimator(Component):
    """Draws a glTF model (use it instead of a MeshRenderer) and plays one of its clips: node
    (translation/rotation/scale), skeletal and morph-target animation alike.

    The clip advances with the fixed tick by ``speed`` seconds per second while ``playing``;
    ``loop`` plays it round and round, otherwise it stops on its last pose. Changing ``clip``
    starts the new one from its beginning. Clip names are the file's animation names; an unnamed
    one is ``anim<N>`` (N its place in the file, from 0). ``time`` is written by the system.
    """

    model = Field(AssetRef("model"), "primitive:box", doc="a glTF model carrying its clips", replicate=True)
    clip = Field(Str(100), "", doc="the clip to play ('' plays the file's first clip)", replicate=True)
    loop = Field(Bool(), True, doc="play the clip round and round (off: play once and hold the last pose)")
    speed = Field(Float(0.0, 100.0), 1.0, doc="seconds of the clip played per second (0 holds the pose)")
    playing = Field(Bool(), True, doc="off pauses the clip where it is", replicate=True)
    unit = Field(Enum(tuple(UNITS)), "m", doc="the unit the model file is measured in: cm or mm scale it to metres")
    time = Field(Float(0.0, 1e9), 0.0, doc="seconds into the clip now, written by the system (each client's own)",
                 editable=False, saved=False)
