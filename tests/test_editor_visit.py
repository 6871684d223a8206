"""The editor visiting an OpenSimulator grid (File > Visit a grid...): a real editor under Xvfb,
driven through the dialog's fields in a child process (``editor_visit_child.py``), against a real
OpenSimulator on 127.0.0.1 built from the vendored source (skipped with the reason without it),
and against a port where nothing listens.

Checked: the region opens as a read-only, live document (terrain and avatar in the scene tree,
a box a second client rezzes appearing while it is open, picked in the view, the inspector
showing its RegionObject with every field disabled), every edit refused with one message and
neither the World nor the history changed, a screenshot of the region in the view; a new world
logs out (without holding the editor) and the server releases the agent; a region that kicks the
avatar is said and its last state kept; quitting with a region open logs out; the password never reaches the settings or the logs; a failed login shows its error
in the dialog and the world that was open stays.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from panda3d.core import Filename, PNMImage

from tests import opensim_visits, xvfb
from tests.opensim_helpers import FIRST, LAST, PASSWORD, OpenSimServer, opensim_build, opensim_server  # noqa: F401
from tests.opensim_visits import gone
from tests.xvfb import child_env

ROOT = Path(__file__).resolve().parent.parent
region, big_x_display = opensim_visits.region, xvfb.big_x_display      # the fixtures
NO_SERVER_PASSWORD = "no-server-secret-7"


def run_child(folder: Path, display: str, args: list[str], password: str, timeout: float) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "tests.editor_visit_child", str(folder), *args], input=password + "\n",
                          cwd=ROOT, env=child_env(display, folder), capture_output=True, text=True, timeout=timeout)
    (folder / "child.out").write_text(done.stdout + "\n--- stderr ---\n" + done.stderr, encoding="utf-8")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    assert password not in done.stdout + done.stderr, "the password reached the editor's output"
    assert password not in (folder / "editor.log").read_text(encoding="utf-8"), "the password reached the log"
    return json.loads(done.stdout.strip().splitlines()[-1])


def image(path: str) -> PNMImage:
    picture = PNMImage()
    assert picture.read(Filename.fromOsSpecific(path)), path
    return picture


@pytest.fixture(scope="module")
def visited(region: OpenSimServer, big_x_display: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    assert gone(region, FIRST, LAST), "an earlier visit was not released"
    folder = tmp_path_factory.mktemp("editor-visit")
    return run_child(folder, big_x_display, ["server", region.login_uri, str(region.workdir), str(region.port),
                                             str(region.script)], PASSWORD, timeout=420) | {"folder": str(folder)}


def test_a_wrong_password_is_shown_in_the_dialog(visited: dict[str, Any]) -> None:
    wrong = visited["wrong_password"]
    assert "the grid refused the login" in wrong["error"] and wrong["status"] == wrong["error"], wrong
    assert wrong["shown"] and wrong["same_document"], wrong


def test_the_region_opens_read_only_with_terrain_and_avatar_in_the_tree(visited: dict[str, Any]) -> None:
    assert visited["error"] == "" and visited["is_visit"] and not visited["dialog_shown_after"], visited
    assert visited["in_server"]
    assert visited["tree_wait"] is not None, visited
    assert visited["tree_terrain"].startswith("region terrain") and "Terrain" in visited["tree_terrain"]
    assert visited["tree_avatar"].startswith(f"{FIRST} {LAST}") and "RegionObject" in visited["tree_avatar"]
    assert "read-only" in visited["title"] and visited["view_mode"]


def test_a_prim_another_client_rezzes_appears_while_the_document_is_open(visited: dict[str, Any]) -> None:
    assert visited["rez_wait"] is not None and visited["box"], visited
    assert "RegionObject" in visited["tree_box"]
    assert visited["component"]["kind"] == "prim" and visited["component"]["shape"] == "box"


def test_the_inspector_shows_the_region_object_read_only(visited: dict[str, Any]) -> None:
    assert visited["box_on_screen"] is not None
    assert visited["pick"] == visited["box"] and visited["selected"] == [visited["box"]], visited["pick"]
    fields = visited["inspector"]
    component = visited["component"]
    for name in ("local_id", "full_id", "kind", "shape", "label"):
        assert name in fields, sorted(fields)
        assert fields[name][0] == component[name] and fields[name][1] is False, (name, fields[name])
    assert visited["inspector_enabled"] == [], "every inspector widget of a visited region is disabled"


def test_every_edit_is_refused_and_nothing_changes(visited: dict[str, Any]) -> None:
    said = visited["refused"]
    for name in ("delete", "duplicate", "paste", "group", "hide", "rename", "undo", "save", "save_as", "play",
                 "field", "region_field", "transform", "name", "add_component", "create"):
        assert "read-only" in said[name], (name, said[name])
    assert said["handles"] == 0                       # no gizmo to drag
    assert "read-only" in said["status"]
    assert visited["box_unchanged"], visited["box_after"]
    assert visited["history"] == [[], False, False]
    edits = [c for c in visited["applied_during_edits"] if c[1] == visited["box"] or c[0] in ("Paste", "Duplicate")]
    assert edits == [], edits


def test_the_screenshot_shows_the_region(visited: dict[str, Any]) -> None:
    shot = image(visited["shot"])
    assert (shot.getXSize(), shot.getYSize()) == (1280, 800)
    # the view's middle shows the region's ground (green) and water (blue), no grey of an empty view
    greens = blues = greys = 0
    for x in range(420, 860, 20):
        for y in range(250, 520, 20):
            r, g, b = shot.getXel(x, y)
            greens += g > r + 0.05 and g > b + 0.05
            blues += b > r + 0.1 and b > g
            greys += abs(r - g) < 0.02 and abs(g - b) < 0.02
    assert greens > 100 and blues > 10 and greys < 50, (greens, blues, greys)
    x, y = visited["box_screen"]
    r, g, b = shot.getXel(x, y)      # the rezzed box: plywood under the selection's orange, warm
    assert r > b + 0.2 and g > b, (r, g, b)


def test_a_new_world_logs_out_and_the_server_releases_the_agent(visited: dict[str, Any]) -> None:
    assert visited["after_new"] == ["untitled", ""]
    assert visited["new_seconds"] < 3.0 and visited["logout_wait"] is not None, visited["new_seconds"]
    assert visited["logged_out"].startswith("logged out"), visited["logged_out"]
    assert visited["gone"]


def test_a_region_that_kicks_the_avatar_is_said_and_its_last_state_kept(visited: dict[str, Any]) -> None:
    assert visited["second_error"] == "" and visited["second_tree_wait"] is not None, visited
    assert visited["kick_wait"] is not None
    assert visited["kick_status"].startswith("the region closed the circuit: kicked by the region: "
                                             "the test ends your visit"), visited["kick_status"]
    assert "closed the circuit" in visited["kick_read_only"]
    count, after = visited["kick_entities"]
    assert after == count > 2
    assert "read-only" in visited["kick_delete"]
    assert visited["after_kick_new"] == "untitled" and visited["usable_after"]


def test_quitting_the_editor_logs_out(visited: dict[str, Any]) -> None:
    assert visited["third_error"] == "" and visited["third_wait"] is not None, visited
    assert visited["quit_logged_out"].startswith("logged out"), visited["quit_logged_out"]
    assert visited["gone_at_end"]


def test_the_password_stays_out_of_the_settings(visited: dict[str, Any]) -> None:
    prefs = visited["prefs"]
    assert (prefs["visit_uri"], prefs["visit_first"], prefs["visit_last"]) != ("", "", "")
    assert prefs["visit_first"] == FIRST and prefs["visit_last"] == LAST
    text = (Path(visited["folder"]) / "prefs.json").read_text(encoding="utf-8")
    assert PASSWORD not in text and FIRST in text
    assert PASSWORD not in json.dumps(prefs)


def test_a_login_where_nothing_listens_shows_the_error_and_keeps_the_world(big_x_display: str,
                                                                           tmp_path: Path) -> None:
    report = run_child(tmp_path, big_x_display, ["no-server"], NO_SERVER_PASSWORD, timeout=180)
    assert "cannot reach the login service" in report["error"] and report["status"] == report["error"], report
    assert report["shown"] and report["seconds"] < 20
    assert report["same_document"] and report["document"][1:] == ["before the visit", [1, 2]], report
    assert report["read_only"] == "" and report["usable_after"]
    assert NO_SERVER_PASSWORD not in json.dumps(report["prefs"])
    shot = image(report["shot"])
    reds = 0        # the error line, in red, in the dialog
    for x in range(400, 880, 2):
        for y in range(420, 460, 2):
            r, g, b = shot.getXel(x, y)
            reds += r > 0.8 and g < 0.55 and b < 0.45
    assert reds > 30, reds
