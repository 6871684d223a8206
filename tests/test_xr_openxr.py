"""Against a real OpenXR runtime: Monado (built once from the vendored source, simulated HMD and
controllers, null compositor), with Storm's session in a child process drawing the demo world
over GLX on a private Xvfb display, and offscreen over EGL with no display. The tier skips with
the reason when Monado cannot be built."""
from __future__ import annotations

from pathlib import Path

import pytest
from panda3d.core import Filename, PNMImage

from engine.xr.bindings import PROFILES
from engine.xr.session import GL_SRGB8_ALPHA8
from tests.xr_helpers import monado_runtime, run_xr_child, runtime_child_env  # noqa: F401 - fixture
from tests.xvfb import x_display  # noqa: F401 - fixture

FRAMES = 30
GL_SRGB8 = 0x8C41


@pytest.fixture(scope="module", params=["window", "offscreen"])
def session_run(request: pytest.FixtureRequest, monado_runtime: Path, x_display: str) -> tuple[int, dict, str]:  # noqa: F811
    display = x_display if request.param == "window" else None
    done, report = run_xr_child([str(FRAMES), request.param], runtime_child_env(monado_runtime, display))
    assert report.get("binding") == ("GLX" if display else "EGL"), done.stderr[-3000:]
    return done.returncode, report, done.stderr[-4000:]


def test_the_session_reaches_focused_and_stops_through_the_whole_state_sequence(session_run) -> None:
    code, report, stderr = session_run
    assert code == 0, stderr                       # the process exits cleanly after the session ends
    assert report["states"] == ["idle", "ready", "synchronized", "visible", "focused", "visible", "synchronized",
                                "stopping", "idle", "exiting"]
    assert report["stopped_by"] == "frame limit"
    assert report["runtime"].startswith("Monado")


def test_frames_are_rendered_into_the_swapchains_and_show_the_world(session_run) -> None:
    _, report, stderr = session_run
    assert report["frames"] == FRAMES, stderr
    assert report["submitted"] >= FRAMES - 2      # frames the runtime said to draw went in with both eyes
    assert report["format"] == GL_SRGB8_ALPHA8 != GL_SRGB8
    assert report["differing"][0] > 0.5 and report["differing"][1] > 0.5   # not the clear colour
    assert report["distinct_colours"] > 20          # sky, grass, objects: a picture, not a fill
    sky, ground = report["sky"], report["ground"]   # the right way up: blue sky over green grass
    assert sky[2] > sky[1] and ground[1] > ground[2], (sky, ground)


def test_the_rig_follows_the_simulated_heads_moving_pose(session_run) -> None:
    _, report, _ = session_run
    heads = report["heads"]
    assert len(heads) >= FRAMES - 2
    xs, zs = [h[0] for h in heads], [h[2] for h in heads]
    assert max(xs) - min(xs) > 0.05 and max(zs) - min(zs) > 0.02
    assert 1.0 < sum(zs) / len(zs) < 2.0            # standing height, Z up in Storm's axes


def test_bindings_are_accepted_for_every_listed_interaction_profile(session_run) -> None:
    _, report, _ = session_run
    assert set(report["accepted"]) == set(PROFILES)
    assert all(value is True for value in report["accepted"].values()), report["accepted"]


def test_a_haptic_pulse_is_accepted_while_focused(session_run) -> None:
    _, report, _ = session_run
    assert report["haptic"] == ["ok"]


def test_storm_vr_runs_and_writes_the_mirror(monado_runtime: Path, x_display: str, tmp_path: Path) -> None:  # noqa: F811
    import subprocess
    import sys

    out = tmp_path / "mirror.png"
    done = subprocess.run([sys.executable, "main.py", "vr", "--window", "--frames", "10", "--size", "320x120",
                           "--screenshot", str(out)], cwd=Path(__file__).resolve().parent.parent,
                          env=runtime_child_env(monado_runtime, x_display), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "exiting" in done.stdout
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(out)))
    assert (image.getXSize(), image.getYSize()) == (320, 120)
