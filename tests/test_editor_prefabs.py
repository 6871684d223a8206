"""Prefabs in the editor under Xvfb with real Dear PyGui, Panda3D and the content registry
(tests/editor_prefabs_child.py in a child process): placing a crate lands it on the surface under
the mouse (the ground, or a platform's top) as one undo step; Place then click puts a prefab
there; making a prefab from the selection writes a file that loads back to the same entities and
puts an instance (with the same ids) in their place, undone in one step; overrides are shown,
revert restores the prefab's value, apply reaches the prefab file on save; asset pickers list only
the field's kind; an entity is picked in the viewport; a prefab edited on its own is saved back and
instances follow; the open world's file changed on disk reloads, or asks when there are edits.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def flows(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")
    folder = tmp_path_factory.mktemp("editor-prefabs")
    return run_child_report("tests.editor_prefabs_child", folder, display, timeout=300)


def test_a_dropped_crate_lands_on_the_surface_under_the_mouse(flows: dict[str, Any]) -> None:
    lift = flows["crate_lift"]
    assert lift == pytest.approx(0.5, abs=0.01)  # the crate's origin is its centre
    ground, platform = flows["drop_ground"], flows["drop_platform"]
    assert ground["model"] == "base:models/crate.gltf" and ground["selected"] == [ground["id"]]
    x, y, z = ground["pos"]
    assert x == pytest.approx(-1.0, abs=0.05) and y == pytest.approx(-2.0, abs=0.05)
    assert z == pytest.approx(0.0 + lift, abs=0.02)  # its bottom on the ground (z = 0)
    x, y, z = platform["pos"]
    assert x == pytest.approx(3.0, abs=0.05) and y == pytest.approx(0.0, abs=0.05)
    assert z == pytest.approx(1.0 + lift, abs=0.02)  # on the platform's top (z = 1), not the ground


def test_each_drop_is_one_undo_step(flows: dict[str, Any]) -> None:
    assert flows["history_after_drops"] == ["place crate.gltf", "place crate.gltf"]
    assert not flows["after_undo_platform_exists"] and flows["after_undo_ground_exists"]
    assert not flows["after_two_undos_ground_exists"]


def test_place_then_click_puts_a_prefab_on_the_ground(flows: dict[str, Any]) -> None:
    placed = flows["place_click"]
    assert placed["is_instance"]
    x, y, z = placed["pos"]
    assert x == pytest.approx(1.0, abs=0.05) and y == pytest.approx(3.0, abs=0.05) and z == pytest.approx(0, abs=0.02)


def test_make_prefab_writes_a_file_that_loads_back_to_the_same_entities(flows: dict[str, Any]) -> None:
    made = flows["made"]
    assert made["asset"] == "testpack:prefabs/holder_thing.prefab.json" and made["is_instance"]
    data = json.loads(Path(made["file"]).read_text(encoding="utf-8"))
    assert [e["key"] for e in data["entities"]] == ["holder", "child_box"]
    assert data["entities"][1]["parent"] == "holder"
    assert made["members"] == {"holder": 7, "child_box": 8}  # the ids stay: references still point at them
    before = [[name, pos, hpr, colour] for name, pos, hpr, colour in flows["holder_before"]]
    after = flows["holder_after"]
    assert [row[1:] for row in after] == [row[1:] for row in before]  # same places, turns and colours
    assert [row[0] for row in after] == ["Holder thing", "Child box"]
    assert flows["holder_again"] == after  # a second instance from the file is the same
    assert made["history"] == "make prefab holder_thing.prefab.json"


def test_making_a_prefab_is_undone_in_one_step(flows: dict[str, Any]) -> None:
    assert flows["holder_after_undo"] == flows["holder_before"]
    assert not flows["holder_undo_is_instance"]


def test_a_prefab_of_two_entities_keeps_them_where_they_were(flows: dict[str, Any]) -> None:
    assert flows["pair_after"] == flows["pair_before"]
    assert flows["pair_ids_kept"][:2] == [5, 12]


def test_overrides_are_shown_and_revert_restores_the_prefab_value(flows: dict[str, Any]) -> None:
    assert flows["override_membership"] == {"MeshRenderer": {"color": [0, 1, 0, 1]}}
    texts = flows["override_texts"]
    assert "overrides: color" in texts
    assert any("member 'globe' of testpack:prefabs/lamp.prefab.json: 1 override" in t for t in texts)
    revert = flows["revert"]
    assert revert["reason"] == "" and revert["colour"] == revert["prefab_colour"] == [1.0, 0.9, 0.5, 1.0]
    assert revert["overrides_after"] == {}


def test_apply_writes_the_value_into_the_prefab_file_on_save(flows: dict[str, Any]) -> None:
    assert flows["apply_reason"] == "" and flows["apply_overrides_after"] == {}
    assert flows["lamp_globe_colour_in_file"] == [0.2, 0.3, 1, 1]


def test_pickers_list_the_fields_kind_and_pick_in_the_viewport(flows: dict[str, Any]) -> None:
    choices = flows["sound_choices"]
    assert "testpack:sounds/click.wav" in choices and all(c.endswith(".wav") for c in choices)
    assert flows["picking_busy"]
    assert flows["camera_target"] == 12  # the red box clicked in the view
    assert flows["target_shown"] == ["%d  Red box"]  # the field names the entity
    assert flows["selected_after_pick"] == [1]  # the click named the target; the selection stayed
    assert flows["camera_target_listed"] == 5  # chosen from the entity list


def test_a_prefab_edited_on_its_own_is_saved_back(flows: dict[str, Any]) -> None:
    doc = flows["prefab_doc"]
    assert doc["title"].startswith("prefab testpack:prefabs/lamp.prefab.json")
    assert doc["entities"] == ["Globe", "Pillar", "Pillar lamp"]
    assert flows["pillar_colour_in_file"] == [0.1, 0.9, 0.2, 1]
    assert flows["prefab_keys_kept"] == ["lamp", "pillar", "globe"]  # keys and their order kept
    assert flows["instance_pillar_colour"] == [0.1, 0.9, 0.2, 1.0]  # the world's instance follows
    assert flows["edit_prefab_asked"] == "Unsaved changes" and flows["still_the_world"]  # nothing lost
    assert flows["edit_button"] == "Back to the world"
    assert flows["back_to"].endswith("prefabs.world.json")


def test_an_outside_change_reloads_a_clean_world(flows: dict[str, Any]) -> None:
    assert flows["reloaded"] and not flows["reload_dirty"]
    assert flows["own_save_reloads"] == 0  # the editor's own save is not an outside change


def test_an_outside_change_with_unsaved_edits_asks_and_keeps_them(flows: dict[str, Any]) -> None:
    assert flows["asked"] and flows["question"] == "The file changed on disk"
    kept = flows["kept"]
    assert kept["colour"] == [0.0, 0.0, 1.0, 1.0] and kept["dirty"]
    assert kept["camera_name"] == "Camera"  # the outside change was not read in


@pytest.fixture(scope="module")
def dropped(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")
    folder = tmp_path_factory.mktemp("editor-drop")
    return run_child_report("tests.editor_drop_child", folder, display, timeout=240)


def test_a_real_pointer_drag_from_the_browser_lands_the_crate_under_the_pointer(dropped: dict[str, Any]) -> None:
    assert dropped["drop_frames"] is not None and len(dropped["new"]) == 1
    assert dropped["model"] == "base:models/crate.gltf"
    x, y, z = dropped["pos"]
    assert x == pytest.approx(-1.0, abs=0.1) and y == pytest.approx(-2.0, abs=0.1) and z == pytest.approx(0.5, abs=0.02)
    assert dropped["undo_frames"] is not None  # real Ctrl+Z takes it away


def test_refused_prefab_requests_say_why_and_change_nothing(flows: dict[str, Any]) -> None:
    refusals = flows["refusals"]
    assert "select the entities" in refusals["nothing"]
    assert "exists already" in refusals["taken"]
    assert "folder pack" in refusals["no pack"] and "testpack" in refusals["no pack"]
    assert refusals["sound placed"] == "0" and "only models and prefabs" in refusals["sound said"]
    assert flows["entities_unchanged"]


def test_a_broken_prefab_opened_on_its_own_shows_its_error(flows: dict[str, Any]) -> None:
    broken = flows["broken_prefab"]
    assert broken["title"] == "Could not open the prefab" and broken["still_the_world"]
    assert "broken.prefab.json" in broken["text"] and "entities[0].key" in broken["text"]
