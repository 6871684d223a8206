"""The editor's 3D view: with "low resolution while moving" it draws at half size while the camera
orbits and at full size once it stops; Play takes the game's own input: real X key events with
the pointer over the 3D view walk the player the way the game's bindings say (W: forward, +Y);
with the pointer over another panel the game gets nothing; Stop brings the player back to where
the file has it. The picture in the editor window is, pixel for pixel, what Panda3D drew, on every
read back path, also once the camera stopped moving; edit shading draws terrains from coarse
copies and picking still lands on the full surface."""
from __future__ import annotations

from typing import Any

import pytest

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("Xlib")
    display = request.getfixturevalue("big_x_display")
    return run_child_report("tests.editor_view_child", tmp_path_factory.mktemp("editor-view"), display,
                            timeout=420)


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


def test_dear_pygui_shows_exactly_what_panda3d_drew(report: dict[str, Any]) -> None:
    assert report["opened_terrain"] is True
    paths = report["picture"]["paths"]
    assert [p["readback"] for p in paths] == ["pbo", "sync", "pbo"], paths   # PyOpenGL's pixel buffers work here
    assert [p["showing"] for p in paths] == ["8-bit", "8-bit", "raw float"]
    for path in paths:
        assert path["sizes"][0] == path["sizes"][1], path   # the picture is the panel's size: pixel for pixel
        assert path["shown_vs_panda"]["max"] <= 2, path    # the editor window's pixels are Panda3D's
        assert path["image_vs_panda"]["max"] <= 1, path    # and so is the float32 array


@pytest.fixture(scope="module")
def fallback(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("Xlib")
    display = request.getfixturevalue("big_x_display")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORM_NO_PYOPENGL", "1")
        return run_child_report("tests.editor_view_child", tmp_path_factory.mktemp("editor-view-sync"), display,
                                timeout=240)


def test_without_pyopengl_the_synchronous_path_shows_the_same(fallback: dict[str, Any]) -> None:
    paths = fallback["picture"]["paths"]
    assert [p["readback"] for p in paths] == ["sync"] * 3, paths
    assert "STORM_NO_PYOPENGL" in paths[0]["note"]
    assert [p["showing"] for p in paths] == ["raw float"] * 3
    for path in paths:
        assert path["shown_vs_panda"]["max"] <= 2, path
        assert path["image_vs_panda"]["max"] <= 1, path
    assert not any(fallback["picture"]["pending_while_moving"])   # nothing is ever a frame late
    assert fallback["picture"]["moved_shown_vs_panda"]["max"] <= 2


def test_a_still_view_shows_the_last_frame(report: dict[str, Any]) -> None:
    picture = report["picture"]
    assert all(picture["pending_while_moving"])   # moving: each frame is shown a frame late...
    assert picture["pending_after"] is False      # ...and once still, the last one is shown
    assert picture["moved_shown_vs_panda"]["max"] <= 2, picture


def test_edit_shading_draws_the_coarse_terrain_and_full_shading_the_full_one(report: dict[str, Any]) -> None:
    coarse = report["coarse"]
    assert coarse["triangles"] == {"full": 2 * 256 * 256, "coarse": 2 * 64 * 64}
    edit, full = coarse["edit"], coarse["full"]
    assert edit["coarse_drawn"] is True and full["coarse_drawn"] is False
    for shading in (edit, full):
        assert shading["again"]["over_8"] < 0.005, shading   # the same picture drawn twice
    assert edit["without_full_mesh"]["over_8"] < 0.005 < 0.3 < edit["without_coarse_copy"]["over_8"], edit
    assert full["without_coarse_copy"]["over_8"] < 0.005 < 0.3 < full["without_full_mesh"]["over_8"], full
    assert coarse["coarse_in_play"] is False and coarse["coarse_after_stop"] is True


def test_the_coarse_copy_is_kept_and_follows_a_rebuilt_terrain(report: dict[str, Any]) -> None:
    coarse = report["coarse"]
    assert coarse["same_copy_after_draws"] is True
    rebuilt = coarse["rebuilt"]
    assert rebuilt["new_copy"] and rebuilt["old_copy_gone"]
    assert abs(rebuilt["copy_height"] - rebuilt["full_height"]) < 0.1 < 6.0 - rebuilt["copy_height"]


def test_picking_and_placing_land_on_the_full_terrain_not_the_coarse_copy(report: dict[str, Any]) -> None:
    pick = report["coarse"]["pick"]
    assert abs(pick["full_z"] - pick["coarse_z"]) > 0.05            # a point where the two surfaces part
    assert pick["hit_entity"] == 2
    for key in ("hit_z", "placed_z"):
        assert abs(pick[key] - pick["full_z"]) < 1e-3, pick
        assert abs(pick[key] - pick["bullet_z"]) < 1e-3, pick        # Bullet's surface: the same triangles
    entity, miss = pick["through_pixel"]
    assert entity == 2 and miss < 1e-2                                # a ray through the view's pixel too
