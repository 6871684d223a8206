"""``main.py edit`` as a person runs it (interactive: waits for input when idle, saves its layout and
preferences), under Xvfb, driven by real X events: idle it uses almost no CPU; a clean close ends
it and writes the layout; after an edit (Create > Box from the menu bar) the title carries ``*``,
closing asks about the unsaved changes, the autosave is already on disk, and after a kill the next
start offers to recover it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from Xlib import X, protocol
from Xlib import display as xdisplay
from Xlib.ext import xtest

from tests.editor_flow_child import write_world
from tests.xvfb import big_x_display, child_env  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
MENU_CREATE, MENU_BOX = (120, 9), (140, 52)  # Create in the menu bar, its second item (Box)


class Editor:
    """A ``main.py edit`` process and the X display it draws on."""

    def __init__(self, world: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen([sys.executable, "main.py", "edit", str(world), "--size", "1280x800"],
                                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._out)
        self.x = xdisplay.Display(env["DISPLAY"])

    def wait_for(self, text: str, seconds: float = 60.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.log.read_text(encoding="utf-8", errors="replace"):
                return True
            if self.process.poll() is not None:
                return text in self.log.read_text(encoding="utf-8", errors="replace")
            time.sleep(0.1)
        return False

    def window(self) -> Any:
        for window in self.x.screen().root.query_tree().children:
            if (window.get_wm_name() or "").endswith("Storm editor"):
                return window
        raise LookupError("no editor window")

    def title(self) -> str:
        return self.window().get_wm_name()

    def click(self, at: tuple[int, int]) -> None:
        xtest.fake_input(self.x, X.MotionNotify, x=at[0], y=at[1])
        self.x.sync()
        time.sleep(0.3)
        for kind in (X.ButtonPress, X.ButtonRelease):
            xtest.fake_input(self.x, kind, 1)
            self.x.sync()
            time.sleep(0.25)

    def ask_to_close(self) -> None:
        """What a window manager sends when the close button is clicked."""
        window = self.window()
        protocols, delete = self.x.intern_atom("WM_PROTOCOLS"), self.x.intern_atom("WM_DELETE_WINDOW")
        window.send_event(protocol.event.ClientMessage(window=window, client_type=protocols,
                                                       data=(32, [delete, X.CurrentTime, 0, 0, 0])))
        self.x.sync()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def until(self, done: Callable[[], bool], seconds: float = 20.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.1)
        return False

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._out.close()
        self.x.close()


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    display = request.getfixturevalue("big_x_display")  # a private X server (tests/xvfb.py)
    folder = tmp_path_factory.mktemp("editor-interactive")
    env = child_env(display, folder)
    world = write_world(folder)
    out: dict[str, Any] = {"folder": folder}

    first = Editor(world, env, folder / "first.log")
    try:
        out["opened"] = first.wait_for("opened ")
        time.sleep(1.5)  # let it go idle (it waits for input after half a second without any)
        before, start = first.cpu_seconds(), time.monotonic()
        time.sleep(4.0)
        out["idle_cpu_percent"] = (first.cpu_seconds() - before) / (time.monotonic() - start) * 100.0
        out["clean_title"] = first.title()
        first.ask_to_close()
        out["clean_exit"] = first.until(lambda: first.process.poll() is not None)
        out["clean_code"] = first.process.poll()
    finally:
        first.close()
    out["layout_saved"] = (folder / "config" / "storm" / "editor" / "layout.ini").is_file()

    second = Editor(world, env, folder / "second.log")
    try:
        second.wait_for("opened ")
        second.click(MENU_CREATE)
        second.click(MENU_BOX)
        out["created"] = second.wait_for("did create box", 20)
        out["dirty_title"] = second.title() if second.until(lambda: second.title().startswith("*")) else second.title()
        second.ask_to_close()
        out["asked"] = second.wait_for("asking 'Unsaved changes': Save the changes to test.world.json", 20)
        time.sleep(1.0)
        out["still_running_while_asking"] = second.process.poll() is None
        recovery = folder / "storm" / "editor" / "recovery"
        out["autosaved"] = second.until(lambda: recovery.is_dir() and any(recovery.glob("*.world.json")))
    finally:
        second.close()  # killed: no clean-up runs
    out["world_untouched"] = world.read_text(encoding="utf-8").count('"name": "Box"') == 0

    third = Editor(world, env, folder / "third.log")
    try:
        out["offered"] = third.wait_for("asking 'Recover unsaved changes?'")
    finally:
        third.close()
    return out


def test_the_editor_opens_the_world_from_the_command_line(runs: dict[str, Any]) -> None:
    assert runs["opened"] and runs["clean_title"] == "test.world.json - Storm editor"


def test_an_idle_editor_uses_almost_no_cpu(runs: dict[str, Any]) -> None:
    assert runs["idle_cpu_percent"] < 5.0, runs["idle_cpu_percent"]  # goal: under 2% of one core


def test_closing_without_changes_ends_it_and_keeps_the_layout(runs: dict[str, Any]) -> None:
    assert runs["clean_exit"] and runs["clean_code"] == 0 and runs["layout_saved"]


def test_an_edit_marks_the_title_and_closing_asks(runs: dict[str, Any]) -> None:
    assert runs["created"] and runs["dirty_title"] == "*test.world.json - Storm editor"
    assert runs["asked"] and runs["still_running_while_asking"]


def test_the_autosave_is_on_disk_and_offered_after_a_kill(runs: dict[str, Any]) -> None:
    assert runs["autosaved"] and runs["world_untouched"] and runs["offered"]
