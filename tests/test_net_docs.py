"""docs/multiplayer.md's example runs (a server and two clients on 127.0.0.1), and the protocol
doc names every message kind the code has."""
from __future__ import annotations

import os
import subprocess
import sys

from netcode import messages as m
from tests.conftest import REPO_ROOT
from tests.test_doc_examples import python_blocks


def test_the_multiplayer_example_runs() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run([sys.executable, "-c", python_blocks("multiplayer.md")], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "bob's chat: [('ann', 'hello bob')]" in done.stdout
    assert "loudest at 440 Hz" in done.stdout          # the voice example: ann's tone reached bob


def test_the_protocol_doc_covers_every_message_kind() -> None:
    text = (REPO_ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    for kind in (m.HELLO, m.INPUT, m.EVENT, m.PING, m.BYE, m.SIGNAL, m.WELCOME, m.SNAPSHOT, m.S_EVENT, m.PONG,
                 m.S_BYE, m.S_SIGNAL):
        assert f"| 0x{kind:02x} |" in text
    for name in m.EVENT_NAMES.values():
        assert f"| {name.upper()} |" in text
    assert f"version {m.PROTOCOL_VERSION}" in text
