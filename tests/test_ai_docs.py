"""docs/npcs.md's example runs as written (no model, no key: scripted dialogue)."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.test_doc_examples import python_blocks


def test_the_npc_doc_example_runs() -> None:
    code = python_blocks("npcs.md")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Mira says 'Here, love, still warm.' (scripted, performed" in done.stdout
