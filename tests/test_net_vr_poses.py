"""VR poses on the wire, on real sockets (127.0.0.1) and the real server: a VR client's input carries
head and hand poses that the server checks before it places the avatar; whatever a forged pose
says (too far, not a number, out of range, a flood), it is clamped or refused with one log line
naming the peer, and nobody else notices. Desktop clients' input carries no pose at all."""
from __future__ import annotations

import logging
import math
import struct

from panda3d.core import Point3
from websockets.asyncio.client import connect

from engine.core.system import ORDER_SCRIPTS, System
from engine.host.runtime import create_runtime
from netcode import messages as m
from netcode.auth import TokenAuthority
from netcode.hosting import open_world
from netcode.input_layout import InputFrame
from netcode.recording import SessionRecorder, SessionReplay, load_recording, transcript
from netcode.server import NetServer, ServerConfig
from netcode.session import Limits
from netcode.tracked_pose import ALL_PARTS, IDENTITY, PoseGuard, PoseLimits, TrackedPose
from tests.net_helpers import DEMO_WORLD, SECRET, join, run, start_server, tick_until, token
from tests.test_net_robustness import closed_reason

REACH = PoseLimits().hand_reach


async def raw(server, player: str):
    """A bare websocket that has said hello as a VR client; returns (socket, welcome)."""
    ws = await connect(f"ws://127.0.0.1:{server.port}", max_size=None, compression=None, ping_interval=None)
    await ws.send(m.encode_hello(m.Hello(token(player), tracked=True)))
    welcome = m.decode_server(await ws.recv())
    assert isinstance(welcome, m.Welcome)
    return ws, welcome


class WritePose(System):
    """A bot's VR runtime: writes the same claimed pose into its own player's TrackedPose each tick."""

    name = "test_write_pose"
    order = ORDER_SCRIPTS

    def __init__(self, client, **values) -> None:
        self.client = client
        self.values = values

    def update(self, world, dt: float) -> None:
        pose = world.get(self.client.state.entity, TrackedPose)
        if pose is not None:
            pose.tracked = ALL_PARTS
            for name, value in self.values.items():
                setattr(pose, name, value)


def part_offset(world, body: int, part: str) -> Point3 | None:
    pose = world.get(body, TrackedPose) if world.exists(body) else None
    eid = pose.part_entity(part) if pose is not None else 0
    return world.node(eid).getPos() if eid and world.exists(eid) else None


def pose_lines(caplog, peer: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if "VR pose" in r.getMessage() and peer in r.getMessage()]


def test_desktop_input_carries_no_pose_and_vr_input_does() -> None:
    async def scenario() -> None:
        server = await start_server()
        try:
            ann = await join(server, "ann")
            vr = await join(server, "vr1", tracked=True)
            desktop_fields = ann.state.layout.describe()["fields"]
            assert not any(f[0] == "TrackedPose" for f in desktop_fields)
            assert vr.state.layout.describe()["fields"][:len(desktop_fields)] == desktop_fields
            assert [f[1] for f in vr.state.layout.describe()["fields"][len(desktop_fields):]] == \
                ["tracked", "head_pos", "head_quat", "left_pos", "left_quat", "right_pos", "right_quat"]
            # the pose fields are input only: no snapshot carries them back out
            assert server.replicator.schema.id_of("TrackedPose", "head_pos") is None
            assert server.replicator.schema.id_of("TrackedPose", "tracked") is not None
            await ann.close()
            await vr.close()
        finally:
            await server.stop()
    run(scenario())


