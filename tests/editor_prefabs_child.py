"""Run by tests/test_editor_prefabs.py inside a private Xvfb display: a real editor over the base
pack and a test pack (tests/editor_assets_child.make_pack), driven as clicks drive it: placing
models and prefabs on the surface under the mouse, undo, making a prefab from the selection,
prefab overrides (revert, apply), asset and entity pickers (pick in the viewport), a prefab edited
on its own, and the open world's file changed on disk. One JSON object on the last line.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from panda3d.core import Vec3

from tests.editor_assets_child import make_runtime

WORLD: dict[str, Any] = {
    "storm_world": 3, "name": "prefab test",
    "entities": [
        {"id": 1, "name": "Camera", "transform": {"pos": [0, -12, 6], "hpr": [0, -25, 0]}, "components": {"Camera": {}}},
        {"id": 2, "name": "Sun", "transform": {"hpr": [30, -60, 0]}, "components": {"Light": {"intensity": 1.0}}},
        {"id": 4, "name": "Ground", "transform": {"scale": [20, 20, 1]},
         "components": {"MeshRenderer": {"model": "primitive:plane", "color": [0.35, 0.4, 0.35, 1]}}},
        {"id": 5, "name": "Platform", "transform": {"pos": [3, 0, 0.5], "scale": [2, 2, 1]},
         "components": {"MeshRenderer": {"color": [0.6, 0.6, 0.6, 1]}}},
        {"id": 7, "name": "Holder", "transform": {"pos": [-3, 3, 0], "hpr": [30, 0, 0]}, "components": {}},
        {"id": 8, "name": "Child box", "parent": 7, "transform": {"pos": [0, 0, 0.5], "scale": [0.8, 0.8, 0.8]},
         "components": {"MeshRenderer": {"color": [0.95, 0.85, 0.1, 1]}}},
        {"id": 9, "name": "Lamp", "prefab": "testpack:prefabs/lamp.prefab.json", "members": {"pillar": 10, "globe": 11},
         "transform": {"pos": [-4, -2, 0]}},
        {"id": 12, "name": "Red box", "transform": {"pos": [0, 2, 0.5]},
         "components": {"MeshRenderer": {"color": [0.9, 0.1, 0.1, 1]}}},
    ],
}


def aim(ed: Any) -> None:
    camera = ed.session.camera
    camera.target = Vec3(0, 0, 0.5)
    camera.heading, camera.pitch, camera.distance = 0.0, -40.0, 16.0
    camera.version += 1
    ed.settle()


def rounded(values: Any) -> list[float]:
    return [round(float(v), 3) for v in values]


def subtree_state(ed: Any, root: int) -> list[Any]:
    """Names, world positions and colours of an entity and everything under it (in tree order)."""
    world = ed.world
    out = []
    for eid in [root] + world.descendants(root):
        node = world.node(eid)
        mesh = next((c for c in world.components(eid) if type(c).type_name == "MeshRenderer"), None)
        out.append([world.name_of(eid), rounded(node.getPos(world.root)), rounded(node.getHpr(world.root)),
                    rounded(mesh.color) if mesh is not None else None])
    return out


def texts_under(item: Any) -> list[str]:
    import dearpygui.dearpygui as dpg

    found = []
    stack = [item]
    while stack:
        current = stack.pop()
        if dpg.get_item_type(current).endswith("mvText"):
            found.append(str(dpg.get_value(current)))
        children = dpg.get_item_children(current) or {}
        for slot in children.values():
            stack.extend(slot)
    return found


def dpg_format(item: int) -> str:
    import dearpygui.dearpygui as dpg

    return str(dpg.get_item_configuration(item).get("format", ""))


def wait_for(ed: Any, condition: Any, most_s: float = 15.0) -> bool:
    deadline = time.monotonic() + most_s
    while time.monotonic() < deadline:
        ed.step()
        if condition():
            return True
        time.sleep(0.05)
    return False


def flows(folder: Path) -> dict[str, Any]:
    from editor import prefab_overrides
    from editor.driver import EditorDriver
    from editor.prefab_tools import make_prefab, model_lift

    out: dict[str, Any] = {}
    world_path = folder / "prefabs.world.json"
    world_path.write_text(json.dumps(WORLD, indent=2) + "\n", encoding="utf-8")
    with EditorDriver(world_path, size=(1280, 800), runtime=make_runtime(folder)) as ed:
        aim(ed)
        browser = ed.app.assets
        session = ed.session
        world = ed.world
        crate = "base:models/crate.gltf"
        out["crate_lift"] = model_lift(session, crate)

        # drop a crate on the ground, then one on the platform (its top at z = 1)
        for name, point in (("ground", (-1.0, -2.0, 0.0)), ("platform", (3.0, 0.0, 1.0))):
            x, y = ed.view_point(point)
            eid = browser.drop(crate, x, y)
            ed.settle()
            out[f"drop_{name}"] = {"id": eid, "pos": rounded(world.node(eid).getPos()) if eid else None,
                                   "model": world.get(eid, world.registry.get("MeshRenderer")).model if eid else "",
                                   "selected": ed.selected}
        out["history_after_drops"] = session.document.history.undo_names()[-2:]
        ed.undo()
        out["after_undo_platform_exists"] = world.exists(out["drop_platform"]["id"])
        out["after_undo_ground_exists"] = world.exists(out["drop_ground"]["id"])
        ed.undo()
        out["after_two_undos_ground_exists"] = world.exists(out["drop_ground"]["id"])

        # Place, then click in the view: a prefab on the ground; the click does not select
        before = ed.selected
        browser.start_placing("testpack:prefabs/lamp.prefab.json")
        ed.click(*ed.view_point((1.0, 3.0, 0.0)))
        placed = ed.selected[0] if ed.selected != before and ed.selected else 0
        out["place_click"] = {"id": placed, "pos": rounded(world.node(placed).getPos()) if placed else None,
                              "is_instance": placed in world.prefab_instances}
        ed.undo()

        # make a prefab from the Holder (a parent with a child): file, instance with the same ids
        out["holder_before"] = subtree_state(ed, 7)
        ed.select([7])
        asset_id, root = make_prefab(session, "testpack", "Holder thing")
        ed.settle()
        out["made"] = {"asset": asset_id, "root": root, "is_instance": root in world.prefab_instances,
                       "members": dict(world.prefab_instances[root].members) if root in world.prefab_instances else {},
                       "file": str(session.runtime.content.resolve(asset_id)),
                       "history": session.document.history.undo_names()[-1]}
        out["holder_after"] = subtree_state(ed, root)
        ed.undo()
        out["holder_after_undo"] = subtree_state(ed, 7)
        out["holder_undo_is_instance"] = 7 in world.prefab_instances
        ed.redo()
        # the file loads back to the same entities: a second instance from the file
        from engine.core.prefab_commands import InstantiatePrefab

        inverse = ed.apply(InstantiatePrefab(asset=asset_id, transform={"pos": [-3, 3, 0], "hpr": [30, 0, 0]}))
        out["holder_again"] = subtree_state(ed, inverse.entity)
        ed.undo()
        # two entities at once: a new root at their centre
        ed.select([5, 12])
        pair_before = subtree_state(ed, 5) + subtree_state(ed, 12)
        asset_pair, pair_root = make_prefab(session, "testpack", "Pair")
        ed.settle()
        out["pair_before"] = sorted(pair_before)
        out["pair_after"] = sorted(subtree_state(ed, pair_root)[1:])
        out["pair_ids_kept"] = sorted(world.prefab_instances[pair_root].members.values())
        ed.undo()

        # refusals: nothing selected, a name already used, a pack that is not there, a sound placed
        from editor.prefab_tools import PrefabRefused

        count = len(world.entities())
        refusals = {}
        for label, ids, pack, name in (("nothing", [], "testpack", "x"), ("taken", [12], "testpack", "Holder thing"),
                                       ("no pack", [12], "nopack", "y")):
            ed.select(ids)
            try:
                make_prefab(session, pack, name)
                refusals[label] = ""
            except PrefabRefused as exc:
                refusals[label] = exc.reason
        x, y = ed.view_point((0.0, -3.0, 0.0))
        refusals["sound placed"] = str(browser.drop("base:sounds/click.wav", x, y))
        refusals["sound said"] = session.message
        out["refusals"] = refusals
        out["entities_unchanged"] = len(world.entities()) == count

        # overrides on the lamp's globe: shown in the inspector, revert goes back to the prefab's value
        prefab_colour = rounded(world.get(11, world.registry.get("MeshRenderer")).color)
        ed.set_field([11], "MeshRenderer", "color", [0, 1, 0, 1])
        out["override_texts"] = [t for t in texts_under("storm_inspector_body") if "override" in t or "Prefab" in t]
        out["override_membership"] = prefab_overrides.membership(world, 11).overrides
        reason = prefab_overrides.revert(session, 11, "MeshRenderer")
        ed.settle()
        out["revert"] = {"reason": reason, "colour": rounded(world.get(11, world.registry.get("MeshRenderer")).color),
                         "prefab_colour": prefab_colour,
                         "overrides_after": prefab_overrides.membership(world, 11).overrides}
        # apply: the prefab file gets the value when the world is saved
        ed.set_field([11], "MeshRenderer", "color", [0.2, 0.3, 1, 1])
        out["apply_reason"] = prefab_overrides.apply(session, 11, "MeshRenderer")
        ed.settle()
        out["apply_overrides_after"] = prefab_overrides.membership(world, 11).overrides
        ed.save()
        lamp_file = Path(session.runtime.content.resolve("testpack:prefabs/lamp.prefab.json"))
        lamp = json.loads(lamp_file.read_text(encoding="utf-8"))
        out["lamp_globe_colour_in_file"] = next(e for e in lamp["entities"] if e["key"] == "globe")[
            "components"]["MeshRenderer"]["color"]

        # pickers: assets of the field's kind; an entity picked in the viewport
        inspector = ed.app.inspector
        ed.select([1])
        inspector.choosers.picker.open_assets("sound", lambda v: None)
        out["sound_choices"] = [v for v, _label in inspector.choosers.picker._choices]
        inspector.choosers.picker.close()
        inspector.choosers.pick_in_view("Camera", "target")
        out["picking_busy"] = ed.app.controller.taker is not None
        ed.click(*ed.view_point((0.0, 2.0, 0.5)))  # the red box
        out["camera_target"] = world.get(1, world.registry.get("Camera")).target
        ed.settle()
        out["target_shown"] = [dpg_format(item) for item in inspector._entity_items]
        out["selected_after_pick"] = ed.selected
        inspector.choosers.choose_entity("Camera", "target")
        inspector.choosers.picker.pick(5)
        ed.settle()
        out["camera_target_listed"] = world.get(1, world.registry.get("Camera")).target
        out["shot"] = str(ed.screenshot(folder / "prefabs.png"))

        # a prefab on its own: unsaved world edits are asked about first
        import dearpygui.dearpygui as dpg

        browser.edit_prefab("testpack:prefabs/lamp.prefab.json")
        ed.settle()
        out["edit_prefab_asked"] = ed.dialog.title if ed.dialog else ""
        ed.answer("Cancel")
        out["still_the_world"] = session.document.path == world_path.resolve()
        ed.save()
        browser.edit_prefab("testpack:prefabs/broken.prefab.json")  # a broken prefab: its error, nothing else
        ed.settle()
        out["broken_prefab"] = {"title": ed.dialog.title if ed.dialog else "", "text": ed.dialog.text if ed.dialog else "",
                                "still_the_world": session.document.path == world_path.resolve()}
        if ed.dialog is not None:
            ed.answer(ed.dialog.buttons[0][0])
        browser.edit_prefab("testpack:prefabs/lamp.prefab.json")
        ed.settle()
        out["edit_button"] = dpg.get_item_label("storm_assets_edit_prefab")
        # edit the pillar's colour, save, and the world's instance follows
        pworld = ed.world
        pillar = next(e for e in pworld.entities() if pworld.name_of(e) == "Pillar")
        out["prefab_doc"] = {"title": session.document.title(), "entities": sorted(pworld.name_of(e) for e in pworld.entities())}
        ed.set_field([pillar], "MeshRenderer", "color", [0.1, 0.9, 0.2, 1])
        ed.save()
        lamp = json.loads(lamp_file.read_text(encoding="utf-8"))
        out["pillar_colour_in_file"] = next(e for e in lamp["entities"] if e["key"] == "pillar")[
            "components"]["MeshRenderer"]["color"]
        out["prefab_keys_kept"] = [e["key"] for e in lamp["entities"]]
        browser._edit_or_back()  # the button now reads "Back to the world"
        ed.settle()
        out["back_to"] = str(session.document.path)
        world = ed.world
        out["instance_pillar_colour"] = rounded(world.get(10, world.registry.get("MeshRenderer")).color)

        # the world's file changed on disk: no unsaved edits -> reloaded; unsaved edits -> asked
        ed.step(3)
        data = json.loads(world_path.read_text(encoding="utf-8"))
        next(e for e in data["entities"] if e["id"] == 12)["name"] = "Renamed outside"
        world_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        out["reloaded"] = wait_for(ed, lambda: ed.world.name_of(12) == "Renamed outside")
        out["reload_dirty"] = session.document.dirty
        ed.save()  # the editor's own save: not an outside change
        ed.step(3)
        time.sleep(1.2)
        reloads = ed.app.file_watch.reloads
        wait_for(ed, lambda: False, 1.5)
        out["own_save_reloads"] = ed.app.file_watch.reloads - reloads
        ed.set_field([12], "MeshRenderer", "color", [0, 0, 1, 1])  # an unsaved edit
        data["entities"][0]["name"] = "Camera changed outside"
        world_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        out["asked"] = wait_for(ed, lambda: ed.dialog is not None)
        out["question"] = ed.dialog.title if ed.dialog else ""
        if ed.dialog is not None:
            ed.answer("Keep mine")
        out["kept"] = {"colour": rounded(ed.world.get(12, ed.world.registry.get("MeshRenderer")).color),
                       "dirty": session.document.dirty, "camera_name": ed.world.name_of(1)}
    return out


def main() -> None:
    import os

    folder = Path(sys.argv[1])
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
    print(json.dumps(flows(folder)))


if __name__ == "__main__":
    main()
