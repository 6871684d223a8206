"""The plugins' panels, menu items and inspector sections in the real editor (under a private
Xvfb): what they show follows the selection and the running game, their widgets reach the
plugin, the world commands a plugin applies are one undoable step, and a plugin that fails is
stopped without taking the editor down."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from panda3d.core import Filename, PNMImage

from tests.xvfb import big_x_display, run_child_report  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")
    return run_child_report("tests.editor_plugins_child", tmp_path_factory.mktemp("editor-plugins"), display,
                            timeout=240)


def test_each_plugin_panel_has_its_section(report: dict[str, Any]) -> None:
    assert report["running"] == ["namer", "village"]
    assert report["headers"] == ["Namer (namer)", "Lanterns (village)"]


def test_a_panel_follows_the_selection(report: dict[str, Any]) -> None:
    assert "2 selected: Lantern, Box" in report["text_selected"]
    assert report["loud_shown"] is True   # the checkbox reached the plugin and came back in its answer


def test_a_plugin_edit_is_one_undoable_step(report: dict[str, Any]) -> None:
    assert report["named"] == ["NAMED", "NAMED"]
    assert report["step"] == ["namer:name (plugin)"] and report["dirty"]
    assert "2 selected: NAMED, NAMED" in report["text_after"]
    assert report["undone"] == ["Lantern", "Box"]
    assert report["redone"] == ["NAMED", "NAMED"]


def test_a_plugin_adds_to_the_inspector(report: dict[str, Any]) -> None:
    assert report["inspector_texts"] == ["namer:", "namer sees entity 3"]   # under the MeshRenderer section


def test_a_panel_follows_the_running_game_and_its_slider_reaches_the_plugin(report: dict[str, Any]) -> None:
    assert "1 lanterns flicker" in report["lanterns_playing"]
    assert report["strength_shown"] == 1.0


def test_a_failing_plugin_is_stopped_and_the_editor_goes_on(report: dict[str, Any]) -> None:
    assert "Tools" in report["menus"] and "Break the namer" in report["menus"]
    assert "namer" in report["status_after_boom"] and "the namer broke on purpose" in report["status_after_boom"]
    assert report["running_after_boom"] == ["village"]
    assert any(t.startswith("stopped:") and "the namer broke on purpose" in t for t in report["text_after_boom"])
    assert report["editor_alive"]


def test_the_plugins_panel_shows_in_the_editor(report: dict[str, Any]) -> None:
    picture = PNMImage()
    assert picture.read(Filename.fromOsSpecific(report["shot"]))
    assert picture.getXSize() == 1280 and Path(report["shot"]).stat().st_size > 10_000
