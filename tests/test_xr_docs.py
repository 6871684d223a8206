"""docs/vr.md's runnable examples run (in a fresh process) and say what the doc says they do."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.test_doc_examples import python_blocks


def test_the_vr_doc_example_runs_and_turns_the_head() -> None:
    code = python_blocks("vr.md")
    assert "SimulatedBackend" in code
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    states = next(line for line in lines if line.startswith("idle -> "))
    head = next(line for line in lines if line.startswith("head at"))
    assert states.startswith("idle -> ready -> synchronized -> visible -> focused") and states.endswith("exiting")
    assert float(head.split("heading")[1]) > 40.0
    # the multi-user example: the desktop player sees the VR player's head and hand where the bot put them
    seen = next(line for line in lines if line.startswith("ann sees vr1's head at"))
    head_pos, hand_pos = (tuple(float(v) for v in part.split("(")[1].split(")")[0].split(","))
                          for part in seen.split("and left hand at"))
    assert all(abs(a - b) < 0.01 for a, b in zip(head_pos, (0.0, 0.1, 1.65)))
    assert all(abs(a - b) < 0.01 for a, b in zip(hand_pos, (-0.3, 0.4, 1.1)))


def test_readme_links_the_vr_doc() -> None:
    assert "(docs/vr.md)" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
