"""The editor's 3D view: with "low resolution while moving" it draws at half size while the camera
orbits and at full size once it stops; Play takes the game's own input: real X key events with
the pointer over the 3D view walk the player the way the game's bindings say (W: forward, +Y);
with the pointer over another panel the game gets nothing; Stop brings the player back to where
the file has it."""
from __future__ import annotations

from typing import Any

import pytest

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("Xlib")
    display = request.getfixturevalue("big_x_display")
    return run_child_report("tests.editor_view_child", tmp_path_factory.mktemp("editor-view"), display,
                            timeout=240)


def test_w_over_the_view_walks_the_player_forward(report: dict[str, Any]) -> None:
    assert report["walk_frames"] is not None, report
    before, after = report["landed_before_walk"], report["walked"]
    assert after[1] > before[1] + 1.0          # forward is +Y for an unturned player
    assert abs(after[0] - before[0]) < 0.2     # and not sideways


def test_keys_do_not_reach_the_game_when_the_pointer_is_elsewhere(report: dict[str, Any]) -> None:
    before, after = report["away_before"], report["away_after"]
    assert max(abs(a - b) for a, b in zip(before, after)) < 0.05


def test_stop_puts_the_player_back(report: dict[str, Any]) -> None:
    assert report["after_stop"] == report["start"]


def test_the_view_draws_at_half_size_while_the_camera_moves(report: dict[str, Any]) -> None:
    low = report["low_res"]
    panel = low["panel"]
    assert low["before"] == panel
    assert all(size == [panel[0] // 2, panel[1] // 2] for size in low["while_moving"])
    assert low["moving_image_spread"] and min(low["moving_image_spread"]) > 0.02   # it still shows the world
    assert low["after"] == panel
