"""The editor's logic without a screen: the generated dock layout, preferences read as far as
they are valid, documents, autosave and recovery, the inspector's checks, the click rule for
prefabs, the gizmo's axis maths and drag command, Create's templates. (The widgets themselves
are tested under Xvfb: test_editor_flows.py and friends.)"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from panda3d.core import Point3, Vec3

from editor import layout
from editor.document import Document
from editor.field_edit import Refused, check, field_command, transform_command
from editor.gizmo import TranslateGizmo, axis_parameter
from editor.picking import Ray
from editor.recovery import AutoSaver, Recovery
from editor.selection import Selection, apply_click, click_target
from editor.settings import Preferences, load_prefs, save_prefs
from editor.templates import create_command, unique_name
from engine.core.commands import Transaction
from engine.core.edit_commands import SetFields, SetTransform
from engine.data.world_file import load_world_data
from engine.host.runtime import Runtime
from tests.editor_flow_child import WORLD


def make_world(runtime: Runtime) -> Any:
    return load_world_data(json.loads(json.dumps(WORLD)), "test", runtime)


# -- layout -----------------------------------------------------------------------------------------
def test_imgui_hash_matches_dear_pygui_2_3_1() -> None:
    # read back from the .ini Dear PyGui 2.3.1 itself wrote for its dock space over the viewport
    host = layout.imgui_hash("WindowOverViewport_11111111")
    assert host == 0x1BBC0F80
    assert layout.imgui_hash("DockSpace", host) == 0x08BD597D
    assert layout.imgui_hash("label###25") == layout.imgui_hash("###25")  # "###" restarts the hash


def test_the_default_layout_docks_every_panel() -> None:
    labels = {name: f"###{20 + i}" for i, name in enumerate(layout.DEFAULT_NODES)}
    text = layout.default_layout(labels, (1280, 800))
    for label in labels.values():
        assert f"[Window][{label}]" in text
    assert text.count("DockId=0x") == len(labels)
    assert "CentralNode=1" in text and "DockSpace" in text
    assert layout.layout_key(labels) != layout.layout_key({**labels, "view": "###99"})


# -- preferences ------------------------------------------------------------------------------------
def test_preferences_round_trip_and_bad_values_fall_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "prefs.json"
    prefs = Preferences()
    for i in range(15):
        prefs.remember_file(tmp_path / f"w{i}.world.json")
    prefs.shading = "full"
    save_prefs(prefs, path)
    again = load_prefs(path)
    assert again.shading == "full" and len(again.recent) == 10 and again.recent[0].endswith("w14.world.json")
    path.write_text(json.dumps({"shading": "neon", "autosave_seconds": -3, "grid": False, "recent": "x"}))
    odd = load_prefs(path)
    assert (odd.shading, odd.autosave_seconds, odd.grid, odd.recent) == ("edit", 30.0, False, [])
    assert "shading has an invalid value" in caplog.text
    path.write_bytes(b"\xff\xfe not json")
    assert load_prefs(path) == Preferences()


# -- documents, autosave, recovery -------------------------------------------------------------------
def test_document_edits_mark_it_dirty_and_saving_clears(tmp_path: Path, runtime: Runtime) -> None:
    document = Document(make_world(runtime), None)
    assert not document.dirty and document.title() == "editor test (not saved yet) - Storm editor"
    document.do(SetTransform(5, pos=[1, 2, 3]))
    assert document.dirty and document.title().startswith("*")
    saved = document.save(tmp_path / "a.world.json")
    assert not document.dirty and document.path == saved
    document.undo()
    assert document.dirty
    document.redo()
    assert not document.dirty


def test_autosave_writes_changes_only_and_recovery_restores_them(tmp_path: Path, runtime: Runtime) -> None:
    path = tmp_path / "w.world.json"
    Document(make_world(runtime), None).save(path)
    recovery = Recovery(tmp_path / "recovery")
    document = Document.open(runtime, path)
    saver = AutoSaver(recovery, interval=100.0)
    saver.reset(document)
    assert not saver.tick(document, idle=True)  # nothing to save
    document.do(SetFields(5, "MeshRenderer", {"roughness": 0.25}))
    assert not saver.tick(document, now=0.0)  # not due yet
    assert saver.tick(document, idle=True)  # about to go idle: written
    assert not saver.tick(document, idle=True)  # already written
    found = recovery.find(path)
    assert found is not None and found.original == str(path.resolve())
    restored = recovery.restore(runtime, found)
    assert restored.dirty and restored.path == path.resolve()
    assert restored.world.get(5, restored.world.registry.get("MeshRenderer")).roughness == 0.25
    document.save()
    saver.tick(document)
    assert recovery.find(path) is None  # saved: nothing left to recover


# -- the inspector's checks --------------------------------------------------------------------------
def test_values_are_checked_by_the_field_declaration(runtime: Runtime) -> None:
    world = make_world(runtime)
    mesh = world.registry.get("MeshRenderer")
    assert check(mesh.fields["roughness"], "0.5") == 0.5
    with pytest.raises(Refused, match=r"expected a number in \[0.0, 1.0\], got 2"):
        check(mesh.fields["roughness"], 2)
    with pytest.raises(Refused, match="got the text 'soft'"):
        check(mesh.fields["roughness"], "soft")
    with pytest.raises(Refused, match="colour"):
        check(mesh.fields["color"], [2, 0, 0, 1])
    both = field_command(world, [5, 6, 7], "MeshRenderer", "color", [0, 0, 1, 1])
    assert isinstance(both, Transaction) and [c.entity for c in both.commands] == [5, 6]  # 7 has no mesh
    with pytest.raises(Refused, match="no selected entity has a Light"):
        field_command(world, [5], "Light", "intensity", 1)
    with pytest.raises(Refused, match="zero would flatten"):
        transform_command(world, [5], "scale", [1, 0, 1])
    assert isinstance(transform_command(world, [5], "pos", ["1", 2, 3.5]), SetTransform)


# -- selection ------------------------------------------------------------------------------------------
def test_a_click_on_a_prefab_part_selects_the_instance_then_the_part(runtime: Runtime) -> None:
    world = make_world(runtime)
    selection = Selection()
    assert click_target(world, 11, selection) == 9
    apply_click(world, selection, 11, add=False)
    assert selection.ids == [9]
    apply_click(world, selection, 11, add=False)
    assert selection.ids == [11]
    apply_click(world, selection, 8, add=True)
    assert selection.ids == [11, 8] and selection.primary == 11
    apply_click(world, selection, 8, add=True)
    assert selection.ids == [11]
    apply_click(world, selection, 0, add=False)
    assert selection.ids == []


# -- the gizmo ---------------------------------------------------------------------------------------------
def test_axis_parameter_is_the_nearest_point_to_the_ray() -> None:
    ray = Ray(Point3(3, -10, 5), Vec3(0, 1, 0))
    assert axis_parameter(Point3(0, 0, 0), Vec3(1, 0, 0), ray) == pytest.approx(3.0)
    assert axis_parameter(Point3(0, 0, 0), Vec3(0, 1, 0), ray) is None  # along the axis


def test_a_gizmo_drag_previews_then_makes_one_command(runtime: Runtime) -> None:
    world = make_world(runtime)
    gizmo = TranslateGizmo()
    ray = lambda x: Ray(Point3(x, -10, 0.5), Vec3(0, 1, 0))  # noqa: E731 - a ray through (x, *, 0.5)
    assert gizmo.begin(world, [8, 7], "x", ray(0.0))  # the child moves with its selected parent
    gizmo.drag(world, ray(1.3), snap=0.5)
    assert world.node(7).getPos() == Point3(1.5, 3, 0)  # previewed, snapped
    command = gizmo.end(world)
    assert world.node(7).getPos() == Point3(0, 3, 0)  # the command, not the preview, moves it
    assert isinstance(command, SetTransform) and command.entity == 7 and command.pos == [1.5, 3.0, 0.0]
    gizmo.begin(world, [5], "z", Ray(Point3(-2, -10, 0.5), Vec3(0, 1, 0)))
    assert gizmo.end(world) is None  # no move, no command


def test_create_names_are_unique(runtime: Runtime) -> None:
    world = make_world(runtime)
    assert unique_name(world, "Red box") == "Red box 2" and unique_name(world, "Tree") == "Tree"
    command = create_command(world, "point_light", Point3(1, 2, -5))
    record = command.entities[0]
    assert record["name"] == "Point light" and record["transform"]["pos"] == [1, 2, 2.0]


# -- play --------------------------------------------------------------------------------------------
class _Interpolator:
    def reset(self) -> None:
        pass


class _App:
    interpolator = _Interpolator()


class _Renderer:
    """Stands in for the view: Play's tick draws through it (here, a tick of the world)."""

    def __init__(self, world: Any, fail: bool = False) -> None:
        self.world, self.fail, self.app, self.cameras = world, fail, _App(), []

    def draw(self, seconds: float = 0.0) -> int:
        self.world.tick(1.0 / 60.0)
        if self.fail:
            import logging

            logging.getLogger("storm.scripts").error("script base:x.Y on entity 5 raised in on_update")
        return 1

    def set_camera(self, provider: Any) -> None:
        self.cameras.append(provider)


def test_stop_brings_the_edited_world_back_and_a_behaviour_error_stops_play(runtime: Runtime,
                                                                            tmp_path: Path) -> None:
    from editor.play_mode import PlayMode
    from engine.data.world_file import save_world

    world = make_world(runtime)
    save_world(world, tmp_path / "before.world.json")
    play = PlayMode(_Renderer(world))  # type: ignore[arg-type]
    play.start(world)
    for _ in range(20):
        play.tick(1.0 / 60.0)
    assert world.node(6).getH() != 0.0  # the spinner ran
    play.stop()
    save_world(world, tmp_path / "after.world.json")
    assert (tmp_path / "after.world.json").read_bytes() == (tmp_path / "before.world.json").read_bytes()
    failing = PlayMode(_Renderer(world, fail=True))  # type: ignore[arg-type]
    stopped: list[str] = []
    failing.on_stop.append(stopped.append)
    failing.start(world)
    failing.tick(1.0 / 60.0)
    assert not failing.playing and stopped == ["a behaviour error"]
    assert world.node(6).getH() == 0.0
