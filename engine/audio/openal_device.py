"""The OpenAL audio device: Panda3D's audio manager (OpenAL by default) behind the device interface."""
from __future__ import annotations

import weakref

from panda3d.core import AudioManager, AudioSound, ConfigVariableString, Filename

from engine.audio.device import AudioDevice, ListenerState, PlayRequest, Vec3, Voice
from engine.packs.sound_files import SoundInfo


class OpenALVoice(Voice):
    """One Panda3D AudioSound; the manager shares decoded sample data between voices of a file."""

    def __init__(self, sound: AudioSound, spatial: bool) -> None:
        self.sound = sound
        self.spatial = spatial

    def play(self, request: PlayRequest) -> None:
        sound = self.sound
        sound.setVolume(request.volume)
        sound.setPlayRate(request.pitch)
        sound.setLoop(request.loop)
        if self.spatial:
            sound.set3dMinDistance(request.min_distance)
            sound.set3dMaxDistance(request.max_distance)
            sound.set3dAttributes(*request.position, *request.velocity)
        sound.play()

    def stop(self) -> None:
        self.sound.stop()

    def set_volume(self, volume: float) -> None:
        self.sound.setVolume(volume)

    def set_pitch(self, pitch: float) -> None:
        self.sound.setPlayRate(pitch)

    def set_loop(self, loop: bool) -> None:
        self.sound.setLoop(loop)

    def set_distances(self, min_distance: float, max_distance: float) -> None:
        if self.spatial:
            self.sound.set3dMinDistance(min_distance)
            self.sound.set3dMaxDistance(max_distance)

    def move(self, position: Vec3, velocity: Vec3) -> None:
        if self.spatial:
            self.sound.set3dAttributes(*position, *velocity)

    def playing(self) -> bool:
        return self.sound.status() == AudioSound.PLAYING

    def release(self) -> None:
        self.sound.stop()


class OpenALAudioDevice(AudioDevice):
    """Plays through Panda3D's audio manager; raises RuntimeError when no output device opens.

    Panda3D converts its Z-up coordinates to OpenAL's itself; positions are in metres.
    """

    kind = "openal"

    def __init__(self) -> None:
        manager = AudioManager.createAudioManager()
        if not manager.isValid():
            library = ConfigVariableString("audio-library-name").getValue()
            raise RuntimeError(f"Panda3D's audio manager ({library}) could not open an output device")
        self.manager = manager
        self._voices: "weakref.WeakSet[OpenALVoice]" = weakref.WeakSet()

    def load(self, info: SoundInfo, *, spatial: bool, stream: bool) -> OpenALVoice:
        mode = AudioManager.SM_stream if stream else AudioManager.SM_sample
        sound = self.manager.getSound(Filename(info.filename), spatial, mode)
        if sound is None or sound.getType().getName() == "NullAudioSound":
            raise RuntimeError(f"the audio manager could not load {info.path}")
        voice = OpenALVoice(sound, spatial)
        self._voices.add(voice)
        return voice

    def set_listener(self, listener: ListenerState) -> None:
        self.manager.setVolume(listener.volume)
        self.manager.audio3dSetListenerAttributes(*listener.position, *listener.velocity, *listener.forward,
                                                  *listener.up)

    def update(self, time: float) -> None:
        self.manager.update()

    def close(self) -> None:
        # Not manager.shutdown(): that silences every audio manager in the process (ShowBase's
        # and other worlds' too). Dropping the last reference frees just this one.
        for voice in list(self._voices):
            voice.release()
        self.manager = None  # type: ignore[assignment]
