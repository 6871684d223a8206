"""The editor under Xvfb with real Dear PyGui and Panda3D, driven through its scripting driver in a
child process (a crash there cannot take pytest with it; a timeout bounds it): picking, the
translate gizmo, a field on two entities, undo/redo, create/duplicate/delete, refused values,
save and reload, Play/Stop, a broken world, and whole-editor screenshots checked pixel by pixel.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from panda3d.core import Filename, PNMImage

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def flows(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")  # a private X server (tests/xvfb.py)
    folder = tmp_path_factory.mktemp("editor-flows")
    return run_child_report("tests.editor_flow_child", folder, display, timeout=240)


def image(path: str) -> PNMImage:
    picture = PNMImage()
    assert picture.read(Filename.fromOsSpecific(path)), path
    return picture


def rgb(picture: PNMImage, point: list[int]) -> tuple[float, float, float]:
    r, g, b = picture.getXel(*point)
    return r, g, b


def orange_pixels(picture: PNMImage, centre: list[int], half: int = 40) -> int:
    x0, y0 = centre
    count = 0
    for x in range(x0 - half, x0 + half):
        for y in range(y0 - half, y0 + half):
            r, g, b = picture.getXel(x, y)
            count += r > 0.8 and 0.35 < g < 0.8 and b < 0.35
    return count


def test_the_view_shows_the_world(flows: dict[str, Any]) -> None:
    shot = image(flows["shot_plain"])
    assert (shot.getXSize(), shot.getYSize()) == (1280, 800)  # the whole editor window
    r, g, b = rgb(shot, flows["screen"]["red"])
    assert r > 0.5 and g < 0.2 and b < 0.2, (r, g, b)
    r, g, b = rgb(shot, flows["screen"]["blue"])
    assert b > 0.5 and r < 0.2, (r, g, b)
    r, g, b = rgb(shot, flows["screen"]["child"])
    assert r > 0.5 and g > 0.5 and b < 0.2, (r, g, b)
    r, g, b = rgb(shot, flows["screen"]["ground"])
    assert 0.2 < g < 0.6 and abs(r - b) < 0.1, (r, g, b)


def test_the_selection_is_tinted(flows: dict[str, Any]) -> None:
    plain, selected = image(flows["shot_plain"]), image(flows["shot_selected"])
    red = flows["screen"]["red"]
    assert orange_pixels(plain, red) == 0
    assert orange_pixels(selected, red) > 100
    assert rgb(selected, red)[1] > rgb(plain, red)[1] + 0.2  # the orange fill over the red box
    assert rgb(selected, flows["screen"]["blue"]) == rgb(plain, flows["screen"]["blue"])  # not selected: as it was


def test_a_click_picks_what_is_under_the_mouse(flows: dict[str, Any]) -> None:
    assert flows["pick_red"] == [5, [5]]
    assert flows["pick_child"] == [8, [8]]  # a child entity, not its parent
    assert flows["pick_globe_first"] == [11, [9]]  # a prefab member's click selects the instance
    assert flows["pick_globe_again"] == [11, [11]]  # ...and again, with the instance selected, the member
    assert flows["pick_shift_adds"] == [5, [11, 5]]
    assert flows["pick_sky_clears"] == [0, []]


def test_a_gizmo_drag_moves_along_its_axis_only_in_one_step(flows: dict[str, Any]) -> None:
    gizmo = flows["gizmo"]
    (x0, y0, z0), (x1, y1, z1) = gizmo["before"], gizmo["after"]
    assert x1 - x0 > 0.5 and (y1, z1) == (y0, z0)
    assert gizmo["steps"] == 1 and gizmo["title_dirty"]
    assert flows["gizmo_undone"] == gizmo["before"]
    assert flows["gizmo_redone"] == gizmo["after"]
    x2, y2, z2 = flows["gizmo_snapped_z"]
    steps = (z2 - z1) / 0.5  # Ctrl snaps to the snap step (0.5 m by default)
    assert (x2, y2) == (x1, y1) and z2 > z1 and steps == pytest.approx(round(steps), abs=1e-4)


def test_one_field_on_two_entities_is_one_step_and_undoes_back_and_forth(flows: dict[str, Any]) -> None:
    multi = flows["multi"]
    assert multi["reason"] == "" and multi["steps"] == 1
    assert multi["colours"] == [[0.0, 1.0, 0.0, 1.0]] * 2
    original = [[0.9, 0.1, 0.1, 1.0], [0.1, 0.2, 0.9, 1.0]]
    assert flows["multi_back_and_forth"] == [original, multi["colours"]] * 3


def test_a_refused_value_changes_nothing_and_says_why(flows: dict[str, Any]) -> None:
    assert "expected a number in [0.0, 1.0], got 5.0" in flows["refused_range"]
    assert "got the text 'very rough'" in flows["refused_text"]
    assert flows["refused_shown"] == flows["refused_text"]
    assert flows["refused_steps"] == 0 and flows["roughness_after_refusals"] == 0.8


def test_create_duplicate_rename_delete_are_commands(flows: dict[str, Any]) -> None:
    create = flows["create"]
    assert create["exists"] and create["copy"] != create["made"] and create["copy_gone"]
    assert create["copy_back_named"] == "Copied sphere" and create["all_undone"]


def test_save_and_reload_give_the_same_bytes(flows: dict[str, Any]) -> None:
    assert flows["reload_identical"]
    assert flows["title_after_save"] == "saved.world.json - Storm editor"  # no * once saved
    x, y, z = flows["reload_red_pos"]
    assert y > 0.3 and z == 0.5  # the moves made before saving were saved


def test_play_runs_the_world_and_stop_returns_the_exact_file(flows: dict[str, Any]) -> None:
    play = flows["play"]
    assert play["ticks"] == 30 and abs(play["spun"]) % 360 > 10
    assert "the world is playing" in play["edit_refused"]
    assert play["identical"] and play["heading_back"] == 0.0


def test_a_broken_world_shows_the_loaders_message_and_the_editor_stays_usable(flows: dict[str, Any]) -> None:
    assert flows["broken_opened"] is False
    dialog = flows["broken_dialog"]
    assert dialog["title"] == "Could not open the world"
    assert "broken.world.json: entities[0](A).components.MeshRenderer.roughness: expected a number in [0.0, 1.0]" \
        in dialog["text"]
    assert flows["after_broken_world"] == "editor test" and flows["usable_after_broken"]