def test_a_hand_claimed_far_away_is_clamped_to_reach_with_one_log_line(caplog) -> None:
    async def scenario() -> tuple[Point3, Point3]:
        server = await start_server()
        try:
            ann = await join(server, "ann")
            eve = await join(server, "eve", tracked=True)
            eve.world.add_system(WritePose(eve, head_pos=(0.0, 0.0, 1.7), left_pos=(3.9, 0.0, 1.0)))
            body = eve.state.entity
            seen = lambda: part_offset(ann.world, body, "left") is not None  # noqa: E731
            await tick_until([ann, eve], seen, 600)
            assert seen(), "ann never saw eve's avatar"
            await tick_until([ann, eve], lambda: False, 30)   # half a second more of the same forged pose
            assert not ann.closed and not eve.closed          # clamped, not thrown out
            return part_offset(ann.world, body, "left"), part_offset(ann.world, body, "head")
        finally:
            await server.stop()
    with caplog.at_level(logging.WARNING, logger="storm.net"):
        left, head = run(scenario())
    assert (left - head).length() <= REACH + 0.01     # what others see is within reach of the head
    assert left.x > 1.0                               # in the direction claimed, cut to the reach
    lines = pose_lines(caplog, "eve@127.0.0.1:")
    assert len(lines) == 1, lines                     # once per peer per 10 s, however many ticks it lasts
    assert "left hand 3.96 m from the head (reach 1.2 m)" in lines[0] and "clamped" in lines[0]


def test_a_pose_outside_the_declared_range_is_refused_and_the_peer_closed(caplog) -> None:
    async def scenario() -> str:
        server = await start_server()
        try:
            good = await join(server, "good")
            ws, welcome = await raw(server, "eve")
            layout = server.tracked_layout
            owner = [f.declared.default for f in layout.fields]
            owner[[f.name for f in layout.fields].index("right_pos")] = (0.0, 250.0, 1.0)   # a quarter km away
            await ws.send(m.encode_input(m.Input(0, 1, (InputFrame(owner=tuple(owner)),)), layout))
            reason = await closed_reason(ws)
            snapshots = good.state.snapshots
            await tick_until([good], lambda: good.state.snapshots > snapshots + 3, 300)
            assert not good.closed and good.state.snapshots > snapshots + 3
            return reason
        finally:
            await server.stop()
    with caplog.at_level(logging.WARNING, logger="storm.net"):
        reason = run(scenario())
    assert "TrackedPose.right_pos" in reason and "in [-4.0, 4.0]" in reason
    assert [r for r in caplog.records if "closed eve@127.0.0.1:" in r.getMessage() and "right_pos" in r.getMessage()]


def test_not_a_number_where_a_pose_goes_is_refused(caplog) -> None:
    async def scenario() -> str:
        server = await start_server()
        try:
            good = await join(server, "good")
            ws, _welcome = await raw(server, "eve")
            layout = server.tracked_layout
            data = m.encode_input(m.Input(0, 1, (InputFrame(owner=tuple(f.declared.default for f in layout.fields)),)),
                                  layout)
            quat_bytes = 5                  # the right hand's rotation (1, 0, 0, 0) is 2 + 1 + 1 + 1 bytes
            await ws.send(data[:-quat_bytes] + struct.pack("<4f", *[math.nan] * 4))
            reason = await closed_reason(ws)
            snapshots = good.state.snapshots
            await tick_until([good], lambda: good.state.snapshots > snapshots + 3, 300)
            assert not good.closed
            return reason
        finally:
            await server.stop()
    with caplog.at_level(logging.WARNING, logger="storm.net"):
        reason = run(scenario())
    assert "TrackedPose.right_quat" in reason, reason
    assert [r for r in caplog.records if "closed eve@127.0.0.1:" in r.getMessage()]


