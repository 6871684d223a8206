"""What an NPC says, cleaned: no stage directions, no lines for anyone else, no chat-template
leftovers, one short paragraph. Every line a model (or a pack file) gives an NPC passes here
before anyone sees it; the decision grammar already leaves most of this out, this catches the rest."""
from __future__ import annotations

import re

MAX_SPEECH = 240
_BRACKETS = re.compile(r"\*[^*]*\*?|\([^)]*\)?|\[[^\]]*\]?|\{[^}]*\}?|<[^>]*>?|~[^~]*~")
_SPEAKER = re.compile(r"(?:^|(?<=[\s.!?\"']))([A-Z][\w'\- ]{0,30}|you|me|player|user|npc|assistant)\s*:\s",
                      re.IGNORECASE)
_TEMPLATE = re.compile(r"<\|[^|>]*\|>|</?s>|\bim_(?:start|end)\b", re.IGNORECASE)


def clean_speech(text: str, own_name: str = "", max_chars: int = MAX_SPEECH) -> str:
    """``text`` as the NPC's own words: cut at a chat-template token; ``*sighs*``/``(smiles)``/``[walks off]``
    and the like removed; a leading "OwnName:" dropped; everything from another speaker's
    "Name:" on cut (the model writing the player's side); whitespace folded; cut at a word
    boundary to ``max_chars``."""
    template = _TEMPLATE.search(text)
    if template is not None:
        text = text[: template.start()]  # a template token ends the NPC's turn: what follows is not its
    text = _BRACKETS.sub(" ", text)
    text = text.replace("\r", "\n")
    kept: list[str] = []
    for index, line in enumerate(text.split("\n")):
        line = line.strip().lstrip(">").strip()
        if not line:
            if kept:
                break  # a blank line ends the NPC's paragraph
            continue
        line = _strip_own_name(line, own_name)
        match = _SPEAKER.search(line)
        if match is not None:
            line = line[: match.start()].strip()
            if line:
                kept.append(line)
            break
        kept.append(line)
    out = " ".join(" ".join(kept).split()).strip(" \"'`")
    out = out.replace('"', "").replace("\\", "")
    if len(out) > max_chars:
        cut = out[:max_chars].rsplit(" ", 1)[0]
        out = (cut or out[:max_chars]).rstrip(",;:- ")
    return out


def _strip_own_name(line: str, own_name: str) -> str:
    for prefix in filter(None, (own_name, own_name.split(" ")[0] if own_name else "")):
        if line.lower().startswith(prefix.lower()):
            rest = line[len(prefix):].lstrip()
            if rest.startswith(":"):
                return rest[1:].strip()
    return line


def speech_problems(text: str, own_name: str = "") -> list[str]:
    """What is wrong with ``text`` as an NPC line (empty: nothing); tests and the prompt log use it."""
    problems = []
    if _BRACKETS.search(text):
        problems.append("a stage direction")
    if _SPEAKER.search(_strip_own_name(text, own_name)):
        problems.append("another speaker's line")
    if _TEMPLATE.search(text):
        problems.append("a chat-template token")
    if "\n" in text:
        problems.append("more than one line")
    return problems


def echoes(speech: str, heard: str) -> bool:
    """Whether ``speech`` mostly repeats ``heard`` (a small model parroting the player's line)."""
    said = [w.strip(".,!?;'").lower() for w in speech.split()]
    theirs = {w.strip(".,!?;'").lower() for w in heard.split()}
    if not said or not theirs:
        return False
    shared = sum(1 for w in said if w in theirs)
    return shared / len(said) >= 0.7 and len(said) >= 2
