"""Run by tests/test_editor_visit.py inside a private Xvfb display: a real editor visiting an
OpenSimulator grid through File > Visit a grid... (the dialog's fields and its Visit button);
what happened is printed as one JSON object on the last line. The password comes on stdin.

Usage:
  python -m tests.editor_visit_child OUT_DIR no-server
  python -m tests.editor_visit_child OUT_DIR server LOGIN_URI WORKDIR PORT SCRIPT

``no-server``: a login to a port where nothing listens: the error in the dialog, the world that was
open still open. ``server``: a wrong password refused in the dialog; then the region as a read-only
document: terrain and avatar in the scene tree, a box a second (headless) client rezzes appearing,
picked in the view, the inspector showing its RegionObject disabled, every edit refused with the
World unchanged and the history empty, a screenshot; a new world logs out (the server's ``show
users`` no longer lists the avatar); a second visit, the region kicking the avatar: the editor
says so and keeps the last state read-only; a third visit open when the editor quits: logged out.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import dearpygui.dearpygui as dpg

WORLD = {"storm_world": 3, "name": "before the visit", "entities": [
    {"id": 1, "name": "Sun", "transform": {"hpr": [30, -60, 0]}, "components": {"Light": {"intensity": 1.0}}},
    {"id": 2, "name": "Crate", "components": {"MeshRenderer": {"color": [0.9, 0.4, 0.1, 1]}}}]}


def until(ed: Any, done: Callable[[], Any], timeout: float) -> float | None:
    """Run the editor's frames until ``done()``; the seconds it took, or None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        ed.app.frame()
        if done():
            return round(time.monotonic() - start, 2)
        time.sleep(0.01)
    return None


def tree_label(ed: Any, eid: int) -> str | None:
    item = ed.app.tree._rows.get(eid)
    return dpg.get_item_label(item) if item is not None and dpg.does_item_exist(item) else None


def inspector_fields(ed: Any, type_name: str) -> dict[str, Any]:
    """The inspector's widgets for one component: field -> [shown value, enabled]."""
    found = {}
    for item, (kind, owner, name) in ed.app.inspector._widgets.items():
        if owner == type_name and dpg.does_item_exist(item):
            value = dpg.get_value(item)
            found[name] = [value if isinstance(value, (str, int, float)) else list(value),
                           bool(dpg.get_item_configuration(item)["enabled"])]
    return found


def enabled_widgets(ed: Any) -> list[str]:
    return [f"{kind}:{owner}.{name}" for item, (kind, owner, name) in ed.app.inspector._widgets.items()
            if dpg.does_item_exist(item) and dpg.get_item_configuration(item)["enabled"]]


def state_of(world: Any, eid: int) -> dict[str, Any]:
    if not world.exists(eid):
        return {"exists": False}
    node = world.node(eid)
    return {"exists": True, "name": world.name_of(eid), "pos": [round(v, 3) for v in node.getPos()],
            "scale": [round(v, 3) for v in node.getScale()],
            "components": {type(c).type_name: fields_of(c) for c in world.components(eid)}}


def fields_of(component: Any) -> dict[str, Any]:
    """Every declared field's value (``to_data`` leaves out the ones that are not saved)."""
    values = {}
    for name in type(component).fields:
        value = getattr(component, name)
        values[name] = list(value) if isinstance(value, tuple) else value
    return values


def no_server(folder: Path, password: str) -> dict[str, Any]:
    from editor.driver import EditorDriver
    from tests.opensim_helpers import free_port

    out: dict[str, Any] = {}
    path = folder / "before.world.json"
    path.write_text(json.dumps(WORLD), encoding="utf-8")
    with EditorDriver(path, size=(1280, 800)) as ed:
        before = ed.session.document
        uri = f"http://127.0.0.1:{free_port()}/"
        started = time.monotonic()
        out["error"] = ed.visit(uri, "Test", "User", password)
        out["seconds"] = round(time.monotonic() - started, 2)
        out["shown"] = ed.app.visit_dialog.shown
        out["status"] = dpg.get_value("storm_visit_status")
        out["same_document"] = ed.session.document is before
        out["document"] = [str(ed.session.document.path), ed.world.name, sorted(ed.world.entities())]
        out["read_only"] = ed.session.read_only
        out["shot"] = str(ed.screenshot(folder / "no-server.png"))
        ed.app.visit_dialog.cancel()
        out["usable_after"] = ed.world.exists(ed.create("box"))
        out["prefs"] = asdict(ed.session.prefs)
    return out


