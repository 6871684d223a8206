"""End to end through main.py: play offscreen and check pixels, headless, new-world, validate, help."""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest
from panda3d.core import Filename, PNMImage

from tests.screenshots import HEIGHT, ROOT, WIDTH, entity, project, rgb, run_main

DEMO = ROOT / "worlds" / "demo.world.json"
PROGRESS = re.compile(r"^ +\d+\.\d s: \d+ ticks, \d+ frames, \d+\.\d fps$")


@pytest.fixture(scope="module")
def demo_screenshot(tmp_path_factory: pytest.TempPathFactory) -> PNMImage:
    out = tmp_path_factory.mktemp("shots") / "demo.png"
    result = run_main("play", str(DEMO), "--offscreen", "--frames", "30", "--size", f"{WIDTH}x{HEIGHT}",
                      "--screenshot", str(out))
    assert result.returncode == 0, result.stderr
    assert "played 30 ticks" in result.stdout
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(out)))
    assert (image.getXSize(), image.getYSize()) == (WIDTH, HEIGHT)
    return image


def test_screenshot_shows_the_red_box_where_the_world_puts_it(demo_screenshot: PNMImage) -> None:
    data = json.loads(DEMO.read_text())
    x, y = project(data, tuple(entity(data, "Red box")["transform"]["pos"]))
    r, g, b = rgb(demo_screenshot, x, y)
    assert r > 0.4 and r > g + 0.3 and r > b + 0.3, (x, y, r, g, b)


def test_screenshot_shows_the_blue_ball_and_the_green_ground(demo_screenshot: PNMImage) -> None:
    data = json.loads(DEMO.read_text())
    x, y = project(data, tuple(entity(data, "Blue ball")["transform"]["pos"]))
    r, g, b = rgb(demo_screenshot, x, y)
    assert b > 0.4 and b > 2 * r and b > 1.5 * g, (x, y, r, g, b)
    gx, gy = project(data, (-2.0, -6.0, 0.0))  # open ground, nothing placed there
    r, g, b = rgb(demo_screenshot, gx, gy)
    assert g > r and g > b, (gx, gy, r, g, b)


def test_headless_play_runs_the_demo_by_default_without_rendering() -> None:
    result = run_main("play", "--headless", "--frames", "10")
    assert result.returncode == 0, result.stderr
    assert "played 10 ticks" in result.stdout and "demo.world.json" in result.stdout and "(headless)" in result.stdout


def test_screenshot_in_headless_mode_is_a_clear_error() -> None:
    result = run_main("play", "--headless", "--frames", "2", "--screenshot", "x.png")
    assert result.returncode == 2
    assert "no screenshot in headless mode" in result.stderr and "Traceback" not in result.stderr


def test_new_world_writes_a_world_that_validates_and_plays(tmp_path: Path) -> None:
    path = tmp_path / "mine.world.json"
    assert run_main("new-world", str(path)).returncode == 0
    assert run_main("new-world", str(path)).returncode == 1  # no silent overwrite
    checked = run_main("validate", str(path))
    assert checked.returncode == 0 and "ok (6 entities)" in checked.stdout
    assert run_main("play", str(path), "--headless", "--frames", "3").returncode == 0


def test_validate_reports_the_file_path_and_expectation(tmp_path: Path) -> None:
    data = json.loads(DEMO.read_text())
    entity(data, "Red box")["components"]["MeshRenderer"]["color"] = "red"
    index = data["entities"].index(entity(data, "Red box"))
    bad = tmp_path / "bad.world.json"
    bad.write_text(json.dumps(data))
    result = run_main("validate", str(bad))
    assert result.returncode == 2
    assert f"{bad}: entities[{index}](Red box).components.MeshRenderer.color: expected a colour: a list of 4 numbers" in result.stdout


@pytest.mark.parametrize("command", [[], ["play"], ["new-world"], ["validate"]])
def test_help_on_each_command(command: list[str]) -> None:
    result = run_main(*command, "--help")
    assert result.returncode == 0 and "usage: main.py" in result.stdout


def test_record_then_replay_through_the_cli(tmp_path: Path) -> None:
    recording = tmp_path / "input.jsonl"
    played = run_main("play", "--headless", "--frames", "12", "--record", str(recording))
    assert played.returncode == 0, played.stderr
    replayed = run_main("replay", str(DEMO), str(recording))
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 12 ticks" in replayed.stdout


def test_replaying_a_file_that_is_not_a_recording_names_it(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.jsonl"
    bogus.write_text("hello\n")
    result = run_main("replay", str(DEMO), str(bogus))
    assert result.returncode == 2 and str(bogus) in result.stderr and "Traceback" not in result.stderr


def read_lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    """Hand each line of ``stream`` to ``into``, then None at its end."""
    for line in stream:
        into.put(line)
    into.put(None)


def test_storm_with_no_arguments_and_no_display_plays_the_demo_until_ctrl_c(tmp_path: Path) -> None:
    """What a newcomer does first: ``./storm`` on a machine without a display, then Ctrl+C."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    with open(tmp_path / "stderr.txt", "w+", encoding="utf-8") as stderr:
        process = subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=stderr)
        lines: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        reader = threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True)
        reader.start()
        seen: list[str] = []
        try:
            while not any(PROGRESS.search(line) for line in seen):   # each wait is bounded
                try:
                    line = lines.get(timeout=240)
                except queue.Empty:
                    pytest.fail(f"no progress line within 240 s; stdout so far: {seen}")
                assert line is not None, f"main.py ended before a progress line: {seen}"
                seen.append(line)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=120) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(timeout=30)
        while not lines.empty():
            seen.append(lines.get() or "")
        stderr.seek(0)
        errors = stderr.read()
    out = "".join(seen)
    assert "Traceback" not in errors and "Traceback" not in out, errors[-3000:]
    assert "playing world 'Storm demo'" in out and "demo.world.json" in out and "(offscreen 1280x720" in out
    assert "until Ctrl+C" in out
    assert "stopped (Ctrl+C)" in out and "played" in out and "(offscreen)" in out
