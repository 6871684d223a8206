"""Components that make and hear sound: AudioSource on an emitter, AudioListener on the ears (the camera)."""
from __future__ import annotations

from engine.core.component import Component
from engine.core.fields import AssetRef, Bool, Field, Float


class AudioSource(Component):
    """A sound played from this entity: positioned in 3D (or not), once or looping, on start,
    on a collision (louder for harder hits) or when a script calls ``AudioSystem.play``."""

    sound = Field(AssetRef("sound"), "base:sounds/impact.wav", doc="the sound file (WAV, Ogg Vorbis, FLAC, Opus)")
    volume = Field(Float(0.0, 1.0), 1.0, doc="loudness at full strength (a collision at full impulse)")
    pitch = Field(Float(0.1, 4.0), 1.0, doc="playback rate: 2 is an octave up and twice as fast")
    loop = Field(Bool(), False, doc="start again from the beginning when it ends")
    spatial = Field(Bool(), True, doc="positioned at the entity and heard from the listener's place (needs mono)")
    min_distance = Field(Float(0.01, 10000.0), 1.0, doc="metres within which the sound is at full volume")
    max_distance = Field(Float(0.01, 100000.0), 100.0, doc="metres beyond which it gets no quieter")
    play_on_start = Field(Bool(), False, doc="play as soon as the entity appears in a running world")
    stream = Field(Bool(), False, doc="decode while playing instead of all at once (music, long ambience)")
    play_on_collision = Field(Bool(), False, doc="play when the entity's body is hit")
    impulse_for_full_volume = Field(Float(0.001, 1.0e6), 10.0,
                                    doc="collision impulse (N*s) at which the hit plays at `volume`")
    min_impulse = Field(Float(0.0, 1.0e6), 0.5, doc="softer collisions than this make no sound (resting contact)")
    collision_cooldown = Field(Float(0.0, 10.0), 0.05, doc="seconds after a collision sound before another may play")


class AudioListener(Component):
    """Marks the entity whose position and facing the player hears from; usually the camera.

    When several are active, the one with the lowest entity id is used.
    """

    active = Field(Bool(), True, doc="can be the listener")
    volume = Field(Float(0.0, 1.0), 1.0, doc="master volume of everything this listener hears")
