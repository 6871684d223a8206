"""Voice chat: an Opus audio track each way on the aiortc peer connection that carries snapshots
(negotiated in the same SIGNAL offer and answer over the websocket), with push-to-talk.

The sound design is a per-listener relay (a small mixer), not a forward of packets: the server's
aiortc decodes each speaker's track; for each listener one outgoing track mixes the 20 ms frames
of everyone talking that the listener has not muted (and the server has not muted) and encodes
them once, at the listener's bitrate cap. So each client sends one track and receives one track
whatever the number of speakers, and nothing needs renegotiating when someone starts talking.

Push-to-talk: the client's track gives aiortc a frame only while the ``push_to_talk`` action
(default key V) is held; while it is up the track waits and no packet leaves. The relay's track
likewise sends only while somebody it forwards is talking, at most one frame per 20 ms.
Speakers need the ``voice`` permission; anyone may mute anyone for themselves.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.core.system import ORDER_PHYSICS, System
from netcode.voice_audio import FRAME, RATE, OpusEncoder, VoiceOutput, VoiceSource, check_bitrate, mix, to_mono

if TYPE_CHECKING:
    from engine.core.world import World

log = logging.getLogger("storm.net")
PUSH_TO_TALK = "push_to_talk"
DEFAULT_BITRATE = 24000          # bit/s of Opus voice (a client's own, and the server's cap per listener)
MAX_MUTES = 256                  # players one listener can have muted
QUEUED_FRAMES = 10               # 200 ms of one speaker waiting for a listener's mix; older frames go


def _track_base() -> type:
    from aiortc.mediastreams import MediaStreamTrack

    return MediaStreamTrack


class _Clock:
    """The RTP clock of a track: pts runs on with wall time, so a pause shows as a timestamp gap."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.pts = -FRAME

    def next(self) -> int:
        now = time.monotonic()
        if self.start is None:
            self.start = now
        self.pts = max(self.pts + FRAME, int((now - self.start) * RATE) // FRAME * FRAME)
        return self.pts

    async def pace(self) -> None:
        """Wait until the next frame is due (never faster than real time)."""
        if self.start is not None:
            due = self.start + (self.pts + FRAME) / RATE
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)


def push_to_talk_track(source: VoiceSource, bitrate: int = DEFAULT_BITRATE) -> Any:
    """The client's outgoing track (see the module doc): ``set_talking(True)`` while the key is held."""

    class PushToTalkTrack(_track_base()):  # type: ignore[misc]
        kind = "audio"

        def __init__(self) -> None:
            super().__init__()
            self.source = source
            self.encoder = OpusEncoder(bitrate)
            self.talking = False
            self.sent_frames = 0
            self._event = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._thread = threading.current_thread()
            self._clock = _Clock()
            self._pending: deque[Any] = deque()

        def set_talking(self, talking: bool) -> None:
            """Thread-safe (the tick may run on another thread than the network's loop)."""
            if talking == self.talking:
                return
            self.talking = talking
            if threading.current_thread() is self._thread:
                self._apply()
            else:
                self._loop.call_soon_threadsafe(self._apply)

        def _apply(self) -> None:
            if self.talking:
                self._event.set()
            else:
                self._event.clear()

        async def recv(self) -> Any:
            from aiortc.mediastreams import MediaStreamError

            while True:
                if self.readyState != "live":
                    raise MediaStreamError
                if self._pending:
                    return self._pending.popleft()
                if not self.talking:
                    await self._event.wait()     # key up: nothing is sent
                    self._clock.start = None     # a new talk spurt starts its clock afresh
                    continue
                await self._clock.pace()
                pts = self._clock.next()
                packets = self.encoder.encode(self.source.read(FRAME), pts)
                self.sent_frames += 1
                self._pending.extend(packets)

        def stop(self) -> None:
            super().stop()
            self._event.set()

    return PushToTalkTrack()


class PushToTalkSystem(System):
    """Reads the ``push_to_talk`` action each tick and starts or stops the voice track."""

    name = "net_push_to_talk"
    order = ORDER_PHYSICS - 5

    def __init__(self, voice: "VoiceClient") -> None:
        self.voice = voice
        self._declared: bool | None = None

    def update(self, world: "World", dt: float) -> None:
        from engine.input.input_system import InputSystem

        system = world.system(InputSystem)
        if system is None or self.voice.track is None:
            return
        actions = system.actions
        if self._declared is None:
            self._declared = actions.defaults.kinds().get(PUSH_TO_TALK) == "button"
            if not self._declared:
                log.warning("voice: the action map has no %r button; push-to-talk works only from code", PUSH_TO_TALK)
        if self._declared:                       # edges only: code may talk without the key
            if actions.pressed(PUSH_TO_TALK):
                self.voice.set_talking(True)
            elif actions.released(PUSH_TO_TALK):
                self.voice.set_talking(False)


