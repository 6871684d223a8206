"""Thousands of seeded mutations of valid .glb and .gltf files (byte flips in the file and in its
buffers, cuts, JSON fields set to odd values, removed or copied), loaded in a child process under
a memory cap and a timeout: a crash in Panda3D's C++ side, a hang or a runaway allocation fails
here instead of taking pytest down. Every outcome is a model or one ModelError/DataError line."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

MEMORY_CAP = 3 * 1024**3  # bytes of address space for the child
CASES, SEED = 6000, 20261202


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def test_thousands_of_mutated_models_load_or_fail_with_one_line(tmp_path: Path) -> None:
    progress = tmp_path / "progress.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), STORM_MODEL_CACHE="off")
    try:
        done = subprocess.run([sys.executable, "-m", "tests.gltf_fuzz_child", str(CASES), str(SEED), "--progress",
                               str(progress)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=150,
                              preexec_fn=_limits)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the fuzz run hung at {_last_case(progress)}") from None
    if done.returncode < 0:
        raise AssertionError(f"the child died of signal {-done.returncode} at {_last_case(progress)} (replay it: "
                             f"python -m tests.gltf_fuzz_child 1 {SEED} --first N)\n{done.stderr[-3000:]}")
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes["loaded"] + outcomes["refused"] == CASES
    assert outcomes["loaded"] > CASES // 8 and outcomes["refused"] > CASES // 2 and outcomes["bam"] > 50


def _last_case(progress: Path) -> str:
    lines = progress.read_text(encoding="utf-8").splitlines() if progress.exists() else []
    return lines[-1] if lines else "the start"
