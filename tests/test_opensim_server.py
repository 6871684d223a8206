"""Storm visiting a real OpenSimulator region (built from the vendored source) on 127.0.0.1:
terrain at the heights the server reports (and walkable), objects rezzed by one client appearing
as entities for another, the avatar walking by Storm's input actions to where the server says it
is, chat echoed, a second client seeing the first's avatar, logout releasing the agent."""
from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.host.runtime import create_runtime
from engine.input import InputSystem
from engine.input.sources import DirectActionSource
from engine.physics.system import PhysicsSystem
from engine.terrain.components import Terrain
from netcode.opensim.login import LoginError, login
from netcode.opensim.region_world import RegionObject
from netcode.opensim.visit import Visit
from tests import opensim_visits
from tests.opensim_helpers import FIRST, LAST, PASSWORD, ROOT, OpenSimServer, opensim_build, opensim_server  # noqa: F401
from tests.opensim_visits import SECOND, gone, leave, where

region, visitor = opensim_visits.region, opensim_visits.visitor      # the fixtures


def test_a_wrong_password_is_refused_with_the_grids_reason(region: OpenSimServer) -> None:
    with pytest.raises(LoginError, match="refused the login"):
        login(region.login_uri, FIRST, LAST, "not the password")


def test_terrain_has_the_heights_the_server_reports_and_is_walkable(region: OpenSimServer, visitor: Visit,
                                                                    tmp_path: Path) -> None:
    ys, xs = np.mgrid[0:256, 0:256].astype(np.float32)
    hills = 22.0 + 6.0 * np.sin(xs / 23.0) * np.cos(ys / 31.0) + ys * 0.02
    path = tmp_path / "hills.r32"
    hills.astype("<f4").tofile(path)
    region.console(f"terrain load {path}", expect=r"(?i)loaded terrain|terrain.*load", timeout=30)
    points = [(40, 200), (128, 128), (200, 60), (17, 90)]
    reported = {}
    for x, y in points:
        text = region.console(f"terrain show {x},{y}", expect=rf"Terrain height at <{x}, {y}> is ([-\d.]+)")
        reported[(x, y)] = float(re.findall(rf"Terrain height at <{x}, {y}> is ([-\d.]+)", text)[-1])
    assert abs(reported[(40, 200)] - reported[(128, 128)]) > 1.0, "the hills file did not change the terrain"
    session = visitor.session

    def matches() -> bool:
        return all(abs(session.heights.height_at(x, y) - h) < 0.3 for (x, y), h in reported.items())

    assert visitor.tick_until(matches, 40), {p: (session.heights.height_at(*p), h) for p, h in reported.items()}
    assert visitor.tick_until(lambda: not session.terrain_dirty, 5)
    terrain = visitor.world.get(session.terrain.entity, Terrain)
    assert terrain is not None and terrain.heightmap.startswith("opensim_region:")
    physics = visitor.world.system(PhysicsSystem)
    for (x, y), height in reported.items():
        hit = physics.raycast((x + 0.01, y + 0.01, 300.0), (x + 0.01, y + 0.01, -50.0))
        assert hit is not None and hit.entity == session.terrain.entity
        assert hit.point[2] == pytest.approx(height, abs=0.35)


def test_objects_one_client_rezzes_appear_as_entities_for_another(region: OpenSimServer, visitor: Visit) -> None:
    placed = {"box": ((100.0, 140.0, 40.0), (1.0, 2.0, 3.0)), "cylinder": ((104.0, 140.0, 40.0), (1.5, 1.5, 0.5)),
              "sphere": ((108.0, 140.0, 40.0), (2.0, 2.0, 2.0))}
    for shape, (position, scale) in placed.items():
        visitor.session.rez(shape, position, scale)
    other = Visit.start(region.login_uri, *SECOND, create_runtime(), profile="server")
    try:
        def seen() -> dict[str, RegionObject]:
            return {c.shape: c for c in other.world.all_of(RegionObject).values()
                    if c.kind == "prim" and 139.0 < other.world.node(c.entity).getY() < 141.0}

        def avatars() -> set[str]:
            return {c.label for c in other.world.all_of(RegionObject).values() if c.kind == "avatar"}

        assert other.tick_until(lambda: set(placed) <= set(seen()) and f"{FIRST} {LAST}" in avatars(), 30), \
            f"the second client saw {sorted(seen())} of {sorted(placed)} and avatars {avatars()}"
        for shape, component in seen().items():
            position, scale = placed[shape]
            node = other.world.node(component.entity)
            assert node.getPos().x == pytest.approx(position[0], abs=0.05)
            assert node.getPos().z == pytest.approx(position[2], abs=1.0)
            assert tuple(node.getScale()) == pytest.approx(scale, abs=1e-3)
    finally:
        leave(region, other)


