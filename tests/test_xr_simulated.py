"""The simulated XR backend, end to end in child processes (real Bullet, real rendering): a
scripted timeline grabs a crate and throws it, teleports, and is refused a teleport onto a wall;
a stereo screenshot shows both eyes with the disparity the eye separation implies."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from panda3d.core import Filename, PNMImage

from tests.screenshots import run_main
from tests.xvfb import x_display  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "xr"
HALF = 0.2  # the crate is 0.4 m


@pytest.fixture(scope="module")
def throw_run() -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.xr_sim_child", str(DATA / "throw.world.json"),
                           str(DATA / "throw.timeline.json"), "270", "Crate"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_session_goes_through_every_state(throw_run: dict) -> None:
    assert throw_run["states"] == ["idle", "ready", "synchronized", "visible", "focused", "visible",
                                   "synchronized", "stopping", "idle", "exiting"]


def test_a_grabbed_crate_follows_the_hand(throw_run: dict) -> None:
    rows = throw_run["rows"]
    held = [r for r in rows if r["held"] == ["right"]]
    assert held, "the squeeze never grabbed the crate"
    assert held[-1]["crate"][2] > 1.0 > held[0]["crate"][2]   # lifted from the ground with the hand


def test_a_thrown_crate_leaves_with_the_hand_velocity_and_lands_where_physics_says(throw_run: dict) -> None:
    rows = throw_run["rows"]
    (_, velocity), = throw_run["throws"]
    assert velocity == pytest.approx([0.0, 5.0, 1.0], abs=0.05)   # the timeline moves the hand at (0, 5, 1) m/s
    released = next(i for i, r in enumerate(rows) if i > 0 and rows[i - 1]["held"] and not r["held"])
    start = rows[released]
    (_, y0, z0), (_, vy, vz) = start["crate"], start["crate_v"]
    g = -throw_run["gravity"][2]
    flight = (vz + math.sqrt(vz * vz + 2 * g * (z0 - HALF))) / g       # ballistic time to touch the ground
    predicted = y0 + vy * flight
    landed = next(r for r in rows[released:] if r["crate"][2] < HALF + 0.05)
    assert landed["crate"][1] == pytest.approx(predicted, abs=0.3)
    assert predicted > 4.0                                           # thrown well forward, not dropped
    assert abs(landed["crate"][0]) < 0.1


def test_teleport_puts_the_head_over_the_arc_target(throw_run: dict) -> None:
    rows = throw_run["rows"]
    jump = next(i for i, r in enumerate(rows) if r["teleports"] == 1)
    target = rows[jump - 1]["target"]
    assert target is not None and target[1] > 2.0 and abs(target[2]) < 0.01   # on the ground ahead
    head = rows[jump]["head"]
    assert head[:2] == pytest.approx(target[:2], abs=1e-3)
    assert rows[jump]["rig"][2] == pytest.approx(target[2], abs=1e-3)


def test_an_arc_onto_a_wall_is_no_target(throw_run: dict) -> None:
    rows = throw_run["rows"]
    assert rows[-1]["teleports"] == 1                     # the second aim hit the wall's face: refused
    second = [r for r in rows if r["t"] > 3.85 and r["t"] < 4.15]
    assert second and all(r["target"] is None for r in second)


def _red_columns(image: PNMImage, x0: int, x1: int, y: int) -> float:
    xs = [x for x in range(x0, x1) if image.getRed(x, y) > 0.5 and image.getGreen(x, y) < 0.3]
    assert xs, "the pole is not in this eye's view"
    return sum(xs) / len(xs)


def test_stereo_screenshot_shows_two_eyes_with_the_disparity_of_the_eye_separation(tmp_path: Path) -> None:
    distance, width, height, fov = 1.0, 320, 240, 90.0
    world = {"storm_world": 1, "name": "pole", "settings": {"background": [0.1, 0.1, 0.1, 1]}, "entities": [
        {"id": 1, "name": "Camera", "transform": {"pos": [0, 0, 1.7]}, "components": {"Camera": {}}},
        {"id": 2, "name": "Pole", "transform": {"pos": [0, distance + 0.01, 1.7], "scale": [0.02, 0.02, 4]},
         "components": {"MeshRenderer": {"color": [1, 0, 0, 1]}}},
        {"id": 3, "name": "Light", "components": {"Light": {"kind": "ambient", "intensity": 1.0}}}]}
    (tmp_path / "pole.world.json").write_text(json.dumps(world), encoding="utf-8")
    timeline = {"storm_xr_timeline": 1, "keys": [{"time": 0, "head": {"pos": [0, 0, 1.7]}}]}
    (tmp_path / "t.json").write_text(json.dumps(timeline), encoding="utf-8")
    out = tmp_path / "stereo.png"
    done = run_main("vr", str(tmp_path / "pole.world.json"), "--xr", "simulated", "--offscreen", "--frames", "3",
                    "--eye-size", f"{width}x{height}", "--timeline", str(tmp_path / "t.json"), "--screenshot", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(out)))
    assert (image.getXSize(), image.getYSize()) == (2 * width, height)
    left = _red_columns(image, 0, width, height // 2)
    right = _red_columns(image, width, 2 * width, height // 2) - width
    focal = (width / 2) / math.tan(math.radians(fov / 2))
    expected = focal * 0.064 / distance                      # the left eye sees the pole further right
    assert left - right == pytest.approx(expected, abs=1.5)


def test_a_timeline_with_an_end_ends_the_session_by_itself(tmp_path: Path) -> None:
    timeline = {"storm_xr_timeline": 1, "keys": [{"time": 0, "head": {"pos": [0, 0, 1.7]}}], "end": 0.3}
    (tmp_path / "t.json").write_text(json.dumps(timeline), encoding="utf-8")
    done = run_main("vr", "--xr", "simulated", "--offscreen", "--eye-size", "160x120", "--timeline",
                    str(tmp_path / "t.json"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stopped (session ended)" in done.stdout and done.stdout.count("exiting") == 1


def test_a_bad_timeline_is_one_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"storm_xr_timeline": 1, "keys": [{"time": -1}]}), encoding="utf-8")
    done = run_main("vr", "--xr", "simulated", "--offscreen", "--timeline", str(bad))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"error: {bad}: keys[0].time: expected a number from 0 to 1e+06" in done.stderr


def test_a_lost_session_returns_to_the_desktop_view_without_a_crash(tmp_path: Path) -> None:
    timeline = {"storm_xr_timeline": 1, "keys": [{"time": 0, "head": {"pos": [0, 0, 1.7]}}], "lose": 0.15}
    (tmp_path / "t.json").write_text(json.dumps(timeline), encoding="utf-8")
    done = run_main("vr", "--xr", "simulated", "--offscreen", "--eye-size", "160x120", "--frames", "20", "--timeline",
                    str(tmp_path / "t.json"), "--screenshot", str(tmp_path / "after.png"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "focused -> loss_pending" in done.stdout
    assert "session lost; the world goes on in the desktop view" in done.stdout
    assert "playing world" in done.stdout and (tmp_path / "after.png").is_file()


def test_smooth_locomotion_darkens_the_edges_of_both_eyes(tmp_path: Path) -> None:
    from tests.screenshots import luminance

    shots = {}
    for name, stick in (("still", [0, 0]), ("walking", [0, 1])):
        timeline = {"storm_xr_timeline": 1, "keys": [
            {"time": 0, "head": {"pos": [0, 0, 1.7]}, "controls": {"left": {"thumbstick": stick}}}]}
        (tmp_path / f"{name}.json").write_text(json.dumps(timeline), encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "tests.xr_frames_child", str(tmp_path / f"{name}.json"), "12",
                               str(tmp_path / f"{name}.png")], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        image = PNMImage()
        assert image.read(Filename.fromOsSpecific(str(tmp_path / f"{name}.png")))
        shots[name] = image
    for eye in (0, 240):
        corner = (eye + 8, 8)
        centre = (eye + 120, 100)
        assert luminance(shots["walking"], *corner) < 0.5 * luminance(shots["still"], *corner)
        assert luminance(shots["walking"], *centre) == pytest.approx(luminance(shots["still"], *centre), abs=0.15)


def test_keyboard_and_mouse_drive_the_simulated_headset_in_a_window(x_display: str) -> None:  # noqa: F811
    from tests.xvfb import child_env

    done = subprocess.run([sys.executable, "-m", "tests.xr_keyboard_child"], cwd=ROOT, env=child_env(x_display),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["pointer_in_window"]
    assert result["rig_moved"][1] > 1.0 and abs(result["rig_moved"][0]) < 0.2   # W: forward, where the head looks
    assert result["player_moved"] < 0.05                  # the desktop player does not walk with the same keys
    assert result["rig_heading"] == pytest.approx(-30.0, abs=0.01)               # E: one snap turn right
