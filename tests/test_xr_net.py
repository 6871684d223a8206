"""Multi-user VR on real sockets (127.0.0.1) and the real server: a VR player (the simulated backend
driven by a timeline, in a child process, through the path ``storm vr --connect`` takes) and a
desktop player see each other: the desktop client sees the VR player's head and hands where the
timeline put them, the VR client sees the desktop player drawn where the server has them.
Every wait is a bounded loop that ends as soon as its condition holds."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from panda3d.core import LQuaternion, Point3, Vec3

from engine.physics.components import CharacterController
from netcode.tracked_pose import ALL_PARTS, TrackedPose
from tests.net_helpers import join, run, start_server, tick_until, token
from tests.test_net_vr_poses import WritePose

ROOT = Path(__file__).resolve().parent.parent
TIMELINE = ROOT / "tests" / "data" / "xr" / "net_avatar.timeline.json"
# where net_avatar.timeline.json holds head and hands from 1 s on (tracking space: the body's feet, its start heading);
# ann joins first, at the player template's spot, and vr1 next to her, in front of her left: the head turns to her
EXPECTED = {"head": ((0.1, 0.25, 1.62), (-130.0, -10.0, 0.0)),
            "left": ((-0.3, 0.45, 1.05), (10.0, -30.0, 0.0)),
            "right": ((0.35, 0.5, 1.3), (-20.0, 15.0, 5.0))}
POS_TOLERANCE = 0.01     # metres: two 1/512 m grids (body and part) and the body's heading steps
ANGLE_TOLERANCE = 1.0    # degrees: 10-bit smallest-three quaternions and the input's 1/1024 steps


def avatar_error(world, body: int) -> tuple[float, float] | None:
    """The largest position (m) and angle (degrees) error of a VR player's avatar against EXPECTED,
    as ``world`` shows it; None while the avatar is not there or not tracked."""
    pose = world.get(body, TrackedPose)
    if pose is None or pose.tracked != ALL_PARTS:
        return None
    root, feet = world.root, world.node(body).getPos(world.root)
    worst_pos = worst_angle = 0.0
    for part, (pos, hpr) in EXPECTED.items():
        eid = pose.part_entity(part)
        if not (eid and world.exists(eid)):
            return None
        node = world.node(eid)
        worst_pos = max(worst_pos, (node.getPos(root) - (feet + Vec3(*pos))).length())
        want = LQuaternion()
        want.setHpr(Vec3(*hpr))
        worst_angle = max(worst_angle, (node.getQuat(root).conjugate() * want).getAngle() % 360.0)
    return worst_pos, min(worst_angle, 360.0 - worst_angle)


def in_place(world, body: int) -> bool:
    error = avatar_error(world, body) if body and world.exists(body) else None
    return error is not None and error[0] < POS_TOLERANCE and error[1] < ANGLE_TOLERANCE


BEA_HEAD = (0.05, 0.1, 1.6)   # where another VR player (a headless bot) claims her head is, from her feet


def test_a_vr_player_and_a_desktop_player_see_each_other(tmp_path: Path) -> None:
    """ann (desktop) sees vr1's avatar where the timeline put it; vr1 sees ann's character, and the
    avatar of bea, a VR player who joins after it."""
    async def scenario() -> dict:
        server = await start_server()
        try:
            ann = await join(server, "ann", profile="game")      # the desktop player, headless, drawing systems on
            landed = lambda: ann.world.exists(ann.state.entity) and \
                server.world.get(ann.state.entity, CharacterController).grounded  # noqa: E731
            await tick_until([ann], landed, 600)
            assert landed()
            out, err = tmp_path / "vr.out", tmp_path / "vr.err"
            with open(out, "w") as stdout, open(err, "w") as stderr:
                child = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "tests.xr_net_child", f"ws://127.0.0.1:{server.port}", token("vr1"),
                    str(TIMELINE), str(ann.state.entity), "bea", "3000", stdout=stdout, stderr=stderr, cwd=ROOT)
                vr = lambda: ann.state.players.get("vr1", 0)  # noqa: E731
                await tick_until([ann], lambda: vr() or child.returncode is not None, 60 * 240)
                bea = await join(server, "bea", tracked=True)            # after vr1: vr1 learns her name
                bea.world.add_system(WritePose(bea, head_pos=BEA_HEAD))
                await tick_until([ann, bea], lambda: in_place(ann.world, vr()) or child.returncode is not None, 60 * 240)
                found = avatar_error(ann.world, vr()) if vr() and ann.world.exists(vr()) else None
                assert in_place(ann.world, vr()), \
                    f"ann sees vr1's avatar off by {found} (m, degrees); vr1 said: {err.read_text()[-2000:]}"
                body_model = ann.world.node(vr()).find("animated")
                assert not body_model.isEmpty() and body_model.isHidden()   # a VR player shows as head and hands
                pose = ann.world.get(vr(), TrackedPose)
                assert not any(ann.world.node(pose.part_entity(p)).isHidden() for p in EXPECTED)
                ann.chat("seen")                                            # the VR child stops once it has this
                await tick_until([ann, bea], lambda: child.returncode is not None, 60 * 240)
                assert await asyncio.wait_for(child.wait(), 30) == 0, err.read_text()[-3000:]
            lines = [line for line in out.read_text().splitlines() if line.startswith("{")]
            assert lines, out.read_text()[-2000:] + err.read_text()[-2000:]
            report = json.loads(lines[-1])
            report["ann_on_server"] = list(server.world.node(ann.state.entity).getPos(server.world.root))
            assert "vr: stopped (done)" in out.read_text()
            await ann.close()
            await bea.close()
            return report
        finally:
            await server.stop()

    report = run(scenario())
    assert report["code"] == 0
    assert report["chat"] == [["ann", "seen"]]
    assert report["rig_heading"] == 0.0                     # the tracking space took the body's start heading
    desktop = report["desktop"]
    assert desktop["drawn"]                                 # ann's character is drawn in the VR player's world
    assert desktop["in_left_eye"]                           # and the head, turned her way, has her in view
    assert (Point3(*desktop["pos"]) - Point3(*report["ann_on_server"])).length() < POS_TOLERANCE
    other = report["vr"]                                    # bea, in VR too: head and hands, no character
    assert other["tracked"] == ALL_PARTS and other["parts_drawn"] and not other["body_drawn"]
    assert (Point3(*other["head"]) - Point3(*BEA_HEAD)).length() < POS_TOLERANCE
    assert report["own_hidden"]                            # the VR player's own body is not around their eyes


def test_storm_vr_connect_joins_as_a_vr_player(tmp_path: Path) -> None:
    """``main.py vr --connect`` itself (what ``./storm vr --connect`` runs): the desktop player sees its avatar."""
    async def scenario() -> tuple[int, str, bool]:
        server = await start_server()
        try:
            ann = await join(server, "ann")
            out, err = tmp_path / "cli.out", tmp_path / "cli.err"
            with open(out, "w") as stdout, open(err, "w") as stderr:
                child = await asyncio.create_subprocess_exec(
                    sys.executable, "main.py", "vr", "--connect", f"ws://127.0.0.1:{server.port}", "--token", token("vr2"),
                    "--xr", "simulated", "--timeline", str(TIMELINE), "--offscreen", "--frames", "240",
                    "--eye-size", "96x72", stdout=stdout, stderr=stderr, cwd=ROOT)
                vr = lambda: ann.state.players.get("vr2", 0)  # noqa: E731
                await tick_until([ann], lambda: in_place(ann.world, vr()) or child.returncode is not None, 60 * 240)
                seen = in_place(ann.world, vr())
                await tick_until([ann], lambda: child.returncode is not None, 60 * 240)
                code = await asyncio.wait_for(child.wait(), 30)
            await ann.close()
            return code, out.read_text() + err.read_text(), seen
        finally:
            await server.stop()

    code, output, seen = run(scenario())
    assert code == 0, output[-3000:]
    assert seen, output[-3000:]
    assert "vr: stopped (frame limit) after 240 frames" in output
    assert "vr: played on ws://127.0.0.1:" in output and " as vr2: " in output
