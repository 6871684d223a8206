"""The editor's scene tree (and a box select in the view) under Xvfb with real Dear PyGui, driven
by real X pointer and key events (XTEST) in a child process (tests/editor_tree_child.py): a box
selects what shows in it (a wall whose origin is far outside the box, the ground under it until
it is locked); drag a row onto another to reparent (world position kept, one undo step), a cycle
refused with a message, Ctrl+G groups, Ctrl+C / Ctrl+V (as children of the selection) and
Ctrl+Shift+V (beside it) keeping world transforms, within a world and into another one opened
after it (fresh ids, references inside the copy remapped to the copy); hide and lock are undo
steps (H, L, Ctrl+Z, Ctrl+Y) remembered for the world file without changing it or making it dirty."""
from __future__ import annotations

from typing import Any

import pytest
from panda3d.core import Filename, PNMImage

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture


def image(path: str) -> PNMImage:
    picture = PNMImage()
    assert picture.read(Filename.fromOsSpecific(path)), path
    return picture


@pytest.fixture(scope="module")
def tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")  # a private X server (tests/xvfb.py)
    folder = tmp_path_factory.mktemp("editor-tree")
    return run_child_report("tests.editor_tree_child", folder, display, timeout=300)


def test_a_real_pointer_box_selects_what_shows_in_it_not_origins(tree: dict[str, Any]) -> None:
    assert tree["box_drawn"]
    assert tree["box_red_and_ground"] == [4, 5]  # the ground shows round the red box; its origin is elsewhere
    assert tree["box_red"] == [5]  # the ground locked (L): out of boxes
    assert tree["wall_end_outside_origin"] and tree["box_wall_end"] == [16]  # the wall's end, far from its origin


def test_the_boxed_wall_is_tinted_beyond_the_box(tree: dict[str, Any]) -> None:
    point = tree["wall_right_screen"]
    r0, _g0, b0 = image(tree["box_wall_drawing"]).getXel(*point)
    r1, _g1, b1 = image(tree["shot_wall_selected"]).getXel(*point)
    assert b0 >= r0 and r1 > b1 + 0.08, ((r0, b0), (r1, b1))  # grey-blue wall, then the orange selection tint


def test_lock_is_an_undo_step_that_leaves_the_world_clean(tree: dict[str, Any]) -> None:
    locked, undone, redone = tree["ground_locked"], tree["ground_lock_undone"], tree["ground_lock_redone"]
    assert locked["locked"] == locked["file_locked"] == [4] and not locked["dirty"]
    assert undone["locked"] == undone["file_locked"] == [] and not undone["dirty"]
    assert redone["locked"] == redone["file_locked"] == [4] and not redone["dirty"]
    assert redone["steps"] == locked["steps"] == undone["steps"] + 1


def test_hide_is_an_undo_step_ctrl_z_shows_ctrl_y_hides_again(tree: dict[str, Any]) -> None:
    hidden, undone, redone = tree["hidden"], tree["hide_undone"], tree["hide_redone"]
    assert hidden["hidden"] == hidden["file_hidden"] == [6] and hidden["step_name"] == "hide Blue box"
    assert undone["hidden"] == undone["file_hidden"] == [] and "[hidden]" not in tree["tree_label_shown"]
    assert redone["hidden"] == redone["file_hidden"] == [6] and tree["hide_steps"] == 1
    assert not (hidden["dirty"] or undone["dirty"] or redone["dirty"])


def test_real_w_e_r_x_keys_choose_the_gizmo_and_snapping(tree: dict[str, Any]) -> None:
    assert tree["tool_keys"] == [["rotate", False], ["scale", False], ["translate", False], ["translate", True],
                                 ["translate", False]]


def test_dragging_a_row_onto_another_reparents_keeping_the_world_position(tree: dict[str, Any]) -> None:
    assert tree["hints"][0] == "drop to put under Holder"  # said while dragging
    moved = tree["reparent"]
    assert tree["drop"] == [[5], 7, ""] and moved["parent"] == 7 and moved["steps"] == 1
    assert moved["world_after"] == moved["world_before"] == [-2.0, 0.0, 0.5]
    assert moved["local_after"] == [-3.0, 2.0, 0.5]  # under the turned holder at (0, 3, 0)
    undone = tree["reparent_undone"]
    assert undone["parent"] == 0 and undone["local"] == undone["local_before"]


