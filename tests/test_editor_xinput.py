"""The real editor under Xvfb driven by real X pointer and key events (XTEST): a click selects what
is under the mouse, a drag on the gizmo's X handle moves along X only (one undo step) while the
inspector's position follows live, Ctrl+Z undoes it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def driven(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")  # a private X server (tests/xvfb.py)
    folder = tmp_path_factory.mktemp("editor-xinput")
    return run_child_report("tests.editor_xinput_child", folder, display, timeout=180)


def test_the_editor_window_sits_at_the_screen_origin(driven: dict[str, Any]) -> None:
    assert driven["viewport_pos"] == [0, 0]  # so view pixels plus the panel's corner are screen pixels


def test_a_real_click_selects_what_is_under_the_mouse(driven: dict[str, Any]) -> None:
    assert driven["click_frames"] is not None and driven["selected"] == [5]


def test_a_real_drag_on_the_x_handle_moves_along_x_only(driven: dict[str, Any]) -> None:
    assert driven["drag_frames"] is not None and driven["drag_steps"] == 1
    (x0, y0, z0), (x1, y1, z1) = driven["before"], driven["after"]
    assert x1 - x0 > 0.5 and (y1, z1) == (y0, z0)


def test_the_inspector_shows_the_position_live_while_dragging(driven: dict[str, Any]) -> None:
    live = driven["live"]
    assert driven["inspector_before"] == driven["before"]
    assert all(shown == moved for shown, moved in live), live  # each frame's field is where the box is
    assert live[-1][1] - live[0][1] > 0.3  # and it moved while the button was held
    writes = driven["drag_writes"]
    assert writes["items"] == ["hpr", "pos", "scale"]  # only the transform fields
    assert writes["writes"] <= 3 * writes["frames"], writes  # at most once each per drawn frame


def test_real_ctrl_z_undoes_the_move(driven: dict[str, Any]) -> None:
    assert driven["undo_frames"] is not None and driven["after_undo"] == driven["before"]
