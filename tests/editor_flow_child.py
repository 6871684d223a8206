"""Run by tests/test_editor_flows.py inside a private Xvfb display: a real editor (Dear PyGui
viewport, Panda3D view, every panel) driven through its scripting driver, one flow after another;
what happened is printed as one JSON object on the last line.

Flows: pick with the mouse (plain, parented, prefab member), a gizmo drag along X, one field on
two entities, undo/redo back and forth, create/duplicate/delete, a refused value, save and reload
(byte-identical), Play/Stop (byte-identical), a broken world, whole-editor screenshots.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from panda3d.core import Vec3

WORLD: dict[str, Any] = {
    "storm_world": 3, "name": "editor test",
    "entities": [
        {"id": 1, "name": "Camera", "transform": {"pos": [0, -12, 6], "hpr": [0, -25, 0]}, "components": {"Camera": {}}},
        {"id": 2, "name": "Sun", "transform": {"hpr": [30, -60, 0]}, "components": {"Light": {"intensity": 1.0}}},
        {"id": 3, "name": "Environment", "components": {"Environment": {}}},
        {"id": 4, "name": "Ground", "transform": {"scale": [20, 20, 1]},
         "components": {"MeshRenderer": {"model": "primitive:plane", "color": [0.35, 0.4, 0.35, 1]}}},
        {"id": 5, "name": "Red box", "transform": {"pos": [-2, 0, 0.5]},
         "components": {"MeshRenderer": {"color": [0.9, 0.1, 0.1, 1]}}},
        {"id": 6, "name": "Blue box", "transform": {"pos": [2, 0, 0.5]},
         "components": {"MeshRenderer": {"color": [0.1, 0.2, 0.9, 1]}, "base:motion.Spinner": {"speed": 90}}},
        {"id": 7, "name": "Holder", "transform": {"pos": [0, 3, 0]}, "components": {}},
        {"id": 8, "name": "Child box", "parent": 7, "transform": {"pos": [0, 0, 0.5], "scale": [0.8, 0.8, 0.8]},
         "components": {"MeshRenderer": {"color": [0.95, 0.85, 0.1, 1]}}},
        {"id": 9, "name": "Lamp", "prefab": "base:prefabs/pillar_lamp.prefab.json", "members": {"pillar": 10, "globe": 11},
         "transform": {"pos": [4, 4, 0]}},
        {"id": 12, "name": "Sky light", "components": {"Light": {"kind": "ambient", "intensity": 0.5}}},
    ],
}
BROKEN = '{"storm_world": 3, "name": "broken", "entities": [{"id": 1, "name": "A", "components": ' \
         '{"MeshRenderer": {"roughness": 7}}}]}\n'


def write_world(folder: Path) -> Path:
    path = folder / "test.world.json"
    path.write_text(json.dumps(WORLD, indent=2) + "\n", encoding="utf-8")
    return path


def aim(driver: Any) -> None:
    """A fixed editor camera, so the test knows where things are on screen."""
    camera = driver.session.camera
    camera.target = Vec3(0, 1.5, 0.5)
    camera.heading, camera.pitch, camera.distance = 0.0, -30.0, 13.0
    camera.version += 1
    driver.settle()


def pos(driver: Any, eid: int) -> list[float]:
    p = driver.world.node(eid).getPos()
    return [round(p.x, 4), round(p.y, 4), round(p.z, 4)]


def flows(folder: Path) -> dict[str, Any]:
    from editor.driver import EditorDriver

    out: dict[str, Any] = {}
    world_path = write_world(folder)
    with EditorDriver(world_path, size=(1280, 800)) as ed:
        aim(ed)
        out["view_origin"] = ed.view_origin()
        out["view_size"] = list(ed.app.view.size)
        points = {"red": (-2, 0, 0.5), "blue": (2, 0, 0.5), "child": (0, 3, 0.5), "globe": (4.2, 4, 2.3),
                  "ground": (0, -3, 0), "sky": (0, 60, 30)}
        out["screen"] = {name: ed.screen_point(p) for name, p in points.items()}
        out["shot_plain"] = str(ed.screenshot(folder / "plain.png"))
        local = {name: ed.view_point(p) for name, p in points.items()}

        # picking: plain, parented, prefab (root first, then the member), nothing. The globe is
        # clicked right of its centre: its instance's Z handle runs up through the middle
        out["pick_red"] = [ed.click(*local["red"]), ed.selected]
        out["shot_selected"] = str(ed.screenshot(folder / "selected.png"))
        out["pick_child"] = [ed.click(*local["child"]), ed.selected]
        out["pick_globe_first"] = [ed.click(*local["globe"]), ed.selected]
        out["pick_globe_again"] = [ed.click(*local["globe"]), ed.selected]
        out["pick_shift_adds"] = [ed.click(*local["red"], shift=True), ed.selected]
        out["pick_sky_clears"] = [ed.click(*local["sky"]), ed.selected]

        # the gizmo: drag the X handle of the red box
        ed.select([5])
        steps_before = len(ed.session.document.history.undo_names())
        before = pos(ed, 5)
        ed.drag_gizmo("x", 80)
        after = pos(ed, 5)
        out["gizmo"] = {"before": before, "after": after,
                        "steps": len(ed.session.document.history.undo_names()) - steps_before,
                        "title_dirty": ed.session.document.title().startswith("*")}
        ed.undo()
        out["gizmo_undone"] = pos(ed, 5)
        ed.redo()
        out["gizmo_redone"] = pos(ed, 5)
        ed.drag_gizmo("z", 40, ctrl=True)
        out["gizmo_snapped_z"] = pos(ed, 5)
        ed.undo()

        # one field on two entities: one step; undo and redo back and forth
        steps_before = len(ed.session.document.history.undo_names())
        reason = ed.set_field([5, 6], "MeshRenderer", "color", [0.0, 1.0, 0.0, 1.0])
        colours = lambda: [list(ed.world.get(e, ed.world.registry.get("MeshRenderer")).color) for e in (5, 6)]  # noqa: E731
        out["multi"] = {"reason": reason, "colours": colours(),
                        "steps": len(ed.session.document.history.undo_names()) - steps_before}
        back_and_forth = []
        for _ in range(3):
            ed.undo()
            back_and_forth.append(colours())
            ed.redo()
            back_and_forth.append(colours())
        out["multi_back_and_forth"] = back_and_forth
        ed.undo()

        # refused values change nothing
        steps_before = len(ed.session.document.history.undo_names())
        out["refused_range"] = ed.set_field([5], "MeshRenderer", "roughness", 5.0)
        out["refused_text"] = ed.set_field([5], "MeshRenderer", "roughness", "very rough")
        out["refused_shown"] = ed.app.inspector.refusal
        out["refused_steps"] = len(ed.session.document.history.undo_names()) - steps_before
        out["roughness_after_refusals"] = ed.world.get(5, ed.world.registry.get("MeshRenderer")).roughness

        # create, duplicate, delete, rename: all commands
        made = ed.create("sphere")
        ed.action("duplicate")
        copy = ed.selected[0]
        ed.select([copy])
        ed.app.inspector.submit_name("Copied sphere")
        ed.action("delete")
        out["create"] = {"made": made, "exists": ed.world.exists(made), "copy": copy,
                         "copy_gone": not ed.world.exists(copy)}
        ed.undo()
        out["create"]["copy_back_named"] = ed.world.name_of(copy)
        ed.undo()
        ed.undo()
        ed.undo()
        out["create"]["all_undone"] = not ed.world.exists(made)

        # save, reload, save again: the same bytes
        ed.select([5])
        ed.drag_gizmo("y", 50)
        first = ed.save(folder / "saved.world.json")
        out["title_after_save"] = ed.session.document.title()
        first_bytes = first.read_bytes()
        ed.open(first)
        second = ed.save(folder / "saved_again.world.json")
        out["reload_identical"] = first_bytes == second.read_bytes()
        out["reload_red_pos"] = pos(ed, 5)

        # Play / Stop returns the exact file
        heading_before = ed.world.node(6).getH()
        ticks = ed.play(0.5)
        out["play"] = {"ticks": ticks, "spun": round(ed.world.node(6).getH() - heading_before, 2),
                       "edit_refused": ed.set_field([5], "MeshRenderer", "roughness", 0.2)}
        ed.stop()
        after_play = ed.save(folder / "after_play.world.json")
        out["play"]["identical"] = after_play.read_bytes() == second.read_bytes()
        out["play"]["heading_back"] = round(ed.world.node(6).getH() - heading_before, 4)

        # a broken world: the loader's message in a dialog, the editor still usable
        broken = folder / "broken.world.json"
        broken.write_text(BROKEN, encoding="utf-8")
        out["broken_opened"] = ed.open(broken)
        dialog = ed.dialog
        out["broken_dialog"] = {"title": dialog.title, "text": dialog.text} if dialog else None
        out["shot_broken"] = str(ed.screenshot(folder / "broken.png"))
        ed.answer("OK")
        out["after_broken_world"] = ed.world.name
        out["usable_after_broken"] = ed.world.exists(ed.create("box"))
    return out


def main() -> int:
    folder = Path(sys.argv[1])
    print(json.dumps(flows(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
