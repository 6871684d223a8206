"""Visits to the test region for the OpenSimulator server tests: the second avatar's account, where
the server's console says an avatar is, and leaving so that the next login of the same avatar
keeps its circuit."""
from __future__ import annotations

import re
import time
from typing import Iterator

import pytest

from engine.host.runtime import create_runtime
from netcode.opensim.visit import Visit
from tests.opensim_helpers import FIRST, LAST, PASSWORD, OpenSimServer

SECOND = ("Second", "Visitor", "pass2")
USERS = re.compile(r"Root agents in region \S+: (\d+)")


def where(server: OpenSimServer, first: str, last: str) -> tuple[float, float, float] | None:
    """The position the server's console reports for an avatar (None when it is not in the region)."""
    text = server.console("show users", expect=r"Root agents in region \S+: \d+[^\n]*\n(?:[^\n]*\n){1,6}")
    found = re.search(rf"{first}\s+{last}\s+\S+\s+Root\s+<([-\d.]+), ([-\d.]+), ([-\d.]+)>", text)
    return tuple(float(v) for v in found.groups()) if found else None  # type: ignore[return-value]


def root_agents(server: OpenSimServer) -> int:
    text = server.console("show users", expect=USERS.pattern)
    return int(USERS.findall(text)[-1])


def leave(server: OpenSimServer, trip: Visit) -> bool:
    """Log out and wait (bounded) until the region has finished removing the agent: OpenSimulator
    removes an agent's capabilities by agent id after the logout, so a login of the same avatar
    before that finishes loses its capabilities and circuit to it. True when LogoutReply came (the
    region may close the circuit before its LogoutReply leaves: a race in the server)."""
    start = server.log_size()
    replied = trip.close()
    server.wait_log(r"Remove caps for agent", start, timeout=30)
    return replied


@pytest.fixture(scope="module")
def region(opensim_server: OpenSimServer) -> OpenSimServer:
    """The session's region, with a second avatar account."""
    opensim_server.console(f"create user {' '.join(SECOND)} second@example.invalid "
                           "00000000-0000-0000-0000-0000000000bb\n", expect=r"Created user inventory|already exists", timeout=60)
    return opensim_server


@pytest.fixture
def visitor(region: OpenSimServer) -> Iterator[Visit]:
    """Test User in the region (after the region released any earlier visit of theirs: a login
    while the old agent is still being removed loses its circuit to that removal)."""
    assert gone(region, FIRST, LAST), "an earlier visit was not released"
    trip = Visit.start(region.login_uri, FIRST, LAST, PASSWORD, create_runtime(), profile="server")
    assert trip.tick_until(lambda: trip.session.mirror.local_avatar != 0 and trip.session.heights.complete, 30), \
        f"no avatar or terrain after 30 s: {dict(trip.session.counts)}"
    yield trip
    leave(region, trip)


def gone(server: OpenSimServer, first: str, last: str, timeout: float = 15.0) -> bool:
    """Poll the console (bounded) until the avatar is no longer listed."""
    deadline = time.monotonic() + timeout
    while where(server, first, last) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True
