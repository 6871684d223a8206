"""`storm visit` as a visitor runs it, against a real OpenSimulator region on 127.0.0.1 (built from
the vendored source): offscreen, lines typed into the chat panel with --chat. Chat said through the
panel comes back from the region and is shown, a /tp command teleports, a bad command answers
with a notice, the panel is drawn over the region (its text in the screenshot's bottom-left
corner), and the region's Windlight sky, read through its EnvironmentSettings capability, is
the one drawn."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import llsd
import pytest
from panda3d.core import Filename, PNMImage

from netcode.opensim.region_sky import read_windlight
from tests import opensim_visits
from tests.opensim_helpers import ROOT, OpenSimServer, opensim_build, opensim_server  # noqa: F401
from tests.opensim_visits import SECOND, gone
from tests.test_opensim_chat import ENVIRONMENT

region = opensim_visits.region      # the fixture
SIZE = (640, 360)


def bright_pixels(image: PNMImage, x0: int, y0: int, x1: int, y1: int) -> int:
    """Pixels of a rectangle that are near white (the panel's text is drawn in white)."""
    return sum(1 for x in range(x0, x1) for y in range(y0, y1)
               if min(image.getRed(x, y), image.getGreen(x, y), image.getBlue(x, y)) > 0.85)


def test_storm_visit_with_the_chat_panel(region: OpenSimServer, tmp_path: Path) -> None:
    first, last, password = SECOND
    assert gone(region, first, last), "an earlier visit was not released"
    shot = tmp_path / "panel.png"
    command = [sys.executable, "main.py", "visit", region.login_uri, "--first", first, "--last", last, "--offscreen",
               "--size", f"{SIZE[0]}x{SIZE[1]}", "--frames", "240", "--screenshot", str(shot),
               "--chat", "hello from the panel", "--chat", "/tp 60 70 30", "--chat", "/fly"]
    start = region.log_size()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env=dict(os.environ, STORM_OPENSIM_PASSWORD=password, PYTHONPATH=str(ROOT)))
    region.wait_log(r"Remove caps for agent", start, timeout=30)
    out = done.stdout
    assert done.returncode == 0, out[-2000:] + done.stderr[-3000:]
    assert "[storm] teleporting to (60, 70, 30)" in out and "[storm] unknown command /fly;" in out, out[-2000:]
    assert "[chat] Second Visitor: hello from the panel" in out, out[-2000:]      # the region's echo, heard
    drawn = re.search(r"the region's day cycle at ([\d.]+) \(sky top \(([\d.]+), ([\d.]+), ([\d.]+)\)\)", out)
    assert drawn, out[-2000:]                     # read through the EnvironmentSettings capability
    cycle = read_windlight(llsd.parse(ENVIRONMENT.read_bytes()))          # OpenSimulator's default day
    assert cycle is not None
    expected = cycle.at(float(drawn.group(1))).sky_top
    assert tuple(float(v) for v in drawn.groups()[1:]) == pytest.approx(expected, abs=0.01)
    assert "\nlogged out" in out
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(shot)))
    w, h = image.getXSize(), image.getYSize()
    panel = bright_pixels(image, 10, h - 110, w // 2, h - 10)          # bottom-left: the panel's lines
    elsewhere = bright_pixels(image, w // 2 + 10, h - 110, w - 10, h - 10)
    assert panel > 150 and panel > 5 * max(elsewhere, 1), (panel, elsewhere)
