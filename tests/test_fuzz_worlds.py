"""Thousands of seeded mutated world files, in a child process under a memory cap and a
timeout (so a regression that crashes, hangs or eats memory fails here instead of taking pytest
down): every one gives a World or one DataError, and validate never raises."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

from tests.conftest import REPO_ROOT

MEMORY_CAP = 3 * 1024**3  # bytes of address space for the child


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def test_thousands_of_mutated_worlds_load_or_fail_cleanly() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run([sys.executable, "-m", "tests.fuzz_world_child", "2500", "8675309"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=400, preexec_fn=_limits)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes["ok"] > 100 and outcomes["error"] > 1000 and outcomes["validated"] == 500
