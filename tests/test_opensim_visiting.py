"""Being in a real OpenSimulator region (built from the vendored source) on 127.0.0.1: a prim's
texture fetched through the region's capability and drawn (an offscreen screenshot shows its
pixels, not the flat colour), instant messages between two Storm clients, teleports within the
region and to a landmark position that end where the server's console says, sitting on a prim
and standing up again."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from engine.host.runtime import create_runtime
from netcode.opensim.region_world import RegionObject
from netcode.opensim.travel import Landmark
from netcode.opensim.visit import Visit
from tests import opensim_visits
from tests.opensim_helpers import FIRST, LAST, ROOT, OpenSimServer, opensim_build, opensim_server  # noqa: F401
from tests.opensim_visits import SECOND, gone, leave, where

region, visitor = opensim_visits.region, opensim_visits.visitor      # the fixtures
PLYWOOD = "89556747-24cb-43ed-920b-47caed15465f"     # OpenSimulator's default prim texture (its assets)


def test_a_prims_texture_comes_through_the_capability_and_is_drawn(region: OpenSimServer, tmp_path: Path) -> None:
    first, last, password = SECOND
    assert gone(region, first, last), "an earlier visit was not released"
    start = region.log_size()
    done = subprocess.run([sys.executable, "-m", "tests.opensim_texture_child", region.login_uri, first, last,
                           str(tmp_path)], input=password + "\n", cwd=ROOT, capture_output=True, text=True,
                          timeout=240, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    region.wait_log(r"Remove caps for agent", start, timeout=30)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["textured"] and report["texture"] == PLYWOOD, report
    assert report["fetcher"].get("fetched", 0) >= 1 and f"{PLYWOOD}.j2c" in report["cached"], report
    r, g, b = report["pixel"]
    fr, fg, fb = report["flat"]
    # plywood is a warm tan (its texels average about 219, 188, 128); the untextured box is grey
    assert r > b * 1.25 and r > g > b, f"textured {report['pixel']}, flat {report['flat']}"
    assert abs(fr - fb) < 0.06 and abs(fr - fg) < 0.06, f"flat colour {report['flat']}"
    assert (r - b) - (fr - fb) > 0.1, report


def test_an_instant_message_reaches_the_other_client_and_back(region: OpenSimServer, visitor: Visit) -> None:
    other = Visit.start(region.login_uri, *SECOND, create_runtime(), profile="server")
    try:
        name = f"{FIRST} {LAST}"
        assert other.tick_until(lambda: other.session.find_avatar(name) is not None, 30), "no Test User in view"
        other.im(name, "hello from the second visitor\nwith a second line")
        assert visitor.tick_until(lambda: any(im.incoming for im in visitor.session.ims), 15), \
            f"no IM arrived: {dict(visitor.session.counts)}"
        heard = next(im for im in visitor.session.ims if im.incoming)
        assert heard.from_name == "Second Visitor" and heard.text == "hello from the second visitor\nwith a second line"
        assert heard.from_id == other.reply.agent_id and heard.dialog == 0
        assert not visitor.session.chat or all(line.message != heard.text for line in visitor.session.chat), \
            "an IM is not local chat"
        visitor.im(heard.from_id, "and back")
        assert other.tick_until(lambda: any(im.incoming and im.text == "and back" for im in other.session.ims), 15)
    finally:
        leave(region, other)


def _teleported(region: OpenSimServer, visitor: Visit, target: tuple[float, float, float]) -> None:
    travel = visitor.session.travel
    assert visitor.tick_until(lambda: travel.state in ("arrived", "failed"), 15), travel.state
    assert travel.state == "arrived", travel.reason
    visitor.tick_until(lambda: False, 2.0)               # let the avatar settle and its last update arrive
    reported = where(region, FIRST, LAST)
    assert reported is not None
    assert math.dist(reported[:2], target[:2]) < 1.0, f"asked for {target}, the server says {reported}"
    assert math.dist(reported, visitor.session.position) < 0.5, (reported, visitor.session.position)
    avatar = visitor.world.node(visitor.session.mirror.local_avatar).getPos()
    assert math.dist(tuple(avatar), reported) < 0.5, (tuple(avatar), reported)


def test_a_teleport_within_the_region_ends_where_the_server_says(region: OpenSimServer, visitor: Visit) -> None:
    start = where(region, FIRST, LAST)
    assert start is not None
    target = (60.0, 190.0, visitor.session.heights.height_at(60, 190) + 1.0)
    visitor.session.travel.teleport(target)
    _teleported(region, visitor, target)
    assert math.dist(start[:2], target[:2]) > 50


def test_a_teleport_to_a_landmark_position(region: OpenSimServer, visitor: Visit) -> None:
    landmark = Landmark(visitor.reply.region_handle, (200.0, 70.0, visitor.session.heights.height_at(200, 70) + 1.0))
    visitor.session.travel.teleport_to_landmark(landmark)
    _teleported(region, visitor, landmark.position)


def test_a_teleport_to_a_region_that_is_not_there_fails_with_the_reason(visitor: Visit) -> None:
    before = visitor.session.position
    visitor.session.travel.teleport((128.0, 128.0, 30.0), handle=(5000 * 256 << 32) | (5000 * 256))
    travel = visitor.session.travel
    assert visitor.tick_until(lambda: travel.state == "failed", 20), travel.state
    assert travel.reason
    assert math.dist(visitor.session.position[:2], before[:2]) < 2.0


def test_sitting_on_a_prim_and_standing_up(region: OpenSimServer, visitor: Visit) -> None:
    x, y, z = visitor.session.position
    seat = (x + 2.0, y, z)
    visitor.session.rez("box", seat, (1.0, 1.0, 0.5))

    def the_seat() -> int:
        for component in visitor.world.all_of(RegionObject).values():
            node = visitor.world.node(component.entity)
            if component.kind == "prim" and math.dist((node.getX(), node.getY()), seat[:2]) < 0.3:
                return component.local_id
        return 0

    assert visitor.tick_until(lambda: the_seat() != 0, 15), "the seat did not appear"
    travel = visitor.session.travel
    travel.sit(the_seat())
    assert visitor.tick_until(lambda: travel.seat == the_seat(), 15), f"not seated: seat {travel.seat}"
    avatar = visitor.world.get(visitor.session.mirror.local_avatar, RegionObject)
    assert avatar.parent_id == the_seat()
    visitor.tick_until(lambda: False, 1.0)
    reported = where(region, FIRST, LAST)
    assert reported is not None and math.dist(reported[:2], seat[:2]) < 1.0, (reported, seat)
    assert math.dist(visitor.session.position[:2], reported[:2]) < 0.5
    travel.stand()
    assert visitor.tick_until(lambda: travel.seat == 0, 15), "still seated"
    assert visitor.world.get(visitor.session.mirror.local_avatar, RegionObject).parent_id == 0
