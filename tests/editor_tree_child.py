"""Run by tests/test_editor_tree.py inside a private Xvfb display: the real editor's scene tree.
A row dragged onto another with the real X pointer (XTEST) reparents, keeping the world
position, in one undo step; a drop that would make a cycle is refused with a message; Ctrl+G
groups; Ctrl+C in one world and Ctrl+V (real keys) after opening another pastes a copy with new
ids whose references inside point inside the copy; hide and lock are remembered for the world
file without changing it. Prints one JSON object on the last line.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Callable

import dearpygui.dearpygui as dpg
from Xlib import XK, X
from Xlib import display as xdisplay
from Xlib.ext import xtest

from tests.editor_flow_child import WORLD, aim

PATIENCE = 300  # frames
TREE_WORLD: dict[str, Any] = copy.deepcopy(WORLD)
TREE_WORLD["entities"][6]["transform"] = {"pos": [0, 3, 0], "hpr": [90, 0, 0]}  # Holder, turned
TREE_WORLD["entities"] += [
    {"id": 13, "name": "Rig", "transform": {"pos": [1, -2, 0.5], "hpr": [30, 0, 0]}, "components": {}},
    {"id": 14, "name": "Rig camera", "parent": 13, "transform": {"pos": [0, -3, 1]},
     "components": {"Camera": {"active": False, "target": 13}}},
    {"id": 15, "name": "Watcher", "parent": 13, "components": {"Camera": {"active": False, "target": 5}}},
    {"id": 16, "name": "Wall", "transform": {"pos": [0, 8, 1], "scale": [10, 0.4, 2]},  # its origin far from its ends
     "components": {"MeshRenderer": {"color": [0.6, 0.6, 0.65, 1]}}},
]
WALL_END = (-4.2, 8, 1.0)  # a point on the wall's left part, 4 m from its origin
OTHER_WORLD: dict[str, Any] = {"storm_world": 3, "name": "other world", "entities": [
    {"id": 1, "name": "Camera", "transform": {"pos": [0, -12, 6], "hpr": [0, -25, 0]}, "components": {"Camera": {}}},
    {"id": 2, "name": "Floor", "transform": {"scale": [10, 10, 1]},
     "components": {"MeshRenderer": {"model": "primitive:plane"}}},
]}


def write(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def world_pos(ed: Any, eid: int) -> list[float]:
    p = ed.world.node(eid).getPos(ed.world.root)
    return [round(p.x, 4) + 0.0, round(p.y, 4) + 0.0, round(p.z, 4) + 0.0]


def steps(ed: Any) -> int:
    return len(ed.session.document.history.undo_names())


def main() -> int:
    from editor.driver import EditorDriver

    folder = Path(sys.argv[1])
    x = xdisplay.Display()
    out: dict[str, Any] = {}
    first = write(folder, "tree.world.json", TREE_WORLD)
    other = write(folder, "other.world.json", OTHER_WORLD)
    first_bytes = first.read_bytes()
    camera_type = None
    with EditorDriver(first, size=(1280, 800)) as ed:
        aim(ed)
        tree = ed.app.tree
        camera_type = ed.world.registry.get("Camera")

        def until(done: Callable[[], bool]) -> int | None:
            for frame in range(PATIENCE):
                ed.step()
                if done():
                    return frame
            return None

        def pointer(px: float, py: float) -> None:
            xtest.fake_input(x, X.MotionNotify, x=int(round(px)), y=int(round(py)))
            x.sync()
            ed.step(2)

        def button(press: bool) -> None:
            xtest.fake_input(x, X.ButtonPress if press else X.ButtonRelease, 1)
            x.sync()
            ed.step(2)

        def keys(modifier: str, key: str) -> None:
            """Modifier held, the key tapped (pressed and let go before the next frame: no key repeat)."""
            held, tapped = (x.keysym_to_keycode(XK.string_to_keysym(n)) for n in (modifier, key))
            xtest.fake_input(x, X.KeyPress, held)
            x.sync()
            ed.step(2)
            xtest.fake_input(x, X.KeyPress, tapped)
            xtest.fake_input(x, X.KeyRelease, tapped)
            x.sync()
            ed.step(2)
            xtest.fake_input(x, X.KeyRelease, held)
            x.sync()
            ed.step(2)

        def tap(key: str) -> None:
            code = x.keysym_to_keycode(XK.string_to_keysym(key))
            xtest.fake_input(x, X.KeyPress, code)
            xtest.fake_input(x, X.KeyRelease, code)
            x.sync()
            ed.step(3)

        def pasted(new: list[int]) -> dict[str, Any]:
            root = next((e for e in new if ed.world.parent_of(e) not in new), 0)
            kids = {ed.world.name_of(e): e for e in new if ed.world.parent_of(e) == root}
            cam, watcher = kids.get("Rig camera", 0), kids.get("Watcher", 0)
            node = ed.world.node(root)
            return {"new": new, "root_name": ed.world.name_of(root), "selected": ed.selected, "root": root,
                    "parent": ed.world.parent_of(root), "root_world": world_pos(ed, root),
                    "root_hpr": [round(v, 3) + 0.0 for v in node.getHpr()],
                    "root_world_hpr": [round(v, 3) + 0.0 for v in node.getHpr(ed.world.root)],
                    "root_world_scale": [round(v, 3) + 0.0 for v in node.getScale(ed.world.root)],
                    "camera_target": ed.world.get(cam, camera_type).target if cam else None,
                    "watcher_target": ed.world.get(watcher, camera_type).target if watcher else None,
                    "dirty": ed.session.document.dirty, "steps": steps(ed)}

        def row_centre(eid: int) -> tuple[float, float]:
            item = tree._rows[eid]
            (rx, ry), (_w, h) = dpg.get_item_rect_min(item), dpg.get_item_rect_size(item)
            return rx + 60.0, ry + min(h, 18.0) / 2.0

        def drag_row(eid: int, onto: int) -> None:
            start, end = row_centre(eid), row_centre(onto)
            pointer(*start)
            button(True)
            for i in range(1, 9):
                pointer(start[0] + (end[0] - start[0]) * i / 8, start[1] + (end[1] - start[1]) * i / 8)
            out.setdefault("hints", []).append(dpg.get_value("storm_tree_hint"))
            button(False)
            until(lambda: tree.last_drop is not None)

        def marks() -> dict[str, Any]:
            state = list((folder / "config" / "storm" / "editor" / "world_state").glob("*.json"))
            saved = json.loads(state[0].read_text()) if state else {}
            return {"hidden": sorted(ed.session.marks.hidden), "locked": sorted(ed.session.marks.locked),
                    "file_hidden": saved.get("hidden", []), "file_locked": saved.get("locked", []),
                    "dirty": ed.session.document.dirty, "steps": steps(ed)}

        def real_box(centre: tuple[float, float, float], half: float, shot: str = "") -> list[int]:
            """Draw a box with the real pointer around a world point; the selection after the release."""
            ed.select([])
            ox, oy = ed.view_origin()
            cx, cy = ed.view_point(centre)
            pointer(ox + cx - half, oy + cy - half)
            button(True)
            for i in range(1, 8):
                pointer(ox + cx - half + 2 * half * i / 7, oy + cy - half + 2 * half * i / 7)
            out["box_drawn"] = ed.app.controller.box is not None
            if shot:
                out[shot] = str(ed.screenshot(folder / f"{shot}.png"))
            button(False)
            until(lambda: bool(ed.selected))
            ed.settle()
            return ed.selected

        # -- box select with the real pointer: by what shows, not by origins ------------------------------
        out["box_red_and_ground"] = real_box((-2, 0, 0.5), 35)  # the ground shows all round the red box
        ed.select([4])
        count = steps(ed)
        tap("l")  # the real L key locks the ground: one undo step, the world not dirty
        until(lambda: steps(ed) > count)
        out["ground_locked"] = marks()
        out["box_red"] = real_box((-2, 0, 0.5), 35)
        out["box_wall_end"] = real_box(WALL_END, 30, shot="box_wall_drawing")
        out["wall_end_outside_origin"] = abs(ed.view_point(WALL_END)[0] - ed.view_point((0, 8, 1))[0]) > 100
        out["shot_wall_selected"] = str(ed.screenshot(folder / "box_wall_selected.png"))
        out["wall_right_screen"] = ed.screen_point((3.5, 7.8, 1.4))  # on the wall, right of the box
        keys("Control_L", "z")  # real Ctrl+Z: the ground unlocked
        until(lambda: not ed.session.marks.locked)
        out["ground_lock_undone"] = marks()
        keys("Control_L", "y")  # real Ctrl+Y: locked again
        until(lambda: bool(ed.session.marks.locked))
        out["ground_lock_redone"] = marks()
        keys("Control_L", "z")
        until(lambda: not ed.session.marks.locked)
        ed.select([])

        # -- W / E / R / X with the real keyboard (the pointer over the view) ---------------------------
        tools = []
        for key in ("e", "r", "w", "x"):
            tap(key)
            tools.append([ed.session.gizmo.tool, ed.session.prefs.snap_on])
        tap("x")
        tools.append([ed.session.gizmo.tool, ed.session.prefs.snap_on])
        out["tool_keys"] = tools

        # -- reparent with the real pointer: Red box onto Holder ------------------------------------------
        ed.settle()
        before, local_before, count = world_pos(ed, 5), list(ed.world.node(5).getPos()), steps(ed)
        drag_row(5, 7)
        out["drop"] = tree.last_drop
        out["reparent"] = {"parent": ed.world.parent_of(5), "world_before": before, "world_after": world_pos(ed, 5),
                           "local_after": [round(v, 4) + 0.0 for v in ed.world.node(5).getPos()],
                           "steps": steps(ed) - count}
        ed.undo()
        out["reparent_undone"] = {"parent": ed.world.parent_of(5),
                                  "local": [round(v, 4) + 0.0 for v in ed.world.node(5).getPos()],
                                  "local_before": [round(v, 4) + 0.0 for v in local_before]}

        # -- a cycle is refused: Holder onto its own child -------------------------------------------------
        tree.open_to(8)
        ed.settle()
        tree.last_drop = None
        count = steps(ed)
        drag_row(7, 8)
        out["cycle"] = {"drop": tree.last_drop, "parent": ed.world.parent_of(7), "steps": steps(ed) - count,
                        "message": ed.session.message}

        # -- group (Ctrl+G): the red and blue boxes ----------------------------------------------------
        ed.select([5, 6])
        count = steps(ed)
        keys("Control_L", "g")
        until(lambda: steps(ed) > count)
        group = ed.selected[0] if ed.selected else 0
        out["group"] = {"id": group, "name": ed.world.name_of(group) if ed.world.exists(group) else None,
                        "at": world_pos(ed, group) if ed.world.exists(group) else None,
                        "children": sorted(e for e in (5, 6) if ed.world.parent_of(e) == group),
                        "red": world_pos(ed, 5), "blue": world_pos(ed, 6), "steps": steps(ed) - count}
        ed.undo()
        out["group_undone"] = {"exists": ed.world.exists(group), "parents": [ed.world.parent_of(5),
                                                                             ed.world.parent_of(6)]}

        # -- hide and lock: undo steps (real H, Ctrl+Z, Ctrl+Y), remembered for the file, the file unchanged
        ed.select([6])
        count = steps(ed)
        tap("h")
        until(lambda: 6 in ed.session.marks.hidden)
        out["hidden"] = marks()
        out["hidden"]["step_name"] = ed.session.document.history.undo_names()[-1]
        out["tree_label_hidden"] = dpg.get_item_label(tree._rows[6])
        keys("Control_L", "z")
        until(lambda: not ed.session.marks.hidden)
        out["hide_undone"] = marks()
        out["tree_label_shown"] = dpg.get_item_label(tree._rows[6])
        keys("Control_L", "y")
        until(lambda: 6 in ed.session.marks.hidden)
        out["hide_redone"] = marks()
        out["hide_steps"] = steps(ed) - count
        ed.select([2])
        ed.action("lock")

        def paste(into: int, shift: bool = False) -> dict[str, Any]:
            """Select ``into`` (0: nothing), paste with real Ctrl+V (Ctrl+Shift+V), report, undo."""
            ed.select([into] if into else [])
            here_ids = set(ed.world.entities())
            if shift:
                held = [x.keysym_to_keycode(XK.string_to_keysym(n)) for n in ("Control_L", "Shift_L")]
                for code in held:
                    xtest.fake_input(x, X.KeyPress, code)
                x.sync()
                ed.step(2)
                tap("v")
                for code in reversed(held):
                    xtest.fake_input(x, X.KeyRelease, code)
                x.sync()
                ed.step(2)
            else:
                keys("Control_L", "v")
            until(lambda: len(ed.world.entities()) > len(here_ids))
            report = pasted(sorted(set(ed.world.entities()) - here_ids))
            ed.undo()
            return report

        # -- copy (real Ctrl+C) here, paste (real Ctrl+V) in another world, and here again ------------
        ed.select([13])
        keys("Control_L", "c")
        until(lambda: bool(ed.session.tree_edits.clipboard))
        out["clipboard_plain"] = json.loads(json.dumps(ed.session.tree_edits.clipboard.records)) == \
            ed.session.tree_edits.clipboard.records
        out["paste_here"] = paste(13)  # Ctrl+V: a child of the selected entity (Godot's Paste)
        out["paste_under_child_box"] = paste(8)  # under the scaled child of the turned holder
        out["paste_beside_child_box"] = paste(8, shift=True)  # Ctrl+Shift+V: beside it, under the holder
        out["paste_top"] = paste(0)

        ed.open(other)
        other_ids = set(ed.world.entities())
        keys("Control_L", "v")
        until(lambda: len(ed.world.entities()) > len(other_ids))
        out["paste_other"] = pasted(sorted(set(ed.world.entities()) - other_ids))
        ed.undo()
        out["paste_other_undone"] = sorted(set(ed.world.entities()) - other_ids)

        ed.open(first)
        out["marks_back"] = {"hidden": sorted(ed.session.marks.hidden), "locked": sorted(ed.session.marks.locked)}
        out["file_unchanged"] = first.read_bytes() == first_bytes
        out["state_files"] = [p.name for p in (folder / "config" / "storm" / "editor" / "world_state").glob("*.json")]
        out["shot"] = str(ed.screenshot(folder / "tree.png"))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
