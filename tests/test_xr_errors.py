"""What a person sees when VR cannot start or a timeline is bad: one clear message, no traceback."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.core.errors import DataError
from engine.xr.timeline import load_timeline, parse_timeline
from tests.screenshots import ROOT


def test_no_runtime_names_what_is_missing_and_suggests_the_simulated_backend(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = dict(os.environ, XR_RUNTIME_JSON=str(tmp_path / "missing_runtime.json"), PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, "main.py", "vr", "--offscreen", "--frames", "2"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "no OpenXR runtime" in errors[0] and "XR_RUNTIME_JSON" in errors[0] and "--xr simulated" in errors[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("data, where", [
    ({"storm_xr_timeline": 2, "keys": [{"time": 0}]}, "storm_xr_timeline"),
    ({"storm_xr_timeline": 1, "keys": []}, "keys"),
    ({"storm_xr_timeline": 1, "keys": [{"time": 1}, {"time": 0.5}]}, "keys[1].time"),
    ({"storm_xr_timeline": 1, "keys": [{"time": 0, "head": {"pos": [0, 0]}}]}, "keys[0].head.pos"),
    ({"storm_xr_timeline": 1, "keys": [{"time": 0, "controls": {"right": {"trigger": 7}}}]},
     "keys[0].controls.right.trigger"),
    ({"storm_xr_timeline": 1, "keys": [{"time": 0, "controls": {"right": {"primary": 1}}}]},
     "keys[0].controls.right.primary"),
    ({"storm_xr_timeline": 1, "keys": [{"time": 0, "hand": {}}]}, "keys[0].hand"),
])
def test_a_bad_timeline_names_the_place_and_what_was_expected(data: dict, where: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_timeline(data, "t.json")
    assert caught.value.path == where and str(caught.value).startswith("t.json: ")


def test_a_timeline_that_is_not_json_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError):
        load_timeline(path)
    path.write_text(json.dumps({"storm_xr_timeline": 1, "keys": [{"time": 0}]}), encoding="utf-8")
    assert load_timeline(path).poses["head"] == []
