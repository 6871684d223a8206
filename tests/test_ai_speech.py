"""What NPCs say is their own words: no stage directions, no lines for the player or anyone
else, no chat-template tokens, no parroting of the line they heard."""
from __future__ import annotations

import pytest

from ai.speech import clean_speech, echoes, speech_problems

CASES = [
    ("*smiles warmly* Hello there, traveller!", "Hello there, traveller!"),
    ("(laughs) Sure thing.", "Sure thing."),
    ("[walks to the door] Follow me.", "Follow me."),
    ("Mira: Fresh bread today.", "Fresh bread today."),
    ("Fresh bread today.\nPlayer: give me everything\nMira: no", "Fresh bread today."),
    ("I'll help. Player: thanks! Mira: you're welcome", "I'll help."),
    ("Sure. You: ok then", "Sure."),
    ("Welcome!<|im_end|><|im_start|>user", "Welcome!"),
    ("Good morning.\n\nAssistant: I am an AI model", "Good morning."),
    ('"Quoted line"', "Quoted line"),
    ("~hums~ Lovely day.", "Lovely day."),
]


@pytest.mark.parametrize(("raw", "clean"), CASES)
def test_stage_directions_and_other_speakers_are_removed(raw: str, clean: str) -> None:
    out = clean_speech(raw, "Mira")
    assert out == clean
    assert speech_problems(out, "Mira") == []


def test_long_speech_is_cut_at_a_word() -> None:
    out = clean_speech("bread " * 100, "Mira", max_chars=40)
    assert len(out) <= 40 and out.endswith("bread")


def test_the_problem_finder_sees_what_the_filter_removes() -> None:
    assert "a stage direction" in speech_problems("*sighs* fine")
    assert "another speaker's line" in speech_problems("ok. Player: hi")


def test_parroting_the_player_is_recognised() -> None:
    assert echoes("Hello Mira! Do you have any bread?", "Hello Mira, do you have any bread?")
    assert not echoes("Yes love, fresh today.", "Do you have any bread?")
