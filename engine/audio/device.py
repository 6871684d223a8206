"""The audio device interface: what the AudioSystem asks of whatever makes (or records) sound.

Two devices implement it: ``OpenALAudioDevice`` (Panda3D's OpenAL manager) and
``NullAudioDevice`` (records what would have played). The AudioSystem drives either the same way.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

from engine.packs.sound_files import SoundInfo

log = logging.getLogger("storm.audio")

Vec3 = tuple[float, float, float]
DEVICE_KINDS = ("openal", "null")


@dataclass(frozen=True)
class PlayRequest:
    """One request to start a sound, with everything that shapes how it sounds."""

    tick: int
    time: float
    entity: int
    sound: str
    volume: float
    pitch: float
    loop: bool
    spatial: bool
    stream: bool
    position: Vec3
    velocity: Vec3
    min_distance: float
    max_distance: float
    cause: str  # "start", "collision" or "script"


@dataclass(frozen=True)
class ListenerState:
    """Where the listener is and which way it faces, in world coordinates (Z up, +Y forward)."""

    position: Vec3 = (0.0, 0.0, 0.0)
    velocity: Vec3 = (0.0, 0.0, 0.0)
    forward: Vec3 = (0.0, 1.0, 0.0)
    up: Vec3 = (0.0, 0.0, 1.0)
    volume: float = 1.0


class Voice(ABC):
    """One loaded sound on a device, belonging to one AudioSource; plays one instance at a time."""

    @abstractmethod
    def play(self, request: PlayRequest) -> None:
        """Start (or restart) with the request's settings."""

    @abstractmethod
    def stop(self) -> None:
        """Stop at once."""

    @abstractmethod
    def set_volume(self, volume: float) -> None: ...

    @abstractmethod
    def set_pitch(self, pitch: float) -> None: ...

    @abstractmethod
    def set_loop(self, loop: bool) -> None: ...

    @abstractmethod
    def set_distances(self, min_distance: float, max_distance: float) -> None: ...

    @abstractmethod
    def move(self, position: Vec3, velocity: Vec3) -> None:
        """Place a spatial voice (called each tick while it plays)."""

    @abstractmethod
    def playing(self) -> bool: ...

    @abstractmethod
    def release(self) -> None:
        """Stop and free what the device holds for this voice."""


class AudioDevice(ABC):
    """Loads sounds into voices, places the listener and advances playback once per tick."""

    kind: str = "device"

    @abstractmethod
    def load(self, info: SoundInfo, *, spatial: bool, stream: bool) -> Voice:
        """A voice for a checked sound file; raises RuntimeError when the device cannot load it."""

    @abstractmethod
    def set_listener(self, listener: ListenerState) -> None: ...

    @abstractmethod
    def update(self, time: float) -> None:
        """Advance playback to world time ``time`` (refills streams, ends finished sounds)."""

    @abstractmethod
    def close(self) -> None: ...


def open_device(kind: str = "openal") -> AudioDevice:
    """The device of a kind: ``openal`` falls back to ``null`` with a warning when no device opens."""
    from engine.audio.null_device import NullAudioDevice

    if kind == "null":
        return NullAudioDevice()
    if kind != "openal":
        raise ValueError(f"audio device kind {kind!r}: expected one of {', '.join(DEVICE_KINDS)}")
    from engine.audio.openal_device import OpenALAudioDevice

    try:
        return OpenALAudioDevice()
    except RuntimeError as exc:
        log.warning("no audio output (%s); sounds are recorded by the null audio device instead", exc)
        return NullAudioDevice()