def test_a_drop_that_makes_a_cycle_is_refused_with_a_message(tree: dict[str, Any]) -> None:
    cycle = tree["cycle"]
    assert cycle["drop"][:2] == [[7], 8] and cycle["parent"] == 0 and cycle["steps"] == 0
    assert "cannot go under itself or its own children" in cycle["drop"][2]
    assert cycle["message"].startswith("cannot reparent: 'Child box' is inside 'Holder'")


def test_ctrl_g_groups_under_a_new_parent_at_the_centre(tree: dict[str, Any]) -> None:
    group = tree["group"]
    assert group["name"] == "Group" and group["at"] == [0.0, 0.0, 0.5] and group["children"] == [5, 6]
    assert group["red"] == [-2.0, 0.0, 0.5] and group["blue"] == [2.0, 0.0, 0.5] and group["steps"] == 1
    assert tree["group_undone"] == {"exists": False, "parents": [0, 0]}


def test_paste_in_the_same_world_remaps_inside_and_keeps_outside_references(tree: dict[str, Any]) -> None:
    assert tree["clipboard_plain"]
    here = tree["paste_here"]
    assert len(here["new"]) == 3 and min(here["new"]) > 16 and here["selected"] == [here["root"]]
    assert here["root_name"] == "Rig" and here["root_world"] == [1.0, -2.0, 0.5]
    assert here["camera_target"] == here["root"]  # pointed at the copied Rig: now at the copy
    assert here["watcher_target"] == 5  # pointed outside the copy: unchanged


def test_ctrl_v_pastes_under_the_selection_keeping_the_world_transform(tree: dict[str, Any]) -> None:
    here = tree["paste_here"]
    assert here["parent"] == 13 and here["root_hpr"] == [0.0, 0.0, 0.0]  # under Rig, right where Rig is
    under = tree["paste_under_child_box"]  # Child box: scaled 0.8 under the holder turned 90 degrees
    assert under["parent"] == 8 and under["root_world"] == [1.0, -2.0, 0.5]
    assert under["root_world_hpr"] == [30.0, 0.0, 0.0] and under["root_world_scale"] == [1.0, 1.0, 1.0]
    assert under["root_hpr"] == [-60.0, 0.0, 0.0]  # 30 in the world is -60 under the holder


def test_ctrl_shift_v_pastes_beside_the_selection(tree: dict[str, Any]) -> None:
    beside = tree["paste_beside_child_box"]
    assert beside["parent"] == 7 and beside["root_world"] == [1.0, -2.0, 0.5]
    assert beside["root_world_hpr"] == [30.0, 0.0, 0.0] and beside["root_world_scale"] == [1.0, 1.0, 1.0]
    top = tree["paste_top"]
    assert top["parent"] == 0 and top["root_world"] == [1.0, -2.0, 0.5] and top["root_hpr"] == [30.0, 0.0, 0.0]


def test_paste_into_another_world_gets_fresh_ids_and_references_inside_the_copy(tree: dict[str, Any]) -> None:
    other = tree["paste_other"]
    assert other["new"] == [3, 4, 5] and other["root_name"] == "Rig" and other["selected"] == [other["root"]]
    assert other["root_world"] == [1.0, -2.0, 0.5] and other["root_hpr"] == [30.0, 0.0, 0.0]
    assert other["camera_target"] == other["root"]
    assert other["watcher_target"] == 0  # the first world's entity 5 means nothing here: cleared
    assert other["dirty"] and other["steps"] == 1
    assert tree["paste_other_undone"] == []


def test_hide_and_lock_are_remembered_without_changing_the_world_file(tree: dict[str, Any]) -> None:
    assert "[hidden]" in tree["tree_label_hidden"]
    assert tree["marks_back"] == {"hidden": [6], "locked": [2]}
    assert tree["file_unchanged"] and len(tree["state_files"]) == 1