def test_a_flood_of_poses_is_rate_limited(caplog) -> None:
    async def scenario() -> tuple[str, int]:
        server = await start_server(limits=Limits(messages=(50.0, 60.0)))
        try:
            good = await join(server, "good")
            ws, _welcome = await raw(server, "eve")
            layout = server.tracked_layout
            names = [f.name for f in layout.fields]
            moves: list[int] = []                     # server ticks
            server.on_tick.append(moves.append)
            for i in range(400):
                owner = [f.declared.default for f in layout.fields]
                owner[names.index("tracked")] = ALL_PARTS
                owner[names.index("left_pos")] = (-0.3, 0.2 + (i % 7) * 0.05, 1.0)
                try:
                    await ws.send(m.encode_input(m.Input(0, 1 + i, (InputFrame(owner=tuple(owner)),)), layout))
                except Exception:  # noqa: BLE001 - the server closed the flood
                    break
            reason = await closed_reason(ws)
            ticks_before = len(moves)
            await tick_until([good], lambda: len(moves) > ticks_before + 5, 300)
            assert not good.closed and "eve" not in {p for p, s in server.sessions.items() if s.connected}
            return reason, len(moves)
        finally:
            await server.stop()
    with caplog.at_level(logging.WARNING, logger="storm.net"):
        reason, ticks = run(scenario())
    assert "rate limit" in reason
    assert ticks > 5                                   # the server ticked on through it
    assert [r for r in caplog.records if "closed eve" in r.getMessage() and "rate limit" in r.getMessage()]


def test_the_guard_replaces_what_is_not_a_number_or_not_a_rotation(caplog) -> None:
    guard = PoseGuard(every=10.0)
    pose = TrackedPose()
    pose.__dict__.update(tracked=ALL_PARTS, head_pos=(math.nan, 0.0, 1.7), left_quat=(0.0, 0.0, 0.0, 0.0),
                         right_pos=(0.2, math.inf, 1.0))
    with caplog.at_level(logging.WARNING, logger="storm.net"):
        first = guard.check(pose, "eve@10.0.0.1:5", now=100.0)
        guard.check(pose, "eve@10.0.0.1:5", now=105.0)        # within 10 s: counted, not logged
        guard.check(pose, "eve@10.0.0.1:5", now=111.0)        # the next report says how many were quiet
    assert all(math.isfinite(v) for pos, quat in first.values() for v in (*pos, *quat))
    assert first["left"][1] == IDENTITY
    lines = pose_lines(caplog, "eve@10.0.0.1:5")
    assert len(lines) == 2 and "head position is not a number" in lines[0] and "left rotation is not a rotation" in lines[0]
    assert "(1 more since the last report)" in lines[1]


def test_a_recorded_session_with_a_vr_player_replays_to_the_same_state(tmp_path) -> None:
    path = tmp_path / "vr.stormrec"

    async def scenario() -> dict[str, Point3]:
        runtime = create_runtime()
        world = open_world(str(DEMO_WORLD), runtime)
        server = NetServer(world, TokenAuthority(SECRET), ServerConfig(),
                           recorder=SessionRecorder(path, world, str(DEMO_WORLD)))
        await server.start()
        try:
            ann = await join(server, "ann")
            vr = await join(server, "vr1", tracked=True)
            vr.world.add_system(WritePose(vr, head_pos=(0.05, 0.1, 1.66), left_pos=(-0.3, 0.4, 1.1),
                                          right_pos=(3.0, 0.0, 1.5)))    # one hand too far: clamped, the same in replay
            await tick_until([ann, vr], lambda: part_offset(server.world, vr.state.entity, "right") is not None, 600)
            await tick_until([ann, vr], lambda: False, 90)
            await vr.close()
            await ann.close()
            return {p: part_offset(server.world, vr.state.entity, p) for p in ("head", "left", "right")}
        finally:
            await server.stop()

    on_server = run(scenario())
    recording = load_recording(path)
    assert [line["on"] for line in recording.at("vr")] == [True]
    replay = SessionReplay(recording, create_runtime())
    replay.run()
    assert not replay.mismatches, replay.mismatches[:3]
    body = replay.entities["vr1"]
    for part, pos in on_server.items():
        assert (part_offset(replay.world, body, part) - pos).length() < 1e-6
    assert any("vr1 entered VR" in line for line in transcript(recording))
