"""Run by tests/test_editor_plugins.py inside a private Xvfb display: a real editor with two
sandboxed plugins (a test plugin that renames the selection, and the example mod's lantern
plugin); their panels, menu items and inspector sections used as a person would, each widget's
own Dear PyGui callback called. What happened is printed as one JSON object on the last line."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import dearpygui.dearpygui as dpg

NAMER = '''
loud = False

def storm_editor_panels():
    return [{"id": "namer", "title": "Namer"}]

def storm_editor_panel(panel, selection, world):
    names = [world.entity(e)["name"] for e in selection]
    return [{"kind": "text", "text": f"{len(selection)} selected: {', '.join(names)}"},
            {"kind": "button", "label": "Name them", "action": "name"},
            {"kind": "group", "label": "Options", "children": [
                {"kind": "checkbox", "label": "Loud", "action": "loud", "value": loud}]}]

def storm_editor_menu_items():
    return [{"menu": "Tools", "label": "Break the namer", "action": "boom"}]

def storm_editor_inspectors():
    return [{"component": "MeshRenderer"}]

def storm_editor_inspector(entity, values):
    return [{"kind": "text", "text": f"namer sees entity {entity}"}]

def storm_editor_action(action, selection, value, world):
    global loud
    if action == "name":
        for eid in selection:
            world.apply({"command": "Rename", "entity": eid, "name": "NAMED" if loud else "named"})
    elif action == "loud":
        loud = bool(value)
    elif action == "boom":
        raise RuntimeError("the namer broke on purpose")
'''

WORLD = {"storm_world": 3, "name": "plugin test", "entities": [
    {"id": 1, "name": "Camera", "transform": {"pos": [0, -10, 4], "hpr": [0, -15, 0]}, "components": {"Camera": {}}},
    {"id": 2, "name": "Lantern", "transform": {"pos": [0, 0, 2]},
     "components": {"Light": {"kind": "point", "intensity": 2.0}}},
    {"id": 3, "name": "Box", "transform": {"pos": [1, 0, 0.5]}, "components": {"MeshRenderer": {}}},
]}


def items_under(root: int | str) -> list[int]:
    out, todo = [], [root]
    while todo:
        item = todo.pop()
        for slot in dpg.get_item_children(item).values():
            out += slot
            todo += slot
    return out


def texts(root: int | str) -> list[str]:
    return [str(dpg.get_value(i)) for i in items_under(root) if dpg.get_item_type(i) == "mvAppItemType::mvText"]


def labelled(root: int | str, label: str) -> int:
    found = [i for i in items_under(root) if dpg.get_item_label(i) == label]
    assert len(found) == 1, (label, found)
    return found[0]


def press(item: int, value: Any = None) -> None:
    """What Dear PyGui does when the widget is used: its callback with (sender, app data, user data)."""
    dpg.get_item_callback(item)(item, value, dpg.get_item_user_data(item))


def flows(folder: Path) -> dict[str, Any]:
    from editor.driver import EditorDriver
    from engine.host.runtime import create_runtime
    from engine.packs.manifest import read_manifest
    from plugins.host import PluginHost
    from tests.plugin_helpers import TEST_LIMITS, write_plugin

    root = Path(__file__).resolve().parent.parent
    namer = write_plugin(folder / "packs", "namer", NAMER,
                         permissions={"world_read": "shows the names", "world_write": "renames"})
    village = root / "content" / "village"
    runtime = create_runtime()
    host = PluginHost([namer.pair(), (village, read_manifest(village))], limits=TEST_LIMITS,
                      data_root=folder / "data")
    host.install(runtime)
    host.start()
    world_path = folder / "plugins.world.json"
    world_path.write_text(json.dumps(WORLD), encoding="utf-8")
    out: dict[str, Any] = {"running": host.running()}
    try:
        with EditorDriver(world_path, size=(1280, 800), runtime=runtime, plugins=host) as ed:
            window = ed.app.windows["plugins"]
            ed.settle()
            out["headers"] = [dpg.get_item_label(i) for i in items_under(window)
                              if dpg.get_item_type(i) == "mvAppItemType::mvCollapsingHeader"]
            ed.select([2, 3])
            ed.step(2)
            out["text_selected"] = texts(window)
            press(labelled(window, "Loud"), True)
            ed.step(2)
            out["loud_shown"] = dpg.get_value(labelled(window, "Loud"))
            press(labelled(window, "Name them"))
            ed.step(2)
            history = ed.session.document.history
            out["named"] = [ed.world.name_of(2), ed.world.name_of(3)]
            out["step"] = history.undo_names()[-1:]
            out["dirty"] = ed.session.document.title().startswith("*")
            out["text_after"] = texts(window)
            ed.undo()
            out["undone"] = [ed.world.name_of(2), ed.world.name_of(3)]
            ed.redo()
            out["redone"] = [ed.world.name_of(2), ed.world.name_of(3)]

            ed.select([3])
            ed.step(3)
            out["inspector_texts"] = [t for t in texts(ed.app.windows["inspector"]) if "namer" in t]

            # the lantern panel follows the running game; its slider reaches the plugin
            ed.play()
            seen, deadline = "", time.monotonic() + 30
            while "1 lanterns flicker" not in seen and time.monotonic() < deadline:
                ed.play(0.05)
                ed.step()
                seen = " ".join(texts(window))
            out["lanterns_playing"] = seen
            slider = labelled(window, "Strength")
            press(slider, 1.0)
            ed.step(2)
            out["strength_shown"] = round(float(dpg.get_value(labelled(window, "Strength"))), 3)
            ed.stop()
            ed.step(2)

            # a plugin menu item; this one makes its plugin fail: the editor goes on
            menu = labelled("storm_menu", "Plugins")
            out["menus"] = [dpg.get_item_label(i) for i in items_under(menu)]
            press(labelled(menu, "Break the namer"))
            ed.step(3)
            out["status_after_boom"] = ed.session.message
            out["running_after_boom"] = host.running()
            out["text_after_boom"] = texts(window)
            out["editor_alive"] = ed.create("box") > 0
            dpg.focus_item(window)
            ed.step(3)
            out["shot"] = str(ed.screenshot(folder / "plugins.png"))
    finally:
        host.stop()
    return out


if __name__ == "__main__":
    print(json.dumps(flows(Path(sys.argv[1]))))
