"""What the App draws: from the active Camera or a custom view provider, and moving bodies drawn
between ticks without changing the simulation. The App runs offscreen in a child process
(tests/app_draw_child.py: one ShowBase per process)."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.screenshots import ROOT


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("drawing")
    done = subprocess.run([sys.executable, "-m", "tests.app_draw_child", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_active_camera_is_the_default_view(seen: dict[str, Any]) -> None:
    views = seen["views"]
    assert views["camera_red"] > 0.3                        # the red box fills the middle of the screen
    assert views["camera_pos"] == views["entity_camera_pos"]


def test_a_custom_view_provider_changes_what_is_drawn_and_switching_back_restores_the_camera(
        seen: dict[str, Any]) -> None:
    views = seen["views"]
    assert views["away_red"] < 0.1                          # looking away: no red box
    assert views["away_fov"] == 35.0 and views["away_looks_towards_y"] == -1.0
    assert views["back_red"] == views["camera_red"]
    assert views["back_pos"] == views["entity_camera_pos"] and views["back_fov"] == 50.0


def test_a_falling_body_is_drawn_between_its_last_two_ticks_while_its_node_stays_at_the_last(
        seen: dict[str, Any]) -> None:
    between = seen["between"]
    assert between["ticks"] == 1 and between["tick_count"] == 11
    alpha = between["alpha"]
    assert alpha == pytest.approx(0.5)
    before, after = between["z_before"], between["z_after"]
    assert before - after > 0.02                              # it is falling
    assert between["z_drawn"] == pytest.approx(before + (after - before) * alpha, abs=1e-5)
    assert after == between["z_twin"]                         # the entity node: exactly where a world without an App is
    assert between["hat_z"] == pytest.approx(after + 0.6, abs=1e-5)                 # a child entity rides along,
    assert between["hat_z_drawn"] == pytest.approx(between["z_drawn"] + 0.6, abs=1e-5)  # and so is drawn with it


def test_the_camera_is_drawn_between_its_last_two_ticks_too(seen: dict[str, Any]) -> None:
    between = seen["between"]
    alpha = between["alpha"]
    expected = [b + (a - b) * alpha for b, a in zip(between["camera_before"], between["camera_after"])]
    assert between["camera_drawn"] == pytest.approx(expected, abs=1e-5)
    assert between["camera_before"] != between["camera_after"]  # the orbit camera moved in that tick


def test_interpolation_changes_what_is_drawn_but_never_the_simulation(seen: dict[str, Any]) -> None:
    session = seen["session"]
    assert session["offset_frames"] > 0 and session["plain_offset_frames"] == 0
    assert session["same_with_and_without"] is True         # every entity, after every frame, bit for bit
    assert session["replay_same"] is True                   # and a headless replay of its input ends there too
    assert session["ticks"] > 100
