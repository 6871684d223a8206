"""The editor's gizmos, box select, hide and lock under Xvfb with real Dear PyGui and Panda3D,
driven through the view controller in a child process (tests/editor_gizmo_child.py): rotate and
scale with and without snapping (Ctrl turns it the other way), world and local axes on a turned
parent's child, translate grid snapping, one undo step per drag, box select by what shows in the
box (a ground plane whose origin is elsewhere; a slanted rod's outline, not its screen rectangle),
and hidden / locked entities in picks, boxes, gizmos and screenshots."""
from __future__ import annotations

from typing import Any

import pytest
from panda3d.core import Filename, PNMImage

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def flows(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")  # a private X server (tests/xvfb.py)
    folder = tmp_path_factory.mktemp("editor-gizmos")
    return run_child_report("tests.editor_gizmo_child", folder, display, timeout=300)


def image(path: str) -> PNMImage:
    picture = PNMImage()
    assert picture.read(Filename.fromOsSpecific(path)), path
    return picture


def is_red(picture: PNMImage, point: list[int]) -> bool:
    r, g, b = picture.getXel(*point)
    return r > 0.5 and g < 0.25 and b < 0.25


def test_snapping_preferences_have_defaults(flows: dict[str, Any]) -> None:
    assert flows["prefs_defaults"] == [False, 0.5, 15.0, 0.1]


def test_e_shows_three_rings_and_they_are_drawn(flows: dict[str, Any]) -> None:
    assert flows["tool"] == "rotate" and flows["ring_kinds"] == ["ring", "ring", "ring"]
    shot = image(flows["shot_rotate"])
    ox, oy = flows["view_origin"]
    blue_ring = 0
    for x, y in flows["ring_z_screen"]:  # the Z ring's points, drawn in the Z colour (blue)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                r, g, b = shot.getXel(int(ox + x + dx), int(oy + y + dy))
                blue_ring += b > 0.8 and r < 0.5 and g < 0.75
    assert blue_ring >= 5, blue_ring


def test_a_ring_drag_turns_about_that_axis_and_ctrl_snaps_to_15_degrees(flows: dict[str, Any]) -> None:
    h, p, r = flows["rotate_free"]
    assert 47.0 < h < 52.0 and (p, r) == (0.0, 0.0)  # about 49.5 degrees, not a multiple of 15
    snapped = flows["rotate_snapped"]
    assert snapped["hpr"] == [45.0, 0.0, 0.0] and snapped["exact_h"] == 45.0  # exactly 45 with Ctrl
    assert snapped["pos"] == [-2.0, 0.0, 0.5] and snapped["steps"] == 1  # turned in place, one undo step
    assert flows["rotate_undone"] == [0.0, 0.0, 0.0]


def test_with_snapping_on_ctrl_turns_it_off(flows: dict[str, Any]) -> None:
    assert flows["rotate_snap_on"] == [45.0, 0.0, 0.0]
    assert flows["rotate_snap_on_ctrl"] == flows["rotate_free"]


def test_several_entities_turn_about_the_primary_origin(flows: dict[str, Any]) -> None:
    red, blue = flows["rotate_two"]["red"], flows["rotate_two"]["blue"]
    assert red[0] == [-2.0, 0.0, 0.5] and abs(red[1][0]) == 180.0
    assert blue[0] == [-6.0, 0.0, 0.5] and abs(blue[1][0]) == 180.0  # swung round the red box


def test_the_angle_step_is_a_preference_and_checked(flows: dict[str, Any]) -> None:
    assert flows["angle_step_refused"] == "angle step (deg): expected a number in [0.01, 180.0], got 500"
    assert flows["angle_step_taken"] == "" and flows["rotate_30_steps"] == [60.0, 0.0, 0.0]


def test_a_child_of_a_turned_parent_turns_about_world_or_own_axes(flows: dict[str, Any]) -> None:
    world = flows["child_world_x"]
    # the parent is turned 90 degrees: the world's X is the child's own -Y, so a turn about it is a roll
    assert world["hpr"] == [0.0, 0.0, -45.0] and world["quat_matches"]
    assert world["world_pos"] == world["start_world_pos"]
    assert flows["space_after_second_press"] == "local"
    local = flows["child_local_x"]
    assert local["hpr"] == [0.0, 45.0, 0.0] and local["world_pos"] == world["start_world_pos"]  # its own X: pitch


def test_an_edge_on_ring_turns_by_mouse_travel(flows: dict[str, Any]) -> None:
    assert flows["edge_on_space"] == "world" and flows["edge_on"] == [0.0, 0.0, -30.0]


def test_local_translate_follows_the_childs_own_axis(flows: dict[str, Any]) -> None:
    move = flows["child_local_move"]
    (x0, y0, z0), (x1, y1, z1) = move["before"], move["after"]
    assert flows["translate_space"] == "local"
    assert y1 - y0 > 0.5 and (x1, z1) == (x0, z0)  # its own X is the world's Y


def test_translate_snaps_to_the_world_grid(flows: dict[str, Any]) -> None:
    free_x = flows["red_free_x"][0]
    assert free_x * 2 != round(free_x * 2)  # off the grid after a free drag
    x, y, z = flows["red_grid_x"]
    assert x * 2 == round(x * 2) and x > free_x and (y, z) == (0.0, 0.5)


def test_scale_along_an_axis_snaps_and_is_one_step(flows: dict[str, Any]) -> None:
    scaled = flows["scale_x_snapped"]
    assert scaled["scale"] == [1.5, 1.0, 1.0] and scaled["steps"] == 1
    assert scaled["pos"] == [-2.0, 0.0, 0.5] and scaled["hpr"] == [0.0, 0.0, 0.0]
    assert flows["scale_undone"] == [1.0, 1.0, 1.0]
    assert flows["scale_uniform"] == [1.5, 1.5, 1.5]  # the centre square, 50 px right
    sx, sy, sz = flows["child_scale"]
    assert sx > 0.8 and round(sx / 0.8 * 10) == pytest.approx(sx / 0.8 * 10, abs=1e-3) and (sy, sz) == (0.8, 0.8)


def test_box_select_picks_exactly_what_shows_inside(flows: dict[str, Any]) -> None:
    assert flows["box_ground"] == [4]  # a large object whose origin is far outside the box
    assert flows["ground_lock_steps"] == 1
    assert flows["box_red"] == [5]
    assert flows["box_shift_blue"] == [5, 6]
    assert flows["box_holder_and_child"] == [7, 8]  # the holder has no geometry: by its origin
    assert flows["box_lamp"] == [9]  # the prefab instance, not its parts
    assert flows["box_empty"] == []
    assert flows["ground_unlocked"] == [[], 0, False]  # the lock undone: an undo step, never dirty


def test_box_select_follows_a_slanted_objects_outline_not_its_rectangle(flows: dict[str, Any]) -> None:
    assert flows["rod_rect_holds_beside"]
    assert flows["box_beside_rod"] == []  # inside the rod's screen rectangle, beside the rod itself
    assert flows["box_rod_end"] == [13]


def test_a_hidden_entity_is_not_drawn_or_picked_but_plays(flows: dict[str, Any]) -> None:
    assert flows["hidden_pick"] == 4 and flows["hidden_box"] == [4]  # the ground behind it
    r, g, b = image(flows["shot_hidden"]).getXel(*flows["red_screen"])
    assert 0.2 < g < 0.6 and abs(r - b) < 0.1, (r, g, b)  # the ground is seen where the box was
    assert is_red(image(flows["shot_hidden_playing"]), flows["red_screen_playing"])  # the game still draws it
    assert flows["shown_pick"] == 5


def test_a_locked_entity_gets_no_gizmo_pick_or_box(flows: dict[str, Any]) -> None:
    assert flows["locked_handles"] == 0 and flows["locked_pick"] == 4 and flows["locked_box"] == [4]  # the ground
    assert flows["locked_lamp_pick"] in (0, 4) and flows["locked_lamp_box"] == [4]  # its globe is locked with it


def test_hide_and_lock_do_not_change_the_world(flows: dict[str, Any]) -> None:
    assert flows["saved_unchanged"]
