"""A real window under Xvfb, driven by real X keyboard and pointer events (XTEST): W walks the
player forward and releasing it stops; moving the mouse turns the third-person camera; closing the
window ends the run."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.xvfb import child_env, x_display  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def played(request: pytest.FixtureRequest) -> dict[str, object]:
    display = request.getfixturevalue("x_display")  # a private X server (tests/xvfb.py)
    completed = subprocess.run([sys.executable, "-m", "tests.window_input_child"], cwd=ROOT, env=child_env(display),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_pointer_reaches_the_window(played: dict[str, object]) -> None:
    assert played["pointer_in_window"] is True


def test_holding_w_walks_the_player_forward(played: dict[str, object]) -> None:
    assert played["w_moves_forward"] is True
    dx, dy, _dz = played["walked"]  # type: ignore[misc]
    assert dy > 1.0 and abs(dx) < 0.2 * dy, played["walked"]


def test_releasing_w_stops_the_move_action(played: dict[str, object]) -> None:
    assert played["w_released"] is True


def test_moving_the_mouse_turns_the_camera(played: dict[str, object]) -> None:
    assert played["mouse_looks"] is True
    assert abs(played["camera_turned_deg"]) > 1.0, played  # type: ignore[arg-type]


def test_closing_the_window_ends_the_run(played: dict[str, object]) -> None:
    assert played["closed"] == {"stopped_by": "window closed", "window_closed": True}
