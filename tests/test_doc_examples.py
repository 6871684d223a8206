"""The runnable examples in the docs run: each doc's Python blocks that import what they use
(fragments that show one method are left out), in order, in a fresh process."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

DOCS = ["world-state.md", "snapshots.md", "modding.md", "modding-files.md", "ui.md"]


def python_blocks(name: str) -> str:
    text = (REPO_ROOT / "docs" / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    return "\n".join(block for block in blocks if re.search(r"^(from|import) ", block, re.M))


@pytest.mark.parametrize("name", DOCS)
def test_the_examples_of_a_doc_run(name: str) -> None:
    code = python_blocks(name)
    assert code.strip(), f"docs/{name} has no Python example"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"docs/{name}: {done.stderr[-2000:]}"
