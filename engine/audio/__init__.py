"""Sound: AudioSource/AudioListener components, the AudioSystem, and the devices it drives
(OpenAL through Panda3D, or the null device that records what would have played)."""
from __future__ import annotations

from engine.audio.components import AudioListener, AudioSource
from engine.audio.device import AudioDevice, ListenerState, PlayRequest, Voice, open_device
from engine.audio.null_device import NullAudioDevice
from engine.audio.system import AudioSystem, connect_collisions
from engine.packs.sound_files import SOUND_SUFFIXES, SoundFileError, SoundInfo, probe_sound, sound_problem

AUDIO_COMPONENTS = (AudioSource, AudioListener)

__all__ = ["AUDIO_COMPONENTS", "AudioDevice", "AudioListener", "AudioSource", "AudioSystem", "ListenerState",
           "NullAudioDevice", "PlayRequest", "SOUND_SUFFIXES", "SoundFileError", "SoundInfo", "Voice",
           "connect_collisions", "open_device", "probe_sound", "sound_problem"]
