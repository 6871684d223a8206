"""WebRTC: snapshots move to an unreliable, unordered aiortc data channel negotiated over the
websocket, with no STUN server and only the loopback address offered; a server without WebRTC
leaves them on the websocket."""
from __future__ import annotations

from netcode.webrtc import WebRTCServer
from tests.net_helpers import join, run, start_server, tick_until

LOOPBACK = ["127.0.0.1"]


def test_snapshots_travel_over_a_webrtc_data_channel() -> None:
    async def scenario() -> None:
        server = await start_server()
        server.webrtc = WebRTCServer(server, addresses=LOOPBACK)
        try:
            client = await join(server, "ann", webrtc=True, webrtc_addresses=LOOPBACK)
            over_rtc = lambda: client.webrtc.open and client.webrtc.received > 10  # noqa: E731
            await tick_until([client], over_rtc, 600)
            assert over_rtc(), (client.webrtc.channel.readyState if client.webrtc.channel else None)
            assert server.webrtc.sent >= client.webrtc.received
            before = client.state.snapshots
            await tick_until([client], lambda: client.state.snapshots > before + 10, 300)
            assert client.state.snapshots > before + 10 and not client.closed
            await client.close()
        finally:
            await server.stop()
    run(scenario())


def test_without_webrtc_on_the_server_snapshots_stay_on_the_websocket() -> None:
    async def scenario() -> None:
        server = await start_server()
        try:
            client = await join(server, "ann", webrtc=True, webrtc_addresses=LOOPBACK)
            await tick_until([client], lambda: client.state.snapshots > 10, 300)
            assert client.state.snapshots > 10 and not client.webrtc.open
            assert any("webrtc is not offered" in n for n in client.state.notices)
            await client.close()
        finally:
            await server.stop()
    run(scenario())