def test_walking_by_input_actions_moves_the_avatar_where_the_server_says(region: OpenSimServer,
                                                                        visitor: Visit) -> None:
    start = where(region, FIRST, LAST)
    assert start is not None
    source = DirectActionSource()
    visitor.world.system(InputSystem).set_source(source)
    heading = visitor.session.controls.forward()
    source.set_vector("move", (0.0, 1.0))
    assert visitor.tick_until(lambda: math.dist(visitor.session.position[:2], start[:2]) > 4.0, 15), \
        f"from {start} facing {heading}: at {visitor.session.position}, {dict(visitor.circuit.stats)}"
    source.clear()
    visitor.tick_until(lambda: False, 1.5)             # let the avatar stop and its last update arrive
    reported = where(region, FIRST, LAST)
    assert reported is not None
    walked = (reported[0] - start[0], reported[1] - start[1])
    assert walked[0] * heading[0] + walked[1] * heading[1] > 3.0, f"walked {walked}, facing {heading}"
    assert math.dist(reported[:2], visitor.session.position[:2]) < 0.5
    entity = visitor.world.node(visitor.session.mirror.local_avatar).getPos()
    assert math.dist((entity.x, entity.y), reported[:2]) < 0.5


def test_chat_is_echoed(visitor: Visit) -> None:
    visitor.say("hello from Storm")
    assert visitor.tick_until(lambda: any(line.message == "hello from Storm" for line in visitor.session.chat), 10)
    line = next(line for line in visitor.session.chat if line.message == "hello from Storm")
    assert line.from_name == f"{FIRST} {LAST}"


def test_logout_releases_the_agent(region: OpenSimServer) -> None:
    first, last, password = SECOND
    assert gone(region, first, last), "an earlier visit was not released"
    trip = Visit.start(region.login_uri, first, last, password, create_runtime(), profile="server")
    assert trip.tick_until(lambda: trip.session.mirror.local_avatar != 0 and trip.session.heights.complete, 30)
    assert where(region, first, last) is not None
    log_start = region.log_size()
    leave(region, trip)
    assert trip.circuit.closed.is_set() and trip.circuit.closed_reason.startswith("logged out")
    assert re.search(rf"Got a logout request for {first} {last}", region.wait_log("", log_start))
    assert gone(region, first, last), "the server still lists the agent after logout"


def test_flying_by_input_actions_rises_where_the_server_says(region: OpenSimServer, visitor: Visit) -> None:
    start = where(region, FIRST, LAST)
    assert start is not None
    source = DirectActionSource()
    visitor.world.system(InputSystem).set_source(source)
    source.hold("jump")                       # pressed: fly; held while flying: rise
    assert visitor.tick_until(lambda: visitor.session.position[2] > start[2] + 4.0, 15), \
        f"from {start}: at {visitor.session.position}, controls {visitor.session.controls}"
    assert visitor.session.controls.flying
    source.clear()
    visitor.tick_until(lambda: False, 1.0)
    reported = where(region, FIRST, LAST)
    assert reported is not None and reported[2] > start[2] + 4.0


def test_storm_visit_logs_in_and_logs_out_on_ctrl_c(region: OpenSimServer) -> None:
    assert gone(region, FIRST, LAST), "an earlier visit was not released"
    env = dict(os.environ, STORM_OPENSIM_PASSWORD=PASSWORD, PYTHONUNBUFFERED="1")
    command = [sys.executable, "main.py", "visit", region.login_uri, "--first", FIRST, "--last", LAST, "--headless"]
    assert PASSWORD not in command
    start = region.log_size()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while where(region, FIRST, LAST) is None:
            assert child.poll() is None, child.communicate()[0][-2000:]
            assert time.monotonic() < deadline, "storm visit did not enter the region within 60 s"
            time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, out[-2000:]
    assert f"logged in to {region.login_uri} as {FIRST} {LAST}" in out and "\nlogged out" in out, out[-2000:]
    assert gone(region, FIRST, LAST), "the server still lists the agent after Ctrl+C"
    region.wait_log(r"Remove caps for agent", start, timeout=30)
