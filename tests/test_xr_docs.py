"""docs/vr.md's runnable example runs (in a fresh process) and says what the doc says it does."""
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
    states, head = done.stdout.strip().splitlines()[-2:]
    assert states.startswith("idle -> ready -> synchronized -> visible -> focused") and states.endswith("exiting")
    assert float(head.split("heading")[1]) > 40.0


def test_readme_links_the_vr_doc() -> None:
    assert "(docs/vr.md)" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
