"""docs/opensim.md's Python example runs against a real OpenSimulator region (its login URI and
password swapped for the test region's)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.opensim_helpers import PASSWORD, ROOT, OpenSimServer, opensim_build, opensim_server  # noqa: F401


def test_the_python_example_visits_the_region(opensim_server: OpenSimServer) -> None:  # noqa: F811
    text = (ROOT / "docs" / "opensim.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "docs/opensim.md has no Python example"
    code = blocks[0].replace("http://127.0.0.1:9000/", opensim_server.login_uri).replace('"secret"', repr(PASSWORD))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("TestRegion "), done.stdout[:500]
    assert any(line.startswith("avatar capsule") for line in lines), done.stdout[:2000]
