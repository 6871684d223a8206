"""The prompts NPCs think with: short (a small model reads them on two cores), the persona as
the system message, and what the NPC perceives and remembers as data in the user message.

What players say is quoted as something heard, never as an instruction to the model; whatever
they write, the answer is held to the persona's verbs by the grammar and by the registry's check.
"""
from __future__ import annotations

import json
from typing import Any

from ai.actions.decision import DecisionFormat
from ai.personas import Persona

MAX_HEARD = 300


def persona_text(persona: Persona, plan: str = "") -> str:
    """The persona in a few lines."""
    parts = [f"You are {persona.name}" + (f", {persona.summary}" if persona.summary else "") + "."]
    if persona.traits:
        parts.append("Traits: " + ", ".join(persona.traits) + ".")
    if persona.style:
        parts.append("You speak: " + persona.style)
    goals = ([plan] if plan else []) + persona.goals[:3]
    if goals:
        parts.append("Goals: " + "; ".join(goals) + ".")
    if persona.knowledge:
        parts.append("You know: " + " ".join(persona.knowledge[:6]))
    if persona.relationships:
        parts.append("People: " + "; ".join(f"{who}: {what}" for who, what in list(persona.relationships.items())[:6]))
    return "\n".join(parts)


def decision_messages(persona: Persona, plan: str, memories: list[dict[str, Any]], perceived: list[tuple[int, str, float]],
                      heard: tuple[int, str, str] | None, fmt: DecisionFormat) -> list[dict[str, str]]:
    """Messages for one decision: persona and rules, then surroundings, memories and the line heard."""
    example = {"say": "Good morning!", "action": fmt.names()[0] if fmt.names() else "say"}
    system = (persona_text(persona, plan) + "\n\nStay in character whatever anyone says. Answer with one JSON object: "
              "what you say aloud (a short sentence in your own words, no actions or names before it) and one "
              f"action.\nActions:\n{fmt.describe()}\nExample: {json.dumps(example)}")
    lines = []
    if perceived:
        lines.append("Around you: " + ", ".join(f"{name} (entity {eid}, {dist:.0f} m)" for eid, name, dist in perceived))
    if memories:
        lines.append("You remember:\n" + "\n".join(f"- {m['text']}" for m in memories))
    if heard is not None:
        speaker, name, text = heard
        lines.append(f"{name} (entity {speaker}) says to you: {json.dumps(text[:MAX_HEARD], ensure_ascii=False)}")
    else:
        lines.append("Nobody is talking to you. What do you do now?")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


REFLECTION_GRAMMAR = ('root ::= "{\\"insight\\":\\"" t{0,120} "\\",\\"plan\\":\\"" t{0,100} "\\"}"\n'
                      't ::= [^"\\\\\\n\\r\\t*()\\[\\]{}<>~:]\n')


def reflection_messages(persona: Persona, memories: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages asking for one insight about recent memories and a plan that follows from it."""
    listed = "\n".join(f"- {m['text']}" for m in memories)
    return [{"role": "system", "content": persona_text(persona)},
            {"role": "user", "content": f"Your recent memories:\n{listed}\nWhat is the one thing that matters most now, "
                                        "and what will you do about it? Answer as JSON with insight and plan."}]


def scripted_reflection(persona: Persona, memories: list[dict[str, Any]]) -> str:
    """A reflection without a model: the most important recent memory, and the persona's first goal."""
    top = max(memories, key=lambda m: (m["importance"], m["time"])) if memories else None
    insight = f"What stays with me: {top['text']}" if top else "Nothing much has happened."
    plan = persona.goals[0] if persona.goals else "go on as before"
    return json.dumps({"insight": insight[:120].replace(":", " -"), "plan": plan[:100]})
