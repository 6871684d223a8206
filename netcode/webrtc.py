"""WebRTC transport for snapshots (aiortc): an unordered, unreliable data channel negotiated over
the websocket (SIGNAL messages carry the SDP offer and answer: no other signalling server), and
on the same peer connection, voice chat (an Opus track each way: netcode/voice.py).

No STUN or TURN server is asked unless given (``ice_servers``). aioice leaves 127.0.0.1 out of
its host candidates; ``host_addresses`` says which local addresses to offer instead (tests give
["127.0.0.1"]; None keeps aioice's own choice). While the channel is not open, or if it never
opens, snapshots go over the websocket as before: the fallback needs nothing from either side.
Everything else (handshake, input, events) always stays on the websocket.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Iterator

from netcode import messages as m

if TYPE_CHECKING:
    from netcode.client import NetClient
    from netcode.server import NetServer
    from netcode.session import Session
    from netcode.voice import VoiceClient, VoiceRelay

log = logging.getLogger("storm.net")
CHANNEL = "snapshots"


@contextlib.contextmanager
def host_addresses(addresses: list[str] | None) -> Iterator[None]:
    """While gathering candidates: offer exactly ``addresses`` as host candidates (None: aioice's)."""
    if addresses is None:
        yield
        return
    import aioice.ice

    original = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(addresses)
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = original


def _configuration(ice_servers: list[str]) -> Any:
    from aiortc import RTCConfiguration, RTCIceServer

    return RTCConfiguration(iceServers=[RTCIceServer(urls=url) for url in ice_servers])


class WebRTCServer:
    """The server's side: one peer connection per session that asks for one."""

    def __init__(self, server: "NetServer", ice_servers: list[str] | None = None,
                 addresses: list[str] | None = None, voice: "VoiceRelay | None" = None) -> None:
        self.server = server
        self.ice_servers = ice_servers or []
        self.addresses = addresses
        self.voice = voice        # a VoiceRelay: voice chat between the peers; None: no voice
        self._peers: dict[int, Any] = {}
        self._channels: dict[int, Any] = {}
        self.sent = 0

    def on_signal(self, session: "Session", msg: m.Signal) -> None:
        if msg.kind != "offer":
            return
        asyncio.get_running_loop().create_task(self._answer(session, msg.sdp))

    async def _answer(self, session: "Session", sdp: str) -> None:
        from aiortc import RTCPeerConnection, RTCSessionDescription

        old = self._peers.pop(id(session), None)
        if old is not None:
            await old.close()
        pc = RTCPeerConnection(_configuration(self.ice_servers))
        self._peers[id(session)] = pc

        @pc.on("datachannel")
        def on_channel(channel: Any) -> None:
            if channel.label == CHANNEL:
                self._channels[id(session)] = channel

        voice = self.voice

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio" and voice is not None:
                voice.speak(session.player, track, session.grant.allows("voice"))

        try:
            with host_addresses(self.addresses):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
                if voice is not None and any(t.kind == "audio" for t in pc.getTransceivers()):
                    pc.addTrack(voice.listen(session.player))
                await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # noqa: BLE001 - a bad offer means the websocket carries on alone
            log.warning("net: webrtc offer from %s refused: %s; snapshots stay on the websocket", session.player, exc)
            self._peers.pop(id(session), None)
            await pc.close()
            return
        self.server.ticker.send(session, m.encode_signal(m.Signal("answer", pc.localDescription.sdp), from_server=True))

    def send_snapshot(self, session: "Session", data: bytes) -> bool:
        """Send over the session's open data channel; False when there is none (use the websocket)."""
        channel = self._channels.get(id(session))
        if channel is None or channel.readyState != "open" or not session.connected:
            return False
        try:
            channel.send(data)
        except Exception:  # noqa: BLE001 - a closing channel: the websocket takes it
            return False
        session.bytes_out += len(data)
        self.sent += 1
        return True

    def forget(self, session: "Session") -> None:
        """A session left: its voice goes (its peer connection closes with the server's)."""
        if self.voice is not None:
            self.voice.drop(session.player)

    async def close(self) -> None:
        if self.voice is not None:
            self.voice.close()
        for pc in list(self._peers.values()):
            await pc.close()
        self._peers.clear()
        self._channels.clear()


class WebRTCClient:
    """The client's side: offers a data channel after the welcome; what arrives on it joins the inbox."""

    def __init__(self, client: "NetClient", ice_servers: list[str] | None = None,
                 addresses: list[str] | None = None, voice: "VoiceClient | None" = None) -> None:
        self.client = client
        self.ice_servers = ice_servers or []
        self.addresses = addresses
        self.voice = voice
        self.pc: Any = None
        self.channel: Any = None
        self.received = 0

    @property
    def open(self) -> bool:
        return self.channel is not None and self.channel.readyState == "open"

    async def offer(self) -> None:
        from aiortc import RTCPeerConnection

        self.pc = pc = RTCPeerConnection(_configuration(self.ice_servers))
        self.channel = channel = pc.createDataChannel(CHANNEL, ordered=False, maxRetransmits=0)

        @channel.on("message")
        def on_message(data: Any) -> None:
            if isinstance(data, (bytes, bytearray)) and data[:1] == bytes([m.SNAPSHOT]):
                self.received += 1
                self.client.inbox.append(bytes(data))   # only snapshots may come this way

        if self.voice is not None:
            self.voice.attach(pc)
        with host_addresses(self.addresses):
            await pc.setLocalDescription(await pc.createOffer())
        self.client.send(m.encode_signal(m.Signal("offer", pc.localDescription.sdp), from_server=False))

    def on_signal(self, msg: m.Signal) -> None:
        if msg.kind == "answer" and self.pc is not None and self.client._loop is not None:
            asyncio.run_coroutine_threadsafe(self._accept(msg.sdp), self.client._loop)  # from the tick's thread

    async def _accept(self, sdp: str) -> None:
        from aiortc import RTCSessionDescription

        try:
            with host_addresses(self.addresses):
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:  # noqa: BLE001 - the websocket carries on alone
            log.warning("net: webrtc answer refused: %s; snapshots stay on the websocket", exc)

    async def close(self) -> None:
        if self.voice is not None:
            await self.voice.close()
        if self.pc is not None:
            await self.pc.close()
