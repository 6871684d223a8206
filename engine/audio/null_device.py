"""The null audio device: plays nothing and records everything, so headless runs, servers and
tests go through the same AudioSystem code as a game with speakers."""
from __future__ import annotations

from collections import deque

from engine.audio.device import AudioDevice, ListenerState, PlayRequest, Vec3, Voice
from engine.packs.sound_files import SoundInfo


class NullVoice(Voice):
    """A voice that keeps the settings a real one would have and knows when it would finish."""

    def __init__(self, device: "NullAudioDevice", info: SoundInfo, spatial: bool, stream: bool) -> None:
        self.device = device
        self.info = info
        self.spatial = spatial
        self.stream = stream
        self.volume = 1.0
        self.pitch = 1.0
        self.loop = False
        self.min_distance = 1.0
        self.max_distance = 100.0
        self.position: Vec3 = (0.0, 0.0, 0.0)
        self.velocity: Vec3 = (0.0, 0.0, 0.0)
        self.play_count = 0
        self.released = False
        self._ends_at: float | None = None  # None: not playing

    def play(self, request: PlayRequest) -> None:
        self.volume, self.pitch, self.loop = request.volume, request.pitch, request.loop
        self.min_distance, self.max_distance = request.min_distance, request.max_distance
        self.position, self.velocity = request.position, request.velocity
        self.play_count += 1
        self._ends_at = request.time + self.info.duration / self.pitch
        self.device.played.append(request)

    def stop(self) -> None:
        self._ends_at = None

    def set_volume(self, volume: float) -> None:
        self.volume = volume

    def set_pitch(self, pitch: float) -> None:
        self.pitch = pitch

    def set_loop(self, loop: bool) -> None:
        self.loop = loop

    def set_distances(self, min_distance: float, max_distance: float) -> None:
        self.min_distance, self.max_distance = min_distance, max_distance

    def move(self, position: Vec3, velocity: Vec3) -> None:
        self.position, self.velocity = position, velocity

    def playing(self) -> bool:
        if self._ends_at is None:
            return False
        return self.loop or self.device.time < self._ends_at

    def release(self) -> None:
        self.stop()
        self.released = True
        if self in self.device.voices:
            self.device.voices.remove(self)


class NullAudioDevice(AudioDevice):
    """Records play requests in ``played`` (oldest first; the newest ``max_records`` are kept, so a
    long headless run does not grow without bound) and the listener in ``listener``; ``voices``
    holds the voices not yet released."""

    kind = "null"

    def __init__(self, max_records: int = 4096) -> None:
        self.played: deque[PlayRequest] = deque(maxlen=max_records)
        self.listener = ListenerState()
        self.voices: list[NullVoice] = []
        self.time = 0.0
        self.closed = False

    def load(self, info: SoundInfo, *, spatial: bool, stream: bool) -> NullVoice:
        voice = NullVoice(self, info, spatial, stream)
        self.voices.append(voice)
        return voice

    def set_listener(self, listener: ListenerState) -> None:
        self.listener = listener

    def update(self, time: float) -> None:
        self.time = time

    def close(self) -> None:
        for voice in list(self.voices):
            voice.release()
        self.closed = True

    def plays_of(self, entity: int) -> list[PlayRequest]:
        """The play requests made for one entity, oldest first."""
        return [request for request in self.played if request.entity == entity]