class VoiceClient:
    """The client's voice: its outgoing push-to-talk track (when it has a source) and what it hears
    (frames of the server's relay, decoded by aiortc, written to ``output``)."""

    def __init__(self, source: VoiceSource | None, output: VoiceOutput, bitrate: int = DEFAULT_BITRATE) -> None:
        self.source = source
        self.output = output
        self.bitrate = check_bitrate(bitrate)
        self.track: Any = None
        self.self_muted = False
        self.received_frames = 0
        self._task: asyncio.Task | None = None

    def attach(self, pc: Any) -> None:
        """Before the offer: a sendrecv audio transceiver (sending only with a source)."""
        if self.source is not None:
            self.track = push_to_talk_track(self.source, self.bitrate)
            pc.addTrack(self.track)
        else:
            pc.addTransceiver("audio", direction="recvonly")

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                self._task = asyncio.get_running_loop().create_task(self._play(track))

    async def _play(self, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            try:
                pcm = to_mono(frame)
            except Exception as exc:  # noqa: BLE001 - a frame we cannot read is skipped, not fatal
                log.warning("voice: unreadable frame from the server (%s)", exc)
                continue
            self.received_frames += 1
            self.output.write(pcm)

    def set_talking(self, talking: bool) -> None:
        """Push-to-talk from code (what the PushToTalkSystem does from the input action)."""
        if self.track is not None:
            self.track.set_talking(talking and not self.self_muted)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.track is not None:
            self.track.stop()
        if self.source is not None:
            self.source.close()
        self.output.close()


def relay_track(listener: str, bitrate: int) -> Any:
    """One listener's outgoing track on the server (see the module doc)."""

    class RelayTrack(_track_base()):  # type: ignore[misc]
        kind = "audio"

        def __init__(self) -> None:
            super().__init__()
            self.listener = listener
            self.encoder = OpusEncoder(bitrate)
            self.muted: set[str] = set()
            self.queues: dict[str, deque[np.ndarray]] = {}
            self.sent_frames = 0
            self._event = asyncio.Event()
            self._clock = _Clock()
            self._pending: deque[Any] = deque()

        def push(self, speaker: str, pcm: np.ndarray) -> None:
            if speaker in self.muted:
                return
            queue = self.queues.get(speaker)
            if queue is None:
                queue = self.queues[speaker] = deque(maxlen=QUEUED_FRAMES)
            queue.append(pcm)
            self._event.set()

        def forget(self, speaker: str) -> None:
            self.queues.pop(speaker, None)

        async def recv(self) -> Any:
            from aiortc.mediastreams import MediaStreamError

            while True:
                if self.readyState != "live":
                    raise MediaStreamError
                if self._pending:
                    return self._pending.popleft()
                frames = [q.popleft() for q in self.queues.values() if q]
                if not frames:
                    self._event.clear()
                    self._clock.start = None
                    await self._event.wait()
                    continue
                await self._clock.pace()
                self.sent_frames += 1
                self._pending.extend(self.encoder.encode(mix(frames), self._clock.next()))

        def stop(self) -> None:
            super().stop()
            self._event.set()

    return RelayTrack()


class VoiceRelay:
    """The server's voice: one relay track per listener, a reader per speaker's incoming track,
    mutes (per listener, and ``server_muted`` for everyone), a bitrate cap per listener."""

    def __init__(self, bitrate_cap: int = DEFAULT_BITRATE) -> None:
        self.bitrate_cap = check_bitrate(bitrate_cap)
        self.listeners: dict[str, Any] = {}
        self.server_muted: set[str] = set()
        self.frames_in: dict[str, int] = {}
        self._mutes: dict[str, set[str]] = {}
        self._tasks: dict[str, asyncio.Task] = {}

    def listen(self, player: str, bitrate: int | None = None) -> Any:
        """A new relay track for ``player`` (replacing an older one), capped at the server's bitrate."""
        old_track = self.listeners.pop(player, None)
        if old_track is not None:
            old_track.stop()
        track = relay_track(player, min(bitrate or self.bitrate_cap, self.bitrate_cap))
        old = self._mutes.get(player)
        if old:
            track.muted = set(old)
        self.listeners[player] = track
        return track

    def speak(self, player: str, track: Any, allowed: bool) -> None:
        """Read a speaker's incoming track; frames of a speaker without the permission are dropped."""
        task = self._tasks.pop(player, None)
        if task is not None:
            task.cancel()
        self._tasks[player] = asyncio.get_running_loop().create_task(self._pump(player, track, allowed))

    async def _pump(self, speaker: str, track: Any, allowed: bool) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not allowed or speaker in self.server_muted:
                continue
            try:
                pcm = to_mono(frame)
            except Exception:  # noqa: BLE001 - a frame that is not voice is dropped
                continue
            self.frames_in[speaker] = self.frames_in.get(speaker, 0) + 1
            for listener, relay in self.listeners.items():
                if listener != speaker:
                    relay.push(speaker, pcm)

    def mute(self, listener: str, speaker: str, muted: bool) -> None:
        """``listener`` stops (or starts again) hearing ``speaker``."""
        mutes = self._mutes.setdefault(listener, set())
        if muted and speaker not in mutes and len(mutes) >= MAX_MUTES:
            return                                   # names a peer sends stay bounded
        (mutes.add if muted else mutes.discard)(speaker)
        relay = self.listeners.get(listener)
        if relay is not None:
            relay.muted = set(mutes)
            if muted:
                relay.forget(speaker)

    def drop(self, player: str, keep_mutes: bool = False) -> None:
        relay = self.listeners.pop(player, None)
        if relay is not None:
            relay.stop()
        task = self._tasks.pop(player, None)
        if task is not None:
            task.cancel()
        for other in self.listeners.values():
            other.forget(player)
        if not keep_mutes:
            self._mutes.pop(player, None)

    def close(self) -> None:
        for player in list(self.listeners) + list(self._tasks):
            self.drop(player)
