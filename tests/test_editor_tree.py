"""The editor's scene tree (and a box select in the view) under Xvfb with real Dear PyGui, driven by real X pointer and key
events (XTEST) in a child process (tests/editor_tree_child.py): drag a row onto another to
reparent (world position kept, one undo step), a cycle refused with a message, Ctrl+G groups,
Ctrl+C / Ctrl+V within a world and into another one opened after it (fresh ids, references
inside the copy remapped to the copy), hide and lock remembered for the world file without
changing it."""
from __future__ import annotations

from typing import Any

import pytest

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")  # a private X server (tests/xvfb.py)
    folder = tmp_path_factory.mktemp("editor-tree")
    return run_child_report("tests.editor_tree_child", folder, display, timeout=300)


def test_a_real_pointer_drag_on_empty_view_space_box_selects(tree: dict[str, Any]) -> None:
    assert tree["box_drawn"] and tree["box_selected"] == [5]


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
