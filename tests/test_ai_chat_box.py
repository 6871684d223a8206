"""The in-game chat box in the demo world, in a real window under Xvfb driven by real X key events
(XTEST): T opens it, W held while typing does not move the player, the typed line goes to Mira and
her answer appears in the box and in her speech bubble, a 100 KB paste with control characters
reaches her bounded and printable, Esc closes the box (without pausing the game) and W walks
again. Offscreen, the box is drawn over the game (pixels of its panel in the screenshot)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from panda3d.core import Filename, PNMImage

from ai.chat_box import MAX_LINE, TypingGate, clean_line
from engine.input.actions import NEUTRAL
from engine.input.bindings import RawFrame
from engine.input.sources import ScriptedSource
from tests.xvfb import child_env, x_display  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
DOUGH = ("Here, love, still warm.", "Take a loaf, it's fresh.")


@pytest.fixture(scope="module")
def played(request: pytest.FixtureRequest) -> dict:
    display = request.getfixturevalue("x_display")
    completed = subprocess.run([sys.executable, "-m", "tests.chat_box_child"], cwd=ROOT, env=child_env(display),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_t_opens_the_box_talking_to_the_nearest_npc(played: dict) -> None:
    assert played["pointer_in_window"] and played["t_opens"], played
    assert played["title"].startswith("Talking to Mira"), played["title"]


def test_wasd_does_not_move_the_player_while_typing(played: dict) -> None:
    assert played["move_action_while_typing"] is False
    assert played["moved_while_typing"] < 0.01, played
    assert played["typed"].endswith("hello mira any bread")  # the keys went into the box instead


def test_the_reply_appears_in_the_box_and_the_speech_bubble(played: dict) -> None:
    assert played["entry_before_enter"] == "hello mira any bread" and played["entry_after_enter"] == ""
    assert played["answered"], played["shown"]
    assert played["speech"] in DOUGH
    lines = played["shown"].splitlines()
    assert "You: hello mira any bread" in lines and f"Mira: {played['speech']}" in lines, lines
    assert played["bubble"] == played["speech"]
    assert "Player said: hello mira any bread" in played["heard"]


def test_a_huge_paste_reaches_the_npc_bounded_and_printable(played: dict) -> None:
    assert played["paste_heard_chars"] <= played["max_line"] + len("Player said: ")
    assert played["paste_has_control"] is False


def test_escape_closes_the_box_and_the_game_gets_its_keys_back(played: dict) -> None:
    assert played["escape_closes"] and played["escape_paused_game"] is False
    assert played["w_moves_after_close"] and played["moved_after_close"] > 0.5, played


def test_offscreen_the_box_is_drawn_over_the_game(tmp_path: Path) -> None:
    shot = tmp_path / "chat.png"
    completed = subprocess.run([sys.executable, "-m", "tests.chat_box_child", "--offscreen", "--shot", str(shot)],
                               cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["answered"] and result["speech"] in DOUGH and result["bubble"] == result["speech"]
    image = PNMImage()
    assert image.read(Filename.fromOsSpecific(str(shot)))
    # the panel (dark, bottom left) and its entry (light strip at its bottom) are on screen
    panel = image.getXel(int(image.getXSize() * 0.3), int(image.getYSize() * 0.72))
    entry = image.getXel(int(image.getXSize() * 0.2), int(image.getYSize() * 0.95))
    assert sum(panel) / 3 < 0.2 and sum(entry) / 3 > 0.8, (panel, entry)


def test_lines_are_cleaned_and_bounded() -> None:
    assert clean_line("  hi\x00 there\x1b[31m\r\n  you ") == "hi there [31m you"
    assert len(clean_line("a" * 100_000)) == MAX_LINE
    assert clean_line("\u202e\u200b\t") == ""


def test_the_gate_hands_out_neutral_input_while_typing_and_one_tick_after() -> None:
    w = RawFrame(down=frozenset({"w"}))
    gate = TypingGate(ScriptedSource([w] * 5))
    assert gate.poll() == w
    gate.typing = True
    assert gate.poll() == NEUTRAL
    gate.release()
    assert gate.poll() == NEUTRAL   # the tick that saw the closing key
    assert gate.poll() == w
