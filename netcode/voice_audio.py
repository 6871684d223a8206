"""Voice audio apart from the network: where a player's voice comes from (a microphone, a file or a
tone), Opus encoding (PyAV's libopus, which aiortc itself uses), mixing, and where received voice
goes (the engine's OpenAL output, or a bounded recorder when the audio device is the null one).

Everything is 48 kHz mono signed 16-bit PCM in 20 ms frames (960 samples), Opus's and WebRTC's
usual shape. Sources and outputs are plain objects so that a test, a headless bot and a game with
speakers run the same code.
"""
from __future__ import annotations

import fractions
import logging
import math
import threading
from collections import deque
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger("storm.net")

RATE = 48000
FRAME = 960                      # samples in 20 ms
TIME_BASE = fractions.Fraction(1, RATE)
MIN_BITRATE, MAX_BITRATE = 6000, 128000
MAX_FILE_SECONDS = 120.0         # a voice file longer than this is cut (memory stays bounded)


class VoiceError(RuntimeError):
    """A voice source or output that cannot work here (names the device or file and why)."""


class VoiceSource(Protocol):
    """Gives 20 ms frames of 48 kHz mono int16 PCM."""

    def read(self, samples: int) -> np.ndarray: ...

    def close(self) -> None: ...


class ToneSource:
    """A sine tone (tests and headless bots): ``frequency`` Hz at ``level`` of full scale."""

    def __init__(self, frequency: float = 440.0, level: float = 0.3) -> None:
        if not (20.0 <= frequency <= RATE / 2 and 0.0 < level <= 1.0):
            raise VoiceError(f"a tone of 20-{RATE // 2} Hz at a level in (0, 1] (got {frequency} Hz, {level})")
        self.frequency = frequency
        self.level = level
        self._n = 0

    def read(self, samples: int) -> np.ndarray:
        t = (self._n + np.arange(samples)) / RATE
        self._n += samples
        return (np.sin(2 * math.pi * self.frequency * t) * self.level * 32767).astype(np.int16)

    def close(self) -> None:
        pass


class FileSource:
    """A sound file decoded once (any format FFmpeg reads, at most ``MAX_FILE_SECONDS``), played in a loop."""

    def __init__(self, path: str | Path) -> None:
        import av

        try:
            with av.open(str(path)) as container:
                if not container.streams.audio:
                    raise VoiceError(f"{path}: no audio stream")
                resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
                chunks: list[np.ndarray] = []
                total = 0
                for frame in container.decode(audio=0):
                    for out in resampler.resample(frame):
                        chunk = out.to_ndarray().reshape(-1)
                        chunks.append(chunk)
                        total += len(chunk)
                    if total > MAX_FILE_SECONDS * RATE:
                        break
        except (av.error.FFmpegError, OSError) as exc:
            raise VoiceError(f"{path}: not a sound file FFmpeg can read ({exc})") from None
        pcm = np.concatenate(chunks)[: int(MAX_FILE_SECONDS * RATE)] if chunks else np.zeros(0, np.int16)
        if not len(pcm):
            raise VoiceError(f"{path}: no samples")
        self.pcm = pcm.astype(np.int16)
        self._at = 0

    def read(self, samples: int) -> np.ndarray:
        idx = (self._at + np.arange(samples)) % len(self.pcm)
        self._at = int((self._at + samples) % len(self.pcm))
        return self.pcm[idx]

    def close(self) -> None:
        pass


class MicrophoneSource:
    """The default capture device through FFmpeg (ALSA); a reader thread keeps at most 0.5 s.
    ``VoiceError`` when there is no microphone (a headless machine: use a tone or file source)."""

    def __init__(self, device: str = "default", driver: str = "alsa") -> None:
        import av

        try:
            self._container = av.open(device, format=driver, options={"sample_rate": str(RATE), "channels": "1"})
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise VoiceError(f"microphone {driver}:{device}: cannot be opened ({exc})") from None
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self._buffer: deque[np.ndarray] = deque(maxlen=25)
        self._pending = np.zeros(0, np.int16)
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="storm-microphone", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for frame in self._container.decode(audio=0):
                if self._stop:
                    return
                for out in self._resampler.resample(frame):
                    self._buffer.append(out.to_ndarray().reshape(-1).astype(np.int16))
        except Exception as exc:  # noqa: BLE001 - a device that goes away leaves silence
            log.warning("voice: the microphone stopped (%s)", exc)

    def read(self, samples: int) -> np.ndarray:
        while len(self._pending) < samples and self._buffer:
            self._pending = np.concatenate([self._pending, self._buffer.popleft()])
        out, self._pending = self._pending[:samples], self._pending[samples:]
        return np.pad(out, (0, samples - len(out)))   # silence while the device is behind

    def close(self) -> None:
        self._stop = True
        self._container.close()


