"""Crash recovery with the real editor under Xvfb: an editor with unsaved changes is killed
(SIGKILL, nothing cleans up); the next one started on the same world offers the autosaved
changes, brings them back unsaved, and saving removes the recovery file."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.editor_flow_child import write_world
from tests.xvfb import big_x_display, child_env  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent


def _crash(world: Path, env: dict[str, str]) -> dict[str, Any]:
    child = subprocess.Popen([sys.executable, "-m", "tests.editor_recovery_child", "crash", str(world)], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the child writes one line once its autosave is on disk
        if not line:
            child.wait(timeout=30)
            pytest.fail(f"the editor ended before autosaving: {child.stderr.read()[-3000:] if child.stderr else ''}")
        report = json.loads(line)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return report


@pytest.fixture(scope="module")
def recovered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")  # a private X server (tests/xvfb.py)
    folder = tmp_path_factory.mktemp("editor-recovery")
    env = child_env(display, folder)
    prefs = folder / "config" / "storm" / "editor" / "prefs.json"
    prefs.parent.mkdir(parents=True)
    prefs.write_text(json.dumps({"autosave_seconds": 0.2}), encoding="utf-8")
    world = write_world(folder)
    original = world.read_bytes()
    crashed = _crash(world, env)
    crashed["world_file_untouched"] = world.read_bytes() == original
    completed = subprocess.run([sys.executable, "-m", "tests.editor_recovery_child", "recover", str(world),
                                str(folder / "recovered.world.json")], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=180)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"crashed": crashed, "world": world, "folder": folder, **result}


def test_the_killed_editor_left_a_recovery_file(recovered: dict[str, Any]) -> None:
    crashed = recovered["crashed"]
    assert crashed["ready"] and crashed["reason"] == ""
    assert crashed["world_file_untouched"]  # autosave never writes the world's own file
    assert Path(crashed["recovery_file"]).is_relative_to(recovered["folder"] / "storm")  # the Storm folder


def test_the_next_start_offers_the_recovery(recovered: dict[str, Any]) -> None:
    offered = recovered["offered"]
    assert offered is not None and offered["title"] == "Recover unsaved changes?"
    assert offered["buttons"] == ["Recover", "Discard"]
    assert str(recovered["world"].resolve()) in offered["text"]


def test_recover_brings_the_changes_back_unsaved(recovered: dict[str, Any]) -> None:
    assert recovered["red_pos"] == [-2.0, 0.0, 3.0]
    assert recovered["blue_colour"] == [0.0, 1.0, 0.0, 1.0]
    assert recovered["dirty"] and recovered["title"].startswith("*test.world.json")
    assert recovered["path"] == str(recovered["world"].resolve())  # still the world's own file
    assert recovered["recovery_kept_until_saved"]


def test_saving_removes_the_recovery_file_and_writes_the_changes(recovered: dict[str, Any]) -> None:
    assert recovered["recovery_gone_after_save"]
    saved = json.loads(recovered["world"].read_text(encoding="utf-8"))
    red = next(e for e in saved["entities"] if e["id"] == 5)
    assert red["transform"]["pos"] == [-2, 0, 3]
    assert (recovered["folder"] / "recovered.world.json").read_bytes() == recovered["world"].read_bytes()