def server(folder: Path, password: str, uri: str, workdir: str, port: str, script: str) -> dict[str, Any]:
    from editor.driver import EditorDriver
    from editor.session import EditRefused
    from editor.settings import save_prefs
    from editor.visit_document import VisitDocument
    from engine.core.events import CommandApplied
    from engine.host.runtime import create_runtime
    from netcode.opensim.region_world import RegionObject
    from netcode.opensim.visit import Visit
    from tests.opensim_helpers import FIRST, LAST, OpenSimServer
    from tests.opensim_visits import SECOND, gone, where

    region = OpenSimServer(Path(workdir), int(port), Path(script))
    out: dict[str, Any] = {}
    with EditorDriver(None, size=(1280, 800)) as ed:
        # a wrong password: the grid's reason in the dialog, the untitled world still open
        untitled = ed.session.document
        out["wrong_password"] = {"error": ed.visit(uri, FIRST, LAST, "not the password"),
                                 "status": dpg.get_value("storm_visit_status"), "shown": ed.app.visit_dialog.shown,
                                 "same_document": ed.session.document is untitled}
        ed.app.visit_dialog.cancel()

        # the visit: terrain and our avatar in the scene tree
        started = time.monotonic()
        out["error"] = ed.visit(uri, FIRST, LAST, password)
        out["login_seconds"] = round(time.monotonic() - started, 2)
        document = ed.session.document
        out["is_visit"] = isinstance(document, VisitDocument)
        out["dialog_shown_after"] = ed.app.visit_dialog.shown
        out["prefs"] = asdict(ed.session.prefs)
        save_prefs(ed.session.prefs, folder / "prefs.json")      # what the editor writes to its settings
        visit = document.visit
        mirror, terrain = visit.session.mirror, visit.session.terrain
        out["tree_wait"] = until(ed, lambda: tree_label(ed, terrain.entity) and tree_label(ed, mirror.local_avatar),
                                 40)
        out["tree_terrain"] = tree_label(ed, terrain.entity)
        out["tree_avatar"] = tree_label(ed, mirror.local_avatar)
        # the server's console may list the agent a moment after the region described it to us
        out["in_server"] = until(ed, lambda: where(region, FIRST, LAST) is not None, 20) is not None
        until(ed, lambda: ed.app.visit_dialog._framing is None, 10)   # the camera went to the avatar
        ed.settle()

        # a second, headless client rezzes a box beside our avatar: it appears in the tree
        avatar = ed.world.node(mirror.local_avatar).getPos()
        spot = (round(avatar.x + 2.5, 2), round(avatar.y + 1.0, 2), round(avatar.z + 0.5, 2))
        other = Visit.start(uri, *SECOND, create_runtime(), profile="server")
        try:
            other.tick_until(lambda: other.session.mirror.local_avatar != 0, 30)
            before_rez = set(ed.world.entities())
            other.session.rez("box", spot, (1.0, 1.0, 2.0))

            def rezzed() -> int:
                for eid, component in ed.world.all_of(RegionObject).items():
                    node = ed.world.node(eid)
                    if (eid not in before_rez and component.kind == "prim" and abs(node.getX() - spot[0]) < 0.2
                            and abs(node.getY() - spot[1]) < 0.2 and tree_label(ed, eid)):
                        return eid
                return 0

            out["rez_wait"] = until(ed, rezzed, 30)
            box = rezzed()
            out["box"] = box
            out["tree_box"] = tree_label(ed, box)
            ed.settle()

            # picked with a click in the view: the inspector shows its RegionObject, disabled
            local = ed.view_point(tuple(ed.world.node(box).getPos()))
            out["box_on_screen"] = local
            out["pick"] = ed.click(*local) if local else None
            if ed.selected != [box]:
                ed.select([box])
            out["selected"] = ed.selected
            ed.settle()
            out["inspector"] = inspector_fields(ed, "RegionObject")
            out["inspector_enabled"] = enabled_widgets(ed)
            out["component"] = fields_of(ed.world.get(box, RegionObject))
            out["view_mode"] = ed.session.read_only != ""

            # every edit refused, with one clear message; the World and the history unchanged
            world = ed.world
            kept = state_of(world, box)
            applied: list[list[Any]] = []
            stop = world.events.subscribe(CommandApplied, lambda e: applied.append(
                [type(e.command).__name__, getattr(e.command, "entity", None)]))
            said: dict[str, Any] = {}
            for name in ("delete", "duplicate", "copy", "paste", "group", "hide", "rename", "undo", "save",
                         "save_as", "play"):
                ed.session.message = ""
                ed.action(name)
                said[name] = ed.session.message
            said["field"] = ed.set_field([box], "MeshRenderer", "color", [1.0, 0.0, 0.0, 1.0])
            said["region_field"] = ed.set_field([box], "RegionObject", "label", "mine now")
            said["transform"] = ed.set_transform([box], "pos", [1.0, 2.0, 3.0])
            said["name"] = ed.app.inspector.submit_name("renamed")
            said["add_component"] = ed.app.inspector.add_component("Light")
            try:
                ed.create("box")
                said["create"] = ""
            except EditRefused as exc:
                said["create"] = str(exc)
            said["handles"] = len(ed.app.controller.handles())
            said["status"] = ed.session.message
            ed.settle()
            stop()
            out["refused"] = said
            out["applied_during_edits"] = applied
            out["box_unchanged"] = state_of(world, box) == kept
            out["box_after"] = state_of(world, box)
            out["history"] = [document.history.undo_names(), document.history.can_redo(), document.dirty]
            out["title"] = document.title()
            dpg.focus_item(ed.app.windows["inspector"])              # the inspector's tab, not the NPCs'
            out["box_screen"] = ed.screen_point(tuple(ed.world.node(box).getPos()))
            out["shot"] = str(ed.screenshot(folder / "visit.png"))
        finally:
            other_start = region.log_size()
            other.close()
            region.wait_log(r"Remove caps for agent", other_start, timeout=30)

        # a new world logs out: the server releases the agent
        log_start = region.log_size()
        started = time.monotonic()
        ed.new()
        out["new_seconds"] = round(time.monotonic() - started, 2)      # the logout does not hold the editor
        out["after_new"] = [ed.world.name, ed.session.read_only]
        out["logout_wait"] = until(ed, visit.circuit.closed.is_set, 15)
        out["logged_out"] = visit.circuit.closed_reason
        region.wait_log(r"Remove caps for agent", log_start, timeout=30)
        out["gone"] = gone(region, FIRST, LAST)

        # a second visit; the region kicks the avatar: said, the last state kept read-only
        out["second_error"] = ed.visit(uri, FIRST, LAST, password)
        document = ed.session.document
        second = document.visit
        out["second_tree_wait"] = until(ed, lambda: tree_label(ed, second.session.terrain.entity), 40)
        count = len(list(ed.world.entities()))
        kick_start = region.log_size()
        region.console(f"kick user {FIRST} {LAST} the test ends your visit", expect=r"(?i)kick", timeout=20)
        out["kick_wait"] = until(ed, lambda: bool(document.ended), 20)
        out["kick_status"] = ed.session.message
        out["kick_read_only"] = ed.session.read_only
        out["kick_entities"] = [count, len(list(ed.world.entities()))]
        for _ in range(30):
            ed.app.frame()
        ed.session.message = ""
        ed.action("delete")
        out["kick_delete"] = ed.session.message
        out["kick_title"] = document.title()
        out["kick_shot"] = str(ed.screenshot(folder / "kicked.png"))
        region.wait_log(r"Remove caps for agent", kick_start, timeout=30)
        ed.new()
        out["after_kick_new"] = ed.world.name
        out["usable_after"] = ed.world.exists(ed.create("box"))

        # a third visit, open when the editor quits: quitting logs out
        out["third_error"] = ed.visit(uri, FIRST, LAST, password)
        third = ed.session.document.visit
        out["third_wait"] = until(ed, lambda: tree_label(ed, third.session.mirror.local_avatar), 30)
        quit_start = region.log_size()
    out["quit_logged_out"] = third.circuit.closed_reason
    region.wait_log(r"Remove caps for agent", quit_start, timeout=30)
    out["gone_at_end"] = gone(region, FIRST, LAST)
    return out


def main() -> int:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    password = sys.stdin.readline().rstrip("\n")
    handler = logging.FileHandler(folder / "editor.log", encoding="utf-8")     # everything the editor logs
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    if sys.argv[2] == "no-server":
        out = no_server(folder, password)
    else:
        out = server(folder, password, *sys.argv[3:7])
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