def check_bitrate(bitrate: int) -> int:
    if not MIN_BITRATE <= bitrate <= MAX_BITRATE:
        raise VoiceError(f"a voice bitrate of {MIN_BITRATE}-{MAX_BITRATE} bit/s (got {bitrate})")
    return bitrate


class OpusEncoder:
    """20 ms mono frames to Opus packets (``av.Packet`` with pts and time base set, what an aiortc
    sender packs as they are) at a fixed bitrate."""

    def __init__(self, bitrate: int) -> None:
        import av

        self.bitrate = check_bitrate(bitrate)
        codec = av.CodecContext.create("libopus", "w")
        codec.bit_rate = bitrate
        codec.format = "s16"
        codec.layout = "mono"
        codec.sample_rate = RATE
        codec.time_base = TIME_BASE
        codec.options = {"application": "voip"}
        self.codec = codec
        self._av = av

    def encode(self, pcm: np.ndarray, pts: int) -> list[Any]:
        frame = self._av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm, np.int16).reshape(1, -1), format="s16",
                                                 layout="mono")
        frame.sample_rate = RATE
        frame.pts = pts
        frame.time_base = TIME_BASE
        packets = list(self.codec.encode(frame))
        for i, packet in enumerate(packets):
            packet.pts = pts + i * FRAME
            packet.time_base = TIME_BASE
        return packets


def to_mono(frame: Any) -> np.ndarray:
    """A decoded ``av.AudioFrame`` (aiortc's decoder gives 48 kHz stereo s16) as mono int16."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        mono = data.astype(np.int32).mean(axis=0)
    else:
        mono = data.reshape(-1, channels).astype(np.int32).mean(axis=1)
    if frame.format.name not in ("s16", "s16p"):
        raise VoiceError(f"decoded voice as {frame.format.name}: expected s16")
    return mono.astype(np.int16)


def mix(frames: list[np.ndarray]) -> np.ndarray:
    """Sum of frames (the shortest length), clipped to int16."""
    n = min(len(f) for f in frames)
    total = np.sum([f[:n].astype(np.int32) for f in frames], axis=0)
    return np.clip(total, -32768, 32767).astype(np.int16)


class VoiceOutput(Protocol):
    """Where received voice goes."""

    frames: int

    def write(self, pcm: np.ndarray) -> None: ...

    def close(self) -> None: ...


class RecordingVoiceOutput:
    """What a null audio device does with voice: keeps the newest ``seconds`` of samples (bounded)."""

    def __init__(self, seconds: float = 10.0) -> None:
        self._chunks: deque[np.ndarray] = deque(maxlen=max(1, int(seconds * RATE / FRAME)))
        self.frames = 0
        self._lock = threading.Lock()

    def write(self, pcm: np.ndarray) -> None:
        with self._lock:
            self._chunks.append(np.asarray(pcm, np.int16))
            self.frames += 1

    def samples(self) -> np.ndarray:
        with self._lock:
            return np.concatenate(list(self._chunks)) if self._chunks else np.zeros(0, np.int16)

    def close(self) -> None:
        with self._lock:
            self._chunks.clear()


class OpenALVoiceOutput:
    """Streams voice into Panda3D's audio manager (OpenAL) through a ``UserDataAudio`` stream."""

    def __init__(self, manager: Any) -> None:
        from panda3d.core import UserDataAudio

        self._stream = UserDataAudio(RATE, 1)
        self._sound = manager.getSound(self._stream)
        self.frames = 0

    def write(self, pcm: np.ndarray) -> None:
        self._stream.append(np.asarray(pcm, "<i2").tobytes())
        self.frames += 1
        if self._sound.status() != self._sound.PLAYING:
            self._sound.play()

    def close(self) -> None:
        self._sound.stop()
        self._stream.done()


def output_for(world: Any) -> VoiceOutput:
    """The engine's audio output of ``world``: OpenAL when its AudioSystem plays through OpenAL,
    else a recorder (the null device, or a headless world without audio)."""
    from engine.audio.system import AudioSystem

    system = world.system(AudioSystem) if world is not None else None
    device = getattr(system, "device", None)
    if device is not None and getattr(device, "kind", "") == "openal" and getattr(device, "manager", None) is not None:
        try:
            return OpenALVoiceOutput(device.manager)
        except Exception as exc:  # noqa: BLE001 - no stream there: voice is recorded instead
            log.warning("voice: OpenAL stream unavailable (%s); voice is recorded, not played", exc)
    return RecordingVoiceOutput()
