"""Voice chat over real aiortc peer connections on 127.0.0.1 (loopback only offered): ann holds
push-to-talk with a 440 Hz tone source, bob hears decoded Opus whose dominant frequency is 440 Hz;
nothing reaches bob while the key is up; bob's mute of ann and the server's mute both silence her."""
from __future__ import annotations

import numpy as np

from engine.input.input_system import InputSystem
from engine.input.sources import DirectActionSource
from netcode.voice import PUSH_TO_TALK, VoiceRelay
from netcode.voice_audio import RATE, ToneSource
from netcode.webrtc import WebRTCServer
from tests.net_helpers import join, run, start_server, tick_until

LOOPBACK = ["127.0.0.1"]
VOICE = ("play", "chat", "voice")


def dominant_frequency(pcm: np.ndarray) -> float:
    samples = pcm.astype(np.float64) * np.hanning(len(pcm))
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(pcm), 1.0 / RATE)[int(np.argmax(spectrum[1:])) + 1])


async def voice_pair(server):  # type: ignore[no-untyped-def]
    ann = await join(server, "ann", permissions=VOICE, webrtc=True, webrtc_addresses=LOOPBACK, voice=True,
                     voice_source=ToneSource(440.0))
    bob = await join(server, "bob", permissions=VOICE, webrtc=True, webrtc_addresses=LOOPBACK, voice=True)
    keys = DirectActionSource()
    ann.world.system(InputSystem).set_source(keys)
    connected = lambda: ann.webrtc.open and bob.webrtc.open and len(server.webrtc.voice.listeners) == 2  # noqa: E731
    await tick_until([ann, bob], connected, 900)
    assert connected()
    return ann, bob, keys


async def quiet_for(clients, bob, ticks: int) -> int:  # type: ignore[no-untyped-def]
    """Frames bob receives over ``ticks`` ticks, after letting 0.4 s of frames in flight land."""
    await tick_until(clients, lambda: False, 24)
    before = bob.voice.received_frames
    await tick_until(clients, lambda: False, ticks)
    return bob.voice.received_frames - before


def test_push_to_talk_tone_reaches_the_other_player_and_nothing_while_the_key_is_up() -> None:
    async def scenario() -> None:
        server = await start_server()
        server.webrtc = WebRTCServer(server, addresses=LOOPBACK, voice=VoiceRelay(bitrate_cap=24000))
        try:
            ann, bob, keys = await voice_pair(server)
            assert await quiet_for([ann, bob], bob, 60) == 0          # key up: silence on the wire
            assert ann.voice.track.sent_frames == 0
            keys.hold(PUSH_TO_TALK)                                   # the input action, as key V gives it
            heard = lambda: bob.voice.received_frames >= 40           # noqa: E731 - 0.8 s of voice
            await tick_until([ann, bob], heard, 900)
            assert heard(), (ann.voice.track.sent_frames, server.webrtc.voice.frames_in)
            pcm = bob.voice.output.samples()[-RATE // 2:]
            assert np.abs(pcm).max() > 1000                           # sound, not silence
            assert abs(dominant_frequency(pcm) - 440.0) < 10.0
            assert ann.voice.received_frames == 0                     # nobody hears themselves
            assert server.webrtc.voice.listeners["bob"].encoder.bitrate == 24000   # the per-client cap
            assert VoiceRelay(bitrate_cap=12000).listen("eve", bitrate=64000).encoder.bitrate == 12000
            keys.hold(PUSH_TO_TALK, False)
            assert await quiet_for([ann, bob], bob, 60) == 0          # key up again: nothing more arrives
            await ann.close()
            await bob.close()
        finally:
            await server.stop()
    run(scenario())


def test_a_muted_speaker_is_not_heard() -> None:
    async def scenario() -> None:
        server = await start_server()
        relay = VoiceRelay()
        server.webrtc = WebRTCServer(server, addresses=LOOPBACK, voice=relay)
        try:
            ann, bob, keys = await voice_pair(server)
            bob.mute("ann")                                           # bob's own choice, through the server
            await tick_until([ann, bob], lambda: "ann" in relay.listeners["bob"].muted, 300)
            keys.hold(PUSH_TO_TALK)
            await tick_until([ann, bob], lambda: relay.frames_in.get("ann", 0) > 30, 900)
            assert relay.frames_in.get("ann", 0) > 30                 # ann is talking, the server gets it
            assert await quiet_for([ann, bob], bob, 60) == 0          # ... and bob hears none of it
            bob.mute("ann", False)
            await tick_until([ann, bob], lambda: bob.voice.received_frames > 10, 600)
            assert bob.voice.received_frames > 10
            relay.server_muted.add("ann")                             # a moderator's mute, for everyone
            assert await quiet_for([ann, bob], bob, 60) == 0
            await ann.close()
            await bob.close()
        finally:
            await server.stop()
    run(scenario())


def test_voice_needs_the_voice_permission() -> None:
    async def scenario() -> None:
        server = await start_server()
        relay = VoiceRelay()
        server.webrtc = WebRTCServer(server, addresses=LOOPBACK, voice=relay)
        try:
            ann = await join(server, "ann", permissions=("play",), webrtc=True, webrtc_addresses=LOOPBACK,
                             voice=True, voice_source=ToneSource(440.0))
            bob = await join(server, "bob", permissions=VOICE, webrtc=True, webrtc_addresses=LOOPBACK, voice=True)
            await tick_until([ann, bob], lambda: ann.webrtc.open and bob.webrtc.open and len(relay.listeners) == 2, 900)
            ann.voice.set_talking(True)
            await tick_until([ann, bob], lambda: ann.voice.track.sent_frames > 40, 900)
            assert ann.voice.track.sent_frames > 40
            assert bob.voice.received_frames == 0 and relay.frames_in.get("ann", 0) == 0
            await ann.close()
            await bob.close()
        finally:
            await server.stop()
    run(scenario())
